#!/bin/bash
# Runs `chainsocks demo` from the source tree: a throwaway network-namespace sandbox with two proxies, a web
# server and REDIRECT rules, showing a connection going through a 2-hop chain. Needs root (namespaces, iptables).
#
#   sudo native-scripts/demo.sh [demo options]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR=$ROOT/target/chainsocks.jar

if [[ $EUID -ne 0 ]]; then
    echo "${0##*/}: the demo creates network namespaces and firewall rules; run it as root (sudo $0)" >&2
    exit 1
fi
if [[ ! -f $JAR ]]; then
    echo "${0##*/}: $JAR does not exist; build it first with: mvn -B -DskipTests package" >&2
    exit 1
fi

cd "$ROOT"
exec "${JAVA:-java}" -jar "$JAR" demo "$@"
