#!/usr/bin/env python3
"""[smtpd] tls: STARTTLS and implicit TLS through postmaster-tlsd, with
real TLS clients (swaks, openssl s_client, gnutls-cli, a private Postfix
with smtp_tls_security_level = encrypt) and raw sockets for what a client
library will not do (plaintext after STARTTLS, a stalled handshake).
Certificates are made at test time; keys are 0640 root:nogroup, readable
by the instance's group-id as postmaster-tlsd(8) documents."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import (Tap, Instance, Client, PM_BIN, require, wait_for,  # noqa: E402
                    watchdog, private_postfix, free_port)

require("keys owned by root and readable by nogroup; the spool is nobody's",
        {"openssl": "openssl", "swaks": "swaks", "gnutls-cli": "gnutls-bin",
         "certtool": "gnutls-bin", "tcpserver": "ucspi-tcp-ipv6"})
if subprocess.run(["perl", "-MIO::Socket::SSL", "-e", "1"],
                  capture_output=True).returncode != 0:
    print("1..0 # SKIP not installed: libio-socket-ssl-perl (swaks --tls)")
    sys.exit(0)
t = Tap()
watchdog(400)

certs = tempfile.mkdtemp(prefix="pm-tls.")
os.chmod(certs, 0o755)


def cleanup_certs():
    shutil.rmtree(certs, ignore_errors=True)


import atexit  # noqa: E402
atexit.register(cleanup_certs)


def make_pair(stem, cn, kind):
    key, crt = os.path.join(certs, stem + ".key"), os.path.join(certs, stem + ".crt")
    new = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if kind == "ec" \
        else ["-newkey", "rsa:2048"]
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                    "-keyout", key, "-out", crt] + new, check=True, capture_output=True)
    os.chmod(key, 0o640)
    shutil.chown(key, "root", "nogroup")
    return crt, key


ec_crt, ec_key = make_pair("ec", "mx.test", "ec")
rsa_crt, rsa_key = make_pair("rsa", "mx.test", "rsa")
new_crt, new_key = make_pair("ec-new", "renewed.mx.test", "ec")
ticket = os.path.join(certs, "ticket.key")
r = subprocess.run([os.path.join(PM_BIN, "postmaster-tlsd"), "-k", ticket], capture_output=True,
                   text=True)
t.ok(r.returncode == 0 and os.path.getsize(ticket) == 64
     and os.stat(ticket).st_mode & 0o777 == 0o600, "postmaster-tlsd -k writes a 64-octet key, "
     "mode 0600", r.stderr)
shutil.chown(ticket, "root", "nogroup")
os.chmod(ticket, 0o640)
# certbot's layout: live/ holds symlinks into archive/, replaced by rename
live = os.path.join(certs, "live")
os.mkdir(live)
os.symlink(ec_crt, os.path.join(live, "cert.pem"))
os.symlink(ec_key, os.path.join(live, "key.pem"))


def pairs(*p):
    return "".join("tls-certificate = %s\ntls-key = %s\n" % x for x in p)


EC, RSA = (ec_crt, ec_key), (rsa_crt, rsa_key)
extra = "".join('[smtpd "%s"]\nrouting-table = ext\n%s\n' % x for x in [
    ("tls.test", "tls = optional\n" + pairs(EC, RSA) + "tls-ticket-key-file = %s\n" % ticket),
    ("req.test", "tls = required\n" + pairs(EC)),
    ("imp.test", "tls = implicit\n" + pairs(EC) + "tls-ticket-key-file = %s\n" % ticket),
    ("bad.test", "tls = optional\n" + pairs((ec_crt, rsa_key))),
    ("stall.test", "tls = optional\nidle-timeout = 2\n" + pairs(EC)),
    ("swap.test", "tls = optional\n" + pairs((os.path.join(live, "cert.pem"),
                                              os.path.join(live, "key.pem")))),
])
# no postmaster-tlsd service listens there: smtpd spawns one per session
# (t/smtpd-tlsd.t tests the service)
inst = Instance(extra=extra, core='tls-socket = "%s/none.socket"\n' % certs)
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


def log_has(pattern, secs=30):
    wait_for(lambda: re.search(pattern, log()) is not None, secs)
    m = re.search(pattern, log())
    return m.group(0) if m else None


port = {n: serve(n) for n in ("tls.test", "req.test", "imp.test", "bad.test", "stall.test",
                              "swap.test")}


def swaks(name, *args):
    r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port[name], "--ehlo", "client.test",
                        "--from", "a@b.test", "--to", "x@example.test", "--timeout", "30"]
                       + list(args), capture_output=True, text=True, timeout=90)
    return r.returncode, r.stdout + r.stderr


def queued_text(out):
    m = re.search(r"250 2\.0\.0 Ok: queued as ([0-9A-F]{30})", out)
    return inst.read(m.group(1)).decode() if m else ""


# --- STARTTLS with swaks
rc, out = swaks("tls.test", "--tls")
t.ok(rc == 0 and "=== TLS started with cipher TLSv1.3" in out, "swaks --tls: STARTTLS, TLS 1.3, "
     "message sent", out)
ehlos = [re.search(r"(?s)-> EHLO client\.test\n(.*?)\n -> STARTTLS", out),
         re.search(r"(?s)~> EHLO client\.test\n(.*?)\n ~> MAIL", out)]
ehlos = [m.group(1) if m else "" for m in ehlos]
t.ok("250-STARTTLS" in ehlos[0] and "250 CHUNKING" in ehlos[1] and "STARTTLS" not in ehlos[1],
     "STARTTLS offered in the clear, not again after TLS", ehlos)
data = queued_text(out)
t.ok(re.search(r"Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\t\(using TLS1\.3 with "
               r"cipher TLS_[A-Z0-9_]+\)\r\n\tby tls\.test \(Postmaster\) with ESMTPS id ", data),
     "Received: the protocol and cipher as a comment, with ESMTPS (RFC 3848)", data[:400])
t.like(data, "\nproto ESMTPS\n", "the envelope records ESMTPS")
t.ok(log_has(r"postmaster-smtpd\[\d+\]: info: tls: established from 127\.0\.0\.1: TLS1\.3 "
             r"cipher=TLS_\w+ sni=- session=new tlsd=spawned"), "one log line per handshake: "
     "version, cipher, SNI, new session, a spawned postmaster-tlsd")

# --- implicit TLS (RFC 8314)
rc, out = swaks("imp.test", "--tlsc")
t.ok(rc == 0 and "=== TLS started with cipher" in out and "<~  220 imp.test ESMTP Postmaster"
     in out, "swaks --tlsc: TLS from the first octet, the greeting inside TLS", out)
ehlo = re.search(r"(?s)~> EHLO client\.test\n(.*?)\n ~>", out)
t.ok(ehlo and "STARTTLS" not in ehlo.group(1), "implicit TLS: STARTTLS is not offered",
     ehlo and ehlo.group(1))
t.like(queued_text(out), "\tby imp.test (Postmaster) with ESMTPS id ",
       "implicit TLS: with ESMTPS in Received")
c = Client(port["imp.test"])
c.send("EHLO plain.test\r\n")
t.ok(c.closed(), "implicit TLS: a client speaking plaintext is cut off")
t.ok(log_has(r"tls: handshake failed from 127\.0\.0\.1: .+"),
     "implicit TLS: the failed handshake is logged with its reason")


# --- openssl s_client: SNI, resumption across processes, key choice
def s_client(name, *args, inp="QUIT\r\n"):
    r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                        "127.0.0.1:%d" % port[name], "-ign_eof"] + list(args),
                       input=inp, capture_output=True, text=True, timeout=60)
    return r.stdout + r.stderr


sess = os.path.join(inst.dir, "sess.pem")
out1 = s_client("tls.test", "-servername", "mx.test", "-sess_out", sess)
out2 = s_client("tls.test", "-servername", "mx.test", "-sess_in", sess)
t.ok("New, TLSv1.3" in out1 and "221 2.0.0 tls.test Bye" in out1,
     "openssl s_client -starttls smtp: new TLS 1.3 session, QUIT answered inside TLS", out1)
t.ok("Reused, TLSv1.3" in out2, "a second process resumes the session (ticket key from the "
     "file)", out2)
t.ok(log_has(r"tls: established from 127\.0\.0\.1: TLS1\.3 cipher=\S+ sni=mx\.test "
             r"session=resumed"), "the log says sni=mx.test session=resumed")
out = s_client("tls.test", "-tls1_2", "-sigalgs", "RSA-PSS+SHA256:RSA+SHA256")
t.ok("Server public key is 2048 bit" in out and "Protocol  : TLSv1.2" in out,
     "a client that signs only RSA gets the RSA certificate (TLS 1.2)", out)
out = s_client("tls.test", "-sigalgs", "ECDSA+SHA256")
t.ok("Server public key is 256 bit" in out, "a client that asks ECDSA gets the ECDSA one", out)
out = s_client("tls.test", "-tls1_1")
t.ok("Cipher is (NONE)" in out or "no protocols available" in out or "alert" in out,
     "TLS 1.1 is refused by the default tls-priority", out[-600:])

# --- gnutls-cli
g = subprocess.Popen(["gnutls-cli", "--starttls-proto=smtp", "--port", str(port["tls.test"]),
                      "--insecure", "--resume", "--sni-hostname=mx.test", "127.0.0.1"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                     text=True)
try:
    gout, _ = g.communicate("", timeout=60)
except subprocess.TimeoutExpired:
    g.kill()
    gout = g.communicate()[0]
t.ok("*** This is a resumed session" in gout and "(TLS1.3" in gout,
     "gnutls-cli --starttls-proto=smtp --resume: resumed across connections", gout)

# --- QUIT inside TLS: the 221, then close_notify (not a bare TCP close)


def gnutls_quit():
    g = subprocess.Popen(["gnutls-cli", "--starttls-proto=smtp", "--port",
                          str(port["tls.test"]), "--insecure", "127.0.0.1"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    out = b""
    os.set_blocking(g.stdout.fileno(), False)

    def read_more():
        nonlocal out
        try:
            out += g.stdout.read() or b""
        except (BlockingIOError, TypeError):
            pass
        return out
    for line, want in ((b"EHLO client.test\r\n", b"250 CHUNKING"),
                       (b"QUIT\r\n", b"221 2.0.0")):
        wait_for(lambda: b"- Simple Client Mode" in read_more() or b"250 CHUNKING" in out, 30)
        g.stdin.write(line)
        g.stdin.flush()
        wait_for(lambda: want in read_more(), 30)
    wait_for(lambda: g.poll() is not None and read_more() is not None, 30)
    read_more()
    if g.poll() is None:
        g.kill()
    g.wait()
    return out.decode("utf-8", "replace")


gout = gnutls_quit()
t.ok("221 2.0.0 tls.test Bye" in gout and "- Peer has closed the GnuTLS connection" in gout,
     "QUIT under TLS: 221, then close_notify from postmaster-tlsd", gout[-600:])

# --- tls = required
c = Client(port["req.test"])
greet = c.reply()
e = c.cmd("EHLO client.test")
r = [c.cmd("MAIL FROM:<a@b.test>"), c.cmd("NOOP"), c.cmd("RSET"), c.cmd("QUIT")]
t.ok(greet == "220 req.test ESMTP Postmaster" and "250-STARTTLS" in e, "required: STARTTLS offered")
t.is_(r, ["530 5.7.0 Must issue a STARTTLS command first", "250 2.0.0 Ok", "250 2.0.0 Ok",
          "221 2.0.0 req.test Bye"], "required: MAIL in the clear 530 5.7.0; NOOP, RSET, QUIT "
      "answered")
rc, out = swaks("req.test", "--tls")
t.ok(rc == 0 and "~> MAIL FROM:<a@b.test>\n<~  250 2.1.0 Ok" in out,
     "required: MAIL accepted after STARTTLS", out)

# --- plaintext pipelined after STARTTLS is never read as commands (CVE-2011-0411)
c = Client(port["tls.test"])
c.reply()
c.cmd("EHLO client.test")
c.send("STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
t.is_(c.reply(), "554 5.5.0 Error: SMTP protocol synchronization",
      "STARTTLS with plaintext in the same packet: refused, no 220")
t.ok(c.closed(), "... and the connection closed")
c = Client(port["tls.test"])
c.reply()
c.cmd("EHLO client.test")
t.is_(c.cmd("STARTTLS"), "220 2.0.0 Ready to start TLS", "STARTTLS: 220")
c.send("MAIL FROM:<injected@evil.test>\r\nRCPT TO:<x@example.test>\r\n")
failed = len(re.findall("tls: handshake failed", log()))
t.ok(c.closed(), "plaintext after the 220 is taken for a handshake and fails: closed, no reply")
t.ok(wait_for(lambda: len(re.findall("tls: handshake failed", log())) == failed + 1, 30),
     "the failed handshake is logged")
t.ok("injected@evil.test" not in log(), "the injected command never reached the session")

# --- a bad key: 454 4.7.0 and the session goes on in the clear
c = Client(port["bad.test"])
c.reply()
c.cmd("EHLO client.test")
t.is_([c.cmd("STARTTLS"), c.cmd("MAIL FROM:<a@b.test>"), c.cmd("QUIT")],
      ["454 4.7.0 TLS not available due to local problem", "250 2.1.0 Ok",
       "221 2.0.0 bad.test Bye"], "a key that does not match its certificate: 454 4.7.0 (RFC "
      "3207), the session survives")
t.ok(log_has(r"error: tls: not available: tls-certificate %s with tls-key %s: .+"
             % (re.escape(ec_crt), re.escape(rsa_key))), "the log names both files and why")

# --- a client that stalls mid-handshake is cut at the deadline
c = Client(port["stall.test"])
c.reply()
c.cmd("EHLO client.test")
c.cmd("STARTTLS")
c.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello's first octets
t.ok(c.closed(30), "a stalled handshake is cut off")
t.ok(log_has(r"tls: handshake failed from 127\.0\.0\.1: handshake timed out"),
     "... at the deadline (idle-timeout), logged")

# --- certificates are read per connection: certbot-style renewal
before = s_client("swap.test")
for f, target in (("cert.pem", new_crt), ("key.pem", new_key)):
    tmp = os.path.join(live, f + ".new")
    os.symlink(target, tmp)
    os.rename(tmp, os.path.join(live, f))
after = s_client("swap.test")
t.ok("subject=CN = mx.test" in before and "subject=CN = renewed.mx.test" in after,
     "a certificate replaced by rename serves the next client, no reload",
     (before[-300:], after[-300:]))

# --- plain sessions load no TLS code
c = Client(port["tls.test"])
c.reply()
c.cmd("EHLO client.test")
maps = ""
for pid in re.findall(r"postmaster-smtpd\[(\d+)\]", log())[-1:]:
    try:
        with open("/proc/%s/maps" % pid) as f:
            maps = f.read()
    except OSError:
        pass
# (the sanitizer build links smtpd dynamically, but never with GnuTLS)
t.ok(maps and "postmaster-smtpd" in maps and "gnutls" not in maps,
     "a plain session loads no TLS code: no GnuTLS mapped in smtpd", maps[:300])
c.cmd("QUIT")
c.close()

# --- Postfix as the TLS client: smtp_tls_security_level = encrypt


def postfix_client():
    """A private Postfix relays one message to tls.test and must use TLS."""
    if not shutil.which("postfix") or not os.path.exists("/etc/postfix/master.cf"):
        t.skip("Postfix is not installed")
        return
    pf = tempfile.mkdtemp(prefix="pm-postfix.")
    os.chmod(pf, 0o755)
    # no listener of its own (master_service_disable): it only sends
    started, err = private_postfix(pf, free_port(), """master_service_disable = inet
myhostname = relay.pf.test
mydestination =
relayhost = [127.0.0.1]:{port}
smtp_dns_support_level = disabled
smtp_tls_security_level = encrypt
smtp_tls_loglevel = 1
alias_maps =
alias_database =
""".format(port=port["tls.test"]))
    try:
        before = set(inst.queue())
        subprocess.run(["sendmail", "-C", pf, "-f", "sender@pf.test", "dest@example.test"],
                       input="Subject: over TLS\n\nfrom Postfix\n", text=True, check=True)
        maillog = os.path.join(pf, "maillog")

        def mlog():
            return open(maillog).read() if os.path.exists(maillog) else ""
        wait_for(lambda: "status=sent" in mlog(), 60)
        new = sorted(set(inst.queue()) - before)
        data = inst.read(new[0]).decode() if new else ""
        t.ok(started and re.search(
            r"TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: TLSv1\.3"
            % port["tls.test"], mlog()) and "status=sent (250 2.0.0 Ok: queued as" in mlog()
            and "Received: from relay.pf.test ([127.0.0.1])\r\n\t(using TLS1.3 with cipher"
            in data and "with ESMTPS id" in data,
            "Postfix (smtp_tls_security_level = encrypt) relays into us over TLS 1.3",
            (err, mlog()[-1500:], data[:300]))
    finally:
        subprocess.run(["postfix", "-c", pf, "stop"], capture_output=True)
        wait_for(lambda: not os.path.exists(os.path.join(pf, "queue", "pid",
                                                         "master.pid")), 15)
        shutil.rmtree(pf, ignore_errors=True)


postfix_client()

# --- cfcompile --check
bad_cf = os.path.join(inst.dir, "bad.cf")
with open(bad_cf, "w") as f:
    f.write('[smtpd "a.test"]\ntls = required\n'
            '[smtpd "b.test"]\ntls = optional\ntls-certificate = %s\n'
            'tls-key = %s\ntls-certificate = %s\n'
            '[smtpd "c.test"]\ntls = implicit\ntls-certificate = %s/none.crt\ntls-key = %s\n'
            % (ec_crt, ec_key, rsa_crt, certs, ec_key))
r = subprocess.run([os.path.join(PM_BIN, "postmaster-cfcompile"), "--check", "-c", bad_cf],
                   capture_output=True, text=True)
t.is_(r.returncode, 65, "cfcompile --check refuses bad TLS settings (EX_DATAERR)")
t.like(r.stderr, "%s:2:1: tls = required needs a tls-certificate and tls-key pair" % bad_cf,
       "required without a certificate: FILE:LINE:COL")
t.like(r.stderr, "%s:7:19: tls-certificate '%s' has no tls-key" % (bad_cf, rsa_crt),
       "an unpaired certificate, at its word")
t.like(r.stderr, "%s:10:19: tls-certificate: cannot read '%s/none.crt': No such file or "
       "directory" % (bad_cf, certs), "a missing certificate file")
t.done()
