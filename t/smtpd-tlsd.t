#!/usr/bin/env python3
"""The postmaster-tlsd service (postmaster-tlsd -s on [core] tls-socket):
STARTTLS through it with swaks and openssl s_client (the log line says
tlsd=service), resumption across sessions, workers used again for later
sessions (and tls-max-use = 1), a certificate replaced by rename, a bad key, the tls-max-sessions limit (454), and smtpd's fallback
to a spawned postmaster-tlsd when the service is stopped or its socket
is stale. t/smtpd-tls.t covers the spawned path in depth."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import Tap, Instance, Client, PM_BIN, require, wait_for, watchdog  # noqa: E402

require("keys owned by root and readable by nogroup; the service drops to nobody",
        {"openssl": "openssl", "swaks": "swaks", "tcpserver": "ucspi-tcp-ipv6"})
if subprocess.run(["perl", "-MIO::Socket::SSL", "-e", "1"],
                  capture_output=True).returncode != 0:
    print("1..0 # SKIP not installed: libio-socket-ssl-perl (swaks --tls)")
    sys.exit(0)
t = Tap()
watchdog(300)

certs = tempfile.mkdtemp(prefix="pm-tlsd.")
os.chmod(certs, 0o755)
import atexit  # noqa: E402
atexit.register(lambda: shutil.rmtree(certs, ignore_errors=True))


def make_pair(stem, cn):
    key, crt = os.path.join(certs, stem + ".key"), os.path.join(certs, stem + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                    "-keyout", key, "-out", crt, "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256"], check=True, capture_output=True)
    os.chmod(key, 0o640)
    shutil.chown(key, "root", "nogroup")
    return crt, key


ec_crt, ec_key = make_pair("ec", "mx.test")
new_crt, new_key = make_pair("ec-new", "renewed.mx.test")
other_crt, other_key = make_pair("other", "other.test")
ticket = os.path.join(certs, "ticket.key")
subprocess.run([os.path.join(PM_BIN, "postmaster-tlsd"), "-k", ticket], check=True)
shutil.chown(ticket, "root", "nogroup")
os.chmod(ticket, 0o640)
live = os.path.join(certs, "live")
os.mkdir(live)
os.symlink(ec_crt, os.path.join(live, "cert.pem"))
os.symlink(ec_key, os.path.join(live, "key.pem"))


def pairs(*p):
    return "".join("tls-certificate = %s\ntls-key = %s\n" % x for x in p)


extra = "".join('[smtpd "%s"]\nrouting-table = ext\n%s\n' % x for x in [
    ("tls.test", "tls = optional\n" + pairs((ec_crt, ec_key))
     + "tls-ticket-key-file = %s\n" % ticket),
    ("bad.test", "tls = optional\n" + pairs((ec_crt, other_key))),
    ("imp.test", "tls = implicit\n" + pairs((ec_crt, ec_key))),
    ("swap.test", "tls = optional\n" + pairs((os.path.join(live, "cert.pem"),
                                              os.path.join(live, "key.pem")))),
])
sock = os.path.join(certs, "tlsd.socket")
inst = Instance(extra=extra, core='tls-socket = "%s"\n' % sock)
# a second configuration whose service serves one session at a time
sock1 = os.path.join(certs, "tlsd1.socket")
inst1 = Instance(extra=extra,
                 core='tls-socket = "%s"\ntls-max-sessions = 1\ntls-max-use = 1\n' % sock1)
LOG = os.path.join(inst.dir, "smtpd.log")
logf = open(LOG, "ab")


def log():
    with open(LOG, "rb") as f:
        return f.read().decode("utf-8", "replace")


def log_has(pattern, secs=30):
    wait_for(lambda: re.search(pattern, log()) is not None, secs)
    m = re.search(pattern, log())
    return m.group(0) if m else None


def service(i):
    p = subprocess.Popen([os.path.join(PM_BIN, "postmaster-tlsd"), "-s", "-C", i.cdb],
                         stdout=subprocess.DEVNULL, stderr=logf)
    i.procs.append(p)
    return p


def serve(i, name):
    p = subprocess.Popen(["tcpserver", "-1", "-R", "-H", "-l", "0", "127.0.0.1", "0"]
                         + i.argv(name), stdout=subprocess.PIPE, stderr=logf)
    i.procs.append(p)
    return int(p.stdout.readline())


svc = service(inst)
t.ok(log_has(r"postmaster-tlsd\[%d\]: info: tls: service on %s, at most 100 sessions at once"
             % (svc.pid, re.escape(sock))), "the service listens on [core] tls-socket")
st = os.stat(sock)
t.ok(st.st_mode & 0o777 == 0o600 and st.st_uid == 65534,
     "the socket is private to [core] user-id (mode 0600, nobody's)", oct(st.st_mode))
with open("/proc/%d/status" % svc.pid) as f:
    uids = re.search(r"(?m)^Uid:\s+(.*)$", f.read()).group(1).split()
t.is_(uids, ["65534"] * 4, "the service runs as [core] user-id, root dropped for good")
port = {n: serve(inst, n) for n in ("tls.test", "bad.test", "swap.test", "imp.test")}


def swaks(p, *args):
    r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % p, "--ehlo", "client.test",
                        "--from", "a@b.test", "--to", "x@example.test", "--timeout", "30"]
                       + list(args), capture_output=True, text=True, timeout=90)
    return r.returncode, r.stdout + r.stderr


def s_client(p, *args, inp="QUIT\r\n"):
    r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                        "127.0.0.1:%d" % p, "-ign_eof"] + list(args),
                       input=inp, capture_output=True, text=True, timeout=60)
    return r.stdout + r.stderr


def count(pattern):
    return len(re.findall(pattern, log()))


# --- STARTTLS through the service
rc, out = swaks(port["tls.test"], "--tls")
t.ok(rc == 0 and "=== TLS started with cipher TLSv1.3" in out
     and "250 2.0.0 Ok: queued as" in out, "swaks --tls through the service: message queued", out)
t.ok(log_has(r"postmaster-smtpd\[\d+\]: info: tls: established from 127\.0\.0\.1: TLS1\.3 "
             r"cipher=TLS_\w+ sni=- session=new tlsd=service"),
     "the log line says the service served the session")



def fds(pid):
    return sorted(os.readlink("/proc/%d/fd/%s" % (pid, f)) for f in os.listdir("/proc/%d/fd" % pid))




def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % d) as f:
                if d.isdigit() and int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return sorted(kids)


def sockets(pid):
    return [f for f in fds(pid) if f.startswith("socket:")]


# --- the service keeps nothing of a session once its worker is done: its
# sockets are the listener and one channel per worker
for _ in range(3):
    swaks(port["tls.test"], "--tls")
t.ok(wait_for(lambda: len(sockets(svc.pid)) == 1 + len(children(svc.pid)), 30),
     "after three more sessions the service holds its listener and one channel per "
     "worker (no smtpd connection or client socket left open)",
     (fds(svc.pid), children(svc.pid)))


def worker_fds_clean():
    """Every idle worker: /dev/null on 0 and 1, and above 2 only its channel."""
    kids = children(svc.pid)
    for k in kids:
        f = [os.readlink("/proc/%d/fd/%s" % (k, x))
             for x in sorted(os.listdir("/proc/%d/fd" % k), key=int)]
        if f[0] != "/dev/null" or f[1] != "/dev/null" or len(f) != 4 \
                or not f[3].startswith("socket:"):
            return False
    return bool(kids)


t.ok(wait_for(worker_fds_clean, 30), "the idle workers hold /dev/null on 0 and 1 and "
     "nothing but their channel: no client's socket or smtpd connection",
     [(k, os.listdir("/proc/%d/fd" % k)) for k in children(svc.pid)])


# --- workers: one process serves session after session (tls-max-use
# 100)
seen = set()
outs = []
for _ in range(4):
    outs.append(s_client(port["tls.test"]))
    seen.update(children(svc.pid))
t.ok(all("221 2.0.0 tls.test Bye" in o for o in outs),
     "four sessions, each ended by the server's end of file after QUIT")
t.ok(1 <= len(seen) <= 2, "served by one worker process used again (two at most, should "
     "the next session come before the worker said it was done)", seen)
# no sleep: a worker that did not stay would not serve the next session
outs.append(s_client(port["tls.test"]))
t.ok("221 2.0.0 tls.test Bye" in outs[-1] and set(children(svc.pid)) & seen,
     "the idle worker stays for the next session (a fifth, served by one of them)",
     (seen, children(svc.pid)))

# --- implicit TLS through the service
served = count(r"tlsd=service")
rc, out = swaks(port["imp.test"], "--tlsc")
t.ok(rc == 0 and "<~  220 imp.test ESMTP Postmaster" in out and "250 2.0.0 Ok: queued as" in out,
     "swaks --tlsc: implicit TLS through the service, the greeting inside TLS", out)
t.ok(wait_for(lambda: count(r"tlsd=service") == served + 1, 30)
     and count(r"tlsd=spawned") == 0, "... logged as served by the service")

# --- resumption across sessions (the ticket key, one process for all)
sess = os.path.join(inst.dir, "sess.pem")
out1 = s_client(port["tls.test"], "-servername", "mx.test", "-sess_out", sess)
out2 = s_client(port["tls.test"], "-servername", "mx.test", "-sess_in", sess)
t.ok("New, TLSv1.3" in out1 and "221 2.0.0 tls.test Bye" in out1,
     "openssl s_client: new session, QUIT answered inside TLS", out1[-600:])
t.ok("Reused, TLSv1.3" in out2, "the next session resumes it", out2[-600:])
t.ok(log_has(r"session=resumed tlsd=service"), "... logged resumed, through the service")

# --- a certificate replaced by rename serves the next client
before = s_client(port["swap.test"])
for f, target in (("cert.pem", new_crt), ("key.pem", new_key)):
    tmp = os.path.join(live, f + ".new")
    os.symlink(target, tmp)
    os.rename(tmp, os.path.join(live, f))
after = s_client(port["swap.test"])
t.ok("subject=CN = mx.test" in before and "subject=CN = renewed.mx.test" in after,
     "certbot-style renewal: the service reads the new pair for the next client",
     (before[-300:], after[-300:]))
t.ok(svc.poll() is None, "... without a restart")

# --- a bad key: 454 and the session goes on in the clear
c = Client(port["bad.test"])
c.reply()
c.cmd("EHLO client.test")
t.is_([c.cmd("STARTTLS"), c.cmd("MAIL FROM:<a@b.test>"), c.cmd("QUIT")],
      ["454 4.7.0 TLS not available due to local problem", "250 2.1.0 Ok",
       "221 2.0.0 bad.test Bye"], "a key of another certificate: 454 4.7.0 from the service")
t.ok(log_has(r"error: tls: not available: tls-certificate %s with tls-key %s: the key does "
             r"not belong to the certificate" % (re.escape(ec_crt), re.escape(other_key))),
     "the log names both files and why")
# a key that fails to load retires no worker: the next good session is
# served by the worker that was idle before
before = children(svc.pid)
c = Client(port["bad.test"])
c.reply()
c.cmd("EHLO client.test")
c.cmd("STARTTLS")
c.cmd("QUIT")
out = s_client(port["tls.test"])
t.ok("221 2.0.0 tls.test Bye" in out and len(before) >= 1
     and wait_for(lambda: children(svc.pid) == before, 10),
     "after a failed key load the idle worker still serves the next session",
     (before, children(svc.pid)))

# --- tls-max-sessions: a session beyond the limit gets 454
svc1 = service(inst1)
log_has(r"tls: service on %s, at most 1 sessions at once" % re.escape(sock1))
port1 = serve(inst1, "tls.test")
first = subprocess.Popen(["openssl", "s_client", "-starttls", "smtp", "-connect",
                          "127.0.0.1:%d" % port1, "-ign_eof"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
established = count(r"tlsd=service")
wait_for(lambda: count(r"tlsd=service") > established, 30)
c = Client(port1)
c.reply()
c.cmd("EHLO client.test")
t.is_([c.cmd("STARTTLS"), c.cmd("QUIT")],
      ["454 4.7.0 TLS not available due to local problem", "221 2.0.0 tls.test Bye"],
      "with one session running and tls-max-sessions = 1: 454 4.7.0")
t.ok(log_has(r"error: tls: not available: postmaster-tlsd: 1 sessions at once already "
             r"\(tls-max-sessions\)"), "smtpd logs the service's reason")
first.communicate(b"QUIT\r\n", timeout=60)
t.ok(wait_for(lambda: children(svc1.pid) == [], 30),
     "tls-max-use = 1: the worker exits after its one session")
# the first session's child is reaped: the next STARTTLS is served
ok = wait_for(lambda: "Reused" in s_client(port1) or "New, TLSv1.3"
              in s_client(port1), 30)
t.ok(ok, "once that session ended, the next one is served")

# --- the service stopped: smtpd spawns postmaster-tlsd itself. The
# socket stays (the service runs as nobody in a directory of root's),
# and nobody listens on it: refused.
svc.send_signal(signal.SIGTERM)
svc.wait(timeout=30)
t.is_(svc.returncode, 0, "SIGTERM: the service exits 0")
rc, out = swaks(port["tls.test"], "--tls")
t.ok(rc == 0 and "250 2.0.0 Ok: queued as" in out, "without the service STARTTLS still works",
     out)
t.ok(log_has(r"info: tls: no postmaster-tlsd service: %s: Connection refused; starting one for "
             r"this session" % re.escape(sock)) and log_has(r"session=new tlsd=spawned"),
     "a socket nobody listens on: logged, and served by a spawned postmaster-tlsd")

# --- no socket at all (tcpserver or inetd without the service): spawned, quietly
os.unlink(sock)
spawned, noted = count(r"tlsd=spawned"), count(r"no postmaster-tlsd service")
rc, out = swaks(port["tls.test"], "--tls")
t.ok(rc == 0 and "250 2.0.0 Ok: queued as" in out, "no socket: STARTTLS works", out)
t.ok(wait_for(lambda: count(r"tlsd=spawned") == spawned + 1, 30)
     and count(r"no postmaster-tlsd service") == noted,
     "... served by a spawned postmaster-tlsd, with no log line about the service")
t.done()
