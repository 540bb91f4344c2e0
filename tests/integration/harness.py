"""Plumbing shared by the integration tests (not a test: CMake only runs test_*.py).

free_port, wait_for, parse_summary (the greppable `handoff import` summary), query (SQLite
read-only), Procs (processes of one test, each logging to NAME.log in the test's folder) and
Pipeline (a handoff.yaml, `handoff broker` and named `handoff worker NAME` over tcp or ipc,
CLI commands, the store's SQLite read back).

Nothing here asserts on its own behalf except stop_clean / sanitizer_reports: failures are
AssertionError with the process's log, so a test that calls them still fails.
"""
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time

DEADLINE = 30.0
SANITIZER = "Sanitizer"  # AddressSanitizer / LeakSanitizer / UndefinedBehaviorSanitizer


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(what, fn, deadline=DEADLINE, interval=0.1):
    """fn()'s first truthy value; AssertionError naming `what` after `deadline` seconds."""
    end = time.time() + deadline
    last = None
    while time.time() < end:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def source_dir():
    return os.environ.get("HO_SOURCE_DIR", os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))


SUMMARY_FILE = re.compile(r"import file=(\S+) profile=(\S+) read=(\d+) accepted=(\d+) "
                          r"duplicates=(\d+) quarantined=(\d+)$")
SUMMARY_REASON = re.compile(r"quarantine file=(\S+) reason=(\S+) count=(\d+)$")


def parse_summary(text):
    """{basename: {profile, read, accepted, duplicates, quarantined, reasons: {code: n}}}"""
    out = {}
    for line in text.splitlines():
        m = SUMMARY_FILE.match(line)
        if m:
            out[os.path.basename(m.group(1))] = {
                "profile": m.group(2), "read": int(m.group(3)), "accepted": int(m.group(4)),
                "duplicates": int(m.group(5)), "quarantined": int(m.group(6)), "reasons": {}}
            continue
        m = SUMMARY_REASON.match(line)
        if m:
            out[os.path.basename(m.group(1))]["reasons"][m.group(2)] = int(m.group(3))
    return out


def run(args, timeout=120, **kw):
    """`handoff ARGS` (HO_BIN) to completion: CompletedProcess with text stdout/stderr."""
    return subprocess.run([os.environ["HO_BIN"]] + list(args), capture_output=True, text=True,
                          timeout=timeout, **kw)


def query(db, sql, args=()):
    """Rows of a read-only query; None while the file or its tables do not exist yet."""
    if not os.path.exists(db):
        return None
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        return con.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()


def dealer(ctx, endpoint):
    """A DEALER socket (linger 0) connected to the broker: an MDP client."""
    import zmq
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(endpoint)
    return sock


def mdp_request(sock, service, type_, id_, payload, ts, deadline=DEADLINE):
    """One envelope (v1, origin "test") to SERVICE through the broker; the reply's frames
    (AssertionError when none comes within `deadline` seconds)."""
    import msgpack
    env = {"v": 1, "type": type_, "id": id_, "ts": ts, "origin": "test", "payload": payload}
    sock.send_multipart([b"", b"MDPC01", service.encode(), msgpack.packb(env)])
    if not sock.poll(int(deadline * 1000)):
        raise AssertionError("no reply to " + id_)
    return sock.recv_multipart()


class Procs:
    """The processes of one test. Each logs stdout+stderr to FOLDER/NAME.log (appended, so a
    restarted process keeps one log); close() stops whatever is still running."""

    def __init__(self, folder, deadline=DEADLINE, interval=0.1):
        self.dir = folder
        self.bin = os.environ["HO_BIN"]
        self.deadline = deadline
        self.interval = interval
        self.all = []       # (name, Popen) in start order, restarts included
        self.byname = {}    # name -> latest Popen
        self.logs = []
        self.seen = {}      # name -> the ready line's re.Match, or the log text

    def log_path(self, name):
        return os.path.join(self.dir, name + ".log")

    def log(self, name):
        with open(self.log_path(name), errors="replace") as f:
            return f.read()

    def spawn(self, name, args, ready=None, **popen):
        """Start args; with `ready` (a string, or a compiled regex) wait until the process has
        written it (after this start) and fail with its log if it exits first."""
        path = self.log_path(name)
        log = open(path, "a+")
        self.logs.append(log)
        start = log.tell()
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **popen)
        self.all.append((name, p))
        self.byname[name] = p
        if ready is not None:
            def ready_seen():
                with open(path, errors="replace") as f:
                    f.seek(start)
                    text = f.read()
                if p.poll() is not None:
                    raise AssertionError("%s exited: %s" % (name, text))
                if isinstance(ready, str):
                    return ready in text and text
                return ready.search(text)
            self.seen[name] = wait_for(name + " ready", ready_seen, self.deadline,
                                       self.interval)
        return p

    def proc(self, name):
        return self.byname[name]

    def stop(self, name, sig=signal.SIGTERM, timeout=20):
        """Signal the process and return its exit code."""
        p = self.byname[name]
        p.send_signal(sig)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s did not stop on signal %d within %g s:\n%s"
                                 % (name, sig, timeout, self.log(name)[-3000:]))

    def stop_clean(self, name, timeout=20):
        """SIGTERM: exit 0 and no sanitizer report (a sanitizer build exits non-zero on a leak
        or error)."""
        code = self.stop(name, timeout=timeout)
        text = self.log(name)
        if code != 0:
            raise AssertionError("%s exited %d:\n%s" % (name, code, text[-3000:]))
        if SANITIZER in text:
            raise AssertionError("%s: sanitizer report:\n%s" % (name, text[-3000:]))

    def sanitizer_reports(self):
        """[log name + tail] of every log that holds a sanitizer report."""
        bad = []
        for f in self.logs:
            with open(f.name, errors="replace") as r:
                text = r.read()
            if SANITIZER in text and not any(b.startswith(f.name + ":") for b in bad):
                bad.append(f.name + ":\n" + text[-3000:])
        return bad

    def close(self, timeout=5, sig=signal.SIGTERM):
        """`sig` to whatever still runs, SIGKILL what has not stopped within `timeout` s."""
        for _, p in self.all:
            if p.poll() is None:
                p.send_signal(sig)
        for _, p in self.all:
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        for f in self.logs:
            f.close()


class Pipeline(Procs):
    """A broker and named workers with one config and data dir in `folder`.

    transport "tcp" (a free port on 127.0.0.1) or "ipc" (a socket in folder); with a tag the
    endpoint, config (TAG.yaml), data dir (data-TAG) and process names (NAME-TAG) are the
    tag's, so one test can run several pipelines side by side."""

    def __init__(self, folder, transport="tcp", tag=None, **kw):
        super().__init__(folder, **kw)
        self.tag = tag
        if transport == "tcp":
            self.endpoint = "tcp://127.0.0.1:%d" % free_port()
        else:
            self.endpoint = "ipc://%s/%s.ipc" % (folder, tag or "broker")
        self.data = os.path.join(folder, "data-" + tag if tag else "data")
        self.config = os.path.join(folder, (tag or "handoff") + ".yaml")
        self.db = os.path.join(self.data, "handoff.db")

    def name(self, name):
        return name + "-" + self.tag if self.tag else name

    def write_config(self, body, liveness=4, broker=""):
        """broker: (endpoint, heartbeat 250 ms, `liveness`, then the `broker` lines),
        data_dir, then `body` (routes:, workers:, ...)."""
        with open(self.config, "w") as f:
            f.write("broker:\n  endpoint: %s\n  heartbeat_ms: 250\n  liveness: %d\n%s"
                    "data_dir: %s\n%s" % (self.endpoint, liveness, broker, self.data, body))
        return self.config

    def start_broker(self, ready="broker ready"):
        return self.spawn(self.name("broker"),
                          [self.bin, "broker", "-c", self.config, "--bind", self.endpoint,
                           "--data-dir", self.data], ready)

    def worker_args(self, service):
        return [self.bin, "worker", service, "-c", self.config, "--connect", self.endpoint,
                "--data-dir", self.data]

    def start_worker(self, service, ready="worker ready", name=None):
        """`handoff worker SERVICE` (its log NAME.log, by default the service's); waits for
        its ready line (it has registered)."""
        return self.spawn(self.name(name or service), self.worker_args(service), ready)

    def start(self, *workers):
        self.start_broker()
        for w in workers:
            self.start_worker(w)

    def worker(self, service):
        return self.proc(self.name(service))

    def run(self, args, timeout=120, **kw):
        return run(args, timeout, **kw)

    def query(self, sql, args=()):
        return query(self.db, sql, args)

    def one(self, sql, args=()):
        rows = self.query(sql, args)
        return rows[0] if rows else None

    def count(self, sql, args=()):
        rows = self.query(sql, args)
        return rows[0][0] if rows else None
