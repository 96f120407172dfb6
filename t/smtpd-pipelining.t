#!/usr/bin/env python3
"""[smtpd] pipelining = full|ultra against a scripted backend
(t/py/pmbackend.py): postmaster-smtpd proxies a transaction to its
[relay] (SMTP or LMTP) and hands back the target's own replies; every
failure point of the target (refusal at each command, a drop before,
while and after the data, a stall past proxy-timeout, 421 half-way)
ends either in the target's reply with nothing queued, or in 250 with
the message committed to the queue -- never a 250 for a message that is
neither at the target nor in the queue. smtpd runs on a socketpair, its
log in a file."""
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import PM_BIN, Instance, Tap, require, wait_for, watchdog  # noqa: E402
from pmbackend import Backend, Session  # noqa: E402

require(root_why="smtpd drops privileges to nobody")
watchdog(280)
t = Tap()

BACKENDS = []


def backend(**kw):
    b = Backend(**kw)
    BACKENDS.append(b)
    return b


def instance(relays, mode="full", timeout="2s", routes=""):
    """An instance px.test with the given pipelining; relays: {name: (backend, protocol)}."""
    extra = ""
    for name, (b, proto) in relays.items():
        extra += '\n[relay "%s"]\naddress = %s\nprotocol = %s\n' % (
            name, b.addr if b else "127.0.0.1:1", proto)
    extra += ('\n[smtpd "px.test"]\nrouting-table = ext\npipelining = %s\n'
              'proxy-timeout = %s\n' % (mode, timeout))
    r = "".join("@%s.test %s\n" % (n, n) for n in relays) + routes
    return Instance(extra=extra, routes=r)


# as the client sends it: dot-stuffed
BODY = "Subject: proxied\r\n\r\nline one\r\n..starts with a dot\r\nlast"
QID = r"[0-9A-F]{30}"


def queued(reply):
    m = re.match(r"250 2\.0\.0 Ok: queued as (%s)$" % QID, reply)
    return m.group(1) if m else None


# ------------------------------------------------ spool mode is unchanged
b = backend()
inst = instance({"relay": (b, "smtp")}, mode="spool")
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test"], BODY)
log = s.end()
t.ok(queued(r[-1]) and len(inst.queue()) == 1 and b.sessions == [],
     "pipelining = spool: queued as before, the relay never contacted", (r, b.commands))

# ------------------------------------------------ full: delivered
b = backend(script={"rcpt:nobody@relay.test": "550 5.1.1 <nobody@relay.test>: no such user here",
                    "rcpt:plain@relay.test": "250 fine by me"})
inst = instance({"relay": (b, "smtp")})
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test", "nobody@relay.test", "plain@relay.test"], BODY)
log = s.end()
t.is_(r[1], "250 2.1.5 Ok", "full: the target's 250 for RCPT")
t.is_(r[2], "550 5.1.1 <nobody@relay.test>: no such user here",
      "full: an unknown user is refused at RCPT with the target's own reply")
t.is_(r[3], "250 2.1.5 fine by me", "full: our enhanced code where the target gave none")
t.is_(r[-1], "250 2.0.0 Ok: delivered as B1", "full: end of data answered with the target's reply")
t.is_(inst.queue(), [], "full: nothing left in the queue")
tx = b.transactions()
data = tx[0]["data"].decode() if tx and tx[0]["data"] else ""
t.ok(len(tx) == 1 and tx[0]["ok"] == ["a@relay.test", "plain@relay.test"]
     and data.startswith("Received: from client.test ([local])\r\n\tby px.test (Postmaster) with ESMTP id ")
     and data.endswith("\r\nSubject: proxied\r\n\r\nline one\r\n..starts with a dot\r\nlast\r\n"),
     "full: the target got our Received: and the message, dot-stuffed, with its last line ended",
     tx)
t.ok(b.commands[:2] == ["EHLO px.test", "MAIL FROM:<s@x.test>"] and b.commands[-1] == "QUIT",
     "full: EHLO and MAIL replayed, QUIT at the end", b.commands)
t.ok(re.search(r"%s: proxied from=<s@x\.test> size=\d+ nrcpt=2 relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d "
               r"status=delivered \(250 2\.0\.0 Ok: delivered as B1\)" % (QID, b.port), log),
     "full: one log line for the proxied transaction", log)

# ------------------------------------------------ refusals at each command
for step, script, want_at in (
        ("MAIL", {"mail": "553 5.7.1 <s@x.test>: sender refused"}, 1),
        ("DATA", {"data": "554 5.3.0 no data today"}, -1),
        ("end of data", {"dot": "552 5.2.2 mailbox full"}, -1),
        ("end of data (4xx)", {"dot": "451 4.3.0 try again later"}, -1)):
    b = backend(script=script)
    inst = instance({"relay": (b, "smtp")})
    s = Session(inst)
    r = s.mail("s@x.test", ["a@relay.test"], BODY)
    log = s.end()
    want = list(script.values())[0]
    t.is_(r[want_at], want, "refused at %s: the client gets the target's reply" % step)
    t.is_(inst.queue(), [], "refused at %s: nothing queued" % step)
t.ok("status=refused (451 4.3.0 try again later)" in log, "refusal logged", log)

# ------------------------------------------------ the target lost: 250 from the queue
for step, script in (
        ("the greeting (421)", {"greeting": "421 4.3.2 busy"}),
        ("EHLO (drop)", {"ehlo": "DROP"}),
        ("MAIL (drop)", {"mail": "DROP"}),
        ("RCPT (421)", {"rcpt": "421 4.4.2 closing"}),
        ("DATA (drop)", {"data": "DROP"}),
        ("the body (drop)", {"body": "DROP"}),
        ("the body (stall)", {"body": "STALL"}),
        ("end of data (drop)", {"dot": "DROP"}),
        ("end of data (stall past the timeout)", {"dot": "STALL"}),
        ("end of data (421)", {"dot": "421 4.3.0 shutting down"}),
        ("EHLO (550)", {"ehlo": "550 5.5.1 no ESMTP here"}),
        ("the greeting (554)", {"greeting": "554 5.3.2 not now"})):
    b = backend(script=script)
    inst = instance({"relay": (b, "smtp")}, timeout="1s")
    s = Session(inst)
    r = s.mail("s@x.test", ["a@relay.test"], BODY)
    log = s.end()
    qid = queued(r[-1])
    q = inst.queue()
    t.ok(r[1] == "250 2.1.5 Ok" and qid and q == [qid],
         "lost at %s: 250, and the message is in the queue" % step, (r, q, log))
    env = inst.read(q[0]).decode("utf-8", "replace") if q else ""
    t.ok("rcpt a@relay.test" in env and "\nproxied " not in env,
         "lost at %s: its delivery is pending for the queue" % step, env[:400])
    t.ok(re.search(r"(status=queued queued_as=%s|%s: not proxied: target lost)" % (qid, qid), log),
         "lost at %s: logged with the queue id" % step, log)

# a connect that fails
inst = instance({"relay": (None, "smtp")})
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test"], BODY)
log = s.end()
t.ok(queued(r[-1]) and len(inst.queue()) == 1 and "not proxied: target lost at connect" in log,
     "no target listening: queued", (r, log))

# ------------------------------------------------ a recipient routed elsewhere
b = backend()
inst = instance({"relay": (b, "smtp")})
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test", "joe@example.test"], BODY)
log = s.end()
q = inst.queue()
env = inst.read(q[0]).decode() if q else ""
t.ok(r[1] == "250 2.1.5 Ok" and r[2] == "250 2.1.5 Ok" and queued(r[-1]) and len(q) == 1,
     "a second target: both accepted, the transaction queued", r)
t.ok("rcpt a@relay.test" in env and "rcpt joe@example.test" in env and "\nproxied " not in env,
     "a second target: both recipients pending in the queue", env[:500])
t.ok(b.commands[-1] == "QUIT" and "DATA" not in b.commands and b.delivered == 0,
     "a second target (full): the target's transaction ended by QUIT, no data sent", b.commands)
t.ok("not proxied: recipients for two targets" in log, "a second target: logged", log)

b = backend()
inst = instance({"relay": (b, "smtp")}, mode="ultra")
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test", "joe@example.test"], BODY)
r2 = s.mail("s@x.test", ["c@relay.test"], BODY, ehlo=None)
log = s.end()
t.ok(queued(r[-1]) and b.commands[:5] == ["EHLO px.test", "MAIL FROM:<s@x.test>",
                                          "RCPT TO:<a@relay.test>", "RSET", "MAIL FROM:<s@x.test>"]
     and r2[-1] == "250 2.0.0 Ok: delivered as B2" and len(b.sessions) == 1,
     "a second target (ultra): RSET, and the connection serves the next transaction", (r, r2, b.commands))

# ------------------------------------------------ BDAT from the client, DATA to the target
b = backend(ext=("PIPELINING", "ENHANCEDSTATUSCODES"))
inst = instance({"relay": (b, "smtp")})
s = Session(inst)
s.cmd("EHLO client.test")
s.cmd("MAIL FROM:<s@x.test>")
s.cmd("RCPT TO:<a@relay.test>")
chunk = "Subject: chunks\r\n\r\n.dot\r\n"
s.c.send("BDAT %d\r\n%s" % (len(chunk), chunk))
r1 = s.c.reply()
s.c.send("BDAT 5 LAST\r\nend\r\n")
r2 = s.c.reply()
log = s.end()
tx = b.transactions()
data = tx[0]["data"].decode() if tx and tx[0]["data"] else ""
t.ok(r1.startswith("250 ") and r2 == "250 2.0.0 Ok: delivered as B1" and "DATA" in b.commands
     and data.endswith("Subject: chunks\r\n\r\n..dot\r\nend\r\n"),
     "BDAT to a target without CHUNKING: DATA with dot-stuffing", (r1, r2, b.commands, data))

# ------------------------------------------------ what the target lacks
b = backend(ext=("PIPELINING", "ENHANCEDSTATUSCODES"))
inst = instance({"relay": (b, "smtp")})
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test"], "Subject: 8\r\n\r\ncaf\xe9", mailargs=" BODY=8BITMIME")
log = s.end()
t.ok(queued(r[-1]) and len(inst.queue()) == 1 and "not proxied: the target lacks 8BITMIME" in log
     and b.delivered == 0, "BODY=8BITMIME to a target without 8BITMIME: spooled", (r, log))

# undeclared 8-bit: the RFC 1428 upgrade is the queue's job
b = backend()
inst = instance({"relay": (b, "smtp")})
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test"], "Subject: 8\r\n\r\ncaf\xe9")
log = s.end()
t.ok(queued(r[-1]) and b.delivered == 0 and "RSET" not in b.commands[:1]
     and "not proxied: the message needs the RFC 1428 upgrade" in log,
     "undeclared 8-bit text: spooled (upgraded), nothing sent", (r, log, b.commands))

# a message refused by smtpd itself (bare LF) never reaches the target
b = backend()
inst = instance({"relay": (b, "smtp")})
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test"], "Subject: x\r\n\r\nbare\nlf")
log = s.end()
t.ok(r[-1].startswith("550 5.5.2") and b.delivered == 0 and "DATA" not in b.commands
     and inst.queue() == [], "bare LF: refused by smtpd, the target never sees DATA", (r, b.commands))

# ------------------------------------------------ LMTP targets: one reply per recipient
SCRIPT = {"dot:full@lmtp.test": "452 4.2.2 <full@lmtp.test> over quota",
          "dot:gone@lmtp.test": "550 5.1.1 <gone@lmtp.test> gone"}
b = backend(lmtp=True, script=SCRIPT)
inst = instance({"lmtp": (b, "lmtp")})
s = Session(inst)
r = s.mail("s@lmtp.test", ["ok@lmtp.test", "full@lmtp.test", "gone@lmtp.test"], BODY)
log = s.end()
qid = queued(r[-1])
q = inst.queue()
env = inst.read(q[0]).decode() if q else ""
t.ok(b.commands[0] == "LHLO px.test" and qid and q == [qid],
     "LMTP target, mixed outcomes, SMTP client: 250 and the copy committed", (r, b.commands, q))
t.ok(re.search(r"rcpt ok@lmtp\.test\n.*\n.*\nproxied 250 2\.0\.0 <ok@lmtp\.test> delivered", env)
     and re.search(r"rcpt full@lmtp\.test\ndeliver full@lmtp\.test\ntarget relay:lmtp\n", env)
     and re.search(r"rcpt gone@lmtp\.test\ndeliver gone@lmtp\.test\n"
                   r"target error:550 5\.1\.1 <gone@lmtp\.test> gone\n", env),
     "LMTP target: delivered one sent, 4xx one pending, 5xx one to bounce with the target's reply",
     env)

# the queue takes the committed copy from there: the 5xx one bounces with
# the target's reply, the 4xx one is tried again, the sent one is not
b.commands.clear()
qlog = os.path.join(inst.dir, "queue.log")
with open(qlog, "w") as f:
    rc = subprocess.run([os.path.join(PM_BIN, "postmaster-queue"), "-C", inst.cdb, "--once"],
                        stderr=f, timeout=120).returncode
with open(qlog) as f:
    ql = f.read()
t.ok(rc == 0 and re.search(r"to=<gone@lmtp\.test> .*status=bounced \(550 5\.1\.1 <gone@lmtp\.test> gone\)", ql)
     and re.search(r"to=<full@lmtp\.test> .*status=deferred \(452 4\.2\.2 <full@lmtp\.test> over quota\)", ql)
     and "to=<ok@lmtp.test>" not in ql
     and "RCPT TO:<full@lmtp.test>" in b.commands and "RCPT TO:<ok@lmtp.test>" not in b.commands,
     "the queue: the refused recipient bounced with the target's reply, the deferred one retried, "
     "the delivered one left alone", (ql, b.commands))

b = backend(lmtp=True, script=SCRIPT)
inst = instance({"lmtp": (b, "lmtp")})
s = Session(inst)
r = s.mail("s@x.test", ["ok@lmtp.test", "full@lmtp.test", "gone@lmtp.test"], BODY,
           ehlo="LHLO client.test")
extra = [s.c.reply(), s.c.reply()]
log = s.end()
t.is_([r[-1]] + extra, ["250 2.0.0 <ok@lmtp.test> delivered",
                        "452 4.2.2 <full@lmtp.test> over quota",
                        "550 5.1.1 <gone@lmtp.test> gone"],
      "LMTP client, LMTP target: each recipient gets the target's reply")
t.is_(inst.queue(), [], "LMTP client: nothing queued")

b = backend(lmtp=True, script={"dot:full@lmtp.test": "452 4.2.2 <full@lmtp.test> over quota"})
inst = instance({"lmtp": (b, "lmtp")})
s = Session(inst)
r = s.mail("s@x.test", ["full@lmtp.test"], BODY)
log = s.end()
t.ok(r[-1] == "452 4.2.2 <full@lmtp.test> over quota" and inst.queue() == [],
     "LMTP target, every recipient refused alike: the client gets the reply, nothing queued", r)

# an LMTP target lost after its first reply: the rest go to the queue
b = backend(lmtp=True, script={"dot:b@lmtp.test": "DROP"})
inst = instance({"lmtp": (b, "lmtp")})
s = Session(inst)
r = s.mail("s@x.test", ["a@lmtp.test", "b@lmtp.test"], BODY)
log = s.end()
q = inst.queue()
env = inst.read(q[0]).decode() if q else ""
t.ok(queued(r[-1]) and len(q) == 1
     and re.search(r"rcpt a@lmtp\.test\n.*\n.*\nproxied 250 2\.0\.0 <a@lmtp\.test> delivered", env)
     and re.search(r"rcpt b@lmtp\.test\ndeliver b@lmtp\.test\ntarget relay:lmtp\n(?!proxied)", env),
     "LMTP target lost half-way: 250, the answered recipient sent, the other pending", (r, env[:600]))

# an LMTP client, an SMTP target: its one reply for each recipient
b = backend()
inst = instance({"relay": (b, "smtp")})
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test", "b@relay.test"], BODY, ehlo="LHLO client.test")
r.append(s.c.reply())
s.end()
t.is_(r[-2:], ["250 2.0.0 Ok: delivered as B1"] * 2,
      "LMTP client, SMTP target: the target's reply once per recipient")

# ------------------------------------------------ ultra: the connection is kept
b = backend()
inst = instance({"relay": (b, "smtp")}, mode="ultra")
s = Session(inst)
r1 = s.mail("s@x.test", ["a@relay.test"], BODY)
r2 = s.mail("s2@x.test", ["b@relay.test"], BODY, ehlo=None)
log = s.end()
t.ok(r1[-1] == "250 2.0.0 Ok: delivered as B1" and r2[-1] == "250 2.0.0 Ok: delivered as B2"
     and len(b.sessions) == 1 and b.commands.count("EHLO px.test") == 1,
     "ultra: two transactions over one target connection", (r1, r2, b.commands))
prev_b = b

# ultra: a kept connection the target closed meanwhile is replaced
b = backend()
inst = instance({"relay": (b, "smtp")}, mode="ultra")
s = Session(inst)
r1 = s.mail("s@x.test", ["a@relay.test"], BODY)
for c in list(b.conns):
    c.shutdown(socket.SHUT_RDWR)
r2 = s.mail("s@x.test", ["b@relay.test"], BODY, ehlo=None)
log = s.end()
t.ok(r1[-1] == "250 2.0.0 Ok: delivered as B1" and r2[-1] == "250 2.0.0 Ok: delivered as B1"
     and len(b.sessions) == 2 and inst.queue() == [],
     "ultra: the target closed the kept connection: a new one, nothing queued", (r1, r2, log))
b = prev_b

# ultra: MAIL and the first RCPT in one write (the target offers PIPELINING)
t.ok("RCPT TO:<a@relay.test>" in b.batched and "RCPT TO:<b@relay.test>" in b.batched,
     "ultra: MAIL and RCPT replayed in one write", (b.commands, b.batched))

b = backend(ext=("ENHANCEDSTATUSCODES", "8BITMIME"))
inst = instance({"relay": (b, "smtp")}, mode="ultra")
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test"], BODY)
s.end()
t.ok(r[-1].startswith("250 2.0.0 Ok: delivered") and "RCPT TO:<a@relay.test>" not in b.batched,
     "ultra: without PIPELINING at the target, MAIL and RCPT each wait", (b.commands, b.batched))


def streams(mode):
    """Sends half a message; True if the target has it before the rest."""
    b = backend()
    inst = instance({"relay": (b, "smtp")}, mode=mode)
    s = Session(inst)
    s.cmd("EHLO client.test")
    s.cmd("MAIL FROM:<s@x.test>")
    s.cmd("RCPT TO:<a@relay.test>")
    s.cmd("DATA")
    s.c.send("Subject: stream\r\n\r\nfirst half\r\n")
    early = wait_for(lambda: b"first half" in b.partial, 10 if mode == "ultra" else 1)
    s.c.send("second half\r\n.\r\n")
    r = s.c.reply()
    s.end()
    return early, r, b


early, r, b = streams("ultra")
t.ok(early and r.startswith("250 2.0.0 Ok: delivered") and b.transactions()[0]["data"].endswith(
    b"first half\r\nsecond half\r\n"), "ultra: the message streams to the target as it arrives", r)
early, r, b = streams("full")
t.ok(not early and r.startswith("250 2.0.0 Ok: delivered"),
     "full: the message goes to the target after its end", r)

# ultra: a streamed message smtpd refuses at its end is cut off at the target
b = backend()
inst = instance({"relay": (b, "smtp")}, mode="ultra")
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test"], "Subject: x\r\n\r\nbare\nlf")
s.end()
t.ok(r[-1].startswith("550 5.5.2") and "DATA" in b.commands and b.delivered == 0
     and inst.queue() == [], "ultra: bare LF, the target connection closed before the dot", (r, b.commands))

b = backend()
inst = instance({"relay": (b, "smtp")}, mode="ultra")
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test"], "Subject: 8\r\n\r\ncaf\xe9")
log = s.end()
t.ok(queued(r[-1]) and b.delivered == 0 and len(inst.queue()) == 1
     and "the message needs the RFC 1428 upgrade" in log,
     "ultra: undeclared 8-bit, cut off at the target and queued (upgraded)", (r, log))

b = backend(script={"data": "554 5.7.0 no data for you"})
inst = instance({"relay": (b, "smtp")}, mode="ultra")
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test"], BODY)
s.end()
t.ok(r[-1] == "554 5.7.0 no data for you" and inst.queue() == [],
     "ultra: the target's refusal of DATA is the reply to the client's DATA", r)

b = backend(script={"body": "DROP"})
inst = instance({"relay": (b, "smtp")}, mode="ultra", timeout="1s")
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test"],
           BODY + "\r\n" + "..stuffed\r\nmore text\r\n" * 10000)
log = s.end()
t.ok(queued(r[-1]) and len(inst.queue()) == 1 and "target lost in the data" in log,
     "ultra: the target lost while the message streams: queued", (r, log))
# the copy was begun in memory and written out past 64 KiB: the queued
# message is all of it, our Received: first, the dots unstuffed
qf = inst.read(inst.queue()[0]) if inst.queue() else b""
msg = qf.split(b"\nend\n", 1)[1] if b"\nend\n" in qf else b""
# (s.mail adds CRLF . CRLF to a body that ends in CRLF: one empty line)
want = (BODY.replace("\r\n..", "\r\n.") + "\r\n"
        + ".stuffed\r\nmore text\r\n" * 10000 + "\r\n").encode()
t.ok(msg.startswith(b"Received: from ") and msg.endswith(b"\r\n" + want)
     and msg.count(b"Received: ") == 1,
     "ultra: the queued copy of a message the target lost holds the whole message "
     "(%d octets), unstuffed, after our Received:" % len(want),
     (len(msg), msg.find(want), msg[:300], msg[-100:]))

# ------------------------------------------------ SIGKILL while proxying
# smtpd is killed at random instants; every message the client got 250
# for must be at the target or in the queue. The target is slow to
# answer at the end of data, so some kills land while it holds the data.
import random  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

b = backend(script={"dot": "SLEEP 0.1 250 2.0.0 Ok: delivered", "rcpt": "SLEEP 0.01 250 2.1.5 Ok"})
inst = instance({"relay": (b, "smtp")}, mode="ultra", timeout="3s")
acked, lostmsg = [], []
rng = random.Random(12)
# the kill window follows this machine's pace: one whole transaction,
# unkilled, timed first (not an assertion: the kills must land before,
# during and after the 250, and a loaded machine stretches all three)
t0 = time.monotonic()
s = Session(inst)
s.mail("s@x.test", ["r%d@relay.test" % k for k in range(3)],
       "Message-ID: <pace@x.test>\r\n\r\n" + "x" * 200000)
s.end()
pace = time.monotonic() - t0
for i in range(24):
    s = Session(inst)
    delay = rng.uniform(0.0, 2.5 * pace)
    killer = threading.Timer(delay, lambda p=s.p: p.send_signal(signal.SIGKILL))
    killer.start()
    mid = "<kill-%d@x.test>" % i
    try:
        s.cmd("EHLO client.test")
        s.cmd("MAIL FROM:<s@x.test>")
        for k in range(3):
            s.cmd("RCPT TO:<r%d@relay.test>" % k)
        if s.cmd("DATA").startswith("354"):
            s.c.send("Message-ID: %s\r\n\r\n%s\r\n.\r\n" % (mid, "x" * rng.randint(10, 200000)))
            if s.c.reply().startswith("250"):
                acked.append(mid)
    except OSError:
        pass
    killer.join()
    s.p.wait(30)
    s.c.close()
    s.logf.close()
at_target = {tx["data"].decode("latin-1").split("Message-ID: ", 1)[1].split("\r\n")[0]
             for tx in b.transactions() if tx["data"] and b"Message-ID: " in tx["data"]}
queued_ids = set()
for q in inst.queue():
    m = re.search(rb"Message-ID: (<[^>]*>)", inst.read(q))
    if m:
        queued_ids.add(m.group(1).decode())
lostmsg = [m for m in acked if m not in at_target and m not in queued_ids]
t.ok(not (at_target & queued_ids), "SIGKILL: no message both at the target and in the queue",
     at_target & queued_ids)
t.ok(lostmsg == [], "SIGKILL at random instants: each of the %d acknowledged messages (of 24) is "
     "at the target or in the queue" % len(acked), lostmsg)

for x in BACKENDS:
    x.close()
t.done()
