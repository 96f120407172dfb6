#!/usr/bin/env python3
"""postmaster-queue against real peers, end to end: every message enters
through the real postmaster-smtpd (pipe mode) and leaves through
postmaster-queue (--once, or a running runner for the retry after
--flush), to

  - Postfix's smtp-sink answering 450 first, 250 after a restart;
  - Dovecot's LMTP server (a private `dovecot -c FILE -F`, passwd-file
    users, Maildir), one known and one unknown recipient;
  - a second private Postfix instance (postfix -c DIR, smtpd on
    127.0.0.1:PORT, virtual Maildir delivery);
  - MX hosts found through a dnsmasq on 127.0.0.1 that this test starts
    ([core] dns-server), on the port [core] smtp-port names; a null MX;
  - slow pipes, to show [core] max-per-destination holds.

Loopback only. Every server started here is stopped here, also on an
early exit (atexit, SIGALRM, SIGTERM)."""
import atexit
import email
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import (PM_BIN, Instance, Tap, dns_answers, dovecot_lmtp_conf,  # noqa: E402
                    end_process, free_port,
                    listening, private_postfix, wait_for, watchdog)

t = Tap()
ROOT = os.getuid() == 0
if not ROOT:
    print("1..0 # SKIP needs root (private Dovecot and Postfix instances)")
    sys.exit(0)
NEED = {"smtp-sink": "postfix", "postfix": "postfix", "dovecot": "dovecot-core",
        "dnsmasq": "dnsmasq-base", "flock": "util-linux"}
missing = [p for p in NEED if shutil.which(p) is None]
if missing or not os.path.exists("/usr/lib/dovecot/lmtp"):
    print("1..0 # SKIP not installed: %s" % " ".join(
        sorted(set(NEED[m] for m in missing)) or ["dovecot-lmtpd"]))
    sys.exit(0)

QUEUE = os.path.join(PM_BIN, "postmaster-queue")
# As `make test`: LeakSanitizer cannot stop the world in a process that
# dropped privileges (it is no longer dumpable).
os.environ.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=0")
os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
TOP = tempfile.mkdtemp(prefix="pm-peers.")
os.chmod(TOP, 0o755)
PROCS = []          # Popen objects: terminated at exit
STOPS = []          # argv lists run at exit (postfix -c DIR stop)


def cleanup():
    for argv in STOPS:
        subprocess.run(argv, capture_output=True, timeout=30)
    del STOPS[:]
    for p in PROCS:
        end_process(p)
    del PROCS[:]
    shutil.rmtree(TOP, ignore_errors=True)


watchdog(88)


def start(argv, **kw):
    kw.setdefault("stdout", subprocess.DEVNULL)
    kw.setdefault("stderr", subprocess.DEVNULL)
    p = subprocess.Popen(argv, **kw)
    PROCS.append(p)
    return p


def stop(p):
    end_process(p)
    if p in PROCS:
        PROCS.remove(p)


def mkdir(*parts, owner=None, mode=0o755):
    d = os.path.join(TOP, *parts)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, mode)
    if owner:
        shutil.chown(d, owner, "nogroup" if owner == "nobody" else None)
    return d


def script(name, text):
    path = os.path.join(TOP, "bin", name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


# ------------------------------------------------------------ the setup

mkdir("bin")
OUT = mkdir("out", mode=0o777)
SINK_PORT = free_port()
MX_PORT = free_port()
PF_PORT = free_port()


def free_dns_port():
    """A port free for both UDP and TCP: dnsmasq binds both."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            c.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            c.close()
    return port


DNS_PORT = free_dns_port()
DOVE = mkdir("dovecot")
LMTP_SOCK = os.path.join(DOVE, "run", "lmtp")

# keep RCPT: one file per message, argv and stdin (bounces land here)
KEEP = script("keep", """#!/bin/sh
f=$(mktemp "%s/keep.XXXXXX")
{ echo "argv: $*"; cat; } >"$f"
exit 0
""" % OUT)

# slow TAG: counts how many run at once, per TAG and in all, under flock
for f in ("lock", "cur.a", "max.a", "cur.b", "max.b", "cur.all", "max.all"):
    with open(os.path.join(OUT, f), "w") as fh:
        fh.write("" if f == "lock" else "0\n")
    os.chmod(os.path.join(OUT, f), 0o666)
SLOW = script("slow", """#!/bin/sh
d=%s
exec 9>>"$d/lock"
up() { # up TAG DELTA
	n=$(( $(cat "$d/cur.$1") + $2 ))
	echo "$n" >"$d/cur.$1"
	[ "$n" -gt "$(cat "$d/max.$1")" ] && echo "$n" >"$d/max.$1"
	return 0
}
flock 9; up "$1" 1; up all 1; flock -u 9
sleep 1
flock 9; up "$1" -1; up all -1; flock -u 9
cat >/dev/null
exit 0
""" % OUT)

inst = Instance(name="mx.test", extra="""retry-interval = 1m
dns-server = "127.0.0.1:{dns}"
smtp-port = {mx}
queue-concurrency = 10
max-per-destination = 2
bounce-to = sender
""".format(dns=DNS_PORT, mx=MX_PORT), routes="""@sink.test sink
@dove.test dovecot
@pf.test postfix
mx@fwd.test someone@mxd.test
null@fwd.test someone@nullmx.test
@slow.test slow
@slow2.test slow2

[route]
@back.test keep
postmaster keep

[relay "sink"]
address = 127.0.0.1:{sink}
[relay "dovecot"]
protocol = lmtp
address = "{lmtp}"
[relay "postfix"]
address = 127.0.0.1:{pf}
[pipe "keep"]
exec = "{keep}" "${{RCPT_TO}}"
[pipe "slow"]
exec = "{slow}" "a"
[pipe "slow2"]
exec = "{slow}" "b"
""".format(sink=SINK_PORT, lmtp=LMTP_SOCK, pf=PF_PORT, keep=KEEP, slow=SLOW))
atexit.register(cleanup)    # runs before the Instance's own (LIFO)
QLOG = os.path.join(TOP, "queue.log")
SMTPD_LOG = os.path.join(TOP, "smtpd.log")


def body(subject, extra=""):
    """A message as the client sends it (CRLF, dot-stuffed) and as a
    receiver keeps it (unstuffed)."""
    lines = ["From: Sender <sender@back.test>", "To: rcpt@peers.test",
             "Subject: " + subject, "Date: Sun, 29 Nov 2026 12:00:00 +0000",
             "Message-ID: <%s.%d@client.test>" % (subject.replace(" ", "-"),
                                                  time.monotonic_ns()),
             "", "First line of %s." % subject, ".a line with a leading dot",
             "tail" + extra, ""]
    kept = "\r\n".join(lines)
    sent = "\r\n".join("." + l if l.startswith(".") else l for l in lines)
    return sent, kept


def submit(rcpts, subject, count=1, sender="sender@back.test", extra=""):
    """Spools count messages through postmaster-smtpd on a pipe, waiting
    for each reply as a client must; returns (ids, the kept form of the
    last message)."""
    p = subprocess.Popen(inst.argv(), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=open(SMTPD_LOG, "a"))
    said = []

    def reply():
        while True:
            line = p.stdout.readline().decode("utf-8", "replace")
            said.append(line.rstrip("\r\n"))
            if line[3:4] != "-":
                return line

    def cmd(text):
        p.stdin.write(text.encode())
        p.stdin.flush()
        return reply()

    ids, kept = [], None
    try:
        reply()
        cmd("EHLO client.test\r\n")
        for i in range(count):
            sent, kept = body(subject if count == 1 else "%s %d" % (subject, i),
                              extra)
            cmd("MAIL FROM:<%s>\r\n" % sender)
            for r in rcpts:
                cmd("RCPT TO:<%s>\r\n" % r)
            if cmd("DATA\r\n").startswith("354"):
                m = re.match(r"250 2\.0\.0 Ok: queued as ([0-9A-F]+)",
                             cmd(sent + ".\r\n"))
                if m:
                    ids.append(m.group(1))
        cmd("QUIT\r\n")
    finally:
        p.stdin.close()
        p.wait(30)
        p.stdout.close()
    if len(ids) != count:
        print("# smtpd said: " + "\n# ".join(said))
    return ids, kept


def run_once():
    with open(QLOG, "a") as log:
        return subprocess.run([QUEUE, "-C", inst.cdb, "--once"], stderr=log,
                              timeout=60).returncode


def qlog():
    return read(QLOG) if os.path.exists(QLOG) else ""


OLDLOGS = []


def reset_qlog():
    OLDLOGS.append(qlog())
    open(QLOG, "w").close()


def sanitizer_reports():
    """ASan/UBSan/LSan output of the queue runner or smtpd, if any."""
    text = "".join(OLDLOGS) + qlog()
    if os.path.exists(SMTPD_LOG):
        text += read(SMTPD_LOG)
    return [l for l in text.splitlines() if "Sanitizer" in l or
            "runtime error:" in l]


def keep_files():
    return sorted(glob.glob(os.path.join(OUT, "keep.*")))


def dsn_of(path):
    """(argv line, [(Final-Recipient, Action, Status, Diagnostic-Code,
    Remote-MTA)]) of a DSN a keep file holds."""
    with open(path, "rb") as f:
        argv = f.readline().decode().strip()
        m = email.message_from_binary_file(f)
    if m.get_content_type() != "multipart/report":
        return argv, None
    rows = []
    for r in m.get_payload()[1].get_payload()[1:]:
        rows.append((r["Final-Recipient"], r["Action"], r["Status"],
                     r["Diagnostic-Code"], r["Remote-MTA"]))
    return argv, rows


def lf(s):
    return s.replace("\r\n", "\n")


def sink_holds(dump, kept):
    """smtp-sink -d writes LF lines and one empty line after the data."""
    return lf(dump).endswith(lf(kept) + "\n")


# ---------------------------------------------- smtp-sink: 450, then 250

def sink_tests():
    dump = mkdir("sinkdump", mode=0o777)
    sink = start(["smtp-sink", "-u", "nobody", "-r", "RCPT",
                  "127.0.0.1:%d" % SINK_PORT, "10"])
    t.ok(wait_for(lambda: listening(SINK_PORT)), "smtp-sink (450 on RCPT) listens")
    ids, kept = submit(["a@sink.test", "b@sink.test"], "sink retry")
    t.is_(len(ids), 1, "smtpd spooled the message")
    qid = ids[0] if ids else "none"
    t.is_(run_once(), 0, "queue --once exits 0")
    log = qlog()
    t.ok(re.search(r"%s to=<a@sink\.test> orig_to=<a@sink\.test> relay=127\.0\.0\.1"
                   r"\[127\.0\.0\.1\]:%d delay=\d+s attempts=1 dsn=4\.3\.0 "
                   r"status=deferred \(450 4\.3\.0 " % (qid, SINK_PORT), log),
         "the 450 defers, with the sink's reply in the log line", log)
    t.ok(qid in inst.queue(), "the deferred message stays queued")
    lst = subprocess.run([QUEUE, "-C", inst.cdb, "--list"], capture_output=True,
                         text=True).stdout
    t.ok(re.search(r"<b@sink\.test> target=relay:sink status=pending attempts=1 "
                   r"next=\d{4}-", lst) and "(smtp; 450 4.3.0" in lst,
         "--list: pending, one attempt, a next try in the future, the reply", lst)
    stop(sink)

    # The sink comes back accepting; a running runner gets --flush.
    sink = start(["smtp-sink", "-u", "nobody", "-d", dump + "/%M.",
                  "127.0.0.1:%d" % SINK_PORT, "10"])
    wait_for(lambda: listening(SINK_PORT))
    reset_qlog()
    runner = start([QUEUE, "-C", inst.cdb], stderr=open(QLOG, "a"))
    wait_for(lambda: "started:" in qlog(), 10)
    t.ok("started: 1 messages in the queue" in qlog(),
         "a running runner scanned the queue at start", qlog())
    time.sleep(0.3)
    t.ok("status=sent" not in qlog(), "nothing is retried before its time")
    r = subprocess.run([QUEUE, "-C", inst.cdb, "--flush"], capture_output=True,
                       text=True)
    t.is_(r.returncode, 0, "--flush to the running runner exits 0")
    wait_for(lambda: "%s removed" % qid in qlog(), 15)
    log = qlog()
    for a in ("a", "b"):
        t.ok(re.search(r"%s to=<%s@sink\.test> orig_to=<%s@sink\.test> "
                       r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d delay=\d+s "
                       r"attempts=2 dsn=2\.0\.0 status=sent \(250 2\.0\.0 "
                       % (qid, a, a, SINK_PORT), log),
             "after --flush %s@sink.test is sent on attempt 2" % a, log)
    t.ok("%s removed" % qid in log, "one line when the message leaves", log)
    t.is_(inst.queue(), [], "the queue is empty")
    stop(runner)
    t.like(qlog(), "SIGTERM: stopping", "the runner stops on SIGTERM")
    files = glob.glob(os.path.join(dump, "*"))
    got = read(files[0], "rb").decode("utf-8", "replace") if files else ""
    t.ok(len(files) == 1 and "X-Rcpt-Args: <a@sink.test>" in got and
         "X-Rcpt-Args: <b@sink.test>" in got and sink_holds(got, kept),
         "the sink holds one message, both RCPTs, the body byte for byte",
         got[-800:])
    stop(sink)


# ---------------------------- the "wire" flag: smtpd measured, the queue trusts

def wire_tests():
    """smtpd records in the envelope whether every line is canonical and
    within 998 octets ("wire 1", spool(5)); the queue then sends the
    spool's bytes without reading them first. A message with a long line
    says "wire 0" and still leaves broken at 998 octets."""
    dump = mkdir("wiredump", mode=0o777)
    sink = start(["smtp-sink", "-u", "nobody", "-d", dump + "/%M.",
                  "127.0.0.1:%d" % SINK_PORT, "10"])
    t.ok(wait_for(lambda: listening(SINK_PORT)), "smtp-sink listens (wire)")
    ids1, kept1 = submit(["w1@sink.test"], "wire short")
    ids2, kept2 = submit(["w2@sink.test"], "wire long", extra=" " + "x" * 2500)
    envs = [inst.read(i).split(b"\nend\n")[0] for i in ids1 + ids2]
    t.ok(len(envs) == 2 and b"\nwire 1\n" in envs[0] and
         b"\nwire 0\n" in envs[1],
         "envelopes: wire 1 for short lines, wire 0 with a 2505-octet line",
         envs)
    t.is_(run_once(), 0, "queue --once exits 0 (wire)")
    got = {}
    for f in glob.glob(os.path.join(dump, "*")):
        text = read(f, "rb").decode("utf-8", "replace")
        for r in ("w1", "w2"):
            if "X-Rcpt-Args: <%s@sink.test>" % r in text:
                got[r] = text
    t.ok(sink_holds(got.get("w1", ""), kept1),
         "wire 1: the sink holds the body byte for byte", got.get("w1", "")[-300:])
    broken = kept2.replace(" " + "x" * 2500, " " + "x" * 993 + "\r\n" +
                           "x" * 998 + "\r\n" + "x" * 509)
    t.ok(sink_holds(got.get("w2", ""), broken),
         "wire 0: the long line arrives broken after 998 octets",
         got.get("w2", "")[-300:])
    stop(sink)


# --------------------------------------------------- Dovecot LMTP server

def dovecot_tests():
    mail = mkdir("dovecot", "mail", owner="nobody")
    mkdir("dovecot", "run")
    mkdir("dovecot", "state")
    with open(os.path.join(DOVE, "passwd"), "w") as f:
        f.write("alice@dove.test:{PLAIN}secret:65534:65534::%s::\n" % mail)
    conf = dovecot_lmtp_conf(DOVE, "pm-peers-%d" % os.getpid())
    dove = start(["dovecot", "-c", conf, "-F"])
    up = wait_for(lambda: listening(path=LMTP_SOCK), 15)
    t.ok(up, "a private Dovecot LMTP server listens on %s" % LMTP_SOCK,
         read(os.path.join(DOVE, "dovecot.log")) if os.path.exists(
             os.path.join(DOVE, "dovecot.log")) else "no log")
    before = set(keep_files())
    reset_qlog()
    ids, kept = submit(["alice@dove.test", "bob@dove.test"], "to dovecot")
    qid = ids[0] if ids else "none"
    t.is_(run_once(), 0, "queue --once exits 0")
    log = qlog()
    t.ok(re.search(r"%s to=<alice@dove\.test> .*relay=%s delay=\d+s attempts=1 "
                   r"dsn=2\.0\.0 status=sent \(250 2\.0\.0 <alice@dove\.test> "
                   % (qid, re.escape(LMTP_SOCK)), log),
         "LMTP: alice sent (her own reply)", log)
    t.ok(re.search(r"%s to=<bob@dove\.test> .*dsn=5\.1\.1 status=bounced "
                   r"\(550 5\.1\.1 <bob@dove\.test> User doesn't exist" % qid, log),
         "LMTP: bob bounced with Dovecot's 550 5.1.1", log)
    files = glob.glob(os.path.join(mail, "alice", "new", "*"))
    got = read(files[0], "rb").decode("utf-8", "replace") if files else ""
    t.ok(len(files) == 1 and got.endswith(lf(kept)),
         "one message in alice's Dovecot Maildir, the body byte for byte",
         got[-600:])
    t.ok(got.startswith("Return-Path: <sender@back.test>\n") and
         "\nDelivered-To: alice@dove.test\n" in got and
         re.search(r"\nReceived: from client\.test .*\n\tby mx\.test \(Postmaster\)",
                   got) is not None,
         "Dovecot's Return-Path and Delivered-To, then our Received", got[:600])
    t.ok(not os.path.exists(os.path.join(mail, "bob")), "nothing for bob")
    new = [f for f in keep_files() if f not in before]
    argv, rows = dsn_of(new[0]) if len(new) == 1 else ("", None)
    t.is_(argv, "argv: sender@back.test", "one DSN, to the sender")
    t.ok(rows is not None and len(rows) == 1 and
         rows[0][0] == "rfc822; bob@dove.test" and rows[0][1] == "failed" and
         rows[0][2] == "5.1.1" and
         rows[0][3].startswith("smtp; 550 5.1.1 <bob@dove.test> User doesn't exist")
         and rows[0][4] == "dns; mx.test",
         "the DSN: bob only, failed, 5.1.1, Dovecot's reply, Remote-MTA "
         "(a unix socket: our own host name)", rows)
    t.is_(inst.queue(), [], "the queue is empty (bounce delivered)")
    stop(dove)
    t.ok(wait_for(lambda: not os.path.exists(os.path.join(DOVE, "run", "master.pid")),
                  10), "Dovecot stopped")


# ------------------------------------------- a second Postfix instance

def postfix_tests():
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
virtual_mailbox_domains = pf.test
virtual_mailbox_base = {d}/vmail
virtual_mailbox_maps = inline:{{ carol@pf.test=carol/ }}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
""".format(d=pf))
    t.ok(ok and wait_for(lambda: listening(PF_PORT), 20),
         "a private Postfix instance listens on 127.0.0.1:%d" % PF_PORT,
         err)
    before = set(keep_files())
    reset_qlog()
    ids, kept = submit(["carol@pf.test", "dave@pf.test"], "to postfix")
    qid = ids[0] if ids else "none"
    t.is_(run_once(), 0, "queue --once exits 0")
    log = qlog()
    m = re.search(r"%s to=<carol@pf\.test> .*relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d "
                  r"delay=\d+s attempts=1 dsn=2\.0\.0 status=sent \(250 2\.0\.0 Ok: "
                  r"(?:\d+ bytes )?queued as (\w+)\)" % (qid, PF_PORT), log)
    t.ok(m is not None, "carol@pf.test sent; Postfix's queue id in our log", log)
    t.ok(re.search(r"%s to=<dave@pf\.test> .*dsn=5\.1\.1 status=bounced \(550 "
                   r"5\.1\.1 <dave@pf\.test>: Recipient address rejected" % qid, log),
         "dave@pf.test bounced with Postfix's 550 5.1.1", log)
    pfid = m.group(1) if m else "none"
    maillog = os.path.join(pf, "maillog")
    wait_for(lambda: os.path.exists(maillog) and re.search(
        r"%s: to=<carol@pf\.test>.*status=sent" % pfid, read(maillog)), 20)
    pl = read(maillog) if os.path.exists(maillog) else ""
    t.ok(re.search(r"%s: client=localhost\[127\.0\.0\.1\]|%s: client=\S+\[127\.0\.0\.1\]"
                   % (pfid, pfid), pl) and
         re.search(r"%s: to=<carol@pf\.test>, relay=virtual, .*status=sent "
                   r"\(delivered to maildir\)" % pfid, pl),
         "Postfix logs the same id from 127.0.0.1 and delivers it to a Maildir",
         pl[-1500:])
    files = glob.glob(os.path.join(vmail, "carol", "new", "*"))
    got = read(files[0], "rb").decode("utf-8", "replace") if files else ""
    t.ok(len(files) == 1 and got.endswith(lf(kept)) and
         "\nDelivered-To: carol@pf.test\n" in got and
         re.search(r"Received: from mx\.test \(localhost \[127\.0\.0\.1\]\)\n\tby "
                   r"receiver\.pf\.test \(Postfix\)", got) is not None,
         "carol's Maildir: Postfix's Received names our EHLO; body byte for byte",
         got[:900])
    new = [f for f in keep_files() if f not in before]
    argv, rows = dsn_of(new[0]) if len(new) == 1 else ("", None)
    t.ok(rows is not None and [r[:3] for r in rows] ==
         [("rfc822; dave@pf.test", "failed", "5.1.1")] and
         rows[0][4] == "dns; 127.0.0.1",
         "one DSN for dave, with Postfix as Remote-MTA (dns; and the host, "
         "here an address literal)", rows)
    subprocess.run(["postfix", "-c", pf, "stop"], capture_output=True)
    STOPS.remove(["postfix", "-c", pf, "stop"])
    t.ok(wait_for(lambda: not listening(PF_PORT), 15), "the Postfix instance stopped")


# ----------------------------------------------- MX through a real DNS

def mx_tests():
    dns = start(["dnsmasq", "--no-daemon", "--conf-file=/dev/null",
                 "--port=%d" % DNS_PORT, "--listen-address=127.0.0.1",
                 "--bind-interfaces", "--no-resolv", "--no-hosts",
                 "--pid-file=", "--local=/test/",
                 "--mx-host=mxd.test,mail.mxd.test,10",
                 "--mx-host=mxd.test,backup.mxd.test,20",
                 "--host-record=mail.mxd.test,127.0.0.1",
                 "--host-record=backup.mxd.test,127.0.0.2",
                 "--mx-host=nullmx.test,.,0"],
                stderr=open(os.path.join(TOP, "dnsmasq.log"), "w"))
    dump = mkdir("mxdump", mode=0o777)
    sink = start(["smtp-sink", "-u", "nobody", "-d", dump + "/%M.",
                  "127.0.0.1:%d" % MX_PORT, "10"])
    t.ok(wait_for(lambda: listening(MX_PORT)), "smtp-sink listens as mail.mxd.test")
    t.ok(dns_answers(DNS_PORT) and dns.poll() is None,
         "dnsmasq answers on 127.0.0.1:%d" % DNS_PORT,
         read(os.path.join(TOP, "dnsmasq.log")))
    before = set(keep_files())
    reset_qlog()
    ids, kept = submit(["mx@fwd.test"], "by mx")
    ids2, _ = submit(["null@fwd.test"], "null mx")
    qid = ids[0] if ids else "none"
    qid2 = ids2[0] if ids2 else "none"
    lst = subprocess.run([QUEUE, "-C", inst.cdb, "--list"], capture_output=True,
                         text=True).stdout
    t.ok("<someone@mxd.test> orig_to=<mx@fwd.test> target=mx:mxd.test" in lst and
         "target=mx:nullmx.test" in lst,
         "a rewrite to an unrouted domain gives mx:DOMAIN targets", lst)
    t.is_(run_once(), 0, "queue --once exits 0")
    log = qlog()
    t.ok(re.search(r"%s to=<someone@mxd\.test> orig_to=<mx@fwd\.test> "
                   r"relay=mail\.mxd\.test\[127\.0\.0\.1\]:%d delay=\d+s attempts=1 "
                   r"dsn=2\.0\.0 status=sent" % (qid, MX_PORT), log),
         "MX: the preference-10 host, its A record, [core] smtp-port", log)
    files = glob.glob(os.path.join(dump, "*"))
    got = read(files[0], "rb").decode("utf-8", "replace") if files else ""
    t.ok(len(files) == 1 and "X-Rcpt-Args: <someone@mxd.test>" in got and
         sink_holds(got, kept), "the MX host's sink holds it, byte for byte",
         got[-600:])
    t.ok(re.search(r"%s to=<someone@nullmx\.test> orig_to=<null@fwd\.test> .*"
                   r"dsn=5\.1\.10 status=bounced \(556 5\.1\.10 " % qid2, log),
         "null MX (RFC 7505): bounced at once, 556 5.1.10", log)
    new = [f for f in keep_files() if f not in before]
    argv, rows = dsn_of(new[0]) if len(new) == 1 else ("", None)
    t.ok(argv == "argv: sender@back.test" and rows is not None and
         [r[:3] for r in rows] == [("rfc822; someone@nullmx.test", "failed",
                                    "5.1.10")],
         "the null MX DSN to the sender: Status 5.1.10", (argv, rows))
    t.is_(inst.queue(), [], "nothing stays queued")
    stop(sink)
    stop(dns)


# ------------------------------------------------ max-per-destination

def concurrency_tests(daemon):
    """10 messages to a slow pipe (one second each), 2 to another, with
    max-per-destination = 2: by --once after they are all queued, or by a
    running runner that learns of each from smtpd's nudge."""
    how = "running runner" if daemon else "--once"
    for f in ("cur.a", "max.a", "cur.b", "max.b", "cur.all", "max.all"):
        with open(os.path.join(OUT, f), "w") as fh:
            fh.write("0\n")
    reset_qlog()
    runner = start([QUEUE, "-C", inst.cdb], stderr=open(QLOG, "a")) \
        if daemon else None
    if runner:
        wait_for(lambda: "started:" in qlog(), 10)
    t0 = time.monotonic()
    ids, _ = submit(["x@slow.test"], "slow", count=10)
    ids2, _ = submit(["y@slow2.test"], "slow2", count=2)
    t.is_((len(ids), len(ids2)), (10, 2), "%s: twelve messages spooled" % how)
    if runner:
        wait_for(lambda: qlog().count(" removed") >= 12, 30)
        stop(runner)
    else:
        t.is_(run_once(), 0, "queue --once exits 0")
    took = time.monotonic() - t0
    log = qlog()
    t.is_(len(re.findall(r"to=<x@slow\.test> .*status=sent", log)), 10,
          "%s: all ten to the slow pipe sent" % how)
    peak = {k: read(os.path.join(OUT, "max." + k)).strip() for k in ("a", "b", "all")}
    t.is_(peak["a"], "2", "%s: never more than max-per-destination = 2 slow "
          "pipes at once (%s)" % (how, peak))
    t.ok(int(peak["all"]) >= 3, "%s: another destination runs beside them "
         "(%s at once in all)" % (how, peak["all"]))
    t.ok(took >= 4.5, "%s: ten one-second deliveries two at a time take at "
         "least 5 s (%.1f s)" % (how, took))
    t.is_(inst.queue(), [], "%s: nothing stays queued" % how)


try:
    sink_tests()
    wire_tests()
    dovecot_tests()
    postfix_tests()
    mx_tests()
    concurrency_tests(daemon=False)
    concurrency_tests(daemon=True)
    t.is_(sanitizer_reports(), [], "no sanitizer report from smtpd or the "
          "queue runner")
finally:
    cleanup()
signal.alarm(0)
t.done()
