#!/usr/bin/env python3
"""Bounces end to end, on the wire: messages enter through the real
postmaster-smtpd (pipe mode), `postmaster-queue --once` relays them to a
recording SMTP server written here that refuses their recipients, and the
DSNs travel back through the same server (the sender's domain is routed
there too), so the test sees every octet Postmaster sends:

  - Remote-MTA: dns; and the host's name (RFC 3464 2.3.5), not the
    client's "host[ip]:port";
  - about an SMTPUTF8 original, RFC 6533: message/global-delivery-status,
    "utf-8;" for a UTF-8 address, message/global-headers, SMTPUTF8 on the
    DSN's own MAIL;
  - a BINARYMIME original with a bare CR in its header: the DSN quotes it
    as CRLF lines, so no CR . CR LF reaches the wire.

Loopback only; the server and everything started here stop here."""
import os
import re
import socketserver
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import PM_BIN, Instance, Tap, free_port, watchdog  # noqa: E402

t = Tap()
watchdog(100)
if os.getuid() != 0:
    print("1..0 # SKIP needs root (the spool belongs to nobody)")
    sys.exit(0)
os.environ.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=0")


class Recorder(socketserver.ThreadingTCPServer):
    """SMTP, one command at a time: RCPT to *@back.test and
    pm@inside.test is taken, every
    other refused with 550 5.1.1; DATA is recorded as sent (stuffed)."""
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port):
        self.msgs = []
        super().__init__(("127.0.0.1", port), RecorderHandler)
        self.thread = threading.Thread(target=self.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()


class RecorderHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(30)
        try:
            self.session(self.request)
        except (OSError, ValueError):
            pass

    def session(self, conn):
        buf = b""

        def line():
            nonlocal buf
            while b"\r\n" not in buf:
                d = conn.recv(65536)
                if not d:
                    raise ValueError("eof")
                buf += d
            ln, buf = buf.split(b"\r\n", 1)
            return ln

        def say(text):
            conn.sendall(text.encode() + b"\r\n")

        say("220 rec.test ESMTP")
        msg = None
        while True:
            ln = line()
            verb = ln[:4].upper()
            if verb == b"EHLO":
                say("250-rec.test\r\n250-8BITMIME\r\n250 SMTPUTF8")
            elif verb == b"MAIL":
                msg = {"mail": ln.decode("utf-8", "replace"), "rcpt": [],
                       "raw": b""}
                say("250 2.1.0 Ok")
            elif verb == b"RCPT":
                addr = ln[ln.index(b"<") + 1:ln.rindex(b">")]
                if addr.endswith((b"@back.test", b"pm@inside.test")):
                    msg["rcpt"].append(addr)
                    say("250 2.1.5 Ok")
                else:
                    say("550 5.1.1 <%s>: no such user" %
                        addr.decode("utf-8", "replace"))
            elif verb == b"DATA":
                say("354 go ahead")
                while b"\r\n.\r\n" not in b"\r\n" + buf:
                    d = conn.recv(65536)
                    if not d:
                        raise ValueError("eof")
                    buf += d
                i = (b"\r\n" + buf).index(b"\r\n.\r\n")
                msg["raw"], buf = buf[:i + 3], buf[i + 3:]
                self.server.msgs.append(msg)
                say("250 2.0.0 Ok: kept")
            elif verb == b"RSET":
                say("250 2.0.0 Ok")
            elif verb == b"QUIT":
                say("221 2.0.0 Bye")
                return
            else:
                say("502 5.5.2 what")


PORT = free_port()
rec = Recorder(PORT)
# pm@inside.test is only in the instance's table: the postmaster copy of
# a bounce (bounce-to = both) must be routed through the tables of the
# instance that took the message, not [route] alone (where it would go
# by MX, and the resolver here answers nothing).
inst = Instance(name="mx.test", extra="bounce-to = both\nretry-interval = 1m\n"
                "dns-server = 127.0.0.1:1",
                routes="""@plain.test far
@utf.test far
@bin.test far
pm@inside.test far

[route]
@back.test far
postmaster pm@inside.test

[relay "far"]
address = 127.0.0.1:%d
""" % PORT)


def session(lines):
    """Speaks to postmaster-smtpd on a pipe, waiting for each reply;
    returns every reply."""
    p = subprocess.Popen(inst.argv(), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    said = []

    def reply():
        while True:
            ln = p.stdout.readline().decode("utf-8", "replace")
            said.append(ln.rstrip("\r\n"))
            if ln[3:4] != "-":
                return
    try:
        reply()
        for ln in lines:
            p.stdin.write(ln)
            p.stdin.flush()
            reply()
    finally:
        p.stdin.close()
        p.wait(30)
        p.stdout.close()
    return said


BIN = b"X-A: a\r.\r\nSubject: bin\r\n\r\nbody\r.\rmore\r\n"
said = session([
    b"EHLO client.test\r\n",
    b"MAIL FROM:<sender@back.test>\r\n", b"RCPT TO:<who@plain.test>\r\n",
    b"DATA\r\n", b"Subject: plain\r\n\r\nhello\r\n.\r\n",
    "MAIL FROM:<s\u00e9@back.test> SMTPUTF8\r\n".encode(),
    "RCPT TO:<\u00fc@utf.test>\r\n".encode(), b"DATA\r\n",
    "Subject: \u00fcber\r\nFrom: <s\u00e9@back.test>\r\n\r\nhi\r\n.\r\n".encode(),
    b"MAIL FROM:<bin@back.test> BODY=BINARYMIME\r\n",
    b"RCPT TO:<who@bin.test>\r\n",
    b"BDAT %d LAST\r\n%s" % (len(BIN), BIN),
    b"QUIT\r\n"])
queued = [s for s in said if s.startswith("250 2.0.0 Ok: queued")]
t.is_(len(queued), 3, "three messages queued")
if len(queued) != 3:
    print("# smtpd said: " + "\n# ".join(said))

r = subprocess.run([os.path.join(PM_BIN, "postmaster-queue"), "-C", inst.cdb,
                    "--once"], capture_output=True, text=True, timeout=60)
t.is_(r.returncode, 0, "postmaster-queue --once")
rec.stop()


def dsn_to(addr):
    for m in rec.msgs:
        if m["mail"].startswith("MAIL FROM:<>") and addr.encode() in \
                b" ".join(m["rcpt"]):
            return m
    return None


plain = dsn_to("sender@back.test")
utf = dsn_to("s\u00e9@back.test")
binm = dsn_to("bin@back.test")
t.ok(plain and utf and binm, "three DSNs came back through the relay",
     [m["mail"] for m in rec.msgs] + [r.stderr[-2000:]])
plain = plain or {"raw": b"", "mail": ""}
utf = utf or {"raw": b"", "mail": ""}
binm = binm or {"raw": b"", "mail": ""}

t.like(plain["raw"].decode("latin-1"),
       "Final-Recipient: rfc822; who@plain.test\r\nOriginal-Recipient: "
       "rfc822; who@plain.test\r\nAction: failed\r\n"
       "Status: 5.1.1\r\nRemote-MTA: dns; 127.0.0.1\r\n"
       "Diagnostic-Code: smtp; 550 5.1.1 <who@plain.test>: no such user\r\n",
       "Remote-MTA: dns; 127.0.0.1 (the host, not 127.0.0.1[127.0.0.1]:port)")
t.is_(sorted(plain.get("rcpt", [])), [b"pm@inside.test", b"sender@back.test"],
      "bounce-to = both: the postmaster copy routed through the instance's "
      "table")
t.ok(b"Content-Type: message/delivery-status\r\n" in plain["raw"] and
     b"Content-Type: text/rfc822-headers\r\n" in plain["raw"],
     "an ASCII original: message/delivery-status and text/rfc822-headers")

u = utf["raw"].decode("utf-8", "replace")
t.like(u, "Content-Type: message/global-delivery-status\r\n",
       "SMTPUTF8 original: message/global-delivery-status (RFC 6533)")
t.like(u, "X-Postmaster-Sender: utf-8; s\u00e9@back.test\r\n",
       "the UTF-8 sender has the utf-8 address type")
t.like(u, "Final-Recipient: utf-8; \u00fc@utf.test\r\nOriginal-Recipient: "
       "utf-8; \u00fc@utf.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
       "Remote-MTA: dns; 127.0.0.1\r\n",
       "the UTF-8 recipient: utf-8; raw UTF-8, Remote-MTA a dns name")
t.like(u, "Content-Type: message/global-headers\r\n\r\nReceived: ",
       "the original header as message/global-headers")
t.like(u, "\r\nSubject: \u00fcber\r\n", "  with its UTF-8 Subject as it was")
t.is_(utf["mail"], "MAIL FROM:<> BODY=8BITMIME SMTPUTF8",
      "the DSN's own MAIL: 8BITMIME and SMTPUTF8 (its To: is UTF-8)")

raw = binm["raw"]
t.ok(re.search(rb"\r(?!\n)", raw) is None and
     re.search(rb"(?<!\r)\n", raw) is None,
     "the DSN about a BINARYMIME original: no bare CR or LF on the wire",
     raw[-600:])
t.like(raw.decode("latin-1"),
       "Content-Type: text/rfc822-headers\r\n\r\nReceived: ",
       "its header quoted")
t.like(raw.decode("latin-1"), "\r\nX-A: a\r\n..\r\nSubject: bin\r\n\r\n",
       "the bare CR quoted as a line end, the dot stuffed after it")
t.done()
