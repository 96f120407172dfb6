#!/usr/bin/env python3
"""Writes have deadlines too: a client that pipelines commands and never
reads its replies fills the socket, and the server's write() would block
for ever. postmaster-smtpd (under tcpserver), postmaster-lmtpd (under
tcpserver) and `postmaster-inject -bs` (on pipes) must each end such a
session at its idle timeout or its session deadline, whichever comes
first, and log why. Loopback only; every process started here is
stopped here."""
import os
import re
import select
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import PM_BIN, Instance, Tap, alive, children, end_process, require, wait_for, watchdog  # noqa: E402

t = Tap()
require("the servers drop to nobody", {"tcpserver": "ucspi-tcp"})
watchdog(100)

inst = Instance(name="mx.test", extra='[lmtpd]\nmaildir = "/nonexistent/%d/%u"\n'
                'idle-timeout = 2s\nsession-timeout = 30s\n')
subprocess.run([os.path.join(PM_BIN, "postmaster-cfcompile"), "-c", inst.cf,
                "-o", inst.cdb,
                "--smtpd=idle.test", "--smtpd-idle.test-routing-table=ext",
                "--smtpd-idle.test-idle-timeout=2",
                "--smtpd-idle.test-session-timeout=6",
                "--smtpd=deadline.test", "--smtpd-deadline.test-routing-table=ext",
                "--smtpd-deadline.test-idle-timeout=60",
                "--smtpd-deadline.test-session-timeout=3"], check=True)
NOOPS = b"NOOP\r\n" * 4096


def tcpserver(argv, log):
    """argv under tcpserver on an ephemeral loopback port, stderr to log."""
    p = subprocess.Popen(["tcpserver", "-1", "-R", "-H", "-l", "0",
                          "127.0.0.1", "0"] + argv, stdout=subprocess.PIPE,
                         stderr=open(log, "w"))
    inst.procs.append(p)
    return p, int(p.stdout.readline())


def flood(fd, secs=30):
    """Pipelines NOOPs on fd without reading until the server takes no
    more for a second (it is stuck writing) or hangs up. Octets sent."""
    os.set_blocking(fd, False)
    sent, end = 0, time.monotonic() + secs
    while time.monotonic() < end:
        try:
            sent += os.write(fd, NOOPS)
        except BlockingIOError:
            if not select.select([], [fd], [], 1.0)[1]:
                break
        except OSError:
            break
    return sent


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def unread_session(argv, greeting, log, limit, name):
    """Connects, reads the greeting, floods; the server process must be
    gone within limit seconds of the connect. Returns the log text."""
    srv, port = tcpserver(argv, log)
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    t.ok(wait_for(lambda: children(srv.pid), 10), "%s: a server process "
         "for the connection" % name)
    kids = children(srv.pid)
    f = c.makefile("rb")
    t.is_(f.readline().decode(), greeting, "%s: the greeting" % name)
    sent = flood(c.fileno())
    t.ok(sent > 100000, "%s: the client pipelined %d octets and read "
         "nothing" % (name, sent))
    gone = wait_for(lambda: not any(alive(k) for k in kids), 60)
    took = time.monotonic() - t0
    t.ok(gone and took < limit, "%s: the server process is gone after "
         "%.1f s (limit %d s)" % (name, took, limit))
    c.close()
    end_process(srv)
    inst.procs.remove(srv)
    return read(log)


SMTPD = os.path.join(PM_BIN, "postmaster-smtpd")

for name, secs, limit in (("idle.test", 2, "idle-timeout"),
                          ("deadline.test", 3, "session-timeout")):
    log = os.path.join(inst.dir, name + ".log")
    text = unread_session([SMTPD, "-C", inst.cdb, name],
                          "220 %s ESMTP Postmaster\r\n" % name, log, secs + 3,
                          "smtpd, %s %d s" % (limit, secs))
    t.ok(re.search(r"(?m)^postmaster-smtpd\[\d+\]: info: timeout: "
                   r"client=127\.0\.0\.1 did not read its replies within the "
                   r"%s \(%d s\); connection closed$" % (limit, secs), text),
         "smtpd: the log says why (%s)" % limit, text[-2000:])
    t.ok(re.search(r"(?m)^postmaster-smtpd\[\d+\]: info: disconnect from "
                   r"127\.0\.0\.1 noop=\d+ commands=\d+ errors=0 messages=0$",
                   text), "smtpd: then the disconnect line", text[-2000:])

log = os.path.join(inst.dir, "lmtpd.log")
text = unread_session([os.path.join(PM_BIN, "postmaster-lmtpd"), "-C", inst.cdb],
                      "220 mx.test LMTP Postmaster\r\n", log, 2 + 4,
                      "lmtpd, [lmtpd] idle-timeout 2 s")
t.ok(re.search(r"(?m)^postmaster-lmtpd: info: timeout: the client did not "
               r"read its replies within the idle-timeout \(2 s\); connection "
               r"closed$", text), "lmtpd: the log says why", text[-2000:])

# inject -bs on pipes: a minute of its limits lasts 400 ms here (idle
# 5 min -> 2 s, session 30 min -> 12 s); the caller never reads stdout.
r, w = os.pipe()
p = subprocess.Popen([os.path.join(PM_BIN, "postmaster-inject"), "-C", inst.cdb,
                      "-bs"], stdin=subprocess.PIPE, stdout=w,
                     stderr=subprocess.PIPE,
                     env=dict(os.environ, PM_INJECT_TIMEOUT_SCALE_MS="400"))
os.close(w)
t0 = time.monotonic()
greet = b""
while not greet.endswith(b"\n"):
    greet += os.read(r, 1)
t.is_(greet.decode(), "220 mx.test ESMTP Postmaster\r\n", "inject -bs: the greeting")
sent = flood(p.stdin.fileno())
t.ok(sent > 50000, "inject -bs: the caller pipelined %d octets, read nothing" % sent)
try:
    rc = p.wait(60)
except subprocess.TimeoutExpired:
    rc = None
took = time.monotonic() - t0
t.is_(rc, 74, "inject -bs: exit 74 (EX_IOERR)")
t.ok(took < 12, "inject -bs: it ended after %.1f s (idle 2 s, limit 12 s)" % took)
err = p.stderr.read().decode(errors="replace") if rc is not None else ""
t.is_(err, "postmaster-inject: fatal: -bs: the client did not read its replies "
      "within the idle timeout (5 min)\n", "inject -bs: the diagnostic")
end_process(p)
os.close(r)
t.done()
