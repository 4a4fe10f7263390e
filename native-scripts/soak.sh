#!/bin/bash
# Runs the fault and soak suites (src/test/java/dev/chainsocks/e2e/fault) in their long version: the same tests CI
# runs, with more connections, more bytes and longer windows (-Dchainsocks.soak=long). Needs root (network
# namespaces, iptables) and what the e2e tests need (see .ci/run). Builds and packages the jar first.
#
#   sudo native-scripts/soak.sh                    every suite, about 11 minutes on 2 cores
#   sudo native-scripts/soak.sh ReloadSoakE2E      one suite (a class name of that package; a comma list works)
#
# Environment: SOAK_FLAGS="name=-Xopt -Xopt2;name2=..." adds JVM flag sets for the reload soak to measure next
# to the unit's (see docs/testing.md); MVN_OPTS, e.g. "-o" to stay offline.
#
# Every load is bounded in count and time; traffic stays in namespaces the tests create (198.18.0.0/15,
# fd00::/8). The figures of the run are appended to target/fault-figures.txt and printed at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIGURES=$ROOT/target/fault-figures.txt

if [[ $EUID -ne 0 ]]; then
    echo "${0##*/}: the suites create network namespaces and firewall rules; run it as root (sudo $0)" >&2
    exit 1
fi

classes=${1:-'*E2E'}
tests=$(echo "$classes" | tr ',' '\n' | sed 's|^|dev.chainsocks.e2e.fault.|' | paste -sd, -)
cd "$ROOT"
mkdir -p target
before=$(wc -l <"$FIGURES" 2>/dev/null || echo 0)
status=0
# shellcheck disable=SC2086
mvn -B ${MVN_OPTS:-} verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test="$tests" \
    -Dchainsocks.soak=long -Dchainsocks.soak.flags="${SOAK_FLAGS:-}" || status=$?
echo
echo "Figures of this run (also in $FIGURES):"
tail -n +"$((before + 1))" "$FIGURES" 2>/dev/null || echo "(none recorded)"
exit "$status"
