#!/usr/bin/python3
"""Did-you-mean for profile names and config keys (issue 16), through the real binary.

Asserts:
- `handoff import FILE --source hubsopt` exits 2 before asking any broker (none runs here)
  with the loader's error and "did you mean --source hubspot?"; a name far from every profile
  gets the error without a guess; a correct --source with --dry-run imports;
- `handoff config check` on a copy of deploy/ with a misspelt key in handoff.yaml
  (broker.endpont), then webhook.yaml (body_limt), then profiles/hubspot.yaml (descripton),
  names the file:line of the bad key and the key it meant; a key far from every known one gets "unknown key" with no guess.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_cli_didyoumean.py
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

HO_BIN = os.environ["HO_BIN"]
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args, cwd=None):
    return subprocess.run([HO_BIN] + list(args), capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def misspell(path, key, wrong):
    """Rename the first `key:` in path to `wrong:`; return its 1-based line number."""
    with open(path) as f:
        lines = f.readlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*%s:" % re.escape(key), line):
            lines[i] = line.replace(key + ":", wrong + ":", 1)
            with open(path, "w") as f:
                f.writelines(lines)
            return i + 1
    raise AssertionError("%s has no key %s" % (path, key))


class DidYouMeanTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-dym-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.cfg = os.path.join(self.dir, "cfg")
        shutil.copytree(os.path.join(SRC, "deploy"), self.cfg)
        self.conf = os.path.join(self.cfg, "handoff.yaml")
        self.csv = os.path.join(self.dir, "leads.csv")
        with open(self.csv, "w") as f:
            f.write("Email,First Name,Last Name,Company Name\nana@acme.example,Ana,Lee,Acme\n")

    def test_profile_name(self):
        # an endpoint nobody listens on: the check must come before any broker request
        r = run("import", self.csv, "--source", "hubsopt", "-c", self.conf,
                "--connect", "ipc://%s/nobody.ipc" % self.dir)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("hubsopt", r.stderr)
        self.assertIn("did you mean --source hubspot?", r.stderr)
        self.assertNotIn("broker", r.stderr)
        r = run("import", self.csv, "--source", "qqqqqqqq", "-c", self.conf)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertNotIn("did you mean", r.stderr)
        r = run("import", self.csv, "--source", "hubspot", "--dry-run", "-c", self.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("did you mean", r.stderr)

    def test_config_keys(self):
        r = run("config", "check", "-c", self.conf)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        bad = {
            "handoff.yaml": ("endpoint", "endpont"),
            "webhook.yaml": ("body_limit", "body_limt"),
            os.path.join("profiles", "hubspot.yaml"): ("description", "descripton"),
        }
        for name, (key, wrong) in bad.items():
            path = os.path.join(self.cfg, name)
            with open(path) as f:
                keep = f.read()
            line = misspell(path, key, wrong)
            r = run("config", "check", "-c", self.conf)
            with open(path, "w") as f:
                f.write(keep)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            out = r.stdout + r.stderr
            want = "%s:%d:" % (path, line)
            hit = [l for l in out.splitlines() if want in l]
            self.assertTrue(hit, "no error at %s in:\n%s" % (want, out))
            self.assertIn("unknown key '%s' (did you mean %s?)" % (wrong, key), hit[0])
        # far from everything: named, no guess
        misspell(os.path.join(self.cfg, "store.yaml"), self.first_key("store.yaml"),
                 "zzqqxxyyww")
        r = run("config", "check", "-c", self.conf)
        line = [l for l in (r.stdout + r.stderr).splitlines() if "zzqqxxyyww" in l]
        self.assertTrue(line, r.stdout + r.stderr)
        self.assertIn("unknown key 'zzqqxxyyww'", line[0])
        self.assertNotIn("did you mean", line[0])

    def first_key(self, name):
        with open(os.path.join(self.cfg, name)) as f:
            for line in f:
                m = re.match(r"([a-z_]+):", line)
                if m:
                    return m.group(1)
        raise AssertionError("no key in " + name)


if __name__ == "__main__":
    unittest.main()
