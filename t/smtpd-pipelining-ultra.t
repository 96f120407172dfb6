#!/usr/bin/env python3
"""[smtpd] pipelining = ultra, no waiting the protocol does not ask for,
against a scripted backend (t/py/pmbackend.py) that records what each of
its read()s returned: a client's pipelined MAIL, RCPTs and DATA reach the
target in one write, each RCPT still gets the target's own reply to it,
in order (RFC 2920); a recipient routed elsewhere, a MAIL refused, a
target lost half-way through the group end as without the batching.
smtpd runs on a socketpair, its log in a file."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import Instance, Tap, require, watchdog  # noqa: E402
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

for x in BACKENDS:
    x.close()
t.done()
