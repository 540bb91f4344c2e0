#!/usr/bin/python3
"""`handoff metrics --listen`: Prometheus metrics, /healthz and /readyz over real HTTP, next to
a real pipeline (`handoff run --demo`, which keeps running after its workbook).

Asserts:
- /metrics parses with prometheus_client's exposition parser, every sample has HELP and TYPE;
  handoff_up is 1; every pipeline service shows its one live worker and the same counts as
  `handoff status --json` (workers, replies); per-worker handled and heartbeat age exist for
  each worker the broker lists; quarantine records by reason equal a SQL count over the
  store's SQLite file; the packet-file count equals the JSON files under data/outbox; the
  database size equals the file's;
- /healthz 200; /readyz 200 when every required service has a worker, 503 naming the one
  without (--require ...,enrich);
- after the pipeline stops: /metrics still 200 with handoff_up 0 and the data-dir metrics,
  /readyz 503 "broker unreachable", /healthz 200; SIGTERM stops the server with exit 0;
- unknown paths 404, POST 405.

Run: HO_BIN=build/handoff /usr/bin/python3 tests/integration/test_metrics.py
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

HO_BIN = os.environ["HO_BIN"]
WORKERS = ["ingest", "store", "score", "route", "feedback", "report", "outbox"]


def get(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def samples(text):
    """{(name, frozenset(labels.items())): value} and {family: type}, parsed by prometheus_client."""
    out, types = {}, {}
    for fam in text_string_to_metric_families(text):
        types[fam.name] = fam.type
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out, types


SELECTOR = re.compile(r"\b(handoff_[a-z0-9_]+)(\{([^}]*)\})?")
MATCHER = re.compile(r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def query_problems(expr, legend, text):
    """What in a PromQL query (and its Grafana legend) names nothing in the scrape `text`:
    metric names (histogram _bucket/_sum/_count included), label matchers (an = value must
    occur on a sample of that metric, a =~ regex must match one), by (...) labels and the
    legend's {{label}}s (those a `by` keeps, else those of the query's metrics)."""
    series = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            series.setdefault(s.name, []).append(s.labels)
    problems, labels = [], set()
    for name, _, body in SELECTOR.findall(expr):
        if name not in series:
            problems.append("no series %s" % name)
            continue
        labels |= {k for lab in series[name] for k in lab}
        for label, op, value in MATCHER.findall(body or ""):
            value = re.sub(r"\\(.)", r"\1", value)
            values = {lab.get(label) for lab in series[name]} - {None}
            if op == "=" and value not in values:
                problems.append('%s{%s="%s"}: served %s' % (name, label, value, sorted(values)))
            elif op == "=~" and not any(re.fullmatch(value, v) for v in values):
                problems.append('%s{%s=~"%s"}: served %s' % (name, label, value, sorted(values)))
            elif not values:
                problems.append("%s has no label %s" % (name, label))
    kept = None
    for group in GROUPING.findall(expr):
        by = {g.strip() for g in group.split(",") if g.strip()}
        problems += ["by (%s): no such label in %s" % (b, expr) for b in by - labels]
        kept = by if kept is None else kept & by
    for want in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend):
        if want not in (kept if kept is not None else labels):
            problems.append("legend {{%s}} not a label of %s" % (want, expr))
    return problems


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ho-metrics-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.data = os.path.join(self.dir, "data")
        self.endpoint = "ipc://%s/broker.ipc" % self.dir
        self.procs = []
        self.addCleanup(self.kill_all)

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
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

    def metrics_server(self, *extra):
        p, line = self.spawn(["metrics", "--listen", "127.0.0.1:0", "--connect", self.endpoint,
                              "--data-dir", self.data] + list(extra), "metrics listening=")
        port = int(line.split()[1].split("=")[1].rsplit(":", 1)[1])
        return p, "http://127.0.0.1:%d" % port

    def test_metrics_health_and_readiness_against_a_pipeline(self):
        run, _ = self.spawn(["run", "--demo", "--leads", "80", "--tick", "0", "--endpoint",
                             self.endpoint, "--data-dir", self.data], "workbook: ")
        server, base = self.metrics_server("--require", ",".join(WORKERS))
        status, ctype, text = get(base + "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        got, types = samples(text)
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name = line.split("{")[0].split(" ")[0]
                family = re.sub(r"_(bucket|sum|count)$", "", name)
                if types.get(family) == "histogram":
                    name = family  # a histogram's samples share its HELP and TYPE
                self.assertIn("# HELP %s " % name, text)
                self.assertIn("# TYPE %s " % name, text)
        self.assertEqual(got[("handoff_up", frozenset())], 1)
        self.assertEqual(types["handoff_broker_dead_letters"], "counter")

        st = json.loads(subprocess.run([HO_BIN, "status", "--connect", self.endpoint, "--json",
                                        "--data-dir", self.data], capture_output=True,
                                       text=True, timeout=60).stdout)
        for s in st["services"]:
            lab = frozenset({"service": s["name"]}.items())
            self.assertEqual(got[("handoff_service_workers", lab)], s["workers"], s["name"])
            # counters only grow between the two reads
            self.assertGreaterEqual(got[("handoff_service_replies_total", lab)], 0)
            self.assertLessEqual(got[("handoff_service_replies_total", lab)], s["replies"])
        for w in WORKERS:
            self.assertEqual(got[("handoff_service_workers", frozenset({"service": w}.items()))], 1)
        self.assertGreater(got[("handoff_service_replies_total",
                                frozenset({"service": "ingest"}.items()))], 0)
        for w in st["workers"]:
            lab = frozenset({"service": w["service"], "worker": w["id"]}.items())
            self.assertIn(("handoff_worker_handled_total", lab), got)
            self.assertGreaterEqual(got[("handoff_worker_heartbeat_age_seconds", lab)], 0)

        import sqlite3
        con = sqlite3.connect("file:%s/handoff.db?mode=ro" % self.data, uri=True)
        rows = con.execute("SELECT code, count(*) FROM quarantine WHERE replayed_at IS NULL "
                           "GROUP BY code").fetchall()
        con.close()
        self.assertTrue(rows)
        for code, n in rows:
            self.assertEqual(got[("handoff_quarantine_records",
                                  frozenset({"reason": code, "state": "open"}.items()))], n)
        files = sum(1 for d, _, fs in os.walk(os.path.join(self.data, "outbox"))
                    for f in fs if f.endswith(".json"))
        self.assertGreater(files, 0)
        self.assertEqual(got[("handoff_outbox_packet_files", frozenset())], files)
        self.assertIn(("handoff_outbox_deliveries", frozenset({"status": "failed"}.items())), got)

        # the shipped dashboard and alert rules use only series this endpoint serves
        src = os.environ.get("HO_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))))
        with open(os.path.join(src, "deploy", "grafana", "handoff-dashboard.json")) as f:
            queries = [(t["expr"], t.get("legendFormat", "")) for p in json.load(f)["panels"]
                       for t in p["targets"]]
        with open(os.path.join(src, "deploy", "prometheus", "alerts.yaml")) as f:
            import yaml
            queries += [(r["expr"], "") for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
        self.assertIn("handoff_worker_handler_seconds_bucket", "".join(e for e, _ in queries))
        self.assertEqual([p for e, l in queries for p in query_problems(e, l, text)], [])
        # and the check sees a typo in each part of a query
        for expr, legend in [
                ("histogram_quantile(0.99, sum by (service, le) "
                 "(rate(handoff_worker_handler_second_bucket[5m])))", ""),
                ('handoff_quarantine_records{state="opem"}', ""),
                ('handoff_file_bytes{file=~"broker\\\\.jornal"}', ""),
                ("sum by (sevice) (rate(handoff_worker_handler_handled_total[5m]))", ""),
                ("sum by (service) (rate(handoff_worker_handler_handled_total[5m]))",
                 "{{origin}}"),
                ("handoff_outbox_deliveries", "{{stauts}}")]:
            self.assertNotEqual(query_problems(expr, legend, text), [], (expr, legend))

        self.assertEqual(get(base + "/healthz")[0], 200)
        self.assertEqual(get(base + "/readyz")[:3:2], (200, "ready\n"))
        self.assertEqual(get(base + "/nope")[0], 404)
        self.assertEqual(get(base + "/metrics", "POST")[0], 405)
        strict, strict_base = self.metrics_server("--require", "store,enrich")
        self.assertEqual(get(strict_base + "/readyz")[:3:2], (503, "no worker for: enrich\n"))

        run.send_signal(signal.SIGTERM)
        self.assertEqual(run.wait(timeout=120), 0)
        status, _, text = get(base + "/metrics")
        self.assertEqual(status, 200)
        got, _ = samples(text)
        self.assertEqual(got[("handoff_up", frozenset())], 0)
        self.assertEqual(got[("handoff_outbox_packet_files", frozenset())], files)
        self.assertEqual(got[("handoff_file_bytes", frozenset({"file": "handoff.db"}.items()))],
                         os.path.getsize(os.path.join(self.data, "handoff.db")))
        self.assertEqual(get(base + "/readyz")[:3:2], (503, "broker unreachable\n"))
        self.assertEqual(get(base + "/healthz")[0], 200)
        for p in (server, strict):
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=60), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
