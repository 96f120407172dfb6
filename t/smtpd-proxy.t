#!/usr/bin/env python3
"""[smtpd] proxy-protocol = yes behind a real HAProxy (send-proxy and
send-proxy-v2, and its SMTP health check, which sends LOCAL): the client's
address, not HAProxy's, is in the logs, the Received field and the
envelope. Raw sockets: a missing, malformed, cut or late header closes the
connection without a greeting and with one log line; LOCAL and UNKNOWN
keep the real peer; SMTP sent with the header is left for the session."""
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import Tap, Instance, Client, PM_BIN, end_process, free_port, wait_for, watchdog  # noqa: E402

HAPROXY = "/usr/sbin/haproxy"
t = Tap()
watchdog(240)
inst = Instance(extra='[smtpd "px.test"]\nrouting-table = ext\nproxy-protocol = yes\n'
                      'idle-timeout = 1\n')
LOG = os.path.join(inst.dir, "smtpd.log")
logf = open(LOG, "ab")
# tcpserver's children write their log lines to its stderr, the file
srv = subprocess.Popen(["tcpserver", "-1", "-R", "-H", "-l", "0", "127.0.0.1", "0"]
                       + inst.argv("px.test"), stdout=subprocess.PIPE, stderr=logf)
inst.procs.append(srv)
port = int(srv.stdout.readline())


def log():
    with open(LOG, "rb") as f:
        return f.read().decode("utf-8", "replace")


def session_log(pattern, secs=30):
    """The log lines of the one session whose line matches pattern, once
    its disconnect (or closing) line is there."""
    def done():
        m = re.search(pattern, log())
        if not m:
            return None
        pid = re.search(r"postmaster-smtpd\[(\d+)\]", log()[:m.end()].splitlines()[-1])
        lines = [ln for ln in log().splitlines() if pid and "[%s]" % pid.group(1) in ln]
        ended = any("disconnect from" in ln or "proxy: closing" in ln for ln in lines)
        return lines if ended else None
    wait_for(lambda: done() is not None, secs)
    return done() or []


def connect(dport, src="127.0.0.2", family=socket.AF_INET, dst="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(20)
    s.bind((src, 0))
    s.connect((dst, dport))
    return s


def transaction(c, rcpt):
    r = [c.cmd("EHLO client.test").splitlines()[0], c.cmd("MAIL FROM:<a@b.test>"),
         c.cmd("RCPT TO:<%s>" % rcpt), c.cmd("DATA")]
    c.send("Subject: proxied\r\n\r\nhi\r\n.\r\n")
    r.append(c.reply())
    r.append(c.cmd("QUIT"))
    return r


def queued(reply):
    return reply.split()[-1] if reply.startswith("250 2.0.0 Ok: queued as ") else None


def whole_session(s, rcpt, name):
    """Greeting, one message, QUIT on socket s; the queued file's text."""
    c = Client(sock=s)
    r = [c.reply()] + transaction(c, rcpt)
    qid = queued(r[5])
    t.ok(r[0] == "220 px.test ESMTP Postmaster" and qid, name + ": greeted and queued", r)
    c.close()
    return inst.read(qid).decode() if qid else ""


# --- HAProxy in front --------------------------------------------------------
if not os.access(HAPROXY, os.X_OK):
    t.skip("no %s" % HAPROXY)
    t.done()
p1, p2, p6 = free_port(), free_port(), free_port()
probe = socket.socket(socket.AF_INET6)
try:
    probe.bind(("::1", 0))
    bind6 = "bind [::1]:%d" % p6
except OSError as e:
    bind6 = None
    no6 = str(e)
probe.close()
hcfg = os.path.join(inst.dir, "haproxy.cfg")
pidfile = os.path.join(inst.dir, "haproxy.pid")
with open(hcfg, "w") as f:
    f.write("""global
    maxconn 100
defaults
    mode tcp
    timeout connect 10s
    timeout client 60s
    timeout server 60s
frontend v1
    bind 127.0.0.1:%(p1)d
    default_backend smtpd_v1
frontend v2
    bind 127.0.0.1:%(p2)d
    %(bind6)s
    default_backend smtpd_v2
backend smtpd_v1
    server s1 127.0.0.1:%(port)d send-proxy
backend smtpd_v2
    option smtpchk HELO check.test
    server s2 127.0.0.1:%(port)d send-proxy-v2 check check-send-proxy inter 1s
""" % {"p1": p1, "p2": p2, "bind6": bind6 or "", "port": port})
herr = open(os.path.join(inst.dir, "haproxy.err"), "wb")
hp = subprocess.Popen([HAPROXY, "-W", "-db", "-f", hcfg, "-p", pidfile],
                      stdout=herr, stderr=herr)
inst.procs.insert(0, hp)


def hlog():
    with open(os.path.join(inst.dir, "haproxy.err"), "rb") as f:
        return f.read().decode("utf-8", "replace")


t.ok(wait_for(lambda: "Loading success" in hlog() and os.path.exists(pidfile), 30),
     "haproxy started (foreground, master-worker)", hlog())
with open(pidfile) as f:
    t.is_(f.read().strip(), str(hp.pid), "haproxy's pid file is in the test directory")

for label, hport, ver in (("send-proxy", p1, 1), ("send-proxy-v2", p2, 2)):
    s = connect(hport)
    cport = s.getsockname()[1]
    c = Client(sock=s)
    t.is_(c.reply(), "220 px.test ESMTP Postmaster", label + ": greeting through haproxy")
    r = transaction(c, "x@example.test")
    t.is_(r[:4], ["250-px.test", "250 2.1.0 Ok", "250 2.1.5 Ok",
                  "354 End data with <CR><LF>.<CR><LF>"], label + ": EHLO, MAIL, RCPT, DATA")
    qid = queued(r[4])
    t.ok(qid, label + ": queued", r[4])
    c.close()
    data = inst.read(qid).decode() if qid else ""
    t.like(data, "\nclient 127.0.0.2\n", label + ": the envelope has the client's address")
    t.like(data, "Received: from client.test ([127.0.0.2])\r\n\tby px.test (Postmaster) "
           "with ESMTP id %s\r\n" % qid, label + ": Received has the client's address")
    lines = session_log(r"connect from 127\.0\.0\.2 port %d via" % cport)
    t.ok(any(ln.endswith("info: connect from 127.0.0.2 port %d via 127.0.0.1 (PROXY v%d) "
                         "to px.test" % (cport, ver)) for ln in lines),
         label + ": connect line names the client, its port, and haproxy", lines)
    t.ok(any(re.search(r"info: %s: queued from=<a@b\.test> .* client=127\.0\.0\.2 "
                       % qid, ln) for ln in lines), label + ": queued line", lines)
    t.ok(any("info: disconnect from 127.0.0.2 ehlo=1 mail=1 rcpt=1 data=1 quit=1" in ln
             for ln in lines), label + ": disconnect line", lines)
    t.ok(not any("127.0.0.1" in ln for ln in lines if " info: connect from " not in ln),
         label + ": haproxy's address appears in no other line", lines)

# IPv6 client, IPv4 hop: the v2 header carries the IPv6 source
if bind6 is None:
    t.skip("no IPv6 loopback: %s" % no6)
else:
    s = connect(p6, src="::1", family=socket.AF_INET6, dst="::1")
    cport = s.getsockname()[1]
    t.like(whole_session(s, "y@example.test", "IPv6 client via send-proxy-v2"),
           "\nclient ::1\n", "IPv6 client: the envelope has ::1")
    lines = session_log(r"connect from ::1 port %d via" % cport)
    t.ok(any("connect from ::1 port %d via 127.0.0.1 (PROXY v2) to px.test" % cport in ln
             for ln in lines), "IPv6 client: connect line", lines)

# HAProxy's SMTP health check through send-proxy-v2 speaks LOCAL
lines = session_log(r"connect from 127\.0\.0\.1 \(PROXY v2 LOCAL\) to px\.test")
t.ok(lines and any("disconnect from 127.0.0.1 helo=1" in ln for ln in lines),
     "haproxy's health check (v2 LOCAL): real peer, HELO answered", lines)
end_process(hp)
inst.procs.remove(hp)
t.ok(wait_for(lambda: "exit" in hlog().lower() or hp.poll() is not None, 15),
     "haproxy stopped", hlog())

# --- raw sockets straight to smtpd --------------------------------------------
V2SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(cmd, fam, body):
    return V2SIG + bytes([0x20 | cmd, fam]) + struct.pack("!H", len(body)) + body


def refused(payload, half_close=False):
    """Sends payload; returns what the server sent before it closed."""
    s = connect(port, src="127.0.0.3")
    if payload:
        s.sendall(payload)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    got = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        pass  # closed with our surplus bytes unread: a reset, no reply
    s.close()
    return got


cases = [
    ("no header, SMTP instead", b"EHLO client.test\r\n", False,
     "no PROXY signature (15 octets read)"),
    ("v1 port with a leading zero", b"PROXY TCP4 192.0.2.1 192.0.2.2 1 025\r\n", False,
     "v1 port not 0-65535 (38 octets read)"),
    ("v1 bare LF", b"PROXY TCP4 192.0.2.1 192.0.2.2 1 25\n", False,
     "v1 line with a bare CR or LF (36 octets read)"),
    ("v1 without CRLF in 107 octets", b"PROXY UNKNOWN " + b"x" * 120, False,
     "v1 line without CRLF in 107 octets (107 octets read)"),
    ("v2 version 1", V2SIG + b"\x11\x11\x00\x0c" + bytes(12), False,
     "v2 version not 2 (15 octets read)"),
    ("v2 TCP4 block of 11 octets", v2(1, 0x11, bytes(11)), False,
     "v2 address block shorter than its family (27 octets read)"),
    ("v2 cut, then the client closes", v2(1, 0x11, bytes(12))[:20], True,
     "connection closed (20 octets read)"),
    ("no header at all: the idle timeout", b"", False, "timed out (0 octets read)"),
]
for name, payload, half, reason in cases:
    got = refused(payload, half)
    t.is_(got, b"", name + ": closed without a greeting")
    lines = session_log(r"proxy: closing the connection from 127\.0\.0\.3 to px\.test "
                        r"without a greeting: bad PROXY header: %s" % re.escape(reason))
    t.is_(len(lines), 1, name + ": one log line with the reason")

# LOCAL and UNKNOWN: the real peer (one source address each), then an
# ordinary session
for name, header, src, tag in (
        ("v2 LOCAL", v2(0, 0x00, b""), "127.0.0.4", "PROXY v2 LOCAL"),
        ("v2 LOCAL with addresses", v2(0, 0x11, bytes([192, 0, 2, 1, 192, 0, 2, 2, 0, 1, 0, 25])),
         "127.0.0.6", "PROXY v2 LOCAL"),
        ("v1 UNKNOWN", b"PROXY UNKNOWN\r\n", "127.0.0.7", "PROXY v1 without an address")):
    s = connect(port, src=src)
    s.sendall(header)
    t.like(whole_session(s, "z@example.test", name), "Received: from client.test ([%s])" % src,
           name + ": Received has the real peer")
    lines = session_log(r"connect from %s \(%s\) to px\.test" % (re.escape(src), re.escape(tag)))
    t.ok(any("disconnect from %s ehlo=1" % src in ln for ln in lines), name + ": logged", lines)

# v2 with TLVs (skipped), sent in pieces
s = connect(port, src="127.0.0.2")
hdr = v2(1, 0x11, bytes([198, 51, 100, 7, 127, 0, 0, 1, 0x30, 0x39, 0, 25])
         + b"\x04\x00\x02ab\x05\x00\x03uid")
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i in range(0, len(hdr), 7):
    s.sendall(hdr[i:i + 7])
    time.sleep(0.05)  # not a synchronisation: lets the pieces travel apart
t.like(whole_session(s, "w@example.test", "v2 with TLVs in pieces"),
       "Received: from client.test ([198.51.100.7])",
       "v2 with TLVs: Received has the proxied source")

# the header is read exactly: SMTP in the same write stays for the session,
# which sees a client that spoke before the greeting
s = connect(port, src="127.0.0.5")
s.sendall(b"PROXY TCP4 203.0.113.9 127.0.0.1 4242 25\r\nQUIT\r\n")
c = Client(sock=s)
t.is_(c.reply(), "220 px.test ESMTP Postmaster", "header + QUIT in one write: greeting")
t.is_(c.reply(), "554 5.5.0 Error: SMTP protocol synchronization",
      "... and the QUIT after the header is the session's (pregreet)")
c.close()
lines = session_log(r"connect from 203\.0\.113\.9 port 4242 via 127\.0\.0\.5 \(PROXY v1\)")
t.ok(any("pregreet: client=203.0.113.9 spoke before the greeting" in ln for ln in lines),
     "pregreet is logged with the proxied address", lines)

t.done()
