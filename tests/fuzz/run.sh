#!/bin/sh
# run.sh [SECONDS] - build the libFuzzer targets with clang (ASan + UBSan, library instrumented
# too) and run each for SECONDS (default 120) on a seed corpus: the codec test vectors
# (proto/vectors/*.hex, as binary) for fuzz_msg, the shipped deploy/*.yaml for fuzz_conf,
# deploy/*.csv for fuzz_routing, the CSV fixtures and profiles-shaped exports for fuzz_import,
# and for fuzz_scoring the shipped and test models each joined by a NUL to lead snapshots
# (tests/fuzz/scoring_seeds/), two stored-JSON texts for fuzz_stored_json, and two scores'
# explanations for fuzz_expl (and one for its Handoffs top reason). Prints each
# fuzzer's executions; exits non-zero on a crash
# or on an input slower than HO_FUZZ_TIMEOUT seconds (default 30; the input is left as
# build-fuzz/crash-* or timeout-*).
#
#   tests/fuzz/run.sh 60          # or HO_FUZZ_BUILD=/tmp/bf tests/fuzz/run.sh
#   tests/fuzz/run.sh 60 fuzz_scoring fuzz_import   # only these
set -eu
secs=${1:-120}
[ $# -gt 0 ] && shift
only="$*"
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${HO_FUZZ_BUILD:-$src/build-fuzz}

CC=${CC:-clang} cmake -S "$src" -B "$build" -DHO_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 >/dev/null

corpus=$build/corpus
rm -rf "$corpus"
mkdir -p "$corpus/fuzz_msg" "$corpus/fuzz_conf" "$corpus/fuzz_routing" "$corpus/fuzz_import" \
    "$corpus/fuzz_scoring" "$corpus/fuzz_stored_json" "$corpus/fuzz_expl"
for f in "$src"/proto/vectors/*.hex; do
    tr -d ' \n' <"$f" | xxd -r -p >"$corpus/fuzz_msg/$(basename "$f" .hex).bin"
done
cp "$src"/deploy/*.yaml "$corpus/fuzz_conf/"
cp "$src"/deploy/*.csv "$corpus/fuzz_routing/" 2>/dev/null || true
cp "$src"/tests/fixtures/*.csv "$src"/tests/fixtures/*.jsonl "$corpus/fuzz_import/"
# model + NUL + lead: the shipped model and a lead; an empty model (= shipped) and each lead
i=0
for lead in "$src"/tests/fuzz/scoring_seeds/*.json; do
    i=$((i + 1))
    { cat "$src/deploy/scoring.yaml"; printf '\0'; cat "$lead"; } >"$corpus/fuzz_scoring/shipped-$i"
    { printf '\0'; cat "$lead"; } >"$corpus/fuzz_scoring/lead-$i"
done
for model in "$src"/tests/fuzz/scoring_seeds/*.yaml; do
    cp "$model" "$corpus/fuzz_scoring/"
done

# the store's own JSON text: what the demo leads' fields and merge trails look like
printf '%s' '{"domain":"acme.se","personal_email":false,"employees":1001,"revenue":474660004.0,"message":"Evaluating.\nNeed SSO, \"enterprise\" tier \u00e9\ud83d\ude00","tags":[1,[],{}],"x":null}' \
    >"$corpus/fuzz_stored_json/fields.json"
printf '%s' '{"_":["hubspot",1000],"title":["salesforce",1500],"phone":["form",-2.5e-3]}' \
    >"$corpus/fuzz_stored_json/trail.json"
# a score's explanation as the scorers write it, and one that jansson must read
printf '%s' '[{"rule":"title","kind":"fit","points":24,"detail":"title"},{"points":-5,"rule":"pricing","kind":"interest","detail":""},{"rule":"fit.ceiling","points":-3}]' \
    >"$corpus/fuzz_expl/scorer.json"
printf '%s' '[{"rule":"caf\u00e9","points":1.5,"detail":{"n":[1e3,null,true]}},{"rule":"x","rule":"y","points":-9223372036854775808}]' \
    >"$corpus/fuzz_expl/other.json"
# what the Handoffs top reason reads too: zero points, a rule that is not a string, more members
printf '%s' '[{"points":0,"rule":"title","detail":"t"},{"last":1795245225000,"n":1,"points":3,"raw":3,"rule":"email_click"},{"rule":7,"points":3,"detail":"d"}]' \
    >"$corpus/fuzz_expl/handoffs.json"

status=0
cd "$build"
for fuzzer in "$build"/fuzz_*; do
    [ -x "$fuzzer" ] || continue
    name=$(basename "$fuzzer")
    if [ -n "$only" ]; then
        case " $only " in *" $name "*) ;; *) continue ;; esac
    fi
    mkdir -p "$corpus/$name"
    log="$build/$name.log"
    if "$fuzzer" -max_total_time="$secs" -timeout="${HO_FUZZ_TIMEOUT:-30}" -print_final_stats=1 \
        "$corpus/$name" >"$log" 2>&1; then
        result=ok
    else
        result=CRASH
        status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    echo "fuzzer=$name seconds=$secs execs=${execs:-?} coverage=${cov:-?} result=$result log=$log"
done
exit $status
