#!/usr/bin/env python3
"""Local delivery end to end: postmaster-smtpd (under tcpserver) spools,
`postmaster-queue --once` hands the mail to postmaster-lmtpd, and the
Maildir holds it:

  - SMTPUTF8 mail (a UTF-8 local part, sender and Subject) to a virtual
    mailbox lands byte for byte, Return-Path and Delivered-To carrying
    the UTF-8 address; no bounce, nothing left queued (RFC 6531);
  - alice@, ALICE@ and Alice@ of a virtual domain are one mailbox, spelled
    as the route line spells it; a catch-all (@domain routed to itself)
    folds the local part to lower case: one Maildir with three messages.

Loopback only; every server started here is stopped here."""
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import PM_BIN, Client, Instance, Tap, watchdog  # noqa: E402

t = Tap()
if os.getuid() != 0:
    print("1..0 # SKIP needs root (the runner drops to nobody)")
    sys.exit(0)
if shutil.which("tcpserver") is None:
    print("1..0 # SKIP not installed: ucspi-tcp (tcpserver)")
    sys.exit(0)
watchdog(120)

# The Maildirs, written by postmaster-lmtpd as nobody.
mail = tempfile.mkdtemp(prefix="pm-mail.")
os.chmod(mail, 0o755)
shutil.chown(mail, "nobody", "nogroup")
atexit.register(shutil.rmtree, mail, True)

inst = Instance(
    extra='[lmtpd]\nmaildir = "%s/%%d/%%u/Maildir"\n' % mail,
    routes="jösé@v.test jösé@v.test\nalice@v.test alice@v.test\n"
           "Carol.Ann@v.test Carol.Ann@v.test\n@any.test @any.test\n")
port = inst.tcpserver()


def send(sender, rcpts, data, mail_params=""):
    """One transaction; the replies to MAIL, each RCPT and the data."""
    c = Client(port)
    c.reply()
    c.cmd("EHLO client.test")
    got = [c.cmd("MAIL FROM:<%s>%s" % (sender, mail_params))]
    got += [c.cmd("RCPT TO:<%s>" % r) for r in rcpts]
    if c.cmd("DATA").startswith("354"):
        c.send(data)
        got.append(c.reply())
    c.cmd("QUIT")
    c.close()
    return got


def run_queue():
    """postmaster-queue --once; its exit status and log."""
    p = subprocess.run([os.path.join(PM_BIN, "postmaster-queue"), "-C", inst.cdb,
                        "--once"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def maildir_files(local, domain="v.test"):
    new = os.path.join(mail, domain, local, "Maildir", "new")
    if not os.path.isdir(new):
        return []
    return [os.path.join(new, f) for f in sorted(os.listdir(new))]


def without_received(msg):
    """msg without smtpd's Received field (its text has a date and an id)."""
    out, skip = [], False
    for line in msg.splitlines(True):
        if line.startswith(b"Received:"):
            skip = True
        elif not (skip and line[:1] in (b" ", b"\t")):
            skip = False
            out.append(line)
    return b"".join(out)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# --- SMTPUTF8 to a local virtual mailbox (RFC 6531) ----------------------
body = ("From: Sé <sé@example.org>\r\nTo: jösé@v.test\r\n"
        "Subject: Grüße, 日本\r\n\r\nbödy\r\n.dot\r\n")
got = send("sé@example.org", ["jösé@v.test"], body.replace("\r\n.", "\r\n..") + ".\r\n",
           " SMTPUTF8 BODY=8BITMIME")
t.is_(got[:2], ["250 2.1.0 Ok", "250 2.1.5 Ok"], "smtpd takes the SMTPUTF8 transaction")
t.ok(got[2].startswith("250 2.0.0 Ok: queued as "), "and queues the message", got)
rc, log = run_queue()
t.is_(rc, 0, "queue --once exits 0")
# (the log escapes non-ASCII octets: match around the address)
t.ok(re.search(r"to=<\S+@v\.test> orig_to=<\S+@v\.test> relay=lmtpd .*dsn=2\.0\.0 "
               r"status=sent \(250 2\.0\.0 <\S+@v\.test> Delivered\)", log),
     "delivered by lmtpd, with its 250", log)
t.ok("bounced" not in log and "5.6.7" not in log, "no bounce", log)
files = maildir_files("jösé")
t.is_(len(files), 1, "one file in the UTF-8 named Maildir")
if files:
    want = ("Return-Path: <sé@example.org>\nDelivered-To: jösé@v.test\n"
            + body.replace("\r\n", "\n")).encode()
    t.is_(without_received(read(files[0])), want,
          "the Maildir file is byte for byte the message with UTF-8 Return-Path "
          "and Delivered-To")
else:
    t.ok(False, "the Maildir file")
t.is_(inst.queue(), [], "nothing left in the queue")


# --- case variants: one mailbox ------------------------------------------
def mailboxes(domain):
    d = os.path.join(mail, domain)
    return set(os.listdir(d)) if os.path.isdir(d) else set()


def three_spellings(spellings, domain, mailbox, what):
    """Three messages, one to each spelling: one new Maildir holds them."""
    before = mailboxes(domain)
    for a in spellings:
        got = send("s@example.org", ["%s@%s" % (a, domain)],
                   "Subject: to %s\r\n\r\nx\r\n.\r\n" % a)
        t.ok(got[1] == "250 2.1.5 Ok" and got[2].startswith("250 2.0.0 Ok: queued as "),
             "%s: %s@%s is accepted and queued" % (what, a, domain), got)
    rc, log = run_queue()
    t.is_(sorted(mailboxes(domain) - before), [mailbox], "%s: one Maildir, %s" % (what, mailbox))
    msgs = [read(f) for f in maildir_files(mailbox, domain)]
    t.is_(sorted(m.split(b"Subject: to ")[1].split(b"\n")[0].decode() for m in msgs),
          sorted(spellings), "%s: it holds the three messages" % what)
    t.is_(sorted(set(m.split(b"\n")[1].decode() for m in msgs)),
          ["Delivered-To: %s@%s" % (mailbox, domain)],
          "%s: Delivered-To spells the mailbox's address" % what)
    t.is_(inst.queue(), [], "%s: nothing left in the queue" % what)


three_spellings(["alice", "ALICE", "Alice"], "v.test", "alice", "route line")
three_spellings(["carol.ann", "CAROL.ANN", "Carol.ann"], "v.test", "Carol.Ann",
                "mixed-case route line")
three_spellings(["bob", "BOB", "Bob"], "any.test", "bob", "catch-all")

t.done()
