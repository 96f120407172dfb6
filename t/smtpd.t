#!/usr/bin/env python3
"""postmaster-smtpd end to end: started by tcpserver and by
systemd-socket-activate (both modes), real clients, exact replies, the
spool contents, and bad input."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import Tap, Instance, Client, pipe_session, PM_BIN  # noqa: E402
from pmtest import skip_unless_root  # noqa: E402

skip_unless_root("the spool is owned by nobody, smtpd switches to it")
t = Tap()
inst = Instance(routes="@old.test nomail\npostmaster joe\n",
                extra='[reject "nomail"]\ncode = 521\n')

EHLO = ("250-mx.test\n250-PIPELINING\n250-SIZE 36700160\n250-8BITMIME\n"
        "250-ENHANCEDSTATUSCODES\n250-BINARYMIME\n250-SMTPUTF8\n250-X-LMTP\n250 CHUNKING")


def session(port, helo):
    """A client past the greeting and its EHLO."""
    c = Client(port)
    c.reply()
    c.cmd("EHLO " + helo)
    return c


def transaction(c, rcpt="x@example.test", body="Subject: hi\r\n\r\nhello\r\n"):
    r = [c.cmd("MAIL FROM:<a@b.test>"), c.cmd("RCPT TO:<%s>" % rcpt), c.cmd("DATA")]
    c.send(body + ".\r\n")
    r.append(c.reply())
    return r


for label, start in (("tcpserver", lambda: inst.tcpserver()),
                     ("systemd-socket-activate --inetd", lambda: inst.socket_activate(True)),
                     ("systemd-socket-activate -a (LISTEN_FDS)", lambda: inst.socket_activate(False))):
    port = start()
    before = set(inst.queue())
    c = Client(port)
    t.is_(c.reply(), "220 mx.test ESMTP Postmaster", label + ": greeting")
    t.is_(c.cmd("EHLO client.test"), EHLO, label + ": EHLO advertises the extensions")
    r = transaction(c)
    t.is_(r[:3], ["250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"],
          label + ": MAIL, RCPT, DATA")
    t.ok(r[3].startswith("250 2.0.0 Ok: queued as "), label + ": queued", r[3])
    qid = r[3].split()[-1]
    t.is_(sorted(set(inst.queue()) - before), [qid], label + ": the id names the queue file")
    data = inst.read(qid).decode()
    t.like(data, "Received: from client.test ([127.0.0.1])\r\n\tby mx.test (Postmaster) "
           "with ESMTP id %s\r\n\tfor <x@example.test>; " % qid, label + ": Received field")
    t.ok(data.endswith("\r\nSubject: hi\r\n\r\nhello\r\n"), label + ": body stored as sent")
    t.like(data, "client 127.0.0.1\n", label + ": peer address from the socket")
    t.is_(c.cmd("QUIT"), "221 2.0.0 mx.test Bye", label + ": QUIT")
    t.ok(c.closed(), label + ": closed after QUIT")

# --- real clients ----------------------------------------------------------
out, err = pipe_session(inst, [])  # warm-up: greeting alone, then EOF
t.is_(out, "220 mx.test ESMTP Postmaster\r\n", "pipe mode: greeting then EOF ends cleanly")

r = subprocess.run(["swaks", "--pipe", " ".join(inst.argv()), "--to", "y@example.test",
                    "--from", "s@b.test", "--helo", "swaks.test", "--pipeline"],
                   capture_output=True, text=True, timeout=60)
t.is_(r.returncode, 0, "swaks (pipelining) delivers")
t.like(r.stdout, "250 2.0.0 Ok: queued as ", "swaks sees the queue id")

port = inst.tcpserver()
import smtplib  # noqa: E402
s = smtplib.SMTP("127.0.0.1", port, local_hostname="py.test")
refused = s.sendmail("a@b.test", ["p@example.test", "postmaster"],
                     b"Subject: smtplib\r\n\r\nvia smtplib\r\n")
t.is_(refused, {}, "smtplib: both recipients accepted (postmaster bare)")
s.quit()

before = len(inst.queue())
r = subprocess.run(["smtp-source", "-s", "4", "-m", "20", "-f", "src@b.test",
                    "-t", "z@example.test", "127.0.0.1:%d" % port],
                   capture_output=True, text=True, timeout=60)
t.is_(r.returncode, 0, "smtp-source: 20 messages, 4 sessions in parallel")
t.is_(len(inst.queue()) - before, 20, "smtp-source: 20 messages in the queue")

# --- routing at RCPT ----------------------------------------------------------
c = Client(port)
c.reply()
c.cmd("EHLO r.test")
c.cmd("MAIL FROM:<a@b.test>")
t.is_(c.cmd("RCPT TO:<x@gmail.com>"), "554 5.7.1 <x@gmail.com>: Relay access denied",
      "foreign domain: relaying denied")
t.is_(c.cmd("RCPT TO:<x@old.test>"), "521 5.1.2 <x@old.test>: does not accept mail",
      "reject target answers with its code")
t.is_(c.cmd("RCPT TO:<PostMaster>"), "250 2.1.5 Ok", "postmaster in any case")
t.is_(c.cmd("RCPT TO:<postmaster@mx.test>"), "250 2.1.5 Ok", "postmaster@ our name")
t.is_(c.cmd("RCPT TO:<joe>"), "501 5.1.3 Error: bad recipient address syntax",
      "bare local names other than postmaster are not addresses")
c.cmd("RSET")
c.cmd("MAIL FROM:<a@b.test>")
for i in range(100):
    c.send("RCPT TO:<r%d@example.test>\r\n" % i)
rs = [c.reply() for _ in range(100)]
t.ok(all(x == "250 2.1.5 Ok" for x in rs), "100 recipients accepted")
t.is_(c.cmd("RCPT TO:<r100@example.test>"), "452 4.5.3 Error: too many recipients",
      "the 101st: 452 4.5.3")
c.cmd("RSET")
t.is_(c.cmd("MAIL FROM:<a@b.test> SIZE=999999999"),
      "552 5.3.4 Error: message size exceeds fixed limit", "SIZE over the limit")
for verb in ("HELP", "VRFY x", "EXPN x", "TURN"):
    t.is_(c.cmd(verb), "502 5.5.1 Error: command not implemented", verb + ": 502 5.5.1")
t.is_(c.cmd("DATA"), "503 5.5.1 Error: need MAIL command", "DATA without MAIL: 503")
c.cmd("MAIL FROM:<a@b.test>")
t.is_(c.cmd("DATA"), "554 5.5.1 Error: no valid recipients", "DATA without RCPT: 554")
c.close()

# Duplicate RCPTs, whatever their case, are one mailbox: 250 to each, one
# recipient in the spool.
c = session(port, "dup.test")
c.cmd("MAIL FROM:<a@b.test>")
for i in range(96):
    c.send("RCPT TO:<bob@example.test>\r\n")
c.send("RCPT TO:<BOB@Example.TEST>\r\nRCPT TO:<\"Bob\"@example.test>\r\nRCPT TO:<carol@example.test>\r\n")
rs = [c.reply() for _ in range(99)]
t.is_(set(rs), {"250 2.1.5 Ok"}, "99 RCPTs, 98 of them the same mailbox: 250 to each")
r = transaction(c, rcpt="Carol@example.test")[1:]
t.is_(r[:2], ["250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"], "  and to a repeat of another (the 100th RCPT)")
env = inst.read(r[2].split()[-1]).decode().split("\nend\n")[0]
t.is_([l for l in env.split("\n") if l.startswith("rcpt ")], ["rcpt bob@example.test", "rcpt carol@example.test"],
      "  spooled with one recipient per mailbox")
t.is_(env.count("\ndeliver "), 2, "  one delivery each")
c.close()

# --- bad input: exact replies, the session survives ---------------------
c = Client(port)
c.reply()
c.cmd("EHLO bad.test")
t.is_(c.cmd("NOOP " + "x" * 3000), "500 5.5.2 Error: line too long", "line over 2048: 500 5.5.2")
t.is_(c.cmd("NOOP"), "250 2.0.0 Ok", "the session survives a long line")
t.is_(c.cmd("NO\x00OP"), "500 5.5.2 Error: NUL character received", "NUL: 500 5.5.2")
t.is_(c.cmd("NOOP\nNOOP"), "500 5.5.2 Error: bare <LF> received", "bare LF in a command: 500 5.5.2")
t.is_(c.cmd("NOOP\rNOOP"), "500 5.5.2 Error: bare <CR> received", "bare CR in a command: 500 5.5.2")
t.is_(c.cmd("MAIL FROM:<a@b.test> FOO=bar"), "555 5.5.4 Error: unsupported parameter",
      "unknown MAIL parameter: 555 5.5.4")
t.is_(c.cmd("MAIL FROM:<a b@c>"), "501 5.1.7 Error: bad sender address syntax", "bad sender: 501 5.1.7")
t.is_(c.cmd("MAIL FROM:<ü@b.test>"), "553 5.6.7 Error: non-ASCII sender address requires SMTPUTF8",
      "UTF-8 without SMTPUTF8: 553 5.6.7")
t.is_(c.cmd("MAIL FROM:<ü@b.test> SMTPUTF8"), "250 2.1.0 Ok", "UTF-8 with SMTPUTF8: accepted")
# C1 controls and bidi overrides are not part of any mailbox name
for label, bad in (("C1 U+0085", "a\u0085b@example.test"), ("RLO U+202E", "\u202etset.elpmaxe@x"),
                   ("LRI U+2066", "a\u2066b@example.test")):
    t.is_(c.cmd("RCPT TO:<%s>" % bad), "501 5.1.3 Error: recipient address contains a control "
          "or bidi formatting character", "SMTPUTF8 recipient with %s: 501 5.1.3" % label)
c.cmd("RSET")
t.is_(c.cmd("MAIL FROM:<a\u202eb@b.test> SMTPUTF8"), "501 5.1.7 Error: sender address contains a "
      "control or bidi formatting character", "SMTPUTF8 sender with RLO U+202E: 501 5.1.7")
for bad in ("BDAT", "BDAT xyz", "BDAT -5 LAST"):
    t.is_([c.cmd(bad), c.cmd("NOOP")], ["501 5.5.4 Syntax: BDAT size [LAST]", "250 2.0.0 Ok"],
          "%s: 501, nothing consumed, the session goes on" % bad)
c.close()

# Smuggling: only CRLF.CRLF ends DATA, so LF.LF / CR.CR / LF.CRLF cannot
# start a second transaction; a message with bare LF or CR is refused.
for label, evil in (("LF.LF", "\n.\n"), ("CR.CR", "\r.\r"), ("LF.CRLF", "\n.\r\n"),
                    ("CRLF.LF", "\r\n.\n"), ("CR.CRLF", "\r.\r\n")):
    c = Client(port)
    c.reply()
    c.cmd("EHLO smuggle.test")
    n0 = len(inst.queue())
    r = transaction(c, body="Subject: s\r\n\r\nfirst" + evil +
                    "MAIL FROM:<evil@b.test>\r\nRCPT TO:<x@example.test>\r\nDATA\r\nsmuggled\r\n")
    t.is_(r[3], "550 5.5.2 Error: bare <CR> or <LF> in message, lines must end in <CR><LF>", label + ": message refused at its end")
    t.is_(c.cmd("NOOP"), "250 2.0.0 Ok", label + ": no second transaction was started")
    t.is_(len(inst.queue()), n0, label + ": nothing queued")
    c.close()

# NUL: one rule at every entry point (pickup refuses it too): only
# BINARYMIME content may carry it (RFC 5322 2.3, RFC 6152, RFC 3030).
NUL = "550 5.6.0 Error: NUL character in message, allowed only with BODY=BINARYMIME"
c = session(port, "nul.test")
n0 = len(inst.queue())
r = transaction(c, body="Subject: n\r\n\r\nnul\x00here\r\n")
t.is_(r[3], NUL, "NUL in DATA: refused after the end of data")
t.is_(c.cmd("NOOP"), "250 2.0.0 Ok", "  the session goes on in sync")
c.send("MAIL FROM:<a@b.test> BODY=8BITMIME\r\nRCPT TO:<x@example.test>\r\nBDAT 9 LAST\r\nx\r\n\r\nn\x00\r\n")
t.is_([c.reply() for _ in range(3)], ["250 2.1.0 Ok", "250 2.1.5 Ok", NUL],
      "NUL in BDAT without BODY=BINARYMIME: refused")
t.is_(c.cmd("NOOP"), "250 2.0.0 Ok", "  the session goes on in sync")
t.is_(len(inst.queue()), n0, "  neither was queued")
c.close()

c = Client(port)
c.reply()
c.cmd("EHLO big.test")
n0 = len(inst.queue())
r = transaction(c, body="Subject: big\r\n\r\n" + ("y" * 998 + "\r\n") * 37000)
t.is_(r[3], "552 5.3.4 Error: message size exceeds fixed limit", "oversized message refused after its end")
t.is_(c.cmd("NOOP"), "250 2.0.0 Ok", "its body was not read as commands")
r = transaction(c, body="".join("Received: from h%d\r\n" % i for i in range(51)) + "\r\nloop\r\n")
t.is_(r[3], "554 5.4.6 Error: too many hops", "51 Received fields: 554 5.4.6")
t.is_(len(inst.queue()), n0, "neither was queued")
c.close()

c = Client(port)
c.reply()
c.send("EHLO early.test\r\nMAIL FROM:<a@b.test>\r\n")
t.is_(c.reply(), "554 5.5.0 Error: SMTP protocol synchronization",
      "pipelining past EHLO is refused")
t.ok(c.closed(), "and the session ends")

# BDAT (RFC 3030), pipelined chunks, BINARYMIME only with BDAT.
c = session(port, "bdat.test")
c.send("MAIL FROM:<a@b.test> BODY=BINARYMIME\r\nRCPT TO:<x@example.test>\r\n"
       "BDAT 12\r\nSubject: b\r\nBDAT 7 LAST\r\n\r\nb\x00dy\n")
rs = [c.reply() for _ in range(4)]
t.is_(rs[:3], ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.0.0 Ok: 12 octets received"], "pipelined BDAT chunks")
t.ok(rs[3].startswith("250 2.0.0 Ok: queued as "), "BDAT LAST queues", rs[3])
data = inst.read(rs[3].split()[-1])
t.ok(data.endswith(b"Subject: b\r\n\r\nb\x00dy\n"), "binary content kept byte for byte")
t.like(data.decode("latin-1"), "body BINARYMIME\n", "envelope records BINARYMIME")
c.send("MAIL FROM:<a@b.test> BODY=BINARYMIME\r\nRCPT TO:<x@example.test>\r\n")
c.reply(), c.reply()
t.is_(c.cmd("DATA"), "503 5.5.1 Error: BODY=BINARYMIME requires BDAT", "DATA with BINARYMIME: 503")
c.close()

# RFC 3030 4.2: BDAT LAST is no sync point. Commands may follow the last
# chunk in the same write (Exim sends `BDAT n LAST` and QUIT together).
c = session(port, "chunks.test")
c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<x@example.test>\r\nBDAT 5\r\nSubjeBDAT 4\r\n"
       "ct: BDAT 8\r\nlast\r\n\r\nBDAT 0 LAST\r\nNOOP\r\n")
rs = [c.reply() for _ in range(7)]
t.is_(rs[:5] + rs[6:], ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.0.0 Ok: 5 octets received",
                        "250 2.0.0 Ok: 4 octets received", "250 2.0.0 Ok: 8 octets received",
                        "250 2.0.0 Ok"], "MAIL, RCPT, BDAT 5, BDAT 4, BDAT 8, BDAT 0 LAST, NOOP in one write")
t.ok(rs[5].startswith("250 2.0.0 Ok: queued as "), "  BDAT 0 LAST queues", rs[5])
t.ok(inst.read(rs[5].split()[-1]).endswith(b"\r\nSubject: last\r\n\r\n"), "  the chunks stored in order")
c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<x@example.test>\r\nBDAT 17 LAST\r\n"
       "Subject: q\r\n\r\nq\r\nQUIT\r\n")
rs = [c.reply() for _ in range(4)]
t.is_(rs[:2] + rs[3:], ["250 2.1.0 Ok", "250 2.1.5 Ok", "221 2.0.0 mx.test Bye"],
      "MAIL, RCPT, BDAT 17 LAST, QUIT in one write")
t.ok(rs[2].startswith("250 2.0.0 Ok: queued as ") and
     inst.read(rs[2].split()[-1]).endswith(b"\r\nSubject: q\r\n\r\nq\r\n"), "  queued before QUIT", rs[2])
t.ok(c.closed(), "  and closed after QUIT")

# Only a message pipelined past DATA's 354 is refused; the log line keeps
# the transaction's sender.
out, err = pipe_session(inst, ["EHLO sync.test\r\n", "MAIL FROM:<syncer@b.test>\r\n"
                               "RCPT TO:<x@example.test>\r\nDATA\r\nSubject: s\r\n\r\n.\r\n"])
t.ok(out.endswith("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
                  "554 5.5.0 Error: SMTP protocol synchronization\r\n"), "content pipelined past DATA: 554 5.5.0", out)
t.like(err, "helo=<sync.test> from=<syncer@b.test>: "
       "554 5.5.0 Error: SMTP protocol synchronization\n", "  logged with the sender")

# RFC 1428: unlabelled 8-bit text is upgraded in the spool.
c = Client(port)
c.reply()
c.cmd("EHLO old.test")
r = transaction(c, body="Subject: caf\xe9\r\n\r\nna\xefve\r\n".encode("latin-1").decode("latin-1"))
qid = r[3].split()[-1]
data = inst.read(qid).decode("latin-1")
t.like(data, "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=unknown-8bit\r\n"
       "Content-Transfer-Encoding: 8bit\r\nSubject: caf", "RFC 1428: MIME fields added")
t.like(data, "body 8BITMIME\n", "RFC 1428: envelope says 8BITMIME")
t.like(data, "with ESMTP id %s" % qid, "RFC 1428: the Received id is the queued id")
c.close()

# LMTP after LHLO, on any port: one reply per recipient.
c = Client(port)
c.reply()
t.ok(c.cmd("LHLO lmtp.test").startswith("250-mx.test"), "LHLO accepted")
c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<l1@example.test>\r\nRCPT TO:<nope@gmail.com>\r\n"
       "RCPT TO:<l2@example.test>\r\nDATA\r\n")
rs = [c.reply() for _ in range(5)]
t.is_(rs[2], "554 5.7.1 <nope@gmail.com>: Relay access denied", "LMTP: a refused recipient")
c.send("Subject: l\r\n\r\nlmtp\r\n.\r\n")
a, b = c.reply(), c.reply()
t.ok(a.startswith("250 2.0.0 Ok: queued as ") and a == b, "LMTP: one reply per accepted recipient", (a, b))
c.close()

# An instance that accepts no mail (RFC 7504).
out, err = pipe_session(inst, ["EHLO x\r\n"], name="nomail.test")
t.ok(out.startswith("421 4.3.0 ") and out.endswith(" Service not available: no such instance\r\n"),
     "an unknown instance: 421 and exit", out)
t.like(err, ']: fatal: no [smtpd "nomail.test"] in ', "and says why on stderr")
inst2 = Instance(extra="", name="closed.test")
subprocess.run([os.path.join(PM_BIN, "postmaster-cfcompile"), "-c", inst2.cf, "-o", inst2.cdb,
                "--smtpd-closed.test-accept-mail=no"], check=True)
out, err = pipe_session(inst2, ["EHLO x\r\n"])
t.is_(out, "521 5.3.2 closed.test does not accept mail\r\n", "accept-mail = no: 521 and close")
inst2.close()

# local-rcpt-to = yes: bare local names are recipients, routed as names
# (DESIGN.md): a name with a route follows it, one without is a system
# user for the local mailer. Elsewhere they stay refused (above).
inst3 = Instance(routes="[route]\nroot joe@example.test\n", name="local.test")
subprocess.run([os.path.join(PM_BIN, "postmaster-cfcompile"), "-c", inst3.cf, "-o", inst3.cdb,
                "--smtpd-local.test-local-rcpt-to=yes"], check=True)
out, err = pipe_session(inst3, ["EHLO local.test\r\n", "MAIL FROM:<a@b.test>\r\n"
                                "RCPT TO:<joe>\r\nRCPT TO:<Root>\r\nRCPT TO:<\"joe\">\r\n"
                                "RCPT TO:<joe.>\r\nDATA\r\n", "Subject: l\r\n\r\nlocal\r\n.\r\n"])
rs = out.split("\r\n")
t.is_(rs[rs.index("250 CHUNKING") + 1:-2],
      ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
       "501 5.1.3 Error: bad recipient address syntax", "501 5.1.3 Error: bad recipient address syntax",
       "354 End data with <CR><LF>.<CR><LF>"], "local-rcpt-to: RCPT TO:<joe> and <Root> accepted")
t.ok(rs[-2].startswith("250 2.0.0 Ok: queued as "), "  queued", out)
env = inst3.read(rs[-2].split()[-1]).decode().split("\nend\n")[0]
t.like(env, "\nrcpt joe\ndeliver joe\ntarget local:joe\n", "  <joe>: the system user joe")
t.ok(env.endswith("\nrcpt Root\ndeliver joe\ntarget local:joe"), "  <Root>: by its route (root, joe@example.test, joe)", env)
inst3.close()

# Durability: 250 only after the commit; a crash before it leaves no queue
# file, a crash after the rename leaves a complete one.
for step, queued in (("after-write", False), ("after-fsync", False), ("after-rename", True)):
    n0 = set(inst.queue())
    out, err = pipe_session(inst, ["EHLO crash.test\r\n", "MAIL FROM:<a@b.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n",
                                   "Subject: c\r\n\r\ncrash\r\n.\r\n"], env={"PM_SPOOL_CRASH_AT": step})
    t.ok("queued as" not in out, "crash %s: no 250 was sent" % step, out)
    new = set(inst.queue()) - n0
    t.is_(len(new), 1 if queued else 0, "crash %s: %s" % (step, "the message is in the queue" if queued else "nothing in the queue"))

# A full disk: 452 4.3.1 and nothing half-written (a tiny tmpfs spool in a
# private mount namespace).
# The session inside the namespace is fed by pipe_session (after the
# greeting, one chunk per read), not by a shell with sleeps.
session = ("import sys; sys.path.insert(0, %r); import pmtest\n"
           "class I:\n    def argv(self, name=None): return %r\n"
           "out, err = pmtest.pipe_session(I(), ['EHLO full.test\\r\\n', "
           "'MAIL FROM:<a@b.test>\\r\\nRCPT TO:<x@example.test>\\r\\nDATA\\r\\n'])\n"
           "sys.stdout.write(out)\n" % (os.path.join(os.path.dirname(__file__), "py"), inst.argv()))
script = ('mount -t tmpfs -o size=256k,mode=0755 tmpfs "%s" && chown nobody:nogroup "%s" && '
          'printf "EHLO full.test\\r\\n" | %s >/dev/null 2>&1; '
          'python3 -c "$0"; '
          'echo; find "%s/queue" "%s/tmp" -type f | wc -l'
          % (inst.spool, inst.spool, " ".join(inst.argv()), inst.spool, inst.spool))
r = subprocess.run(["unshare", "-m", "sh", "-c", script, session], capture_output=True, text=True,
                   timeout=60)
if r.returncode == 0 and "220 " in r.stdout:
    t.like(r.stdout, "\n452 4.3.1 Insufficient system storage\n", "full disk: 452 4.3.1 at DATA")
    t.is_(r.stdout.strip().splitlines()[-1], "0", "full disk: no file in queue/ or tmp/")
else:
    t.skip("no private mount namespace here: %s" % r.stderr.strip().replace("\n", " ")[:100])

t.done()
