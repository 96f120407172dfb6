#!/usr/bin/env python3
"""Helpers for bench/smtpd.sh (loopback only, by hand, never a test).

  smtpd_probe.py port                      a free loopback port
  smtpd_probe.py wait-port PORT            wait (10 s at most) until it accepts
  smtpd_probe.py cpu PID                   CPU seconds of PID and its live
                                           descendants (utime+stime+cutime+cstime)
  smtpd_probe.py wait-children PID [S]     wait until PID has no children left
  smtpd_probe.py greet PORT N              N sequential connects; prints the median
                                           and 90th percentile connect-to-220 in ms
  smtpd_probe.py pss PORT N PPID COMM      opens N sessions (greeting + EHLO), then
                                           sums Pss of PPID's children named COMM;
                                           prints "count total_kib per_process_kib"
  smtpd_probe.py disk DIR SECONDS          create+write 4 KiB+fsync+rename+dir
                                           fsync cycles per second, one thread
  smtpd_probe.py pipelined PORT N [R]      N messages (4 KiB) one after the other,
                                           R recipients each (1), as a client that
                                           pipelines (RFC 2920): EHLO, then MAIL,
                                           the RCPTs and DATA in one write; one per
                                           session; prints ms from connect to the
                                           250 after the data, per message
"""
import os
import socket
import statistics
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    """(ppid, comm, utime+stime+cutime+cstime in ticks) or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    rest = s[s.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); utime..cstime are fields 14..17
    return int(rest[1]), comm, sum(int(x) for x in rest[11:15])


def all_procs():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            f = stat_fields(int(d))
            if f:
                out[int(d)] = f
    return out


def descendants(root, procs):
    kids = {}
    for pid, (ppid, _, _) in procs.items():
        kids.setdefault(ppid, []).append(pid)
    todo, seen = [root], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(kids.get(p, []))
    return seen


def cmd_cpu(pid):
    procs = all_procs()
    print("%.3f" % (sum(procs[p][2] for p in descendants(pid, procs) if p in procs) / HZ))


def cmd_wait_children(pid, secs=10.0):
    end = time.time() + secs
    while time.time() < end:
        if not any(v[0] == pid for v in all_procs().values()):
            return
        time.sleep(0.05)


def cmd_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("port %d never accepted" % port)


def read_reply(s, buf=b""):
    """Reads one whole SMTP reply; returns (first line, rest of buffer)."""
    first = None
    while True:
        while b"\r\n" not in buf:
            c = s.recv(65536)
            if not c:
                raise EOFError("server closed")
            buf += c
        line, buf = buf.split(b"\r\n", 1)
        if first is None:
            first = line
        if len(line) < 4 or line[3:4] != b"-":
            return first, buf


def cmd_greet(port, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        line, _ = read_reply(s)
        times.append(time.perf_counter() - t0)
        if not line.startswith(b"220"):
            sys.exit("greeting: %r" % line)
        s.sendall(b"QUIT\r\n")
        try:
            read_reply(s)
        except (EOFError, OSError):
            pass
        s.close()
    times.sort()
    print("%.3f %.3f" % (statistics.median(times) * 1e3, times[int(len(times) * 0.9)] * 1e3))


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cmd_pss(port, n, ppid, comm):
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            socks.append(s)
        for s in socks:
            read_reply(s)
            s.sendall(b"EHLO client.test\r\n")
        for s in socks:
            read_reply(s)
        # every session is now past EHLO and idle: its process exists
        time.sleep(0.5)
        total = count = 0
        for pid, (pp, c, _) in all_procs().items():
            if pp == ppid and c == comm:
                k = pss_kib(pid)
                if k is not None:
                    total += k
                    count += 1
        print("%d %d %.0f" % (count, total, total / count if count else 0))
    finally:
        for s in socks:
            try:
                s.sendall(b"QUIT\r\n")
            except OSError:
                pass
            s.close()


def cmd_disk(d, secs):
    tmp, q = os.path.join(d, "tmp"), os.path.join(d, "queue")
    os.makedirs(tmp, exist_ok=True)
    os.makedirs(q, exist_ok=True)
    qfd = os.open(q, os.O_RDONLY | os.O_DIRECTORY)
    data = b"x" * 4096
    n, end = 0, time.perf_counter() + secs
    t0 = time.perf_counter()
    while time.perf_counter() < end:
        name = "f%d" % n
        fd = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.rename(os.path.join(tmp, name), os.path.join(q, name))
        os.fsync(qfd)
        n += 1
    el = time.perf_counter() - t0
    os.close(qfd)
    print("%.0f" % (n / el))


def cmd_pipelined(port, n, nrcpt):
    body = b"Subject: bench\r\n\r\n" + (b"x" * 70 + b"\r\n") * 56 + b".\r\n"
    group = (b"MAIL FROM:<bench@client.test>\r\n"
             + b"".join(b"RCPT TO:<user%d@example.test>\r\n" % i for i in range(nrcpt))
             + b"DATA\r\n")
    total = 0.0
    for _ in range(n):
        t0 = time.perf_counter()
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        _, buf = read_reply(s)
        s.sendall(b"EHLO client.test\r\n")
        _, buf = read_reply(s, buf)
        s.sendall(group)
        for _ in range(nrcpt + 2):
            line, buf = read_reply(s, buf)
        if not line.startswith(b"354"):
            sys.exit("DATA: %r" % line)
        s.sendall(body)
        line, buf = read_reply(s, buf)
        if not line.startswith(b"250"):
            sys.exit("end of data: %r" % line)
        total += time.perf_counter() - t0
        s.sendall(b"QUIT\r\n")
        try:
            read_reply(s, buf)
        except (EOFError, OSError):
            pass
        s.close()
    print("%.1f" % (total * 1e3 / n))


def main(a):
    if not a:
        sys.exit(__doc__)
    c = a[0]
    if c == "port":
        cmd_port()
    elif c == "wait-port":
        cmd_wait_port(int(a[1]))
    elif c == "cpu":
        cmd_cpu(int(a[1]))
    elif c == "wait-children":
        cmd_wait_children(int(a[1]), float(a[2]) if len(a) > 2 else 10.0)
    elif c == "greet":
        cmd_greet(int(a[1]), int(a[2]))
    elif c == "pss":
        cmd_pss(int(a[1]), int(a[2]), int(a[3]), a[4])
    elif c == "disk":
        cmd_disk(a[1], float(a[2]))
    elif c == "pipelined":
        cmd_pipelined(int(a[1]), int(a[2]), int(a[3]) if len(a) > 3 else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
