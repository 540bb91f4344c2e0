#!/usr/bin/python3
"""Dockerfile and deploy/compose.yaml, checked without a container runtime (for the image built
and run in an engine see test_container_image.py): the files parse, say what the operations
guide promises, and the compose services' commands run for real as processes with the compose
config (CURVE on, keys made by `handoff keygen`).

Asserts:
- Dockerfile: a build stage and a Debian slim runtime stage, a non-root USER, a HEALTHCHECK and
  ENTRYPOINT handoff; every option its commands use appears in that command's --help;
- compose.yaml parses as YAML; services core (broker + every worker but score, via
  `run --only`), scorer (2 replicas), webhook and metrics; every secret a service mounts is
  declared with a file under deploy/keys; deploy/compose/handoff.yaml has the same routes and
  worker settings as deploy/handoff.yaml and CURVE on with keys under /run/secrets, where the
  services mount them;
- rehearsal: with those /run/secrets paths pointed at a temp folder holding keys from
  `handoff keygen`, the core's command and two copies of the scorer's command start, the
  broker (CURVE) lists 2 score workers and one of each other worker, and the metrics service's
  command answers /readyz 200.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_containers.py
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HO_BIN = os.environ["HO_BIN"]
SRC = harness.source_dir()
DEPLOY = os.path.join(SRC, "deploy")
WORKERS = ["ingest", "store", "score", "route", "feedback", "report", "outbox"]


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def dockerfile_stages():
    stages, cur = [], None
    with open(os.path.join(SRC, "Dockerfile")) as f:
        text = re.sub(r"\\\n", " ", f.read())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            cur = {"from": rest, "lines": []}
            stages.append(cur)
        elif cur is not None:
            cur["lines"].append((word.upper(), rest.strip()))
    return stages


class ContainersTest(unittest.TestCase):
    def assert_options_exist(self, argv):
        """Each --option of a `handoff CMD ...` argv is in `handoff CMD --help`."""
        cmd = argv[0]
        helptext = subprocess.run([HO_BIN, cmd, "--help"], capture_output=True,
                                  text=True).stdout
        self.assertTrue(helptext, cmd)
        for a in argv[1:]:
            if a.startswith("--"):
                self.assertIn(a.split("=")[0], helptext, (cmd, a))

    def test_dockerfile(self):
        stages = dockerfile_stages()
        self.assertGreaterEqual(len(stages), 2)
        self.assertRegex(stages[0]["from"], r"^debian:bookworm-slim AS build$")
        final = stages[-1]
        self.assertRegex(final["from"], r"^debian:bookworm-slim")
        d = dict(final["lines"])
        self.assertNotIn(d["USER"].split(":")[0], ("root", "0"))
        self.assertIn("COPY", d)
        self.assertIn("--from=build", dict((w, r) for w, r in final["lines"] if w == "COPY")["COPY"])
        health = json.loads(d["HEALTHCHECK"].split("CMD", 1)[1])
        self.assertEqual(health[0], "handoff")
        self.assert_options_exist(health[1:])
        self.assertEqual(json.loads(d["ENTRYPOINT"]), ["handoff"])
        self.assert_options_exist(json.loads(d["CMD"]))

    def test_compose_file(self):
        c = load(os.path.join(DEPLOY, "compose.yaml"))
        services = c["services"]
        self.assertEqual(sorted(services), ["core", "metrics", "scorer", "webhook"])
        core = services["core"]["command"]
        self.assertEqual(core[:2], ["run", "--only"])
        self.assertEqual(sorted(core[2].split(",")), sorted(["broker"] + [w for w in WORKERS
                                                                          if w != "score"]))
        self.assertIn("broker", services["core"]["networks"]["handoff"]["aliases"])
        self.assertEqual(services["scorer"]["deploy"]["replicas"], 2)
        self.assertEqual(services["scorer"]["command"][:2], ["worker", "score"])
        for name, s in services.items():
            self.assert_options_exist(s["command"])
            self.assertEqual(s["configs"][0]["target"], "/etc/handoff/handoff.yaml")
            for sec in s.get("secrets", []):
                self.assertIn(sec["source"], c["secrets"], name)
                self.assertTrue(sec["target"].startswith("/run/secrets/"))
        for sec in c["secrets"].values():
            self.assertTrue(sec["file"].startswith("./keys/"))
        self.assertEqual(c["configs"]["handoff_yaml"]["file"], "./compose/handoff.yaml")

        mine = load(os.path.join(DEPLOY, "compose", "handoff.yaml"))
        shipped = load(os.path.join(DEPLOY, "handoff.yaml"))
        self.assertEqual(mine["routes"], shipped["routes"])
        self.assertEqual(mine["workers"], shipped["workers"])
        curve = mine["broker"]["curve"]
        self.assertTrue(curve["enabled"])
        targets = {sec["target"] for s in services.values() for sec in s.get("secrets", [])}
        for key in ("server_cert", "client_cert", "server_public"):
            self.assertIn(curve[key], targets, key)
        self.assertTrue(any(t.startswith(curve["allowed_keys"] + "/") for t in targets))

    def test_compose_commands_rehearsed_as_processes(self):
        procs = harness.procs_for(self, "ho-compose-")
        tmp = procs.dir
        secrets, data = os.path.join(tmp, "secrets"), os.path.join(tmp, "data")
        os.makedirs(os.path.join(secrets, "allowed"))
        keys = os.path.join(tmp, "keys")
        for name in ("broker", "client"):
            r = subprocess.run([HO_BIN, "keygen", name, "--dir", keys], capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
        c = load(os.path.join(DEPLOY, "compose.yaml"))
        for s in c["services"].values():  # mount the secrets the way compose would
            for sec in s.get("secrets", []):
                src = os.path.join(keys, os.path.basename(c["secrets"][sec["source"]]["file"]))
                dst = os.path.join(secrets, os.path.relpath(sec["target"], "/run/secrets"))
                shutil.copyfile(src, dst)
        port = harness.free_port()
        with open(os.path.join(DEPLOY, "compose", "handoff.yaml")) as f:
            text = f.read().replace("/run/secrets", secrets).replace("/var/lib/handoff", data)
        text = text.replace("tcp://broker:5570", "tcp://127.0.0.1:%d" % port)
        conf_dir = os.path.join(tmp, "etc")
        shutil.copytree(DEPLOY, conf_dir, ignore=shutil.ignore_patterns("compose*", "systemd"))
        config = os.path.join(conf_dir, "handoff.yaml")
        with open(config, "w") as f:
            f.write(text)
        env = dict(os.environ, HANDOFF_CONFIG=config)

        def argv(service):
            a = [x.replace("tcp://0.0.0.0:5570", "tcp://127.0.0.1:%d" % port)
                 .replace("tcp://broker:5570", "tcp://127.0.0.1:%d" % port)
                 .replace("/var/lib/handoff", data).replace("0.0.0.0:9100", "127.0.0.1:0")
                 for x in c["services"][service]["command"]]
            return [HO_BIN] + a

        procs.spawn("core", argv("core") + ["--tick", "0"], "run ready", env=env)
        for i in (1, 2):
            procs.spawn("scorer%d" % i, argv("scorer"), "worker ready", env=env)
        def workers():
            r = subprocess.run([HO_BIN, "status", "--json"], capture_output=True, text=True,
                               env=env, timeout=60)
            if r.returncode != 0:
                return None
            got = {s["name"]: s["workers"] for s in json.loads(r.stdout)["services"]}
            return got if got.get("score") == 2 else None
        got = harness.wait_for("two CURVE scorers", workers)
        self.assertEqual({w: got.get(w) for w in WORKERS},
                         {w: 2 if w == "score" else 1 for w in WORKERS})
        m = procs.spawn("metrics", argv("metrics"), "metrics listening=", out=True, env=env)
        url = "http://" + procs.seen["metrics"].split("listening=")[1].split()[0] + "/readyz"
        with urllib.request.urlopen(url, timeout=60) as r:
            self.assertEqual((r.status, r.read()), (200, b"ready\n"))
        self.assertEqual(procs.stop("metrics"), 0)
        self.assertIsNotNone(m)


if __name__ == "__main__":
    unittest.main(verbosity=2)
