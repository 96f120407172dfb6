#!/usr/bin/env python3
"""The CPU cost of [smtpd] spf (issue 13). By hand, as root, loopback only;
every server it starts it stops; a minute or two.

  python3 bench/spf.py          BUILD=build N1=300 N10=60 CHECKS=2000

Against a dnsmasq on loopback that holds the records (a warm DNS: every
answer from memory), it measures user+sys CPU seconds of the processes
it starts and reaps (getrusage RUSAGE_CHILDREN), so the client's own work
is not counted:

  - postmaster-smtpd sessions on a pipe (TCPREMOTEIP 192.0.2.5), one
    4 KiB message to one recipient per transaction, 1-transaction and
    10-transaction sessions, on an instance with spf = off and one with
    spf = tag, the latter in both shapes: smtpd spawning postmaster-spf
    per session (smtpd waits for it, so the child's CPU is in the sum),
    and smtpd asking the postmaster-spf service (-l), whose children's
    CPU is read from /proc/PID/stat of the service (its own utime +
    stime: accept and hand over; cutime + cstime of the workers it
    reaped) and of its workers still running, and added. The difference per transaction is what SPF costs.
  - postmaster-spf alone: exec + dynamic loading + libspf2 set-up +
    sandbox, started and ended N1 times with no request; and CHECKS
    checks of a pass record in one process (minus one start-up), the
    check itself.

Postfix has no SPF of its own (postfix-policyd-spf-python is a Python
policy daemon, not installed here), so the ratio printed is against our
own spf = off, measured in the same run.
"""
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(os.environ.get("BUILD", "build"))
N1 = int(os.environ.get("N1", "300"))
N10 = int(os.environ.get("N10", "60"))
CHECKS = int(os.environ.get("CHECKS", "2000"))


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def free_port():
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            c.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            c.close()
    raise SystemExit("no free port")


def children_of(pid):
    """Children of pid (setpriv execs, so the service is its own pid)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        kids = []
    return kids or [pid]


def proc_cpu(pid):
    """utime + stime + cutime + cstime of pid in seconds (0 if gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields 14-17 of proc(5): utime stime cutime cstime (st[0] is field 3)
    return sum(int(x) for x in st[11:15]) / os.sysconf("SC_CLK_TCK")


def service_cpu(pid):
    """Seconds of CPU of the service, the workers it reaped and the
    workers still running (they serve connection after connection)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        kids = []
    return proc_cpu(pid) + sum(proc_cpu(k) for k in kids)


def settle(pid, secs=0.3):
    """A moment for the workers to finish the connection smtpd just
    closed (an idle worker stays, its CPU is counted live)."""
    del pid
    time.sleep(secs)


def smtpd_argv(smtpd, cdb, name, sock):
    """off.test and tag.test on a configuration whose spf-socket names
    no socket (tag.test spawns); "svc" is tag.test asking the service."""
    if name == "svc":
        return [smtpd, "-C", cdb, "tag.test"]
    return [smtpd, "-C", cdb + ".nosvc", name]


def reply(f):
    while True:
        ln = f.readline()
        if not ln:
            raise SystemExit("smtpd closed: %r" % ln)
        if ln[3:4] != b"-":
            return ln


def session(argv, ntx, body):
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL,
                         env={"TCPREMOTEIP": "192.0.2.5", "PATH": "/usr/bin:/bin"})
    o, i = p.stdout, p.stdin
    reply(o)
    i.write(b"EHLO client.example\r\n")
    i.flush()
    reply(o)
    for _ in range(ntx):
        i.write(b"MAIL FROM:<joe@pass.test>\r\nRCPT TO:<joe@example.test>\r\nDATA\r\n")
        i.flush()
        for _ in range(3):
            r = reply(o)
        if not r.startswith(b"354"):
            raise SystemExit("unexpected: %r" % r)
        i.write(body)
        i.flush()
        r = reply(o)
        if not r.startswith(b"250"):
            raise SystemExit("unexpected: %r" % r)
    i.write(b"QUIT\r\n")
    i.flush()
    reply(o)
    i.close()
    p.wait()


def main():
    if os.geteuid() != 0:
        raise SystemExit("spf.py: run as root (smtpd drops to nobody)")
    for prog in ("dnsmasq",):
        if shutil.which(prog) is None:
            raise SystemExit("spf.py: %s missing" % prog)
    d = tempfile.mkdtemp(prefix="pm-bench-spf.")
    os.chmod(d, 0o755)
    run = os.path.join(d, "run")
    os.mkdir(run)
    shutil.chown(run, "nobody", "nogroup")
    sock = os.path.join(run, "spf")
    service = None
    spool = os.path.join(d, "spool")
    os.mkdir(spool)
    shutil.chown(spool, "nobody", "nogroup")
    port = free_port()
    dns = subprocess.Popen(["dnsmasq", "--no-daemon", "--conf-file=/dev/null",
                            "--port=%d" % port, "--listen-address=127.0.0.1",
                            "--bind-interfaces", "--no-resolv", "--no-hosts",
                            "--pid-file=", "--local=/test/",
                            "--txt-record=pass.test,v=spf1 ip4:192.0.2.0/24 -all"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cf = os.path.join(d, "pm.cf")
        with open(cf, "w") as f:
            f.write('[core]\nuser-id = nobody\ngroup-id = nogroup\n'
                    'spool-directory = "%s"\ndns-server = 127.0.0.1:%d\n'
                    'spf-socket = "%s"\n'
                    '[lmtpd]\nmaildir = "%s/mail/%%u/Maildir"\n'
                    '[smtpd "off.test"]\nrouting-table = ext\n'
                    '[smtpd "tag.test"]\nrouting-table = ext\nspf = tag\n'
                    '[route "ext"]\n@example.test joe\n' % (spool, port, sock, d))
        cdb = os.path.join(d, "pm.cdb")
        subprocess.run([os.path.join(BUILD, "postmaster-cfcompile"), "-c", cf, "-o", cdb],
                       check=True)
        subprocess.run([os.path.join(BUILD, "postmaster-cfcompile"), "-c", cf, "-o",
                        cdb + ".nosvc", "--core-spf-socket=%s" % os.path.join(d, "absent")],
                       check=True)
        service = subprocess.Popen(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             os.path.join(BUILD, "postmaster-spf"), "-l", sock, "-s",
             "127.0.0.1:%d" % port], stderr=subprocess.DEVNULL)
        for _ in range(300):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        svc_pid = children_of(service.pid)[0]
        time.sleep(0.3)
        body = b"Subject: bench\r\n\r\n" + (b"x" * 76 + b"\r\n") * 52 + b".\r\n"
        smtpd = os.path.join(BUILD, "postmaster-smtpd")
        res, svc_part = {}, {}
        # warm up all (page cache, dnsmasq)
        for name in ("off.test", "tag.test", "svc"):
            session(smtpd_argv(smtpd, cdb, name, sock), 1, body)
        for ntx, n in ((1, N1), (10, N10)):
            for name in ("off.test", "tag.test", "svc"):
                argv = smtpd_argv(smtpd, cdb, name, sock)
                settle(svc_pid)
                c0, s0 = cpu(), service_cpu(svc_pid)
                for _ in range(n):
                    session(argv, ntx, body)
                settle(svc_pid)
                svc_part[(name, ntx)] = (service_cpu(svc_pid) - s0) / (n * ntx)
                res[(name, ntx)] = (cpu() - c0) / (n * ntx) + svc_part[(name, ntx)]
        # postmaster-spf alone, as smtpd runs it (unprivileged)
        spf = [os.path.join(BUILD, "postmaster-spf"), "-s", "127.0.0.1:%d" % port,
               "-r", "tag.test", "-t", "19000"]

        def as_nobody():
            os.setgid(65534)
            os.setgroups([])
            os.setuid(65534)
        def spawn_cost(argv):
            c0 = cpu()
            for _ in range(N1):
                subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, preexec_fn=as_nobody)
            return (cpu() - c0) / N1
        base = spawn_cost(["/bin/true"])
        loaded = spawn_cost([spf[0], "-h"])
        start = spawn_cost(spf)
        reqs = b"mailfrom\t192.0.2.5\tclient.example\tjoe@pass.test\n" * CHECKS
        c0 = cpu()
        out = subprocess.run(spf, input=reqs, stdout=subprocess.PIPE, preexec_fn=as_nobody,
                             check=True).stdout
        if out.count(b"pass\t") != CHECKS:
            raise SystemExit("postmaster-spf: unexpected answers %r" % out[:200])
        check = (cpu() - c0 - start) / CHECKS
    finally:
        if service is not None:
            service.terminate()
            service.wait()
        dns.terminate()
        dns.wait()
        shutil.rmtree(d, ignore_errors=True)
    ms = 1000.0
    print("CPU per transaction (user+sys of smtpd and its children), ms:")
    print("%-24s %9s %9s %9s %9s %9s" % ("", "spf = off", "tag spawn", "adds",
                                         "tag svc", "adds"))
    for ntx in (1, 10):
        off, tag, svc = res[("off.test", ntx)], res[("tag.test", ntx)], res[("svc", ntx)]
        print("%-24s %9.3f %9.3f %9.3f %9.3f %9.3f"
              % ("%d-transaction sessions" % ntx, off * ms, tag * ms, (tag - off) * ms,
                 svc * ms, (svc - off) * ms))
    print("of tag svc, in the service (its children and itself): 1-tx %.3f, 10-tx %.3f"
          % (svc_part[("svc", 1)] * ms, svc_part[("svc", 10)] * ms))
    print("postmaster-spf once per session, beyond a fork+exec of /bin/true "
          "(%.3f ms here):" % (base * ms))
    print("  exec + dynamic loading (postmaster-spf -h):          %.3f ms"
          % ((loaded - base) * ms))
    print("  + libspf2 and resolver set-up, sandbox:               %.3f ms"
          % ((start - loaded) * ms))
    print("  in all:                                               %.3f ms"
          % ((start - base) * ms))
    print("one check against a warm loopback DNS (in the child):  %.3f ms" % (check * ms))
    print("(2-core machine shared with other jobs: CPU time, not wall time)")


if __name__ == "__main__":
    main()
