#!/usr/bin/env python3
"""[smtpd] pipelining = full against real backends, end to end:

  - Dovecot's LMTP server (a private `dovecot -c FILE -F`, passwd-file
    users, Maildir, the quota plugin): an unknown user is refused at RCPT
    with Dovecot's own reply, a mailbox over its quota refuses at the end
    of data, a delivered message is in the Maildir and not in our queue;
  - a private Postfix (postfix -c DIR on 127.0.0.1:PORT) with virtual
    mailboxes: its recipient check refuses at RCPT, its 250 with its
    queue id reaches our client;
  - postmaster-lmtpd as the local mailer (virtual Maildirs), started by
    smtpd itself.

Loopback only. Every server started here is stopped here."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import (Instance, Tap, dovecot_lmtp_conf, end_process, free_port,  # noqa: E402
                    listening, private_postfix,
                    require, wait_for, watchdog)
from pmbackend import Session  # noqa: E402

require(root_why="private Dovecot and Postfix instances",
        programs={"dovecot": "dovecot-core", "postfix": "postfix"})
if not os.path.exists("/usr/lib/dovecot/lmtp"):
    print("1..0 # SKIP not installed: dovecot-lmtpd")
    sys.exit(0)
watchdog(250)
t = Tap()
TOP = tempfile.mkdtemp(prefix="pm-pxpeers.")
os.chmod(TOP, 0o755)
PROCS, STOPS = [], []


def cleanup():
    for argv in STOPS:
        subprocess.run(argv, capture_output=True, timeout=30)
    for p in PROCS:
        end_process(p)
    shutil.rmtree(TOP, ignore_errors=True)


import atexit  # noqa: E402
atexit.register(cleanup)


def mkdir(*parts, owner=None):
    d = os.path.join(TOP, *parts)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    if owner:
        shutil.chown(d, owner, "nogroup" if owner == "nobody" else None)
    return d


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


QID = r"[0-9A-F]{30}"
BODY = "Subject: through the proxy\r\n\r\n" + "a line of text\r\n" * 100 + "end"

# ------------------------------------------------------------ Dovecot
DOVE = mkdir("dovecot")
MAIL = mkdir("dovecot", "mail", owner="nobody")
mkdir("dovecot", "run")
mkdir("dovecot", "state")
SOCK = os.path.join(DOVE, "run", "lmtp")
with open(os.path.join(DOVE, "passwd"), "w") as f:
    f.write("alice@dove.test:{PLAIN}x:65534:65534::%s::\n" % MAIL)
    f.write("full@dove.test:{PLAIN}x:65534:65534::%s::userdb_quota_rule=*:storage=1K\n" % MAIL)
dovecot_lmtp_conf(DOVE, "pm-pxpeers-%d" % os.getpid(), """mail_plugins = quota
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=100M
}
""")
PROCS.append(subprocess.Popen(["dovecot", "-c", os.path.join(DOVE, "dovecot.conf"), "-F"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
t.ok(wait_for(lambda: listening(path=SOCK), 20), "a private Dovecot LMTP server listens")

# ------------------------------------------------------------ Postfix
PF_PORT = free_port()
pf = mkdir("postfix")
vmail = mkdir("postfix", "vmail", owner="nobody")
STOPS.append(["postfix", "-c", pf, "stop"])
ok, err = private_postfix(pf, PF_PORT, """myhostname = receiver.pf.test
mydestination =
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
smtp_dns_support_level = disabled
smtpd_recipient_restrictions = check_recipient_access
    inline:{{ {{blocked@pf.test=REJECT 5.7.1 blocked here}} }},
    permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = pf.test
virtual_mailbox_base = {d}/vmail
virtual_mailbox_maps = inline:{{ carol@pf.test=carol/ }}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
""".format(d=pf))
t.ok(ok and wait_for(lambda: listening(PF_PORT), 30),
     "a private Postfix listens on 127.0.0.1:%d" % PF_PORT, err)

inst = Instance(extra="""
[relay "dovecot"]
protocol = lmtp
address = {sock}
[relay "postfix"]
address = 127.0.0.1:{pf}
[smtpd "px.test"]
routing-table = ext
pipelining = full
proxy-timeout = 20s
""".format(sock=SOCK, pf=PF_PORT), routes="@dove.test dovecot\n@pf.test postfix\n")

# ------------------------------------------------------------ Dovecot tests
s = Session(inst)
r = s.mail("s@x.test", ["alice@dove.test", "bob@dove.test"], BODY)
log = s.end()
t.ok(re.match(r"550 5\.1\.1 <bob@dove\.test> User doesn't exist", r[2]),
     "Dovecot: an unknown user is refused at RCPT with Dovecot's reply", r)
t.ok(re.match(r"250 2\.0\.0 <alice@dove\.test> \S+ Saved", r[-1]),
     "Dovecot: the client gets Dovecot's own 250 at the end of data", r)
files = glob.glob(os.path.join(MAIL, "alice", "new", "*"))
got = read(files[0], "rb").decode("utf-8", "replace") if files else ""
t.ok(len(files) == 1 and "Subject: through the proxy" in got and got.rstrip().endswith("end")
     and inst.queue() == [], "Dovecot: in alice's Maildir, not in our queue", (files, inst.queue()))
t.ok(re.search(r"%s: proxied from=<s@x\.test> size=\d+ nrcpt=1 relay=%s status=delivered "
               r"\(250 2\.0\.0 <alice@dove\.test>" % (QID, re.escape(SOCK)), log),
     "Dovecot: the transaction's log line", log)

s = Session(inst)
r = s.mail("s@x.test", ["full@dove.test"], BODY)
s.end()
t.ok(re.match(r"552 5\.2\.2 <full@dove\.test> Quota exceeded", r[-1]) and inst.queue() == [],
     "Dovecot: over quota at the end of data, the client gets Dovecot's 552, nothing queued", r)

s = Session(inst)
r = s.mail("s@x.test", ["alice@dove.test", "full@dove.test"], BODY)
log = s.end()
q = inst.queue()
env = inst.read(q[0]).decode("utf-8", "replace") if q else ""
t.ok(re.match(r"250 2\.0\.0 Ok: queued as %s$" % QID, r[-1]) and len(q) == 1
     and re.search(r"rcpt alice@dove\.test\n.*\n.*\nproxied 250 2\.0\.0 <alice@dove\.test>", env)
     and re.search(r"rcpt full@dove\.test\ndeliver full@dove\.test\n"
                   r"target error:552 5\.2\.2 <full@dove\.test> Quota exceeded", env),
     "Dovecot, mixed outcomes to an SMTP client: 250, alice sent, full to bounce with Dovecot's 552",
     (r, env[:700]))
for x in q:
    os.unlink(os.path.join(inst.spool, "queue", x))

s = Session(inst)
r = s.mail("s@x.test", ["alice@dove.test", "full@dove.test"], BODY, ehlo="LHLO client.test")
r.append(s.c.reply())
s.end()
t.ok(re.match(r"250 2\.0\.0 <alice@dove\.test>", r[-2]) and re.match(r"552 5\.2\.2 <full@dove\.test>", r[-1])
     and inst.queue() == [], "Dovecot, LMTP client: each recipient gets Dovecot's reply, nothing queued", r)

# ------------------------------------------------------------ Postfix tests
s = Session(inst)
r = s.mail("s@x.test", ["carol@pf.test", "dave@pf.test", "blocked@pf.test"], BODY)
log = s.end()
t.ok(re.match(r"550 5\.1\.1 <dave@pf\.test>: Recipient address rejected", r[2]),
     "Postfix: an unknown mailbox refused at RCPT with Postfix's reply", r)
t.ok(re.match(r"554 5\.7\.1 <blocked@pf\.test>: Recipient address rejected: blocked here", r[3]),
     "Postfix: its recipient restriction refuses at RCPT", r)
m = re.match(r"250 2\.0\.0 Ok: queued as (\w+)$", r[-1])
t.ok(m and inst.queue() == [], "Postfix: its own 250 with its queue id, nothing in our queue", r)
pfid = m.group(1) if m else "none"
maillog = os.path.join(pf, "maillog")
t.ok(wait_for(lambda: os.path.exists(maillog) and re.search(
    r"%s: to=<carol@pf\.test>.*status=sent" % pfid, read(maillog)), 30),
    "Postfix delivered it (its log, same id)", read(maillog)[-1500:] if os.path.exists(maillog) else "")

# ------------------------------------------------------------ postmaster-lmtpd
os.mkdir(os.path.join(inst.dir, "mail"))
shutil.chown(os.path.join(inst.dir, "mail"), "nobody", "nogroup")
s = Session(inst)
r = s.mail("s@x.test", ["joe@example.test"], BODY)
log = s.end()
files = glob.glob(os.path.join(inst.dir, "mail", "joe", "Maildir", "new", "*"))
t.ok(re.match(r"250 2\.0\.0 ", r[-1]) and "queued as" not in r[-1] and len(files) == 1
     and inst.queue() == [] and re.search(r"relay=postmaster-lmtpd status=delivered", log),
     "postmaster-lmtpd started by smtpd: delivered into joe's Maildir, nothing queued", (r, files, log))

t.done()
