#!/usr/bin/env python3
"""Which passwd accounts get local mail, with one rule ([core]
first-valid-uid, default 1000; never uid 0 or the overflow uid 65534)
wherever the local mailer delivers to accounts:

  - postmaster-smtpd in ~/Maildir mode refuses at RCPT (550 5.1.1) what
    postmaster-lmtpd would refuse later, so nothing is accepted only to
    bounce to a forged sender: a catch-all (@domain routed to itself) and
    a bare local name (local-rcpt-to = yes) for an unknown user, root,
    a system account or nobody; postmaster is always accepted (RFC 5321
    4.5.1). (local-rcpt-to, broken today, is another item's: bare names
    are reached here through routes);
  - a [pipe] local mailer (postmaster-queue) never runs its program as
    root, a system account or nobody: those deliveries fail permanently
    (5.7.1 / 5.1.1) and the program runs only as the account above the
    floor.

Needs root (useradd, the queue runs programs as users). Loopback only;
every server started here is stopped here."""
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
    print("1..0 # SKIP needs root (useradd, programs run as users)")
    sys.exit(0)
if shutil.which("tcpserver") is None or shutil.which("useradd") is None:
    print("1..0 # SKIP not installed: ucspi-tcp (tcpserver) or useradd")
    sys.exit(0)
watchdog(120)

# U: a person (uid >= 1000); S: a system account (useradd -r, uid < 1000)
# whose home it owns, so only the rule keeps mail from it.
U = "pmacct%d" % os.getpid()
S = "pmsacc%d" % os.getpid()
homes = tempfile.mkdtemp(prefix="pm-homes.")
os.chmod(homes, 0o755)
atexit.register(shutil.rmtree, homes, True)
for name, flags in ((U, []), (S, ["-r"])):
    home = os.path.join(homes, name)
    if subprocess.run(["useradd"] + flags + ["-M", "-d", home, "-s", "/usr/sbin/nologin",
                                             name]).returncode != 0:
        print("1..0 # SKIP useradd failed")
        sys.exit(0)
    atexit.register(subprocess.run, ["userdel", name], stderr=subprocess.DEVNULL)
    os.mkdir(home)
    shutil.chown(home, name)
uid = int(subprocess.run(["id", "-u", U], capture_output=True, text=True).stdout)
suid = int(subprocess.run(["id", "-u", S], capture_output=True, text=True).stdout)
t.ok(uid >= 1000 and suid < 1000, "the person's uid %d >= 1000, the system account's %d < 1000"
     % (uid, suid))


def rcpts(port, addrs):
    """The replies to RCPT TO for each address in one transaction."""
    c = Client(port)
    c.reply()
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<s@example.org>")
    got = [c.cmd("RCPT TO:<%s>" % a) for a in addrs]
    c.cmd("QUIT")
    c.close()
    return got


def unknown(a):
    return ("550 5.1.1 <%s>: Recipient address rejected: User unknown in local "
            "recipient table" % a)


# --- smtpd: ~/Maildir mode (the default), a catch-all and bare names ------
names = [U, S, "daemon", "nobody", "root", "nosuch%d" % os.getpid()]
inst = Instance(extra='[lmtpd]\nmaildir = "~/Maildir"\n',
                routes="@sys.test @sys.test\n"
                       + "".join("n%d@names.test %s\n" % (i, a) for i, a in enumerate(names)))
port = inst.tcpserver()
addrs = names + ["postmaster"]
t.is_(rcpts(port, ["%s@sys.test" % a for a in addrs]),
      ["250 2.1.5 Ok", unknown("%s@sys.test" % S), unknown("daemon@sys.test"),
       unknown("nobody@sys.test"), unknown("root@sys.test"),
       unknown("nosuch%d@sys.test" % os.getpid()), "250 2.1.5 Ok"],
      "catch-all in ~/Maildir mode: only the person (and postmaster) get 250 at RCPT")
# A route to a name with no route of its own: a system user for the local
# mailer (route_resolve.h), checked the same way.
t.is_(rcpts(port, ["n%d@names.test" % i for i in range(len(names))]),
      ["250 2.1.5 Ok"] + [unknown("n%d@names.test" % i) for i in range(1, len(names))],
      "routes to bare names: an unknown user, root, a system account or nobody "
      "is refused at RCPT")
t.is_(inst.queue(), [], "nothing was queued")

# The floor is [core]'s: raised above the person, the person is refused too.
inst2 = Instance(extra='first-valid-uid = %d\n[lmtpd]\nmaildir = "~/Maildir"\n' % (uid + 1),
                 routes="@sys.test @sys.test\n")
t.is_(rcpts(inst2.tcpserver(), ["%s@sys.test" % U]), [unknown("%s@sys.test" % U)],
      "[core] first-valid-uid = uid + 1 refuses the person at RCPT")

# --- the queue: a [pipe] local mailer runs as the account, never below ----
out = os.path.join(homes, "ids")
with open(out, "w"):
    pass
os.chmod(out, 0o666)
inst3 = Instance(
    extra='local-mailer = lda\n[pipe "lda"]\n'
          'exec = /bin/sh -c "id -u >>%s; cat >/dev/null"\n'
          '[pipe "sink"]\nexec = /bin/sh -c "cat >/dev/null"\n'
          # (the notice to postmaster about the null sender's failures)
          '[route]\npostmaster sink\n' % out,
    routes="usr@ex.test %s\nsys@ex.test %s\ndmn@ex.test daemon\nnob@ex.test nobody\n"
           "rt@ex.test root\n" % (U, S))
c = Client(inst3.tcpserver())
c.reply()
c.cmd("EHLO client.test")
got = [c.cmd("MAIL FROM:<>")]
got += [c.cmd("RCPT TO:<%s@ex.test>" % a) for a in ("usr", "sys", "dmn", "nob", "rt")]
got.append(c.cmd("DATA"))
got.append(c.cmd("Subject: x\r\n\r\nx\r\n."))
c.cmd("QUIT")
c.close()
t.is_(got[:7], ["250 2.1.0 Ok"] + ["250 2.1.5 Ok"] * 5 + ["354 End data with <CR><LF>.<CR><LF>"],
      "smtpd does not check accounts for a [pipe] local mailer (it may know other names)")
t.ok(got[7].startswith("250 2.0.0 Ok: queued as "), "the message is queued", got[7])
p = subprocess.run([os.path.join(PM_BIN, "postmaster-queue"), "-C", inst3.cdb, "--once"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
log = p.stderr.decode("utf-8", "replace")
t.is_(p.returncode, 0, "queue --once exits 0")
with open(out) as f:
    t.is_(f.read(), "%d\n" % uid, "the program ran once, as the person, and as nobody else")


def outcome(rcpt):
    m = re.search(r"to=<%s> .*dsn=(\S+) status=(\w+) \((.*)\)" % re.escape(rcpt), log)
    return m.groups() if m else log


t.is_(outcome(U), ("2.0.0", "sent", "2.0.0 delivered"), "the person's delivery is sent")
for r, a in (("sys", S), ("dmn", "daemon"), ("nob", "nobody")):
    uid_of = int(subprocess.run(["id", "-u", a], capture_output=True, text=True).stdout)
    t.is_(outcome(a), ("5.1.1", "bounced", "5.1.1 <%s>: system account uid %d gets no "
                       "mail ([core] first-valid-uid 1000)" % (a, uid_of)),
          "%s (uid %d): a permanent 5.1.1, the program not run" % (a, uid_of))
t.is_(outcome("root"), ("5.7.1", "bounced", "5.7.1 <root>: refusing to deliver as root "
                        "(route root's mail to a person)"), "root: a permanent 5.7.1")
t.is_(inst3.queue(), [], "nothing left queued (a null sender gets no bounce)")

t.done()
