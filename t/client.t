#!/usr/bin/env python3
"""The SMTP/LMTP client (lib/client) and MX resolution (lib/dns) against
real peers on loopback: Postfix's smtp-sink, dnsmasq, and small SMTP/LMTP
servers written here that record every byte they receive. The C API is
driven by t/data/client_drive.c, which `make` builds beside the programs
(with the same flags and sanitizers). Every server started here is stopped
here."""
import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "py"))
from pmtest import dns_answers, end_process, listening, wait_for  # noqa: E402

PM_BIN = os.path.abspath(os.environ.get("PM_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "build", "test"))
PM_TOP = os.path.abspath(os.environ.get("PM_TOP") or os.path.join(
    os.path.dirname(__file__), ".."))

T_N = 0
T_FAILED = 0
TMP = tempfile.mkdtemp(prefix="pm-client.")
PROCS = []
SERVERS = []
DRIVE_FAILS = []


def ok(cond, name, diag=None):
    global T_N, T_FAILED
    T_N += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (T_N, name))
    if not cond:
        T_FAILED += 1
        if diag is not None:
            for line in str(diag).splitlines() or [""]:
                print("#   " + line)
    sys.stdout.flush()


def skip(why):
    global T_N
    T_N += 1
    print("ok %d # skip %s" % (T_N, why))


def is_(got, want, name):
    ok(got == want, name, "got:      %r\nexpected: %r" % (got, want))


def cleanup():
    for s in SERVERS:
        s.stop()
    for p in PROCS:
        end_process(p, 5)
    shutil.rmtree(TMP, ignore_errors=True)


def bail(why):
    print("Bail out! " + why)
    cleanup()
    sys.exit(1)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- driver

DRIVE = os.path.join(PM_BIN, "t", "data", "client_drive")


class Result:
    def __init__(self, out, rc, elapsed):
        self.out = out
        self.rc = rc
        self.elapsed = elapsed
        self.runs = []
        self.cached = None
        self.fd_open = None
        for line in out.splitlines():
            if line.startswith("ret="):
                head, _, rest = line.partition(" relay=")
                relay, _, reply = rest.partition(" reply=")
                self.runs.append({"ret": int(head[4:]), "relay": relay,
                                  "reply": reply, "rcpts": []})
            elif line.startswith("rcpt "):
                _, addr, status, reply = (line.split(" ", 3) + [""])[:4]
                self.runs[-1]["rcpts"].append((addr, status, reply))
            elif line.startswith("cached="):
                self.cached = int(line[7:])
            elif line.startswith("fd_open="):
                self.fd_open = int(line[8:])
        last = self.runs[-1] if self.runs else {
            "ret": None, "relay": "", "reply": "", "rcpts": []}
        self.ret = last["ret"]
        self.relay = last["relay"]
        self.reply = last["reply"]
        self.rcpts = last["rcpts"]

    def status(self):
        return [s for _, s, _ in self.rcpts]

    def replies(self):
        return [r for _, _, r in self.rcpts]


def drive(args, msg, rcpts, timeout=30):
    path = os.path.join(TMP, "msg.%d" % time.monotonic_ns())
    with open(path, "wb") as f:
        f.write(msg)
    t0 = time.monotonic()
    p = subprocess.run([DRIVE] + args + [path] + rcpts, capture_output=True,
                       text=True, timeout=timeout, errors="replace")
    res = Result(p.stdout, p.returncode, time.monotonic() - t0)
    if p.returncode != 0 or p.stderr:
        DRIVE_FAILS.append(args)
        print("# client_drive rc=%d stderr: %s" % (p.returncode,
                                                   p.stderr[-1500:]))
    os.unlink(path)
    return res


# ----------------------------------------------------------- fake server

class Session:
    def __init__(self):
        self.reads = []     # every recv() chunk, to see what was pipelined
        self.cmds = []      # command lines
        self.msgs = []      # transactions


class FakeServer:
    """A scripted SMTP/LMTP server on TCP or a unix socket; one thread,
    connections handled in turn, everything recorded."""

    def __init__(self, addr=None, unix=None, lmtp=False,
                 greeting="220 fake.test ESMTP", ehlo=(
                     "PIPELINING", "SIZE 10000000", "8BITMIME",
                     "ENHANCEDSTATUSCODES"),
                 mail_reply="250 2.1.0 Ok", rcpt_reply=None,
                 final_reply=None, max_rcpt=None):
        self.lmtp = lmtp
        self.greeting = greeting
        self.ehlo = ehlo
        self.mail_reply = mail_reply
        self.rcpt_reply = rcpt_reply or (lambda a: "250 2.1.5 Ok")
        self.final_reply = final_reply or (lambda a: "250 2.0.0 Ok: queued")
        self.max_rcpt = max_rcpt
        self.sessions = []
        self.stopping = False
        if unix:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(unix)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(addr)
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()
        SERVERS.append(self)

    def stop(self):
        if not self.stopping:
            self.stopping = True
            self.thread.join(10)
            self.sock.close()

    def loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(0.2)
            try:
                self.handle(conn)
            except (EOFError, OSError):
                pass
            finally:
                conn.close()

    def handle(self, conn):
        sess = Session()
        self.sessions.append(sess)
        st = {"buf": b""}

        def recv():
            while True:
                if self.stopping:
                    raise EOFError
                try:
                    d = conn.recv(65536)
                except socket.timeout:
                    continue
                if not d:
                    raise EOFError
                sess.reads.append(d)
                st["buf"] += d
                return

        def readline():
            while b"\r\n" not in st["buf"]:
                recv()
            line, st["buf"] = st["buf"].split(b"\r\n", 1)
            return line

        def readn(n):
            while len(st["buf"]) < n:
                recv()
            d, st["buf"] = st["buf"][:n], st["buf"][n:]
            return d

        def send(*lines):
            conn.sendall(b"".join(l.encode() + b"\r\n" for l in lines))

        def finish(msg):
            if self.lmtp:
                send(*[self.final_reply(a) for a in msg["ok"]])
            else:
                send(self.final_reply(None))

        if self.greeting is None:       # a server that never speaks
            while True:
                recv()
        send(self.greeting)
        if self.greeting.startswith("421"):
            return
        msg = None
        while True:
            line = readline().decode("latin-1")
            sess.cmds.append(line)
            verb = line[:4].upper()
            if verb in ("EHLO", "LHLO"):
                if self.ehlo is None or (verb == "LHLO") != self.lmtp:
                    send("502 5.5.2 Error: command not recognized")
                else:
                    send(*(["250-fake.test"] +
                           ["250-" + e for e in self.ehlo[:-1]] +
                           ["250 " + self.ehlo[-1]]) if self.ehlo else
                         ["250 fake.test"])
            elif verb == "HELO":
                send("250 fake.test")
            elif verb == "MAIL":
                msg = {"mail": line, "rcpts": [], "ok": [], "raw": b"",
                       "bdat": []}
                sess.msgs.append(msg)
                send(self.mail_reply)
                if self.mail_reply.startswith("421"):
                    return
            elif verb == "RCPT":
                addr = line[line.index("<") + 1:line.rindex(">")]
                msg["rcpts"].append(addr)
                r = self.rcpt_reply(addr)
                if self.max_rcpt and len(msg["ok"]) >= self.max_rcpt:
                    r = "452 4.5.3 Error: too many recipients"
                if r.startswith("2"):
                    msg["ok"].append(addr)
                send(*r.split("\n"))
                if r.startswith("421"):
                    return
            elif verb == "DATA":
                if msg is None or not msg["ok"]:
                    send("554 5.5.1 Error: no valid recipients")
                    continue
                send("354 End data with <CR><LF>.<CR><LF>")
                while b"\r\n.\r\n" not in b"\r\n" + st["buf"]:
                    recv()
                i = (b"\r\n" + st["buf"]).index(b"\r\n.\r\n")
                msg["raw"] = st["buf"][:i + 3]
                st["buf"] = st["buf"][i + 3:]
                finish(msg)
            elif verb == "BDAT":
                parts = line.split()
                msg["bdat"].append(line)
                msg["raw"] += readn(int(parts[1]))
                if len(parts) > 2 and parts[2].upper() == "LAST":
                    finish(msg)
                else:
                    send("250 2.0.0 %s octets received" % parts[1])
            elif verb == "RSET":
                send("250 2.0.0 Ok")
            elif verb == "QUIT":
                send("221 2.0.0 Bye")
                return
            else:
                send("502 5.5.2 Error: command not recognized")


def unstuff(raw):
    """The message a DATA receiver keeps (RFC 5321 4.5.2)."""
    assert raw.endswith(b".\r\n")
    lines = raw[:-3].split(b"\r\n")
    return b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)


def wait_listen(port=None, path=None, secs=10):
    return wait_for(lambda: listening(port, path), secs)


def start(argv, **kw):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, **kw)
    PROCS.append(p)
    return p


def stop(p):
    end_process(p, 5)


MSG = (b"From: a@example.test\r\nTo: b@example.test\r\nSubject: dots\r\n"
       b"\r\n.leading dot\r\nline\r\n..two\r\n.\r\nend\r\n")
RCPTS = ["r1@example.test", "r2@example.test", "r3@example.test"]
# A Subject of 1208 octets, a body line of 2500, one of 1001 whose 999th
# octet is "."; and how they must go out (RFC 5322 2.1.1, 2.2.3).
LONGMSG = (b"From: a@x.test\r\nSubject:" + b" wwwwwwwww" * 120 +
           b"\r\n\r\n" + b"x" * 2500 + b"\r\n" + b"a" * 998 +
           b".bc\r\nend\r\n")
LONGCANON = (b"From: a@x.test\r\nSubject:" + b" wwwwwwwww" * 98 + b"\r\n" +
             b" wwwwwwwww" * 22 + b"\r\n\r\n" + b"x" * 998 + b"\r\n" +
             b"x" * 998 + b"\r\n" + b"x" * 504 + b"\r\n" + b"a" * 998 +
             b"\r\n.bc\r\nend\r\n")


def smtp_sink_tests():
    if shutil.which("smtp-sink") is None:
        for _ in range(11):
            skip("smtp-sink not installed")
        return
    os.chmod(TMP, 0o755)
    dump = os.path.join(TMP, "dump")
    os.mkdir(dump)
    os.chmod(dump, 0o777)
    user = ["-u", "nobody"] if os.getuid() == 0 else []

    port = free_port()
    p = start(["smtp-sink"] + user + ["-d", dump + "/msg.",
               "127.0.0.1:%d" % port, "10"])
    ok(wait_listen(port), "smtp-sink listens")
    r = drive(["-p", str(port), "-t", "600", "127.0.0.1"], MSG, RCPTS)
    is_(r.status(), ["sent"] * 3, "smtp-sink: three recipients delivered")
    is_(r.ret, 0, "smtp-sink: transaction happened")
    is_(r.relay, "127.0.0.1[127.0.0.1]:%d" % port, "relay names host[ip]:port")
    time.sleep(0.3)
    files = sorted(os.listdir(dump))
    text = b""
    for f in files:
        with open(os.path.join(dump, f), "rb") as fh:
            text += fh.read()
    ok(len(files) == 1 and all(
        b"X-Rcpt-Args: <%s>" % a.encode() in text for a in RCPTS) and
        b"\n.leading dot\n" in text.replace(b"\r\n", b"\n"),
        "smtp-sink captured one message, every RCPT, the unstuffed body",
        text.decode("latin-1")[:1500])
    # Over-long lines reach a real receiver folded and broken.
    r = drive(["-p", str(port), "-t", "600", "127.0.0.1"], LONGMSG,
              ["long@example.test"])
    is_(r.status(), ["sent"], "smtp-sink: the long-line message delivered")
    got = b""
    for _ in range(100):
        new = [f for f in sorted(os.listdir(dump)) if f not in files]
        if new:
            with open(os.path.join(dump, new[0]), "rb") as fh:
                got = fh.read()
            if got.endswith(b"\n\n"):
                break
        time.sleep(0.05)
    lines = got.replace(b"\r\n", b"\n").split(b"\n")
    ok(got and max(len(l) for l in lines) <= 998 and
       LONGCANON.replace(b"\r\n", b"\n") in got.replace(b"\r\n", b"\n"),
       "smtp-sink's dump: no line over 998 octets, the text otherwise intact",
       got[:300])
    stop(p)

    # -r: soft (4xx) rejection of RCPT; -f: hard (5xx)
    for opt, want, code in (("-r", "deferred", "450 4.3.0"),
                            ("-f", "bounced", "500 5.3.0")):
        port = free_port()
        p = start(["smtp-sink"] + user + [opt, "RCPT", "127.0.0.1:%d" % port,
                                          "10"])
        wait_listen(port)
        r = drive(["-p", str(port), "-t", "600", "127.0.0.1"], MSG, RCPTS)
        ok(r.status() == [want] * 3 and
           all(x.startswith(code) for x in r.replies()),
           "smtp-sink %s RCPT: every recipient %s with %s" % (opt, want, code),
           r.out)
        stop(p)

    # -Q MAIL: 421 and disconnect
    port = free_port()
    p = start(["smtp-sink"] + user + ["-Q", "MAIL", "127.0.0.1:%d" % port,
                                      "10"])
    wait_listen(port)
    r = drive(["-p", str(port), "-t", "600", "127.0.0.1"], MSG, RCPTS)
    ok(r.status() == ["deferred"] * 3 and "421" in r.replies()[0],
       "smtp-sink 421 on MAIL: all deferred with the 421", r.out)
    stop(p)

    # LMTP over a unix socket
    path = os.path.join(TMP, "sink.lmtp")
    p = start(["smtp-sink"] + user + ["-L", "unix:" + path, "10"])
    ok(wait_listen(path=path), "smtp-sink LMTP on a unix socket")
    os.chmod(path, 0o777)
    r = drive(["-l", "-t", "600", path], MSG, RCPTS)
    ok(r.status() == ["sent"] * 3 and r.relay == path,
       "LMTP over unix socket: three recipients delivered", r.out)
    stop(p)


def fake_server_tests():
    port = free_port()

    # Pipelining, dot-stuffing, SIZE= and BODY=8BITMIME
    srv = FakeServer(("127.0.0.1", port))
    r = drive(["-p", str(port), "-b", "1", "127.0.0.1"], MSG, RCPTS)
    is_(r.status(), ["sent"] * 3, "fake: delivered")
    s = srv.sessions[0]
    m = s.msgs[0]
    is_(m["mail"], "MAIL FROM:<sender@example.test> SIZE=%d BODY=8BITMIME"
        % len(MSG), "MAIL declares SIZE= and BODY=8BITMIME")
    chunk = [c for c in s.reads if b"MAIL FROM" in c]
    ok(chunk and all(b"RCPT TO:<%s>" % a.encode() in chunk[0]
                     for a in RCPTS) and chunk[0].endswith(b"DATA\r\n"),
       "PIPELINING: MAIL, every RCPT and DATA in one write", s.reads)
    is_(m["raw"], b"From: a@example.test\r\nTo: b@example.test\r\n"
        b"Subject: dots\r\n\r\n..leading dot\r\nline\r\n...two\r\n..\r\n"
        b"end\r\n.\r\n", "dot-stuffed DATA bytes exactly")
    is_(unstuff(m["raw"]), MSG, "unstuffed message is the spooled one")
    is_(s.cmds[0], "EHLO client.test", "EHLO with our name")
    is_(s.cmds[-1], "QUIT", "QUIT at the end")
    srv.stop()

    # A message without a final CRLF gets one, and SIZE= counts it
    noend = b"Subject: x\r\n\r\nno end"
    srv = FakeServer(("127.0.0.1", port))
    r = drive(["-p", str(port), "127.0.0.1"], noend, ["a@x.test"])
    m = srv.sessions[0].msgs[0]
    is_(m["raw"], noend + b"\r\n.\r\n",
        "missing final CRLF added before the dot")
    is_(m["mail"], "MAIL FROM:<sender@example.test> SIZE=%d"
        % (len(noend) + 2), "... and SIZE= counts it (DATA)")
    srv.stop()
    srv = FakeServer(("127.0.0.1", port), ehlo=("PIPELINING", "SIZE",
                                                 "CHUNKING"))
    r = drive(["-p", str(port), "127.0.0.1"], noend, ["a@x.test"])
    m = srv.sessions[0].msgs[0]
    is_((m["mail"], m["bdat"], m["raw"]),
        ("MAIL FROM:<sender@example.test> SIZE=%d" % (len(noend) + 2),
         ["BDAT %d LAST" % (len(noend) + 2)], noend + b"\r\n"),
        "the same over BDAT: text ends in CRLF, SIZE= as sent")
    srv.stop()

    # No PIPELINING: one command at a time; RCPT replies per recipient,
    # a multiline 550 with enhanced codes, a 452
    def rr(a):
        if a.startswith("bad"):
            return "550-5.1.1 <%s>: Recipient address rejected:\n" \
                   "550 5.1.1 User unknown in local recipient table" % a
        if a.startswith("full"):
            return "452 4.2.2 <%s>: mailbox full" % a
        return "250 2.1.5 Ok"
    srv = FakeServer(("127.0.0.1", port), ehlo=("SIZE", "8BITMIME"),
                     rcpt_reply=rr)
    r = drive(["-p", str(port), "127.0.0.1"], MSG,
              ["good@x.test", "bad@x.test", "full@x.test"])
    is_(r.status(), ["sent", "bounced", "deferred"],
        "RCPT 550 and 452 mark only their recipient")
    is_(r.replies()[1], "550 5.1.1 <bad@x.test>: Recipient address rejected:"
        " 5.1.1 User unknown in local recipient table",
        "multiline reply kept with its enhanced code")
    s = srv.sessions[0]
    ok(all(not (b"MAIL" in c and b"RCPT" in c) for c in s.reads),
       "without PIPELINING no command waits behind another", s.reads)
    is_(s.msgs[0]["mail"], "MAIL FROM:<sender@example.test> SIZE=%d"
        % len(MSG), "SIZE without a limit: declared; 7bit: no BODY=")
    srv.stop()

    # 421 in the middle of the RCPTs
    srv = FakeServer(("127.0.0.1", port), ehlo=("SIZE",),
                     rcpt_reply=lambda a: "421 4.3.2 shutting down"
                     if a.startswith("r2") else "250 2.1.5 Ok")
    r = drive(["-p", str(port), "127.0.0.1"], MSG, RCPTS)
    ok(r.status() == ["deferred"] * 3 and
       all("421 4.3.2" in x for x in r.replies()),
       "421 on a RCPT: every recipient deferred", r.out)
    srv.stop()

    # HELO fallback when EHLO is refused
    srv = FakeServer(("127.0.0.1", port), ehlo=None)
    r = drive(["-p", str(port), "127.0.0.1"], MSG, ["a@x.test"])
    s = srv.sessions[0]
    is_(r.status(), ["sent"], "HELO fallback: delivered")
    is_(s.cmds[:3], ["EHLO client.test", "HELO client.test",
                     "MAIL FROM:<sender@example.test>"],
        "EHLO refused, HELO, then MAIL without extensions")
    srv.stop()

    # BDAT with BINARYMIME, several chunks, pipelined, no stuffing
    binmsg = (b"From: a@x.test\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: application/octet-stream\r\n"
              b"Content-Transfer-Encoding: binary\r\n\r\n" +
              bytes(range(256)) * 600 + b"\r\n.\r\n.x")
    srv = FakeServer(("127.0.0.1", port), ehlo=(
        "PIPELINING", "SIZE", "8BITMIME", "BINARYMIME", "CHUNKING"))
    r = drive(["-p", str(port), "-b", "2", "127.0.0.1"], binmsg,
              ["a@x.test", "b@x.test"])
    m = srv.sessions[0].msgs[0]
    is_(r.status(), ["sent"] * 2, "BINARYMIME: delivered")
    is_(m["mail"], "MAIL FROM:<sender@example.test> SIZE=%d BODY=BINARYMIME"
        % len(binmsg), "MAIL BODY=BINARYMIME")
    is_(m["raw"], binmsg, "BDAT: the exact octets, not stuffed")
    is_(m["bdat"], ["BDAT 65536", "BDAT 65536", "BDAT %d LAST"
                    % (len(binmsg) - 131072)], "BDAT chunk commands")
    srv.stop()

    # CHUNKING for an ordinary message; an empty message is BDAT 0 LAST
    srv = FakeServer(("127.0.0.1", port), ehlo=("CHUNKING",))
    r = drive(["-p", str(port), "127.0.0.1"], MSG, ["a@x.test"])
    drive(["-p", str(port), "127.0.0.1"], b"", ["a@x.test"])
    is_(srv.sessions[0].msgs[0]["raw"], MSG, "BDAT without PIPELINING")
    is_(srv.sessions[1].msgs[0]["bdat"], ["BDAT 0 LAST"], "empty: BDAT 0 LAST")
    srv.stop()

    # Over-long lines (RFC 5322 2.1.1): a header line folds at its last
    # blank, body lines break after 998 octets, and a "." that a break
    # brings to the start of a line is stuffed like any other.
    longmsg, canon = LONGMSG, LONGCANON
    srv = FakeServer(("127.0.0.1", port))
    r = drive(["-p", str(port), "127.0.0.1"], longmsg, ["a@x.test"])
    m = srv.sessions[0].msgs[0] if srv.sessions and srv.sessions[0].msgs \
        else {"raw": b"", "mail": ""}
    is_(r.status(), ["sent"], "long lines: delivered")
    is_(m["raw"], canon.replace(b"\r\n.bc", b"\r\n..bc") + b".\r\n",
        "long lines over DATA: folded, broken and stuffed, exact bytes")
    ok(max(len(l) for l in m["raw"].split(b"\r\n")) <= 998,
       "no line over 998 octets arrived")
    is_(m["mail"], "MAIL FROM:<sender@example.test> SIZE=%d" % len(canon),
        "SIZE= declares the octets as sent")
    srv.stop()
    srv = FakeServer(("127.0.0.1", port), ehlo=("PIPELINING", "CHUNKING"))
    drive(["-p", str(port), "127.0.0.1"], longmsg, ["a@x.test"])
    m = srv.sessions[0].msgs[0]
    is_((m["raw"], m["bdat"]), (canon, ["BDAT %d LAST" % len(canon)]),
        "long lines over BDAT: the same octets in a chunk of their length")
    srv.stop()

    # Bare CR and LF never reach the wire in text: each is a line end
    # (CR . CR LF would end DATA at a receiver that takes CR as one).
    bare = b"X-A: a\r.\r\nX-B: b\nSubject: s\r\n\r\nbody\r.\nend\r\n"
    srv = FakeServer(("127.0.0.1", port))
    drive(["-p", str(port), "-b", "1", "127.0.0.1"], bare, ["a@x.test"])
    m = srv.sessions[0].msgs[0]
    is_(m["raw"], b"X-A: a\r\n..\r\nX-B: b\r\nSubject: s\r\n\r\n"
        b"body\r\n..\r\nend\r\n.\r\n",
        "bare CR/LF in DATA text become CRLF, then stuffing")
    srv.stop()
    binbare = (b"X-A: a\r.\r\nContent-Type: application/octet-stream\r\n"
               b"\r\nbin\r.\rary\n" + b"z" * 1500 + b"\r\n")
    srv = FakeServer(("127.0.0.1", port), ehlo=(
        "PIPELINING", "BINARYMIME", "CHUNKING"))
    drive(["-p", str(port), "-b", "2", "127.0.0.1"], binbare, ["a@x.test"])
    is_(srv.sessions[0].msgs[0]["raw"], binbare.replace(
        b"X-A: a\r.", b"X-A: a\r\n."),
        "BDAT BODY=BINARYMIME: header canonical, body untouched")
    srv.stop()

    # SIZE limit smaller than the message: nothing sent
    srv = FakeServer(("127.0.0.1", port), ehlo=("PIPELINING", "SIZE 50"))
    r = drive(["-p", str(port), "127.0.0.1"], MSG, RCPTS)
    ok(r.status() == ["bounced"] * 3 and
       r.replies()[0].startswith("552 5.3.4") and r.ret == -1,
       "message over SIZE: 552 5.3.4, ret -1", r.out)
    ok(not srv.sessions[0].msgs, "no MAIL was sent", srv.sessions[0].cmds)
    srv.stop()

    # SMTPUTF8
    srv = FakeServer(("127.0.0.1", port))
    r = drive(["-p", str(port), "-u", "127.0.0.1"], MSG, ["a@x.test"])
    ok(r.status() == ["bounced"] and r.replies()[0].startswith("553 5.6.7"),
       "SMTPUTF8 message to a server without it: 553 5.6.7", r.out)
    srv.stop()
    srv = FakeServer(("127.0.0.1", port), ehlo=("SMTPUTF8",))
    r = drive(["-p", str(port), "-u", "127.0.0.1"], MSG, ["a@x.test"])
    is_(srv.sessions[0].msgs[0]["mail"],
        "MAIL FROM:<sender@example.test> SMTPUTF8", "MAIL ... SMTPUTF8")
    srv.stop()

    # 8-bit message to a server without 8BITMIME: downgraded
    eight = ("From: a@x.test\r\nMIME-Version: 1.0\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\n"
             "h\u00e9llo w\u00f6rld\r\n.dot\r\n").encode()
    srv = FakeServer(("127.0.0.1", port), ehlo=("PIPELINING",))
    r = drive(["-p", str(port), "-b", "1", "127.0.0.1"], eight, ["a@x.test"])
    got = srv.sessions[0].msgs[0]["raw"] if srv.sessions[0].msgs else b""
    ok(r.status() == ["sent"] and got and max(got) < 0x80,
       "8BITMIME message to a 7-bit server arrives 7-bit", r.out)
    if got:
        m = email.message_from_bytes(unstuff(got), policy=email.policy.default)
        is_(m.get_payload(decode=True), eight[eight.index(b"\r\n\r\n") + 4:],
            "downgraded message decodes to the same octets")
        is_(srv.sessions[0].msgs[0]["mail"],
            "MAIL FROM:<sender@example.test>", "no BODY= after downgrade")
    else:
        ok(False, "downgraded message decodes to the same octets")
        ok(False, "no BODY= after downgrade")
    srv.stop()

    # Recipient limit: further transactions on the same connection
    srv = FakeServer(("127.0.0.1", port))
    rc5 = ["%d@x.test" % i for i in range(5)]
    r = drive(["-p", str(port), "-x", "2", "127.0.0.1"], MSG, rc5)
    is_(r.status(), ["sent"] * 5, "recipient limit: all delivered")
    is_((len(srv.sessions), [m["rcpts"] for m in srv.sessions[0].msgs]),
        (1, [rc5[0:2], rc5[2:4], rc5[4:5]]),
        "2 RCPTs per transaction, three transactions, one connection")
    srv.stop()

    # The server's own limit: 452 4.5.3, the rest go in the next one
    srv = FakeServer(("127.0.0.1", port), max_rcpt=3)
    rc7 = ["%d@x.test" % i for i in range(7)]
    r = drive(["-p", str(port), "127.0.0.1"], MSG, rc7)
    is_((r.status(), [m["ok"] for m in srv.sessions[0].msgs]),
        (["sent"] * 7, [rc7[0:3], rc7[3:6], rc7[6:7]]),
        "452 4.5.3 too many recipients: retried in the next transaction")
    srv.stop()

    # LMTP: per-recipient replies after the data
    def lr(a):
        return "550 5.1.1 <%s>: unknown" % a if a.startswith("x") \
            else "250 2.1.5 Ok"

    def lf(a):
        return "452 4.2.2 <%s>: over quota" % a if a.startswith("q") \
            else "250 2.0.0 <%s> delivered" % a
    srv = FakeServer(("127.0.0.1", port), lmtp=True, rcpt_reply=lr,
                     final_reply=lf, greeting="220 fake LMTP")
    r = drive(["-l", "-p", str(port), "127.0.0.1"], MSG,
              ["a@x.test", "x@x.test", "q@x.test", "b@x.test"])
    is_(r.status(), ["sent", "bounced", "deferred", "sent"],
        "LMTP: one outcome per recipient after DATA")
    is_(r.replies()[3], "250 2.0.0 <b@x.test> delivered",
        "LMTP: each recipient gets its own reply")
    is_(srv.sessions[0].cmds[0], "LHLO client.test", "LMTP greets with LHLO")
    srv.stop()

    # A server that never greets: timeout (RFC 5321 timeouts, scaled)
    srv = FakeServer(("127.0.0.1", port), greeting=None)
    r = drive(["-p", str(port), "-t", "120", "127.0.0.1"], MSG, ["a@x.test"])
    ok(r.status() == ["deferred"] and "timed out" in r.replies()[0] and
       r.elapsed < 10, "silent server: deferred after the greeting timeout",
       r.out)
    srv.stop()

    # Connection refused
    r = drive(["-p", str(free_port()), "127.0.0.1"], MSG, ["a@x.test"])
    ok(r.status() == ["deferred"] and "refused" in r.replies()[0] and
       r.ret == -1, "connection refused: deferred, ret -1", r.out)

    # Connection cache: three messages, one connection, RSET before reuse
    srv = FakeServer(("127.0.0.1", port))
    r = drive(["-p", str(port), "-n", "3", "127.0.0.1"], MSG, ["a@x.test"])
    ok(len(r.runs) == 3 and all(x["rcpts"][0][1] == "sent" for x in r.runs),
       "cache: three deliveries", r.out)
    s = srv.sessions[0] if srv.sessions else Session()
    is_((len(srv.sessions), len(s.msgs), s.cmds.count("RSET"), r.cached),
        (1, 3, 2, 1), "cache: one session, three MAILs, RSET on reuse")
    is_(s.cmds[-1:], ["QUIT"], "cache: QUIT when the cache closes")
    srv.stop()

    # A caller's fd (e.g. a socketpair to postmaster-lmtpd)
    path = os.path.join(TMP, "fake.lmtp")
    srv = FakeServer(unix=path, lmtp=True, greeting="220 fake LMTP")
    r = drive(["-l", "-F", path], MSG, ["a@x.test", "b@x.test"])
    ok(r.status() == ["sent", "sent"] and r.fd_open == 1,
       "delivery over the caller's fd, which stays open", r.out)
    is_(srv.sessions[0].cmds[-1], "QUIT", "QUIT sent on the caller's fd")
    srv.stop()

    # A stuck LMTP server whose unix socket never accepts: with its listen
    # queue full, Linux blocks a connect() for ever. The connect limit
    # (30 s, scaled to 0.3 s) must end it.
    path = os.path.join(TMP, "stuck.lmtp")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(0)
    fill = []
    for _ in range(64):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.setblocking(False)
        fill.append(c)
        try:
            c.connect(path)
        except BlockingIOError:
            break
    else:
        bail("cannot fill the listen queue of " + path)
    try:
        r = drive(["-l", "-t", "600", path], MSG, ["a@x.test"], timeout=10)
        is_((r.status(), r.replies()),
            (["deferred"], ["451 4.4.1 connect with %s timed out: listen "
                            "queue full (limit 0.3 s)" % path]),
            "unix socket that never accepts: deferred with the reason")
        ok(r.elapsed < 5, "... within the connect limit (%.1f s)"
           % r.elapsed)
    except subprocess.TimeoutExpired:
        ok(False, "unix socket that never accepts: client still blocked "
           "in connect after 10 s")
    for c in fill:
        c.close()
    lsock.close()


def dns_tests():
    if shutil.which("dnsmasq") is None:
        skip("dnsmasq not installed")
        return
    dport = free_udp_port()
    port = free_port()
    p = start(["dnsmasq", "--no-daemon", "--conf-file=/dev/null",
               "--port=%d" % dport, "--listen-address=127.0.0.1",
               "--bind-interfaces", "--no-resolv", "--no-hosts",
               "--pid-file=", "--local=/test/",
               "--mx-host=multi.test,mx2.test,20",
               "--mx-host=multi.test,mx1.test,10",
               "--mx-host=eq.test,mxa.test,10",
               "--mx-host=eq.test,mxb.test,10",
               "--mx-host=nullmx.test,.,0",
               "--host-record=mx1.test,127.0.0.2",
               "--host-record=mx2.test,127.0.0.1",
               "--host-record=mxa.test,127.0.0.1",
               "--host-record=mxb.test,127.0.0.3",
               "--host-record=implicit.test,127.0.0.1"])
    # ready when it answers (a fixed sleep lost the race under load)
    ok(dns_answers(dport), "dnsmasq answers on 127.0.0.1:%d" % dport)
    dns = "127.0.0.1:%d" % dport
    # mx1 (preference 10) says 421 at the greeting; mx2 takes the mail
    busy = FakeServer(("127.0.0.2", port), greeting="421 4.3.2 busy")
    good = FakeServer(("127.0.0.1", port))
    other = FakeServer(("127.0.0.3", port))
    r = drive(["-m", "-d", dns, "-p", str(port), "multi.test"], MSG,
              ["a@multi.test"])
    ok(r.status() == ["sent"] and
       r.relay == "mx2.test[127.0.0.1]:%d" % port,
       "MX: lower preference tried first, next MX after a 421 greeting",
       r.out)
    is_((len(busy.sessions), len(good.sessions)), (1, 1),
        "MX: each host connected once")
    # equal preferences: both used over a few deliveries
    for _ in range(12):
        drive(["-m", "-d", dns, "-p", str(port), "eq.test"], MSG,
              ["a@eq.test"])
    ok(len(good.sessions) > 1 and len(other.sessions) > 0,
       "equal preferences: deliveries spread over both hosts (%d/%d)"
       % (len(good.sessions) - 1, len(other.sessions)))
    r = drive(["-m", "-d", dns, "-p", str(port), "implicit.test"], MSG,
              ["a@implicit.test"])
    ok(r.status() == ["sent"] and
       r.relay == "implicit.test[127.0.0.1]:%d" % port,
       "no MX but an A record: implicit MX", r.out)
    r = drive(["-m", "-d", dns, "-p", str(port), "nullmx.test"], MSG,
              ["a@nullmx.test"])
    ok(r.status() == ["bounced"] and r.replies()[0].startswith("556 5.1.10")
       and r.ret == -1, "null MX (RFC 7505): bounced 556 5.1.10", r.out)
    r = drive(["-m", "-d", dns, "-p", str(port), "nx.test"], MSG,
              ["a@nx.test"])
    ok(r.status() == ["bounced"] and r.replies()[0].startswith("550 5.1.2"),
       "NXDOMAIN: bounced 550 5.1.2", r.out)
    r = drive(["-m", "-d", dns, "-p", str(port), "refused.example"], MSG,
              ["a@refused.example"])
    ok(r.status() == ["deferred"] and "4.4.3" in r.replies()[0],
       "REFUSED by the server: deferred 4.4.3", r.out)
    r = drive(["-d", dns, "-p", str(port), "mx2.test"], MSG, ["a@x.test"])
    ok(r.status() == ["sent"] and r.relay.startswith("mx2.test[127.0.0.1]"),
       "use_mx 0: the host's own A record", r.out)
    stop(p)
    # the resolver gets no answer at all: deferred, bounded time
    r = drive(["-m", "-d", dns, "-t", "600", "-p", str(port), "multi.test"],
              MSG, ["a@multi.test"])
    ok(r.status() == ["deferred"] and r.elapsed < 20,
       "DNS server gone: deferred (%.1fs)" % r.elapsed, r.out)
    for s in (busy, good, other):
        s.stop()


def main():
    signal.alarm(55)
    if not os.path.exists(DRIVE):
        print("1..0 # SKIP no %s (run make)" % DRIVE)
        return 0
    try:
        fake_server_tests()
        smtp_sink_tests()
        dns_tests()
    finally:
        cleanup()
    ok(not DRIVE_FAILS, "client_drive always exited 0, silent (no "
       "sanitizer or leak report)", DRIVE_FAILS)
    print("1..%d" % T_N)
    return 1 if T_FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
