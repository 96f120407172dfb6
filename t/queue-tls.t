#!/usr/bin/env python3
"""postmaster-queue's STARTTLS and AUTH client against real peers:

  - a private Postfix instance as TLS server (smtpd_tls_security_level =
    may) with a certificate from a test CA made here with certtool, on
    three listeners: plain TLS, TLS + SASL (Dovecot auth, AUTH only
    inside TLS, nothing relayed unauthenticated), and one with an expired
    certificate;
  - a private Dovecot with a passwd-file and only its auth socket, as
    Postfix's smtpd_sasl_type = dovecot;
  - scripted servers (threads here) for what no real server does: STARTTLS
    with a reply injected after the 220, a handshake that stalls, a
    handshake that fails (tls = may goes again in the clear), and AUTH
    offered without STARTTLS.

Each message goes in through postmaster-smtpd (pipe mode) and out through
postmaster-queue --once. Loopback only; everything started here is
stopped here, also on an early exit."""
import atexit
import glob
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import PM_BIN, Instance, Tap, end_process, free_port, wait_for, watchdog  # noqa: E402

t = Tap()
if os.getuid() != 0:
    print("1..0 # SKIP needs root (private Postfix and Dovecot instances)")
    sys.exit(0)
NEED = {"postfix": "postfix", "dovecot": "dovecot-core", "certtool": "gnutls-bin"}
missing = [p for p in NEED if shutil.which(p) is None]
if missing:
    print("1..0 # SKIP not installed: %s" % " ".join(sorted(NEED[m] for m in missing)))
    sys.exit(0)

QUEUE = os.path.join(PM_BIN, "postmaster-queue")
os.environ.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=0")
os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
TOP = tempfile.mkdtemp(prefix="pm-tls.")
os.chmod(TOP, 0o755)
PROCS, STOPS = [], []


def cleanup():
    for argv in STOPS:
        subprocess.run(argv, capture_output=True, timeout=30)
    for p in PROCS:
        end_process(p)
    shutil.rmtree(TOP, ignore_errors=True)


atexit.register(cleanup)
watchdog(170)


def mkdir(*parts, owner=None):
    d = os.path.join(TOP, *parts)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    if owner:
        shutil.chown(d, owner, "nogroup" if owner == "nobody" else None)
    return d


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def listening(port=None, path=None):
    try:
        if path:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
        else:
            s = socket.create_connection(("127.0.0.1", port), 0.5)
        s.close()
        return True
    except OSError:
        return False


# ------------------------------------------------ a test CA (certtool)

PKI = mkdir("pki")


def certtool(*args):
    subprocess.run(["certtool"] + list(args), check=True, capture_output=True)


def make_pki():
    p = lambda n: os.path.join(PKI, n)  # noqa: E731
    certtool("--generate-privkey", "--key-type", "ecdsa", "--outfile", p("ca.key"))
    write(p("ca.tmpl"), 'cn = "Postmaster test CA"\nca\ncert_signing_key\n'
          'expiration_days = 30\n')
    certtool("--generate-self-signed", "--load-privkey", p("ca.key"),
             "--template", p("ca.tmpl"), "--outfile", p("ca.pem"))
    certtool("--generate-privkey", "--key-type", "ecdsa", "--outfile", p("srv.key"))
    leaf = ('cn = "relay.tls.test"\ndns_name = "relay.tls.test"\ntls_www_server\n'
            'signing_key\nencryption_key\n')
    write(p("srv.tmpl"), leaf + "expiration_days = 30\n")
    write(p("old.tmpl"), leaf + 'activation_date = "2020-01-01 00:00:00 UTC"\n'
          'expiration_date = "2020-02-01 00:00:00 UTC"\n')
    for name in ("srv", "old"):
        certtool("--generate-certificate", "--load-privkey", p("srv.key"),
                 "--load-ca-certificate", p("ca.pem"), "--load-ca-privkey",
                 p("ca.key"), "--template", p(name + ".tmpl"),
                 "--outfile", p(name + ".pem"))
    os.chmod(p("srv.key"), 0o644)  # Postfix reads it as root; test only


make_pki()
CA = os.path.join(PKI, "ca.pem")

# ------------------------------------------------ Dovecot: auth socket only

DOVE = mkdir("dovecot")
mkdir("dovecot", "run")
mkdir("dovecot", "state")
AUTH_SOCK = os.path.join(DOVE, "run", "auth-client")
write(os.path.join(DOVE, "passwd"), "alice:{PLAIN}s3cret-pw\n")
write(os.path.join(DOVE, "dovecot.conf"), """base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
instance_name = pm-tls-{pid}
protocols = none
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}
}}
service auth {{
  unix_listener auth-client {{
    mode = 0666
  }}
}}
""".format(d=DOVE, pid=os.getpid()))
PROCS.append(subprocess.Popen(["dovecot", "-c", os.path.join(DOVE, "dovecot.conf"), "-F"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
t.ok(wait_for(lambda: listening(path=AUTH_SOCK), 20),
     "a private Dovecot serves auth on %s" % AUTH_SOCK)

# ------------------------------------------------ Postfix: the TLS server

PF = mkdir("postfix")
mkdir("postfix", "queue")
mkdir("postfix", "data", owner="postfix")
VMAIL = mkdir("postfix", "vmail", owner="nobody")
PF_TLS, PF_AUTH, PF_OLD = free_port(), free_port(), free_port()
master = []
for line in read("/etc/postfix/master.cf").splitlines():
    f = line.split()
    if line[:1] not in ("#", " ", "\t", "") and len(f) >= 8:
        if f[0] == "smtp" and f[1] == "inet":
            continue
        f[4] = "n"
        line = " ".join(f)
    master.append(line)
if not any(line.startswith("postlog") for line in master):
    master.append("postlog unix-dgram n - n - 1 postlogd")
master += [
    "127.0.0.1:%d inet n - n - - smtpd" % PF_TLS,
    "127.0.0.1:%d inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes "
    "-o smtpd_tls_auth_only=yes -o mynetworks= "
    "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject "
    "-o smtpd_recipient_restrictions=permit_sasl_authenticated,reject" % PF_AUTH,
    "127.0.0.1:%d inet n - n - - smtpd -o smtpd_tls_cert_file=%s/old.pem" % (PF_OLD, PKI),
]
write(os.path.join(PF, "master.cf"), "\n".join(master) + "\n")
write(os.path.join(PF, "main.cf"), """compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = relay.tls.test
mydestination =
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
smtp_dns_support_level = disabled
virtual_mailbox_domains = tls.test
virtual_mailbox_base = {d}/vmail
virtual_mailbox_maps = inline:{{ carol@tls.test=carol/ }}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
smtpd_tls_security_level = may
smtpd_tls_cert_file = {p}/srv.pem
smtpd_tls_key_file = {p}/srv.key
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
smtpd_sasl_type = dovecot
smtpd_sasl_path = {a}
""".format(d=PF, p=PKI, a=AUTH_SOCK))
subprocess.run(["postfix", "-c", PF, "check"], capture_output=True)
r = subprocess.run(["postfix", "-c", PF, "start"], capture_output=True, text=True)
STOPS.append(["postfix", "-c", PF, "stop"])
t.ok(r.returncode == 0 and all(wait_for(lambda p=p: listening(p), 20)
                               for p in (PF_TLS, PF_AUTH, PF_OLD)),
     "a private Postfix listens with STARTTLS on three ports", r.stderr)
MAILLOG = os.path.join(PF, "maillog")

# ------------------------------------------------ scripted servers


class Scripted(threading.Thread):
    """One SMTP server on a thread, whose misbehaviour is `mode`; keeps
    each connection's commands (and <events>) in self.conns."""

    def __init__(self, mode):
        super().__init__(daemon=True)
        self.mode = mode
        self.conns = []
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(PKI, "srv.pem"), os.path.join(PKI, "srv.key"))
        self.sni = []
        self.ctx.sni_callback = lambda sock, name, ctx: self.sni.append(name)
        self.start()

    def run(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            c.settimeout(120)
            tr = []
            self.conns.append(tr)
            threading.Thread(target=self.serve, args=(c, tr), daemon=True).start()

    def serve(self, c, tr):
        try:
            self.session(c, tr)
        except (OSError, ssl.SSLError) as e:
            tr.append("<error %s>" % e.__class__.__name__)
        finally:
            c.close()

    def session(self, c, tr):
        tls = False
        c.sendall(b"220 scripted.test ESMTP\r\n")
        f = c.makefile("rb")
        while True:
            line = f.readline()
            if not line:
                tr.append("<closed>")
                return
            cmd = line.decode("ascii", "replace").rstrip("\r\n")
            tr.append(cmd)
            verb = cmd.split(" ")[0].upper()
            if verb == "EHLO" and self.mode == "noehlo":
                # as a server (or a man in the middle) that knows no EHLO
                c.sendall(b"502 5.5.2 Error: command not recognized\r\n")
            elif verb == "HELO" and self.mode == "noehlo":
                c.sendall(b"250 scripted.test\r\n")
            elif verb == "EHLO":
                ext = ["PIPELINING"]
                if not tls and self.mode in ("inject", "stall", "badtls", "authlogin"):
                    ext.append("STARTTLS")
                if tls and self.mode == "authlogin":
                    ext.append("AUTH CRAM-MD5 LOGIN")
                if self.mode == "authclear":
                    ext.append("AUTH PLAIN LOGIN")
                if self.mode == "inject" and not tls:
                    # before TLS only: a client that kept it would refuse
                    # the message (552 5.3.4) or send SIZE=
                    ext.append("SIZE 10")
                c.sendall(("250-scripted.test\r\n" + "".join(
                    "250%s%s\r\n" % ("-" if i < len(ext) - 1 else " ", e)
                    for i, e in enumerate(ext))).encode())
            elif verb == "STARTTLS":
                if self.mode == "inject":
                    # one write: the reply and the injected one arrive together
                    c.sendall(b"220 2.0.0 Ready to start TLS\r\n"
                              b"421 4.7.0 injected reply\r\n")
                elif self.mode == "badtls":
                    # noted first: the client may be done (and the test
                    # reading tr) as soon as the garbage arrives
                    tr.append("<garbage>")
                    c.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                    c.sendall(b"this is not a TLS record\r\n" * 4)
                    return
                else:
                    c.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                if self.mode == "stall":
                    if c.recv(4096):
                        tr.append("<client hello>")
                    while c.recv(4096):
                        pass
                    tr.append("<closed>")
                    return
                c = self.ctx.wrap_socket(c, server_side=True)
                f = c.makefile("rb")
                tls = True
                tr.append("<tls>")
            elif verb == "AUTH" and self.mode == "authlogin" and tls:
                # RFC 4954 4 with LOGIN's two prompts; the answers are
                # kept as they came
                for prompt in (b"334 VXNlcm5hbWU6\r\n", b"334 UGFzc3dvcmQ6\r\n"):
                    c.sendall(prompt)
                    tr.append(f.readline().decode("ascii", "replace").rstrip("\r\n"))
                c.sendall(b"235 2.7.0 Authentication successful\r\n")
            elif verb == "DATA":
                c.sendall(b"354 go ahead\r\n")
                body = []
                while True:
                    line = f.readline()
                    if not line or line == b".\r\n":
                        break
                    body.append(line)
                tr.append("<%d lines>" % len(body))
                c.sendall(b"250 2.0.0 Ok: queued as SCRIPTED\r\n")
            elif verb == "QUIT":
                c.sendall(b"221 2.0.0 Bye\r\n")
                return
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                c.sendall(b"250 2.0.0 Ok\r\n")
            else:
                c.sendall(b"502 5.5.2 not here\r\n")


INJECT, STALL, BADTLS, AUTHCLEAR, AUTHLOGIN, NOEHLO, BADTLS_AUTH = (
    Scripted(m) for m in ("inject", "stall", "badtls", "authclear", "authlogin", "noehlo",
                          "badtls"))

# ------------------------------------------------ Postmaster

os.mkfifo(os.path.join(TOP, "ca.fifo"), 0o644)
with open(os.path.join(TOP, "big.pem"), "wb") as f:
    f.truncate(16 * 1024 * 1024 + 1)
GOOD_PW = write(os.path.join(TOP, "pw.good"), "s3cret-pw\n", 0o600)
BAD_PW = write(os.path.join(TOP, "pw.bad"), "wrong-pw\n", 0o600)
for f in (GOOD_PW, BAD_PW):
    shutil.chown(f, "nobody", "nogroup")
KEEP_DIR = mkdir("keep")
os.chmod(KEEP_DIR, 0o777)
KEEP = write(os.path.join(TOP, "keep.sh"), '#!/bin/sh\ncat >"%s/$$"\n' % KEEP_DIR, 0o755)

RELAYS = {
    "may": ("127.0.0.1:%d" % PF_TLS, ""),
    "encrypt": ("127.0.0.1:%d" % PF_TLS, "tls = encrypt"),
    "plain": ("127.0.0.1:%d" % PF_TLS, "tls = none"),
    "verify": ("127.0.0.1:%d" % PF_TLS,
               'tls = verify\nname = relay.tls.test\ntls-ca-file = "%s"' % CA),
    "wrongname": ("127.0.0.1:%d" % PF_TLS,
                  'tls = verify\nname = wrong.tls.test\ntls-ca-file = "%s"' % CA),
    "expired": ("127.0.0.1:%d" % PF_OLD,
                'tls = verify\nname = relay.tls.test\ntls-ca-file = "%s"' % CA),
    "system": ("127.0.0.1:%d" % PF_TLS, "tls = verify\nname = relay.tls.test"),
    "badca": ("127.0.0.1:%d" % PF_TLS,
              'tls = verify\nname = relay.tls.test\ntls-ca-file = "%s/none.pem"' % TOP),
    # a FIFO nobody writes: reading it as GnuTLS does would wait for ever
    "fifoca": ("127.0.0.1:%d" % PF_TLS,
               'tls = verify\nname = relay.tls.test\ntls-ca-file = "%s/ca.fifo"' % TOP),
    # over the 16 MiB limit (sparse: it costs no disk)
    "bigca": ("127.0.0.1:%d" % PF_TLS,
              'tls = verify\nname = relay.tls.test\ntls-ca-file = "%s/big.pem"' % TOP),
    "auth": ("127.0.0.1:%d" % PF_AUTH,
             'tls = encrypt\nauth-user = alice\nauth-password-file = "%s"' % GOOD_PW),
    "authbad": ("127.0.0.1:%d" % PF_AUTH,
                'tls = encrypt\nauth-user = alice\nauth-password-file = "%s"' % BAD_PW),
    "authclear": ("127.0.0.1:%d" % AUTHCLEAR.port,
                  'auth-user = alice\nauth-password-file = "%s"' % GOOD_PW),
    "authlogin": ("127.0.0.1:%d" % AUTHLOGIN.port,
                  'tls = encrypt\nauth-user = alice\nauth-password-file = "%s"' % GOOD_PW),
    "inject": ("127.0.0.1:%d" % INJECT.port, "tls = encrypt\nname = relay.tls.test"),
    "stall": ("127.0.0.1:%d\naddress = 127.0.0.1:%d" % (STALL.port, PF_TLS),
              "tls = encrypt"),
    "stallonly": ("127.0.0.1:%d" % STALL.port, "tls = encrypt"),
    "fallback": ("127.0.0.1:%d" % BADTLS.port, "tls = may"),
    "noehloenc": ("127.0.0.1:%d" % NOEHLO.port, "tls = encrypt"),
    "noehlover": ("127.0.0.1:%d" % NOEHLO.port,
                  'tls = verify\nname = relay.tls.test\ntls-ca-file = "%s"' % CA),
    "noehlomay": ("127.0.0.1:%d" % NOEHLO.port, "tls = may"),
    "authmay": ("127.0.0.1:%d" % BADTLS_AUTH.port,
                'tls = may\nauth-user = alice\nauth-password-file = "%s"' % GOOD_PW),
}
routes = "".join("carol@%s.test %s\n" % (k, k) for k in RELAYS)
# a host target: [core] tls-client, on [core] smtp-port
routes += "carol@mxhost.test [127.0.0.1]\n"
routes += "\n[route]\n@back.test keep\npostmaster keep\n"
routes += '[pipe "keep"]\nexec = "%s"\n' % KEEP
for k, (addr, extra) in RELAYS.items():
    routes += '[relay "%s"]\naddress = %s\n%s\n' % (k, addr, extra)
# The relays send to carol@tls.test: Postfix's only mailbox.
inst = Instance(name="mx.test", extra="tls-client = may\nsmtp-port = %d\n" % PF_TLS,
                routes=routes)
QLOG = os.path.join(TOP, "queue.log")


def submit(dom, subject):
    """Spools one message to carol@DOM.test through smtpd on a pipe;
    returns its queue id or None."""
    msg = ("From: <sender@back.test>\r\nTo: <carol@tls.test>\r\nSubject: %s\r\n"
           "Message-ID: <%s.%d@back.test>\r\n\r\nbody of %s\r\n" %
           (subject, subject, os.getpid(), subject))
    p = subprocess.Popen(inst.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    said = []

    def cmd(text):
        if text:
            p.stdin.write(text.encode())
            p.stdin.flush()
        while True:
            line = p.stdout.readline().decode("utf-8", "replace")
            said.append(line)
            if line[3:4] != "-":
                return line

    try:
        # smtpd refuses a client that speaks before its reply (pregreet)
        for c in ("", "EHLO client.test\r\n", "MAIL FROM:<sender@back.test>\r\n",
                  "RCPT TO:<carol@%s.test>\r\n" % dom, "DATA\r\n", msg + ".\r\n",
                  "QUIT\r\n"):
            cmd(c)
    finally:
        p.stdin.close()
        p.wait(30)
        p.stdout.close()
    m = re.search(r"250 2\.0\.0 Ok: queued as ([0-9A-F]+)", "".join(said))
    if not m:
        print("# " + "# ".join(said))
    return m.group(1) if m else None


def run_once(env=None):
    open(QLOG, "w").close()
    with open(QLOG, "a") as log:
        rc = subprocess.run([QUEUE, "-C", inst.cdb, "--once"], stderr=log,
                            timeout=150, env=env).returncode
    return rc, read(QLOG)


def status(log, qid):
    m = re.search(r"%s to=<carol@\S+> .* status=(\w+) \((.*)\)" % qid, log)
    return (m.group(1), m.group(2)) if m else (None, log[-2000:])


def in_maildir(subject):
    for f in glob.glob(os.path.join(VMAIL, "carol", "new", "*")):
        text = read(f)
        if "Subject: %s\n" % subject in text:
            return text
    return None


def maillog():
    return read(MAILLOG) if os.path.exists(MAILLOG) else ""


# Every relay's recipient, carol@RELAY.test, is a Postfix virtual mailbox.
subprocess.run(["postconf", "-c", PF, "-e",
                "virtual_mailbox_domains = tls.test %s" % " ".join(
                    "%s.test" % k for k in list(RELAYS) + ["mxhost"]),
                "virtual_mailbox_maps = inline:{ %s }" % ", ".join(
                    "carol@%s.test=carol/" % k for k in list(RELAYS) + ["tls", "mxhost"])],
               check=True)
subprocess.run(["postfix", "-c", PF, "reload"], capture_output=True)

ids = {k: submit(k, "tls-" + k) for k in list(RELAYS) + ["mxhost"]
       if not k.startswith("stall") and k != "authmay"}
t.ok(all(ids.values()), "smtpd spooled one message per relay", ids)
rc, log = run_once()
t.is_(rc, 0, "queue --once exits 0")

# may (the [core] tls-client default for a relay without tls), encrypt
for k in ("may", "encrypt"):
    st = status(log, ids[k])
    t.is_(st[0], "sent", "tls = %s: sent" % (k if k != "may" else "may (from [core])"))
    t.ok(re.search(r"%s: Untrusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]"
                   r":%d: TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)" % (ids[k], PF_TLS), log),
         "tls = %s: one log line says TLS version and cipher, not verified" % k, log[-3000:])
st = status(log, ids["mxhost"])
# Its own TLS line, or a connection the worker kept from a message before
# (conn_use > 1: the TLS line went with that one; the Received field below
# shows TLS either way). Which one happens depends on the worker's order.
t.ok(st[0] == "sent" and (re.search(
    r"%s: Untrusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: "
    r"TLSv1\.[23] with cipher" % (ids["mxhost"], PF_TLS), log) or re.search(
    r"%s to=<carol@mxhost\.test> .* conn_use=(?:[2-9]|\d\d)" % ids["mxhost"], log)),
    "a host target on [core] smtp-port: [core] tls-client = may, sent over TLS", st)
t.ok(wait_for(lambda: all(in_maildir("tls-" + k) for k in
                          ("may", "encrypt", "verify", "mxhost")), 30),
     "the may, encrypt, verify and host-target messages are in carol's Maildir")
for k in ("may", "encrypt", "verify", "mxhost"):
    got = in_maildir("tls-" + k) or ""
    t.ok(re.search(r"\(using TLSv1\.[23] with cipher", got),
         "tls = %s: Postfix's Received says it came over TLS" % k, got[:800])

st = status(log, ids["plain"])
got = wait_for(lambda: in_maildir("tls-plain"), 30) and in_maildir("tls-plain") or ""
t.ok(st[0] == "sent" and "using TLS" not in got and
     not re.search(r"%s: \w+ TLS connection" % ids["plain"], log),
     "tls = none: sent in the clear, no TLS line", (st, got[:600]))

st = status(log, ids["verify"])
t.is_(st[0], "sent", "tls = verify, name and chain good (tls-ca-file): sent")
t.ok(re.search(r"%s: Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: "
               r"TLSv1\.[23] with cipher" % (ids["verify"], PF_TLS), log),
     "tls = verify: the log line says Verified", log[-3000:])

for k, why in (("wrongname", r"The name in the certificate does not match the expected"),
               ("expired", r"The certificate chain uses expired certificate"),
               ("system", r"The certificate issuer is unknown")):
    st = status(log, ids[k])
    t.ok(st[0] == "deferred" and re.search(
        r"451 4\.7\.5 TLS with 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: certificate "
        r"verification failed: The certificate is NOT trusted\. .*%s\.\)?$" % why, st[1]),
        "tls = verify, %s: deferred 4.7.5 with the reason" % k, st)

st = status(log, ids["fifoca"])
t.is_(st, ("deferred", "451 4.7.5 TLS with 127.0.0.1[127.0.0.1]:%d: cannot read tls-ca-file "
           "%s/ca.fifo: not a regular file" % (PF_TLS, TOP)),
      "tls-ca-file a FIFO: deferred at once, not waited on")
st = status(log, ids["bigca"])
t.is_(st, ("deferred", "451 4.7.5 TLS with 127.0.0.1[127.0.0.1]:%d: cannot read tls-ca-file "
           "%s/big.pem: larger than 16 MiB" % (PF_TLS, TOP)),
      "tls-ca-file over 16 MiB: deferred, the limit named")

st = status(log, ids["badca"])
t.ok(st[0] == "deferred" and re.search(
    r"^451 4\.7\.5 TLS with 127\.0\.0\.1\[127\.0\.0\.1\]:%d: cannot read tls-ca-file "
    r"%s/none\.pem: " % (PF_TLS, re.escape(TOP)), st[1]),
    "tls-ca-file missing: deferred 4.7.5 naming the file", st)

st = status(log, ids["auth"])
t.is_(st[0], "sent", "AUTH to Postfix (Dovecot SASL) inside TLS: sent")
t.ok(wait_for(lambda: re.search(r"sasl_method=PLAIN, sasl_username=alice", maillog()), 20),
     "Postfix logs sasl_method=PLAIN, sasl_username=alice", maillog()[-2000:])
t.ok(wait_for(lambda: in_maildir("tls-auth"), 30), "the authenticated message arrived")

st = status(log, ids["authbad"])
t.ok(st[0] == "bounced" and re.search(r"535 5\.7\.8 .*authentication failed.*"
                                      r"\(in reply to AUTH from 127\.0\.0\.1", st[1]),
     "wrong password: Postfix's 535 5.7.8 bounces it (5xx)", st)
t.ok("s3cret-pw" not in log and "wrong-pw" not in log and
     "czNjcmV0LXB3" not in log, "no password, plain or base64, in our log")

st = status(log, ids["authclear"])
t.ok(st[0] == "deferred" and "451 4.7.0 not sending the password of alice to "
     "127.0.0.1[127.0.0.1]:%d in the clear (STARTTLS not offered)" % AUTHCLEAR.port in st[1],
     "AUTH offered without STARTTLS: deferred with the reason", st)
t.is_(AUTHCLEAR.conns, [["EHLO mx.test", "QUIT"]],
      "and the server saw EHLO and QUIT: no AUTH, no password, no MAIL")

st = status(log, ids["authlogin"])
t.is_(st[0], "sent", "AUTH LOGIN where only LOGIN is offered (after TLS): sent")
t.is_([[c for c in conn if not re.match(r"<\d+ lines>", c)] for conn in AUTHLOGIN.conns],
      [["EHLO mx.test", "STARTTLS", "<tls>", "EHLO mx.test", "AUTH LOGIN", "YWxpY2U=",
        "czNjcmV0LXB3", "MAIL FROM:<sender@back.test>", "RCPT TO:<carol@authlogin.test>",
        "DATA", "QUIT"]],
      "AUTH LOGIN: the user and the password base64, each after its 334, inside TLS")

st = status(log, ids["inject"])
t.is_(st[0], "sent", "a reply injected after STARTTLS's 220: ignored, sent")
t.is_([[c for c in conn if not re.match(r"<\d+ lines>", c)] for conn in INJECT.conns],
      [["EHLO mx.test", "STARTTLS", "<tls>", "EHLO mx.test", "MAIL FROM:<sender@back.test>",
        "RCPT TO:<carol@inject.test>", "DATA", "QUIT"]],
      "the TLS session: EHLO again, then the transaction with its extensions only "
      "(no SIZE=: SIZE 10 was offered in the clear only; the 421 never read)")
t.is_(INJECT.sni, ["relay.tls.test"], "SNI carried the relay's name")
t.ok("injected" not in log, "no trace of the injected reply in our log")

st = status(log, ids["fallback"])
t.ok(st[0] == "sent", "tls = may, handshake fails: sent in the clear", (st, BADTLS.conns))
t.ok(re.search(r"%s: TLS with 127\.0\.0\.1\[127\.0\.0\.1\]:%d: handshake failed: .*; "
               r"trying again in the clear \(tls = may\)" % (ids["fallback"], BADTLS.port), log),
     "the failed handshake is logged", log[-3000:])
t.ok(len(BADTLS.conns) == 2 and "STARTTLS" in BADTLS.conns[0] and
     "STARTTLS" not in BADTLS.conns[1] and "DATA" in BADTLS.conns[1],
     "a second connection, without STARTTLS, carried it", BADTLS.conns)

# EHLO refused (as a man in the middle could make it): HELO, and so no
# STARTTLS; encrypt and verify must not send the message in the clear.
for k in ("noehloenc", "noehlover"):
    st = status(log, ids[k])
    t.is_(st, ("deferred", "451 4.7.4 TLS is required, but was not offered by host "
               "127.0.0.1[127.0.0.1]:%d" % NOEHLO.port),
          "tls = %s, EHLO refused: deferred 4.7.4, not sent over HELO" %
          {"noehloenc": "encrypt", "noehlover": "verify"}[k])
st = status(log, ids["noehlomay"])
t.is_(st[0], "sent", "tls = may, EHLO refused: sent in the clear over HELO")
t.is_(sorted(c[:3] for c in NOEHLO.conns),
      sorted([["EHLO mx.test", "HELO mx.test", "QUIT"]] * 2 +
             [["EHLO mx.test", "HELO mx.test", "MAIL FROM:<sender@back.test>"]]),
      "only may's connection went on to MAIL")

# may and a password: a failed handshake defers, no second connection in
# the clear, and TLS is tried again for the next message (no memo).
qids = [submit("authmay", "tls-authmay-%d" % i) for i in (1, 2)]
rc, log = run_once()
for q in qids:
    st = status(log, q)
    t.ok(st[0] == "deferred" and st[1].startswith(
        "451 4.7.5 TLS with 127.0.0.1[127.0.0.1]:%d: handshake failed" % BADTLS_AUTH.port),
        "tls = may with auth-user, handshake fails: deferred 4.7.5", st)
t.is_(BADTLS_AUTH.conns, [["EHLO mx.test", "STARTTLS", "<garbage>"]] * 2,
      "one connection a message, each tried STARTTLS; none in the clear")

# A stall mid-handshake: cut at the (scaled) limit, the next address tried.
qid = submit("stall", "tls-stall")
qid1 = submit("stallonly", "tls-stallonly")
env = dict(os.environ, PM_QUEUE_TIMEOUT_SCALE_MS="2000")
rc, log = run_once(env)
st = status(log, qid)
t.ok(st[0] == "sent" and "relay=127.0.0.1[127.0.0.1]:%d " % PF_TLS in log,
     "a handshake that stalls is cut and the next address takes the message", (st, log[-1500:]))
st = status(log, qid1)
t.is_(st, ("deferred", "451 4.7.5 TLS handshake with 127.0.0.1[127.0.0.1]:%d timed out "
           "(limit 10 s)" % STALL.port),
      "with no other address: deferred, the limit named (5 min, scaled)")
t.ok(wait_for(lambda: len(STALL.conns) == 2 and all(
    c[-1:] == ["<closed>"] for c in STALL.conns), 30) and all(
    c[:3] == ["EHLO mx.test", "STARTTLS", "<client hello>"] for c in STALL.conns),
     "the stalling server got a ClientHello each time, then we hung up", STALL.conns)

t.ok(not [line for line in read(QLOG).splitlines() if "Sanitizer" in line or
          "runtime error:" in line], "no sanitizer reports")
t.done()
