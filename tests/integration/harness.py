"""Plumbing shared by the integration tests (not a test: CMake only runs test_*.py).

free_port, wait_for / pump_until, temp_dir / procs_for / zmq_context (a test's folder, processes and
ZeroMQ context, cleaned up after it), parse_summary (the
greppable `handoff import` summary), query (SQLite read-only), broker_config (a handoff.yaml
with a broker section and routes), raw MDP peers written from proto/handoff-protocol.md
(envelope/packb/unpackb, dealer, mdp_request, mdp_call, MdpClient, MdpWorker), Procs
(processes of one test, each logging to NAME.log in the test's folder; spawn_broker) and
Pipeline (a handoff.yaml, `handoff broker` and named `handoff worker NAME` over tcp or ipc,
CLI commands, the store's SQLite read back).

Nothing here asserts on its own behalf except stop_clean / sanitizer_reports: failures are
AssertionError with the process's log, so a test that calls them still fails.
"""
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

DEADLINE = 30.0
SANITIZER = "Sanitizer"  # AddressSanitizer / LeakSanitizer / UndefinedBehaviorSanitizer


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(what, fn, deadline=DEADLINE, interval=0.1, pump=()):
    """fn()'s first truthy value; AssertionError naming `what` after `deadline` seconds.
    `pump`: in-test MdpWorkers pumped before each try (they answer and heartbeat meanwhile)."""
    end = time.time() + deadline
    last = None
    while time.time() < end:
        for w in pump:
            w.pump()
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def pump_until(what, fn, pump, deadline=DEADLINE):
    """wait_for that pumps the in-test MdpWorkers `pump` every 5 ms."""
    return wait_for(what, fn, deadline, 0.005, pump)


def temp_dir(test, prefix):
    """A new folder for a unittest.TestCase, removed (with all in it) by test.addCleanup: after
    tearDown and the cleanups registered later, also when setUp fails half way."""
    folder = tempfile.mkdtemp(prefix=prefix)
    test.addCleanup(shutil.rmtree, folder, ignore_errors=True)
    return folder


def procs_for(test, prefix, sig=signal.SIGTERM):
    """Procs in a new temp_dir (its .dir) for a unittest.TestCase; on cleanup `sig` to what
    still runs (SIGKILL after 5 s), then the folder removed."""
    procs = Procs(temp_dir(test, prefix))
    test.addCleanup(procs.close, sig=sig)
    return procs


def zmq_context(test):
    """A zmq.Context for a unittest.TestCase, destroyed (linger 0) on its cleanup."""
    import zmq
    ctx = zmq.Context()
    test.addCleanup(ctx.destroy, linger=0)
    return ctx


def source_dir():
    return os.environ.get("HO_SOURCE_DIR", os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))


SUMMARY_FILE = re.compile(r"import file=(\S+) source=(\S+) kind=(\S+) read=(\d+) accepted=(\d+) "
                          r"skipped=(\d+) quarantined=(\d+) new=(\S+) merged=(\S+)"
                          r"(?: not_stored=(\d+))? check=(\S+)$")
SUMMARY_REASON = re.compile(r"(quarantine|skip) file=(\S+) reason=(\S+) count=(\d+)$")


def _int_or_none(text):
    return None if text == "-" else int(text)


def parse_summary(text):
    """{basename: {profile, kind, read, accepted, skipped, quarantined, new, merged (None when
    the store did not say), not_stored, check, reasons: {code: n}, skips: {code: n}}}"""
    out = {}
    for line in text.splitlines():
        m = SUMMARY_FILE.match(line)
        if m:
            out[os.path.basename(m.group(1))] = {
                "path": m.group(1), "profile": m.group(2), "kind": m.group(3),
                "read": int(m.group(4)), "accepted": int(m.group(5)),
                "skipped": int(m.group(6)), "quarantined": int(m.group(7)),
                "new": _int_or_none(m.group(8)), "merged": _int_or_none(m.group(9)),
                "not_stored": int(m.group(10) or 0), "check": m.group(11),
                "reasons": {}, "skips": {}}
            continue
        m = SUMMARY_REASON.match(line)
        if m:
            key = "reasons" if m.group(1) == "quarantine" else "skips"
            out[os.path.basename(m.group(2))][key][m.group(3)] = int(m.group(4))
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


def broker_config(folder, heartbeat_ms, routes=None, liveness=3, max_queue=1000, max_attempts=5,
                  extra="", data_dir=None, name="handoff.yaml"):
    """FOLDER/NAME: a broker section (endpoint tcp://127.0.0.1:5570, which `--bind` overrides;
    heartbeat, liveness, max_queue, max_attempts, then the `extra` lines), data_dir (by default
    FOLDER/data) and the routes {type: service} (by default test.none -> nowhere). Its path."""
    lines = ["broker:", "  endpoint: tcp://127.0.0.1:5570", "  heartbeat_ms: %d" % heartbeat_ms,
             "  liveness: %d" % liveness, "  max_queue: %d" % max_queue,
             "  max_attempts: %d" % max_attempts]
    lines += extra.splitlines()
    lines += ["data_dir: %s" % (data_dir or os.path.join(folder, "data")), "routes:"]
    for type_, service in (routes or {"test.none": "nowhere"}).items():
        lines.append("  %s: %s" % (type_, service))
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


# Raw MDP (proto/handoff-protocol.md sections 1-5): frames as the broker sees them on the wire.
MDPC = b"MDPC01"
MDPW = b"MDPW01"
READY, REQUEST, REPLY, HEARTBEAT, DISCONNECT = b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"


def envelope(type_, payload, id_=None, ts=None, origin="test"):
    """A v1 envelope (dict in canonical key order); a random id and the current time unless
    given."""
    return {"v": 1, "type": type_, "id": id_ or "t-%016x" % random.getrandbits(64),
            "ts": int(time.time() * 1000) if ts is None else ts, "origin": origin,
            "payload": payload}


def packb(obj):
    import msgpack
    return msgpack.packb(obj, use_bin_type=True)


def unpackb(frame):
    import msgpack
    return msgpack.unpackb(frame, raw=False)


def dealer(ctx, endpoint, curve=None, identity=None):
    """A DEALER socket (linger 0) connected to the broker: an MDP peer. curve: (public key,
    secret key, server public key) of a CURVE client, set before connecting. identity: its
    ZMQ_ROUTING_ID (b"HDP1..." marks an HDP client that reads the broker's 503, proto E12)."""
    import zmq
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    if identity:
        sock.identity = identity
    if curve:
        sock.curve_publickey, sock.curve_secretkey, sock.curve_serverkey = curve
    sock.connect(endpoint)
    return sock


def mdp_request(sock, service, type_, id_, payload, ts, deadline=DEADLINE):
    """One envelope (v1, origin "test") to SERVICE through the broker; the reply's frames
    (AssertionError when none comes within `deadline` seconds)."""
    sock.send_multipart([b"", MDPC, service.encode(), packb(envelope(type_, payload, id_, ts))])
    if not sock.poll(int(deadline * 1000)):
        raise AssertionError("no reply to " + id_)
    return sock.recv_multipart()


def mdp_call(ctx, endpoint, service, frames, deadline=DEADLINE, curve=None):
    """FRAMES to SERVICE from a client socket of its own (closed after): the reply's body
    frames. AssertionError when no reply comes within `deadline` s or its header is not
    ["", MDPC01, SERVICE]."""
    c = MdpClient(ctx, endpoint, curve=curve)
    try:
        c.send(service, *frames)
        got, body = c.recv(deadline)
        if got != service:
            raise AssertionError("reply from %r to a request to %r" % (got, service))
        return body
    finally:
        c.close()


class MdpClient:
    """A raw MDP client (DEALER) of the broker."""

    def __init__(self, ctx, endpoint, curve=None, hdp=False):
        """hdp: an HDP-aware client (identity b"HDP1" + random): the broker answers it 503
        when a queue is full instead of holding its requests back (proto E12)."""
        ident = b"HDP1" + os.urandom(12) if hdp else None
        self.sock = dealer(ctx, endpoint, curve, identity=ident)

    def send(self, service, *body):
        self.sock.send_multipart([b"", MDPC, service.encode()] + list(body))

    def recv(self, timeout=DEADLINE, pump=()):
        """One reply (service, [body frames]), its header checked; pumps the given MdpWorkers
        while waiting. AssertionError when none comes within `timeout` s."""
        end = time.time() + timeout
        while time.time() < end:
            if self.sock.poll(10):
                msg = self.sock.recv_multipart()
                if len(msg) < 3 or msg[0] != b"" or msg[1] != MDPC:
                    raise AssertionError("not an MDP client reply: %r" % (msg,))
                return msg[2].decode(), msg[3:]
            for w in pump:
                w.pump()
        raise AssertionError("no reply within %.1f s" % timeout)

    def request(self, service, *body, pump=()):
        self.send(service, *body)
        return self.recv(pump=pump)

    def status(self, pump=()):
        """The broker's mmi.status payload."""
        service, body = self.request("mmi.status", b"", pump=pump)
        if service != "mmi.status":
            raise AssertionError("mmi.status answered as %r" % service)
        env = unpackb(body[0])
        if env["type"] != "status":
            raise AssertionError("mmi.status reply: %r" % (env,))
        return env["payload"]

    def close(self):
        self.sock.close()


class MdpWorker:
    """A raw MDP worker inside the test process; it acts only when pumped. mode: 'echo'
    answers every request with its body plus a frame naming the worker; 'hold' keeps
    requests; 'mute' also stops heartbeats; a callable gets (token, body) and returns the
    reply body (or None to hold). READY carries `credit` when given."""

    def __init__(self, ctx, endpoint, service, name, heartbeat_ms, mode="echo", credit=None,
                 curve=None):
        self.sock = dealer(ctx, endpoint, curve)
        self.name, self.mode = name, mode
        self.hb = heartbeat_ms / 1000.0
        self.got = []        # (token, body) of every request received
        self.disconnected = False
        ready = [b"", MDPW, READY, service.encode()]
        if credit is not None:
            ready.append(str(credit).encode())
        self.sock.send_multipart(ready)
        self.next_hb = time.time() + self.hb

    def pump(self):
        while self.sock.poll(0):
            msg = self.sock.recv_multipart()
            if len(msg) < 3 or msg[0] != b"" or msg[1] != MDPW:
                raise AssertionError("not an MDP worker command: %r" % (msg,))
            if msg[2] == REQUEST:
                token, empty, body = msg[3], msg[4], msg[5:]
                if empty != b"":
                    raise AssertionError("REQUEST without the empty frame: %r" % (msg,))
                self.got.append((token, body))
                if self.mode == "echo":
                    self.reply(token, body + [self.name.encode()])
                elif callable(self.mode):
                    out = self.mode(token, body)
                    if out is not None:
                        self.reply(token, out)
            elif msg[2] == DISCONNECT:
                self.disconnected = True
        if self.mode != "mute" and time.time() >= self.next_hb:
            self.sock.send_multipart([b"", MDPW, HEARTBEAT])
            self.next_hb = time.time() + self.hb

    def reply(self, token, body):
        self.sock.send_multipart([b"", MDPW, REPLY, token, b""] + list(body))

    def disconnect(self):
        self.sock.send_multipart([b"", MDPW, DISCONNECT])

    def close(self):
        self.sock.close()


class Procs:
    """The processes of one test. Each logs stdout+stderr to FOLDER/NAME.log (appended, so a
    restarted process keeps one log), or with out=True stdout alone to FOLDER/NAME.out and
    stderr to NAME.log; close() stops whatever is still running."""

    def __init__(self, folder, deadline=DEADLINE, interval=0.1):
        self.dir = folder
        self.bin = os.environ["HO_BIN"]
        self.deadline = deadline
        self.interval = interval
        self.all = []       # (name, Popen) in start order, restarts included
        self.byname = {}    # name -> latest Popen
        self.logs = []
        self.seen = {}      # name -> the ready line's re.Match, or the (stdout) text up to it

    def log_path(self, name):
        return os.path.join(self.dir, name + ".log")

    def out_path(self, name):
        return os.path.join(self.dir, name + ".out")

    def log(self, name):
        with open(self.log_path(name), errors="replace") as f:
            return f.read()

    def out(self, name):
        """What a process started with out=True wrote to stdout (all its starts)."""
        with open(self.out_path(name), errors="replace") as f:
            return f.read()

    def spawn(self, name, args, ready=None, out=False, **popen):
        """Start args; with `ready` (a string, or a compiled regex) wait until the process has
        written it (after this start; with out=True on stdout) and fail with its log if it
        exits first."""
        path = self.log_path(name)
        log = open(path, "a+")
        self.logs.append(log)
        if out:
            watch = self.out_path(name)
            stdout = open(watch, "a+")
            self.logs.append(stdout)
            stderr = log
        else:
            watch, stdout, stderr = path, log, subprocess.STDOUT
        start = stdout.tell()
        p = subprocess.Popen(args, stdout=stdout, stderr=stderr, **popen)
        self.all.append((name, p))
        self.byname[name] = p
        if ready is not None:
            def ready_seen():
                with open(watch, errors="replace") as f:
                    f.seek(start)
                    text = f.read()
                if p.poll() is not None:
                    raise AssertionError("%s exited %s: %s%s" % (
                        name, p.returncode, text, self.log(name) if out else ""))
                if isinstance(ready, str):
                    return ready in text and text
                return ready.search(text)
            self.seen[name] = wait_for(name + " ready", ready_seen, self.deadline,
                                       self.interval)
        return p

    def spawn_broker(self, config, binds=("tcp://127.0.0.1:*",), name="broker", **popen):
        """`handoff broker -c CONFIG --bind B...` with stdout in NAME.out; waits for its
        'broker ready' line there. The endpoints it says it bound ('bound endpoint=' lines), in
        order."""
        args = [self.bin, "broker", "-c", config]
        for b in binds:
            args += ["--bind", b]
        self.spawn(name, args, "broker ready", out=True, **popen)
        return [line.split("=", 1)[1] for line in self.seen[name].splitlines()
                if line.startswith("bound endpoint=")]

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
        if workers and not self._curve_on():
            self.wait_registered(workers)

    def _curve_on(self):
        try:
            with open(self.config) as f:
                return re.search(r"(?m)^\s*curve:\s*\n(\s+.*\n)*?\s+enabled:\s*true", f.read())
        except OSError:
            return False

    def wait_registered(self, services):
        """Until the broker lists a worker for each service: a worker prints its ready line
        when it has sent READY, which the broker may read a moment later on a loaded machine
        (an import started in that moment finds the service without a worker)."""
        import zmq
        ctx = zmq.Context()
        try:
            c = MdpClient(ctx, self.endpoint)
            try:
                def ok():
                    st = c.status()
                    svcs = st.get("services", [])
                    have = {x["name"]: x.get("workers", 0) for x in svcs} \
                        if isinstance(svcs, list) else {k: v.get("workers", 0)
                                                        for k, v in svcs.items()}
                    return all(have.get(w, 0) > 0 for w in services)
                wait_for("workers registered: %s" % ", ".join(services), ok)
            finally:
                c.close()
        finally:
            ctx.destroy(linger=0)

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
