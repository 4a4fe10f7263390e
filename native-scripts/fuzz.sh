#!/bin/bash
# Fuzzes every @FuzzTest target for a while, one target after another (Jazzer fuzzes one target per JVM).
#
#   native-scripts/fuzz.sh [seconds-per-target] [Class#method ...]
#
# Without targets, every @FuzzTest method under src/test/java is fuzzed except AllParsersFuzzTest#anyParser, which
# bundles the same targets for CI's short run. Default: 60 seconds per target.
#
# A finding (an input breaking a target's properties) is written as crash-<sha1> into the target's seed directory,
# src/test/resources/<package>/<Class>Inputs/<method>/, where "mvn test" replays it from then on: fix the code,
# keep the file as the regression seed. The corpus each target grows stays in .cifuzz-corpus/ (not committed) and
# seeds the next run. Logs: target/fuzz/<Class>.<method>.log. Exit status 1 when any target had a finding.
# It runs the test classes compiled when it starts: do not build in the same tree while it runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

seconds=${1:-60}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: ${0##*/} [seconds-per-target] [Class#method ...]" >&2
    exit 2
fi
shift $(($# > 0 ? 1 : 0))

targets=("$@")
if ((${#targets[@]} == 0)); then
    # "@FuzzTest" on one line, the method on the next: "public void name(byte[] input)".
    while IFS= read -r file; do
        class=$(basename "$file" .java)
        [[ $class == AllParsersFuzzTest ]] && continue
        while IFS= read -r method; do
            targets+=("$class#$method")
        done < <(awk '/@FuzzTest/ { getline; if (match($0, /void [A-Za-z0-9_]+\(/))
                                              print substr($0, RSTART + 5, RLENGTH - 6) }' "$file")
    done < <(grep -rl --include='*.java' '@FuzzTest' src/test/java | sort)
fi

mvn -B -q test-compile

# Jazzer leaves a jazzer-java-seeds* directory in the JVM's temporary directory after a run: give the test JVMs one of
# their own, removed at the end.
scratch=$(mktemp -d /tmp/chainsocks-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

mkdir -p target/fuzz
summary=target/fuzz/summary.txt
printf '%-48s %8s %12s %10s  %s\n' target seconds executions exec/s result | tee "$summary"
findings=0
for target in "${targets[@]}"; do
    log=target/fuzz/${target/\#/.}.log
    status=0
    # jazzer.internal.arg.*: libFuzzer flags after Jazzer's own, so -max_total_time overrides the annotation's
    # maxDuration. JUnit's @Timeout would cut the whole session short; Jazzer turns it into libFuzzer's per-input
    # -timeout instead, so JUnit's own timeouts are off here. Coverage guidance also reaches into Jackson's TOML
    # parser, so the configuration target finds its way to valid TOML.
    JAZZER_FUZZ=1 JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:+$JAVA_TOOL_OPTIONS }-Djava.io.tmpdir=$scratch" mvn -B surefire:test \
        -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=true \
        -Djazzer.hooks=true -Djazzer.instrument='dev.chainsocks.**,com.fasterxml.jackson.dataformat.toml.**' \
        -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-max_total_time="$seconds" \
        -Djunit.jupiter.execution.timeout.mode=disabled \
        >"$log" 2>&1 || status=$?
    done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
    runs=$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\1/' <<<"$done_line")
    took=$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\2/' <<<"$done_line")
    written=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/Test unit written to //' || true)
    if [[ -n $written ]]; then
        result="FINDING ${written#"$ROOT"/}"
        findings=$((findings + 1))
        # libFuzzer's line for a finding has no "Done"; its last status line has the count.
        runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
    elif ((status != 0)); then
        result="FAILED (exit $status), see $log"
        findings=$((findings + 1))
    else
        result=ok
    fi
    rate=-
    if [[ -n ${runs:-} && -n ${took:-} && ${took:-0} -gt 0 ]]; then
        rate=$((runs / took))
    fi
    printf '%-48s %8s %12s %10s  %s\n' "$target" "${took:-$seconds}" "${runs:--}" "$rate" "$result" | tee -a "$summary"
done

if ((findings > 0)); then
    echo "${0##*/}: $findings target(s) had findings; the inputs are replayed by mvn test until fixed" >&2
    exit 1
fi
