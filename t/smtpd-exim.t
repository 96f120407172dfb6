#!/usr/bin/env python3
"""Exim's SMTP client against postmaster-smtpd under tcpserver: Exim 4.96
with CHUNKING (its default hosts_try_chunking = *) and PIPELINING sends
`BDAT n LAST` and `QUIT` in one write (RFC 3030 4.2); every one of 20
one-message connections must be queued.

Exim is not installed (exim4-daemon-light conflicts with the postfix
package the other tests use): its .debs are downloaded once and unpacked
into a cache directory, and it runs from there with its own -C
configuration and a spool under the test's directory. Its compiled-in
user Debian-exim is provided by a private /etc (see below) in a private
mount namespace, so nothing on the system changes."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import Tap, Instance, watchdog, wait_for  # noqa: E402

CACHE = os.environ.get("PM_EXIM_CACHE", "/var/cache/postmaster-test/exim")
EXIM = os.path.join(CACHE, "usr", "sbin", "exim4")
EXIM_UID = 64990  # the Debian-exim of the private passwd file
N = 20

t = Tap()
watchdog(600)


def skip_all(why):
    print("1..0 # SKIP %s" % why)
    sys.exit(0)


def fetch_exim():
    """Unpacks exim4-daemon-light and exim4-base into CACHE (once)."""
    if os.access(EXIM, os.X_OK):
        return None
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        return "no apt-get/dpkg to fetch Exim"
    work = tempfile.mkdtemp(prefix="pm-exim-deb.")
    os.chmod(work, 0o755)  # apt's download user must write here
    try:
        r = subprocess.run(["apt-get", "download", "exim4-daemon-light", "exim4-base"],
                           cwd=work, capture_output=True, text=True, timeout=300)
        debs = glob.glob(os.path.join(work, "*.deb"))
        if r.returncode != 0 or len(debs) != 2:
            return "cannot download Exim's .debs: %s" % r.stderr.strip()[-200:]
        tmp = CACHE + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        for d in debs:
            subprocess.run(["dpkg", "-x", d, tmp], check=True, timeout=120)
        shutil.rmtree(CACHE, ignore_errors=True)
        os.rename(tmp, CACHE)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return None


if os.geteuid() != 0:
    skip_all("needs root (a private mount namespace for Exim's user)")
why = fetch_exim()
if why:
    skip_all(why)
r = subprocess.run(["ldd", EXIM], capture_output=True, text=True)
if "not found" in r.stdout:
    skip_all("Exim's libraries are missing: " +
             " ".join(l.split()[0] for l in r.stdout.splitlines() if "not found" in l))

inst = Instance()
port = inst.tcpserver()

ex = os.path.join(inst.dir, "exim")
spool = os.path.join(ex, "spool")
os.makedirs(spool)
# A private /etc: symbolic links to every entry of the real one (bound at
# realetc in the namespace) but passwd and group, which are copies with
# Debian-exim added. Binding a file over /etc/passwd would not do: other
# tests run useradd at the same time, and the rename that replaces
# /etc/passwd detaches a mount from it in every namespace.
etc = os.path.join(ex, "etc")
os.makedirs(etc)
os.makedirs(os.path.join(ex, "realetc"))
for name in os.listdir("/etc"):
    if name not in ("passwd", "group"):
        os.symlink(os.path.join(ex, "realetc", name), os.path.join(etc, name))
for f, line in (("passwd", "Debian-exim:x:%d:%d::/nonexistent:/usr/sbin/nologin\n"
                 % (EXIM_UID, EXIM_UID)), ("group", "Debian-exim:x:%d:\n" % EXIM_UID)):
    with open("/etc/" + f) as src, open(os.path.join(etc, f), "w") as dst:
        dst.write(src.read() + line)
os.chown(spool, EXIM_UID, EXIM_UID)
conf = os.path.join(ex, "exim.conf")
with open(conf, "w") as f:
    f.write("""exim_user = Debian-exim
exim_group = Debian-exim
exim_path = %(exim)s
spool_directory = %(spool)s
log_file_path = %(spool)s/log/%%slog
primary_hostname = exim.test
qualify_domain = exim.test
trusted_users = root
keep_environment =
begin routers
to_postmaster:
  driver = manualroute
  route_list = * 127.0.0.1::%(port)d
  transport = to_postmaster
  self = send
begin transports
to_postmaster:
  driver = smtp
  hosts_try_chunking = *
  hosts_avoid_tls = *
  allow_localhost
begin retry
* * F,1h,1h
""" % {"spool": spool, "port": port, "exim": EXIM})

# One Exim per message, each delivering at once in the foreground (-odf):
# 20 connections of one message each, the case the issue found lost.
script = ("mount --bind /etc %(ex)s/realetc && mount --bind %(ex)s/etc /etc && "
          "i=1; while [ $i -le %(n)d ]; do "
          "printf 'Subject: exim %%d\\n\\nmessage %%d from exim\\n' $i $i | "
          "%(exim)s -C %(conf)s -odf -f sender@exim.test rcpt$i@example.test || exit 1; "
          "i=$((i + 1)); done" % {"ex": ex, "n": N, "exim": EXIM, "conf": conf})
r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                   timeout=300)
if r.returncode != 0 and "unshare" in r.stderr:
    skip_all("no private mount namespace: " + r.stderr.strip()[:100])
t.ok(r.returncode == 0, "exim accepted and handed on %d messages" % N,
     "exit %d: %s %s" % (r.returncode, r.stdout[-500:], r.stderr[-1500:]))

t.ok(wait_for(lambda: len(inst.queue()) >= N, 30), "%d messages queued" % N)
t.is_(len(inst.queue()), N, "exactly %d queue files" % N)
subjects = sorted(inst.read(q).decode("latin-1").split("Subject: ")[1].split("\n")[0].strip()
                  for q in inst.queue())
t.is_(subjects, sorted("exim %d" % i for i in range(1, N + 1)),
      "one queue file per message, each as Exim sent it")
mainlog = os.path.join(spool, "log", "mainlog")
log = open(mainlog).read() if os.path.exists(mainlog) else ""
t.is_(log.count(" Completed"), N, "Exim's log: %d deliveries completed" % N)
t.is_(log.count(" K C=\"250 2.0.0 Ok: queued as "), N,
      "Exim used CHUNKING (K on each delivery line) and saw 250 for each")
t.ok(" ** " not in log and " == " not in log, "Exim's log: no bounce, no deferral",
     log[-1000:])
if t.failed:
    for name in ("paniclog", "rejectlog"):
        path = os.path.join(spool, "log", name)
        if os.path.exists(path):
            print("# %s: %s" % (name, open(path).read()[-1000:].replace("\n", "\n# ")))
t.done()
