#!/usr/bin/env python3
"""Postfix's LMTP client as the client of postmaster-lmtpd: a private
Postfix instance (postfix -c DIR, loopback only, no inet listeners) routes
the virtual domain example.test with virtual_transport =
lmtp:unix:DIR/lmtp.sock, and that socket is served by
systemd-socket-activate --inetd starting one postmaster-lmtpd per
connection, delivering into virtual Maildirs owned by nobody.

Three messages go in through Postfix's sendmail -C DIR: one to two
recipients (one LMTP transaction, one reply each), one with 8-bit text and
a line that starts with a dot, and one carrying a Delivered-To for its
recipient, which lmtpd refuses (554 5.4.6) and Postfix bounces back to the
sender, whose mailbox is also served by lmtpd."""
import atexit
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import Tap, PM_BIN  # noqa: E402

t = Tap()
if not shutil.which("postfix") or not os.path.exists("/etc/postfix/master.cf"):
    print("1..0 # SKIP Postfix is not installed")
    sys.exit(0)
if not shutil.which("systemd-socket-activate"):
    print("1..0 # SKIP systemd-socket-activate is not installed")
    sys.exit(0)
if os.geteuid() != 0:
    print("1..0 # SKIP needs root (a private Postfix instance)")
    sys.exit(0)

LMTPD = os.path.join(PM_BIN, "postmaster-lmtpd")
CFC = os.path.join(PM_BIN, "postmaster-cfcompile")

top = tempfile.mkdtemp(prefix="pm-lmtp-postfix.")
os.chmod(top, 0o755)
pf = os.path.join(top, "postfix")
mail = os.path.join(top, "mail")
sock = os.path.join(top, "lmtp.sock")
maillog = os.path.join(pf, "maillog")
state = {"sap": None, "postfix": False}


def postfix_master_pid():
    try:
        with open(os.path.join(pf, "queue", "pid", "master.pid")) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def stop_all():
    """Every server this test started is stopped, also on an early exit."""
    if state["postfix"]:
        state["postfix"] = False
        pid = postfix_master_pid()
        subprocess.run(["postfix", "-c", pf, "stop"], capture_output=True)
        deadline = time.time() + 10
        while pid and time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
    sap = state["sap"]
    if sap is not None:
        state["sap"] = None
        if sap.poll() is None:
            sap.send_signal(signal.SIGTERM)
            try:
                sap.wait(5)
            except subprocess.TimeoutExpired:
                sap.kill()
                sap.wait()
    shutil.rmtree(top, ignore_errors=True)


atexit.register(stop_all)

# --- postmaster-lmtpd: virtual Maildirs owned by nobody --------------------
os.mkdir(mail)
shutil.chown(mail, "nobody", "nogroup")
with open(os.path.join(top, "pm.cf"), "w") as f:
    f.write('[core]\nhostname = lmtp.example.test\nuser-id = nobody\n'
            'group-id = nogroup\n[lmtpd]\nmaildir = "%s/%%d/%%u/Maildir"\n' % mail)
r = subprocess.run([CFC, "-c", os.path.join(top, "pm.cf"), "-o",
                    os.path.join(top, "pm.cdb")], capture_output=True, text=True)
t.is_(r.returncode, 0, "lmtpd configuration compiles")

lmtpd_err = open(os.path.join(top, "lmtpd.err"), "w")
state["sap"] = subprocess.Popen(
    ["systemd-socket-activate", "-a", "--inetd", "-l", sock, LMTPD, "-C",
     os.path.join(top, "pm.cdb")],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=lmtpd_err)
deadline = time.time() + 10
while not os.path.exists(sock) and time.time() < deadline:
    time.sleep(0.05)
# Postfix's lmtp client runs as the postfix user: it must be able to connect.
os.chmod(sock, 0o666)
t.ok(os.path.exists(sock), "systemd-socket-activate listens on the unix socket")

# --- a private Postfix instance -------------------------------------------
for d in ("", "queue", "data"):
    os.makedirs(os.path.join(pf, d), exist_ok=True)
os.chmod(pf, 0o755)
shutil.chown(os.path.join(pf, "data"), "postfix")
with open("/etc/postfix/master.cf") as f:
    master = f.read()
# Debian chroots the lmtp client into the queue directory; the socket is
# outside it, so this instance runs it unchrooted.
master, nsub = re.subn(r"(?m)^(lmtp\s+unix\s+\S+\s+\S+\s+)\S+", r"\1n", master)
t.is_(nsub, 1, "master.cf has an lmtp service (made unchrooted)")
with open(os.path.join(pf, "master.cf"), "w") as f:
    f.write(master)
    f.write("postlog   unix-dgram n  -       n       -       1       postlogd\n")
with open(os.path.join(pf, "main.cf"), "w") as f:
    f.write("""compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
master_service_disable = inet
myhostname = relay.pf.test
myorigin = relay.pf.test
mydestination =
relayhost =
smtp_dns_support_level = disabled
virtual_mailbox_domains = example.test
virtual_mailbox_maps = static:x
virtual_transport = lmtp:unix:{sock}
lmtp_destination_recipient_limit = 50
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
alias_maps =
alias_database =
""".format(d=pf, sock=sock))
subprocess.run(["postfix", "-c", pf, "check"], capture_output=True)
r = subprocess.run(["postfix", "-c", pf, "start"], capture_output=True, text=True)
state["postfix"] = r.returncode == 0
if not t.is_(r.returncode, 0, "private Postfix instance started"):
    print("# " + r.stderr.replace("\n", "\n# "))
    t.done()

SENDER = "sender@example.test"
MSGS = [
    # (recipients, header and body as handed to sendmail, LF lines)
    (["joe@example.test", "ann@example.test"],
     "From: Sender <sender@example.test>\n"
     "To: joe@example.test, ann@example.test\n"
     "Subject: two recipients\n"
     "Date: Mon, 01 Jan 2024 10:00:00 +0000\n"
     "Message-ID: <one@pf.test>\n"
     "\n"
     "First line.\n"
     "\n"
     "After an empty line.\n"),
    (["bob@example.test"],
     "From: Sender <sender@example.test>\n"
     "To: bob@example.test\n"
     "Subject: dots and octets\n"
     "Date: Mon, 01 Jan 2024 10:00:01 +0000\n"
     "Message-ID: <two@pf.test>\n"
     "MIME-Version: 1.0\n"
     "Content-Type: text/plain; charset=utf-8\n"
     "Content-Transfer-Encoding: 8bit\n"
     "\n"
     ".leading dot\n"
     "..two dots\n"
     "gr\u00fc\u00dfe, \u00e9t\u00e9\n"
     "   indented line with trailing blanks   \n"
     "last line\n"),
    (["loop@example.test"],
     "Delivered-To: loop@example.test\n"
     "From: Sender <sender@example.test>\n"
     "To: loop@example.test\n"
     "Subject: looping\n"
     "Date: Mon, 01 Jan 2024 10:00:02 +0000\n"
     "Message-ID: <three@pf.test>\n"
     "\n"
     "This has been here before.\n"),
]

for rcpts, text in MSGS:
    r = subprocess.run(["sendmail", "-C", pf, "-f", SENDER, "-i"] + rcpts,
                       input=text.encode("utf-8"), capture_output=True)
    t.is_(r.returncode, 0, "sendmail -C accepts the message to %s" % ", ".join(rcpts))


def read_log():
    try:
        with open(maillog, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# Four status=sent (joe, ann, bob, the bounce to the sender) and one
# status=bounced (loop).
log = ""
deadline = time.time() + 40
while time.time() < deadline:
    log = read_log()
    if len(re.findall(r"status=sent", log)) >= 4 and "status=bounced" in log:
        break
    time.sleep(0.2)

# Postfix names a unix-socket relay as myhostname[PATH].
sock_re = re.escape("relay.pf.test[%s]" % sock)
for who in ("joe", "ann", "bob"):
    m = re.search(r"to=<%s@example\.test>, relay=%s, .*status=sent "
                  r"\(250 2\.0\.0 <%s@example\.test> Delivered\)" % (who, sock_re, who), log)
    t.ok(m is not None, "Postfix logs relay=...[%s], status=sent (250 2.0.0 ...) for %s"
         % (sock, who), log if m is None else None)

m = re.search(r"to=<loop@example\.test>, relay=%s, .*status=bounced \(host %s said: "
              r"554 5\.4\.6 <loop@example\.test> Mail loop detected" % (sock_re, sock_re), log)
t.ok(m is not None, "the Delivered-To loop: Postfix logs 554 5.4.6 and bounces", log if m is None else None)

m = re.search(r"to=<sender@example\.test>, relay=%s, .*status=sent \(250 2\.0\.0 "
              r"<sender@example\.test> Delivered\)" % sock_re, log)
t.ok(m is not None, "Postfix's bounce reaches the sender through lmtpd", log if m is None else None)

t.ok(re.search(r"lmtp\[\d+\]: .*lost connection|lmtp\[\d+\]: .*protocol error", log) is None,
     "no LMTP protocol errors in Postfix's log")

# The queue ids Postfix assigned, by the Message-ID it logged.
qid = {}
for m in re.finditer(r"\]: ([0-9A-Za-z]+): message-id=<([^>]+)>", log):
    qid[m.group(2)] = m.group(1)


def maildir_files(user):
    return sorted(glob.glob(os.path.join(mail, "example.test", user, "Maildir", "new", "*")))


def expect(user, text, msgid):
    """Return-Path and Delivered-To, then Postfix's Received field, then
    the message as given to sendmail, byte for byte, with LF line ends."""
    files = maildir_files(user)
    if not t.is_(len(files), 1, "%s: exactly one file in Maildir/new" % user):
        return
    with open(files[0], "rb") as f:
        got = f.read()
    head = ("Return-Path: <%s>\nDelivered-To: %s@example.test\n" % (SENDER, user)).encode()
    t.is_(got[:len(head)], head, "%s: Return-Path and Delivered-To come first" % user)
    rest = got[len(head):]
    recv = re.match(rb"Received: by relay\.pf\.test \(Postfix, from userid 0\)\n"
                    rb"\tid ([0-9A-Za-z]+); [^\n]+\n", rest)
    t.ok(recv is not None and recv.group(1).decode() == qid.get(msgid),
         "%s: then Postfix's Received field with its queue id" % user, rest[:300])
    body = rest[recv.end():] if recv else rest
    t.is_(body, text.encode("utf-8"), "%s: the message byte for byte, LF line ends" % user)
    t.ok(b"\r" not in got, "%s: no CR anywhere in the Maildir file" % user)
    st = os.stat(files[0])
    t.is_(st.st_uid, pwd.getpwnam("nobody").pw_uid, "%s: the file belongs to nobody" % user)
    tmpdir = os.path.join(mail, "example.test", user, "Maildir", "tmp")
    t.is_(os.listdir(tmpdir), [], "%s: nothing left in Maildir/tmp" % user)


expect("joe", MSGS[0][1], "one@pf.test")
expect("ann", MSGS[0][1], "one@pf.test")
expect("bob", MSGS[1][1], "two@pf.test")

t.is_(maildir_files("loop"), [], "no file for the looping recipient")

# The bounce: Return-Path <> and it quotes lmtpd's reply.
files = maildir_files("sender")
t.is_(len(files), 1, "the sender got one bounce")
if files:
    with open(files[0], "rb") as f:
        b = f.read()
    t.ok(b.startswith(b"Return-Path: <>\nDelivered-To: sender@example.test\n"),
         "the bounce has the null Return-Path", b[:200])
    t.ok(b"554 5.4.6 <loop@example.test> Mail loop detected" in b,
         "the bounce quotes lmtpd's 554 5.4.6 reply")

lmtpd_err.flush()
with open(os.path.join(top, "lmtpd.err"), errors="replace") as f:
    elog = f.read()
t.is_(len(re.findall(r"delivery: to=<[^>]+> from=<[^>]*> status=sent", elog)), 4,
      "lmtpd logs status=sent for joe, ann, bob and the bounce")
t.ok(re.search(r"to=<loop@example\.test>.*(loop|bounced|refused)", elog, re.I) is not None,
     "lmtpd logs the loop", elog)

stop_all()
t.ok(postfix_master_pid() is None, "Postfix and the socket listener are stopped")
t.done()
