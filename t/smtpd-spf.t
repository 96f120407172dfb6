#!/usr/bin/env python3
"""[smtpd] spf = tag|reject against a dnsmasq on loopback that this test
starts (records for pass, fail with and without exp=, softfail, neutral,
none, permerror by syntax, by too many lookups and by void lookups,
include and redirect chains, macros, mx, IPv6, the HELO identity of the
null sender) and a DNS server that never answers (temperror). Every
verdict is compared with pyspf (python3-spf) asking the same server.
Exact replies, exact header fields, the renaming of incoming results,
exemptions, local-rcpt-to, the log field; spf = off starts no program.
The same checks through the postmaster-spf service ([core] spf-socket),
its children's sandbox, and the fallback to a spawned program when the
service is stopped or at its child limit.

Loopback only; every server started here is stopped here."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import (Tap, Instance, PM_BIN, children, dns_answers,  # noqa: E402
                    pipe_session, require, watchdog, wait_for, end_process)

require(root_why="spool and Maildirs owned by nobody",
        programs={"dnsmasq": "dnsmasq-base", "tcpserver": "ucspi-tcp-ipv6"})
# pyspf lives in Debian's python, whatever python3 runs this test
PYSPF = "/usr/bin/python3"
if subprocess.run([PYSPF, "-c", "import spf, DNS"], stderr=subprocess.DEVNULL).returncode:
    print("1..0 # SKIP not installed: python3-spf")
    sys.exit(0)

t = Tap()
watchdog(600)


def free_udp_tcp_port():
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
    raise SystemExit("no free port")


DNS_PORT = free_udp_tcp_port()
TXT = {
    "pass.test": "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all",
    "fail.test": "v=spf1 ip4:192.0.2.10 -all exp=exp.fail.test",
    "exp.fail.test": "%{i} is not one of %{d}'s designated mail servers",
    "noexp.test": "v=spf1 -all",
    "soft.test": "v=spf1 ip4:192.0.2.10 ~all",
    "neutral.test": "v=spf1 ?all",
    "syntax.test": "v=spf1 ip4:192.0.2.300 -all",
    "many.test": "v=spf1 " + "a:host.test " * 11 + "-all",
    "void.test": "v=spf1 a:n1.void.test a:n2.void.test a:n3.void.test ip4:192.0.2.0/24 -all",
    "void2.test": "v=spf1 a:n1.void.test a:n2.void.test ip4:192.0.2.0/24 -all",
    "inc.test": "v=spf1 include:pass.test -all",
    "incfail.test": "v=spf1 include:noexp.test ~all",
    "redir.test": "v=spf1 redirect=inc.test",
    "redirfail.test": "v=spf1 redirect=fail.test",
    "macro.test": "v=spf1 exists:%{l}.%{ir}.ok.test -all",
    "mx.test": "v=spf1 mx -all",
    "helo.test": "v=spf1 ip4:192.0.2.0/24 ip6:::1 -all",
    "v6.test": "v=spf1 ip6:::1 -all",
    "local.test": "v=spf1 ip4:127.0.0.0/8 -all",
}
args = ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=%d" % DNS_PORT,
        "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
        "--pid-file=", "--local=/test/",
        "--host-record=host.test,10.9.9.9",
        "--host-record=implicit.test,10.9.9.8",
        "--host-record=joe.7.2.0.192.ok.test,127.0.0.2",
        "--mx-host=mx.test,mail.mx.test,10",
        "--host-record=mail.mx.test,192.0.2.20"]
args += ["--txt-record=%s,%s" % (k, v) for k, v in TXT.items()]
dns = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if not dns_answers(DNS_PORT):
    end_process(dns)
    raise SystemExit("dnsmasq did not answer")

# a DNS server that never answers: a bound UDP socket nobody reads
dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dead.bind(("127.0.0.1", 0))
DEAD_PORT = dead.getsockname()[1]

SECTIONS = """
[smtpd "tag.test"]
routing-table = ext
spf = tag

[smtpd "rej.test"]
routing-table = ext
spf = reject

[smtpd "strict.test"]
routing-table = ext
spf = reject
spf-permerror = reject

[smtpd "exempt.test"]
routing-table = ext
spf = reject
spf-exempt = 10.0.0.0/8 192.0.2.0/25
spf-exempt = 2001:db8::/32

[smtpd "sub.test"]
routing-table = ext
spf = reject
local-rcpt-to = yes

[smtpd "off.test"]
routing-table = ext
"""
# the service's socket lives here (nobody creates it); the first two
# instances name one that never exists, so they always spawn
SVCDIR = tempfile.mkdtemp(prefix="pm-spfd.")
os.chmod(SVCDIR, 0o777)
SOCK = os.path.join(SVCDIR, "spf")
NOSOCK = 'spf-socket = "%s"\n' % os.path.join(SVCDIR, "absent")
inst = Instance(extra="dns-server = 127.0.0.1:%d\n%s%s" % (DNS_PORT, NOSOCK, SECTIONS))
deadinst = Instance(extra="dns-server = 127.0.0.1:%d\n%s%s\n[smtpd \"slow.test\"]\n"
                    "routing-table = ext\nspf = reject\nspf-timeout = 2s\n"
                    % (DEAD_PORT, NOSOCK, SECTIONS))
svcinst = Instance(extra='dns-server = 127.0.0.1:%d\nspf-socket = "%s"\n%s'
                   % (DNS_PORT, SOCK, SECTIONS))


service = None


def cleanup():
    if service is not None:
        end_process(service)
    end_process(dns)
    dead.close()
    shutil.rmtree(SVCDIR, ignore_errors=True)


import atexit  # noqa: E402
atexit.register(cleanup)


def session(name, ip, helo, sender, data=None, rcpt="joe@example.test", on=inst,
            env=None):
    """One transaction on a pipe, the client at ip (TCPREMOTEIP). Returns
    (replies after the greeting, stderr, queued message or None)."""
    chunks = ["EHLO %s\r\n" % helo, "MAIL FROM:<%s>\r\n" % sender, "RCPT TO:<%s>\r\n" % rcpt]
    if data is not None:
        chunks += ["DATA\r\n", data + "\r\n.\r\n"]
    chunks.append("QUIT\r\n")
    e = {"TCPREMOTEIP": ip}
    e.update(env or {})
    before = set(on.queue())
    out, err = pipe_session(on, chunks, name=name, env=e)
    new = sorted(set(on.queue()) - before)
    msg = on.read(new[0]).decode("utf-8", "replace") if new else None
    return out, err, msg


def rcpt_reply(out):
    """The reply to RCPT: the line after MAIL's 250."""
    lines = [ln for ln in out.split("\r\n") if re.match(r"\d{3} ", ln)]
    # greeting, EHLO's last line, MAIL, RCPT
    return lines[3] if len(lines) > 3 else out


def header(msg, name):
    """The first field `name` of the message, unfolded lines kept."""
    if msg is None:
        return None
    body = msg.split("\r\n\r\n", 1)[0] if "\r\n\r\n" in msg else msg
    m = re.search(r"(?:^|\n)(%s:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*)" % re.escape(name), body,
                  re.I)
    return m.group(1) if m else None


def spf_result(msg):
    h = header(msg, "Received-SPF")
    return h.split(":", 1)[1].split()[0] if h else None


BODY = "Subject: spf\r\n\r\nhello"

# --- the verdicts, compared with pyspf on the same DNS server ---
CASES = [
    ("192.0.2.5", "client.example", "joe@pass.test", "pass"),
    ("2001:db8::5", "client.example", "joe@pass.test", "pass"),
    ("198.51.100.1", "client.example", "joe@pass.test", "fail"),
    ("192.0.2.99", "client.example", "joe@fail.test", "fail"),
    ("198.51.100.1", "client.example", "joe@noexp.test", "fail"),
    ("198.51.100.1", "client.example", "joe@soft.test", "softfail"),
    ("198.51.100.1", "client.example", "joe@neutral.test", "neutral"),
    ("198.51.100.1", "client.example", "joe@nothing.test", "none"),
    ("198.51.100.1", "client.example", "joe@syntax.test", "permerror"),
    ("198.51.100.1", "client.example", "joe@many.test", "permerror"),
    ("192.0.2.5", "client.example", "joe@void.test", "permerror"),
    ("192.0.2.5", "client.example", "joe@void2.test", "pass"),
    ("192.0.2.5", "client.example", "joe@inc.test", "pass"),
    ("198.51.100.1", "client.example", "joe@incfail.test", "softfail"),
    ("192.0.2.5", "client.example", "joe@redir.test", "pass"),
    ("192.0.2.99", "client.example", "joe@redirfail.test", "fail"),
    ("192.0.2.7", "client.example", "joe@macro.test", "pass"),
    ("192.0.2.7", "client.example", "ann@macro.test", "fail"),
    ("192.0.2.20", "client.example", "joe@mx.test", "pass"),
    ("192.0.2.21", "client.example", "joe@mx.test", "fail"),
    ("192.0.2.5", "helo.test", "", "pass"),
    ("198.51.100.1", "helo.test", "", "fail"),
    ("2001:db8::7", "helo.test", "", "fail"),
    # no free ride for loopback (libspf2 gives one unasked)
    ("127.0.0.1", "client.example", "joe@local.test", "pass"),
    ("::1", "client.example", "joe@local.test", "fail"),
    ("::1", "client.example", "joe@v6.test", "pass"),
]
py = subprocess.run([PYSPF, "-c", """
import json, sys, spf, DNS
DNS.defaults['server'] = ['127.0.0.1']
DNS.defaults['port'] = %d
out = []
for ip, helo, s in json.load(sys.stdin):
    r = spf.query(i=ip, s=s, h=helo, querytime=20).check()
    out.append([r[0], r[2]])
print(json.dumps(out))
""" % DNS_PORT], input=json.dumps([c[:3] for c in CASES]), capture_output=True,
    text=True, timeout=300)
pyres = json.loads(py.stdout) if py.returncode == 0 else [[None, py.stderr]] * len(CASES)

for (ip, helo, sender, want), (pyr, pyexp) in zip(CASES, pyres):
    out, err, msg = session("tag.test", ip, helo, sender, BODY)
    what = "%s from %s (HELO %s)" % (sender or "<>", ip, helo)
    got = spf_result(msg)
    t.is_(got, want, "tag: %s is %s" % (what, want))
    t.is_(got, pyr, "tag: %s agrees with pyspf" % what)
    t.like(err, "spf=%s" % want, "tag: the queued line of %s logs spf=%s" % (what, want))

# --- exact header fields ---
out, err, msg = session("tag.test", "192.0.2.5", "client.example", "joe@pass.test", BODY)
t.is_(msg and msg[msg.index("Authentication-Results:"):msg.index("Received: ")],
      "Authentication-Results: tag.test;\r\n\tspf=pass smtp.mailfrom=joe@pass.test\r\n"
      "Received-SPF: pass (tag.test: domain of joe@pass.test designates 192.0.2.5 as "
      "permitted sender)\r\n\treceiver=tag.test; client-ip=192.0.2.5;\r\n"
      "\thelo=client.example;\r\n\tenvelope-from=\"joe@pass.test\"; identity=mailfrom;\r\n",
      "pass: A-R and Received-SPF, in that order, right above our Received")
out, err, msg = session("tag.test", "198.51.100.1", "client.example", "joe@syntax.test", BODY)
t.like(header(msg, "Authentication-Results") or "",
       "spf=permerror (", "permerror: A-R carries the reason in a comment")
t.like(header(msg, "Received-SPF") or "", "\r\n\tproblem=\"",
       "permerror: Received-SPF carries problem=")
out, err, msg = session("tag.test", "198.51.100.1", "helo.test", "", BODY)
t.is_(header(msg, "Authentication-Results"),
      "Authentication-Results: tag.test;\r\n\tspf=fail smtp.helo=helo.test",
      "null sender: the HELO identity in A-R")
t.like(header(msg, "Received-SPF") or "",
       "envelope-from=\"postmaster@helo.test\"; identity=helo;",
       "null sender: postmaster@HELO, identity=helo (RFC 7208 2.4)")

# --- reject mode: exact replies ---
out, err, msg = session("rej.test", "192.0.2.99", "client.example", "joe@fail.test")
t.is_(rcpt_reply(out), "550 5.7.23 192.0.2.99 is not one of fail.test's designated mail "
      "servers", "reject: fail with exp= answers the domain's explanation")
t.like(err, "reject: client=192.0.2.99", "reject: the refusal is logged")
out, err, msg = session("rej.test", "198.51.100.1", "client.example", "joe@noexp.test")
t.is_(rcpt_reply(out), "550 5.7.23 SPF fail: noexp.test does not designate 198.51.100.1 "
      "as permitted sender", "reject: fail without exp= answers the fixed text")
for s, ip, res in (("joe@soft.test", "198.51.100.1", "softfail"),
                   ("joe@neutral.test", "198.51.100.1", "neutral"),
                   ("joe@nothing.test", "198.51.100.1", "none"),
                   ("joe@syntax.test", "198.51.100.1", "permerror"),
                   ("joe@pass.test", "192.0.2.5", "pass")):
    out, err, msg = session("rej.test", ip, "client.example", s, BODY)
    t.ok(msg is not None and spf_result(msg) == res,
         "reject: %s is accepted and tagged %s" % (res, res), out)
out, err, msg = session("strict.test", "198.51.100.1", "client.example", "joe@syntax.test")
t.like(rcpt_reply(out), "550 5.7.24 SPF permanent error in the record of syntax.test: ",
       "spf-permerror = reject: permerror answers 550 5.7.24")
out, err, msg = session("rej.test", "198.51.100.1", "client.example", "joe@fail.test",
                        rcpt="postmaster@example.test")
t.like(rcpt_reply(out), "550 5.7.23 ", "reject: the verdict holds for postmaster too")
# a refused recipient costs no DNS: the check waits for a routed RCPT
out, err, msg = session("rej.test", "198.51.100.1", "client.example", "joe@fail.test",
                        rcpt="someone@elsewhere.example")
t.is_(rcpt_reply(out), "554 5.7.1 <someone@elsewhere.example>: Relay access denied",
      "reject: a relay attempt is refused as such, before any SPF check")
# one verdict per transaction: a second RCPT gets the same refusal
out, err = pipe_session(inst, ["EHLO c.example\r\n", "MAIL FROM:<joe@noexp.test>\r\n",
                               "RCPT TO:<joe@example.test>\r\n",
                               "RCPT TO:<ann@example.test>\r\n", "QUIT\r\n"],
                        name="rej.test", env={"TCPREMOTEIP": "198.51.100.1"})
t.is_(len(re.findall(r"\r\n550 5\.7\.23 SPF fail", out)), 2,
      "reject: every RCPT of the transaction gets the refusal")

# --- temperror: a DNS server that never answers, within spf-timeout ---
out, err, msg = session("slow.test", "192.0.2.5", "client.example", "joe@pass.test",
                        on=deadinst)
t.is_(rcpt_reply(out), "451 4.7.24 SPF temporary error checking pass.test, try again later",
      "temperror: a dead DNS server answers 451 4.7.24 within the budget")
out, err, msg = session("tag.test", "192.0.2.5", "client.example", "joe@pass.test", BODY,
                        on=deadinst)
t.is_(spf_result(msg), "temperror", "temperror: tag mode accepts and records it")
py = subprocess.run([PYSPF, "-c", """
import spf, DNS
DNS.defaults['server'] = ['127.0.0.1']
DNS.defaults['port'] = %d
print(spf.query(i='192.0.2.5', s='joe@pass.test', h='client.example', querytime=5,
                timeout=5).check()[0])
""" % DEAD_PORT], capture_output=True, text=True, timeout=120)
t.is_(py.stdout.strip(), spf_result(msg), "temperror: pyspf agrees on the dead server")
t.like(err, "spf=temperror", "temperror: logged")

# --- incoming results are renamed, ours and others' told apart ---
forged = ("Received-SPF: pass (forged)\r\nAuthentication-Results: tag.test;\r\n"
          "\tspf=pass smtp.mailfrom=x@y.test\r\nAuthentication-Results: (c) \"TAG.test\" 1;"
          " spf=pass\r\nAuthentication-Results: other.example; spf=pass\r\n"
          "Subject: forged\r\n\r\nReceived-SPF: in the body stays")
out, err, msg = session("tag.test", "192.0.2.5", "client.example", "joe@pass.test", forged)
want = ("X-Untrusted-Received-SPF: pass (forged)\r\nX-Untrusted-Authentication-Results: "
        "tag.test;\r\n\tspf=pass smtp.mailfrom=x@y.test\r\nX-Untrusted-Authentication-"
        "Results: (c) \"TAG.test\" 1; spf=pass\r\nAuthentication-Results: other.example; "
        "spf=pass\r\nSubject: forged\r\n\r\nReceived-SPF: in the body stays\r\n")
t.ok(msg is not None and msg.endswith(want),
     "incoming Received-SPF and A-R claiming tag.test are renamed, others kept", msg)
t.is_(msg and msg.split("\r\n\r\n")[0].count("\r\nReceived-SPF: "), 1,
      "only our Received-SPF stays")

# --- not checked: exempt networks, local-rcpt-to, spf = off ---
for ip in ("192.0.2.99", "10.1.2.3", "2001:db8::99"):
    out, err, msg = session("exempt.test", ip, "client.example", "joe@fail.test", forged)
    t.ok(msg is not None and header(msg, "Received-SPF") == "Received-SPF: pass (forged)"
         and "X-Untrusted" not in msg, "spf-exempt: %s is not checked, its fields stay" % ip,
         out)
out, err, msg = session("exempt.test", "192.0.2.200", "client.example", "joe@fail.test")
t.like(rcpt_reply(out), "550 5.7.23 ", "spf-exempt: 192.0.2.200 is outside 192.0.2.0/25")
out, err, msg = session("sub.test", "192.0.2.99", "client.example", "joe@fail.test", BODY)
t.ok(msg is not None and "Received-SPF" not in msg,
     "local-rcpt-to = yes: not checked", out)

# spf = off execs nothing: smtpd beside a postmaster-spf that leaves a mark
fake = os.path.join(inst.dir, "fakebin")
os.mkdir(fake)
os.chmod(fake, 0o755)
shutil.copy(os.path.join(PM_BIN, "postmaster-smtpd"), fake)
markdir = os.path.join(inst.dir, "marks")
os.mkdir(markdir)
os.chmod(markdir, 0o777)    # the script runs as smtpd's user, nobody
mark = os.path.join(markdir, "spf-ran")
with open(os.path.join(fake, "postmaster-spf"), "w") as f:
    f.write("#!/bin/sh\necho ran >> %s\nexec %s \"$@\"\n"
            % (mark, os.path.join(os.path.abspath(PM_BIN), "postmaster-spf")))
os.chmod(os.path.join(fake, "postmaster-spf"), 0o755)
os.chmod(inst.dir, 0o755)


class Fake:
    """inst, with the copied smtpd."""
    def __init__(self, base):
        self.base = base

    def argv(self, name=None):
        return [os.path.join(fake, "postmaster-smtpd"), "-C", self.base.cdb,
                name or self.base.name]

    def queue(self):
        return self.base.queue()

    def read(self, qid):
        return self.base.read(qid)


fk = Fake(inst)
out, err, msg = session("off.test", "192.0.2.99", "client.example", "joe@fail.test", forged,
                        on=fk)
t.ok(msg is not None and "X-Untrusted" not in msg and msg.endswith(forged + "\r\n"),
     "spf = off: the message is untouched", out)
t.ok(not os.path.exists(mark), "spf = off: no postmaster-spf started")
out, err, msg = session("tag.test", "192.0.2.5", "client.example", "joe@pass.test", BODY,
                        on=fk)
t.ok(os.path.exists(mark) and spf_result(msg) == "pass",
     "spf = tag: the program beside smtpd is the one started", out)

# one child per session, kept for its later transactions
THREE = (["EHLO client.example\r\n"] +
         ["MAIL FROM:<joe@pass.test>\r\n", "RCPT TO:<joe@example.test>\r\n", "DATA\r\n",
          BODY + "\r\n.\r\n"] * 3 + ["QUIT\r\n"])
os.unlink(mark)
out, err = pipe_session(fk, THREE, name="tag.test", env={"TCPREMOTEIP": "192.0.2.5"})
with open(mark) as f:
    runs = f.read().count("ran")
t.is_((len(re.findall(r"250 2\.0\.0 Ok: queued", out)), runs), (3, 1),
      "three transactions of a session, one postmaster-spf")

# a child that answers nonsense, or nothing, is killed: temperror (exec:
# a sleep forked by the shell would outlive the kill and hold stderr open)
for script, why in (("printf 'pass\\tx\\ty\\tz\\n'; exec sleep 30", "bad answer"),
                    ("exec sleep 30", "time budget")):
    with open(os.path.join(fake, "postmaster-spf"), "w") as f:
        f.write("#!/bin/sh\n%s\n" % script)
    out, err, msg = session("slow.test", "192.0.2.5", "client.example", "joe@pass.test",
                            on=Fake(deadinst))
    t.is_(rcpt_reply(out), "451 4.7.24 SPF temporary error checking pass.test, try again "
          "later", "a child that gives a %s: 451 4.7.24" % why)
    t.like(err, why, "... and the log says why (%s)" % why)

def sandbox_of(pid, what, kind, extra=()):
    """What the running postmaster-spf pid holds (fd 0 and 1 of `kind`,
    then the kinds in extra) and the limits it runs under."""
    fds = sorted(int(x) for x in os.listdir("/proc/%d/fd" % pid))
    kinds = [os.readlink("/proc/%d/fd/%d" % (pid, x)).split(":")[0] for x in fds]
    t.is_((fds[:3], kinds[:2], sorted(kinds[3:])), ([0, 1, 2], [kind, kind], sorted(extra)),
          "sandbox%s: only its %s, stderr%s are open (no client socket, spool, CDB)"
          % (what, kind, "".join(", " + e for e in extra)))
    with open("/proc/%d/status" % pid) as f:
        st = f.read()
    t.like(st, "NoNewPrivs:\t1", "sandbox%s: no_new_privs" % what)
    uid = re.search(r"Uid:\t(\d+)", st).group(1)
    t.is_(uid, "65534", "sandbox%s: runs as nobody, not root" % what)
    with open("/proc/%d/limits" % pid) as f:
        lim = {ln[:26].strip(): ln[26:].split()[0] for ln in f.read().splitlines()[1:]}
    want = {"Max cpu time": "30", "Max processes": "0", "Max open files": "16",
            "Max core file size": "0"}
    if "asan" not in PM_BIN:
        want["Max address space"] = str(256 << 20)
    t.is_({k: lim.get(k) for k in want}, want, "sandbox%s: resource limits" % what)


def sandbox_checks(server_pid):
    """The running postmaster-spf of the session under tcpserver."""
    smtpd = list(children(server_pid))
    spf = [p for p in (children(smtpd[0]) if len(smtpd) == 1 else ())]
    if t.is_(len(spf), 1, "sandbox: one postmaster-spf beside the session"):
        sandbox_of(spf[0], "", "pipe")


# --- a bad spf-exempt is a configuration error ---
bad = os.path.join(inst.dir, "bad.cf")
with open(bad, "w") as f:
    f.write('[smtpd "x"]\nspf = tag\nspf-exempt = 192.0.2.0/24 10.0.0.0/33 nonsense\n')
r = subprocess.run([os.path.join(PM_BIN, "postmaster-cfcompile"), "--check", "-c", bad],
                   capture_output=True, text=True)
t.is_((r.returncode, len(re.findall(r"spf-exempt: '[^']+' is not an address", r.stderr))),
      (65, 2), "cfcompile: each bad spf-exempt network is an error")

# --- real sockets: IPv4 and IPv6 loopback clients through tcpserver ---
for host, sender, want in (("127.0.0.1", "joe@local.test", "pass"),
                           ("::1", "joe@v6.test", "pass"),
                           ("::1", "joe@local.test", "fail")):
    srv = subprocess.Popen(["tcpserver", "-1", "-R", "-H", "-l", "0", host, "0"]
                           + inst.argv("tag.test"), stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    try:
        port = int(srv.stdout.readline())
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect((host, port))
        f = s.makefile("rb")
        before = set(inst.queue())

        def reply():
            while True:
                ln = f.readline()
                if not ln or ln[3:4] != b"-":
                    return ln.decode()
        reply()
        for cmd in ("EHLO client.example", "MAIL FROM:<%s>" % sender,
                    "RCPT TO:<joe@example.test>", "DATA"):
            if cmd == "DATA" and host == "127.0.0.1":
                sandbox_checks(srv.pid)
            s.sendall((cmd + "\r\n").encode())
            reply()
        s.sendall((BODY + "\r\n.\r\n").encode())
        r = reply()
        s.sendall(b"QUIT\r\n")
        reply()
        s.close()
        new = sorted(set(inst.queue()) - before)
        msg = inst.read(new[0]).decode() if new else None
        t.ok(r.startswith("250 ") and spf_result(msg) == want and
             "client-ip=%s;" % (host if host != "::1" else '"::1"') in msg,
             "socket client %s, %s: %s" % (host, sender, want), (r, msg))
    finally:
        end_process(srv)

# --- the postmaster-spf service ([core] spf-socket) ---
SPF = os.path.join(PM_BIN, "postmaster-spf")
r = subprocess.run([SPF, "-l", SOCK], capture_output=True, text=True, timeout=60)
t.is_((r.returncode, "refusing to run as root" in r.stderr, os.path.exists(SOCK)),
      (71, True, False), "service: refuses to run as root, creates no socket")

AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
# no -s: the children must take smtpd's [core] dns-server from its
# opening line (resolv.conf has no test records and no network)
service = subprocess.Popen(AS_NOBODY + [SPF, "-l", SOCK, "-m", "2"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t.ok(wait_for(lambda: os.path.exists(SOCK), 60), "service: listens on its socket")
VIA_SERVICE = "spf: checks by the service at %s" % SOCK

for ip, helo, sender, want in CASES[:8] + CASES[20:23]:
    out, err, msg = session("tag.test", ip, helo, sender, BODY, on=svcinst)
    what = "%s from %s (HELO %s)" % (sender or "<>", ip, helo)
    t.ok(spf_result(msg) == want and VIA_SERVICE in err and "spf=%s" % want in err,
         "service: %s is %s, by the service" % (what, want), (err, msg))
out, err, msg = session("tag.test", "192.0.2.5", "client.example", "joe@pass.test", BODY,
                        on=svcinst)
t.is_(msg and msg[msg.index("Authentication-Results:"):msg.index("Received: ")],
      "Authentication-Results: tag.test;\r\n\tspf=pass smtp.mailfrom=joe@pass.test\r\n"
      "Received-SPF: pass (tag.test: domain of joe@pass.test designates 192.0.2.5 as "
      "permitted sender)\r\n\treceiver=tag.test; client-ip=192.0.2.5;\r\n"
      "\thelo=client.example;\r\n\tenvelope-from=\"joe@pass.test\"; identity=mailfrom;\r\n",
      "service: exact A-R and Received-SPF of a pass")
out, err, msg = session("rej.test", "192.0.2.99", "client.example", "joe@fail.test",
                        on=svcinst)
t.is_(rcpt_reply(out), "550 5.7.23 192.0.2.99 is not one of fail.test's designated mail "
      "servers", "service: reject with the domain's explanation")
out, err, msg = session("strict.test", "198.51.100.1", "client.example", "joe@syntax.test",
                        on=svcinst)
t.like(rcpt_reply(out), "550 5.7.24 SPF permanent error in the record of syntax.test: ",
       "service: spf-permerror = reject answers 550 5.7.24")

# three transactions, one child of the service
out, err = pipe_session(svcinst, THREE, name="tag.test", env={"TCPREMOTEIP": "192.0.2.5"})
t.is_((len(re.findall(r"250 2\.0\.0 Ok: queued", out)), err.count("spf: checks by"),
       err.count(VIA_SERVICE)), (3, 1, 1),
      "service: three transactions of a session, one child of the service")


def hold():
    """A connection to the service with its child ready, as smtpd has."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(60)
    c.connect(SOCK)
    try:
        c.sendall(b"hello\tmx.test\t5000\t127.0.0.1:%d\n" % DNS_PORT)
        return c, c.recv(16)
    except (ConnectionResetError, BrokenPipeError):    # closed, line unread
        return c, b""


def holds_conn(pid):
    """fd 0 or 1 of pid is a socket (a worker serving a connection)."""
    try:
        return any(os.readlink("/proc/%d/fd/%d" % (pid, f)).startswith("socket:")
                   for f in (0, 1))
    except OSError:
        return False


# workers: used again, connection after connection (-u 100 by default);
# at most -m 2 of them, each sandboxed once
seen = set(children(service.pid))
for _ in range(3):
    pipe_session(svcinst, THREE, name="tag.test", env={"TCPREMOTEIP": "192.0.2.5"})
    seen.update(children(service.pid))
t.ok(1 <= len(seen) <= 2 and all(p in seen for p in children(service.pid)),
     "service: sessions after sessions, served by the same worker processes (idle ones "
     "wait for the next)", seen)
held = [hold()]
t.is_(held[0][1], b"ready\n", "service: a worker says ready after the opening line")
kids = [k for k in children(service.pid) if holds_conn(k)]
if t.is_(len(kids), 1, "service: one worker serves the one connection"):
    # its channel to the service, the /dev/null fds 0 and 1 go back to
    sandbox_of(kids[0], " (service worker)", "socket", ("socket", "/dev/null"))
held.append(hold())
# at its limit (-m 2) the service closes a new connection: smtpd spawns
out, err, msg = session("tag.test", "192.0.2.5", "client.example", "joe@pass.test", BODY,
                        on=svcinst)
t.ok(spf_result(msg) == "pass" and "spf: checks by a spawned postmaster-spf (service: no "
     "ready" in err and VIA_SERVICE not in err,
     "service at its worker limit: smtpd spawns postmaster-spf, same verdict", (err, msg))
c, got = hold()
t.is_(got, b"", "service at its limit: a third connection is closed unanswered")
c.close()
for c, _ in held:
    c.close()
t.ok(wait_for(lambda: not [k for k in children(service.pid) if holds_conn(k)], 60),
     "service: the workers let go of their connections when smtpd closes them")
out, err, msg = session("tag.test", "192.0.2.5", "client.example", "joe@pass.test", BODY,
                        on=svcinst)
t.ok(spf_result(msg) == "pass" and VIA_SERVICE in err,
     "service: below its limit again, the service serves", err)
# a client that never says hello: its child gives up, the parent still serves
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.settimeout(60)
c.connect(SOCK)
out, err, msg = session("tag.test", "192.0.2.99", "client.example", "joe@fail.test", BODY,
                        on=svcinst)
t.ok(spf_result(msg) == "fail" and VIA_SERVICE in err,
     "service: a silent connection does not hold up the next session", err)
t.is_(c.recv(16), b"", "service: the silent connection's worker closes it")
c.close()

# stopped: the socket goes and smtpd spawns
t.is_(end_process(service), 0, "service: SIGTERM ends it with status 0")
t.ok(not os.path.exists(SOCK), "service: its socket is removed when it stops")
out, err, msg = session("rej.test", "192.0.2.99", "client.example", "joe@fail.test",
                        on=svcinst)
t.ok(rcpt_reply(out).startswith("550 5.7.23 192.0.2.99 is not one of") and
     "spf: checks by a spawned postmaster-spf (service: no socket)" in err,
     "service stopped: smtpd spawns postmaster-spf, same refusal", (out, err))
service = None

# -u 1: a fresh worker per connection, which ends with it
service = subprocess.Popen(AS_NOBODY + [SPF, "-l", SOCK, "-u", "1"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for(lambda: os.path.exists(SOCK), 60)
out, err, msg = session("tag.test", "192.0.2.5", "client.example", "joe@pass.test", BODY,
                        on=svcinst)
t.ok(spf_result(msg) == "pass" and VIA_SERVICE in err, "service -u 1: serves", err)
t.ok(wait_for(lambda: not children(service.pid), 60),
     "service -u 1: the worker ends after its one connection")
t.is_(end_process(service), 0, "service -u 1: SIGTERM ends it")
service = None

t.done()
