#!/usr/bin/python3
"""The container image for real: `docker build` of the repo's Dockerfile, the image run, and the
deploy/compose.yaml layout started as containers. Needs a running Docker engine and the base
image; without either the test prints why and exits 77, which ctest shows as "Not Run"
(skipped), never as passed. deploy/check-image starts an engine and makes the base image
where neither is at hand (as on the machines this project is developed on).

Asserts:
- the image's USER, ENTRYPOINT, CMD and HEALTHCHECK (as `docker inspect` reports them) are the
  Dockerfile's; the user is not root and every process of a running container runs as it;
- the default command (`handoff run`) brings the pipeline up: `handoff status --json` in the
  container lists a worker for every service, and the engine's own healthcheck (the image's
  HEALTHCHECK command) reports the container healthy; the same command fails in a container
  with no broker (the check can fail);
- `run --demo --once` as the non-root user writes its workbook into a named volume mounted at
  the image's data dir, and the workbook opens in openpyxl;
- the compose services (core, 2 scorer replicas, webhook, metrics) started from compose.yaml's
  commands, config, secrets, aliases and volume with `docker run` (Compose v2 is not packaged
  for Debian 12 and Compose v1 cannot read the Compose specification): the broker (CURVE)
  lists 2 score workers and one of each other worker, the scorer's compose healthcheck passes
  inside a scorer container, metrics answers /readyz 200 and the webhook /healthz 200 on their
  published ports.

Run: deploy/check-image, or HO_BIN=build/handoff DOCKER_HOST=... tests/integration/test_container_image.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_containers import dockerfile_stages  # noqa: E402  (the one Dockerfile reader)

SKIP = 77  # ctest SKIP_RETURN_CODE of the integration tests
SRC = harness.source_dir()
DEPLOY = os.path.join(SRC, "deploy")
IMAGE = os.environ.get("HO_IMAGE", "handoff:ctest")
WORKERS = ["ingest", "store", "score", "route", "feedback", "report", "outbox"]
BUILD_SECONDS = 1200


def docker(*args, check=True, timeout=300, **kw):
    r = subprocess.run(["docker"] + list(args), capture_output=True, text=True, timeout=timeout,
                       **kw)
    if check and r.returncode != 0:
        raise AssertionError("docker %s: exit %d\n%s%s" % (" ".join(args), r.returncode,
                                                           r.stdout[-2000:], r.stderr[-2000:]))
    return r


def why_not_usable():
    """None when an engine answers and the Dockerfile's base image is there, else the reason."""
    if not shutil.which("docker"):
        return "no docker client on PATH"
    r = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0 or not r.stdout.strip():
        return "no Docker engine answers (%s)" % (r.stderr.strip().splitlines() or ["?"])[-1]
    bases = {s["from"].split()[0] for s in dockerfile_stages()}
    for base in sorted(bases):
        if docker("image", "inspect", base, check=False).returncode == 0:
            continue
        pull = docker("pull", base, check=False)
        if pull.returncode != 0:
            return "base image %s not in the engine and not pullable (%s)" % (
                base, pull.stderr.strip()[-300:])
    return None


class ContainerImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ho-image-")
        log = os.path.join(cls.tmp, "build.log")
        with open(log, "w") as f:
            r = subprocess.run(["docker", "build", "-t", IMAGE, SRC], stdout=f,
                               stderr=subprocess.STDOUT, timeout=BUILD_SECONDS)
        with open(log) as f:
            tail = f.read()[-3000:]
        if r.returncode != 0:
            raise AssertionError("docker build failed:\n" + tail)
        cls.inspect = json.loads(docker("image", "inspect", IMAGE).stdout)[0]["Config"]
        final = dockerfile_stages()[-1]
        cls.df = dict(final["lines"])
        cls.user = cls.df["USER"].split(":")[0]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def container(self, *args):
        """docker run -d ARGS; removed (with its anonymous volumes) when the test ends."""
        cid = docker("run", "-d", *args).stdout.strip()
        self.addCleanup(docker, "rm", "-f", "-v", cid, check=False)
        return cid

    def healthcheck_argv(self):
        test = self.inspect["Healthcheck"]["Test"]
        self.assertEqual(test[0], "CMD")
        return test[1:]

    def test_image_config_is_the_dockerfiles(self):
        self.assertEqual(self.inspect["User"], self.df["USER"])
        self.assertEqual(self.inspect["Entrypoint"], json.loads(self.df["ENTRYPOINT"]))
        self.assertEqual(self.inspect["Cmd"], json.loads(self.df["CMD"]))
        self.assertEqual(self.healthcheck_argv(),
                         json.loads(self.df["HEALTHCHECK"].split("CMD", 1)[1]))
        uid = docker("run", "--rm", "--entrypoint", "id", IMAGE, "-u").stdout.strip()
        name = docker("run", "--rm", "--entrypoint", "id", IMAGE, "-un").stdout.strip()
        self.assertNotEqual(uid, "0")
        self.assertEqual(name, self.user)
        out = docker("run", "--rm", IMAGE, "--version").stdout
        self.assertRegex(out, r"^handoff \d+\.\d+")

    def test_default_command_runs_the_pipeline_and_turns_healthy(self):
        cid = self.container("--health-interval", "2s", IMAGE)  # the image's CMD and check

        def services():
            r = docker("exec", cid, "handoff", "status", "--json", check=False)
            if r.returncode != 0:
                return None
            got = {s["name"]: s["workers"] for s in json.loads(r.stdout)["services"]}
            return got if all(got.get(w) for w in WORKERS) else None
        got = harness.wait_for("a worker for every service", services)
        self.assertEqual({w: got[w] for w in WORKERS}, {w: 1 for w in WORKERS})

        def health():
            s = docker("inspect", "-f", "{{.State.Health.Status}}", cid).stdout.strip()
            return s if s != "starting" else None
        self.assertEqual(harness.wait_for("a health verdict", health, deadline=120), "healthy")
        # every process in the container is the image's user (ps on the host: numeric uid)
        uid = docker("run", "--rm", "--entrypoint", "id", IMAGE, "-u").stdout.strip()
        top = docker("top", cid, "-o", "pid,uid,args").stdout.splitlines()[1:]
        self.assertGreaterEqual(len(top), 1 + len(WORKERS))
        self.assertEqual({line.split()[1] for line in top}, {uid}, top)
        self.assertTrue(any("handoff run" in line for line in top), top)
        # the check can fail: the same command where no broker runs
        r = docker("run", "--rm", "--entrypoint", self.healthcheck_argv()[0], IMAGE,
                   *self.healthcheck_argv()[1:], check=False, timeout=120)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_demo_writes_its_workbook_into_the_volume(self):
        vol = "ho-ctest-demo-%d" % os.getpid()
        docker("volume", "create", vol)
        self.addCleanup(docker, "volume", "rm", "-f", vol, check=False)
        data = self.inspect["WorkingDir"]
        r = docker("run", "--rm", "-v", "%s:%s" % (vol, data), IMAGE, "run", "--demo", "--once",
                   "--data-dir", data, timeout=600)
        wb = [line.split("workbook: ", 1)[1] for line in r.stdout.splitlines()
              if line.startswith("workbook: ")]
        self.assertEqual(len(wb), 1, r.stdout)
        self.assertTrue(wb[0].startswith(data + "/"), wb)
        raw = subprocess.run(["docker", "run", "--rm", "-v", "%s:%s" % (vol, data),
                              "--entrypoint", "cat", IMAGE, wb[0]], capture_output=True,
                             timeout=120)
        self.assertEqual(raw.returncode, 0, raw.stderr)
        path = os.path.join(self.tmp, "demo.xlsx")
        with open(path, "wb") as f:
            f.write(raw.stdout)
        import openpyxl
        book = openpyxl.load_workbook(path, read_only=True)
        self.assertGreaterEqual(len(book.sheetnames), 2, book.sheetnames)
        book.close()

    def compose_run_args(self, c, name, svc, net, vol, keys):
        """`docker run` options for one compose service, the way Compose would start it."""
        args = ["--network", net, "--restart", svc.get("restart", "no")]
        nets = svc.get("networks", [])
        if isinstance(nets, dict):
            for alias in (nets.get("handoff") or {}).get("aliases", []):
                args += ["--network-alias", alias]
        if "hostname" in svc:
            args += ["--hostname", svc["hostname"]]
        for k, v in svc.get("environment", {}).items():
            args += ["-e", "%s=%s" % (k, v)]
        for cf in svc.get("configs", []):
            src = os.path.normpath(os.path.join(DEPLOY, c["configs"][cf["source"]]["file"]))
            args += ["-v", "%s:%s:ro" % (src, cf["target"])]
        for sec in svc.get("secrets", []):
            src = os.path.join(keys, os.path.basename(c["secrets"][sec["source"]]["file"]))
            args += ["-v", "%s:%s:ro" % (src, sec["target"])]
        for v in svc.get("volumes", []):
            named, _, rest = v.partition(":")
            self.assertIn(named, c["volumes"], name)
            args += ["-v", "%s:%s" % (vol, rest)]
        for p in svc.get("ports", []):
            args += ["-p", "127.0.0.1::%s" % p.split(":")[-1]]  # loopback, any free port
        return args

    def test_compose_layout_as_containers(self):
        with open(os.path.join(DEPLOY, "compose.yaml")) as f:
            c = yaml.safe_load(f)
        tag = "ho-ctest-%d" % os.getpid()
        net, vol = tag, tag
        docker("network", "create", net)
        self.addCleanup(docker, "network", "rm", net, check=False)
        docker("volume", "create", vol)
        keys = os.path.join(self.tmp, "keys")
        for name in ("broker", "client"):
            docker("run", "--rm", "--user", "0", "-v", "%s:/keys" % keys, "--entrypoint",
                   "handoff", IMAGE, "keygen", name, "--dir", "/keys")
        # Compose secrets are bind mounts that keep the host file's owner and mode: the secret
        # certificates (0600) must belong to the image's user (docs/operations.md says so)
        uid = docker("run", "--rm", "--entrypoint", "id", IMAGE, "-u").stdout.strip()
        for f in os.listdir(keys):
            os.chown(os.path.join(keys, f), int(uid), int(uid))
        started = {}
        order = ["core"] + [s for s in c["services"] if s != "core"]
        for name in order:
            svc = c["services"][name]
            for i in range(svc.get("deploy", {}).get("replicas", 1)):
                cname = "%s-%s-%d" % (tag, name, i + 1)
                args = self.compose_run_args(c, name, svc, net, vol, keys)
                started.setdefault(name, []).append(
                    self.container("--name", cname, *args, IMAGE, *svc["command"]))
        self.addCleanup(docker, "volume", "rm", "-f", vol, check=False)
        self.assertEqual(len(started["scorer"]), 2)
        core = started["core"][0]

        def workers():
            r = docker("exec", core, "handoff", "status", "--json", check=False)
            if r.returncode != 0:
                return None
            got = {s["name"]: s["workers"] for s in json.loads(r.stdout)["services"]}
            return got if got.get("score") == 2 and all(got.get(w) for w in WORKERS) else None
        got = harness.wait_for("two CURVE scorers in containers", workers)
        self.assertEqual({w: got.get(w) for w in WORKERS},
                         {w: 2 if w == "score" else 1 for w in WORKERS})
        test = c["services"]["scorer"]["healthcheck"]["test"]
        self.assertEqual(test[0], "CMD")
        for cid in started["scorer"]:
            r = docker("exec", cid, *test[1:], check=False, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        def get(service, port, path):
            hostport = docker("port", started[service][0], port).stdout.split()[0]
            host, _, p = hostport.rpartition(":")
            self.assertEqual(host, "127.0.0.1")
            try:
                with urllib.request.urlopen("http://127.0.0.1:%s%s" % (p, path),
                                            timeout=30) as r:
                    return r.status, r.read()
            except OSError:
                return None
        self.assertEqual(harness.wait_for("metrics /readyz",
                                          lambda: get("metrics", "9100", "/readyz")),
                         (200, b"ready\n"))
        status, _ = harness.wait_for("webhook /healthz", lambda: get("webhook", "8080", "/healthz"))
        self.assertEqual(status, 200)


if __name__ == "__main__":
    reason = why_not_usable()
    if reason:
        print("SKIPPED (not run): the container image was not built or run: %s. "
              "deploy/check-image starts an engine and makes the base image." % reason)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
