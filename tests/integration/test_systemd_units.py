#!/usr/bin/python3
"""deploy/systemd/: the units pass `systemd-analyze verify` without a single warning, carry
the hardening the operations guide promises, and name only workers and man pages that exist.

Asserts:
- handoff-broker.service, handoff-worker@NAME.service for each worker handoff.target wants,
  handoff-webhook.service and handoff.target verify clean (exit 0, no output) with ExecStart
  pointed at the built binary; a copy with a misspelt directive does not (so the check can
  fail);
- every service runs as a dynamic user `handoff` with ProtectSystem=strict,
  ReadWritePaths=/var/lib/handoff, NoNewPrivileges=yes, an empty capability set and a
  restart policy; its data dir is /var/lib/handoff;
- the workers handoff.target wants are exactly the binary's built-in pipeline workers
  (`handoff worker --list`, minus echo), and each Documentation=man: page is generated in
  the build (build/man).

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_systemd_units.py
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HO_BIN = os.path.abspath(os.environ["HO_BIN"])
SRC = os.environ.get("HO_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
UNITS = os.path.join(SRC, "deploy", "systemd")
BUILD = os.path.dirname(HO_BIN)


def unit(name):
    """{section: {key: [values]}} (keys repeat in unit files)."""
    out, section = {}, None
    with open(os.path.join(UNITS, name)) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = out.setdefault(line.strip("[]"), {})
                continue
            k, v = line.split("=", 1)
            section.setdefault(k, []).append(v)
    return out


class SystemdUnitsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-systemd-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def target_workers(self):
        wants = " ".join(unit("handoff.target")["Unit"]["Wants"]).split()
        return [re.match(r"handoff-worker@(\w+)\.service", w).group(1) for w in wants
                if w.startswith("handoff-worker@")]

    def verify(self, names):
        r = subprocess.run(["systemd-analyze", "verify", "--man=no"] +
                           [os.path.join(self.dir, n) for n in names],
                           capture_output=True, text=True, timeout=120)
        return r.returncode, (r.stdout + r.stderr).strip()

    def copy_units(self):
        for path in glob.glob(os.path.join(UNITS, "*")):
            with open(path) as f:
                text = f.read().replace("/usr/bin/handoff", HO_BIN)
            with open(os.path.join(self.dir, os.path.basename(path)), "w") as f:
                f.write(text)
        for w in self.target_workers():
            os.symlink("handoff-worker@.service",
                       os.path.join(self.dir, "handoff-worker@%s.service" % w))

    def test_verify_clean(self):
        self.copy_units()
        names = ["handoff-broker.service", "handoff-webhook.service", "handoff.target"] + [
            "handoff-worker@%s.service" % w for w in self.target_workers()]
        rc, out = self.verify(names)
        self.assertEqual((rc, out), (0, ""))
        with open(os.path.join(self.dir, "handoff-broker.service")) as f:
            text = f.read()
        with open(os.path.join(self.dir, "broken.service"), "w") as f:
            f.write(text.replace("Restart=on-failure", "Restart=sometimes"))
        rc, out = self.verify(["broken.service"])
        self.assertIn("restart specifier", out)

    def test_hardening(self):
        for name in ("handoff-broker.service", "handoff-worker@.service",
                     "handoff-webhook.service"):
            s = unit(name)["Service"]
            for key, want in (("DynamicUser", "yes"), ("User", "handoff"),
                              ("ProtectSystem", "strict"), ("ReadWritePaths", "/var/lib/handoff"),
                              ("NoNewPrivileges", "yes"), ("CapabilityBoundingSet", ""),
                              ("Restart", "on-failure"), ("StateDirectory", "handoff"),
                              ("PrivateTmp", "yes"), ("ProtectHome", "yes")):
                self.assertEqual(s.get(key), [want], (name, key))
            if name != "handoff-webhook.service":
                self.assertIn("--data-dir /var/lib/handoff", s["ExecStart"][0], name)

    def test_workers_and_man_pages_exist(self):
        listed = subprocess.run([HO_BIN, "worker", "--list"], capture_output=True,
                                text=True).stdout.split("\n")
        builtin = [l.split()[0] for l in listed if l.strip()]
        self.assertEqual(sorted(self.target_workers()), sorted(b for b in builtin if b != "echo"))
        for name in ("handoff-broker.service", "handoff-worker@.service",
                     "handoff-webhook.service"):
            for doc in unit(name)["Unit"]["Documentation"][0].split():
                m = re.match(r"man:([\w-]+)\((\d)\)", doc)
                if m:
                    self.assertTrue(os.path.isfile(os.path.join(
                        BUILD, "man", "%s.%s" % m.groups())), doc)


if __name__ == "__main__":
    unittest.main(verbosity=2)
