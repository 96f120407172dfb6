#!/usr/bin/env python3
"""A real MTA as the client: a private Postfix instance (postfix -c DIR,
loopback only) relays through relayhost = [127.0.0.1]:PORT to
postmaster-smtpd under tcpserver."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import Tap, Instance, skip_unless_root  # noqa: E402

t = Tap()
if not shutil.which("postfix") or not os.path.exists("/etc/postfix/master.cf"):
    print("1..0 # SKIP Postfix is not installed")
    sys.exit(0)
skip_unless_root("a private Postfix instance; the spool is owned by nobody")

inst = Instance(name="mx.test")
port = inst.tcpserver()
pf = tempfile.mkdtemp(prefix="pm-postfix.")
os.chmod(pf, 0o755)
for d in ("queue", "data"):
    os.mkdir(os.path.join(pf, d))
shutil.chown(os.path.join(pf, "data"), "postfix")
shutil.copy("/etc/postfix/master.cf", pf)
with open(os.path.join(pf, "master.cf"), "a") as f:
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
mydestination =
relayhost = [127.0.0.1]:{port}
smtp_dns_support_level = disabled
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
alias_maps =
alias_database =
""".format(d=pf, port=port))
env = dict(os.environ, MAIL_CONFIG=pf)
subprocess.run(["postfix", "-c", pf, "check"], capture_output=True)
r = subprocess.run(["postfix", "-c", pf, "start"], capture_output=True, text=True)
t.is_(r.returncode, 0, "private Postfix instance started")
try:
    for i in range(5):
        msg = "Subject: relayed %d\n\nThis came through Postfix (%d).\n" % (i, i)
        subprocess.run(["sendmail", "-C", pf, "-f", "sender@pf.test", "dest%d@example.test" % i],
                       input=msg, text=True, check=True)
    deadline = time.time() + 40
    while len(inst.queue()) < 5 and time.time() < deadline:
        time.sleep(0.2)
    t.is_(len(inst.queue()), 5, "all five messages reached our queue")
    log = ""
    while time.time() < deadline:
        log = open(os.path.join(pf, "maillog")).read() if os.path.exists(os.path.join(pf, "maillog")) else ""
        if len(re.findall(r"status=sent", log)) >= 5:
            break
        time.sleep(0.2)
    sent = re.findall(r"to=<dest\d@example\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*status=sent "
                      r"\(250 2\.0\.0 Ok: queued as ([0-9A-F]{30})\)" % port, log)
    t.is_(len(sent), 5, "Postfix logs status=sent with our queue id for each")
    t.is_(sorted(sent), inst.queue(), "the ids Postfix saw are the files in our queue")
    data = inst.read(inst.queue()[0]).decode()
    t.like(data, "Received: from relay.pf.test ([127.0.0.1])\r\n\tby mx.test (Postmaster) with ESMTP",
           "our Received field names Postfix's EHLO")
    t.like(data, "sender sender@pf.test\n", "the envelope sender")
    t.ok(re.search(r"Received: by relay\.pf\.test \(Postfix", data) is not None,
         "Postfix's own Received field is kept below ours")
finally:
    subprocess.run(["postfix", "-c", pf, "stop"], capture_output=True)
    time.sleep(0.5)
    shutil.rmtree(pf, ignore_errors=True)
    inst.close()
t.done()
