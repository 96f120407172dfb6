#!/usr/bin/env python3
"""[smtpd] pipelining = full|ultra at the edges a review found (issue 12):
a target out of step at DATA, the SPF filter's held tail in ultra, an
LMTP commit that fails after the target delivered to some recipients, a
refused DATA (the transaction stands), a MAIL refused by a target that
then closes, and relays that must have TLS or AUTH (never proxied, never
connected to early). Each case asserts the client's exact replies and
what the target and the queue hold: never a 250 for a message neither at
the target nor queued. A scripted backend (t/py/pmbackend.py) on
loopback; smtpd on a socketpair."""
import atexit
import base64
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import Instance, Tap, require, wait_for, watchdog  # noqa: E402
from pmbackend import Backend, Session  # noqa: E402

require(root_why="smtpd drops privileges to nobody; the test changes its spool's modes")
watchdog(280)
t = Tap()

BACKENDS = []
WORK = tempfile.mkdtemp(prefix="pm-edges.")
os.chmod(WORK, 0o755)  # tlsd, as nobody, reads the certificate there
atexit.register(shutil.rmtree, WORK, True)


def backend(**kw):
    b = Backend(**kw)
    BACKENDS.append(b)
    return b


def instance(b, mode, proto="smtp", relay_extra="", smtpd_extra="", routes="", core=""):
    extra = '\n[relay "relay"]\naddress = %s\nprotocol = %s\n%s' % (b.addr, proto, relay_extra)
    extra += ('\n[smtpd "px.test"]\nrouting-table = ext\npipelining = %s\n'
              'proxy-timeout = 5s\n%s' % (mode, smtpd_extra))
    return Instance(extra=extra, routes="@relay.test relay\n" + routes, core=core)


QID = r"[0-9A-F]{30}"


def queued(reply):
    m = re.match(r"250 2\.0\.0 Ok: queued as (%s)$" % QID, reply)
    return m.group(1) if m else None


def envelope(inst, qid):
    """The envelope lines of a queued message (up to its end line)."""
    text = inst.read(qid).decode("utf-8", "replace")
    return text.split("\nend\n")[0].split("\n")


def only_connection_is_ours(b):
    """True if the backend was never connected to but by this probe: the
    accept queue is FIFO, so once our own connection is accepted any
    earlier one from smtpd would have been accepted before it."""
    probe = socket.create_connection(("127.0.0.1", b.port), timeout=10)
    me = probe.getsockname()
    ok = wait_for(lambda: me in b.peers, 30)
    probe.close()
    return ok and b.peers == [me]


def data_if_354(s):
    """DATA, and the message if it is taken: the reply to DATA."""
    r = s.cmd("DATA")
    if r.startswith("354"):
        s.c.send("Subject: t\r\n\r\nbody\r\n.\r\n")
        s.c.reply()
    return r


# ------------------------------------------------ R1: out of step at DATA
# A 2xx to DATA is no go-ahead (RFC 5321 4.1.1.4: 354, or a refusal);
# here it is the target's own (direct), or the surplus second reply to
# RCPT read in DATA's place (surplus), or octets behind the 354 (after).
for case, script in (
        ("direct", {"data": "250 2.0.0 what DATA?"}),
        ("surplus", {"rcpt": "250 2.1.5 Ok\r\n250 2.1.5 Ok again"}),
        ("after", {"data": "354 go ahead\r\n250 2.0.0 early"})):
    b = backend(script=script)
    inst = instance(b, "full")
    s = Session(inst)
    r = s.mail("s@x.test", ["a@relay.test"], "Subject: t\r\n\r\nbody")
    log = s.end()
    qid = queued(r[-1])
    t.ok(r[:3] == ["250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"]
         and qid and inst.queue() == [qid],
         "full, %s 2xx at DATA: out of step, the target lost: 250 and queued" % case, (r, inst.queue()))
    env = envelope(inst, qid) if qid else []
    t.ok("sender s@x.test" in env and "rcpt a@relay.test" in env and b.delivered == 0,
         "full, %s: the queue has it for a@relay.test, the target has nothing" % case, (env, b.delivered))
    t.ok(re.search(r"status=queued queued_as=%s \(no reply\); target lost in the data: "
                   r"out of step with 127\.0\.0\.1\[127\.0\.0\.1\]:%d: [^\n]* in reply to DATA"
                   % (qid, b.port), log), "full, %s: logged as out of step" % case, log)

# ultra, BDAT LAST pipelined: a 2xx to the DATA sent with the group is no
# reply to BDAT LAST
b = backend(script={"data": "250 2.0.0 Ok"})
inst = instance(b, "ultra")
s = Session(inst)
s.cmd("EHLO client.test")
body = b"Subject: t\r\n\r\nbody\r\n"
s.c.send(b"MAIL FROM:<s@x.test>\r\nRCPT TO:<a@relay.test>\r\nBDAT %d LAST\r\n" % len(body) + body)
r = [s.c.reply(), s.c.reply(), s.c.reply()]
s.end()
qid = queued(r[2])
t.ok(r[:2] == ["250 2.1.0 Ok", "250 2.1.5 Ok"] and qid and inst.queue() == [qid]
     and b.delivered == 0, "ultra, BDAT LAST, 2xx to DATA: 250 and queued, nothing at the target",
     (r, inst.queue(), b.commands))
t.ok(qid and inst.read(qid).endswith(b"\r\nSubject: t\r\n\r\nbody\r\n"),
     "ultra, BDAT LAST: the queued copy is the whole message", inst.read(qid)[-200:] if qid else "")

# ------------------------------------------------ R2: ultra + spf = tag
# The SPF filter holds the start of a header line back while it reads
# the field name; at the end of data that tail goes to the target too.
# The client's address comes in a PROXY header (SPF checks no local
# client); the DNS server is a bound UDP socket that never answers, so
# the check ends in temperror after spf-timeout, with no network.
dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dead.bind(("127.0.0.1", 0))
nospf = os.path.join(WORK, "absent")
for case in ("bdat", "data"):
    b = backend()
    inst = instance(b, "ultra", smtpd_extra="spf = tag\nspf-timeout = 1s\nproxy-protocol = yes\n",
                    core='dns-server = 127.0.0.1:%d\nspf-socket = "%s"\n'
                         % (dead.getsockname()[1], nospf))
    s = Session(inst, pre=b"PROXY TCP4 192.0.2.7 192.0.2.1 40000 25\r\n")
    s.cmd("EHLO client.test")
    r = [s.cmd("MAIL FROM:<s@x.test>"), s.cmd("RCPT TO:<a@relay.test>")]
    if case == "bdat":
        body = b"Subject: t\r\nX-Last-Line-Without-Colon-And-Without-CRLF"
        s.c.send(b"BDAT %d LAST\r\n" % len(body) + body)
        want = b"\r\nSubject: t\r\nX-Last-Line-Without-Colon-And-Without-CRLF\r\n"
    else:
        r.append(s.cmd("DATA"))
        s.c.send(b"Subject: t\r\nAuthentication-Results:\r\n.\r\n")
        want = b"\r\nSubject: t\r\nX-Untrusted-Authentication-Results:\r\n"
    r.append(s.c.reply())
    s.end()
    tx = b.transactions()
    data = tx[0]["data"] if tx and tx[0]["data"] else b""
    t.ok(r[-1] == "250 2.0.0 Ok: delivered as B1" and inst.queue() == [],
         "ultra + spf, %s: the target's 250, nothing queued" % case, (r, inst.queue()))
    t.ok(data.startswith(b"Authentication-Results: px.test;\r\n\tspf=temperror") and data.endswith(want),
         "ultra + spf, %s: the target got the message's tail the filter held back" % case, data)
dead.close()

# ------------------------------------------------ R5: LMTP, commit fails
# The LMTP target delivers to <a> and is lost before <b>; the copy for
# <b> cannot be committed (tmp/ made read-only for smtpd after its 354:
# the proxied copy lives in memory until then). <a> keeps the target's
# 250 (a 451 would make the client send it again); <b> gets 451.
b = backend(lmtp=True, script={"dot:b@relay.test": "DROP"})
inst = instance(b, "ultra", proto="lmtp")
s = Session(inst)
r = [s.cmd("LHLO client.test").splitlines()[0], s.cmd("MAIL FROM:<s@x.test>"),
     s.cmd("RCPT TO:<a@relay.test>"), s.cmd("RCPT TO:<b@relay.test>"), s.cmd("DATA")]
tmp = os.path.join(inst.spool, "tmp")
os.chmod(tmp, 0o500)
try:
    s.c.send("Subject: t\r\n\r\nbody\r\n.\r\n")
    r += [s.c.reply(), s.c.reply()]
finally:
    os.chmod(tmp, 0o700)
log = s.end()
t.is_(r[1:], ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
              "354 End data with <CR><LF>.<CR><LF>",
              "250 2.0.0 <a@relay.test> delivered", "451 4.3.0 Temporary spool failure"],
      "LMTP, the commit for <b> fails: <a> keeps the target's 250, <b> 451")
tx = b.transactions()
t.ok(inst.queue() == [] and len(tx) == 1 and tx[0]["data"] is not None
     and re.search(r"%s: proxied from=<s@x\.test> size=\d+ nrcpt=2 .* status=failed " % QID, log),
     "LMTP, the commit fails: at the target, nothing queued, logged failed", (inst.queue(), tx, log))

# ------------------------------------------------ R8: the target refuses DATA
# RFC 5321 4.1.1.4: a refused DATA leaves MAIL and the RCPTs standing;
# the client adds a recipient and sends DATA again: queued with both.
b = backend(script={"data": "451 4.3.0 queue file write error, try again"})
inst = instance(b, "ultra")
s = Session(inst)
s.cmd("EHLO client.test")
r = [s.cmd("MAIL FROM:<s@x.test>"), s.cmd("RCPT TO:<a@relay.test>"), s.cmd("DATA"),
     s.cmd("RCPT TO:<joe@example.test>"), s.cmd("DATA")]
if r[-1].startswith("354"):
    s.c.send("Subject: t\r\n\r\nbody\r\n.\r\n")
    r.append(s.c.reply())
log = s.end()
qid = queued(r[-1])
t.ok(r[:5] == ["250 2.1.0 Ok", "250 2.1.5 Ok", "451 4.3.0 queue file write error, try again",
               "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"]
     and qid and inst.queue() == [qid], "ultra, DATA refused, then RCPT and DATA again: queued", r)
env = envelope(inst, qid) if qid else []
t.ok("sender s@x.test" in env and "rcpt a@relay.test" in env and "rcpt joe@example.test" in env,
     "ultra, DATA refused: the queued envelope keeps the sender and the first recipient", env)
t.ok(b.delivered == 0 and "RSET" in b.commands, "ultra, DATA refused: the target's transaction reset",
     b.commands)

# The same for our own refusal of DATA (spool failure): the transaction
# stands, a second DATA is queued with its sender and recipient.
b = backend()
inst = instance(b, "spool")
s = Session(inst)
s.cmd("EHLO client.test")
tmp = os.path.join(inst.spool, "tmp")
r = [s.cmd("MAIL FROM:<s@x.test>"), s.cmd("RCPT TO:<a@relay.test>")]
os.chmod(tmp, 0o500)
try:
    r.append(s.cmd("DATA"))
finally:
    os.chmod(tmp, 0o700)
r.append(s.cmd("DATA"))
if r[-1].startswith("354"):
    s.c.send("Subject: t\r\n\r\nbody\r\n.\r\n")
    r.append(s.c.reply())
s.end()
qid = queued(r[-1])
t.ok(r[:4] == ["250 2.1.0 Ok", "250 2.1.5 Ok", "451 4.3.0 Temporary spool failure",
               "354 End data with <CR><LF>.<CR><LF>"] and qid and inst.queue() == [qid],
     "spool failure at DATA, DATA again: queued", r)
env = envelope(inst, qid) if qid else []
t.ok("sender s@x.test" in env and "rcpt a@relay.test" in env,
     "spool failure at DATA: the queued envelope keeps the sender and the recipient", env)

# ------------------------------------------------ R13: MAIL refused, then closed
# ultra sends MAIL and the RCPT in one write; the target refuses MAIL
# and closes (as Exim's drop): its refusal answers the RCPT, not our 250.
# (full sends MAIL alone: the same outcome, checked alongside)
for mode in ("ultra", "full"):
    b = backend(script={"mail": "CLOSE 550 5.7.1 sender blocked"})
    inst = instance(b, mode)
    s = Session(inst)
    s.cmd("EHLO client.test")
    r = [s.cmd("MAIL FROM:<s@x.test>"), s.cmd("RCPT TO:<a@relay.test>"), data_if_354(s)]
    s.end()
    t.is_(r, ["250 2.1.0 Ok", "550 5.7.1 sender blocked", "554 5.5.1 Error: no valid recipients"],
          "%s, MAIL refused and closed: the RCPT gets the target's refusal" % mode)
    t.is_(inst.queue(), [], "%s, MAIL refused and closed: nothing queued" % mode)
# pipelined by the client too, a second RCPT: both refused the same way
b = backend(script={"mail": "CLOSE 550 5.7.1 sender blocked"})
inst = instance(b, "ultra")
s = Session(inst)
s.cmd("EHLO client.test")
s.c.send("MAIL FROM:<s@x.test>\r\nRCPT TO:<a@relay.test>\r\nRCPT TO:<b@relay.test>\r\n")
r = [s.c.reply(), s.c.reply(), s.c.reply(), data_if_354(s)]
s.end()
t.is_(r, ["250 2.1.0 Ok", "550 5.7.1 sender blocked", "550 5.7.1 sender blocked",
          "554 5.5.1 Error: no valid recipients"],
      "ultra, two pipelined RCPTs, MAIL refused and closed: both get the refusal")
t.is_(inst.queue(), [], "ultra, two pipelined RCPTs: nothing queued")

# ------------------------------------------------ R11: relays that must have TLS or AUTH
# The proxy speaks in the clear and without AUTH: such a relay is left
# to the queue, whose client does both; ultra's early connection (an
# instance whose one target is that relay) is not made either.
pwfile = os.path.join(WORK, "relay.pw")
with open(pwfile, "w") as f:
    f.write("secret\n")
for mode, what, relay_extra in (
        ("full", "tls = encrypt", "tls = encrypt\n"),
        ("ultra", "tls = verify", "tls = verify\n"),
        ("ultra", "auth-user", 'auth-user = u\nauth-password-file = "%s"\n' % pwfile)):
    b = backend()
    # one route table naming the relay alone: an ultra instance would
    # connect to it early (proxy_dest_sole)
    extra = ('\n[relay "relay"]\naddress = %s\n%s\n[route "only"]\n@relay.test relay\n'
             '\n[smtpd "px.test"]\nrouting-table = only\npipelining = %s\nproxy-timeout = 5s\n'
             % (b.addr, relay_extra, mode))
    inst = Instance(extra=extra)
    if mode == "ultra":
        # a session without mail: an early connection alone would show
        s = Session(inst)
        r = s.cmd("EHLO client.test").splitlines()[0]
        s.end()
        t.ok(r == "250-px.test" and only_connection_is_ours(b),
             "ultra, relay with %s, a session without mail: no early connection" % what, b.peers)
        first = b
        b = backend()
        inst = Instance(extra=extra.replace(first.addr, b.addr))
    s = Session(inst)
    r = s.mail("s@x.test", ["a@relay.test"], "Subject: t\r\n\r\nbody")
    s.end()
    qid = queued(r[-1])
    t.ok(r[:2] == ["250 2.1.0 Ok", "250 2.1.5 Ok"] and qid and inst.queue() == [qid],
         "%s, relay with %s: smtpd's own 250s, queued" % (mode, what), r)
    t.ok(only_connection_is_ours(b), "%s, relay with %s: never connected to by smtpd" % (mode, what),
         b.commands)
# the same instance without tls: proxied, and (ultra) connected early
b = backend()
extra = ('\n[relay "relay"]\naddress = %s\n\n[route "only"]\n@relay.test relay\n'
         '\n[smtpd "px.test"]\nrouting-table = only\npipelining = ultra\nproxy-timeout = 5s\n' % b.addr)
inst = Instance(extra=extra)
s = Session(inst)
early = wait_for(lambda: len(b.conns) == 1, 30)
r = s.mail("s@x.test", ["a@relay.test"], "Subject: t\r\n\r\nbody")
s.end()
t.ok(early and r[-1] == "250 2.0.0 Ok: delivered as B1" and inst.queue() == [],
     "ultra, the relay without tls or auth: connected early and proxied", (early, r, b.commands))

# ------------------------------------------------ an authenticated client's relay RCPT
# A RCPT smtpd takes for an authenticated client's relaying (an MX
# target, the queue's) leaves the proxy as any RCPT routed elsewhere:
# the target's transaction is reset before any DATA, and the whole
# message is queued. AUTH needs TLS (STARTTLS on the socketpair).
key, crt, pw = (os.path.join(WORK, n) for n in ("ec.key", "ec.crt", "passwd"))
subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=px.test",
                "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", key,
                "-out", crt], check=True, capture_output=True)
os.chmod(key, 0o640)
shutil.chown(key, "root", "nogroup")
hashed = subprocess.run(["openssl", "passwd", "-6", "-salt", "edgesalt", "secret"], check=True,
                        capture_output=True, text=True).stdout.strip()
with open(pw, "w") as f:
    f.write("u:%s\n" % hashed)
os.chmod(pw, 0o600)
b = backend()
inst = instance(b, "ultra", smtpd_extra='tls = optional\ntls-certificate = %s\ntls-key = %s\n'
                'auth = users\n\n[auth "users"]\npasswd-file = "%s"\nsender-login = any\n'
                'failure-delay = 0\n' % (crt, key, pw),
                core='tls-socket = "%s"\n' % os.path.join(WORK, "none.socket"))
s = Session(inst)
s.cmd("EHLO client.test")
r = [s.cmd("STARTTLS")]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.c.s = ctx.wrap_socket(s.c.s)
s.cmd("EHLO client.test")
r.append(s.cmd("AUTH PLAIN " + base64.b64encode(b"\0u\0secret").decode()))
r += s.mail("s@x.test", ["a@relay.test", "x@elsewhere.example"], "Subject: t\r\n\r\nbody", ehlo=None)
log = s.end()
qid = queued(r[-1])
t.ok(r[:6] == ["220 2.0.0 Ready to start TLS", "235 2.7.0 Authentication successful",
               "250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"]
     and qid and inst.queue() == [qid], "authenticated relay RCPT after a proxied one: queued", r)
env = envelope(inst, qid) if qid else []
t.ok("rcpt a@relay.test" in env and "rcpt x@elsewhere.example" in env,
     "authenticated relay RCPT: both recipients queued", env)
t.ok("DATA" not in b.commands and "RSET" in b.commands
     and "%s: not proxied: an authenticated client's relay recipient" % qid in log,
     "authenticated relay RCPT: the transaction left the proxy there (RSET, no DATA at the target)",
     (b.commands, log))

for b in BACKENDS:
    b.close()
t.done()
