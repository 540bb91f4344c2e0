#!/usr/bin/python3
"""Every subcommand has --help, and a bad option is an error on stderr with a non-zero exit.

The subcommands are read from `handoff --help` itself, so a new one (say `handoff run`) is
covered as soon as it is listed there; nested commands (dlq list/show/replay, demo-data
feedback, worker NAME for every built-in worker from `handoff worker --list`) too. For each:

  * `--help`  -> exit 0, the usage on stdout (starting "usage: handoff CMD"), nothing on stderr;
  * `--no-such-option` -> exit 2, nothing on stdout, stderr names the option and no crash
    (no signal, no sanitizer report);
and the top level: an unknown command and no command at all are usage errors on stderr.

Every process runs in an empty temp folder with HANDOFF_CONFIG unset and stdin closed, so
nothing can read a config, a database or a broker by accident; a timeout would catch a
command that goes on to do work instead of refusing the option.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HO_BIN = os.environ.get("HO_BIN", "")
KNOWN = {"broker", "worker", "import", "webhook", "status", "lead", "report", "score", "dlq",
         "forget", "keygen", "demo-data", "run", "outbox", "metrics", "config"}
NESTED = [["dlq", "list"], ["dlq", "show"], ["dlq", "replay"], ["demo-data", "feedback"]]
BAD = "--no-such-option"


def run(args, cwd, env):
    return subprocess.run([HO_BIN] + args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30)


def sanitizer_free(text):
    return "Sanitizer" not in text and "runtime error:" not in text


def main():
    assert HO_BIN, "HO_BIN is not set"
    tmp = tempfile.mkdtemp(prefix="ho-cli-help-")
    env = {k: v for k, v in os.environ.items() if k != "HANDOFF_CONFIG"}
    failures = []
    try:
        top = run(["--help"], tmp, env)
        assert top.returncode == 0 and top.stderr == "", (top.returncode, top.stderr)
        cmds = re.findall(r"^  ([a-z][a-z-]*)  ", top.stdout, re.M)
        assert KNOWN <= set(cmds), ("commands missing from handoff --help", KNOWN - set(cmds))
        workers = run(["worker", "--list"], tmp, env)
        assert workers.returncode == 0, workers.stderr
        names = re.findall(r"^  ([a-z][a-z0-9_-]*)  ", workers.stdout, re.M)
        assert {"ingest", "store", "score", "route", "feedback", "report", "outbox"} <= set(
            names), workers.stdout

        every = [[c] for c in cmds] + NESTED + [["worker", n] for n in names]
        for cmd in every:
            what = "handoff " + " ".join(cmd)
            h = run(cmd + ["--help"], tmp, env)
            if h.returncode != 0:
                failures.append("%s --help: exit %d, stderr %r" % (what, h.returncode,
                                                                   h.stderr[:200]))
            elif not h.stdout.startswith("usage: handoff " + cmd[0]):
                failures.append("%s --help: stdout does not start with the usage: %r" % (
                    what, h.stdout[:80]))
            elif h.stderr:
                failures.append("%s --help: wrote to stderr: %r" % (what, h.stderr[:200]))

            b = run(cmd + [BAD], tmp, env)
            if b.returncode != 2:
                failures.append("%s %s: exit %d (want 2), stderr %r" % (what, BAD, b.returncode,
                                                                        b.stderr[:200]))
            if b.stdout:
                failures.append("%s %s: wrote to stdout: %r" % (what, BAD, b.stdout[:200]))
            if BAD not in b.stderr:
                failures.append("%s %s: stderr does not name the option: %r" % (
                    what, BAD, b.stderr[:200]))
            if not sanitizer_free(b.stderr) or not sanitizer_free(h.stderr):
                failures.append("%s: sanitizer report" % what)

        # the top level: an unknown command, and no command at all
        for args, needle in ((["no-such-command"], "no-such-command"), ([], "usage:")):
            r = run(args, tmp, env)
            if r.returncode != 2 or r.stdout or needle not in r.stderr:
                failures.append("handoff %s: exit %d, stdout %r, stderr %r" % (
                    " ".join(args) or "(nothing)", r.returncode, r.stdout[:80], r.stderr[:80]))
        # nothing may have been created by refusing options
        leftovers = os.listdir(tmp)
        if leftovers:
            failures.append("files created while refusing options: %s" % leftovers)

        assert not failures, "\n".join(failures)
        print("test_cli_help: ok (%d commands: --help and %s)" % (len(every), BAD))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
