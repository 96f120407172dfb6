#!/usr/bin/env python3
"""Helpers for bench/tls.sh (loopback only, by hand, never a test).

  tls_probe.py send PORT SESSIONS PARALLEL PER-SESSION tls|plain
      SESSIONS SMTP sessions, PARALLEL at a time (processes), each with
      PER-SESSION 4 KiB messages, after STARTTLS (full handshake, no
      resumption) or in the clear; prints "messages seconds"
  tls_probe.py cost N ARGV...
      CPU seconds (user+sys) of N sequential runs of ARGV, per run, in ms
  tls_probe.py tlsd-cost N TLSD CDB NAME
      CPU ms per run of postmaster-tlsd up to its "ready" report (exec,
      library load, configuration, credentials), its peer closing at once
"""
import multiprocessing
import os
import resource
import socket
import ssl
import subprocess
import sys
import time

BODY = ("Subject: bench\r\n\r\n" + ("x" * 76 + "\r\n") * 52).encode()


def reply(f):
    while True:
        line = f.readline()
        if not line:
            raise EOFError("connection closed")
        if line[3:4] != b"-":
            return line


def session(port, per, tls):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    f = s.makefile("rb")
    reply(f)
    s.sendall(b"EHLO bench.client.test\r\n")
    reply(f)
    if tls:
        s.sendall(b"STARTTLS\r\n")
        if not reply(f).startswith(b"220"):
            raise RuntimeError("STARTTLS refused")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s, server_hostname="mx.bench.test")
        f = s.makefile("rb")
        s.sendall(b"EHLO bench.client.test\r\n")
        reply(f)
    sent = 0
    for _ in range(per):
        s.sendall(b"MAIL FROM:<bench@client.test>\r\n")
        reply(f)
        s.sendall(b"RCPT TO:<user@example.test>\r\n")
        reply(f)
        s.sendall(b"DATA\r\n")
        reply(f)
        s.sendall(BODY + b".\r\n")
        if reply(f).startswith(b"250"):
            sent += 1
    s.sendall(b"QUIT\r\n")
    reply(f)
    s.close()
    return sent


def worker(args):
    port, n, per, tls = args
    return sum(session(port, per, tls) for _ in range(n))


def cmd_send(port, sessions, parallel, per, mode):
    port, sessions, parallel, per = int(port), int(sessions), int(parallel), int(per)
    shares = [sessions // parallel + (1 if i < sessions % parallel else 0)
              for i in range(parallel)]
    t0 = time.monotonic()
    with multiprocessing.Pool(parallel) as p:
        n = sum(p.map(worker, [(port, k, per, mode == "tls") for k in shares]))
    print("%d %.3f" % (n, time.monotonic() - t0))


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cmd_cost(n, *argv):
    n = int(n)
    c0 = child_cpu()
    for _ in range(n):
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("%.3f" % ((child_cpu() - c0) * 1000 / n))


def cmd_tlsd_cost(n, tlsd, cdb, name):
    n = int(n)
    c0 = child_cpu()
    for _ in range(n):
        net, peer = socket.socketpair()
        app, mine = socket.socketpair()
        p = subprocess.Popen([tlsd, "-C", cdb, name], stdin=net, stdout=app,
                             stderr=subprocess.DEVNULL)
        net.close()
        app.close()
        rec = mine.recv(256)
        if rec[1:6] != b"ready":
            sys.exit("tlsd did not report ready: %r" % rec)
        peer.close()        # the "client" leaves: the handshake fails at once
        p.wait()
        mine.close()
    print("%.3f" % ((child_cpu() - c0) * 1000 / n))


def main(a):
    cmds = {"send": cmd_send, "cost": cmd_cost, "tlsd-cost": cmd_tlsd_cost}
    if not a or a[0] not in cmds:
        sys.exit(__doc__)
    cmds[a[0]](*a[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
