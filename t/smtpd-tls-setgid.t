#!/usr/bin/env python3
"""postmaster-tlsd installed setgid to a group that alone may read the TLS
key (postmaster-tlsd(8), Privileges): smtpd, as nobody, spawns it with
-C; it reads a CDB root alone can change and refuses any other with one
line and EX_NOPERM; root may still run it as the service (-s).
The group is a gid no group entry names (nothing in /etc changes); the
programs are copies in a root-owned 0755 directory, so the build's own
stay as they are."""
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import grp
import pwd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import (Tap, Instance, PM_BIN, require, wait_for, watchdog,  # noqa: E402
                    end_process, children)

require("a setgid copy of postmaster-tlsd and a key only its group may read",
        {"openssl": "openssl", "tcpserver": "ucspi-tcp-ipv6"})
t = Tap()
watchdog(300)

d = tempfile.mkdtemp(prefix="pm-tls-sgid.")
os.chmod(d, 0o755)


def cleanup():
    shutil.rmtree(d, ignore_errors=True)


import atexit  # noqa: E402
atexit.register(cleanup)

if os.statvfs(d).f_flag & os.ST_NOSUID:
    print("1..0 # SKIP %s is on a nosuid file system" % d)
    sys.exit(0)

used = {g.gr_gid for g in grp.getgrall()} | {p.pw_gid for p in pwd.getpwall()}
gid = next(g for g in range(64000, 65000) if g not in used)

for prog in ("postmaster-smtpd", "postmaster-tlsd"):
    shutil.copy(os.path.join(PM_BIN, prog), d)
smtpd, tlsd = os.path.join(d, "postmaster-smtpd"), os.path.join(d, "postmaster-tlsd")
os.chown(tlsd, 0, gid)
os.chmod(tlsd, 0o2755)


def make_pair(stem, group):
    key, crt = os.path.join(d, stem + ".key"), os.path.join(d, stem + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=mx.test",
                    "-addext", "subjectAltName=DNS:mx.test", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", key, "-out", crt],
                   check=True, capture_output=True)
    os.chown(key, 0, group)
    os.chmod(key, 0o640)
    return crt, key


crt, key = make_pair("sgid", gid)
# the service reads its keys as [core] group-id, as documented
svc_crt, svc_key = make_pair("svc", grp.getgrnam("nogroup").gr_gid)
sock = os.path.join(d, "tls.socket")
inst = Instance(extra='[smtpd "svc.test"]\nrouting-table = ext\ntls = optional\n'
                'tls-certificate = %s\ntls-key = %s\n'
                '[smtpd "sg.test"]\nrouting-table = ext\ntls = optional\n'
                'tls-certificate = %s\ntls-key = %s\n'
                % (svc_crt, svc_key, crt, key),
                core='tls-socket = "%s"\n' % sock)
st = os.stat(inst.cdb)
t.ok(st.st_uid == 0 and st.st_mode & 0o022 == 0 and os.stat(inst.dir).st_uid == 0,
     "the instance's CDB: root's, in a root 0755 directory")


def as_nobody(argv, **kw):
    return subprocess.run(argv, user="nobody", group="nogroup", extra_groups=[],
                          capture_output=True, timeout=60, **kw)


r = as_nobody(["cat", key])
t.ok(r.returncode != 0, "nobody (smtpd's user) cannot read the key", r.stderr)

LOG = os.path.join(d, "log")
logf = open(LOG, "wb")


def log():
    with open(LOG, "rb") as f:
        return f.read().decode("utf-8", "replace")


def serve(cdb, name):
    p = subprocess.Popen(["tcpserver", "-1", "-R", "-H", "-l", "0", "127.0.0.1", "0",
                          smtpd, "-C", cdb, name], stdout=subprocess.PIPE, stderr=logf)
    inst.procs.append(p)
    return int(p.stdout.readline())


class Session:
    """SMTP over a plain socket, then over TLS after STARTTLS."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")

    def reply(self):
        lines = []
        while True:
            line = self.f.readline().decode()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return "".join(lines)

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.reply()

    def starttls(self, ca):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(ca)
        self.s = ctx.wrap_socket(self.s, server_hostname="mx.test")
        self.f = self.s.makefile("rb")

    def close(self):
        self.f.close()
        self.s.close()


def send_over_tls(port, ca):
    """The exchange, the server's certificate verified against ca: the
    STARTTLS reply, the TLS version, the EHLO reply after and DATA's."""
    c = Session(port)
    c.reply()
    c.cmd("EHLO client.test")
    r = c.cmd("STARTTLS")
    if not r.startswith("220"):
        c.close()
        return r, None, "", ""
    c.starttls(ca)
    version = c.s.version()
    ehlo = c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<a@b.test>")
    c.cmd("RCPT TO:<joe@example.test>")
    c.cmd("DATA")
    end = c.cmd("Subject: setgid\r\n\r\nover a setgid postmaster-tlsd\r\n.")
    c.cmd("QUIT")
    c.close()
    return r, version, ehlo, end


def queued_text(end):
    m = re.search(r"250 2\.0\.0 Ok: queued as ([0-9A-F]{30})", end)
    return inst.read(m.group(1)).decode() if m else ""


# --- smtpd (nobody) -> setgid tlsd -C <root's CDB>: the documented setup
port = serve(inst.cdb, "sg.test")
r, version, ehlo, end = send_over_tls(port, crt)
t.is_(r, "220 2.0.0 Ready to start TLS\r\n", "STARTTLS: 220 from a setgid tlsd given -C")
t.is_(version, "TLSv1.3", "  a TLS 1.3 session, the certificate verified")
t.ok("STARTTLS" not in ehlo and ehlo.startswith("250-sg.test\r\n"),
     "  EHLO again over TLS, STARTTLS no longer offered", ehlo)
text = queued_text(end)
t.ok("over a setgid postmaster-tlsd" in text and re.search(r"with ESMTPS", text),
     "  the message is queued, received with ESMTPS", end + text)

# --- a CDB root alone cannot be said to have written: refused, one line, 77
bad_owner = os.path.join(d, "nobodys.cdb")
shutil.copy(inst.cdb, bad_owner)
os.chown(bad_owner, pwd.getpwnam("nobody").pw_uid, -1)
group_w = os.path.join(d, "groupw.cdb")
shutil.copy(inst.cdb, group_w)
os.chmod(group_w, 0o664)
nobody_dir = os.path.join(d, "nobodydir")
os.mkdir(nobody_dir, 0o755)
shutil.chown(nobody_dir, "nobody")
in_nobody_dir = os.path.join(nobody_dir, "pm.cdb")
shutil.copy(inst.cdb, in_nobody_dir)
link = os.path.join(d, "link.cdb")
os.symlink(inst.cdb, link)
WHY = "(a setgid postmaster-tlsd reads only a configuration root alone can change)"
for cdb, what, desc in (
        (bad_owner, "it is not owned by root", "a CDB owned by nobody"),
        (group_w, "it is writable by its group or others", "a group-writable CDB"),
        (in_nobody_dir, "its directory %s is not owned by root" % nobody_dir,
         "a root-owned CDB in nobody's directory"),
        (link, "it is a symbolic link", "a symbolic link to root's CDB")):
    r = as_nobody([tlsd, "-C", cdb, "sg.test"], stdin=subprocess.DEVNULL)
    t.is_(r.returncode, 77, "setgid, %s: refused, EX_NOPERM" % desc)
    t.is_(r.stderr.decode(), "postmaster-tlsd: fatal: refusing %s: %s %s\n" % (cdb, what, WHY),
          "  one line saying why")

# A directory only the key group may enter: the CDB is opened with the
# caller's group, so tlsd says the same of a file there and of a missing
# one -- nothing about what only the group can see.
secret = os.path.join(d, "secret")
os.mkdir(secret)
os.chown(secret, 0, gid)
os.chmod(secret, 0o750)
with open(os.path.join(secret, "big.key"), "wb") as f:
    f.write(b"k" * 4096)
os.chmod(os.path.join(secret, "big.key"), 0o640)
said = {}
for f in ("big.key", "nosuch.key"):
    r = as_nobody([tlsd, "-C", os.path.join(secret, f), "sg.test"], stdin=subprocess.DEVNULL)
    said[f] = (r.returncode, r.stderr.decode().replace(f, "FILE"))
t.is_(said["big.key"], said["nosuch.key"],
      "setgid, a file in a directory only the key group may read: the same answer as for "
      "a missing one")
t.ok("Permission denied" in said["big.key"][1], "  the caller's own permission denied", said)

# ... and through smtpd: 454, the reason in smtpd's log
port = serve(in_nobody_dir, "sg.test")
r, version, ehlo, end = send_over_tls(port, crt)
t.is_(r, "454 4.7.0 TLS not available due to local problem\r\n",
      "smtpd -C <a CDB in nobody's directory>: STARTTLS 454")
t.ok(wait_for(lambda: "tls: not available: refusing %s: its directory" % in_nobody_dir in log(),
              30), "  smtpd logs tlsd's reason", log())

# --- the service: root may start a setgid copy (-s), nobody may not
r = as_nobody([tlsd, "-s", "-C", inst.cdb], stdin=subprocess.DEVNULL)
t.is_((r.returncode, r.stderr.decode()),
      (64, "postmaster-tlsd: fatal: -s is not for a setgid postmaster-tlsd\n"),
      "setgid tlsd -s run by nobody: refused, EX_USAGE")
svc_log = open(os.path.join(d, "svc.log"), "wb")
svc = subprocess.Popen([tlsd, "-s", "-C", inst.cdb], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=svc_log)
inst.procs.append(svc)


def svc_said():
    with open(os.path.join(d, "svc.log")) as f:
        return f.read()


t.ok(wait_for(lambda: "tls: service on %s" % sock in svc_said() or svc.poll() is not None, 60)
     and svc.poll() is None, "setgid tlsd -s run by root: the service listens", svc_said())
t.is_(children(svc.pid), set(), "  no worker before a session")
port = serve(inst.cdb, "svc.test")
r, version, ehlo, end = send_over_tls(port, svc_crt)
t.is_((r, version), ("220 2.0.0 Ready to start TLS\r\n", "TLSv1.3"),
      "  a session through it: 220, TLS 1.3")
t.ok("over a setgid postmaster-tlsd" in queued_text(end), "  the message is queued", end)
t.ok(len(children(svc.pid)) == 1, "  by the service's worker (not a spawned tlsd)")
end_process(svc)
t.done()
