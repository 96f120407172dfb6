"""A scripted SMTP/LMTP server for the proxy tests (t/smtpd-pipelining.t)
and bench/proxy.sh: it answers as told at each step, can drop the
connection or stall there, and records what it was sent.

Script keys (each value a reply line without CRLF, or "DROP" to close
the connection without a reply, or "STALL" to say nothing until the
client goes away):
  greeting (greeting1: on the first connection only), ehlo, mail,
  rcpt:<address> (or rcpt for any), data, dot
  (the reply after the final dot; LMTP: dot:<address> per recipient),
  rset, body (DROP or STALL after the first body line arrived).
"SLEEP SECS reply" waits that long, then answers; "CLOSE reply" answers,
then closes the connection (after the client has, so nothing it sent is
left unread: no RST that could discard the reply).
ext: the EHLO keywords offered."""
import os
import socket
import subprocess
import threading
import time

from pmtest import Client


class _Lines:
    """Lines from a socket; .buffered: the last line was read with the
    one before it (the peer sent them in one write)."""

    def __init__(self, sock, owner):
        self.s = sock
        self.buf = b""
        self.buffered = False
        self.owner = owner

    def readline(self):
        self.buffered = b"\n" in self.buf
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                line, self.buf = self.buf, b""
                return line
            with self.owner.lock:
                self.owner.reads.append(d)
            self.buf += d
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line


class Backend:
    def __init__(self, lmtp=False, ext=("PIPELINING", "8BITMIME",
                                        "ENHANCEDSTATUSCODES", "SMTPUTF8"),
                 script=None, path=None):
        self.lmtp = lmtp
        self.ext = list(ext)
        self.script = dict(script or {})
        self.sessions = []      # one list of transactions per connection
        self.commands = []      # every command line, in order
        self.batched = []       # those that came in one read with the one before
        self.reads = []         # what each recv() returned, in order
        self.ended = 0          # connections over (either side closed)
        self.partial = b""      # body octets as they arrive
        self.lock = threading.Lock()
        self.delivered = 0
        if path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(path)
            self.addr = path
        else:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", 0))
            self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
            self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.stopped = False
        self.conns = []
        self.peers = []         # each accepted connection's peer address, in order
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.stopped = True
        try:
            self.sock.close()
        except OSError:
            pass
        for c in list(self.conns):
            try:
                c.close()
            except OSError:
                pass

    def transactions(self):
        with self.lock:
            return [t for s in self.sessions for t in s]

    def _accept(self):
        while not self.stopped:
            try:
                c, peer = self.sock.accept()
            except OSError:
                return
            self.peers.append(peer)
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _say(self, c, key, default):
        r = self.script.get(key, default)
        if r.startswith("SLEEP "):
            _, secs, r = r.split(" ", 2)
            time.sleep(float(secs))
        if r == "DROP":
            c.close()
            raise EOFError
        if r.startswith("CLOSE ") or r == "STALL":
            if r != "STALL":
                # the reply, then our end closed: read on until smtpd
                # closes, so no RST can throw the reply away
                c.sendall((r[6:] + "\r\n").encode())
                c.shutdown(socket.SHUT_WR)
            c.settimeout(60)
            try:
                while c.recv(65536):
                    pass
            except OSError:
                pass
            c.close()
            raise EOFError
        c.sendall((r + "\r\n").encode())
        return r

    def _serve(self, c):
        f = _Lines(c, self)
        txs = []
        with self.lock:
            self.sessions.append(txs)
        tx = None
        try:
            first = "greeting1" in self.script and len(self.sessions) == 1
            self._say(c, "greeting1" if first else "greeting",
                      "220 backend.test ESMTP scripted")
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
                with self.lock:
                    self.commands.append(cmd)
                    if f.buffered:
                        self.batched.append(cmd)
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "LHLO"):
                    r = self.script.get("ehlo")
                    if r is not None:
                        self._say(c, "ehlo", r)
                        continue
                    lines = ["backend.test"] + self.ext
                    out = "".join("250%s%s\r\n" % (" " if i == len(lines) - 1 else "-", x)
                                  for i, x in enumerate(lines))
                    c.sendall(out.encode())
                elif verb == "MAIL":
                    tx = {"mail": cmd, "rcpt": [], "ok": [], "data": None}
                    r = self._say(c, "mail", "250 2.1.0 Ok")
                    if r.startswith("2"):
                        with self.lock:
                            txs.append(tx)
                    else:
                        tx = None
                elif verb == "RCPT":
                    addr = cmd[cmd.find("<") + 1:cmd.find(">")]
                    key = "rcpt:" + addr
                    r = self._say(c, key if key in self.script else "rcpt",
                                  "250 2.1.5 Ok")
                    if tx is not None:
                        tx["rcpt"].append(addr)
                        if r.startswith("2"):
                            tx["ok"].append(addr)
                elif verb == "DATA":
                    r = self._say(c, "data", "354 go ahead")
                    if not r.startswith("354"):
                        continue
                    body = b""
                    first = True
                    while True:
                        ln = f.readline()
                        if not ln:
                            return
                        if first and "body" in self.script:
                            self._say(c, "body", "")
                        first = False
                        if ln == b".\r\n":
                            break
                        body += ln
                        with self.lock:
                            self.partial += ln
                    if tx is not None:
                        tx["data"] = body
                    if self.lmtp:
                        for a in (tx or {}).get("ok", []):
                            key = "dot:" + a
                            self._say(c, key if key in self.script else "dot",
                                      "250 2.0.0 <%s> delivered" % a)
                    else:
                        self._say(c, "dot", "250 2.0.0 Ok: delivered as B%d"
                                  % len(txs))
                    with self.lock:
                        self.delivered += 1
                    tx = None
                elif verb == "RSET":
                    tx = None
                    self._say(c, "rset", "250 2.0.0 Ok")
                elif verb == "QUIT":
                    c.sendall(b"221 2.0.0 Bye\r\n")
                    return
                else:
                    c.sendall(b"502 5.5.1 not here\r\n")
        except (EOFError, OSError):
            return
        finally:
            try:
                c.close()
            except OSError:
                pass
            with self.lock:
                self.ended += 1


class Session:
    """postmaster-smtpd NAME on a socketpair, stderr to a file."""

    def __init__(self, inst, env=None, name="px.test", pre=b""):
        """pre: octets the client sends before the greeting (a PROXY
        header)."""
        a, b = socket.socketpair()
        self.inst = inst
        self.logpath = os.path.join(inst.dir, "smtpd.%d.log" % len(inst.procs))
        self.logf = open(self.logpath, "w")
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen(inst.argv(name), stdin=b, stdout=b,
                                  stderr=self.logf, env=e)
        inst.procs.append(self.p)
        b.close()
        if pre:
            a.sendall(pre)
        self.c = Client(sock=a)
        self.c.s.settimeout(30)
        self.greeting = self.c.reply()

    def cmd(self, line):
        return self.c.cmd(line)

    def mail(self, sender, rcpts, body, ehlo="EHLO client.test", mailargs=""):
        """EHLO (if given), MAIL, each RCPT, DATA and body: the replies."""
        out = []
        if ehlo:
            self.cmd(ehlo)
        out.append(self.cmd("MAIL FROM:<%s>%s" % (sender, mailargs)))
        for r in rcpts:
            out.append(self.cmd("RCPT TO:<%s>" % r))
        out.append(self.cmd("DATA"))
        if out[-1].startswith("354"):
            self.c.send(body + "\r\n.\r\n")
            out.append(self.c.reply())
        return out

    def end(self):
        self.cmd("QUIT")
        self.p.wait(30)
        self.c.close()
        self.logf.close()
        return self.log()

    def log(self):
        with open(self.logpath) as f:
            return f.read()
