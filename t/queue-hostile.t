#!/usr/bin/env python3
"""postmaster-queue against hostile SMTP servers written here: each holds
a queue worker by sending a little, often, so that no single read or
write ever waits long:

  - drip: a "220-" greeting line every 200 ms, never the last line;
  - endless: a proper greeting, then an endless "250-" reply to EHLO;
  - window: a proper dialogue up to 354, then the message is read 1 KiB
    at a time every 200 ms (a receive window that opens a little at a
    time), never to its end.

Three more are out of step at DATA (a 250 to DATA, a surplus reply to
RCPT read as DATA's, octets right after the 354): their messages must
stay queued, never be taken for sent.

Each delivery must be deferred with a diagnostic that says what happened,
within the whole-reply (or whole-send) deadline of RFC 5321 4.5.3.2 (the
runner's timeouts shortened by PM_QUEUE_TIMEOUT_SCALE_MS: a minute lasts
a second, so the greeting gets 5 s and a block of data 3 s) or at once
at the reply caps (100 lines / 64 KiB). The times are checked as lower
bounds from points before the deadline began, with generous upper
limits, so a slow machine does not fail them.

A slow destination does not stall others: a "hold" server takes its
message and answers the final dot only when the test releases it; a
message queued while it holds is delivered to a well-behaved server,
and only then is the hold released (its own reply deadline, 10 s here,
is the only time involved).

Loopback only. Every server started here is stopped here, also on an
early exit (atexit, SIGALRM, SIGTERM)."""
import atexit
import os
import re
import smtplib
import socket
import socketserver
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import PM_BIN, Instance, Tap, end_process, require, wait_for, watchdog  # noqa: E402

t = Tap()
require("the runner drops to nobody", {"tcpserver": "ucspi-tcp"})

QUEUE = os.path.join(PM_BIN, "postmaster-queue")
SCALE_MS = 1000             # a minute of RFC 5321 4.5.3.2 lasts 1 s
GREETING_S = 5              # 4.5.3.2.1: 5 min
BLOCK_S = 3                 # 4.5.3.2.5: 3 min
SLACK = 15                  # a loaded machine: the runner's own latency
watchdog(120)


class Server(socketserver.ThreadingTCPServer):
    """One behaviour per server; every connection recorded."""
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, kind):
        self.kind = kind
        self.lock = threading.Lock()
        self.conns = []             # dicts: opened, data_at, closed, ...
        self.subjects = []          # the good server: messages received
        self.release = threading.Event()    # the hold server may answer
        self.stopping = False
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def server_bind(self):
        if self.kind == "window":
            # accepted sockets inherit it: a small window to open slowly
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        super().server_bind()

    def held(self):
        """Some connection is open now."""
        with self.lock:
            return any(c["closed"] is None for c in self.conns)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s, sock = self.server, self.request
        c = {"opened": time.monotonic(), "data_at": None, "closed": None,
             "lines": 0, "dot_at": None, "answered": None}
        with s.lock:
            s.conns.append(c)
        f = sock.makefile("rb")
        try:
            getattr(self, "run_" + s.kind)(s, sock, f, c)
        except OSError:
            pass
        finally:
            c["closed"] = time.monotonic()

    @staticmethod
    def say(sock, text):
        sock.sendall(text.encode() + b"\r\n")

    def run_drip(self, s, sock, f, c):
        while not s.stopping:
            self.say(sock, "220-drip.test still greeting")
            c["lines"] += 1
            time.sleep(0.2)

    def commands(self, s, sock, f, c, on_ehlo, on_data, on_rcpt=None,
                 data_reply=lambda: "354 go ahead"):
        self.say(sock, "220 %s.test ESMTP" % s.kind)
        while not s.stopping:
            line = f.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                on_ehlo()
            elif verb == b"RCPT" and on_rcpt:
                on_rcpt(line)
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.say(sock, "250 2.0.0 Ok")
            elif verb == b"DATA":
                reply = data_reply()
                self.say(sock, reply)
                c["data_at"] = time.monotonic()
                if reply.startswith("354"):
                    on_data()
            elif verb == b"QUIT":
                self.say(sock, "221 2.0.0 bye")
                return
            else:
                self.say(sock, "502 5.5.2 no")

    def run_endless(self, s, sock, f, c):
        def ehlo():
            while not s.stopping:
                self.say(sock, "250-endless.test and more")
                c["lines"] += 1
        self.commands(s, sock, f, c, ehlo, None)

    def run_window(self, s, sock, f, c):
        def data():
            while not s.stopping:
                got = sock.recv(1024)
                if not got:
                    return
                time.sleep(0.2)
        self.commands(s, sock, f, c,
                      lambda: self.say(sock, "250 window.test"), data)

    def run_good(self, s, sock, f, c):
        def data():
            body = []
            while True:
                d = f.readline()
                if d in (b".\r\n", b""):
                    break
                body.append(d)
            m = re.search(rb"(?m)^Subject: (.*)\r$", b"".join(body))
            with s.lock:
                s.subjects.append(m.group(1).decode() if m else None)
            c["dot_at"] = time.monotonic()
            # the hold server answers the dot when the test says so
            while s.kind == "hold" and not s.release.wait(0.1):
                if s.stopping:
                    return
            c["answered"] = time.monotonic()
            self.say(sock, "250 2.0.0 Ok: queued")
        self.commands(s, sock, f, c, lambda: self.say(
            sock, "250-%s.test\r\n250 PIPELINING" % s.kind), data)

    run_hold = run_good

    def run_outofstep(self, s, sock, f, c):
        """Out of step at DATA, three ways (by the recipient): a 250 to
        DATA, a surplus second reply to RCPT (read as DATA's), and
        octets sent right after the 354."""
        rcpt = [b""]

        def on_rcpt(line):
            rcpt[0] = line
            self.say(sock, "250 2.1.5 Ok\r\n250 2.0.0 surplus"
                     if b"surplus" in line else "250 2.1.5 Ok")

        def data_reply():
            return ("250 2.0.0 what DATA?" if b"data2xx" in rcpt[0] else
                    "354 go ahead\r\n250 2.0.0 too early" if b"after354" in rcpt[0] else
                    "354 go ahead")

        def data():
            while f.readline() not in (b".\r\n", b""):
                pass
            self.say(sock, "250 2.0.0 Ok: queued")
        self.commands(s, sock, f, c, lambda: self.say(sock, "250 outofstep.test"),
                      data, on_rcpt, data_reply)


SERVERS = {k: Server(k)
           for k in ("drip", "endless", "window", "hold", "good")}
# one server per case: each gets one connection (checked below)
OUTOFSTEP = {k: Server("outofstep") for k in ("data2xx", "surplus", "after354")}

inst = Instance(name="mx.test")
QLOG = os.path.join(inst.dir, "queue.log")
RUNNER = []
with open(inst.cf, "w") as cf:
    cf.write("""[core]
hostname = mx.test
user-id = nobody
group-id = nogroup
spool-directory = "{spool}"
retry-interval = 1h

[smtpd "mx.test"]
routing-table = ext

[route "ext"]
drip@example.test drip
endless@example.test endless
window@example.test window
hold@example.test hold
good@example.test good
data2xx@example.test data2xx
surplus@example.test surplus
after354@example.test after354

""".format(spool=inst.spool))
    for k, srv in list(SERVERS.items()) + list(OUTOFSTEP.items()):
        cf.write('[relay "%s"]\naddress = 127.0.0.1:%d\n\n' % (k, srv.port))
subprocess.run([os.path.join(PM_BIN, "postmaster-cfcompile"), "-c", inst.cf,
                "-o", inst.cdb], check=True)


def cleanup():
    for srv in list(SERVERS.values()) + list(OUTOFSTEP.values()):
        srv.stopping = True
    while RUNNER:
        end_process(RUNNER.pop(), 25)
    for srv in list(SERVERS.values()) + list(OUTOFSTEP.values()):
        srv.shutdown()
        srv.server_close()


atexit.register(cleanup)    # runs before the Instance's own (LIFO)


def qlog():
    with open(QLOG, errors="replace") as f:
        return f.read()


def line_for(rcpt, status):
    m = re.search(r"(?m)^postmaster-queue\[[0-9A-F]+\]: info: [0-9A-F]+ "
                  r"to=<%s> .* status=%s \((.*)\)$" % (re.escape(rcpt), status),
                  qlog())
    return m.group(1) if m else None


# --------------------------------------------------------- queue the mail

port = inst.tcpserver()


def send(rcpts_bodies):
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test",
                     timeout=30)
    for rcpt, body in rcpts_bodies:
        s.sendmail("sender@client.test", ["%s@example.test" % rcpt],
                   "From: <sender@client.test>\r\nSubject: to %s\r\n\r\n"
                   "%s\r\n" % (rcpt, body))
    s.quit()


BIG = "".join("window line %06d %s\r\n" % (i, "x" * 60) for i in range(40000))
send((("drip", "short"), ("endless", "short"), ("window", BIG),
      ("hold", "short"), ("data2xx", "short"), ("surplus", "short"),
      ("after354", "short")))
t.is_(len(inst.queue()), 7, "seven messages queued (drip, endless, window "
      "(%d KiB), hold, three out of step)" % (len(BIG) // 1024))

# ------------------------------------------------------------- the runner

open(QLOG, "w").close()
RUNNER.append(subprocess.Popen(
    [QUEUE, "-C", inst.cdb], stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL, stderr=open(QLOG, "a"),
    env=dict(os.environ, PM_QUEUE_TIMEOUT_SCALE_MS=str(SCALE_MS))))
t0 = time.monotonic()



def holding():
    c = SERVERS["hold"].conns
    return bool(c) and c[0]["dot_at"] is not None and \
        c[0]["answered"] is None and c[0]["closed"] is None


t.ok(wait_for(holding, 30), "the hold server has its message and holds "
     "the worker", SERVERS["hold"].conns)
send((("good", "short"),))
t.ok(wait_for(lambda: line_for("good@example.test", "sent"), 30),
     "a message queued meanwhile is delivered to the good server",
     qlog()[-3000:])
t.is_(SERVERS["good"].subjects, ["to good"], "the good server got it")
t.ok(holding(), "... while the hold server still holds its worker",
     SERVERS["hold"].conns)
SERVERS["hold"].release.set()
t.ok(wait_for(lambda: line_for("hold@example.test", "sent"), 30),
     "released, the hold server's message is delivered", qlog()[-3000:])
t.is_(SERVERS["hold"].subjects, ["to hold"], "the hold server got it")

t.ok(wait_for(lambda: all(line_for("%s@example.test" % k, "deferred")
                          for k in ("drip", "endless", "window")), 60),
     "each hostile delivery is deferred", qlog()[-3000:])
relay = "127.0.0.1[127.0.0.1]:%d"
t.is_(line_for("drip@example.test", "deferred"),
      "451 4.4.2 conversation with %s timed out while reading the reply to the "
      "greeting (limit %d s)" % (relay % SERVERS["drip"].port, GREETING_S),
      "drip: deferred, the greeting's whole-reply deadline")
t.is_(line_for("endless@example.test", "deferred"),
      "451 4.4.2 reply from %s to EHLO is over 100 lines or 65536 octets"
      % (relay % SERVERS["endless"].port),
      "endless: deferred at the reply cap")
t.is_(line_for("window@example.test", "deferred"),
      "451 4.4.2 conversation with %s timed out while sending the message "
      "(limit %d s)" % (relay % SERVERS["window"].port, BLOCK_S),
      "window: deferred, the data block's whole-send deadline")


# A server out of step at DATA: never "sent" (its 250 was no answer to
# the message), deferred, the message still queued.
for k, got in (("data2xx", "250 2.0.0 what DATA?"), ("surplus", "250 2.0.0 surplus"),
               ("after354", "354 go ahead")):
    t.ok(wait_for(lambda: line_for("%s@example.test" % k, "deferred"), 30),
         "out of step (%s): deferred" % k, qlog()[-3000:])
    t.is_(line_for("%s@example.test" % k, "deferred"),
          "451 4.4.2 out of step with %s: %s in reply to DATA"
          % (relay % OUTOFSTEP[k].port, got),
          "out of step (%s): the reason names the reply" % k)
    t.ok(not line_for("%s@example.test" % k, "sent"), "out of step (%s): not sent" % k)


def span(kind, start):
    c = SERVERS[kind].conns[0] if SERVERS[kind].conns else {}
    return None if not c.get(start) or not c.get("closed") else \
        c["closed"] - c[start]


t.ok(wait_for(lambda: all(not SERVERS[k].held() for k in SERVERS), 30),
     "every connection is closed by the worker")
# The greeting deadline starts after the connect, which is after t0 (the
# server's own "opened" may come late: a lower bound from t0).
d = span("drip", "opened")
c = SERVERS["drip"].conns[0] if SERVERS["drip"].conns else {}
t.ok(d is not None and c["closed"] - t0 >= GREETING_S and
     d < GREETING_S + SLACK,
     "drip: held %.1f s, the greeting deadline is %d s (%d lines sent)"
     % (d or -1, GREETING_S, c.get("lines", 0)))
n = SERVERS["endless"].conns[0]["lines"] if SERVERS["endless"].conns else 0
t.ok(n >= 100, "endless: it sent %d continuation lines before the worker "
     "left" % n)
# 354 goes out before the client's first block: a lower bound
d = span("window", "data_at")
t.ok(d is not None and BLOCK_S <= d < BLOCK_S + SLACK,
     "window: held %.1f s after DATA, a block's deadline is %d s"
     % (d or -1, BLOCK_S))
t.is_([len(SERVERS[k].conns) for k in SERVERS] +
      [len(OUTOFSTEP[k].conns) for k in OUTOFSTEP], [1] * (len(SERVERS) + len(OUTOFSTEP)),
      "one connection each (retry-interval 1h: no retry yet)")
t.is_(len(inst.queue()), 6, "still queued: the three hostile and the three "
      "out-of-step messages (hold and good were sent)")
t.is_(sorted(l for l in qlog().splitlines() if "Sanitizer" in l or
             "runtime error:" in l), [], "no sanitizer report")
t.done()
