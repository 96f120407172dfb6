#!/usr/bin/env python3
"""What the queue's TLS client costs (issue 11, "Client"). By hand, as
root, loopback only; a minute or two.

    python3 bench/queue_tls.py [BUILD [BASE_BUILD]]    N=200 ROUNDS=5

  - start: CPU (user+sys) of `postmaster-queue --once` on an empty spool,
    BUILD against BASE_BUILD (a build without the TLS client, e.g. of the
    commit before it): what loading GnuTLS at exec costs the runner.
  - plain: CPU per message of `--once` delivering N spooled messages to a
    [relay] in the clear (a sink offering no STARTTLS), BUILD against
    BASE_BUILD: the TLS client's cost on plain deliveries.
  - tls: the same N messages with `tls = encrypt` to a sink that offers
    STARTTLS (Python's ssl, an ECDSA P-256 certificate), and with
    `tls = verify` against a private CA; the log's conn_use tells how
    many messages each TLS session carried.

CPU is the runner's and its workers' (RUSAGE_CHILDREN around the run), not
the sink's. Medians of ROUNDS. The sink is Python, so the wall clock says
little; CPU is what to compare."""
import os
import re
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
B = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build"))
BASE = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
N = int(os.environ.get("N", "200"))
ROUNDS = int(os.environ.get("ROUNDS", "5"))
TOP = tempfile.mkdtemp(prefix="pm-bench-tls.")
os.chmod(TOP, 0o755)


def certs():
    p = lambda n: os.path.join(TOP, n)  # noqa: E731

    def tool(*a):
        subprocess.run(["certtool"] + list(a), check=True, capture_output=True)
    with open(p("ca.tmpl"), "w") as f:
        f.write('cn = "bench CA"\nca\ncert_signing_key\nexpiration_days = 30\n')
    with open(p("srv.tmpl"), "w") as f:
        f.write('cn = "sink.bench"\ndns_name = "sink.bench"\ntls_www_server\n'
                'signing_key\nexpiration_days = 30\n')
    tool("--generate-privkey", "--key-type", "ecdsa", "--outfile", p("ca.key"))
    tool("--generate-self-signed", "--load-privkey", p("ca.key"), "--template",
         p("ca.tmpl"), "--outfile", p("ca.pem"))
    tool("--generate-privkey", "--key-type", "ecdsa", "--outfile", p("srv.key"))
    tool("--generate-certificate", "--load-privkey", p("srv.key"),
         "--load-ca-certificate", p("ca.pem"), "--load-ca-privkey", p("ca.key"),
         "--template", p("srv.tmpl"), "--outfile", p("srv.pem"))


class Sink(threading.Thread):
    """Takes every message; offers STARTTLS when tls."""

    def __init__(self, tls):
        super().__init__(daemon=True)
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        self.ctx = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(os.path.join(TOP, "srv.pem"), os.path.join(TOP, "srv.key"))
        self.start()

    def run(self):
        while True:
            c, _ = self.ls.accept()
            threading.Thread(target=self.session, args=(c,), daemon=True).start()

    def session(self, c):
        try:
            tls = False
            c.sendall(b"220 sink ESMTP\r\n")
            f = c.makefile("rb")
            while True:
                line = f.readline()
                if not line:
                    return
                v = line[:4].upper()
                if v == b"EHLO":
                    st = b"250-STARTTLS\r\n" if self.ctx and not tls else b""
                    c.sendall(b"250-sink\r\n" + st + b"250 PIPELINING\r\n")
                elif v == b"STAR":
                    c.sendall(b"220 go\r\n")
                    c = self.ctx.wrap_socket(c, server_side=True)
                    f = c.makefile("rb")
                    tls = True
                elif v == b"DATA":
                    c.sendall(b"354 go\r\n")
                    while f.readline() not in (b".\r\n", b""):
                        pass
                    c.sendall(b"250 ok\r\n")
                elif v == b"QUIT":
                    c.sendall(b"221 bye\r\n")
                    return
                else:
                    c.sendall(b"250 ok\r\n")
        except (OSError, ssl.SSLError):
            pass
        finally:
            c.close()


def compile_cf(build, name, relay):
    spool = os.path.join(TOP, name, "spool")
    os.makedirs(spool)
    os.chmod(os.path.join(TOP, name), 0o755)
    shutil.chown(spool, "nobody", "nogroup")
    cf = os.path.join(TOP, name, "pm.cf")
    with open(cf, "w") as f:
        f.write('[core]\nhostname = bench.test\nuser-id = nobody\ngroup-id = nogroup\n'
                'spool-directory = "%s"\n[smtpd "bench.test"]\n[route]\n'
                '@sink.test sink\n[relay "sink"]\n%s\n' % (spool, relay))
    cdb = os.path.join(TOP, name, "pm.cdb")
    subprocess.run([os.path.join(build, "postmaster-cfcompile"), "-c", cf, "-o", cdb],
                   check=True)
    return cdb, spool


def spool_n(build, cdb, n):
    """n messages through postmaster-smtpd on a pipe, one session."""
    p = subprocess.Popen([os.path.join(build, "postmaster-smtpd"), "-C", cdb, "bench.test"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)

    def cmd(text):
        if text:
            p.stdin.write(text.encode())
            p.stdin.flush()
        while True:
            line = p.stdout.readline()
            if line[3:4] != b"-":
                return line
    cmd("")
    cmd("EHLO bench\r\n")
    body = "Subject: bench\r\n\r\n" + "x" * 70 + "\r\n"
    body = body + ("y" * 76 + "\r\n") * 50
    for _ in range(n):
        cmd("MAIL FROM:<a@bench.test>\r\n")
        cmd("RCPT TO:<b@sink.test>\r\n")
        cmd("DATA\r\n")
        cmd(body + ".\r\n")
    cmd("QUIT\r\n")
    p.stdin.close()
    p.wait()


def cpu_of(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(argv, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime), r.stderr


def once(build, cdb):
    return cpu_of([os.path.join(build, "postmaster-queue"), "-C", cdb, "--once"])


def run_case(build, name, relay, n, rounds=None):
    cpus, uses = [], []
    for r in range(rounds or ROUNDS):
        cdb, spool = compile_cf(build, "%s.%d" % (name, r), relay)
        spool_n(build, cdb, n)
        cpu, log = once(build, cdb)
        sent = len(re.findall(r"status=sent", log))
        if sent != n:
            print("%s: only %d of %d sent:\n%s" % (name, sent, n, log[-2000:]))
            sys.exit(1)
        cpus.append(cpu / n * 1000)
        fresh = len(re.findall(r" TLS connection established", log))
        uses.append(n / fresh if fresh else 0)
    return statistics.median(cpus), statistics.median(uses)


def start_cpu(build, tag):
    cdb, _ = compile_cf(build, "start." + tag, 'address = "127.0.0.1:9"')
    return statistics.median(once(build, cdb)[0] * 1000 for _ in range(max(ROUNDS, 20)))


def main():
    if os.getuid() != 0:
        sys.exit("queue_tls.py: run as root (the runner drops to nobody)")
    certs()
    plain, tls = Sink(False), Sink(True)
    print("# loaded machine: CPU times (user+sys) of the runner and its workers, "
          "medians of %d rounds" % ROUNDS)
    st = start_cpu(B, "new")
    print("start (--once, empty spool): %.2f ms" % st, end="")
    if BASE:
        bst = start_cpu(BASE, "base")
        print("   base: %.2f ms   (+%.2f ms)" % (bst, st - bst), end="")
    print()
    relay = "address = 127.0.0.1:%d" % plain.port
    ms, _ = run_case(B, "plain", relay + "\ntls = none", N)
    print("plain, %d msgs: %.3f ms CPU/msg, %.3f without the start" % (N, ms, ms - st / N), end="")
    print()
    if BASE:
        # interleaved, so that the machine's load drifts for both alike
        a, b = [], []
        for r in range(ROUNDS):
            a.append(run_case(B, "ab-new%d" % r, relay + "\ntls = none", N, 1)[0] - st / N)
            b.append(run_case(BASE, "ab-base%d" % r, relay, N, 1)[0] - bst / N)
        print("plain, %d msgs, interleaved, without the start: %.3f ms CPU/msg   "
              "base: %.3f   ratio %.3f" % (N, statistics.median(a), statistics.median(b),
                                          statistics.median(a) / statistics.median(b)))
    ms_may, _ = run_case(B, "may-plain", relay + "\ntls = may", N)
    print("tls = may, server without STARTTLS: %.3f ms CPU/msg, %.3f without the start"
          % (ms_may, ms_may - st / N))
    p1, _ = run_case(B, "plain1", relay + "\ntls = none", 1)
    print("plain, 1 msg: %.3f ms CPU (%.3f without the start)" % (p1, p1 - st))
    relay = "address = 127.0.0.1:%d" % tls.port
    for lvl, extra in (("encrypt", ""),
                       ("verify", '\nname = sink.bench\ntls-ca-file = "%s/ca.pem"' % TOP)):
        ms_t, per = run_case(B, lvl, relay + "\ntls = " + lvl + extra, N)
        print("tls = %s, %d msgs: %.3f ms CPU/msg (%.1f msgs per TLS session): "
              "+%.3f ms/msg over plain" % (lvl, N, ms_t, per, ms_t - ms))
        t1, _ = run_case(B, lvl + "1", relay + "\ntls = " + lvl + extra, 1)
        print("tls = %s, 1 msg, one session: %.3f ms CPU: +%.3f ms per TLS session"
              % (lvl, t1, t1 - p1))


try:
    main()
finally:
    shutil.rmtree(TOP, ignore_errors=True)
