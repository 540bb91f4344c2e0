#!/bin/bash
# bench/valgrind.sh - the broker and every built-in worker under valgrind, through a small real
# pipeline: demo-data -> handoff import (leads + activities) -> ingest -> store -> score ->
# route -> outbox; form submissions posted with curl to `handoff webhook` (good, unsigned,
# malformed, without an email, a sales outcome) -> ingest/feedback -> store; sales feedback
# for the assigned leads -> feedback -> store; a report.request -> report -> outbox; then
# SIGTERM to every process. Each process runs as
#
#     valgrind --leak-check=full --error-exitcode=1 handoff ...
#
# and the script prints one line per process: exit code, valgrind errors, leaked bytes.
# Exit 0 only when every process exited 0 (valgrind turns any error or definite/possible leak
# into exit 1). Not part of ctest: it takes minutes.
#
#     bench/valgrind.sh [HANDOFF_BIN]        (default $HO_BIN, else build/handoff)
#
# Environment: LEADS (demo people, default 300), KEEP=1 keeps the temp folder, BROKER_FIRST=1
# stops the broker before the workers (they lose it and keep reconnecting until SIGTERM),
# VG_EXTRA (more valgrind options, e.g. --track-origins=yes).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(readlink -f "${1:-${HO_BIN:-$SRC/build/handoff}}")
LEADS=${LEADS:-300}
PY=/usr/bin/python3
[ -x "$BIN" ] || { echo "valgrind.sh: no handoff binary at $BIN" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }

T=$(mktemp -d /tmp/ho-valgrind-XXXXXX)
EP="ipc://$T/broker.ipc"
read -r -a VG_MORE <<<"${VG_EXTRA:-}"
# --soname-synonyms: the binary allocates through jemalloc (CMake HO_JEMALLOC); valgrind must
# replace its malloc/free as it does glibc's, or it sees no heap at all.
VG=(valgrind --leak-check=full --error-exitcode=1 --num-callers=30
    --soname-synonyms='somalloc=*jemalloc*' "${VG_MORE[@]}")
declare -A PIDS=()
NAMES=()
WORKERS=(ingest store score route feedback report outbox)

cleanup() { # only the processes this script started and has not reaped yet
    for n in "${!PIDS[@]}"; do
        kill -KILL "${PIDS[$n]}" 2>/dev/null
    done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

die() {
    echo "valgrind.sh: $*" >&2
    for n in "${NAMES[@]}"; do
        echo "--- $n stderr (tail)" >&2
        tail -n 15 "$T/$n.err" >&2
    done
    KEEP=1 # leave the logs for a look
    exit 1
}

# A config folder of our own: the shipped deploy files, an ipc endpoint in the temp folder,
# the data dir in it, and a longer heartbeat (valgrind runs code 20-50x slower).
mkdir -p "$T/conf" "$T/data" "$T/demo"
cp -r "$SRC"/deploy/*.yaml "$SRC"/deploy/reps.csv "$SRC"/deploy/profiles "$T/conf/"
sed -i -e "s|^  endpoint: .*|  endpoint: $EP|" -e "s|^  heartbeat_ms: .*|  heartbeat_ms: 5000|" \
    -e "s|^data_dir: .*|data_dir: $T/data|" "$T/conf/handoff.yaml"
WH_SECRET=vg-form-secret WH_TOKEN=vg-feedback-token
sed -i -e "s|^form_secret: .*|form_secret: $WH_SECRET|" \
    -e "s|^feedback_token: .*|feedback_token: $WH_TOKEN|" "$T/conf/webhook.yaml"
CONF="$T/conf/handoff.yaml"

start() { # name, then the handoff arguments
    local n=$1
    shift
    "${VG[@]}" --log-file="$T/vg-$n.log" "$BIN" "$@" >"$T/$n.out" 2>"$T/$n.err" &
    PIDS[$n]=$!
    NAMES+=("$n")
}

wait_line() { # name, pattern, seconds
    local i
    for ((i = 0; i < $3 * 2; i++)); do
        grep -q "$2" "$T/$1.out" 2>/dev/null && return 0
        kill -0 "${PIDS[$1]}" 2>/dev/null || die "$1 exited before '$2'"
        sleep 0.5
    done
    die "$1: no '$2' after $3 s"
}

# Quiet = every service has nothing queued and nothing in flight, three polls in a row.
wait_quiet() {
    local quiet=0 i
    for ((i = 0; i < 600 && quiet < 3; i++)); do
        if "$BIN" status -c "$CONF" --json -t 10000 2>/dev/null | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
sys.exit(0 if all(v["queued"] == 0 and v["in_flight"] == 0 for v in s["services"]) else 1)'
        then
            quiet=$((quiet + 1))
        else
            quiet=0
        fi
        sleep 1
    done
    [ $quiet -ge 3 ] || die "the pipeline did not go quiet"
}

t0=$(date +%s)
"$BIN" demo-data --out "$T/demo" --leads "$LEADS" --only hubspot,activities >/dev/null ||
    die "demo-data failed"

start broker broker -c "$CONF"
wait_line broker "broker ready" 60
for w in "${WORKERS[@]}"; do
    start "$w" worker "$w" -c "$CONF"
done
for w in "${WORKERS[@]}"; do
    wait_line "$w" "worker ready" 120
done
start webhook webhook -c "$CONF" --listen 127.0.0.1:0
wait_line webhook "webhook listening=" 120
WH_URL=http://$(sed -n 's/^webhook listening=\([^ ]*\).*/\1/p' "$T/webhook.out" | head -n 1)
echo "valgrind.sh: broker + ${#WORKERS[@]} workers + webhook up under valgrind" \
    "($(($(date +%s) - t0)) s)"

# 1. leads and activities; import itself runs under valgrind too
"${VG[@]}" --log-file="$T/vg-import.log" "$BIN" import -c "$CONF" \
    "$T/demo/hubspot_contacts.csv" "$T/demo/activities.csv" >"$T/import.out" 2>"$T/import.err"
IMPORT_RC=$?
[ $IMPORT_RC -le 1 ] || die "import failed (exit $IMPORT_RC): $(tail -n 3 "$T/import.err")"
wait_quiet

# 1b. form webhooks over real HTTP: status codes as webhook.h says (202 accepted, 401 no
# secret, 400 malformed JSON, 422 no email -> quarantine, 202 for a sales outcome, 404)
post() { # expected status, path, body, header...
    local want=$1 path=$2 body=$3 got
    shift 3
    got=$(curl -s -o "$T/curl.body" -w '%{http_code}' --max-time 300 -X POST \
        -H 'Content-Type: application/json' "$@" --data-binary "$body" "$WH_URL$path")
    [ "$got" = "$want" ] || die "POST $path: expected $want, got $got: $(cat "$T/curl.body")"
    WH_POSTS=$((WH_POSTS + 1))
}
WH_POSTS=0
S=(-H "X-Handoff-Secret: $WH_SECRET")
post 202 /webhooks/form '{"submission_id":"vg-1","email":"ada.vg@example.com","first_name":"Ada","company":"Valgrind Ltd","country":"UK"}' "${S[@]}"
post 202 /webhooks/form '{"submission_id":"vg-1","email":"ada.vg@example.com","first_name":"Ada","company":"Valgrind Ltd","country":"UK"}' "${S[@]}"
post 202 /webhooks/form '{"email":"grace.vg@example.org","full_name":"Grace Hopper","created_at":"2026-11-30T10:00:00Z"}' "${S[@]}"
post 401 /webhooks/form '{"email":"mallory.vg@example.com"}' -H "X-Handoff-Secret: wrong"
post 400 /webhooks/form '{"email": "half.vg@example.com", ' "${S[@]}"
post 422 /webhooks/form '{"submission_id":"vg-noemail","first_name":"Nobody"}' "${S[@]}"
post 422 /webhooks/form '{"submission_id":"vg-bad","email":"not-an-address"}' "${S[@]}"
post 202 /feedback '{"feedback_id":"vg-fb-1","email":"ada.vg@example.com","outcome":"accepted","occurred_at":"2026-12-01T09:00:00Z"}' \
    -H "Authorization: Bearer $WH_TOKEN"
post 404 /webhooks/nowhere '{}'
curl -s --max-time 300 "$WH_URL/healthz" | grep -q '"accepting":true' || die "webhook /healthz"
wait_quiet

# 2. sales feedback for the leads the route worker assigned (feedback worker -> store)
"$BIN" demo-data feedback --data-dir "$T/data" --out "$T/demo/feedback.csv" \
    --now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >/dev/null || die "demo-data feedback failed"
"$BIN" import -c "$CONF" --source feedback "$T/demo/feedback.csv" >"$T/feedback-import.out" \
    2>"$T/feedback-import.err" || die "feedback import failed: $(tail -n 3 "$T/feedback-import.err")"
wait_quiet

# 3. a report.request through the broker (a plain Majordomo client), answered by report.ready
"$PY" - "$EP" >"$T/report.out" 2>&1 <<'EOF' || die "report request failed: $(cat "$T/report.out")"
import sys, time, uuid, msgpack, zmq
ep = sys.argv[1]
s = zmq.Context().socket(zmq.DEALER)
s.linger = 0
s.connect(ep)
env = {"v": 1, "type": "report.request", "id": "vg-" + uuid.uuid4().hex, "ts": int(time.time() * 1000),
       "origin": "valgrind.sh", "payload": {"week": "2026-W47", "timezone": "UTC"}}
s.send_multipart([b"", b"MDPC01", b"report", msgpack.packb(env, use_bin_type=True)])
if not s.poll(600000):
    sys.exit("no reply in 600 s")
frames = s.recv_multipart()
types = []
for f in frames[3:]:
    b = msgpack.unpackb(f, raw=False)
    types += [e["type"] for e in (b if isinstance(b, list) else [b])]
print("report reply:", types)
sys.exit(0 if "report.ready" in types else 1)
EOF
# 4. error paths: a report.request for a week that does not exist (quarantined by the worker),
# a stranger's garbage frames (the broker counts protocol errors and goes on)
"$PY" - "$EP" >>"$T/report.out" 2>&1 <<'EOF' || die "error paths failed: $(cat "$T/report.out")"
import sys, time, msgpack, zmq
s = zmq.Context().socket(zmq.DEALER)
s.linger = 0
s.connect(sys.argv[1])
env = {"v": 1, "type": "report.request", "id": "vg-bad-week", "ts": int(time.time() * 1000),
       "origin": "valgrind.sh", "payload": {"week": "2026-W54"}}
s.send_multipart([b"", b"MDPC01", b"report", msgpack.packb(env, use_bin_type=True)])
if not s.poll(600000):
    sys.exit("no reply in 600 s")
frames = s.recv_multipart()
types = [msgpack.unpackb(f, raw=False) for f in frames[3:]]
types = [e["type"] for b in types for e in (b if isinstance(b, list) else [b])]
print("bad week reply:", types)
g = zmq.Context().socket(zmq.DEALER)
g.linger = 0
g.connect(sys.argv[1])
for junk in ([b"\xff" * 7], [b"", b"MDPW01", b"\x09"], [b"", b"MDPC01", b"store", b"\xc1\x00"],
             [b"", b"MDPW01", b"\x01", b"mmi.x"], [b""] * 600):
    g.send_multipart(junk)
time.sleep(1)
sys.exit(0 if types == ["quarantine"] else 1)
EOF
wait_quiet
"$PY" -c 'import openpyxl, sys; print(openpyxl.load_workbook(sys.argv[1]).sheetnames)' \
    "$T/data/reports/handoff-2026-W47.xlsx" >/dev/null || die "the workbook does not open"
# 5. the operator commands that read the same data, under valgrind too
"${VG[@]}" --log-file="$T/vg-status.log" "$BIN" status -c "$CONF" >"$T/status.out" 2>&1
STATUS_RC=$?
"${VG[@]}" --log-file="$T/vg-report-cli.log" "$BIN" report -c "$CONF" --week 2026-W47 -q \
    -o "$T/cli.xlsx" >"$T/report-cli.out" 2>&1
REPORT_CLI_RC=$?

# 6. SIGTERM: the workers, then the broker (or the other way round with BROKER_FIRST=1);
# each must exit 0 with a clean valgrind log
declare -A RC=()
stop() {
    kill -TERM "${PIDS[$1]}" 2>/dev/null
    local i
    for ((i = 0; i < 240; i++)); do
        kill -0 "${PIDS[$1]}" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "${PIDS[$1]}" 2>/dev/null; then
        kill -KILL "${PIDS[$1]}" 2>/dev/null
        echo "valgrind.sh: $1 ignored SIGTERM for 120 s, killed" >&2
    fi
    wait "${PIDS[$1]}"
    RC[$1]=$?
    unset "PIDS[$1]"
}
stop webhook # a client of the broker: first
if [ "${BROKER_FIRST:-0}" = 1 ]; then
    stop broker # the workers lose their broker, retry connecting, then get SIGTERM
    sleep 2
fi
for w in "${WORKERS[@]}"; do
    stop "$w"
done
[ "${BROKER_FIRST:-0}" = 1 ] || stop broker

# Summary: one line per process.
leak() { # log, kind -> bytes
    if grep -q "All heap blocks were freed" "$1"; then
        echo 0
    else
        sed -n "s/.*$2 lost: \([0-9,]*\) bytes.*/\1/p" "$1" | tr -d , | head -n 1
    fi
}
fail=0
printf '%-10s %5s %7s %12s %12s %12s\n' process exit errors definitely indirectly possibly
for n in broker "${WORKERS[@]}" webhook import status report-cli; do
    log="$T/vg-$n.log"
    case $n in
    import) rc=$IMPORT_RC ;;
    status) rc=$STATUS_RC ;;
    report-cli) rc=$REPORT_CLI_RC ;;
    *) rc=${RC[$n]} ;;
    esac
    errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tr -d , | head -n 1)
    printf '%-10s %5s %7s %12s %12s %12s\n' "$n" "$rc" "${errs:-?}" "$(leak "$log" definitely)" \
        "$(leak "$log" indirectly)" "$(leak "$log" possibly)"
    [ "$rc" = 0 ] && [ "${errs:-1}" = 0 ] || fail=1
done
grep -h "^import file=" "$T/import.out" | sed 's/^/  /'
echo "  webhook: $WH_POSTS posts answered as expected (202 x4, 401, 400, 422 x2, 404)"
sed -n 's/^counters /  broker counters /p' "$T/status.out"
echo "valgrind.sh: $([ $fail = 0 ] && echo clean || echo "NOT clean (logs: $T/vg-*.log)") in $(($(date +%s) - t0)) s"
[ $fail = 0 ] || KEEP=1
exit $fail
