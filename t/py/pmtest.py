"""Shared helpers for the Python end-to-end tests: TAP output, a private
Postmaster configuration and spool, and the ways to start postmaster-smtpd
(tcpserver, systemd-socket-activate in both modes, a plain pipe)."""
import array
import atexit
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import termios
import time

PM_BIN = os.environ.get("PM_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "test")
PM_TOP = os.environ.get("PM_TOP") or os.path.join(os.path.dirname(__file__), "..", "..")


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, name))
        if not cond:
            self.failed += 1
            if diag is not None:
                for line in str(diag).splitlines() or [""]:
                    print("#   " + line)
        sys.stdout.flush()
        return cond

    def is_(self, got, want, name):
        return self.ok(got == want, name, "got:      %r\nexpected: %r" % (got, want))

    def like(self, got, needle, name):
        return self.ok(needle in got, name, "got: %r\nwanted to contain: %r" % (got, needle))

    def skip(self, why):
        self.n += 1
        print("ok %d # skip %s" % (self.n, why))

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def skip_unless_root(why):
    """Ends a test that cannot run unprivileged with a TAP skip-all (call
    it before any test line is printed)."""
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root (%s)" % why)
        sys.exit(0)


def watchdog(secs):
    """Ends the test (SystemExit, so atexit cleanup runs) after secs, or
    at SIGTERM."""
    import signal

    def stop(sig, frame):
        print("# stopped by signal %d" % sig)
        raise SystemExit(1)
    signal.signal(signal.SIGALRM, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.alarm(secs)


def wait_for(cond, secs=15, step=0.05):
    """Polls cond() until true or secs pass; its last value."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def dns_answers(port, secs=15):
    """Asks 127.0.0.1:port for implicit.test A until a reply comes."""
    q = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
         b"\x08implicit\x04test\x00\x00\x01\x00\x01")
    end = time.monotonic() + secs
    while time.monotonic() < end:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        try:
            s.sendto(q, ("127.0.0.1", port))
            if s.recv(512)[:2] == b"\x12\x34":
                return True
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    return False


def end_process(p, grace=10):
    """SIGTERM, then SIGKILL if p is still there after grace seconds.
    Returns p's exit status, None if it had to be killed."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None
    return p.returncode


def children(pid):
    """Live (not zombie) children of pid."""
    out = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(st[1]) == pid and st[0] != "Z":
            out.add(int(d))
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def require(root_why=None, programs=None):
    """Skips the whole test (exit 0) unless it runs as root (when root_why
    says why it must) and each program of programs {name: package} is
    installed. Then sets the sanitizer options `make test` uses
    (LeakSanitizer cannot stop the world in a process that dropped
    privileges: it is no longer dumpable)."""
    if root_why and os.getuid() != 0:
        print("1..0 # SKIP needs root (%s)" % root_why)
        sys.exit(0)
    missing = sorted({pkg for prog, pkg in (programs or {}).items()
                      if shutil.which(prog) is None})
    if missing:
        print("1..0 # SKIP not installed: %s" % " ".join(missing))
        sys.exit(0)
    os.environ.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=0")
    os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")


def listening(port=None, path=None):
    """True if something accepts connections on 127.0.0.1:port or the
    unix socket path."""
    try:
        if path:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
        else:
            s = socket.create_connection(("127.0.0.1", port), 0.5)
        s.close()
        return True
    except OSError:
        return False


def private_postfix(d, port, main_cf):
    """Writes a private Postfix instance under d (d/master.cf from
    Debian's, unchrooted, smtpd on 127.0.0.1:port; d/main.cf with the
    common settings, then main_cf) and starts it. Returns (ok, stderr);
    the caller stops it with `postfix -c d stop`."""
    for sub in ("queue", "data"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    shutil.chown(os.path.join(d, "data"), "postfix")
    master = []
    with open("/etc/postfix/master.cf") as f:
        for line in f.read().splitlines():
            fl = line.split()
            if line[:1] not in ("#", " ", "\t", "") and len(fl) >= 8:
                if fl[0] == "smtp" and fl[1] == "inet":
                    fl[0] = "127.0.0.1:%d" % port
                fl[4] = "n"     # no chroot: the queue is private
                line = " ".join(fl)
            master.append(line)
    if not any(x.startswith("postlog") for x in master):
        master.append("postlog unix-dgram n - n - 1 postlogd")
    with open(os.path.join(d, "master.cf"), "w") as f:
        f.write("\n".join(master) + "\n")
    with open(os.path.join(d, "main.cf"), "w") as f:
        f.write("compatibility_level = 3.6\nqueue_directory = {d}/queue\n"
                "data_directory = {d}/data\nmail_owner = postfix\n"
                "setgid_group = postdrop\ninet_interfaces = 127.0.0.1\n"
                "inet_protocols = ipv4\nmaillog_file = {d}/maillog\n"
                "maillog_file_prefixes = {d}\n".format(d=d) + main_cf)
    subprocess.run(["postfix", "-c", d, "check"], capture_output=True)
    r = subprocess.run(["postfix", "-c", d, "start"], capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def dovecot_lmtp_conf(d, name, extra=""):
    """Writes d/dovecot.conf for a private Dovecot LMTP server: base and
    state under d, users from d/passwd, Maildirs under d/mail, the LMTP
    socket d/run/lmtp (mode 0666), no listener on the network; extra
    (e.g. the quota plugin) goes before the passdb. Returns its path."""
    conf = os.path.join(d, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("""base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
instance_name = {name}
protocols = lmtp
listen = 127.0.0.1
ssl = no
mail_location = maildir:{d}/mail/%n
{extra}passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = {d}/passwd
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
""".format(d=d, name=name, extra=extra))
    return conf


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Instance:
    """A compiled configuration with a spool writable by nobody."""

    def __init__(self, routes="", extra="", name="mx.test", core=""):
        self.dir = tempfile.mkdtemp(prefix="pm-e2e.")
        os.chmod(self.dir, 0o755)
        self.spool = os.path.join(self.dir, "spool")
        os.mkdir(self.spool)
        shutil.chown(self.spool, "nobody", "nogroup")
        self.name = name
        self.cf = os.path.join(self.dir, "pm.cf")
        self.cdb = os.path.join(self.dir, "pm.cdb")
        # joe is a virtual mailbox: in the default ~/Maildir mode smtpd
        # refuses a local name with no passwd entry at RCPT.
        if "[lmtpd]" not in extra:
            extra += '\n[lmtpd]\nmaildir = "%s/mail/%%u/Maildir"\n' % self.dir
        with open(self.cf, "w") as f:
            f.write('[core]\nhostname = %s\nuser-id = nobody\ngroup-id = nogroup\n'
                    'spool-directory = "%s"\n%s%s\n[smtpd "%s"]\nrouting-table = ext\n'
                    '[route "ext"]\n@example.test joe\n%s\n'
                    % (name, self.spool, core, extra, name, routes))
        subprocess.run([os.path.join(PM_BIN, "postmaster-cfcompile"), "-c", self.cf,
                        "-o", self.cdb], check=True)
        self.procs = []
        # every server a test starts, the test stops, even on an early exit
        atexit.register(self.close)

    def argv(self, name=None):
        return [os.path.join(PM_BIN, "postmaster-smtpd"), "-C", self.cdb, name or self.name]

    def queue(self):
        q = os.path.join(self.spool, "queue")
        return sorted(os.listdir(q)) if os.path.isdir(q) else []

    def read(self, qid):
        with open(os.path.join(self.spool, "queue", qid), "rb") as f:
            return f.read()

    def tcpserver(self, name=None, env=None):
        p = subprocess.Popen(["tcpserver", "-1", "-R", "-H", "-l", "0", "127.0.0.1", "0"]
                             + self.argv(name), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=env)
        port = int(p.stdout.readline())
        self.procs.append(p)
        return port

    def socket_activate(self, inetd):
        port = free_port()
        args = ["systemd-socket-activate", "-l", "127.0.0.1:%d" % port]
        args += ["-a", "--inetd"] if inetd else ["-a"]
        p = subprocess.Popen(args + self.argv(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        # the probe connection's session has ended (no smtpd child left)
        wait_for(lambda: not children(p.pid), secs=30)
        return port

    def close(self):
        for p in self.procs:
            end_process(p)
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    """A raw SMTP client: exact bytes out, reply lines in."""

    def __init__(self, port=None, sock=None):
        self.s = sock or socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        """One whole reply (all its lines) as text without CRLFs."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    return "\n".join(lines) + ("\n" if lines else "") + "<EOF>"
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return "\n".join(lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, secs=15):
        """True once the server closed the connection (end of file or a
        reset) within secs; False if it is still open then, or sent more."""
        try:
            self.s.settimeout(secs)
            return self.s.recv(1) == b""
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        self.s.close()


def pipe_unread(fd):
    """Bytes written to the pipe fd and not yet read by the other end
    (Linux answers FIONREAD on either end of a pipe)."""
    n = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, n, True)
    return n[0]


def pipe_session(inst, chunks, name=None, env=None):
    """Runs postmaster-smtpd on a pipe, feeding chunks so that each is a
    read of its own (so sync points are respected: smtpd judges a
    pipelining violation by what one read returned); returns (stdout
    text, stderr text)."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.Popen(inst.argv(name), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=e)
    # A real client waits for the greeting; smtpd refuses one that does not.
    greeting = p.stdout.readline()
    try:
        for c in chunks:
            p.stdin.write(c if isinstance(c, bytes) else c.encode())
            p.stdin.flush()
            # the next chunk only once smtpd has read this one (or ended)
            wait_for(lambda: pipe_unread(p.stdin.fileno()) == 0
                     or p.poll() is not None, secs=30, step=0.01)
        p.stdin.close()
    except BrokenPipeError:
        pass  # the server ended the session first: its output says why
    p.stdin = None
    out, err = p.communicate(timeout=30)
    out = greeting + out
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
