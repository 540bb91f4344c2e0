#!/usr/bin/python3
"""The webhook server's GET /metrics and the per-worker and import metrics (issue 16), with
real processes and real HTTP.

Asserts, next to `handoff run --demo` (which keeps running after its workbook):
- `handoff webhook`'s /metrics (metrics_refresh_ms: 200) parses with prometheus_client and
  serves exactly the families `handoff metrics --once` prints for the same broker and data
  dir (one implementation), plus handoff_metrics_snapshot_age_seconds; handoff_up is 1;
- every pipeline service has per-worker handler series (origin = name@host:pid of a live
  worker process): handled > 0 for ingest and store, a histogram whose buckets never
  decrease and whose +Inf bucket and _count equal handled + errors;
- import metrics by profile equal a SQL aggregate over the store's imports table;
- after the pipeline stops cleanly, its workers' stats files are gone and no
  handoff_worker_handler series is served.
And, against a lone `handoff broker` that is then stopped with SIGSTOP (a stalled broker),
a webhook whose snapshot is refreshed only every 10 minutes still answers /healthz 200 and
/metrics 200 from its snapshot (handoff_up 1: no request thread asked the stalled broker).

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_metrics_webhook.py
"""
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

HO_BIN = os.environ["HO_BIN"]
SRC = os.environ.get("HO_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
WORKERS = ["ingest", "store", "score", "route", "feedback", "report", "outbox"]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def parse(text):
    out, fams = {}, set()
    for fam in text_string_to_metric_families(text):
        fams.add(fam.name)
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out, fams


class WebhookMetricsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-whm-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.data = os.path.join(self.dir, "data")
        self.cfg = os.path.join(self.dir, "cfg")
        shutil.copytree(os.path.join(SRC, "deploy"), self.cfg)
        conf = os.path.join(self.cfg, "handoff.yaml")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(re.sub(r"(?m)^data_dir:.*$", "data_dir: %s" % self.data, text))
        self.conf = conf
        self.procs = []
        self.addCleanup(self.kill_all)

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()
            p.stdout.close()

    def spawn(self, args, until):
        p = subprocess.Popen([HO_BIN] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
        self.procs.append(p)
        for line in p.stdout:
            if line.startswith(until):
                return p, line
        self.fail("%s ended before printing %r" % (args[0], until))

    def webhook(self, endpoint, refresh_ms):
        settings = os.path.join(self.dir, "webhook-%d.yaml" % refresh_ms)
        with open(os.path.join(self.cfg, "webhook.yaml")) as f:
            text = f.read()
        with open(settings, "w") as f:
            f.write(re.sub(r"(?m)^metrics_refresh_ms:.*$", "metrics_refresh_ms: %d" % refresh_ms,
                           text))
        p, line = self.spawn(["webhook", "-c", self.conf, "--settings", settings, "--listen",
                              "127.0.0.1:0", "--connect", endpoint], "webhook listening=")
        port = int(re.search(r"listening=\S+:(\d+)", line).group(1))
        return p, "http://127.0.0.1:%d" % port

    def scrape_until(self, base, ok):
        """GET /metrics until ok(samples) holds (the snapshot is refreshed in the background)."""
        while True:
            status, text = get(base + "/metrics")
            if status == 200:
                got, fams = parse(text)
                if ok(got):
                    return got, fams, text
            else:
                self.assertEqual(status, 503, text)  # only before the first snapshot

    def test_webhook_metrics_against_a_pipeline(self):
        endpoint = "ipc://%s/broker.ipc" % self.dir
        run, _ = self.spawn(["run", "-c", self.conf, "--demo", "--leads", "60", "--tick", "0",
                             "--endpoint", endpoint, "--data-dir", self.data], "workbook: ")
        hook, base = self.webhook(endpoint, 200)

        def handled(got, service):
            return sum(v for (n, l), v in got.items()
                       if n == "handoff_worker_handler_handled_total"
                       and dict(l)["service"] == service)

        got, fams, text = self.scrape_until(
            base, lambda g: g.get(("handoff_up", frozenset())) == 1
            and handled(g, "store") > 0 and handled(g, "ingest") > 0)
        once = subprocess.run([HO_BIN, "metrics", "--once", "-c", self.conf, "--connect",
                               endpoint, "--data-dir", self.data], capture_output=True,
                              text=True, timeout=120)
        self.assertEqual(once.returncode, 0, once.stderr)
        _, once_fams = parse(once.stdout)
        self.assertEqual(fams - {"handoff_metrics_snapshot_age_seconds"}, once_fams)
        self.assertIn("handoff_metrics_snapshot_age_seconds", text)

        # per worker process: one origin per service, a consistent histogram
        for w in WORKERS:
            origins = {dict(l)["origin"] for (n, l) in got
                       if n == "handoff_worker_handler_handled_total" and dict(l)["service"] == w}
            self.assertEqual(len(origins), 1, (w, origins))
            origin = origins.pop()
            self.assertTrue(origin.startswith(w + "@"), origin)
            lab = {"service": w, "origin": origin}
            h = got[("handoff_worker_handler_handled_total", frozenset(lab.items()))]
            e = got[("handoff_worker_handler_errors_total", frozenset(lab.items()))]
            buckets = sorted(
                (float(dict(l)["le"]), v) for (n, l), v in got.items()
                if n == "handoff_worker_handler_seconds_bucket"
                and {k: x for k, x in l if k != "le"} == lab)
            self.assertGreater(len(buckets), 2)
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), w)
            self.assertEqual(buckets[-1], (float("inf"), h + e))
            self.assertEqual(got[("handoff_worker_handler_seconds_count",
                                  frozenset(lab.items()))], h + e)

        con = sqlite3.connect("file:%s/handoff.db?mode=ro" % self.data, uri=True)
        rows = con.execute("SELECT source, count(*), sum(read), sum(accepted) FROM imports "
                           "GROUP BY source").fetchall()
        con.close()
        self.assertTrue(rows)
        _, text = get(base + "/metrics")
        got, _ = parse(text)  # a later snapshot: imports are finished, the counts are final
        for source, n, read, accepted in rows:
            lab = frozenset({"source": source}.items())
            self.assertEqual(got[("handoff_imports_total", lab)], n, source)
            self.assertEqual(got[("handoff_import_records_read_total", lab)], read, source)
            self.assertEqual(got[("handoff_import_records_accepted_total", lab)], accepted,
                             source)

        self.assertEqual(get(base + "/healthz")[0], 200)
        run.send_signal(signal.SIGTERM)
        self.assertEqual(run.wait(timeout=120), 0)
        self.assertEqual([f for f in os.listdir(os.path.join(self.data, "stats"))
                          if f.endswith(".json")], [])
        got, _, text = self.scrape_until(base, lambda g: g.get(("handoff_up", frozenset())) == 0)
        self.assertNotIn("handoff_worker_handler_handled_total{", text)
        hook.send_signal(signal.SIGTERM)
        self.assertEqual(hook.wait(timeout=60), 0)

    def test_stalled_broker_never_holds_a_request(self):
        endpoint = "ipc://%s/lone.ipc" % self.dir
        broker, _ = self.spawn(["broker", "-c", self.conf, "--bind", endpoint, "--data-dir",
                                self.data], "broker ready")
        hook, base = self.webhook(endpoint, 600000)
        got, _, _ = self.scrape_until(base, lambda g: True)
        self.assertEqual(got[("handoff_up", frozenset())], 1)
        broker.send_signal(signal.SIGSTOP)
        for _ in range(8):  # more than the webhook's request threads
            self.assertEqual(get(base + "/healthz")[0], 200)
            status, text = get(base + "/metrics")
            self.assertEqual(status, 200)
            self.assertEqual(parse(text)[0][("handoff_up", frozenset())], 1)
        broker.send_signal(signal.SIGCONT)
        hook.send_signal(signal.SIGTERM)
        self.assertEqual(hook.wait(timeout=60), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
