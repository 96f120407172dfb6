#!/usr/bin/env python3
"""postmaster-queue's long-lived workers and their SMTP connection cache,
end to end: messages enter through the real postmaster-smtpd (under
tcpserver) while a running runner (queue-concurrency = 2) relays them to
a small ESMTP server in this process that records every connection, every
command and every message (by the queue id in smtpd's Received field):

  - 30 messages: at most 2 connections, RSET between messages, conn_use=N
    in the log counting each connection's messages (the server's 250
    names the connection and the message's place on it, so every log
    line is checked against what the server saw);
  - idle connections get QUIT after 5 s while their workers live on;
  - a server that drops the connection instead of answering RSET (and
    one that hangs up right after a 250): the runner reconnects, nothing
    is deferred, no descriptor leaks in the worker;
  - a worker SIGKILLed while the server holds back its reply to the data:
    logged, the message is read again from disk and delivered;
  - SIGHUP: the idle workers leave (QUIT on their connections), new
    ones deliver;
  - an idle worker exits after 10 s, its connection having had QUIT at 5;
  - a server that never answers QUIT: the worker closing its idle
    connection waits at most 2 s for the reply (not the 60 s of an
    ordinary QUIT), so the next message, which the runner hands that
    worker at once (it looks idle), reaches the server within 4 s.

Then a runner each, on a fresh log:
  - the default configuration (no max-per-destination): 8 pairs of
    messages to two servers, each server gets one connection for its 8;
  - three workers that gave up root, then a message for a program run as
    daemon: one of them is retired to make room, not all three.

About 31 s.

Loopback only. Every server started here is stopped here, also on an
early exit (atexit, SIGALRM, SIGTERM)."""
import atexit
import collections
import os
import pwd
import random
import re
import signal
import smtplib
import socket
import socketserver
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import PM_BIN, Instance, Tap, alive, children, end_process, require, wait_for, watchdog  # noqa: E402

t = Tap()
require("the runner drops to nobody", {"tcpserver": "ucspi-tcp"})

QUEUE = os.path.join(PM_BIN, "postmaster-queue")
# The timings checked here are the real ones, not scaled.
os.environ.pop("PM_QUEUE_TIMEOUT_SCALE_MS", None)

IDLE_QUIT = 5.0     # QUEUE_WORKER_CONN_IDLE_MS
QUIT_WAIT = 2.0     # CLIENT_TO_QUIT_CACHED: a cached connection's QUIT
SLOW_SECS = 3.0     # the server holds back the reply to a "slow" message


watchdog(90)


# ------------------------------------------------ the recording ESMTP server

class Conn:
    def __init__(self, n, port):
        self.n = n
        self.port = port            # the client's (the worker's) port
        self.lines = []             # command lines as received
        self.msgs = []              # dicts, in order
        self.opened = time.monotonic()
        self.last = None            # when the last 250 to the data went
        self.closed = None
        self.quit = None            # when QUIT came
        self.end = None             # QUIT, QUIT unanswered, eof,
                                    # dropped-at-rset, dropped, error

    def verbs(self):
        return [l[:4].upper() for l in self.lines]


class Sink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.conns = []
        self.drop_rset_after = None  # close, no reply, at RSET after N msgs
        self.drop_after = None       # close right after the Nth message's 250
        self.mute_quit = False       # no 221: silent until the client leaves
        self.slow = set()            # subjects held back once
        self.slowed = {}             # subject -> the Conn that held it
        self.slow_seen = threading.Event()
        self.release = threading.Event()   # ends the holds before SLOW_SECS

    def new_conn(self, port):
        with self.lock:
            c = Conn(len(self.conns) + 1, port)
            self.conns.append(c)
            return c

    def messages(self):
        with self.lock:
            return [m for c in self.conns for m in c.msgs]


class Handler(socketserver.StreamRequestHandler):
    timeout = 60

    def handle(self):
        s = self.server
        c = s.new_conn(self.client_address[1])

        def say(text):
            self.wfile.write(text.encode() + b"\r\n")
            self.wfile.flush()

        try:
            say("220 sink.test ESMTP")
            while True:
                raw = self.rfile.readline()
                if not raw:
                    c.end = "eof"
                    break
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                c.lines.append(line)
                verb = line[:4].upper()
                if verb == "EHLO":
                    say("250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                        "250 SIZE 10485760")
                elif verb == "HELO":
                    say("250 sink.test")
                elif verb in ("MAIL", "RCPT", "NOOP"):
                    say("250 2.0.0 Ok")
                elif verb == "RSET":
                    if s.drop_rset_after and len(c.msgs) >= s.drop_rset_after:
                        c.end = "dropped-at-rset"
                        break
                    say("250 2.0.0 Ok")
                elif verb == "DATA":
                    say("354 go ahead")
                    body = []
                    while True:
                        d = self.rfile.readline()
                        if d in (b".\r\n", b""):
                            break
                        body.append(d[1:] if d.startswith(b".") else d)
                    if d == b"":
                        c.end = "eof in data"
                        break
                    text = b"".join(body).decode("utf-8", "replace")
                    subj = re.search(r"(?m)^Subject: (.*)\r$", text)
                    qid = re.search(r"with E?SMTP\w* id ([0-9A-F]+)", text)
                    m = {"conn": c.n, "k": len(c.msgs) + 1,
                         "subject": subj.group(1) if subj else None,
                         "qid": qid.group(1) if qid else None,
                         "at": time.monotonic()}
                    with s.lock:
                        c.msgs.append(m)
                        hold = m["subject"] in s.slow and \
                            m["subject"] not in s.slowed
                        if hold:
                            s.slowed[m["subject"]] = c
                    if hold:
                        s.slow_seen.set()
                        s.release.wait(SLOW_SECS)
                    say("250 2.0.0 Ok: queued as c%dm%d" % (c.n, m["k"]))
                    c.last = time.monotonic()
                    if s.drop_after and len(c.msgs) >= s.drop_after:
                        c.end = "dropped"
                        break
                elif verb == "QUIT":
                    c.quit = time.monotonic()
                    if s.mute_quit:
                        # Keep reading (and recording), never answer.
                        for raw in self.rfile:
                            c.lines.append(raw.decode("utf-8", "replace")
                                           .rstrip("\r\n"))
                        c.end = "QUIT unanswered"
                        break
                    say("221 2.0.0 bye")
                    c.end = "QUIT"
                    break
                else:
                    say("502 5.5.2 unknown command")
        except OSError as e:
            c.end = "error: %s" % e
        finally:
            c.closed = time.monotonic()


SINKS = []


def new_sink():
    s = Sink()
    s.port = s.server_address[1]
    threading.Thread(target=s.serve_forever, daemon=True).start()
    SINKS.append(s)
    return s


SINK = new_sink()
SINK_PORT = SINK.port

# ---------------------------------------------------------------- the setup

inst = Instance(name="mx.test")
QLOG = os.path.join(inst.dir, "queue.log")
RUNNER = []


def relay(name, port):
    return '[relay "%s"]\naddress = 127.0.0.1:%d\n' % (name, port)


def configure(core, routes, targets):
    """Writes and compiles the configuration: more [core] lines, the
    routing table's lines, the targets' sections. (Instance routes
    @example.test to a local name first; this test's tables replace it.)"""
    with open(inst.cf, "w") as f:
        f.write("""[core]
hostname = mx.test
user-id = nobody
group-id = nogroup
spool-directory = "{spool}"
retry-interval = 1s
{core}

[smtpd "mx.test"]
routing-table = ext

[route "ext"]
{routes}

{targets}""".format(spool=inst.spool, core=core, routes=routes,
                    targets=targets))
    subprocess.run([os.path.join(PM_BIN, "postmaster-cfcompile"), "-c",
                    inst.cf, "-o", inst.cdb], check=True)


configure("queue-concurrency = 2", "@example.test sink",
          relay("sink", SINK_PORT))


def cleanup():
    while RUNNER:
        end_process(RUNNER.pop(), 25)
    for s in SINKS:
        s.shutdown()
        s.server_close()


atexit.register(cleanup)    # runs before the Instance's own (LIFO)


def qlog():
    with open(QLOG, errors="replace") as f:
        return f.read()


def owner_of(conn, pids):
    """The process among pids holding the client end of conn."""
    want = "0100007F:%04X" % conn.port, "0100007F:%04X" % SINK_PORT
    inode = None
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            col = line.split()
            if (col[1], col[2]) == want:
                inode = col[9]
    if inode is None:
        return None
    for pid in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == \
                        "socket:[%s]" % inode:
                    return pid
        except OSError:
            continue
    return None


def fds(pid):
    """What pid's descriptors point at, TCP sockets left out (the cached
    connections come and go)."""
    tcp = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            tcp.add("socket:[%s]" % line.split()[9])
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            l = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if l not in tcp:
            out.append(l)
    return sorted(out)


def spool(subjects, rcpts=None):
    """Sends one message per subject in one SMTP session to smtpd, each to
    its recipient in rcpts (default rcpt@example.test); returns the queue
    ids in order."""
    s = smtplib.SMTP("127.0.0.1", SMTPD_PORT, local_hostname="client.test",
                     timeout=30)
    s.ehlo("client.test")
    ids = []
    for subj, rcpt in zip(subjects, rcpts or ["rcpt@example.test"] *
                          len(subjects)):
        if s.mail("sender@client.test")[0] != 250 or \
                s.rcpt(rcpt)[0] != 250:
            ids.append(None)
            s.rset()
            continue
        code, msg = s.data(("From: <sender@client.test>\r\nTo: <%s>"
                            "\r\nSubject: %s\r\nMessage-ID: <%s.%d@client.test>\r\n"
                            "\r\nbody of %s\r\n.leading dot\r\n")
                           % (rcpt, subj, subj.replace(" ", "-"),
                              time.monotonic_ns(), subj))
        m = re.search(rb"queued as ([0-9A-F]+)", msg)
        ids.append(m.group(1).decode() if code == 250 and m else None)
    s.quit()
    return ids


SENT_RE = re.compile(
    r"(?m)^postmaster-queue\[([0-9A-F]{30})\]: info: \1 to=<rcpt@example\.test> "
    r"orig_to=<rcpt@example\.test> relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d"
    r"( conn_use=(\d+))? delay=\d+s attempts=(\d+) dsn=2\.0\.0 status=sent "
    r"\(250 2\.0\.0 Ok: queued as c(\d+)m(\d+)\)$" % SINK_PORT)


def sent_lines(ids):
    """{qid: [(conn_use or None, attempts, conn, k)]} of the log's sent
    lines for these ids."""
    out = collections.defaultdict(list)
    for m in SENT_RE.finditer(qlog()):
        if m.group(1) in ids:
            out[m.group(1)].append((int(m.group(3)) if m.group(3) else None,
                                    int(m.group(4)), int(m.group(5)),
                                    int(m.group(6))))
    return out


def removed(ids):
    """Every id has its removed line."""
    log = qlog()
    return all(i and re.search(r"(?m)^postmaster-queue\[%s\]: info: %s removed$"
                               % (i, i), log) for i in ids)


def delivered(ids):
    """Every id has its sent line and its removed line."""
    return removed(ids) and len(sent_lines(set(ids))) == len(ids)


def received(ids):
    return collections.Counter(m["qid"] for m in SINK.messages()
                               if m["qid"] in set(ids))


def arrival(qid):
    """When the server got qid (its first copy), or None."""
    return min((m["at"] for m in SINK.messages() if m["qid"] == qid),
               default=None)


def secs(a, b):
    """b - a in seconds, rounded to 0.01; None unless both are times."""
    return None if a is None or b is None else round(b - a, 2)


def conn_use_errors(ids):
    """Each id's one sent line names the connection and the message's
    place on it (the server's reply text); conn_use must be that place
    (absent for the first). Returns what does not match."""
    bad = []
    lines = sent_lines(set(ids))
    msgs = {(m["conn"], m["k"]): m for m in SINK.messages()}
    for i in ids:
        if len(lines.get(i, [])) != 1:
            bad.append("%s: %d sent lines" % (i, len(lines.get(i, []))))
            continue
        use, _, cn, k = lines[i][0]
        m = msgs.get((cn, k))
        if m is None or m["qid"] != i:
            bad.append("%s: the server's c%dm%d is %s" % (i, cn, k,
                                                         m and m["qid"]))
        if use != (None if k == 1 else k):
            bad.append("%s: c%dm%d logged conn_use=%s" % (i, cn, k, use))
    return bad


def conns_of(ids):
    """The server connections that carried these ids, by number."""
    ids = set(ids)
    return sorted({m["conn"] for m in SINK.messages() if m["qid"] in ids})


def conn(n):
    return SINK.conns[n - 1]


def expected_verbs(k):
    """A cached connection's commands for k messages: RSET between."""
    v = ["EHLO"]
    for i in range(k):
        v += (["RSET"] if i else []) + ["MAIL", "RCPT", "DATA"]
    return v


def sanitizer_reports():
    return [l for l in qlog().splitlines() if "Sanitizer" in l or
            "runtime error:" in l]


def start_runner(env=None):
    """A runner on a fresh log."""
    open(QLOG, "w").close()
    p = subprocess.Popen([QUEUE, "-C", inst.cdb], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=open(QLOG, "a"),
                         env=dict(os.environ, **(env or {})))
    RUNNER.append(p)
    t.ok(wait_for(lambda: "started:" in qlog(), 10), "the runner started",
         qlog())
    return p


SMTPD_PORT = inst.tcpserver()
runner = start_runner()

# --------------------------------------- 30 messages over at most 2 connections

ids = spool(["reuse %d" % i for i in range(30)])
t.ok(len(ids) == 30 and None not in ids and len(set(ids)) == 30,
     "smtpd spooled 30 messages", ids)
ids = [i for i in ids if i]
t.ok(wait_for(lambda: delivered(ids), 30), "all 30 delivered (sent and removed)",
     qlog()[-3000:])
got = received(ids)
t.is_(sorted(got), sorted(ids), "the server got the 30 messages, by queue id")
t.is_(sorted(set(got.values())), [1], "each exactly once")
t.is_(sorted(m["subject"] for m in SINK.messages() if m["qid"] in set(ids)),
      sorted("reuse %d" % i for i in range(30)), "the 30 subjects")
cs = conns_of(ids)
t.ok(1 <= len(cs) <= 2 and len(SINK.conns) == len(cs),
     "queue-concurrency 2: at most 2 connections carried them (%d)" % len(cs),
     [(c.n, len(c.msgs)) for c in SINK.conns])
t.is_(conn_use_errors(ids), [], "each log line's conn_use= is its message's "
      "place on its connection (absent for the first)")
uses = [u for v in sent_lines(set(ids)).values() for (u, _, _, _) in v if u]
t.ok(uses and max(uses) >= 15, "a connection carried at least 15 "
     "(conn_use up to %s)" % (max(uses) if uses else None))
t.is_([(n, conn(n).verbs()) for n in cs],
      [(n, expected_verbs(len(conn(n).msgs))) for n in cs],
      "one EHLO per connection, RSET before every message after the first")
t.is_([conn(n).end for n in cs], [None] * len(cs),
      "the connections stay open after the last message")
st = sent_lines(set(ids))
t.is_(sorted({a for v in st.values() for (_, a, _, _) in v}), [1],
      "every message sent on its first attempt")
t.is_(len(re.findall(r"status=sent", qlog())), 30, "30 status=sent lines")
t.is_(inst.queue(), [], "the queue is empty")

# --------------------------------------------- idle connections: QUIT at 5 s

workers = children(runner.pid)
t.ok(1 <= len(workers) <= 2, "1 or 2 worker processes (%d)" % len(workers))
t.ok(wait_for(lambda: all(conn(n).closed for n in cs), IDLE_QUIT + 4),
     "the idle connections are closed", [(c.n, c.end) for c in SINK.conns])
t.is_([(n, conn(n).end, conn(n).verbs()[-1:]) for n in cs],
      [(n, "QUIT", ["QUIT"]) for n in cs], "each with QUIT")
idle = [round(conn(n).closed - conn(n).last, 1) for n in cs
        if conn(n).closed]
t.ok(idle and min(idle) >= IDLE_QUIT - 0.2 and max(idle) <= IDLE_QUIT + 2.5,
     "after about 5 s idle (%s s)" % idle)
t.ok(runner.poll() is None, "the runner keeps running")
t.is_(sorted(p for p in workers if alive(p)), sorted(workers),
      "the workers live on: the cache, not a worker's exit, said QUIT")
fds4 = {p: fds(p) for p in workers}

# ---------------- a server that drops the connection at RSET after 3 messages

SINK.drop_rset_after = 3
before = len(SINK.conns)
ids3 = spool(["stale %d" % i for i in range(10)])
t.ok(len(ids3) == 10 and None not in ids3, "smtpd spooled 10 more")
ids3 = [i for i in ids3 if i]
t.ok(wait_for(lambda: delivered(ids3), 30), "all 10 delivered", qlog()[-3000:])
t.is_(sorted(received(ids3).items()), sorted((i, 1) for i in ids3),
      "each arrived exactly once")
t.is_(len(re.findall(r"status=deferred", qlog())), 0,
      "nothing deferred: the runner reconnects by itself")
cs3 = conns_of(ids3)
t.ok(min(cs3 or [0]) > before, "all on new connections (the old ones had QUIT)")
t.ok(len(cs3) >= 4 and max(len(conn(n).msgs) for n in cs3) <= 3,
     "at most 3 per connection, so at least 4 connections (%d)" % len(cs3),
     [(n, len(conn(n).msgs), conn(n).end) for n in cs3])
dropped = [n for n in cs3 if conn(n).end == "dropped-at-rset"]
t.ok(dropped, "some connection was dropped at RSET (%d)" % len(dropped))
t.is_([(n, conn(n).verbs()) for n in dropped],
      [(n, expected_verbs(3) + ["RSET"]) for n in dropped],
      "a dropped one saw 3 messages and the RSET that proved it dead")
t.is_(conn_use_errors(ids3), [], "conn_use= counts from 1 again on each new "
      "connection")

# ------------------- a server that hangs up right after a 250 (a stale cache)

SINK.drop_rset_after = None
SINK.drop_after = 2
ids3b = spool(["hangup %d" % i for i in range(5)])
ids3b = [i for i in ids3b if i]
t.ok(len(ids3b) == 5 and wait_for(lambda: delivered(ids3b), 30),
     "5 messages to a server hanging up after 2 per connection delivered",
     qlog()[-3000:])
t.is_(sorted(received(ids3b).items()), sorted((i, 1) for i in ids3b),
      "each arrived exactly once")
t.is_(len(re.findall(r"status=deferred", qlog())), 0, "nothing deferred")
t.is_(conn_use_errors(ids3b), [], "conn_use= matches the server's count")
same = [p for p in sorted(fds4) if alive(p)]
t.ok(same and all(fds(p) == fds4[p] for p in same),
     "after 15 more messages and the dropped connections a worker holds the "
     "same descriptors as before (no leak)",
     {p: (fds4[p], fds(p) if alive(p) else None) for p in fds4})
SINK.drop_after = None

# --------------------------------------- a worker killed in the middle of DATA

SINK.slow.add("slow kill")
ids5 = spool(["slow kill"])
qid5 = ids5[0]
t.ok(qid5 and SINK.slow_seen.wait(15), "the server holds back its reply to "
     "the data of %s" % qid5)
held = SINK.slowed.get("slow kill")
pids = children(runner.pid)
victim = owner_of(held, pids) if held else None
t.ok(victim in pids, "the worker on that connection is a child of the runner "
     "(%s of %s)" % (victim, sorted(pids)))
if victim:
    os.kill(victim, signal.SIGKILL)
killed = "\npostmaster-queue: warning: %s: worker killed by signal 9\n" % qid5
t.ok(wait_for(lambda: killed in qlog(), 5), "logged: " + killed.strip(),
     qlog()[-2000:])
t.ok(wait_for(lambda: delivered([qid5]), 15), "the message is delivered later",
     qlog()[-2000:])
copies = sorted((m["at"], m["conn"]) for m in SINK.messages()
                if m["qid"] == qid5)
t.is_([n == held.n for (_, n) in copies] if held else None, [True, False],
      "two copies at the server: the killed one's (SMTP's duplicate window), "
      "then one on another connection")
# The server's thread wakes up after SLOW_SECS to a connection nobody holds.
wait_for(lambda: held and held.closed, SLOW_SECS + 2)
t.ok(held and held.closed and (held.end or "").startswith(("eof", "error")),
     "the killed worker's connection ended without QUIT (%s)"
     % (held.end if held else None))
st5 = sent_lines({qid5}).get(qid5, [])
t.is_([a for (_, a, _, _) in st5], [1],
      "one sent line, attempt 1 (the killed attempt left no trace on disk)")
t.is_(conn_use_errors([qid5]), [], "its conn_use= matches the server's count")
t.is_(qlog().count(killed), 1, "logged once")
t.ok(runner.poll() is None and not alive(victim or 0),
     "the runner keeps running, the worker is gone")
t.is_(inst.queue(), [], "the queue is empty")

# ------------------------------------ SIGHUP: idle workers leave, with QUIT

ids6 = spool(["hup before"])
t.ok(wait_for(lambda: delivered(ids6), 15), "a message before SIGHUP delivered")
open_conns = [c for c in SINK.conns if c.closed is None]
old = children(runner.pid)
t.ok(open_conns and old, "cached connections (%d) and workers (%d) exist"
     % (len(open_conns), len(old)))
hup_at = time.monotonic()
runner.send_signal(signal.SIGHUP)
t.ok(wait_for(lambda: "SIGHUP: reopened %s" % inst.cdb in qlog(), 5),
     "SIGHUP: the runner logs the reopen", qlog()[-1000:])
t.ok(wait_for(lambda: not any(alive(p) for p in old), 2.0 -
              (time.monotonic() - hup_at)),
     "the old workers are gone within 2 s", [p for p in old if alive(p)])
t.ok(wait_for(lambda: all(c.closed for c in open_conns), 1),
     "their connections are closed")
t.is_([c.end for c in open_conns], ["QUIT"] * len(open_conns), "with QUIT")
n_before = len(SINK.conns)
ids6b = spool(["hup after"])
t.ok(wait_for(lambda: delivered(ids6b), 15), "a message after SIGHUP delivered",
     qlog()[-1000:])
t.is_(received(ids6b), {ids6b[0]: 1}, "once")
t.ok(conns_of(ids6b) and conns_of(ids6b)[0] > n_before,
     "on a new connection")
t.is_(conn_use_errors(ids6b), [], "without conn_use= (the connection's first)")
new = children(runner.pid)
t.ok(new and not (new & old), "by a new worker (%s, old %s)" % (sorted(new),
                                                             sorted(old)))
t.ok(runner.poll() is None, "the runner keeps running")

# ------------------------------------------ an idle worker exits after 10 s

six = conn(conns_of(ids6b)[0]) if conns_of(ids6b) else None
t.ok(wait_for(lambda: not any(alive(p) for p in new), 13),
     "the idle worker exits", sorted(new))
gone = time.monotonic() - six.last if six else None
t.ok(gone and 8.8 <= gone <= 12.5,
     "about 10 s after its last message (%.1f s)" % (gone or 0))
t.ok(six and six.end == "QUIT" and 0 < six.closed - six.last < gone - 3,
     "its connection had QUIT when idle 5 s, before the worker left (%.1f s)"
     % (six.closed - six.last if six and six.closed else -1))
t.is_(children(runner.pid), set(), "no worker left")
t.ok(runner.poll() is None, "the runner keeps running")
ids7 = spool(["after idle"])
t.ok(wait_for(lambda: delivered(ids7), 15), "a new worker delivers the next "
     "message", qlog()[-1000:])
t.is_(received(ids7), {ids7[0]: 1}, "once")

# ---------------- a server that never answers QUIT: the next message waits 2 s
#
# The one worker's connection expires while it looks idle to the runner;
# the worker is then busy for as long as it waits for the 221 to its QUIT
# (up to QUIT_WAIT), and the runner hands it the next message, which must
# wait too: well under 4 s, where the 60 s of an ordinary QUIT would be
# far over.

SINK.mute_quit = True
ids8 = spool(["mute quit 1"])
t.ok(ids8[0] and wait_for(lambda: delivered(ids8), 15),
     "a message delivered to a server that will not answer QUIT",
     qlog()[-1000:])
mute = conn(conns_of(ids8)[0]) if conns_of(ids8) else Conn(0, 0)
only = children(runner.pid)
w8 = owner_of(mute, only)
t.ok(w8 and only == {w8}, "one worker, the one holding its connection "
     "(%s of %s), so the next message goes to it" % (w8, sorted(only)))
t.ok(wait_for(lambda: mute.quit, IDLE_QUIT + 4),
     "the connection gets QUIT when idle (%s s)"
     % secs(mute.last, mute.quit))
ids8b = spool(["mute quit 2"])
spooled = time.monotonic()
t.ok(ids8b[0] and mute.quit and mute.closed is None,
     "the next message is spooled while the worker waits for the 221 "
     "(%s s after QUIT)" % secs(mute.quit, spooled))
wait_for(lambda: arrival(ids8b[0]), 4.5)
late = secs(spooled, arrival(ids8b[0]))
t.ok(late is not None and late <= 4.0,
     "it reaches the server within 4 s of being spooled (%s s)" % late)
c8b = conns_of(ids8b)
t.ok(c8b and c8b[0] > mute.n and conn(c8b[0]).closed is None and
     owner_of(conn(c8b[0]), only) == w8,
     "on a new connection, by the same worker", (c8b, w8, sorted(only)))
wait_for(lambda: mute.closed, QUIT_WAIT + 1)
hung = secs(mute.quit, mute.closed)
t.ok(mute.end == "QUIT unanswered" and hung is not None and
     QUIT_WAIT - 0.2 <= hung <= QUIT_WAIT + 1.0,
     "the worker hung up %s s after its unanswered QUIT" % hung,
     (mute.end, mute.verbs()[-3:]))
t.ok(wait_for(lambda: delivered(ids8b), 10), "and it is delivered",
     qlog()[-1000:])
t.is_(received(ids8b), {ids8b[0]: 1}, "once")
t.is_(re.findall(r"(?m)^postmaster-queue\[%s\]: info: %s to=.* (status=\w+)"
                 % (ids8b[0], ids8b[0]), qlog()), ["status=sent"],
      "its log line says status=sent")
t.is_(conn_use_errors(ids8b), [], "without conn_use= (the connection's first)")
t.is_(len(re.findall(r"status=deferred", qlog())), 0, "nothing deferred")
SINK.mute_quit = False

# --------------------------------------------------------------- the end

allids = (ids + ids3 + ids3b + ids5 + ids6 + ids6b + ids7 + ids8 +
          ids8b)
t.is_(len(re.findall(r"status=sent", qlog())), len(allids),
      "%d status=sent lines in all, one per message" % len(allids))
t.is_(len(re.findall(r"status=(deferred|bounced)", qlog())), 0,
      "no deferral or bounce in all")
t.is_(inst.queue(), [], "the queue is empty")
t.is_(end_process(runner, 25), 0, "SIGTERM: the runner exits 0")
t.like(qlog(), "SIGTERM: stopping, 0 deliveries in flight", "and says so")
t.ok(wait_for(lambda: all(c.closed for c in SINK.conns), 3),
     "every connection to the server is closed")
t.is_(sanitizer_reports(), [], "no sanitizer reports")


def end_runner(p):
    t.is_(end_process(p, 25), 0, "SIGTERM: the runner exits 0")
    t.is_(sanitizer_reports(), [], "no sanitizer reports")


# ------- the default configuration: each destination keeps its worker
#
# No max-per-destination line: the runner still reads each message's
# destination, and hands it to the idle worker whose last message went
# there. Two servers, 2 workers, 8 pairs (a.test and b.test in a random
# order), each pair spooled while the runner is stopped so that both are
# due in one pass, and delivered before the next one comes (the runner's
# STATUS says 0 in delivery: both workers are idle again).

class Status:
    """The runner's sd_notify STATUS= lines, as they come."""

    def __init__(self):
        self.path = os.path.join(inst.dir, "notify.sock")
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.path)
        os.chmod(self.path, 0o777)
        self.s.setblocking(False)
        self.lines = []

    def get(self):
        while True:
            try:
                d = self.s.recv(4096).decode()
            except BlockingIOError:
                return self.lines
            self.lines += [l for l in d.split("\n") if l.startswith("STATUS=")]

    def idle_since(self, n):
        """A STATUS after the first n says nothing is in delivery."""
        st = self.get()
        return len(st) > n and st[-1].endswith(" 0 in delivery")


SINK_A, SINK_B = new_sink(), new_sink()
status = Status()
configure("queue-concurrency = 2", "@a.test a\n@b.test b",
          relay("a", SINK_A.port) + relay("b", SINK_B.port))
runner = start_runner({"NOTIFY_SOCKET": status.path})
rng = random.Random(4)
pairs = [rng.sample("ab", 2) for _ in range(8)]
t.ok({"ab", "ba"} == {"".join(p) for p in pairs},
     "the pairs come in both orders (%s)" % " ".join("".join(p) for p in pairs))
ids_ab = {"a": [], "b": []}
for k, pair in enumerate(pairs):
    seen = len(status.get())
    runner.send_signal(signal.SIGSTOP)
    ids = spool(["pair %d %s" % (k, d) for d in pair],
                ["r@%s.test" % d for d in pair])
    runner.send_signal(signal.SIGCONT)
    for d, i in zip(pair, ids):
        ids_ab[d].append(i)
    if not wait_for(lambda: removed(ids) and status.idle_since(seen), 10):
        break
t.ok(k == 7 and removed(ids_ab["a"] + ids_ab["b"]) and
     status.idle_since(seen), "8 pairs delivered, one after the other",
     qlog()[-2000:])
t.is_([[len(c.msgs) for c in sk.conns] for sk in (SINK_A, SINK_B)],
      [[8], [8]], "each server: one connection, carrying its 8 messages")
t.is_([sorted(m["qid"] for m in sk.messages()) for sk in (SINK_A, SINK_B)],
      [sorted(ids_ab["a"]), sorted(ids_ab["b"])],
      "the a.test messages at a, the b.test ones at b")
end_runner(runner)

# ----- a message that needs root retires one worker that gave it up, not all
#
# Three workers deliver to a server that never answers QUIT (it holds
# its replies to the data until all three are there): they give up root.
# Then a message for a program run as daemon: one of the idle workers is
# retired to make room for one with root -- its QUIT waits 2 s for the
# reply -- and not, pass after pass, the other two as well.

SINK_C = new_sink()
OUT = os.path.join(inst.dir, "out")
os.mkdir(OUT)
os.chmod(OUT, 0o777)
ASUSER = os.path.join(inst.dir, "asuser")
with open(ASUSER, "w") as f:
    f.write("#!/bin/sh\nid -un >>%s/asuser\ncat >/dev/null\n" % OUT)
os.chmod(ASUSER, 0o755)
configure("queue-concurrency = 3",
          "@example.test sink\nasuser@other.test asuser",
          relay("sink", SINK_C.port) +
          '[pipe "asuser"]\nexec = "%s"\nuser = daemon\n' % ASUSER)
runner = start_runner()
SINK_C.mute_quit = True
SINK_C.slow.update("cascade %d" % i for i in range(3))
idsc = spool(["cascade %d" % i for i in range(3)])
t.ok(wait_for(lambda: len(SINK_C.slowed) == 3, 10),
     "three messages at the server at once, on %d connections"
     % len(SINK_C.conns))
SINK_C.release.set()
t.ok(wait_for(lambda: removed(idsc), 10), "and delivered", qlog()[-2000:])
w3 = children(runner.pid)
nobody = pwd.getpwnam("nobody").pw_uid


def uids(pid):
    with open("/proc/%d/status" % pid) as f:
        return [int(u) for u in re.search(r"(?m)^Uid:\s+(.*)$",
                                          f.read()).group(1).split()]


t.is_([uids(p) for p in sorted(w3)], [[nobody] * 4] * 3,
      "by three workers that gave up root for good")
spooled = time.monotonic()
idsu = spool(["as daemon"], ["asuser@other.test"])
wait_for(lambda: removed(idsu), 6)
took = secs(spooled, time.monotonic())
quits = [c.n for c in SINK_C.conns if c.quit]
t.ok(removed(idsu) and took <= 4.0,
     "a message for a program run as daemon is delivered within 4 s (%s s)"
     % took, qlog()[-2000:])
t.is_(len(quits), 1, "one connection got QUIT meanwhile: one worker retired")
with open(os.path.join(OUT, "asuser")) as f:
    t.is_(f.read(), "daemon\n", "the program ran once, as daemon")
SINK_C.mute_quit = False
end_runner(runner)
t.done()
