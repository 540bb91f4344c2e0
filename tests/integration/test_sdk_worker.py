#!/usr/bin/python3
"""The worker SDK, as a third party uses it: `cmake --install` of this build into a temp
prefix, examples/sdk-worker built outside the tree with `make` and nothing but
`pkg-config --cflags --libs handoff` (warnings are errors), run against a real broker.

Asserts:
- the install holds the binary, the public headers, libhandoff.a and libhandoff.so with the
  soname libhandoff.so.0, handoff.pc (pkg-config --modversion = the binary's version), the
  configs under etc/handoff, the man pages, the bash and zsh completion and the systemd units;
- the example links libhandoff.so.0 from the temp prefix (NEEDED), registers as `domain`, and
  answers a client request through the broker: one `lead.domain` per lead with the same event
  id and the lower-cased domain, and a `quarantine` envelope (code missing_email) for the lead
  without an email — the good records still go through;
- SIGTERM stops it cleanly (exit 0) and the broker no longer lists it.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_sdk_worker.py
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DEADLINE, packb, unpackb  # noqa: E402

SRC = harness.source_dir()
BUILD = os.path.dirname(os.path.abspath(os.environ["HO_BIN"]))


class SdkWorkerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.prefix = tempfile.mkdtemp(prefix="ho-sdk-prefix-")
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", cls.prefix],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        pcs = glob.glob(os.path.join(cls.prefix, "lib*", "**", "handoff.pc"), recursive=True)
        assert len(pcs) == 1, pcs
        cls.pkgconfig = os.path.dirname(pcs[0])
        cls.env = dict(os.environ, PKG_CONFIG_PATH=cls.pkgconfig)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.prefix, ignore_errors=True)

    def setUp(self):
        self.ctx = harness.zmq_context(self)
        self.procs = harness.procs_for(self, "ho-sdk-")
        self.dir = self.procs.dir

    def pkg(self, *args):
        r = subprocess.run(["pkg-config"] + list(args) + ["handoff"], capture_output=True,
                           text=True, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def test_install_layout(self):
        p = self.prefix
        version = subprocess.run([os.path.join(p, "bin", "handoff"), "--version"],
                                 capture_output=True, text=True).stdout.split()[1]
        self.assertEqual(self.pkg("--modversion"), version)
        libdir = self.pkg("--variable=libdir")
        self.assertTrue(os.path.isfile(os.path.join(libdir, "libhandoff.a")))
        so = os.path.realpath(os.path.join(libdir, "libhandoff.so"))
        self.assertTrue(os.path.basename(so).startswith("libhandoff.so.0."), so)
        dyn = subprocess.run(["readelf", "-d", so], capture_output=True, text=True).stdout
        self.assertIn("Library soname: [libhandoff.so.0]", dyn)
        for h in ("worker.h", "runtime.h", "msg.h", "conf.h", "client.h"):
            self.assertTrue(os.path.isfile(os.path.join(self.pkg("--variable=includedir"),
                                                        "handoff", h)), h)
        for f in ("etc/handoff/handoff.yaml", "etc/handoff/webhook.yaml",
                  "etc/handoff/profiles/hubspot.yaml", "share/man/man1/handoff.1",
                  "share/man/man1/handoff-run.1", "share/bash-completion/completions/handoff",
                  "share/zsh/vendor-completions/_handoff",
                  "lib/systemd/system/handoff-broker.service",
                  "lib/systemd/system/handoff-worker@.service", "lib/systemd/system/handoff.target"):
            self.assertTrue(os.path.isfile(os.path.join(p, f)), f)

    def build_example(self):
        work = os.path.join(self.dir, "sdk-worker")
        shutil.copytree(os.path.join(SRC, "examples", "sdk-worker"), work)
        r = subprocess.run(["make", "-C", work, "CFLAGS=-O2 -Wall -Wextra -Werror"],
                           capture_output=True, text=True, env=self.env, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        exe = os.path.join(work, "sdk-worker")
        needed = subprocess.run(["readelf", "-d", exe], capture_output=True, text=True).stdout
        self.assertIn("Shared library: [libhandoff.so.0]", needed)
        ldd = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
        line = [l for l in ldd.splitlines() if "libhandoff.so.0" in l][0]
        self.assertIn(os.path.realpath(self.prefix), os.path.realpath(line.split("=>")[1].split()[0]))
        return exe

    def service(self, config, endpoint, name):
        r = harness.run(["status", "-c", config, "--connect", endpoint, "--json"],
                        timeout=DEADLINE * 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        for s in json.loads(r.stdout)["services"]:
            if s["name"] == name:
                return s
        return {"workers": 0}

    def test_example_worker_answers_through_the_broker(self):
        exe = self.build_example()
        config = harness.broker_config(self.dir, 200, data_dir=self.dir)
        endpoint = self.procs.spawn_broker(config)[0]
        self.procs.spawn("sdk", [exe, "--connect", endpoint], "sdk worker ready service=domain",
                         out=True)
        harness.wait_for("sdk worker registered",
                         lambda: self.service(config, endpoint, "domain")["workers"] == 1)
        leads = [harness.envelope("lead.raw", {"fields": {"email": "Ada@Example-Bank.DE"}}),
                 harness.envelope("lead.raw", {"fields": {"name": "no email"}}),
                 harness.envelope("lead.raw", {"fields": {"email": "bob@northwind.io"}})]
        frames = harness.mdp_call(self.ctx, endpoint, "domain", [packb(leads)])
        by_type = {}
        for f in frames:
            batch = unpackb(f)
            by_type[batch[0]["type"]] = batch
        self.assertEqual(sorted(by_type), ["lead.domain", "quarantine"])
        got = by_type["lead.domain"]
        self.assertEqual([e["id"] for e in got], [leads[0]["id"], leads[2]["id"]])
        self.assertEqual([e["payload"]["domain"] for e in got], ["example-bank.de", "northwind.io"])
        self.assertRegex(got[0]["origin"], r"^domain@")
        q = by_type["quarantine"][0]["payload"]
        self.assertEqual((q["code"], q["field"]), ("missing_email", "fields.email"))
        self.assertEqual(self.procs.stop("sdk"), 0)
        harness.wait_for("sdk worker gone",
                         lambda: self.service(config, endpoint, "domain")["workers"] == 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
