#!/usr/bin/python3
"""Integration tests of `handoff worker`, `handoff status` and `handoff keygen` as real
processes around a real `handoff broker`: a raw MDP client (pyzmq) talks to a built-in worker
through the broker; status output is checked line by line and as JSON; CURVE end to end with
keys made by `handoff keygen` (allowed keys in, a stranger's key out).

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_runtime_cli.py
"""
import functools
import json
import os
import shutil
import signal
import stat
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DEADLINE, envelope, mdp_call as request, packb as pack, unpackb  # noqa: E402

HB_MS = 100
run = functools.partial(harness.run, timeout=DEADLINE * 2)


def write_config(folder, curve=None):
    extra = ""
    if curve:
        extra = "  curve:\n    enabled: true\n" + "".join("    %s: %s\n" % kv
                                                          for kv in curve.items())
    return harness.broker_config(folder, HB_MS, max_queue=100, max_attempts=3, extra=extra)


def status_lines(out):
    return [l for l in out.splitlines() if l]


def workers_of(status_out, service):
    for line in status_lines(status_out):
        if line.startswith("service name=%s " % service):
            fields = dict(kv.split("=", 1) for kv in line.split()[1:])
            return int(fields["workers"])
    return 0


class WorkerCliTest(unittest.TestCase):
    def setUp(self):
        self.ctx = harness.zmq_context(self)
        self.procs = harness.procs_for(self, "ho-rt-cli-", signal.SIGKILL)
        self.dir = self.procs.dir

    def start_worker(self, config, endpoint, *args):
        """`handoff worker echo` on ENDPOINT; waits for its 'worker ready' line on stdout."""
        return self.procs.spawn("worker", [self.procs.bin, "worker", "echo", "-c", config,
                                           "--connect", endpoint] + list(args),
                                "worker ready", out=True)

    def wait_workers(self, config, endpoint, service, want, extra=()):
        end = time.time() + DEADLINE
        got = None
        while time.time() < end:
            r = run(["status", "-c", config, "--connect", endpoint, "--timeout", "2000"] +
                    list(extra))
            if r.returncode == 0:
                got = workers_of(r.stdout, service)
                if got == want:
                    return r
            time.sleep(0.05)
        raise AssertionError("service %s has %r workers, wanted %d" % (service, got, want))

    def test_usage(self):
        r = run(["worker", "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: handoff worker NAME", r.stdout)
        self.assertIn("echo", r.stdout)
        r = run(["worker", "--list"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"(?m)^\s+echo\s+replies each input envelope")
        r = run(["worker", "no-such-worker"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown worker 'no-such-worker'", r.stderr)
        r = run(["worker"])
        self.assertEqual(r.returncode, 2)
        r = run(["worker", "echo", "--credit", "0"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--credit", r.stderr)
        r = run(["worker", "echo", "--service", "mmi.echo"])
        self.assertEqual(r.returncode, 2)
        for cmd in ("status", "keygen"):
            r = run([cmd, "--help"])
            self.assertEqual(r.returncode, 0, cmd)
            self.assertIn("usage: handoff %s" % cmd, r.stdout)
        self.assertEqual(run(["status", "--bogus"]).returncode, 2)
        self.assertEqual(run(["keygen"]).returncode, 2)

    def test_echo_worker_through_the_broker(self):
        config = write_config(self.dir)
        endpoint = self.procs.spawn_broker(config)[0]
        self.start_worker(config, endpoint, "--credit", "4")
        self.assertIn("service=echo", self.procs.out("worker"))
        self.wait_workers(config, endpoint, "echo", 1)

        # a batch of three and a single envelope in one request: each comes back unchanged,
        # one batch frame per type
        batch = [envelope("lead.raw", {"fields": {"email": "a%d@example.com" % i}})
                 for i in range(3)]
        single = envelope("activity.raw", {"fields": {"activity_id": "A-1"}})
        frames = request(self.ctx, endpoint, "echo", [pack(batch), pack(single)])
        self.assertEqual(len(frames), 2)
        got = unpackb(frames[0])
        self.assertEqual(got, batch)
        self.assertEqual(unpackb(frames[1]), [single])

        # a garbage frame next to a good one: the good one comes back, the bad one is
        # quarantined with its frame index and raw bytes
        frames = request(self.ctx, endpoint, "echo", [b"\xc1nonsense", pack(single)])
        by_type = {}
        for f in frames:
            for env in unpackb(f):
                by_type.setdefault(env["type"], []).append(env)
        self.assertEqual(by_type["activity.raw"], [single])
        q = by_type["quarantine"][0]["payload"]
        self.assertEqual(q["code"], "bad_frame")
        self.assertEqual(q["field"], "frame[0]")
        self.assertEqual(q["stage"], "echo")
        self.assertEqual(q["raw"]["base64"], "wW5vbnNlbnNl")

        # status: greppable lines and JSON agree
        r = run(["status", "-c", config, "--connect", endpoint])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = status_lines(r.stdout)
        self.assertTrue(lines[0].startswith("broker "), lines[0])
        self.assertRegex(r.stdout, r"(?m)^counters requests=\d+ replies=\d+")
        self.assertRegex(r.stdout, r"(?m)^service name=echo workers=1 queued=0 in_flight=0 "
                                   r"requests=2 replies=2 ")
        self.assertRegex(r.stdout, r"(?m)^worker id=[0-9a-f]+ service=echo credit=4 ")
        self.assertIn("route type=test.none service=nowhere", lines)
        self.assertRegex(r.stdout, r"(?m)^outbox db=\S+ exists=false pending=0")
        r = run(["status", "-c", config, "--connect", endpoint, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        st = json.loads(r.stdout)
        echo = [s for s in st["services"] if s["name"] == "echo"][0]
        self.assertEqual((echo["workers"], echo["requests"], echo["replies"]), (1, 2, 2))
        self.assertEqual(st["workers"][0]["credit"], 4)
        self.assertEqual(st["routes"], {"test.none": "nowhere"})

        # SIGTERM: the worker says DISCONNECT and exits 0; the broker drops it at once (with
        # liveness 3 x 100 ms either way; what is checked is the clean exit and the log)
        self.assertEqual(self.procs.stop("worker"), 0)
        self.assertIn("stopped requests=2", self.procs.log("worker"))
        self.wait_workers(config, endpoint, "echo", 0)

    def test_worker_waits_for_the_broker_and_registers(self):
        # the worker starts first; the broker comes up later on the same endpoint (ipc in
        # the test folder: no other test can take it in between, as a freed tcp port could)
        config = write_config(self.dir)
        endpoint = "ipc://%s/broker.ipc" % self.dir
        self.start_worker(config, endpoint)
        time.sleep(0.3)
        self.procs.spawn_broker(config, [endpoint])
        self.wait_workers(config, endpoint, "echo", 1)
        env = envelope("lead.raw", {"n": 1})
        frames = request(self.ctx, endpoint, "echo", [pack(env)])
        self.assertEqual(unpackb(frames[0]), [env])
        # and again after a broker restart: the worker re-registers by itself
        self.assertEqual(self.procs.stop("broker"), 0)
        self.procs.spawn_broker(config, [endpoint], name="broker2")
        self.wait_workers(config, endpoint, "echo", 1)
        frames = request(self.ctx, endpoint, "echo", [pack(env)])
        self.assertEqual(unpackb(frames[0]), [env])
        self.assertEqual(self.procs.stop("worker"), 0)

    def test_status_without_broker(self):
        config = write_config(self.dir)
        r = run(["status", "-c", config, "--connect", "tcp://127.0.0.1:1", "--timeout", "300"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("did not answer within 300 ms", r.stderr)
        self.assertEqual(r.stdout, "")
        r = run(["status", "--timeout", "soon"])
        self.assertEqual(r.returncode, 2)
        # an endpoint ZeroMQ cannot parse: a clear error at once, from both commands (the
        # worker used to block forever sending DISCONNECT on a socket without a peer)
        r = run(["status", "-c", config, "--connect", "nonsense"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot send to the broker at nonsense", r.stderr)
        r = run(["worker", "echo", "-c", config, "--connect", "nonsense"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect to nonsense", r.stderr)

    def test_bad_config_is_reported(self):
        path = os.path.join(self.dir, "bad.yaml")
        with open(path, "w") as f:
            f.write("broker:\n  heartbeat_ms: often\n")
        for cmd in (["worker", "echo"], ["status"]):
            r = run(cmd + ["-c", path])
            self.assertEqual(r.returncode, 1, cmd)
            self.assertIn("bad.yaml:2", r.stderr)

    def test_keygen(self):
        keys = os.path.join(self.dir, "keys")
        r = run(["keygen", "broker", "--dir", keys])
        self.assertEqual(r.returncode, 0, r.stderr)
        fields = dict(kv.split("=", 1) for kv in r.stdout.split())
        pub, sec = os.path.join(keys, "broker.cert"), os.path.join(keys, "broker.cert_secret")
        self.assertEqual(fields["cert"], pub)
        self.assertEqual(fields["secret"], sec)
        with open(pub) as f:
            text = f.read()
        self.assertIn('public-key = "%s"' % fields["public_key"], text)
        self.assertNotIn("secret-key", text)
        with open(sec) as f:
            self.assertIn("secret-key", f.read())
        self.assertEqual(stat.S_IMODE(os.stat(sec).st_mode) & 0o077, 0)
        self.assertEqual(len(fields["public_key"]), 40)
        # no silent overwrite
        r = run(["keygen", "broker", "--dir", keys])
        self.assertEqual(r.returncode, 1)
        self.assertIn("already exists", r.stderr)
        r = run(["keygen", "broker", "--dir", keys, "--force"])
        self.assertEqual(r.returncode, 0)
        self.assertNotEqual(dict(kv.split("=", 1) for kv in r.stdout.split())["public_key"],
                            fields["public_key"])
        self.assertEqual(run(["keygen", "../evil", "--dir", keys]).returncode, 2)

    def test_keygen_with_a_config_writes_its_keys_folder(self):
        # -c CONFIG without --dir: the keys/ folder next to the config, where broker.curve's
        # default paths (keys/broker.cert, ...) look; --dir still wins
        sub = os.path.join(self.dir, "etc")
        os.makedirs(sub)
        config = write_config(sub)
        r = run(["keygen", "broker", "-c", config])
        self.assertEqual(r.returncode, 0, r.stderr)
        want = os.path.join(os.path.dirname(config), "keys", "broker.cert")
        self.assertEqual(os.path.realpath(dict(kv.split("=", 1) for kv in r.stdout.split())[
            "cert"]), os.path.realpath(want))
        self.assertTrue(os.path.exists(want + "_secret"))
        other = os.path.join(self.dir, "other")
        r = run(["keygen", "broker", "-c", config, "--dir", other])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(other, "broker.cert")))
        # a config that does not load is an error, not keys written somewhere else
        bad = os.path.join(self.dir, "bad.yaml")
        with open(bad, "w") as f:
            f.write("broker:\n  no_such_key: 1\n")
        r = run(["keygen", "worker", "-c", bad])
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.yaml", r.stderr)

    def test_curve_end_to_end(self):
        keys = os.path.join(self.dir, "keys")
        allowed = os.path.join(keys, "allowed")
        os.makedirs(allowed)
        for name in ("broker", "worker", "stranger"):
            self.assertEqual(run(["keygen", name, "--dir", keys]).returncode, 0)
        shutil.copy(os.path.join(keys, "worker.cert"), allowed)
        config = write_config(self.dir, curve={
            "server_cert": "keys/broker.cert_secret", "allowed_keys": "keys/allowed",
            "client_cert": "keys/worker.cert_secret", "server_public": "keys/broker.cert"})
        endpoint = self.procs.spawn_broker(config)[0]
        self.start_worker(config, endpoint)
        self.assertIn("curve=on", self.procs.log("worker"))
        # handoff status uses the same client cert from the config: it is let in
        r = self.wait_workers(config, endpoint, "echo", 1)
        self.assertIn("service name=echo workers=1", r.stdout)
        # a client with a key that is not in allowed_keys gets no answer
        stranger_cfg = os.path.join(self.dir, "stranger.yaml")
        with open(config) as f:
            text = f.read().replace("keys/worker.cert_secret", "keys/stranger.cert_secret")
        with open(stranger_cfg, "w") as f:
            f.write(text)
        r = run(["status", "-c", stranger_cfg, "--connect", endpoint, "--timeout", "500"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("did not answer", r.stderr)
        # a missing client cert is a clear configuration error
        broken_cfg = os.path.join(self.dir, "broken.yaml")
        with open(broken_cfg, "w") as f:
            f.write(text.replace("keys/stranger.cert_secret", "keys/none.cert_secret"))
        r = run(["status", "-c", broken_cfg, "--connect", endpoint])
        self.assertEqual(r.returncode, 1)
        self.assertIn("broker.curve.client_cert", r.stderr)
        r = run(["worker", "echo", "-c", broken_cfg, "--connect", endpoint])
        self.assertEqual(r.returncode, 1)
        self.assertIn("broker.curve.client_cert", r.stderr)
        self.assertEqual(self.procs.stop("worker"), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
