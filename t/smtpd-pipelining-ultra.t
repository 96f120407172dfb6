#!/usr/bin/env python3
"""[smtpd] pipelining = ultra, no waiting the protocol does not ask for,
against a scripted backend (t/py/pmbackend.py) that records what each of
its read()s returned: a client's pipelined MAIL, RCPTs and DATA reach the
target in one write, each RCPT still gets the target's own reply to it,
in order (RFC 2920); a recipient routed elsewhere, a MAIL refused, a
target lost half-way through the group end as without the batching.
smtpd runs on a socketpair, its log in a file."""
import atexit
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import Instance, Tap, require, wait_for, watchdog  # noqa: E402
from pmbackend import Backend, Session  # noqa: E402

require(root_why="smtpd drops privileges to nobody")
watchdog(200)
t = Tap()

BACKENDS = []


def backend(**kw):
    b = Backend(**kw)
    BACKENDS.append(b)
    return b


def instance(b, timeout="3s", routes=""):
    """px.test, ultra, @relay.test to a [relay] at b (joe@example.test
    goes to the local mailer, another target)."""
    extra = ('\n[relay "relay"]\naddress = %s\nprotocol = smtp\n'
             '\n[smtpd "px.test"]\nrouting-table = ext\npipelining = ultra\n'
             'proxy-timeout = %s\n' % (b.addr if b else "127.0.0.1:1", timeout))
    return Instance(extra=extra, routes="@relay.test relay\n" + routes)


QID = r"[0-9A-F]{30}"
BODY = "Subject: batched\r\n\r\nline one\r\n..dot\r\nlast\r\n.\r\n"


def pipelined(s, rcpts, sender="s@x.test"):
    """EHLO, then MAIL, every RCPT and DATA in one write: the replies."""
    s.cmd("EHLO client.test")
    s.c.send("MAIL FROM:<%s>\r\n" % sender
             + "".join("RCPT TO:<%s>\r\n" % r for r in rcpts) + "DATA\r\n")
    out = [s.c.reply() for _ in range(len(rcpts) + 2)]
    if out[-1].startswith("354"):
        s.c.send(BODY)
        out.append(s.c.reply())
    return out


def after_ehlo(b):
    """What the target read after its EHLO, one item per read()."""
    with b.lock:
        reads = list(b.reads)
    return reads[1:]


# ------------------------------------------------ the group in one write
b = backend(script={"rcpt:nobody@relay.test": "550 5.1.1 <nobody@relay.test>: no such user here",
                    "rcpt:c@relay.test": "250 fine by me"})
inst = instance(b)
s = Session(inst)
r = pipelined(s, ["a@relay.test", "nobody@relay.test", "c@relay.test"])
log = s.end()
t.is_(r[:5], ["250 2.1.0 Ok", "250 2.1.5 Ok",
              "550 5.1.1 <nobody@relay.test>: no such user here",
              "250 2.1.5 fine by me", "354 End data with <CR><LF>.<CR><LF>"],
      "pipelined RCPTs: each gets the target's own reply to it, in order")
t.is_(r[5], "250 2.0.0 Ok: delivered as B1", "pipelined RCPTs: delivered by the target")
reads = after_ehlo(b)
t.is_(reads[0] if reads else None,
      b"MAIL FROM:<s@x.test>\r\nRCPT TO:<a@relay.test>\r\n"
      b"RCPT TO:<nobody@relay.test>\r\nRCPT TO:<c@relay.test>\r\nDATA\r\n",
      "MAIL, the three RCPTs and DATA reached the target in one write")
tx = b.transactions()
t.ok(len(tx) == 1 and tx[0]["ok"] == ["a@relay.test", "c@relay.test"]
     and tx[0]["data"].endswith(b"\r\nSubject: batched\r\n\r\nline one\r\n..dot\r\nlast\r\n"),
     "the target got the two recipients it accepted and the message", tx)
t.is_(inst.queue(), [], "nothing queued")
t.ok(re.search(r"%s: proxied from=<s@x\.test> size=\d+ nrcpt=2 .*status=delivered" % QID, log),
     "one log line, two recipients proxied", log)

# ------------------------------------------------ a recipient routed elsewhere mid-group
b = backend()
inst = instance(b)
s = Session(inst)
r = pipelined(s, ["a@relay.test", "joe@example.test", "c@relay.test"])
log = s.end()
q = inst.queue()
m = re.match(r"250 2\.0\.0 Ok: queued as (%s)$" % QID, r[-1])
t.is_(r[:5], ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
              "354 End data with <CR><LF>.<CR><LF>"],
      "routed elsewhere mid-group: all three accepted, smtpd takes the data")
t.ok(m and q == [m.group(1)], "routed elsewhere mid-group: the message is queued", (r, q))
env = inst.read(q[0]).decode() if q else ""
t.ok(all("rcpt %s" % a in env for a in ("a@relay.test", "joe@example.test", "c@relay.test"))
     and "\nproxied " not in env, "routed elsewhere mid-group: every recipient pending in the queue",
     env[:600])
reads = after_ehlo(b)
t.ok(reads[:2] == [b"MAIL FROM:<s@x.test>\r\nRCPT TO:<a@relay.test>\r\n", b"RSET\r\n"]
     and b.delivered == 0,
     "routed elsewhere mid-group: what was held went in one write, then RSET, no data", reads)
t.ok("not proxied: recipients for two targets" in log, "routed elsewhere mid-group: logged", log)

# ------------------------------------------------ MAIL refused: every held RCPT gets its reply
b = backend(script={"mail": "553 5.7.1 <s@x.test>: sender refused"})
inst = instance(b)
s = Session(inst)
r = pipelined(s, ["a@relay.test", "b@relay.test"])
log = s.end()
t.is_(r, ["250 2.1.0 Ok", "553 5.7.1 <s@x.test>: sender refused",
          "553 5.7.1 <s@x.test>: sender refused", "554 5.5.1 Error: no valid recipients"],
      "MAIL refused in the group: each RCPT gets the target's refusal of MAIL")
reads = after_ehlo(b)
t.is_(reads[0] if reads else None,
      b"MAIL FROM:<s@x.test>\r\nRCPT TO:<a@relay.test>\r\nRCPT TO:<b@relay.test>\r\nDATA\r\n",
      "MAIL refused: the group went in one write")
t.is_(inst.queue(), [], "MAIL refused: nothing queued")

# ------------------------------------------------ the target lost half-way through the group
b = backend(script={"rcpt:b@relay.test": "DROP"})
inst = instance(b)
s = Session(inst)
r = pipelined(s, ["a@relay.test", "b@relay.test", "c@relay.test"])
log = s.end()
q = inst.queue()
m = re.match(r"250 2\.0\.0 Ok: queued as (%s)$" % QID, r[-1])
t.is_(r[:5], ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
              "354 End data with <CR><LF>.<CR><LF>"],
      "target lost at the second RCPT: the first has the target's 250, the rest smtpd's own")
t.ok(m and q == [m.group(1)], "target lost in the group: the message is queued", (r, q, log))
env = inst.read(q[0]).decode() if q else ""
t.ok(all("rcpt %s@relay.test" % a in env for a in "abc") and "\nproxied " not in env,
     "target lost in the group: all three pending in the queue", env[:600])
t.ok("not proxied: target lost after RCPT" in log, "target lost in the group: logged", log)

# ------------------------------------------------ the target refuses the DATA that went with the group
b = backend(script={"data": "554 5.3.0 no data today"})
inst = instance(b)
s = Session(inst)
r = pipelined(s, ["a@relay.test"])
log = s.end()
t.is_(r, ["250 2.1.0 Ok", "250 2.1.5 Ok", "554 5.3.0 no data today"],
      "DATA in the group, refused: the client's DATA gets the target's reply")
t.is_(inst.queue(), [], "DATA refused: nothing queued")

# ------------------------------------------------ held, then refused by smtpd itself
# (no route): the refusal is that RCPT's, the held one keeps the target's
b = backend(script={"rcpt:a@relay.test": "250 a is welcome"})
inst = instance(b)
s = Session(inst)
r = pipelined(s, ["a@relay.test", "x@elsewhere.invalid"])
log = s.end()
t.is_(r[:4], ["250 2.1.0 Ok", "250 2.1.5 a is welcome",
              "554 5.7.1 <x@elsewhere.invalid>: Relay access denied",
              "354 End data with <CR><LF>.<CR><LF>"],
      "a held RCPT, then one smtpd refuses: each its own reply, in order, DATA its 354")
t.ok(len(r) == 5 and r[4].startswith("250 2.0.0 Ok: delivered as "),
     "... and the message goes to the target", r)
tx = b.transactions()
t.ok(len(tx) == 1 and tx[0]["ok"] == ["a@relay.test"], "the target got the one recipient", tx)

# ------------------------------------------------ a group refused whole, DATA with it; then more RCPTs
# without RSET: the next group waits for no DATA reply (it was read)
b = backend(script={"rcpt:a@relay.test": "550 5.1.1 <a@relay.test>: no",
                    "data": "554 5.5.1 no valid recipients",
                    "rcpt:c@relay.test": "250 c is welcome"})
inst = instance(b)
s = Session(inst)
r = pipelined(s, ["a@relay.test"])
t.is_(r, ["250 2.1.0 Ok", "550 5.1.1 <a@relay.test>: no", "554 5.5.1 Error: no valid recipients"],
      "every RCPT of the group refused: DATA gets 554")
# the backend refuses every DATA: proxied, this one gets its 554; had
# smtpd waited for the first group's DATA reply again, proxy-timeout
# would have taken the target for lost and smtpd would take the data
r2 = [s.cmd("RCPT TO:<c@relay.test>"), s.cmd("DATA")]
if r2[-1].startswith("354"):
    s.c.send(BODY)
    r2.append(s.c.reply())
log = s.end()
t.is_(r2, ["250 2.1.5 c is welcome", "554 5.5.1 no valid recipients"],
      "RCPT and DATA after that go to the target and get its own replies (no wait for the "
      "first group's DATA reply, no target taken for lost)")
t.ok("target lost" not in log, "... the target is not taken for lost", log)
t.is_(inst.queue(), [], "... nothing queued")

# ------------------------------------------------ an LMTP target, an LMTP client
b = backend(lmtp=True, script={"rcpt:gone@relay.test": "550 5.1.1 <gone@relay.test> gone",
                               "dot:full@relay.test": "452 4.2.2 <full@relay.test> over quota"})
extra = ('\n[relay "relay"]\naddress = %s\nprotocol = lmtp\n'
         '\n[smtpd "px.test"]\nrouting-table = ext\npipelining = ultra\n' % b.addr)
inst = Instance(extra=extra, routes="@relay.test relay\n")
s = Session(inst)
s.cmd("LHLO client.test")
s.c.send("MAIL FROM:<s@x.test>\r\nRCPT TO:<ok@relay.test>\r\nRCPT TO:<gone@relay.test>\r\n"
         "RCPT TO:<full@relay.test>\r\nDATA\r\n")
r = [s.c.reply() for _ in range(5)]
s.c.send(BODY)
r += [s.c.reply() for _ in range(2)]
s.end()
t.is_(r, ["250 2.1.0 Ok", "250 2.1.5 Ok", "550 5.1.1 <gone@relay.test> gone", "250 2.1.5 Ok",
          "354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 <ok@relay.test> delivered",
          "452 4.2.2 <full@relay.test> over quota"],
      "LMTP both sides: the group's replies from the target, then one reply per accepted recipient")
reads = after_ehlo(b)
t.is_(reads[0] if reads else None,
      b"MAIL FROM:<s@x.test>\r\nRCPT TO:<ok@relay.test>\r\nRCPT TO:<gone@relay.test>\r\n"
      b"RCPT TO:<full@relay.test>\r\nDATA\r\n",
      "LMTP target: the group in one write")
t.is_(inst.queue(), [], "LMTP client: each reply as it is, nothing queued")

# ------------------------------------------------ one command at a time: no change
b = backend()
inst = instance(b)
s = Session(inst)
r = s.mail("s@x.test", ["a@relay.test", "b@relay.test"], BODY[:-5])
s.end()
reads = after_ehlo(b)
t.ok(r[-1] == "250 2.0.0 Ok: delivered as B1"
     and reads[:3] == [b"MAIL FROM:<s@x.test>\r\nRCPT TO:<a@relay.test>\r\n",
                       b"RCPT TO:<b@relay.test>\r\n", b"DATA\r\n"],
     "a client that waits for each reply: MAIL with its first RCPT, then each command", (r, reads))

# ================================================ the spool copy of a proxied message
# Nothing can be created in tmp/ (chattr +i: smtpd's checks of the
# directory still pass): a message the target takes never needed its
# file; one whose target is lost cannot be committed and gets no 250.
LOCKED = []


def tmp_locked(inst):
    """True once tmp/ is immutable (the file system may not allow it)."""
    s = Session(inst)
    s.end()  # smtpd made the spool's directories
    d = os.path.join(inst.spool, "tmp")
    if subprocess.run(["chattr", "+i", d], stderr=subprocess.DEVNULL).returncode != 0:
        return False
    LOCKED.append(d)
    return True


def unlock():
    while LOCKED:
        subprocess.run(["chattr", "-i", LOCKED.pop()])


atexit.register(unlock)
b = backend()
inst = instance(b)
if tmp_locked(inst):
    s = Session(inst)
    r = pipelined(s, ["a@relay.test"])
    s.end()
    t.is_(r[-1], "250 2.0.0 Ok: delivered as B1",
          "a message the target took never touched the disk (nothing can be created in tmp/)")
    reads = after_ehlo(b)
    t.ok(len(reads) >= 2 and reads[1].startswith(b"Received: from client.test")
         and reads[1].endswith(b"\r\nlast\r\n.\r\n"),
         "the message, our Received: first, and the final dot in one write (one read from "
         "the client)", reads)

    b = backend(script={"dot": "DROP"})
    inst = instance(b)
    tmp_locked(inst)
    s = Session(inst)
    r = pipelined(s, ["a@relay.test"])
    log = s.end()
    t.ok(r[-1] == "451 4.3.0 Temporary spool failure" and inst.queue() == [],
         "target lost and the copy cannot be kept: no 250 (nothing can be created in tmp/)",
         (r, log))
    unlock()
else:
    for _ in range(3):
        t.skip("chattr +i not supported here")

# ================================================ connecting before the first RCPT
def solo(b, timeout="3s", relays=None):
    """solo.test: ultra, its only routing table sends everything to one
    [relay] (proxy_dest_sole); px.test beside it routes to two targets."""
    extra = ('\n[relay "relay"]\naddress = %s\nprotocol = smtp\n'
             '\n[smtpd "solo.test"]\nrouting-table = solo\npipelining = ultra\n'
             'proxy-timeout = %s\n[route "solo"]\n@relay.test relay\n@other.test relay\n'
             '\n[smtpd "px.test"]\nrouting-table = ext\npipelining = ultra\n'
             % (b.addr if b else "127.0.0.1:1", timeout))
    return Instance(extra=extra, routes="@relay.test relay\n")


def until_target_greeted(s, b):
    """NOOPs (each reply is a moment smtpd moves the early connection on)
    until the target has had EHLO; True if it did."""
    for _ in range(200):
        if "EHLO solo.test" in b.commands:
            return True
        if s.cmd("NOOP") != "250 2.0.0 Ok":
            return False
        time.sleep(0.05)
    return False


b = backend()
inst = solo(b)
s = Session(inst, name="solo.test")
connected = wait_for(lambda: len(b.sessions) == 1, 15)
t.ok(connected, "one target: smtpd connects to it when the session starts, before any command")
s.cmd("EHLO client.test")
t.ok(until_target_greeted(s, b) and b.commands == ["EHLO solo.test"],
     "one target: greeting and EHLO done between the client's commands, before its MAIL",
     b.commands)
s.c.send("MAIL FROM:<s@x.test>\r\nRCPT TO:<a@relay.test>\r\nRCPT TO:<b@other.test>\r\nDATA\r\n")
r = [s.c.reply() for _ in range(4)]
s.c.send(BODY)
r.append(s.c.reply())
log = s.end()
t.is_(r, ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
          "354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 Ok: delivered as B1"],
      "one target: the transaction proxied over the early connection")
reads = after_ehlo(b)
t.ok(len(b.sessions) == 1 and b.commands.count("EHLO solo.test") == 1
     and reads[:1] == [b"MAIL FROM:<s@x.test>\r\nRCPT TO:<a@relay.test>\r\n"
                       b"RCPT TO:<b@other.test>\r\nDATA\r\n"]
     and b.commands[-1] == "QUIT",
     "one target: one connection, one EHLO, the group in one write, QUIT at the end",
     (b.commands, reads))

# a session that sends no mail: the early connection is closed with it
b = backend()
inst = solo(b)
s = Session(inst, name="solo.test")
s.cmd("EHLO client.test")
greeted = until_target_greeted(s, b)
s.end()
t.ok(greeted and wait_for(lambda: b.commands == ["EHLO solo.test", "QUIT"], 15),
     "no mail: the early connection ends with QUIT when the session ends", b.commands)

# a target that never greets holds nobody: the client's QUIT is answered at once
b = backend(script={"greeting": "STALL"})
inst = solo(b, timeout="60s")
s = Session(inst, name="solo.test")
wait_for(lambda: len(b.sessions) == 1, 15)
e = s.cmd("EHLO client.test")
q = s.cmd("QUIT")
s.p.wait(30)
t.ok(e.startswith("250-solo.test") and q == "221 2.0.0 solo.test Bye" and s.p.returncode == 0,
     "a target that never greets: the client's replies do not wait for it (proxy-timeout 60 s)",
     (e, q))
t.ok(wait_for(lambda: b.ended == 1, 15) and b.commands == [],
     "... and its connection is closed, nothing sent", b.commands)

# the early connection fails: smtpd connects again at RCPT, as without it
b = backend(script={"greeting1": "421 4.3.2 busy, come back"})
inst = solo(b)
s = Session(inst, name="solo.test")
s.cmd("EHLO client.test")
s.cmd("NOOP")
r = s.mail("s@x.test", ["a@relay.test"], BODY[:-5], ehlo=None)
log = s.end()
t.is_(r, ["250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
          "250 2.0.0 Ok: delivered as B1"],
      "early connection refused (421 greeting): the client sees what it would without it")
t.ok(len(b.sessions) == 2 and b.delivered == 1 and inst.queue() == [],
     "... over a second connection opened at the RCPT", (len(b.sessions), b.commands))

# nothing listening: queued, as without the early connection
inst = solo(None)
s = Session(inst, name="solo.test")
r = s.mail("s@x.test", ["a@relay.test"], BODY[:-5])
log = s.end()
t.ok(r[1] == "250 2.1.5 Ok" and re.match(r"250 2\.0\.0 Ok: queued as %s$" % QID, r[-1])
     and len(inst.queue()) == 1 and "not proxied: target lost at connect" in log,
     "nothing listening: 250 and queued, as without the early connection", (r, log))

# two targets: no connection before a RCPT needs one
b = backend()
inst = solo(b)
s = Session(inst, name="px.test")
s.cmd("EHLO client.test")
for _ in range(5):
    s.cmd("NOOP")
early = len(b.sessions)
r = s.mail("s@x.test", ["a@relay.test"], BODY[:-5], ehlo=None)
s.end()
t.ok(early == 0 and r[-1] == "250 2.0.0 Ok: delivered as B1",
     "an instance with two targets connects at the first RCPT, not before", (early, r))

for x in BACKENDS:
    x.close()
t.done()
