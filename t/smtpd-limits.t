#!/usr/bin/env python3
"""postmaster-smtpd limits and logs: error limit, idle timeout, session
deadline, talking before the greeting, swaks in LMTP mode, the configured
log file, and a crash test: SIGKILL smtpd processes at random instants
under parallel load; every message that got 250 is in the queue, intact,
exactly once, and no partial file is ever in queue/."""
import os
import random
import re
import select
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import Tap, Instance, Client, PM_BIN  # noqa: E402
from pmtest import skip_unless_root  # noqa: E402

skip_unless_root("the spool is owned by nobody, smtpd switches to it")
t = Tap()
inst = Instance(name="mx.test")
subprocess.run([os.path.join(PM_BIN, "postmaster-cfcompile"), "-c", inst.cf, "-o", inst.cdb,
                "--smtpd=limits.test", "--smtpd-limits.test-routing-table=ext",
                "--smtpd-limits.test-max-errors=3", "--smtpd-limits.test-idle-timeout=1",
                "--smtpd=deadline.test", "--smtpd-deadline.test-routing-table=ext",
                "--smtpd-deadline.test-session-timeout=2",
                "--smtpd=huge.test", "--smtpd-huge.test-routing-table=ext",
                "--smtpd-huge.test-idle-timeout=18446744073709552",
                "--logfile=daily", "--logfile-daily-file=%s/pm-%%Y-%%m-%%d.log" % inst.dir,
                "--smtpd-mx.test-logger=daily"], check=True)
os.chmod(inst.dir, 0o777)  # the log directory, written as nobody

port = inst.tcpserver("limits.test")
c = Client(port)
c.reply()
c.cmd("EHLO e.test")
t.is_(c.cmd("BOGUS"), "500 5.5.1 Error: command not recognized", "unknown command: 500 5.5.1")
t.is_(c.cmd("MAIL FROM:<bad"), "501 5.1.7 Error: bad sender address syntax", "second error")
t.is_(c.cmd("RCPT TO:<x@example.test>"), "503 5.5.1 Error: need MAIL command", "third error")
t.is_(c.reply(), "421 4.7.0 limits.test Error: too many errors", "then 421 4.7.0")
t.ok(c.closed(), "and the connection is closed")

# No upper bound on the clock (a loaded machine is slow): the defaults
# (idle 5 min, session 30 min) would outlast the 60 s these waits allow,
# so the 421 itself shows the configured limit ended the session. The
# lower bounds count from before the connection, so they are safe; the
# session deadline counts whole seconds, hence "more than 1 s" for 2 s.
def reply_within(c, secs):
    c.s.settimeout(secs)
    try:
        return c.reply()
    except OSError as e:
        return "<%s>" % e


t0 = time.monotonic()
c = Client(port)
c.reply()
t.is_(reply_within(c, 60), "421 4.4.2 limits.test Error: timeout exceeded",
      "idle timeout: 421 4.4.2")
el = time.monotonic() - t0
t.ok(c.closed() and el >= 1, "closed, not before the idle timeout of 1 s (%.1f s)" % el)

port2 = inst.tcpserver("deadline.test")
t0 = time.monotonic()
c = Client(port2)
c.reply()
got = ""
while time.monotonic() - t0 < 60:
    c.send("NOOP\r\n")
    got = reply_within(c, 60)
    if got != "250 2.0.0 Ok":
        break
    time.sleep(0.3)  # pacing: the session stays busy, never idle
el = time.monotonic() - t0
t.is_(got, "421 4.4.2 deadline.test Error: timeout exceeded",
      "a busy session still ends at the session deadline")
t.ok(el > 1, "not before the 2 s session deadline (%.1f s)" % el)

# A huge configured timeout is a long one: its milliseconds saturate
# (18446744073709552 s * 1000 wrapped to 384 ms, and the session ended
# with a 421 at once). Nothing may come for 2 s; then the session works.
port3 = inst.tcpserver("huge.test")
c = Client(port3)
c.reply()
t.is_(reply_within(c, 2), "<timed out>",
      "smtpd, idle-timeout 18446744073709552 s: no 421 within 2 s")
t.is_(c.cmd("NOOP"), "250 2.0.0 Ok", "... and the session goes on")
huge = Instance(name="mx.test", extra='[lmtpd]\nmaildir = "/nonexistent/%u"\n'
                'idle-timeout = 18446744073709552\n'
                'session-timeout = 18446744073709552\n')
lm = subprocess.Popen([os.path.join(PM_BIN, "postmaster-lmtpd"), "-C", huge.cdb],
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                      stderr=subprocess.DEVNULL)
huge.procs.append(lm)
t.is_(lm.stdout.readline(), b"220 mx.test LMTP Postmaster\r\n", "lmtpd: greeting")
t.is_(select.select([lm.stdout], [], [], 2)[0], [],
      "lmtpd, idle and session timeouts 18446744073709552 s: nothing within 2 s")
lm.stdin.write(b"NOOP\r\n")
lm.stdin.flush()
t.is_(lm.stdout.readline(), b"250 2.0.0 Ok\r\n", "... and the session goes on")
lm.stdin.close()

p = subprocess.run(inst.argv(), input=b"EHLO fast.test\r\nMAIL FROM:<a@b.test>\r\n",
                   capture_output=True, timeout=10)
t.is_(p.stdout.decode(), "220 mx.test ESMTP Postmaster\r\n"
      "554 5.5.0 Error: SMTP protocol synchronization\r\n",
      "a client that talks before the greeting is refused")
t.is_(len(inst.queue()), 0, "and nothing is queued")

r = subprocess.run(["swaks", "--pipe", " ".join(inst.argv()), "--protocol", "LMTP",
                    "--to", "l1@example.test,l2@example.test", "--from", "s@b.test"],
                   capture_output=True, text=True, timeout=60)
t.is_(r.returncode, 0, "swaks LMTP: delivered")
t.is_(len(re.findall(r"<-  250 2\.0\.0 Ok: queued as", r.stdout)), 2,
      "swaks LMTP: one reply per recipient after the data")

logs = [f for f in os.listdir(inst.dir) if f.startswith("pm-")]
t.is_(logs, [time.strftime("pm-%Y-%m-%d.log")], "the [logfile] name is strftime-expanded")
text = open(os.path.join(inst.dir, logs[0])).read() if logs else ""
t.ok(re.search(r"postmaster-smtpd\[\d+\]: info: [0-9A-F]{30}: queued from=<s@b\.test> size=\d+ "
               r"nrcpt=2 body=7BIT proto=LMTP client=\S+ helo=<\S+>", text), "log: the transaction line")
t.ok(re.search(r"disconnect from \S+ lhlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6 errors=0 messages=1",
               text), "log: disconnect with command counts", text[-500:])
t.ok(re.search(r"reject: client=\S+ helo=<[^>]*> from=<>: 554 5\.5\.0", text) or
     "spoke before the greeting" in text, "log: the refusal is logged")

# --- crash test ---------------------------------------------------------------
crash = Instance(name="mx.test")
port = crash.tcpserver()
acked = {}
lock = threading.Lock()
kills = [0]
started = time.monotonic()


def running():
    """12 s of load, longer until there were enough kills and
    acknowledged messages to judge (a loaded machine is slow), at most
    120 s."""
    el = time.monotonic() - started
    return el < 120 and (el < 12 or kills[0] < 200 or len(acked) < 50)


def sender(n):
    k = 0
    while running():
        k += 1
        token = "tok-%d-%d" % (n, k)
        try:
            c = Client(port)
            if not c.reply().startswith("220"):
                continue
            c.cmd("EHLO load.test")
            c.cmd("MAIL FROM:<a@b.test>")
            c.cmd("RCPT TO:<x@example.test>")
            if not c.cmd("DATA").startswith("354"):
                continue
            for part in range(4):  # in pieces: a kill can land mid-message
                c.send("Subject: %s\r\n\r\n" % token if part == 0 else "")
                c.send(("%s line\r\n" % token) * 50)
                time.sleep(0.002)
            c.send("END %s\r\n.\r\n" % token)
            r = c.reply()
            if r.startswith("250 2.0.0 Ok: queued as "):
                with lock:
                    acked[token] = r.split()[-1]
            c.close()
        except OSError:
            pass


def smtpd_pids():
    # tcpserver's children are the smtpd processes; one file read, fast
    # enough to land kills inside sessions that last milliseconds
    try:
        with open("/proc/%d/task/%d/children" % (crash.procs[0].pid, crash.procs[0].pid)) as f:
            return f.read().split()
    except OSError:
        return []


def killer():
    while running():
        time.sleep(random.uniform(0.001, 0.01))
        pids = smtpd_pids()
        if pids:
            try:
                os.kill(int(random.choice(pids)), signal.SIGKILL)
                kills[0] += 1
            except ProcessLookupError:
                pass


partial = [0]


def watcher():
    # what the runner would see: every file in queue/ is complete
    q = os.path.join(crash.spool, "queue")
    while running():
        for f in os.listdir(q) if os.path.isdir(q) else []:
            try:
                data = open(os.path.join(q, f), "rb").read()
            except FileNotFoundError:
                continue
            if not re.search(rb"END tok-\d+-\d+\r\n$", data):
                partial[0] += 1
        time.sleep(0.05)


threads = [threading.Thread(target=sender, args=(i,)) for i in range(12)]
threads += [threading.Thread(target=killer), threading.Thread(target=watcher)]
for th in threads:
    th.start()
for th in threads:
    th.join()
t.ok(kills[0] >= 200, "crash test: %d smtpd processes killed (want hundreds)" % kills[0])
t.ok(len(acked) >= 50, "crash test: %d messages acknowledged" % len(acked))
tokens = {}
for f in crash.queue():
    data = crash.read(f)
    m = re.search(rb"END (tok-\d+-\d+)\r\n$", data)
    if m:
        tokens.setdefault(m.group(1).decode(), []).append(f)
missing = [k for k, q in acked.items() if tokens.get(k) != [q]]
t.is_(missing, [], "every acknowledged message is in the queue under its id, exactly once")
t.is_([k for k, v in tokens.items() if len(v) > 1], [], "no message is queued twice")
t.is_(partial[0], 0, "no partial file was ever visible in queue/")
intact = all(crash.read(q).count(("%s line\r\n" % k).encode()) == 200 for k, q in acked.items())
t.ok(intact, "every acknowledged message is intact")
crash.close()
inst.close()
t.done()
