#!/usr/bin/env python3
"""Helpers for bench/queue.sh (loopback only, by hand, never a test).

  queue_probe.py sink-count FILE           messages an `smtp-sink -c` has
                                           received (its last "mesg=N")
  queue_probe.py wait-sink FILE N SECS     wait until the sink has N messages;
                                           prints "count epoch_seconds"
  queue_probe.py mem PID                   "VmRSS VmHWM" in KiB
  queue_probe.py child PPID COMM           pid of PPID's child named COMM
  queue_probe.py wait-empty SECS DIR...    wait until no file is left under DIRs
  queue_probe.py gen SPOOL FROM TO UID GID TARGET
                                           writes committed messages FROM..TO-1
                                           straight into SPOOL/queue (spool(5)),
                                           each with a state file saying
                                           "pending, 1 attempt, next in 1 h"
                                           (a deferred queue), owned UID:GID
  queue_probe.py runner SPOOL LOG CMD...   starts the queue runner CMD with
                                           NOTIFY_SOCKET, times its startup
                                           scan (exec to READY=1), prints
                                           "scan_s rss hwm pid"; the runner
                                           keeps running (stop it with SIGTERM)
  queue_probe.py rescan SPOOL PID WANT SECS
                                           writes a byte to SPOOL/nudge and
                                           waits for STATUS=WANT messages;
                                           prints "seconds rss hwm"
  queue_probe.py list CMD...               runs CMD (postmaster-queue --list or
                                           postqueue -p), prints "seconds lines"
"""
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))


def sink_count(path):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            n = f.tell()
            f.seek(max(0, n - 200))
            tail = f.read()
    except OSError:
        return 0
    m = re.findall(rb"mesg=(\d+)", tail)
    return int(m[-1]) if m else 0


def cmd_wait_sink(path, want, secs):
    end = time.time() + secs
    n = sink_count(path)
    while n < want and time.time() < end:
        time.sleep(0.005)
        n = sink_count(path)
    print("%d %.6f" % (n, time.time()))


def mem(pid):
    rss = hwm = 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def cmd_child(ppid, comm):
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        c = s[s.index("(") + 1:s.rindex(")")]
        pp = int(s[s.rindex(")") + 2:].split()[1])
        if pp == ppid and c == comm:
            print(d)
            return
    print(0)


def cmd_wait_empty(secs, dirs):
    end = time.time() + secs
    while time.time() < end:
        if not any(files for d in dirs for _, _, files in os.walk(d)):
            return
        time.sleep(0.02)
    sys.exit("wait-empty: still files under %s" % " ".join(dirs))


# --- the spool generator (spool(5)) -----------------------------------

BODY = (b"Received: from client.test (client.test [127.0.0.1])\r\n"
        b"\tby pm.bench.test with ESMTP id %s\r\n"
        b"From: <bench@client.test>\r\nTo: <user@example.test>\r\n"
        b"Subject: deferred %d\r\nMessage-ID: <%d@client.test>\r\n\r\n")
FILL = (b"x" * 78 + b"\r\n") * 50       # 4000 bytes of body


def cmd_gen(spool, lo, hi, uid, gid, target):
    qd, sd = os.path.join(spool, "queue"), os.path.join(spool, "state")
    rnd = random.Random(lo)
    base = int(time.time()) - 86400     # arrived during the last day
    nxt = int(time.time()) + 3600       # next try in an hour: nothing is due
    tgt = target.encode()
    for i in range(lo, hi):
        arr = base + i * 86400 // 200000
        qid = "%09X%05X%016X" % (arr, i % 1000000, rnd.getrandbits(64))
        env = (b"POSTMASTER-SPOOL 1\nid %s\narrival %d\nhelo client.test\n"
               b"client 127.0.0.1\nproto ESMTP\ninstance mx.bench.test\n"
               b"auth \nsender bench@client.test\nbody 7BIT\nsmtputf8 0\n"
               b"size 0\nrcpt user%d@example.test\ndeliver user%d@example.test\n"
               b"target %s\nend\n" % (qid.encode(), arr, i, i, tgt))
        data = env + BODY % (qid.encode(), i, i) + FILL
        st = (b"POSTMASTER-STATE 1\ndlv 0 pending 1 %d\nrelay 127.0.0.1\n"
              b"reply connect to 127.0.0.1: Connection refused\nend\n" % nxt)
        for d, b in ((qd, data), (sd, st)):
            fd = os.open(os.path.join(d, qid), os.O_WRONLY | os.O_CREAT |
                         os.O_EXCL, 0o600)
            os.write(fd, b)
            os.fchown(fd, uid, gid)
            os.close(fd)


# --- the runner under a private NOTIFY_SOCKET ---------------------------

def notify_sock(spool):
    path = os.path.join(spool, "..", "notify.sock")
    path = os.path.abspath(path)
    try:
        os.unlink(path)
    except OSError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o777)
    return s, path


def cmd_runner(spool, log, cmd):
    s, path = notify_sock(spool)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    out = open(log, "ab")
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                         stdout=out, stderr=out, start_new_session=True)
    s.settimeout(600)
    while True:
        msg = s.recv(4096).decode()
        if "READY=1" in msg:
            break
    el = time.perf_counter() - t0
    rss, hwm = mem(p.pid)
    # The socket stays bound for rescan; a daemonized helper keeps it.
    print("%.3f %d %d %d" % (el, rss, hwm, p.pid), flush=True)
    # Keep listening in a detached child so later STATUS messages are
    # seen by `rescan` (which reads this socket's log file).
    sys.stdout.flush()
    if os.fork() == 0:
        os.setsid()
        nul = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(nul, fd)
        with open(path + ".log", "a") as f:
            s.settimeout(1)
            while True:
                try:
                    m = s.recv(4096)
                except socket.timeout:
                    m = None
                except OSError:
                    break
                if m is None:
                    try:
                        os.kill(p.pid, 0)
                    except OSError:
                        break
                    continue
                f.write("%.6f %s\n" % (time.time(), m.decode().replace("\n", " ")))
                f.flush()
                try:
                    os.kill(p.pid, 0)
                except OSError:
                    break
        os._exit(0)
    os._exit(0)


def cmd_rescan(spool, pid, want, secs):
    logf = os.path.abspath(os.path.join(spool, "..", "notify.sock.log"))
    pat = "STATUS=%d messages" % want
    t0 = time.time()
    fd = os.open(os.path.join(spool, "nudge"), os.O_WRONLY | os.O_NONBLOCK)
    os.write(fd, b"n")
    os.close(fd)
    end = t0 + secs
    while time.time() < end:
        try:
            with open(logf) as f:
                for line in f:
                    ts, msg = line.split(" ", 1)
                    if float(ts) >= t0 and pat in msg:
                        rss, hwm = mem(pid)
                        print("%.3f %d %d" % (float(ts) - t0, rss, hwm))
                        return
        except OSError:
            pass
        time.sleep(0.005)
    rss, hwm = mem(pid)
    print("timeout %d %d" % (rss, hwm))


def cmd_list(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    el = time.perf_counter() - t0
    print("%.3f %d" % (el, p.stdout.count(b"\n")))


def main(a):
    if not a:
        sys.exit(__doc__)
    c = a[0]
    if c == "sink-count":
        print(sink_count(a[1]))
    elif c == "wait-sink":
        cmd_wait_sink(a[1], int(a[2]), float(a[3]))
    elif c == "mem":
        print("%d %d" % mem(int(a[1])))
    elif c == "child":
        cmd_child(int(a[1]), a[2])
    elif c == "wait-empty":
        cmd_wait_empty(float(a[1]), a[2:])
    elif c == "gen":
        cmd_gen(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]), a[6])
    elif c == "runner":
        cmd_runner(a[1], a[2], a[3:])
    elif c == "rescan":
        cmd_rescan(a[1], int(a[2]), int(a[3]), float(a[4]))
    elif c == "list":
        cmd_list(a[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
