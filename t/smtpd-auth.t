#!/usr/bin/env python3
"""[smtpd] auth: AUTH PLAIN and LOGIN (RFC 4954) under STARTTLS, with real
clients (swaks, msmtp, Python's smtplib) and a raw TLS socket for the exact
replies; passwords from a passwd-file compiled by postmaster-cfcompile
(yescrypt, sha512-crypt, bcrypt) and from a private Dovecot's auth-client
socket. In the clear AUTH is neither offered nor accepted; relaying needs
AUTH; sender-login = own refuses other senders; passwords never reach the
log; the login is in the log line, the envelope and Received."""
import atexit
import base64
import os
import re
import shutil
import socket
import ssl
import smtplib
import subprocess
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import Tap, Instance, Client, PM_BIN, end_process, require, wait_for, watchdog  # noqa: E402

require("keys readable by nogroup; the spool is nobody's; a private Dovecot",
        {"openssl": "openssl", "swaks": "swaks", "msmtp": "msmtp",
         "tcpserver": "ucspi-tcp-ipv6", "dovecot": "dovecot-core"})
if subprocess.run(["perl", "-MIO::Socket::SSL", "-e", "1"],
                  capture_output=True).returncode != 0:
    print("1..0 # SKIP not installed: libio-socket-ssl-perl (swaks --tls)")
    sys.exit(0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # noqa: E402  (libxcrypt through Python, to make hashes)
t = Tap()
watchdog(400)

D = tempfile.mkdtemp(prefix="pm-auth.")
os.chmod(D, 0o755)
atexit.register(lambda: shutil.rmtree(D, ignore_errors=True))

# passwords with characters a log escape would show as they are
PW = {"joe": "joe-Secret-1", "ann": "ann-Secret-2", "bob": "bob-Secret-3",
      "carol@example.test": "carol-Secret-4", "dave": "dave-Secret-5"}
WRONG = "Wrong-Guess-9"


def yescrypt(pw):
    import ctypes
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    return crypt.crypt(pw, lib.crypt_gensalt(b"$y$", 0, None, 0).decode())


PASSWD = os.path.join(D, "passwd")
with open(PASSWD, "w") as f:
    f.write("# submission accounts\n")
    f.write("joe:%s\n" % yescrypt(PW["joe"]))
    f.write("ann:%s\n" % crypt.crypt(PW["ann"], crypt.mksalt(crypt.METHOD_SHA512)))
    f.write("bob:%s\n" % crypt.crypt(PW["bob"], crypt.mksalt(crypt.METHOD_BLOWFISH)))
    f.write("carol@example.test:%s\n" % yescrypt(PW["carol@example.test"]))
os.chmod(PASSWD, 0o600)

key, crt = os.path.join(D, "ec.key"), os.path.join(D, "ec.crt")
subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=sub.test",
                "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", key,
                "-out", crt], check=True, capture_output=True)
os.chmod(key, 0o640)
shutil.chown(key, "root", "nogroup")

DOVE = os.path.join(D, "dovecot")
DSOCK = os.path.join(DOVE, "run", "auth-client")
TLS = "tls = optional\ntls-certificate = %s\ntls-key = %s\n" % (crt, key)
# A DNS server that never answers: an SPF check on spf.test can only end
# in temperror, so a 250 there shows that no check ran.
DEAD_DNS = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
DEAD_DNS.bind(("127.0.0.1", 0))
extra = """dns-server = "127.0.0.1:{dns}"
[auth "users"]
passwd-file = "{pw}"
[auth "any"]
passwd-file = "{pw}"
sender-login = any
failure-delay = 0
[auth "dove"]
dovecot = "{sock}"
timeout = 5s
[auth "stall"]
dovecot = "{stall}"
timeout = 1s
[auth "junk"]
dovecot = "{junk}"
""".format(dns=DEAD_DNS.getsockname()[1], pw=PASSWD, sock=DSOCK, stall=os.path.join(D, "stall.sock"),
           junk=os.path.join(D, "junk.sock"))
# instance: its [auth] and more keys; all with STARTTLS
for name, auth, more in (("st.test", "stall", ""), ("jk.test", "junk", ""),
                         ("sub.test", "users", "auth-required = yes\nmax-errors = 7\n"),
                         ("open.test", "any", ""), ("dv.test", "dove", ""),
                         ("imp.test", "users", ""),
                         ("spf.test", "users", "spf = reject\nspf-timeout = 2s\n")):
    tls = TLS.replace("optional", "implicit") if name == "imp.test" else TLS
    extra += '[smtpd "%s"]\nrouting-table = ext\n%sauth = %s\n%s' % (name, tls, auth, more)
inst = Instance(extra=extra)
LOG = os.path.join(inst.dir, "smtpd.log")
logf = open(LOG, "ab")


def serve(name):
    p = subprocess.Popen(["tcpserver", "-1", "-R", "-H", "-l", "0", "127.0.0.1", "0"]
                         + inst.argv(name), stdout=subprocess.PIPE, stderr=logf)
    inst.procs.append(p)
    return int(p.stdout.readline())


def log():
    with open(LOG, "rb") as f:
        return f.read().decode("utf-8", "replace")


def spooled(n):
    wait_for(lambda: len(inst.queue()) >= n, 20)
    return inst.queue()


SUB, OPEN, DV = serve("sub.test"), serve("open.test"), serve("dv.test")

# ------------------------------------------------- the compiled passwd CDB
pwcdb = inst.cdb + ".passwd"
t.ok(os.path.exists(pwcdb) and os.stat(pwcdb).st_mode & 0o777 == 0o600,
     "cfcompile: the accounts are in %s, mode 0600" % os.path.basename(pwcdb))
with open(inst.cdb, "rb") as f:
    main_cdb = f.read()
with open(pwcdb, "rb") as f:
    pw_cdb = f.read()
t.ok(b"$y$" not in main_cdb and b"$6$" not in main_cdb and b"$2b$" not in main_cdb
     and b"carol" not in main_cdb,
     "the world-readable CDB holds no account and no hash")
t.ok(b"$y$" in pw_cdb and b"$6$" in pw_cdb and b"$2b$" in pw_cdb,
     "the passwd CDB holds the three kinds of hash")

bad = os.path.join(D, "bad-passwd")
with open(bad, "w") as f:
    f.write("joe:%s\nann:$1$abc$Kb85XxsXB.VXinPhbS4431\nbob\n" % yescrypt("x"))
badcf = os.path.join(D, "bad.cf")
with open(inst.cf) as f:
    cftext = f.read()
with open(badcf, "w") as f:
    f.write(cftext.replace('passwd-file = "%s"' % PASSWD, 'passwd-file = "%s"' % bad, 1))
cfc = os.path.join(PM_BIN, "postmaster-cfcompile")
r = subprocess.run([cfc, "-c", badcf, "--check"], capture_output=True, text=True)
t.is_((r.returncode, r.stderr),
      (65, "%s:2:5: 'ann': not a yescrypt ($y$), sha512-crypt ($6$) or bcrypt ($2b$) "
       "crypt(3) hash\n%s:3:1: expected user:hash\npostmaster-cfcompile: %s: 2 errors; "
       "nothing done\n" % (bad, bad, badcf)),
      "--check: each bad passwd-file line as FILE:LINE:COL, exit 65")
r = subprocess.run([cfc, "-c", badcf, "-o", inst.cdb], capture_output=True, text=True)
with open(inst.cdb, "rb") as f, open(pwcdb, "rb") as g:
    t.ok(r.returncode == 65 and f.read() == main_cdb and g.read() == pw_cdb,
         "a bad passwd-file keeps the old CDB and passwd CDB", r.stderr)

# ------------------------------------------------------------ in the clear
c = Client(SUB)
c.reply()
ehlo = c.cmd("EHLO client.test")
t.ok("STARTTLS" in ehlo and "AUTH" not in ehlo, "clear: EHLO offers STARTTLS, no AUTH", ehlo)
t.is_(c.cmd("AUTH PLAIN " + base64.b64encode(b"\0joe\0" + PW["joe"].encode()).decode()),
      "538 5.7.11 Encryption required for requested authentication mechanism",
      "clear: AUTH PLAIN with a good password refused 538 5.7.11")
t.is_(c.cmd("MAIL FROM:<joe@example.test>"), "530 5.7.0 Authentication required",
      "auth-required: MAIL before AUTH 530 5.7.0")
c.cmd("QUIT")
c.close()

c = Client(OPEN)
c.reply()
c.cmd("EHLO client.test")
c.cmd("MAIL FROM:<x@client.test>")
t.is_(c.cmd("RCPT TO:<someone@elsewhere.example>"),
      "554 5.7.1 <someone@elsewhere.example>: Relay access denied",
      "without AUTH: relaying denied 554 5.7.1")
t.is_(c.cmd("RCPT TO:<joe@example.test>"), "250 2.1.5 Ok", "  our domain still accepted")
c.cmd("QUIT")
c.close()


# ------------------------------------------------------ a raw TLS session
class TlsClient(Client):
    def __init__(self, port):
        Client.__init__(self, port)
        self.reply()
        self.cmd("EHLO client.test")
        t0 = self.cmd("STARTTLS")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.s = ctx.wrap_socket(self.s)
        self.started = t0


def plain(user, pw):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()


c = TlsClient(SUB)
ehlo = c.cmd("EHLO client.test")
t.ok("250-AUTH PLAIN LOGIN" in ehlo and "STARTTLS" not in ehlo,
     "TLS: EHLO offers AUTH PLAIN LOGIN", ehlo)
t.is_(c.cmd("MAIL FROM:<joe@example.test>"), "530 5.7.0 Authentication required",
      "TLS, before AUTH: MAIL 530 5.7.0")
t.is_(c.cmd("AUTH CRAM-MD5"), "504 5.5.4 Unrecognized authentication type",
      "unknown mechanism 504 5.5.4")
t.is_(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6", "LOGIN: Username:")
t.is_(c.cmd("*"), "501 5.0.0 Authentication cancelled", "'*' cancels: 501 5.0.0")
t.is_(c.cmd("AUTH PLAIN"), "334 ", "PLAIN without initial response: 334")
t.is_(c.cmd("AG!v"), "501 5.5.2 Cannot decode response", "bad base64 501 5.5.2")
t.is_(c.cmd("AUTH PLAIN " + plain("joe", WRONG)),
      "535 5.7.8 Authentication credentials invalid", "wrong password 535 5.7.8")
t.is_(c.cmd("AUTH PLAIN " + plain("nosuchuser", WRONG)),
      "535 5.7.8 Authentication credentials invalid", "unknown user: the same 535 5.7.8")
t.is_((c.cmd("AUTH PLAIN " + plain("joe", WRONG + "x")), c.reply()),
      ("535 5.7.8 Authentication credentials invalid",
       "421 4.7.0 sub.test Error: too many errors"),
      "failures count as errors: the seventh ends the session (max-errors 7)")
c.close()
t.ok(re.search(r"auth failed: client=127\.0\.0\.1 mech=PLAIN user=<joe>: wrong password", log())
     and re.search(r"auth failed: client=127\.0\.0\.1 mech=PLAIN user=<nosuchuser>: no such user",
                   log()), "failures logged with the user name", log())

c = TlsClient(SUB)
c.cmd("EHLO client.test")
t.is_(c.cmd("AUTH LOGIN " + base64.b64encode(b"ann").decode()), "334 UGFzc3dvcmQ6",
      "LOGIN with the user as initial response: Password:")
t.is_(c.cmd(base64.b64encode(PW["ann"].encode()).decode()),
      "235 2.7.0 Authentication successful", "LOGIN: ann (sha512-crypt) 235 2.7.0")
t.is_(c.cmd("AUTH PLAIN " + plain("ann", PW["ann"])),
      "503 5.5.1 Error: already authenticated", "second AUTH 503 5.5.1")
t.is_(c.cmd("MAIL FROM:<joe@example.test>"),
      "553 5.7.1 <joe@example.test>: Sender address rejected: not owned by user ann",
      "sender-login = own: another user's address 553 5.7.1")
t.is_(c.cmd("MAIL FROM:<ann@elsewhere.example>"),
      "553 5.7.1 <ann@elsewhere.example>: Sender address rejected: not owned by user ann",
      "  ann at a domain we do not route: 553 5.7.1")
t.is_(c.cmd("MAIL FROM:<Ann@Example.Test>"), "250 2.1.0 Ok",
      "  ann@ at our domain, any case: 250")
t.is_(c.cmd("AUTH PLAIN " + plain("ann", PW["ann"])),
      "503 5.5.1 Error: already authenticated", "AUTH in a transaction 503 5.5.1")
c.close()
c = TlsClient(SUB)
c.cmd("EHLO client.test")
c.cmd("AUTH PLAIN " + plain("ann", PW["ann"]))
t.is_(c.cmd("MAIL FROM:<>"), "250 2.1.0 Ok", "  the null sender: 250")
c.cmd("QUIT")
c.close()

# implicit TLS (RFC 8314): the same AUTH, TLS from the first octet
r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(serve("imp.test")),
                    "--tlsc", "--auth", "PLAIN", "--auth-user", "joe", "--auth-password",
                    PW["joe"], "--from", "joe@example.test", "--to", "far@elsewhere.example",
                    "--helo", "client.test"], capture_output=True, text=True, timeout=120)
t.ok(r.returncode == 0 and "250-AUTH PLAIN LOGIN" in r.stdout
     and "235 2.7.0 Authentication successful" in r.stdout and "Ok: queued" in r.stdout,
     "implicit TLS (swaks --tlsc --auth PLAIN): AUTH offered, relayed", r.stdout + r.stderr)

# ------------------------------------------------------------------ swaks
before = len(inst.queue())
r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(SUB), "--tls",
                    "--auth", "PLAIN", "--auth-user", "joe", "--auth-password", PW["joe"],
                    "--from", "joe@example.test", "--to", "friend@elsewhere.example",
                    "--helo", "client.test", "--header", "Subject: relayed"],
                   capture_output=True, text=True, timeout=120)
t.ok(r.returncode == 0 and "235 2.7.0 Authentication successful" in r.stdout
     and re.search(r"250 2\.0\.0 Ok: queued as", r.stdout),
     "swaks --tls --auth PLAIN (yescrypt): relayed to another domain", r.stdout + r.stderr)
q = spooled(before + 1)
msg = inst.read(q[-1]).decode("utf-8", "replace") if len(q) > before else ""
t.ok("\nauth joe\n" in msg and "\nproto ESMTPSA\n" in msg
     and "target mx:elsewhere.example\n" in msg,
     "envelope: auth joe, proto ESMTPSA, delivered by MX", msg[:800])
t.ok(re.search(r"Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\t\(using TLS[^\r]*\)\r\n"
               r"\t\(authenticated as joe\)\r\n\tby sub\.test \(Postmaster\) with ESMTPSA id ",
               msg), "Received: TLS and login comments, with ESMTPSA (RFC 3848)", msg[:1200])
t.ok(re.search(r"queued from=<joe@example\.test> .*proto=ESMTPSA .* auth=<joe>", log()),
     "the transaction's log line names the login", log())

before = len(inst.queue())
r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(SUB), "--tls",
                    "--auth", "LOGIN", "--auth-user", "bob", "--auth-password", PW["bob"],
                    "--from", "bob@example.test", "--to", "joe@example.test",
                    "--helo", "client.test"], capture_output=True, text=True, timeout=120)
t.ok(r.returncode == 0 and "235 2.7.0" in r.stdout and "Ok: queued" in r.stdout,
     "swaks --tls --auth LOGIN (bcrypt): accepted", r.stdout + r.stderr)
spooled(before + 1)
r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(SUB), "--tls",
                    "--auth", "LOGIN", "--auth-user", "bob", "--auth-password", WRONG,
                    "--from", "bob@example.test", "--to", "joe@example.test",
                    "--helo", "client.test"], capture_output=True, text=True, timeout=120)
t.ok(r.returncode != 0 and "535 5.7.8 Authentication credentials invalid" in r.stdout,
     "swaks, wrong password: 535 5.7.8", r.stdout + r.stderr)

# ----------------------------------------------------------------- msmtp
rc = os.path.join(D, "msmtprc")
with open(rc, "w") as f:
    f.write("defaults\ntls on\ntls_starttls on\ntls_certcheck off\n"
            "account sub\nhost 127.0.0.1\nport %d\nauth on\nuser carol@example.test\n"
            "password %s\nfrom carol@example.test\ndomain client.test\n"
            "account default : sub\n" % (SUB, PW["carol@example.test"]))
os.chmod(rc, 0o600)
before = len(inst.queue())
r = subprocess.run(["msmtp", "-C", rc, "pen.pal@elsewhere.example"],
                   input="Subject: from msmtp\n\nhello\n", capture_output=True, text=True,
                   timeout=120)
q = spooled(before + 1)
msg = inst.read(q[-1]).decode("utf-8", "replace") if len(q) > before else ""
t.ok(r.returncode == 0 and "\nauth carol@example.test\n" in msg
     and "\nsender carol@example.test\n" in msg,
     "msmtp (TLS + AUTH, login is an address): submitted and relayed", r.stderr + msg[:600])

# --------------------------------------------------------- Python smtplib


def smtplib_send(port, user, pw, sender, rcpt, mech=None):
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    try:
        if mech == "LOGIN":
            s.ehlo()
            s.user, s.password = user, pw
            s.auth("LOGIN", s.auth_login, initial_response_ok=False)
        else:
            s.login(user, pw)
        s.sendmail(sender, [rcpt], "Subject: smtplib\r\n\r\nhi\r\n")
        return "sent"
    except smtplib.SMTPException as e:
        return str(e)
    finally:
        s.close()


before = len(inst.queue())
t.is_(smtplib_send(SUB, "bob", PW["bob"], "bob@example.test", "x@elsewhere.example"), "sent",
      "smtplib login() (PLAIN): relayed")
t.is_(smtplib_send(SUB, "joe", PW["joe"], "joe@example.test", "x@elsewhere.example",
                   mech="LOGIN"), "sent", "smtplib AUTH LOGIN without initial response")
t.ok("553" in smtplib_send(SUB, "bob", PW["bob"], "ann@example.test", "joe@example.test"),
     "smtplib: someone else's sender refused (553)")
t.is_(smtplib_send(OPEN, "bob", PW["bob"], "ann@example.test", "x@elsewhere.example"), "sent",
      "sender-login = any: any sender")
spooled(before + 3)

# SPF (RFC 7208) is about senders nobody vouches for: a logged-in user's
# transaction is not checked, a stranger's is.
SPFP = serve("spf.test")
t.is_(smtplib_send(SPFP, "bob", PW["bob"], "bob@example.test", "joe@example.test"), "sent",
      "spf = reject: an authenticated session is not checked (the DNS server "
      "never answers)")
s = smtplib.SMTP("127.0.0.1", SPFP, local_hostname="client.test", timeout=60)
s.ehlo()
s.mail("bob@example.test")
t.is_(s.rcpt("joe@example.test"),
      (451, b"4.7.24 SPF temporary error checking example.test, try again later"),
      "... and without AUTH the check runs: temperror, 451 4.7.24")
s.close()
spooled(before + 4)

# --------------------------------------------------------------- Dovecot
for sub in ("run", "state"):
    os.makedirs(os.path.join(DOVE, sub), exist_ok=True)
with open(os.path.join(DOVE, "passwd"), "w") as f:
    f.write("dave:%s::::::\n" % crypt.crypt(PW["dave"], crypt.mksalt(crypt.METHOD_SHA512)))
conf = os.path.join(DOVE, "dovecot.conf")
with open(conf, "w") as f:
    f.write("""base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
instance_name = pm-auth-{pid}
protocols =
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=CRYPT {d}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service auth {{
  unix_listener auth-client {{
    mode = 0666
  }}
}}
""".format(d=DOVE, pid=os.getpid()))
dove = subprocess.Popen(["dovecot", "-c", conf, "-F"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
inst.procs.append(dove)


def dove_up():
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(DSOCK)
        s.close()
        return True
    except OSError:
        return False


t.ok(wait_for(dove_up, 30), "a private Dovecot serves %s" % DSOCK)
c = TlsClient(DV)
c.cmd("EHLO client.test")
t.is_(c.cmd("AUTH PLAIN " + plain("dave", WRONG)),
      "535 5.7.8 Authentication credentials invalid", "dovecot: wrong password 535 5.7.8")
t.is_(c.cmd("AUTH PLAIN " + plain("dave", PW["dave"])), "235 2.7.0 Authentication successful",
      "dovecot: dave 235 2.7.0")
t.is_(c.cmd("MAIL FROM:<dave@example.test>"), "250 2.1.0 Ok", "  MAIL as dave@ours")
t.is_(c.cmd("RCPT TO:<far@elsewhere.example>"), "250 2.1.5 Ok", "  relaying allowed")
c.cmd("QUIT")
c.close()
r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(DV), "--tls",
                    "--auth", "LOGIN", "--auth-user", "dave", "--auth-password", PW["dave"],
                    "--from", "dave@example.test", "--to", "joe@example.test",
                    "--helo", "client.test", "--quit-after", "AUTH"],
                   capture_output=True, text=True, timeout=120)
t.ok(r.returncode == 0 and "235 2.7.0" in r.stdout, "dovecot: swaks --auth LOGIN",
     r.stdout + r.stderr)
t.ok(re.search(r"auth: client=127\.0\.0\.1 mech=PLAIN user=<dave>\n", log())
     and re.search(r"auth failed: client=127\.0\.0\.1 mech=PLAIN user=<dave>: rejected by "
                   r"dovecot", log()), "dovecot verdicts logged", log())
end_process(dove)
inst.procs.remove(dove)
c = TlsClient(DV)
c.cmd("EHLO client.test")
t.is_(c.cmd("AUTH PLAIN " + plain("dave", PW["dave"])),
      "454 4.7.0 Temporary authentication failure", "dovecot gone: 454 4.7.0")
c.close()

# ------------------------------- auth servers that stall or talk nonsense


def fake_auth_server(path, greeting):
    """Accepts on a unix socket, sends greeting, then never answers."""
    import threading
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    os.chmod(path, 0o666)
    srv.listen(8)
    held = []

    def loop():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.sendall(greeting)
            held.append(conn)
    threading.Thread(target=loop, daemon=True).start()
    return srv


stall = fake_auth_server(os.path.join(D, "stall.sock"), b"")
junk = fake_auth_server(os.path.join(D, "junk.sock"), b"220 not dovecot\n")
for port, what in ((serve("st.test"), "a server that never answers, timeout = 1s"),
                   (serve("jk.test"), "a server that is not Dovecot")):
    c = TlsClient(port)
    c.cmd("EHLO client.test")
    t.is_(c.cmd("AUTH PLAIN " + plain("dave", PW["dave"])),
          "454 4.7.0 Temporary authentication failure", "dovecot = %s: 454 4.7.0" % what)
    c.close()
t.ok(re.search(r"auth temporary failure: client=127\.0\.0\.1 mech=PLAIN user=<dave>: auth "
               r"server timed out", log())
     and re.search(r"user=<dave>: not a Dovecot auth server", log()),
     "  each logged with the reason", log())
stall.close()
junk.close()

# --------------------------------------------------- passwords never logged
text = log()
leaked = [p for p in list(PW.values()) + [WRONG, WRONG + "x"] if p in text
          or base64.b64encode(p.encode()).decode() in text]
t.is_(leaked, [], "no password, plain or base64, in the log")
t.ok(not any(plain(u, p) in text for u, p in PW.items()), "no PLAIN response in the log")
t.done()
