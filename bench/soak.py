#!/usr/bin/python3
"""bench/soak.py - the whole pipeline (`handoff run --webhook`) under a mixed load, with faults.

Load (the generator keeps its own counts of what the pipeline took):
  * imports: every --import-every s a CSV of --leads-per-import new leads (half of them a good
    fit: VP of data engineering, 1500 employees, US, software) and an activities CSV with a
    demo_request for each good-fit lead (so they become MQLs); `handoff import` is retried
    with the same files until it exits 0 (re-imports keep their event ids);
  * webhook POSTs: signed /webhooks/form submissions of new leads, retried until 202;
  * feedback: an `accepted` outcome POSTed to /feedback for every lead the router assigned
    to a rep, retried until 202;
  * report requests: a report.request to the report worker through the broker every 60 s.
Faults: every --kill-every s a random child of `handoff run` (broker, a worker, the webhook
server) gets SIGKILL (run restarts it); once, at --disk-full-at of the run, the data dir (a
tmpfs of --tmpfs-mb MB, mounted by this script: run as root) is filled for --disk-full-s s.
At the end the load stops, the pipeline drains (counts stable), and handoff.db, the outbox
folder and the generator's counts are compared:
  lost            leads taken (import exit 0 / HTTP 202) that are not in the store
  double_counted  extra lead_sources / activities / outcomes rows for one generated record
  unscored        stored leads without a score
  unrouted        MQLs without an assignment
  not_handed_off  assigned MQLs without an outbox packet
  outcomes_lost   outcomes taken (HTTP 202) that are not recorded
All must be 0. lost_in_quarantine / outcomes_lost_in_quarantine say how many of the lost ones
are at least in the quarantine (a worker gave up on them: retries_exhausted, ...). Exit 0 when they are, 1 otherwise.

Run (root; a short check, then the long run):
  nice -n 19 /usr/bin/python3 bench/soak.py --bin build/handoff --minutes 3 --kill-every 20
  nice -n 19 /usr/bin/python3 bench/soak.py --bin build/handoff --minutes 30 --kill-every 30
"""
import argparse
import csv
import datetime
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import msgpack
import zmq

FORM_SECRET = "soak-form-secret"
FEEDBACK_TOKEN = "soak-feedback-token"


def log(msg):
    print("%s soak: %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def now_iso():
    # milliseconds: an outcome sent in the same second the lead was created must not be dated
    # before it (the store rightly refuses that as before_lead_created)
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.leads = {}          # email -> "import" | "webhook" (taken by the pipeline)
        self.good_fit = set()
        self.outcomes = {}       # feedback_id -> email
        self.import_runs = self.import_failures = self.import_given_up = 0
        self.posts = self.post_retries = self.post_given_up = 0
        self.feedback_retries = 0
        self.reports_sent = self.reports_answered = 0
        self.kills = []          # (time, label)
        self.disk_full = []


class Soak:
    def __init__(self, a):
        self.a = a
        self.rnd = random.Random(a.seed)
        self.c = Counts()
        self.stop = threading.Event()
        self.src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.bin = os.path.abspath(a.bin)
        self.work = tempfile.mkdtemp(prefix="ho-soak-")
        self.conf = os.path.join(self.work, "conf")
        self.data = os.path.join(self.work, "data")
        self.gen = os.path.join(self.work, "gen")
        self.run_proc = None
        self.mounted = False

    # ---- setup ----
    def setup(self):
        shutil.copytree(os.path.join(self.src, "deploy"), self.conf,
                        ignore=shutil.ignore_patterns("demo", "test", "*.sh"))
        os.makedirs(self.data)
        os.makedirs(self.gen)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % self.a.tmpfs_mb, "tmpfs",
                        self.data], check=True)
        self.mounted = True
        self.endpoint = "tcp://127.0.0.1:%d" % free_port()
        self.port = free_port()
        with open(os.path.join(self.conf, "handoff.yaml")) as f:
            text = f.read()
        text = text.replace("endpoint: tcp://127.0.0.1:5570", "endpoint: %s" % self.endpoint)
        text = text.replace("data_dir: ./data", "data_dir: %s" % self.data)
        self.config = os.path.join(self.conf, "handoff.yaml")
        with open(self.config, "w") as f:
            f.write(text)
        with open(os.path.join(self.conf, "webhook.yaml"), "w") as f:
            f.write("listen: 127.0.0.1:%d\nform_secret: %s\nfeedback_token: %s\n"
                    "broker_timeout_ms: 10000\nmax_backlog: 200\nretry_after_s: 1\n"
                    % (self.port, json.dumps(FORM_SECRET), json.dumps(FEEDBACK_TOKEN)))

    def start(self):
        self.run_log = open(os.path.join(self.work, "run.log"), "w")
        self.run_proc = subprocess.Popen(
            [self.bin, "run", "-c", self.config, "--webhook", "--tick", "5"],
            stdout=self.run_log, stderr=subprocess.STDOUT,
            env=dict(os.environ, HO_LOG_LEVEL="warn"))
        end = time.time() + 60
        while time.time() < end:
            with open(self.run_log.name, errors="replace") as f:
                if "run ready" in f.read():
                    break
            if self.run_proc.poll() is not None:
                raise SystemExit("handoff run exited: see %s" % self.run_log.name)
            time.sleep(0.2)
        else:
            raise SystemExit("handoff run not ready within 60 s")
        self.wait_http()
        log("pipeline ready (data %s, endpoint %s, webhook :%d)"
            % (self.data, self.endpoint, self.port))

    def wait_http(self):
        end = time.time() + 60
        while time.time() < end:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port,
                                            timeout=5):
                    return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)

    # ---- load ----
    def import_loop(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            leads, acts, emails, good = self.write_batch(i)
            ok = self.import_file(leads, "csv") and self.import_file(acts, "activities")
            with self.c.lock:
                if ok or self.leads_ok:
                    for e in emails:
                        self.c.leads[e] = "import"
                    self.c.good_fit.update(good)
                else:
                    self.c.import_given_up += 1
            self.stop.wait(self.a.import_every)

    def write_batch(self, i):
        leads = os.path.join(self.gen, "leads-%05d.csv" % i)
        acts = os.path.join(self.gen, "activities-%05d.csv" % i)
        emails, good = [], []
        with open(leads, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["email", "first_name", "last_name", "company", "title", "phone",
                        "industry", "employees", "country", "state"])
            for j in range(self.a.leads_per_import):
                email = "soak-%05d-%04d@company%03d.example" % (i, j, j % 200)
                fit = j % 2 == 0
                w.writerow([email, "Pat%d" % j, "Soak%05d" % i, "Company %03d" % (j % 200),
                            "VP Data Engineering" if fit else "Marketing Assistant",
                            "+1 555 %03d %04d" % (i % 1000, j),
                            "Software" if fit else "Education", 1500 if fit else 5, "US",
                            "NY"])
                emails.append(email)
                if fit:
                    good.append(email)
        with open(acts, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["activity_id", "email", "activity_type", "activity_date", "url",
                        "source_system"])
            for k, email in enumerate(good):
                w.writerow(["A-%05d-%04d" % (i, k), email, "demo_request", now_iso(),
                            "https://northwind.example/demo", "soak"])
        return leads, acts, emails, good

    def import_file(self, path, source):
        self.leads_ok = False
        for attempt in range(30):
            if self.stop.is_set() and attempt > 0 and not self.draining_imports:
                break
            with self.c.lock:
                self.c.import_runs += 1
            try:
                p = subprocess.run([self.bin, "import", "-c", self.config, "--source", source,
                                    path], capture_output=True, text=True, timeout=300)
                rc = p.returncode
            except subprocess.TimeoutExpired:
                rc = -1
            if rc == 0:
                if source == "csv":
                    self.leads_ok = True
                return True
            with self.c.lock:
                self.c.import_failures += 1
            time.sleep(2)
        return False

    def post(self, path, body, headers, tries=60):
        data = json.dumps(body).encode()
        for attempt in range(tries):
            req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data,
                                         method="POST", headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    if r.status == 202:
                        return True
            except urllib.error.HTTPError as e:
                if e.code in (400, 401, 404, 413, 422):
                    log("%s refused %d: %s" % (path, e.code, e.read()[:200]))
                    return False
            except (OSError, urllib.error.URLError):
                pass
            with self.c.lock:
                if path == "/feedback":
                    self.c.feedback_retries += 1
                else:
                    self.c.post_retries += 1
            time.sleep(min(5, 0.2 * (attempt + 1)))
        return False

    def webhook_loop(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            email = "wh-%06d@webco%02d.example" % (n, n % 30)
            fit = n % 3 == 0
            body = {"submission_id": "soak-%06d" % n, "email": email, "first_name": "Web%d" % n,
                    "last_name": "Hook", "company": "Webco %02d" % (n % 30),
                    "job_title": "Head of Data Platform" if fit else "Student",
                    "country": "US", "employees": 2000 if fit else 3,
                    "phone": "+1 555 777 %04d" % (n % 10000)}
            with self.c.lock:
                self.c.posts += 1
            if self.post("/webhooks/form", body, {"Content-Type": "application/json",
                                                   "X-Handoff-Secret": FORM_SECRET}):
                with self.c.lock:
                    self.c.leads[email] = "webhook"
            else:
                with self.c.lock:
                    self.c.post_given_up += 1
            self.stop.wait(self.a.post_every)

    def db(self):
        path = os.path.join(self.data, "handoff.db")
        return sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)

    def feedback_loop(self):
        sent = set()
        while not self.stop.is_set():
            self.stop.wait(3)
            try:
                con = self.db()
                rows = con.execute("SELECT l.email, a.rep_id FROM assignments a JOIN leads l"
                                   " ON l.id = a.lead_id WHERE a.rep_id IS NOT NULL"
                                   " AND l.email LIKE 'soak-%'").fetchall()
                con.close()
            except sqlite3.Error:
                continue
            for email, rep in rows:
                if email in sent or self.stop.is_set():
                    continue
                sent.add(email)
                fid = "FB-" + email
                body = {"feedback_id": fid, "email": email, "rep_id": rep,
                        "outcome": "accepted", "occurred_at": now_iso()}
                if self.post("/feedback", body, {"Content-Type": "application/json",
                                                 "Authorization": "Bearer " + FEEDBACK_TOKEN}):
                    with self.c.lock:
                        self.c.outcomes[fid] = email

    def report_loop(self):
        ctx = zmq.Context()
        n = 0
        while not self.stop.wait(60):
            n += 1
            sock = ctx.socket(zmq.DEALER)
            sock.linger = 0
            sock.connect(self.endpoint)
            env = {"v": 1, "type": "report.request", "id": "soak-report-%d-%d" % (os.getpid(), n),
                   "ts": int(time.time() * 1000), "origin": "soak", "payload": {}}
            sock.send_multipart([b"", b"MDPC01", b"report", msgpack.packb(env)])
            with self.c.lock:
                self.c.reports_sent += 1
            if sock.poll(60000):
                sock.recv_multipart()
                with self.c.lock:
                    self.c.reports_answered += 1
            sock.close()
        ctx.term()

    # ---- faults ----
    def children(self):
        pid = self.run_proc.pid
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def label(self, pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
            return " ".join(a.decode() for a in args[1:3])
        except OSError:
            return "?"

    def fault_loop(self, t0):
        disk_at = t0 + self.a.minutes * 60 * self.a.disk_full_at
        disk_done = self.a.disk_full_s <= 0
        next_kill = time.time() + self.a.kill_every
        while not self.stop.wait(0.5):
            now = time.time()
            if not disk_done and now >= disk_at:
                disk_done = True
                self.fill_disk()
            if self.a.kill_every > 0 and now >= next_kill:
                next_kill = now + self.a.kill_every
                kids = self.children()
                if kids:
                    pid = self.rnd.choice(kids)
                    what = self.label(pid)
                    try:
                        os.kill(pid, signal.SIGKILL)
                        with self.c.lock:
                            self.c.kills.append((time.strftime("%H:%M:%S"), what))
                        log("SIGKILL pid %d (%s)" % (pid, what))
                    except OSError:
                        pass

    def fill_disk(self):
        fill = os.path.join(self.data, ".soak-fill")
        st = os.statvfs(self.data)
        free = st.f_bavail * st.f_frsize
        log("disk full: filling %d MB of %s for %d s" % (free >> 20, self.data,
                                                         self.a.disk_full_s))
        fd = os.open(fill, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (1 << 20, 4096, 512):  # until nothing fits, then the last bytes
                chunk = b"\0" * size
                try:
                    while True:
                        os.write(fd, chunk)
                except OSError:
                    pass
            with self.c.lock:
                self.c.disk_full.append((time.strftime("%H:%M:%S"), free >> 20))
            time.sleep(self.a.disk_full_s)  # also when the load stops meanwhile
        finally:
            os.close(fd)
            os.remove(fill)
        log("disk full: space given back")

    # ---- end ----
    def snapshot(self):
        try:
            con = self.db()
            row = con.execute(
                "SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM scores),"
                " (SELECT count(*) FROM assignments), (SELECT count(*) FROM outcomes),"
                " (SELECT count(*) FROM activities), (SELECT count(*) FROM quarantine)"
            ).fetchone()
            con.close()
        except sqlite3.Error:
            return None
        return row + (self.packet_count(),)

    def packet_count(self):
        n = 0
        for _, _, files in os.walk(os.path.join(self.data, "outbox")):
            n += sum(1 for f in files if f.endswith(".json"))
        return n

    def broker_busy(self):
        """Requests queued or in flight in the broker (mmi.status), or None (no answer): a
        worker that run restarts after a backoff leaves its queue full meanwhile."""
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(self.endpoint)
        sock.send_multipart([b"", b"MDPC01", b"mmi.status", b""])
        busy = None
        if sock.poll(10000):
            for frame in sock.recv_multipart()[3:]:
                env = msgpack.unpackb(frame, raw=False)
                for e in env if isinstance(env, list) else [env]:
                    if isinstance(e, dict) and e.get("type") == "status":
                        busy = sum(svc.get("queued", 0) + svc.get("in_flight", 0)
                                   for svc in e["payload"]["services"])
        sock.close()
        ctx.term()
        return busy

    def drain(self):
        """Until the broker holds nothing and the counts stayed the same for 30 s."""
        log("load stopped; waiting for the pipeline to drain")
        last, same, end = None, 0, time.time() + self.a.drain_max
        busy = None
        while time.time() < end and same < 6:
            time.sleep(5)
            snap = self.snapshot()
            busy = self.broker_busy()
            same = same + 1 if snap is not None and snap == last and busy == 0 else 0
            last = snap
        log("drained=%s broker_requests=%s leads, scores, assignments, outcomes, activities, "
            "quarantine, packets = %s" % (same >= 6, busy, last))
        self.drained = same >= 6

    def check(self):
        con = self.db()
        leads = {}
        for email, lid, scored, mql in con.execute(
                "SELECT email, id, scored_at, first_mql_at FROM leads"):
            leads[email] = (lid, scored, mql)
        sources = dict(con.execute("SELECT lead_id, count(*) FROM lead_sources GROUP BY lead_id"))
        acts = dict(con.execute("SELECT lead_id, count(*) FROM activities GROUP BY lead_id"))
        assigned = {r[0]: r[1] for r in con.execute(
            "SELECT lead_id, count(*) FROM assignments GROUP BY lead_id")}
        outcomes = dict(con.execute(
            "SELECT feedback_id, count(*) FROM outcomes WHERE feedback_id LIKE 'FB-%'"
            " GROUP BY feedback_id"))
        quarantine = con.execute("SELECT code, count(*) FROM quarantine GROUP BY code").fetchall()
        quarantined_text = "\n".join(r[0] for r in con.execute(
            "SELECT lower(raw_json) FROM quarantine WHERE raw_json IS NOT NULL"))
        dead = con.execute("SELECT count(*) FROM quarantine WHERE code LIKE '%dead%'"
                           " OR stage = 'broker'").fetchone()[0]
        con.close()
        packets = set()
        for _, _, files in os.walk(os.path.join(self.data, "outbox")):
            for f in files:
                if f.endswith(".json") and f.split("-", 1)[0].isdigit():
                    packets.add(int(f.split("-", 1)[0]))
        c = self.c
        lost = [e for e in c.leads if e not in leads]
        double = 0
        mqls = unscored = unrouted = not_handed = 0
        for email in c.leads:
            if email not in leads:
                continue
            lid, scored, mql = leads[email]
            double += max(0, sources.get(lid, 0) - 1)
            if email in c.good_fit:
                double += max(0, acts.get(lid, 0) - 1)
            if scored is None:
                unscored += 1
            if mql is not None:
                mqls += 1
                if lid not in assigned:
                    unrouted += 1
                elif lid not in packets:
                    not_handed += 1
        double += sum(max(0, n - 1) for n in outcomes.values())
        outcomes_lost = [f for f in c.outcomes if f not in outcomes]
        # where the lost ones are: in the quarantine (a worker gave up on them), or nowhere
        lost_q = sum(1 for e in lost if e in quarantined_text)
        outcomes_lost_q = sum(1 for f in outcomes_lost if c.outcomes[f] in quarantined_text)
        r = {
            "minutes": self.a.minutes,
            "faults_injected": len(c.kills) + len(c.disk_full),
            "kills": len(c.kills),
            "disk_full": len(c.disk_full),
            "records_in": len(c.leads) + len(c.outcomes),
            "leads_in": len(c.leads),
            "leads_imported": sum(1 for v in c.leads.values() if v == "import"),
            "leads_posted": sum(1 for v in c.leads.values() if v == "webhook"),
            "outcomes_in": len(c.outcomes),
            "mqls": mqls,
            "lost": len(lost),
            "double_counted": double,
            "unscored": unscored,
            "unrouted": unrouted,
            "not_handed_off": not_handed,
            "outcomes_lost": len(outcomes_lost),
            "lost_in_quarantine": lost_q,
            "outcomes_lost_in_quarantine": outcomes_lost_q,
            "import_runs": c.import_runs,
            "import_failures": c.import_failures,
            "imports_given_up": c.import_given_up,
            "posts": c.posts,
            "post_retries": c.post_retries,
            "posts_given_up": c.post_given_up,
            "feedback_retries": c.feedback_retries,
            "reports_sent": c.reports_sent,
            "reports_answered": c.reports_answered,
            "dead_letters": dead,
            "drained": int(self.drained),
        }
        print("soak " + " ".join("%s=%s" % kv for kv in r.items()))
        for t, what in c.kills:
            print("soak fault at=%s kill=\"%s\"" % (t, what))
        for t, mb in c.disk_full:
            print("soak fault at=%s disk_full_mb=%d seconds=%d" % (t, mb, self.a.disk_full_s))
        for code, n in quarantine:
            print("soak quarantine code=%s count=%d" % (code, n))
        for e in lost[:10]:
            print("soak lost email=%s via=%s" % (e, c.leads[e]))
        for f in outcomes_lost[:10]:
            print("soak outcome_lost feedback_id=%s" % f)
        bad = r["lost"] + r["double_counted"] + r["unscored"] + r["unrouted"] + \
            r["not_handed_off"] + r["outcomes_lost"]
        return 0 if bad == 0 else 1

    def shutdown(self):
        if self.run_proc and self.run_proc.poll() is None:
            self.run_proc.send_signal(signal.SIGTERM)
            try:
                self.run_proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.run_proc.kill()
                self.run_proc.wait()

    def cleanup(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.data])
        if not self.a.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            log("kept %s" % self.work)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="build/handoff")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--kill-every", type=float, default=30, help="seconds; 0 = no kills")
    ap.add_argument("--disk-full-at", type=float, default=0.5, help="fraction of the run")
    ap.add_argument("--disk-full-s", type=float, default=20, help="0 = no full disk")
    ap.add_argument("--tmpfs-mb", type=int, default=1024)
    ap.add_argument("--leads-per-import", type=int, default=200)
    ap.add_argument("--import-every", type=float, default=5)
    ap.add_argument("--post-every", type=float, default=0.25)
    ap.add_argument("--drain-max", type=float, default=600)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--keep", action="store_true", help="keep the work folder (copied data)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("soak: needs root (it mounts a tmpfs for the full-disk fault)")
    s = Soak(a)
    rc = 1
    try:
        s.setup()
        s.start()
        s.draining_imports = False
        t0 = time.time()
        threads = [threading.Thread(target=f, daemon=True) for f in
                   (s.import_loop, s.webhook_loop, s.feedback_loop, s.report_loop)]
        threads.append(threading.Thread(target=s.fault_loop, args=(t0,), daemon=True))
        for t in threads:
            t.start()
        while time.time() < t0 + a.minutes * 60 and s.run_proc.poll() is None:
            time.sleep(1)
        if s.run_proc.poll() is not None:
            log("handoff run exited %s during the soak" % s.run_proc.returncode)
        s.draining_imports = True  # an import in progress still finishes its retries
        s.stop.set()
        for t in threads:
            t.join(timeout=600)
        s.drain()
        rc = s.check()
        if a.keep:
            s.shutdown()
            shutil.copytree(s.data, os.path.join(s.work, "data-copy"),
                            ignore=shutil.ignore_patterns(".soak-fill"))
    finally:
        s.shutdown()
        s.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
