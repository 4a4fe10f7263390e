#!/usr/bin/env bash
# chainsocks benchmarks: throughput, connection rate and idle memory of the bundled server and the redirector,
# next to Dante and redsocks, in network namespaces this script creates and removes.
#
# Usage (as root, from anywhere in the repository, after `mvn -B -q -o package -DskipTests`):
#
#   sudo native-scripts/benchmarks/run.sh [all|clients|stream|memory|gateway|relay|footprint|clean]
#
#   all      every section below (default), about 24 minutes
#   clients  which load client and source are fast enough not to be the bottleneck (direct loopback)
#   stream   A: one SOCKS5 CONNECT stream: direct vs chainsocks socks-server vs danted, on loopback
#   memory   B: RSS before/after 1000 idle SOCKS5 tunnels: chainsocks socks-server (two JVM settings) vs danted
#   gateway  C: lan -> gw -> wan: chainsocks run vs redsocks in gw, danted upstream in wan; throughput,
#            connections per second, RSS with 1000 idle redirected connections; plus no redirector (routing only)
#   relay    D: the same topology with the C load generator (loadgen.c, compiled here with gcc): chainsocks in each
#            relay mode (splice, copy) vs redsocks vs routing only, interleaved; 1 and 8 streams down, 8 up;
#            connections/s at 50 concurrent with p50/p99 time to first byte; CPU per GB and per 1000 connections
#            of the redirector, the upstream Dante, all benchmark processes and the whole machine; system calls per
#            redirected connection (strace -c -f); a chart of the ratios to redsocks (gnuplot). About 5 minutes
#   footprint E: chainsocks run in gw of the same topology, with the unit's JVM flags (with and without the
#            class-data archive) and with `java -jar` defaults: JVM start to READY=1 (FOOTPRINT_STARTS=5 starts),
#            RSS fresh, with 1000 and 5000 idle redirected connections (each carried a byte both ways) and after
#            they close, live heap and descriptors per connection, and FOOTPRINT_CEILING=9000 connections at once
#            under ulimit -n FOOTPRINT_NOFILE=20000. Needs gcc, jcmd and jstat (the JDK). About 5 minutes
#   clean    remove namespaces left by an interrupted run of this script (csb-*) after stopping their processes
#
# Settings (environment): RUNS=5 (measurements per figure, medians quoted), STREAM_SECONDS=5 (per stream),
# IDLE_CONNECTIONS=1000, CPS_COUNT=5000, CPS_CONCURRENCY=50, WARMUP_CONNECTIONS=8000 (short connections through each
# redirector before measuring), JAR=target/chainsocks.jar, JAVA=java; for the relay section RELAY_STREAM_SECONDS=2,
# RELAY_CPS_COUNT=2000, RELAY_WARMUP_CONNECTIONS=30000, SYSCALL_CONNECTIONS=1000 (connections counted under strace),
# SMALL_JVM_FLAGS (the small-footprint JVM variant, default below), RELAY_JVM_FLAGS (chainsocks' JVM flags in the
# relay section; default: the systemd unit's), NO_DOC=1 to print results without
# updating docs/benchmarks.md, KEEP_WORK=1 to keep the logs and configurations of the run, PROFILE_CONNECTIONS=N
# (relay section) to record each redirector with `perf record -g` over N short connections after the runs and print
# where its CPU went (kernel, JVM, compiled Java), per symbol; needs perf (Debian: linux-perf).
#
# Needs: iproute2 (ip, ss), iptables, /usr/bin/python3, java 17, danted (dante-server), redsocks; socat and ncat
# for the `clients` section only; gcc, strace and gnuplot (Debian: gnuplot-nox; it draws the chart) for the `relay`
# section. Nothing beyond Debian's packages of these is downloaded or installed.
#
# Traffic stays on loopback inside a namespace and on 198.18.0.0/15 addresses inside namespaces. Every load is
# bounded by a count and a deadline (see traffic.py). Processes are stopped by their own PID; namespaces are named
# csb-<role>-<pid of this script> and deleted on exit, also on failure or Ctrl-C.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
TRAFFIC="$HERE/traffic.py"
PY=/usr/bin/python3
JAVA="${JAVA:-java}"
JAR="${JAR:-$REPO/target/chainsocks.jar}"
DOC="$REPO/docs/benchmarks.md"
RUNS="${RUNS:-5}"
STREAM_SECONDS="${STREAM_SECONDS:-5}"
IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-1000}"
CPS_COUNT="${CPS_COUNT:-5000}"
CPS_CONCURRENCY="${CPS_CONCURRENCY:-50}"
WARMUP_CONNECTIONS="${WARMUP_CONNECTIONS:-8000}"
RELAY_STREAM_SECONDS="${RELAY_STREAM_SECONDS:-2}"
RELAY_CPS_COUNT="${RELAY_CPS_COUNT:-2000}"
RELAY_WARMUP_CONNECTIONS="${RELAY_WARMUP_CONNECTIONS:-30000}"
SYSCALL_CONNECTIONS="${SYSCALL_CONNECTIONS:-1000}"
PROFILE_CONNECTIONS="${PROFILE_CONNECTIONS:-0}"
FOOTPRINT_STARTS="${FOOTPRINT_STARTS:-5}"
FOOTPRINT_CEILING="${FOOTPRINT_CEILING:-9000}"
FOOTPRINT_NOFILE="${FOOTPRINT_NOFILE:-20000}"
SMALL_JVM_FLAGS="${SMALL_JVM_FLAGS:--XX:+UseSerialGC -Xmx64m -Xmn4m -Xss256k -XX:TieredStopAtLevel=1}"

WORK="$(mktemp -d /tmp/chainsocks-bench.XXXXXX)"
# The relay section runs chainsocks as it is installed: with the JVM flags of the systemd unit's ExecStart= line,
# which the /usr/bin/chainsocks launcher uses too (RELAY_JVM_FLAGS overrides them; "" means `java -jar` defaults).
# The class-data archive they name is the installed jar's; this run records its own for $JAR (record_class_archive)
# and names that one instead.
ARCHIVE="$WORK/chainsocks.jsa"
UNIT_JVM_FLAGS="$(sed -n 's|^ExecStart=/usr/bin/java \(.*\) -Djffi\.extract\.dir=[^ ]* -jar .*|\1|p' "$REPO/systemd/chainsocks.service" \
    | sed "s|-XX:SharedArchiveFile=[^ ]*|-XX:SharedArchiveFile=$ARCHIVE|")"
UNIT_JVM_FLAGS_NO_ARCHIVE="${UNIT_JVM_FLAGS/ -XX:SharedArchiveFile=$ARCHIVE/}"
RELAY_JVM_FLAGS="${RELAY_JVM_FLAGS-$UNIT_JVM_FLAGS}"
NAMESPACES=()
SECTION_OUT=""

# ---------------------------------------------------------------------------------------------------- plumbing

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

require() {
    local missing=()
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if ((${#missing[@]})); then
        die "missing: ${missing[*]} (Debian: apt-get install -y iproute2 iptables python3 openjdk-17-jre-headless" \
            "dante-server redsocks socat ncat gcc strace gnuplot-nox)"
    fi
}

check_prerequisites() {
    [[ $(id -u) == 0 ]] || die "run as root (network namespaces, iptables)"
    require ip ss iptables "$PY" "$JAVA" danted redsocks
    [[ -f $JAR ]] || die "no $JAR: build it first with: mvn -B -q -o package -DskipTests"
    [[ $UNIT_JVM_FLAGS != "$UNIT_JVM_FLAGS_NO_ARCHIVE" ]] || die "no -XX:SharedArchiveFile= in the unit's ExecStart="
    record_class_archive
    local hard
    hard=$(ulimit -Hn)
    ((hard >= 4 * IDLE_CONNECTIONS + 1000)) || die "open file hard limit $hard is too low for $IDLE_CONNECTIONS connections"
    ulimit -n "$hard"
}

# Records the class-data archive of $JAR at $ARCHIVE with native-scripts/class-archive, the script the install
# step runs, given this run's java, jar and archive paths and the unit's flags.
record_class_archive() {
    sed -e "s|^JAVA=.*|JAVA=$(command -v "$JAVA")|" -e "s|^JAR=.*|JAR=$JAR|" -e "s|^ARCHIVE=.*|ARCHIVE=$ARCHIVE|" \
        -e "s|@JVM_FLAGS@|$UNIT_JVM_FLAGS_NO_ARCHIVE|" "$REPO/native-scripts/class-archive" >"$WORK/class-archive"
    sh "$WORK/class-archive" >"$WORK/class-archive.log" 2>&1 \
        || die "recording the class-data archive failed: $(cat "$WORK/class-archive.log")"
}

new_namespace() { # role; the name in $NS (not in a subshell: NAMESPACES must see it)
    local name="csb-$1-$$"
    ip netns add "$name"
    NAMESPACES+=("$name")
    mkdir -p "/etc/netns/$name"
    printf '127.0.0.1\tlocalhost\n' >"/etc/netns/$name/hosts"
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$name/resolv.conf"
    in_ns "$name" ip link set lo up
    # Many short connections: a wide ephemeral range and TIME_WAIT reuse, so 5 x 5000 connections fit.
    in_ns "$name" sysctl -q -w net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1
    NS=$name
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

stop_pid() { # pid: SIGTERM, up to 10 s, then SIGKILL
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    log "pid $pid ignored SIGTERM, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

delete_namespace() {
    local ns=$1 pids
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do
        [[ -z $(ip netns pids "$ns" 2>/dev/null || true) ]] && break
        sleep 0.1
    done
    for pid in $(ip netns pids "$ns" 2>/dev/null || true); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns delete "$ns" 2>/dev/null || true
    rm -rf "/etc/netns/$ns"
}

cleanup() {
    local ns
    for ns in "${NAMESPACES[@]}"; do delete_namespace "$ns"; done
    NAMESPACES=()
    if [[ ${KEEP_WORK:-0} == 1 ]]; then log "logs and configurations kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a long-running program in a namespace; its PID (the program itself: ip netns exec execs) in $SPAWNED.
spawn() { # ns logname cmd...
    local ns=$1 name=$2; shift 2
    ip netns exec "$ns" "$@" >"$WORK/$name.log" 2>&1 </dev/null &
    SPAWNED=$!
}

wait_port() { # ns port [seconds]
    local ns=$1 port=$2 limit=${3:-30}
    for _ in $(seq $((limit * 10))); do
        [[ -n $(in_ns "$ns" ss -Hltn "sport = :$port") ]] && return 0
        sleep 0.1
    done
    die "nothing listens on port $port in $ns after ${limit}s"
}

median() { "$PY" -c 'import statistics,sys; print("%.1f" % statistics.median(map(float, sys.argv[1:])))' "$@"; }
ratio() { "$PY" -c 'import sys; a,b=map(float,sys.argv[1:]); print("%.2f" % (a/b) if b else "n/a")' "$1" "$2"; }
kib_to_mib() { "$PY" -c 'import sys; print("%.1f" % (float(sys.argv[1])/1024))' "$1"; }

out() { printf '%s\n' "$*" | tee -a "$SECTION_OUT"; }

begin_section() { SECTION_OUT="$WORK/section-$1.md"; : >"$SECTION_OUT"; }

# Replaces the text between <!-- bench:NAME:begin --> and <!-- bench:NAME:end --> in docs/benchmarks.md.
publish_section() { # name
    [[ ${NO_DOC:-0} == 1 ]] && return 0
    [[ -f $DOC ]] || die "$DOC is missing (it holds the markers the results go between)"
    "$PY" - "$DOC" "$1" "$SECTION_OUT" <<'EOF'
import sys
doc, name, section = sys.argv[1:]
begin, end = "<!-- bench:%s:begin -->" % name, "<!-- bench:%s:end -->" % name
text = open(doc).read()
if begin not in text or end not in text:
    sys.exit("markers for %s not found in %s" % (name, doc))
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w").write(head + begin + "\n" + open(section).read() + end + tail)
EOF
}

machine_section() {
    begin_section machine
    out "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    out "- CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    out "- Memory: $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
    out "- Kernel: $(uname -r)"
    out "- Load average when the run started (the machine is shared): $(cut -d' ' -f1-3 /proc/loadavg)"
    out "- Java: $("$JAVA" -version 2>&1 | head -1)"
    out "- Dante: $(danted -v 2>&1 | head -1 | cut -d. -f1-3); redsocks: $(redsocks -v 2>&1 | head -1)"
    out "- Python (load clients): $("$PY" -V)"
    out "- Runs per figure: $RUNS; stream length: ${STREAM_SECONDS}s; idle connections: $IDLE_CONNECTIONS;" \
        "short connections: $CPS_COUNT at $CPS_CONCURRENCY concurrent after $WARMUP_CONNECTIONS to warm up"
    publish_section machine
}

# RSS of a set of processes: "<sum VmRSS KiB> <sum Pss KiB>"
memory_of() {
    local rss=0 pss=0 pid r p
    for pid in "$@"; do
        r=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        p=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
        rss=$((rss + ${r:-0}))
        pss=$((pss + ${p:-0}))
    done
    echo "$rss $pss"
}

# Dante forks: its memory is the mother process plus every danted child in the namespace (only ours are there).
danted_pids() { # ns
    local pid comm
    for pid in $(ip netns pids "$1"); do
        comm=""
        read -r comm <"/proc/$pid/comm" 2>/dev/null || true
        [[ $comm == danted ]] && echo "$pid"
    done
    return 0
}

start_chainsocks() { # ns logname "jvm flags" args...
    local ns=$1 name=$2 flags=$3; shift 3
    mkdir -p "$WORK/jffi" # jffi unpacks its native library here rather than in a possibly noexec /tmp
    # shellcheck disable=SC2086
    spawn "$ns" "$name" "$JAVA" $flags -Djffi.extract.dir="$WORK/jffi" -jar "$JAR" "$@"
}

start_dante() { # ns logname listen-ip port external
    local ns=$1 name=$2 ip=$3 port=$4 external=$5
    cat >"$WORK/$name.conf" <<EOF
logoutput: stderr
internal: $ip port = $port
external: $external
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
  from: 0/0 to: 0/0
  log: error
}
socks pass {
  from: 0/0 to: 0/0
  command: connect
  log: error
}
EOF
    spawn "$ns" "$name" danted -f "$WORK/$name.conf" -p "$WORK/$name.pid"
}

start_redsocks() { # ns logname port upstream-ip upstream-port
    local ns=$1 name=$2 port=$3 uip=$4 uport=$5
    cat >"$WORK/$name.conf" <<EOF
base {
  log_debug = off;
  log_info = on;
  log = stderr;
  daemon = off;
  redirector = iptables;
}
redsocks {
  local_ip = 0.0.0.0;
  local_port = $port;
  ip = $uip;
  port = $uport;
  type = socks5;
}
EOF
    spawn "$ns" "$name" redsocks -c "$WORK/$name.conf"
}

download() { # ns target [proxy] -> "MB/s bytes"
    local ns=$1 to=$2 proxy=${3:-} result args bytes rate
    args=(download --to "$to" --deadline $((STREAM_SECONDS + 30)))
    [[ -n $proxy ]] && args+=(--socks5 "$proxy")
    result=$(in_ns "$ns" "$PY" "$TRAFFIC" "${args[@]}")
    read -r bytes _ rate <<<"$result"
    echo "$rate $bytes"
}

# CPU time (user + system, including reaped children) of processes, in clock ticks.
cpu_ticks() { # one awk for all: under load, a process per PID made a reading take seconds
    (($#)) || { echo 0; return; }
    local files=() pid
    for pid in "$@"; do [[ -r /proc/$pid/stat ]] && files+=("/proc/$pid/stat"); done
    ((${#files[@]})) || { echo 0; return; }
    awk '{ i = index($0, ") "); split(substr($0, i + 2), f, " "); t += f[12] + f[13] + f[14] + f[15] }
         END { print t + 0 }' "${files[@]}" 2>/dev/null || echo 0
}
CLK_TCK=$(getconf CLK_TCK)
cpu_per_gb() { awk -v t="$1" -v b="$2" -v hz="$CLK_TCK" 'BEGIN { if (b > 0) printf "%.0f\n", t / hz * 1000 / (b / 1e9); else print "n/a" }'; }
cpu_per_1000() { awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.0f\n", t / hz * 1000 / (n / 1000); else print "n/a" }'; }

# One measured stream: MB/s into the array named $4, CPU milliseconds per GB of the pids in $5 (words) into array $6.
measured_download() { # ns target proxy-or-empty rates-array "pids" cpu-array
    local ns=$1 to=$2 proxy=$3 pids=$5 before after r
    local -n rates_out=$4 cpu_out=$6
    # shellcheck disable=SC2086
    before=$(cpu_ticks $pids)
    r=$(download "$ns" "$to" "$proxy")
    # shellcheck disable=SC2086
    after=$(cpu_ticks $pids)
    rates_out+=("${r% *}")
    cpu_out+=("$(cpu_per_gb $((after - before)) "${r#* }")")
}

# Opens IDLE_CONNECTIONS connections from ns (optionally through a SOCKS5 proxy), waits until all have done one
# round trip, runs "$@" (the measurement), then lets the holder close them.
while_holding() { # ns target proxy-or-empty -- cmd...
    local ns=$1 to=$2 proxy=$3; shift 4
    local hold_log="$WORK/hold.log" args=(hold --to "$to" --count "$IDLE_CONNECTIONS" --hold 120 --deadline 60)
    [[ -n $proxy ]] && args+=(--socks5 "$proxy")
    : >"$hold_log"
    ip netns exec "$ns" "$PY" "$TRAFFIC" "${args[@]}" >"$hold_log" 2>&1 </dev/null &
    local holder=$!
    for _ in $(seq 600); do
        grep -q '^held' "$hold_log" && break
        kill -0 "$holder" 2>/dev/null || break
        sleep 0.1
    done
    grep -q "^held $IDLE_CONNECTIONS\$" "$hold_log" || { cat "$hold_log" >&2; stop_pid "$holder"; die "could not hold $IDLE_CONNECTIONS connections"; }
    sleep 2
    "$@"
    stop_pid "$holder"
}

warm_up_connections() { # ns target proxy-or-empty: 20 tunnels opened, used once, closed
    local ns=$1 to=$2 proxy=$3
    local args=(hold --to "$to" --count 20 --hold 0 --deadline 30)
    [[ -n $proxy ]] && args+=(--socks5 "$proxy")
    in_ns "$ns" "$PY" "$TRAFFIC" "${args[@]}" >/dev/null
}

# ---------------------------------------------------------------------------------------------------- sections

section_clients() {
    log "clients: which source and client keep up (direct loopback, $RUNS runs each)"
    new_namespace lo; local ns=$NS
    spawn "$ns" source "$PY" "$TRAFFIC" source --listen 127.0.0.1:9000 --seconds "$STREAM_SECONDS"
    local source=$SPAWNED
    spawn "$ns" socat-source socat -u OPEN:/dev/zero TCP-LISTEN:9001,reuseaddr,fork
    local socat_source=$SPAWNED
    start_chainsocks "$ns" chainsocks-server "" socks-server --listen 127.0.0.1:1080
    local server=$SPAWNED
    wait_port "$ns" 9000; wait_port "$ns" 9001; wait_port "$ns" 1080
    download "$ns" 127.0.0.1:9000 127.0.0.1:1080 >/dev/null # JIT warm-up
    local py_py=() socat_py=() socat_socat=() py_via=() ncat_via=() start end bytes r
    for _ in $(seq "$RUNS"); do
        r=$(download "$ns" 127.0.0.1:9000); py_py+=("${r% *}")
        # the socat source never ends: the client stops reading at its deadline and reports the rate so far
        socat_py+=("$(in_ns "$ns" "$PY" "$TRAFFIC" download --to 127.0.0.1:9001 --deadline "$STREAM_SECONDS" | awk '{print $3}')")
        start=$(date +%s.%N)
        bytes=$( (in_ns "$ns" timeout "$STREAM_SECONDS" socat -u TCP:127.0.0.1:9001 STDOUT || true) | wc -c)
        end=$(date +%s.%N)
        socat_socat+=("$("$PY" -c "print('%.1f' % ($bytes / ($end - $start) / 1e6))")")
        r=$(download "$ns" 127.0.0.1:9000 127.0.0.1:1080); py_via+=("${r% *}")
        start=$(date +%s.%N)
        bytes=$(in_ns "$ns" ncat --recv-only --proxy 127.0.0.1:1080 --proxy-type socks5 127.0.0.1 9000 | wc -c)
        end=$(date +%s.%N)
        ncat_via+=("$("$PY" -c "print('%.1f' % ($bytes / ($end - $start) / 1e6))")")
    done
    stop_pid "$server"; stop_pid "$source"; stop_pid "$socat_source"
    delete_namespace "$ns"

    begin_section clients
    out "| Source -> client | Path | MB/s, $RUNS runs | Median MB/s |"
    out "|---|---|---|---:|"
    out "| traffic.py source -> traffic.py download | direct | ${py_py[*]} | $(median "${py_py[@]}") |"
    out "| socat OPEN:/dev/zero -> traffic.py download | direct | ${socat_py[*]} | $(median "${socat_py[@]}") |"
    out "| socat OPEN:/dev/zero -> socat \\| wc -c | direct | ${socat_socat[*]} | $(median "${socat_socat[@]}") |"
    out "| traffic.py source -> traffic.py download --socks5 | chainsocks socks-server | ${py_via[*]} | $(median "${py_via[@]}") |"
    out "| traffic.py source -> ncat --proxy-type socks5 \\| wc -c | chainsocks socks-server | ${ncat_via[*]} | $(median "${ncat_via[@]}") |"
    publish_section clients
}

section_stream() {
    log "A: single SOCKS5 CONNECT stream on loopback, ${STREAM_SECONDS}s x $RUNS rounds"
    new_namespace lo; local ns=$NS
    spawn "$ns" source "$PY" "$TRAFFIC" source --listen 127.0.0.1:9000 --seconds "$STREAM_SECONDS"
    local source=$SPAWNED
    start_chainsocks "$ns" chainsocks-server "" socks-server --listen 127.0.0.1:1080
    local server=$SPAWNED
    start_dante "$ns" dante 127.0.0.1 1081 127.0.0.1
    local dante=$SPAWNED
    wait_port "$ns" 9000; wait_port "$ns" 1080; wait_port "$ns" 1081
    # One stream through each proxy first: the JVM compiles the relay loop during the first second or two.
    download "$ns" 127.0.0.1:9000 127.0.0.1:1080 >/dev/null
    download "$ns" 127.0.0.1:9000 127.0.0.1:1081 >/dev/null
    # shellcheck disable=SC2034 # no proxy on the direct path: no_cpu stays unread
    local direct=() chainsocks=() dante_rates=() no_cpu=() cs_cpu=() dante_cpu=() round
    for round in $(seq "$RUNS"); do
        measured_download "$ns" 127.0.0.1:9000 "" direct "" no_cpu
        measured_download "$ns" 127.0.0.1:9000 127.0.0.1:1080 chainsocks "$server" cs_cpu
        measured_download "$ns" 127.0.0.1:9000 127.0.0.1:1081 dante_rates "$(danted_pids "$ns")" dante_cpu
        log "  round $round: direct ${direct[-1]} chainsocks ${chainsocks[-1]} dante ${dante_rates[-1]} MB/s"
    done
    stop_pid "$server"; stop_pid "$dante"; stop_pid "$source"
    delete_namespace "$ns"

    local md mc mdante
    md=$(median "${direct[@]}"); mc=$(median "${chainsocks[@]}"); mdante=$(median "${dante_rates[@]}")
    begin_section stream
    out "| Path | MB/s, $RUNS runs | Median MB/s | vs direct | vs Dante | Proxy CPU ms per GB, median |"
    out "|---|---|---:|---:|---:|---:|"
    out "| direct loopback (baseline) | ${direct[*]} | $md | 1.00 | $(ratio "$md" "$mdante") | - |"
    out "| chainsocks socks-server | ${chainsocks[*]} | $mc | $(ratio "$mc" "$md") | $(ratio "$mc" "$mdante") | $(median "${cs_cpu[@]}") |"
    out "| danted | ${dante_rates[*]} | $mdante | $(ratio "$mdante" "$md") | 1.00 | $(median "${dante_cpu[@]}") |"
    publish_section stream
}

# One memory run: start the server, 20 warm-up tunnels, RSS, hold IDLE_CONNECTIONS, RSS, stop.
# Sets MEM_RESULT to "before_rss after_rss before_pss after_pss" in KiB (no subshell: it starts processes).
memory_run() { # ns kind(chainsocks|chainsocks-small|dante) port
    local ns=$1 kind=$2 port=$3 pid
    case $kind in
        chainsocks) start_chainsocks "$ns" "mem-$kind" "" socks-server --listen 127.0.0.1:"$port" ;;
        chainsocks-small) start_chainsocks "$ns" "mem-$kind" "$SMALL_JVM_FLAGS" socks-server --listen 127.0.0.1:"$port" ;;
        dante) start_dante "$ns" mem-dante 127.0.0.1 "$port" 127.0.0.1 ;;
    esac
    pid=$SPAWNED
    wait_port "$ns" "$port"
    warm_up_connections "$ns" 127.0.0.1:9100 127.0.0.1:"$port"
    sleep 1
    local pids before after
    if [[ $kind == dante ]]; then pids=$(danted_pids "$ns"); else pids=$pid; fi
    # shellcheck disable=SC2086
    before=$(memory_of $pids)
    local processes=1
    measure() {
        if [[ $kind == dante ]]; then pids=$(danted_pids "$ns"); fi
        # shellcheck disable=SC2086
        after=$(memory_of $pids)
        processes=$(wc -w <<<"$pids")
    }
    while_holding "$ns" 127.0.0.1:9100 127.0.0.1:"$port" -- measure
    stop_pid "$pid"
    MEM_RESULT="${before% *} ${after% *} ${before#* } ${after#* } $processes"
}

memory_table_rows() { # label results-array-name
    local label=$1; local -n rows=$2
    local b=() a=() d=() pb=() pa=() n=() line rb ra rpb rpa procs
    for line in "${rows[@]}"; do
        read -r rb ra rpb rpa procs <<<"$line"
        n+=("$procs")
        b+=("$(kib_to_mib "$rb")"); a+=("$(kib_to_mib "$ra")"); d+=("$(kib_to_mib $((ra - rb)))")
        pb+=("$(kib_to_mib "$rpb")"); pa+=("$(kib_to_mib "$rpa")")
    done
    out "| $label | $(median "${n[@]}" | cut -d. -f1) | $(median "${b[@]}") | $(median "${a[@]}") | ${d[*]} | **$(median "${d[@]}")** | $(median "${pb[@]}") / $(median "${pa[@]}") |"
}

section_memory() {
    log "B: RSS with $IDLE_CONNECTIONS idle SOCKS5 tunnels, $RUNS fresh server starts per variant"
    new_namespace lo; local ns=$NS
    spawn "$ns" echo "$PY" "$TRAFFIC" echo --listen 127.0.0.1:9100
    local sink=$SPAWNED
    wait_port "$ns" 9100
    local default=() small=() dante=() round
    for round in $(seq "$RUNS"); do
        memory_run "$ns" chainsocks 1080; default+=("$MEM_RESULT")
        memory_run "$ns" chainsocks-small 1080; small+=("$MEM_RESULT")
        memory_run "$ns" dante 1081; dante+=("$MEM_RESULT")
        log "  round $round (KiB rss before/after, pss before/after): chainsocks ${default[-1]}; small ${small[-1]}; dante ${dante[-1]}"
    done
    stop_pid "$sink"
    delete_namespace "$ns"

    begin_section memory
    out "| Server | Processes | RSS before, MiB | RSS with $IDLE_CONNECTIONS, MiB | Added MiB, $RUNS runs | Added, median MiB | PSS before / with, MiB |"
    out "|---|---:|---:|---:|---|---:|---:|"
    memory_table_rows "chainsocks socks-server, \`java -jar\` (defaults)" default
    memory_table_rows "chainsocks socks-server, \`java $SMALL_JVM_FLAGS -jar\`" small
    memory_table_rows "danted (mother + all children, summed)" dante
    publish_section memory
}

# lan 198.18.1.2 -- 198.18.1.1 gw 198.19.2.1 -- 198.19.2.2 wan, as the e2e GatewayTopology (IPv4 only here).
LAN=""; GW=""; WAN=""
build_gateway() {
    new_namespace lan; LAN=$NS; new_namespace gw; GW=$NS; new_namespace wan; WAN=$NS
    in_ns "$LAN" ip link add lan0 type veth peer name gw-lan netns "$GW"
    in_ns "$GW" ip link add gw-wan type veth peer name wan0 netns "$WAN"
    in_ns "$LAN" ip addr add 198.18.1.2/24 dev lan0; in_ns "$LAN" ip link set lan0 up
    in_ns "$GW" ip addr add 198.18.1.1/24 dev gw-lan; in_ns "$GW" ip link set gw-lan up
    in_ns "$GW" ip addr add 198.19.2.1/24 dev gw-wan; in_ns "$GW" ip link set gw-wan up
    in_ns "$WAN" ip addr add 198.19.2.2/24 dev wan0; in_ns "$WAN" ip link set wan0 up
    in_ns "$GW" sysctl -q -w net.ipv4.ip_forward=1
    in_ns "$LAN" ip route add default via 198.18.1.1
    in_ns "$WAN" ip route add default via 198.19.2.1
}

redirect_to() { # port, or "none" for plain routing
    in_ns "$GW" iptables -t nat -F PREROUTING
    [[ $1 == none ]] || in_ns "$GW" iptables -t nat -A PREROUTING -i gw-lan -p tcp -j REDIRECT --to-ports "$1"
}

# One short-connection run: conn/s into array $1, CPU ms per 1000 connections of pids $2 into array $3;
# adds failed connections to CPS_FAILED.
CPS_FAILED=0
measured_cps() { # rates-array "pids" cpu-array
    local pids=$2 before after r ok failed rest rate
    local -n cps_out=$1 cps_cpu_out=$3
    # shellcheck disable=SC2086
    before=$(cpu_ticks $pids)
    r=$(in_ns "$LAN" "$PY" "$TRAFFIC" cps --to 198.19.2.2:9100 --count "$CPS_COUNT" --concurrency "$CPS_CONCURRENCY" --deadline 60)
    # shellcheck disable=SC2086
    after=$(cpu_ticks $pids)
    read -r ok failed rest rate <<<"$r"
    : "$rest"
    cps_out+=("$rate")
    cps_cpu_out+=("$(cpu_per_1000 $((after - before)) "$ok")")
    CPS_FAILED=$((CPS_FAILED + failed))
}

gateway_memory_run() { # kind(chainsocks|chainsocks-small|redsocks); result in MEM_RESULT as memory_run
    local kind=$1 port=12345 pid
    case $kind in
        chainsocks) start_chainsocks "$GW" gw"mem-$kind" "" run --listen 0.0.0.0:$port --via socks5://198.19.2.2:1080 ;;
        chainsocks-small) start_chainsocks "$GW" gw"mem-$kind" "$SMALL_JVM_FLAGS" run --listen 0.0.0.0:$port --via socks5://198.19.2.2:1080 ;;
        redsocks) start_redsocks "$GW" gwmem-redsocks $port 198.19.2.2 1080 ;;
    esac
    pid=$SPAWNED
    wait_port "$GW" $port
    redirect_to $port
    warm_up_connections "$LAN" 198.19.2.2:9100 ""
    sleep 1
    local before after
    before=$(memory_of "$pid")
    measure() { after=$(memory_of "$pid"); }
    while_holding "$LAN" 198.19.2.2:9100 "" -- measure
    redirect_to none
    stop_pid "$pid"
    MEM_RESULT="${before% *} ${after% *} ${before#* } ${after#* } 1"
}

section_gateway() {
    log "C: lan -> gw -> wan, redirector in gw, danted in wan"
    build_gateway
    spawn "$WAN" source "$PY" "$TRAFFIC" source --listen 198.19.2.2:9000 --seconds "$STREAM_SECONDS"
    local source=$SPAWNED
    spawn "$WAN" echo "$PY" "$TRAFFIC" echo --listen 198.19.2.2:9100
    local sink=$SPAWNED
    start_dante "$WAN" dante-wan 198.19.2.2 1080 wan0
    local dante_pid=$SPAWNED
    start_chainsocks "$GW" chainsocks-run "" run --listen 0.0.0.0:12345 --via socks5://198.19.2.2:1080
    local chainsocks_pid=$SPAWNED
    start_redsocks "$GW" redsocks 12346 198.19.2.2 1080
    local redsocks_pid=$SPAWNED
    wait_port "$WAN" 9000; wait_port "$WAN" 9100; wait_port "$WAN" 1080
    wait_port "$GW" 12345; wait_port "$GW" 12346

    # Warm-up through each path (JIT for chainsocks, Dante's child processes). The JVM needs several thousand
    # connections before its CPU cost per connection settles (it falls about threefold over the first 10000).
    local port
    for port in 12345 12346; do
        redirect_to $port
        download "$LAN" 198.19.2.2:9000 "" >/dev/null
        in_ns "$LAN" "$PY" "$TRAFFIC" cps --to 198.19.2.2:9100 --count "$WARMUP_CONNECTIONS" --concurrency "$CPS_CONCURRENCY" --deadline 60 >/dev/null
    done

    local t_direct=() t_cs=() t_rs=() c_direct=() c_cs=() c_rs=() round
    # shellcheck disable=SC2034 # the routing baseline has no redirector process: its CPU arrays stay unread
    local tcpu_none=() tcpu_cs=() tcpu_rs=() ccpu_none=() ccpu_cs=() ccpu_rs=()
    for round in $(seq "$RUNS"); do
        redirect_to none; measured_download "$LAN" 198.19.2.2:9000 "" t_direct "" tcpu_none
        redirect_to 12345; measured_download "$LAN" 198.19.2.2:9000 "" t_cs "$chainsocks_pid" tcpu_cs
        redirect_to 12346; measured_download "$LAN" 198.19.2.2:9000 "" t_rs "$redsocks_pid" tcpu_rs
        log "  throughput round $round: routing ${t_direct[-1]} chainsocks ${t_cs[-1]} redsocks ${t_rs[-1]} MB/s"
    done
    for round in $(seq "$RUNS"); do
        redirect_to none; measured_cps c_direct "" ccpu_none
        redirect_to 12345; measured_cps c_cs "$chainsocks_pid" ccpu_cs
        redirect_to 12346; measured_cps c_rs "$redsocks_pid" ccpu_rs
        log "  conn/s round $round: routing ${c_direct[-1]} chainsocks ${c_cs[-1]} redsocks ${c_rs[-1]}"
    done
    redirect_to none
    stop_pid "$chainsocks_pid"; stop_pid "$redsocks_pid"

    local m_cs=() m_small=() m_rs=()
    for round in $(seq "$RUNS"); do
        gateway_memory_run chainsocks; m_cs+=("$MEM_RESULT")
        gateway_memory_run chainsocks-small; m_small+=("$MEM_RESULT")
        gateway_memory_run redsocks; m_rs+=("$MEM_RESULT")
        log "  memory round $round (KiB): chainsocks ${m_cs[-1]}; small ${m_small[-1]}; redsocks ${m_rs[-1]}"
    done
    stop_pid "$dante_pid"; stop_pid "$source"; stop_pid "$sink"
    local ns
    for ns in "$LAN" "$GW" "$WAN"; do delete_namespace "$ns"; done

    local td tc tr cd cc cr
    td=$(median "${t_direct[@]}"); tc=$(median "${t_cs[@]}"); tr=$(median "${t_rs[@]}")
    cd=$(median "${c_direct[@]}"); cc=$(median "${c_cs[@]}"); cr=$(median "${c_rs[@]}")
    begin_section gateway
    out "Single stream, lan client downloading from wan (MB/s):"
    out ""
    out "| Path through gw | MB/s, $RUNS runs | Median MB/s | vs routing | vs redsocks | Redirector CPU ms per GB, median |"
    out "|---|---|---:|---:|---:|---:|"
    out "| routing only, no redirector (baseline) | ${t_direct[*]} | $td | 1.00 | $(ratio "$td" "$tr") | - |"
    out "| REDIRECT -> chainsocks run -> danted | ${t_cs[*]} | $tc | $(ratio "$tc" "$td") | $(ratio "$tc" "$tr") | $(median "${tcpu_cs[@]}") |"
    out "| REDIRECT -> redsocks -> danted | ${t_rs[*]} | $tr | $(ratio "$tr" "$td") | 1.00 | $(median "${tcpu_rs[@]}") |"
    out ""
    out "Short connections, $CPS_COUNT per run, $CPS_CONCURRENCY concurrent (connections per second; failed" \
        "connections over all runs: $CPS_FAILED):"
    out ""
    out "| Path through gw | conn/s, $RUNS runs | Median conn/s | vs routing | vs redsocks | Redirector CPU ms per 1000 connections, median |"
    out "|---|---|---:|---:|---:|---:|"
    out "| routing only, no redirector (baseline) | ${c_direct[*]} | $cd | 1.00 | $(ratio "$cd" "$cr") | - |"
    out "| REDIRECT -> chainsocks run -> danted | ${c_cs[*]} | $cc | $(ratio "$cc" "$cd") | $(ratio "$cc" "$cr") | $(median "${ccpu_cs[@]}") |"
    out "| REDIRECT -> redsocks -> danted | ${c_rs[*]} | $cr | $(ratio "$cr" "$cd") | 1.00 | $(median "${ccpu_rs[@]}") |"
    out ""
    out "Memory of the redirector process with $IDLE_CONNECTIONS idle redirected connections (fresh start each run):"
    out ""
    out "| Redirector | Processes | RSS before, MiB | RSS with $IDLE_CONNECTIONS, MiB | Added MiB, $RUNS runs | Added, median MiB | PSS before / with, MiB |"
    out "|---|---:|---:|---:|---|---:|---:|"
    memory_table_rows "chainsocks run, \`java -jar\` (defaults)" m_cs
    memory_table_rows "chainsocks run, \`java $SMALL_JVM_FLAGS -jar\`" m_small
    memory_table_rows "redsocks" m_rs
    publish_section gateway
}

# ---------------------------------------------------------------------------------------------------- D: relay

LOADGEN=""
build_loadgen() {
    LOADGEN="$WORK/loadgen"
    gcc -O2 -Wall -pthread -o "$LOADGEN" "$HERE/loadgen.c" || die "cannot compile $HERE/loadgen.c"
}

# Busy ticks of the whole machine (all CPUs: everything but idle and iowait), from /proc/stat.
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

# A chainsocks configuration for the gateway with one listener and the given relay mode.
chainsocks_gateway_config() { # file port mode
    cat >"$1" <<EOF
[service]
control-socket = "$WORK/control-$2.sock"

[relay]
mode = "$3"

[[listener]]
listen = "0.0.0.0:$2"
chains = ["wan"]
policy = "strict"

[chain.wan]
hops = ["socks5://198.19.2.2:1080"]
EOF
}

# Results of the relay section: RELAY[variant:metric] is a space-separated list, one value per run.
declare -A RELAY=()
declare -A REDIRECTOR_PID=()
WAN_SERVERS=""
relay_add() { RELAY["$1:$2"]+="$3 "; }
relay_list() { local v=${RELAY["$1:$2"]:-}; echo "${v% }"; }
relay_last() { local v; v=$(relay_list "$1" "$2"); echo "${v##* }"; }
relay_median() { # variant metric
    local values
    values=$(relay_list "$1" "$2")
    [[ -n $values ]] || { echo "-"; return; }
    # shellcheck disable=SC2086
    median $values
}

# Ticks of the redirector, the upstream (Dante, all its processes), the wan servers, and the machine.
relay_ticks() { # variant
    local redirector=${REDIRECTOR_PID[$1]:-}
    # shellcheck disable=SC2046,SC2086
    echo "$(cpu_ticks $redirector) $(cpu_ticks $(danted_pids "$WAN")) $(cpu_ticks $WAN_SERVERS) $(machine_ticks)"
}

# One measured stream run; records MB/s and CPU ms per GB (redirector, upstream, benchmark processes, machine).
relay_streams() { # variant label(down1|down8|up8) streams direction(down|up)
    local variant=$1 label=$2 count=$3 direction=$4 before after result bytes rate client_ms all_ticks
    local r0 d0 s0 m0 r1 d1 s1 m1
    before=$(relay_ticks "$variant")
    if [[ $direction == down ]]; then
        result=$(in_ns "$LAN" "$LOADGEN" download 198.19.2.2:9000 "$count" $((RELAY_STREAM_SECONDS + 20)))
    else
        result=$(in_ns "$LAN" "$LOADGEN" upload 198.19.2.2:9200 "$count" "$RELAY_STREAM_SECONDS" $((RELAY_STREAM_SECONDS + 20)))
    fi
    after=$(relay_ticks "$variant")
    read -r bytes _ rate client_ms <<<"$result"
    read -r r0 d0 s0 m0 <<<"$before"
    read -r r1 d1 s1 m1 <<<"$after"
    relay_add "$variant" "$label" "$rate"
    relay_add "$variant" "$label-redirector" "$(cpu_per_gb $((r1 - r0)) "$bytes")"
    relay_add "$variant" "$label-upstream" "$(cpu_per_gb $((d1 - d0)) "$bytes")"
    all_ticks=$(awk -v t=$((r1 - r0 + d1 - d0 + s1 - s0)) -v ms="${client_ms:-0}" -v hz="$CLK_TCK" \
        'BEGIN { printf "%d\n", t + ms * hz / 1000 + 0.5 }')
    relay_add "$variant" "$label-processes" "$(cpu_per_gb "$all_ticks" "$bytes")"
    relay_add "$variant" "$label-machine" "$(cpu_per_gb $((m1 - m0)) "$bytes")"
}

relay_cps() { # variant
    local variant=$1 before after result ok failed rate p50 p99 r0 d0 s0 m0 r1 d1 s1 m1
    before=$(relay_ticks "$variant")
    result=$(in_ns "$LAN" "$LOADGEN" cps 198.19.2.2:9100 "$RELAY_CPS_COUNT" "$CPS_CONCURRENCY" 60)
    after=$(relay_ticks "$variant")
    read -r ok failed _ rate p50 p99 _ <<<"$result"
    read -r r0 d0 s0 m0 <<<"$before"
    read -r r1 d1 s1 m1 <<<"$after"
    : "$s0" "$s1" "$m0" "$m1"
    relay_add "$variant" cps "$rate"
    relay_add "$variant" p50 "$p50"
    relay_add "$variant" p99 "$p99"
    relay_add "$variant" failed "$failed"
    relay_add "$variant" cps-redirector "$(cpu_per_1000 $((r1 - r0)) "$ok")"
    relay_add "$variant" cps-upstream "$(cpu_per_1000 $((d1 - d0)) "$ok")"
}

# System calls of a redirector per redirected connection: strace -c -f over SYSCALL_CONNECTIONS connections.
# Prints "total name count, name count, ..." (per connection, the 8 most frequent calls).
relay_syscalls() { # pid
    local pid=$1 out="$WORK/strace-$1.txt" tracer
    strace -qq -c -f -p "$pid" -o "$out" &
    tracer=$!
    sleep 2 # strace attaches to every thread first
    in_ns "$LAN" "$LOADGEN" cps 198.19.2.2:9100 "$SYSCALL_CONNECTIONS" "$CPS_CONCURRENCY" 120 >/dev/null
    kill -INT "$tracer"
    wait "$tracer" 2>/dev/null || true
    "$PY" - "$out" "$SYSCALL_CONNECTIONS" <<'PYEOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
calls, total = {}, 0
for line in open(path):
    f = line.split()
    if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
        calls[f[-1]] = int(f[3])
    elif f and f[-1] == "total":
        total = int(f[3])
top = sorted(calls.items(), key=lambda kv: -kv[1])[:8]
print("%.1f %s" % (total / n, ", ".join("%s %.1f" % (k, v / n) for k, v in top)))
PYEOF
}

# Where a redirector's CPU goes over PROFILE_CONNECTIONS short connections: perf record of its process, JIT-compiled
# Java named through the JVM's perf map (jcmd Compiler.perfmap). Prints the top symbols and the shares of the kernel,
# the JVM itself (libjvm: interpreter, compilers, GC) and compiled Java; keeps the report in WORK.
relay_profile() { # variant pid
    local variant=$1 pid=$2 data="$WORK/perf-$1.data" report="$WORK/perf-$1.txt" recorder
    perf record -q -F 1999 -g -p "$pid" -o "$data" 2>/dev/null &
    recorder=$!
    sleep 1
    in_ns "$LAN" "$LOADGEN" cps 198.19.2.2:9100 "$PROFILE_CONNECTIONS" "$CPS_CONCURRENCY" 120 >/dev/null
    kill -INT "$recorder"
    wait "$recorder" 2>/dev/null || true
    if [[ $variant != redsocks ]]; then jcmd "$pid" Compiler.perfmap >/dev/null 2>&1 || true; fi
    perf report -i "$data" --stdio --no-children --sort dso,sym 2>/dev/null | grep -v '^$' >"$report" || true
    # The same with each symbol's callers (Java frames need -XX:+PreserveFramePointer in RELAY_JVM_FLAGS).
    perf report -i "$data" --stdio --no-children --sort dso,sym -G --percent-limit 0.3 2>/dev/null \
        | grep -v '^$' >"${report%.txt}-callers.txt" || true
    log "  profile of $variant over $PROFILE_CONNECTIONS connections ($report):"
    perf report -i "$data" --stdio --no-children --sort dso -g none 2>/dev/null | grep '%' | head -8 | sed 's/^/      /' >&2 || true
    grep -E '^ +[0-9.]+%' "$report" | head -25 | sed 's/^/      /' >&2 || true
    rm -f "/tmp/perf-$pid.map"
}

section_relay() {
    require gcc strace
    [[ ${NO_DOC:-0} == 1 ]] || require gnuplot
    if (( PROFILE_CONNECTIONS > 0 )); then require perf; KEEP_WORK=1; fi
    log "D: lan -> gw -> wan, C load generator: chainsocks splice / copy vs redsocks," \
        "${RELAY_STREAM_SECONDS}s streams x $RUNS rounds"
    RELAY_LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
    RELAY_STARTED=$SECONDS
    build_loadgen
    build_gateway
    spawn "$WAN" lg-source "$LOADGEN" source 198.19.2.2:9000 "$RELAY_STREAM_SECONDS" 1800
    local source=$SPAWNED
    spawn "$WAN" lg-sink "$LOADGEN" sink 198.19.2.2:9200 1800
    local sink=$SPAWNED
    spawn "$WAN" lg-echo "$LOADGEN" echo 198.19.2.2:9100 1800
    local echo_server=$SPAWNED
    WAN_SERVERS="$source $sink $echo_server"
    start_dante "$WAN" dante-wan 198.19.2.2 1080 wan0
    local dante_pid=$SPAWNED
    chainsocks_gateway_config "$WORK/splice.toml" 12345 splice
    chainsocks_gateway_config "$WORK/copy.toml" 12347 copy
    start_chainsocks "$GW" chainsocks-splice "$RELAY_JVM_FLAGS" run --config "$WORK/splice.toml"
    REDIRECTOR_PID[splice]=$SPAWNED
    start_chainsocks "$GW" chainsocks-copy "$RELAY_JVM_FLAGS" run --config "$WORK/copy.toml"
    REDIRECTOR_PID[copy]=$SPAWNED
    start_redsocks "$GW" redsocks 12346 198.19.2.2 1080
    REDIRECTOR_PID[redsocks]=$SPAWNED
    wait_port "$WAN" 9000; wait_port "$WAN" 9100; wait_port "$WAN" 9200; wait_port "$WAN" 1080
    wait_port "$GW" 12345; wait_port "$GW" 12346; wait_port "$GW" 12347

    local -A port=([routing]=none [splice]=12345 [copy]=12347 [redsocks]=12346)
    local variants=(routing splice copy redsocks) variant round
    # Warm-up: the JIT compiles the relay and the connection path; Dante forks its children.
    for variant in splice copy redsocks; do
        redirect_to "${port[$variant]}"
        in_ns "$LAN" "$LOADGEN" download 198.19.2.2:9000 8 30 >/dev/null
        in_ns "$LAN" "$LOADGEN" cps 198.19.2.2:9100 "$RELAY_WARMUP_CONNECTIONS" "$CPS_CONCURRENCY" 60 >/dev/null
    done
    for round in $(seq "$RUNS"); do
        for variant in "${variants[@]}"; do
            redirect_to "${port[$variant]}"
            relay_streams "$variant" down1 1 down
            relay_streams "$variant" down8 8 down
            relay_streams "$variant" up8 8 up
            relay_cps "$variant"
        done
        log "  round $round, 1 stream MB/s: routing $(relay_last routing down1) splice $(relay_last splice down1)" \
            "copy $(relay_last copy down1) redsocks $(relay_last redsocks down1); 8 streams: splice" \
            "$(relay_last splice down8) copy $(relay_last copy down8) redsocks $(relay_last redsocks down8); conn/s:" \
            "splice $(relay_last splice cps) copy $(relay_last copy cps) redsocks $(relay_last redsocks cps)"
    done
    local -A syscalls=()
    for variant in splice copy redsocks; do
        redirect_to "${port[$variant]}"
        syscalls[$variant]=$(relay_syscalls "${REDIRECTOR_PID[$variant]}")
        log "  system calls per connection, $variant: ${syscalls[$variant]}"
    done
    if (( PROFILE_CONNECTIONS > 0 )); then
        for variant in splice copy redsocks; do
            redirect_to "${port[$variant]}"
            relay_profile "$variant" "${REDIRECTOR_PID[$variant]}"
        done
    fi
    redirect_to none
    local -A rss=()
    for variant in splice copy redsocks; do
        rss[$variant]=$(kib_to_mib "$(memory_of "${REDIRECTOR_PID[$variant]}" | cut -d' ' -f1)")
        stop_pid "${REDIRECTOR_PID[$variant]}"
    done
    stop_pid "$dante_pid"; stop_pid "$source"; stop_pid "$sink"; stop_pid "$echo_server"
    local ns
    for ns in "$LAN" "$GW" "$WAN"; do delete_namespace "$ns"; done

    local -A name=([routing]="routing only, no redirector" [splice]="chainsocks run, relay = splice"
        [copy]="chainsocks run, relay = copy" [redsocks]="redsocks")
    local m1 m8 mu mc failed_total
    begin_section relay
    out "Run: $(date -u '+%Y-%m-%d %H:%M UTC'), \`RUNS=$RUNS native-scripts/benchmarks/run.sh relay\`" \
        "(${RELAY_STREAM_SECONDS}s streams), $((SECONDS - RELAY_STARTED)) s; $(nproc) cores" \
        "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), kernel $(uname -r)," \
        "$("$JAVA" -version 2>&1 | head -1), JVM flags \`${RELAY_JVM_FLAGS:-(java -jar defaults)}\`; load average at the start" \
        "(shared machine): $RELAY_LOAD_AT_START; $(gcc --version | head -1)."
    out ""
    out "Throughput, MB/s (medians of $RUNS interleaved runs; the single-stream runs listed):"
    out ""
    out "| Path through gw | 1 stream down, runs | 1 stream | vs redsocks | 8 streams down | vs redsocks | 8 streams up | vs redsocks |"
    out "|---|---|---:|---:|---:|---:|---:|---:|"
    for variant in "${variants[@]}"; do
        m1=$(relay_median "$variant" down1); m8=$(relay_median "$variant" down8); mu=$(relay_median "$variant" up8)
        out "| ${name[$variant]} | $(relay_list "$variant" down1) | $m1 | $(ratio "$m1" "$(relay_median redsocks down1)") |" \
            "$m8 | $(ratio "$m8" "$(relay_median redsocks down8)") | $mu | $(ratio "$mu" "$(relay_median redsocks up8)") |"
    done
    out ""
    out "CPU milliseconds per GB moved (medians): the redirector alone, the upstream Dante (all its processes), all"
    out "benchmark processes (load generator client and servers, Dante, redirector) and the whole machine"
    out "(\`/proc/stat\`, which includes other users of the machine: the noisiest column):"
    out ""
    out "| Path through gw | redirector, 1 stream | redirector, 8 down | redirector, 8 up | Dante, 8 down | processes, 8 down | machine, 8 down | machine, 1 stream |"
    out "|---|---:|---:|---:|---:|---:|---:|---:|"
    for variant in "${variants[@]}"; do
        out "| ${name[$variant]} | $(relay_median "$variant" down1-redirector) | $(relay_median "$variant" down8-redirector) |" \
            "$(relay_median "$variant" up8-redirector) | $(relay_median "$variant" down8-upstream) |" \
            "$(relay_median "$variant" down8-processes) | $(relay_median "$variant" down8-machine) |" \
            "$(relay_median "$variant" down1-machine) |"
    done
    out ""
    out "Short connections, $RELAY_CPS_COUNT per run after $RELAY_WARMUP_CONNECTIONS to warm up, $CPS_CONCURRENCY" \
        "concurrent (connect, 16 bytes echoed, close):"
    out ""
    out "| Path through gw | conn/s, runs | conn/s | vs redsocks | p50 / p99 ms to first byte | redirector CPU ms per 1000 | Dante CPU ms per 1000 | failed |"
    out "|---|---|---:|---:|---:|---:|---:|---:|"
    for variant in "${variants[@]}"; do
        mc=$(relay_median "$variant" cps)
        failed_total=$(relay_list "$variant" failed | tr ' ' '\n' | awk '{s += $1} END {print s + 0}')
        out "| ${name[$variant]} | $(relay_list "$variant" cps) | $mc | $(ratio "$mc" "$(relay_median redsocks cps)") |" \
            "$(relay_median "$variant" p50) / $(relay_median "$variant" p99) | $(relay_median "$variant" cps-redirector) |" \
            "$(relay_median "$variant" cps-upstream) | $failed_total |"
    done
    out ""
    out "System calls per redirected connection (\`strace -c -f -p PID\`, every thread, over $SYSCALL_CONNECTIONS" \
        "connections after the runs above), and RSS at the end:"
    out ""
    out "| Redirector | system calls per connection | most frequent, per connection | RSS at the end, MiB |"
    out "|---|---:|---|---:|"
    for variant in splice copy redsocks; do
        out "| ${name[$variant]} | ${syscalls[$variant]%% *} | ${syscalls[$variant]#* } | ${rss[$variant]} |"
    done
    out ""
    out "![Ratios to redsocks in this run: rates and costs per relay mode](benchmarks-relay.png)"
    if [[ ${NO_DOC:-0} != 1 ]]; then
        relay_chart "$REPO/docs/benchmarks-relay.png" "${syscalls[splice]%% *}" "${syscalls[copy]%% *}" \
            "${syscalls[redsocks]%% *}"
    fi
    publish_section relay
}

# Draws docs/benchmarks-relay.png: each chainsocks relay mode's figures as ratios to redsocks' in the same run,
# rates (higher is better) and costs (lower is better), with redsocks at 1.
relay_chart() { # png syscalls-splice syscalls-copy syscalls-redsocks
    local png=$1 data="$WORK/relay-chart.dat" metric label
    local -a rates=("down1:1 stream down" "down8:8 streams down" "up8:8 streams up" "cps:connections/s")
    local -a costs=("down1-redirector:redirector CPU/GB, 1 stream" "down8-redirector:redirector CPU/GB, 8 down"
        "down8-upstream:Dante CPU/GB, 8 down" "down8-processes:all processes CPU/GB, 8 down"
        "cps-redirector:redirector CPU/1000 conn." "syscalls:system calls/conn.")
    {
        for metric in "${rates[@]}" "${costs[@]}"; do
            label=${metric#*:}; metric=${metric%%:*}
            if [[ $metric == syscalls ]]; then
                printf '"%s" %s %s\n' "$label" "$(ratio "$2" "$4")" "$(ratio "$3" "$4")"
            else
                printf '"%s" %s %s\n' "$label" "$(ratio "$(relay_median splice "$metric")" "$(relay_median redsocks "$metric")")" \
                    "$(ratio "$(relay_median copy "$metric")" "$(relay_median redsocks "$metric")")"
            fi
        done
    } >"$data"
    gnuplot <<EOF
set terminal pngcairo size 1100,460 font "sans,10"
set output "$png"
set multiplot layout 1,2 title "chainsocks vs redsocks, same run ($(date -u '+%Y-%m-%d'), medians of $RUNS): ratio to redsocks = 1"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set grid ytics
set xtics rotate by -25 left
set bmargin 8
set rmargin 8
set key inside top right horizontal opaque box
set offsets 0, 0, graph 0.2, 0
set title "Rates: higher is better"
plot "$data" every ::0::$((${#rates[@]} - 1)) using 2:xtic(1) title "splice", '' every ::0::$((${#rates[@]} - 1)) using 3 title "copy", 1 with lines dashtype 2 lc "black" title "redsocks"
set title "Costs: lower is better"
plot "$data" every ::${#rates[@]} using 2:xtic(1) title "splice", '' every ::${#rates[@]} using 3 title "copy", 1 with lines dashtype 2 lc "black" title "redsocks"
unset multiplot
EOF
}

# ---------------------------------------------------------------------------------------------------- E: footprint

# Prints the time of the first READY=1 on the unix datagram socket PATH (sd_notify), within 60 s.
NOTIFY_RECEIVER='
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
print("bound", flush=True)
deadline = time.time() + 60
try:
    while time.time() < deadline:
        if "READY=1" in s.recv(4096).decode(errors="replace").split("\n"):
            print("%.6f" % time.time())
            break
except socket.timeout:
    pass
'

# Starts chainsocks in a namespace with NOTIFY_SOCKET set and waits for its READY=1 (at most 60 s); its PID in
# $SPAWNED, the seconds from the start of the JVM to READY=1 in $READY_SECONDS ("fail" without READY=1).
start_until_ready() { # ns logname "jvm flags" args...
    local ns=$1 name=$2 flags=$3; shift 3
    local socket="$WORK/notify-$name.sock" out="$WORK/ready-$name" receiver t0
    rm -f "$socket"
    "$PY" -c "$NOTIFY_RECEIVER" "$socket" >"$out" &
    receiver=$!
    for _ in $(seq 100); do grep -q bound "$out" 2>/dev/null && break; sleep 0.05; done
    t0=$(date +%s.%N)
    NOTIFY_SOCKET=$socket start_chainsocks "$ns" "$name" "$flags" "$@"
    wait "$receiver" || true
    READY_SECONDS=$(awk -v t0="$t0" 'NR == 2 { printf "%.3f\n", $1 - t0; found = 1 } END { if (!found) print "fail" }' "$out")
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# Live heap in KiB: a full collection (jcmd GC.run), then the used columns of jstat -gc.
live_heap_kib() {
    jcmd "$1" GC.run >/dev/null 2>&1 || true
    sleep 0.5
    jstat -gc "$1" | awk 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i }
        NR == 2 { printf "%.0f\n", $col["S0U"] + $col["S1U"] + $col["EU"] + $col["OU"] }'
}

# Holds connections from lan through the redirector, each after one byte echoed; the holder's PID in $HOLDER, the
# number held in $HELD. The holder closes them when stopped, or after 10 minutes.
hold_connections() { # count logname
    local count=$1 log="$WORK/$2.log"
    : >"$log"
    ip netns exec "$LAN" "$LOADGEN" hold 198.19.2.2:9100 "$count" 600 120 >"$log" 2>&1 </dev/null &
    HOLDER=$!
    for _ in $(seq 1300); do
        grep -q '^held' "$log" && break
        kill -0 "$HOLDER" 2>/dev/null || break
        sleep 0.1
    done
    HELD=$(awk '/^held/ {print $2}' "$log")
    HELD=${HELD:-0}
}

# Waits (at most 60 s) until the process has closed its connections: fewer than COUNT + 100 descriptors (the
# splice pipes its event loops keep for reuse stay open) and the same number for a second.
wait_fds_down_to() { # pid count
    local last=-1 now
    for _ in $(seq 60); do
        now=$(fd_count "$1")
        ((now < $2 + 100 && now == last)) && return 0
        last=$now
        sleep 1
    done
    return 1
}

# Results: FOOT[variant:metric].
declare -A FOOT=()
# JVM start to READY=1 of each variant, FOOTPRINT_STARTS times, interleaved: one start of each in turn, so that
# whatever else the machine does at the time (the upstream JVM still compiling after its own start, other work)
# falls on all of them alike.
footprint_starts() { # variant=flags...
    local i pair variant
    for i in $(seq "$FOOTPRINT_STARTS"); do
        for pair in "$@"; do
            variant=${pair%%=*}
            start_until_ready "$GW" "fp-$variant-start$i" "${pair#*=}" run --config "$WORK/footprint.toml"
            FOOT[$variant:ready]+="$READY_SECONDS "
            stop_pid "$SPAWNED"
        done
    done
}

footprint_variant() { # variant "jvm flags"
    local variant=$1 flags=$2 pid fresh_fds holders=()
    start_until_ready "$GW" "fp-$variant" "$flags" run --config "$WORK/footprint.toml"
    [[ $READY_SECONDS != fail ]] || die "$variant: no READY=1 within 60 s (log: $WORK/fp-$variant.log)"
    pid=$SPAWNED
    sleep 2
    FOOT[$variant:fresh]=$(rss_kib "$pid")
    FOOT[$variant:heap0]=$(live_heap_kib "$pid")
    # Counted after the first jcmd: the JVM's attach listener keeps a socket open from then on.
    fresh_fds=$(fd_count "$pid")
    FOOT[$variant:fds_fresh]=$fresh_fds
    redirect_to 12345
    hold_connections 1000 "fp-$variant-hold1000"; holders+=("$HOLDER")
    FOOT[$variant:held1000]=$HELD
    sleep 2
    FOOT[$variant:rss1000]=$(rss_kib "$pid")
    hold_connections 4000 "fp-$variant-hold5000"; holders+=("$HOLDER")
    FOOT[$variant:held5000]=$((FOOT[$variant:held1000] + HELD))
    sleep 2
    FOOT[$variant:rss5000]=$(rss_kib "$pid")
    FOOT[$variant:fds5000]=$(fd_count "$pid")
    FOOT[$variant:heap5000]=$(live_heap_kib "$pid")
    for i in "${holders[@]}"; do stop_pid "$i"; done
    wait_fds_down_to "$pid" "$fresh_fds" || log "  $variant: descriptors did not settle near $fresh_fds"
    FOOT[$variant:rss_closed]=$(rss_kib "$pid")
    FOOT[$variant:fds_closed]=$(fd_count "$pid")
    sleep 5
    FOOT[$variant:rss_closed5]=$(rss_kib "$pid")
    # chainsocks asks for full collections every 15 s once the connections have fallen to half their peak
    # (HeapGiveBack), which the serial collector needs to shrink the old generation; 60 s is four of them.
    sleep 55
    FOOT[$variant:rss_closed60]=$(rss_kib "$pid")
    # The heap is given back only by a full collection; the native heap trim (if set) runs every 2 s.
    live_heap_kib "$pid" >/dev/null
    sleep 3
    FOOT[$variant:rss_gc]=$(rss_kib "$pid")
    # The ceiling: FOOTPRINT_CEILING connections at once.
    hold_connections "$FOOTPRINT_CEILING" "fp-$variant-ceiling"
    FOOT[$variant:ceiling]=$HELD
    sleep 1
    FOOT[$variant:ceiling_fds]=$(fd_count "$pid")
    FOOT[$variant:ceiling_rss]=$(rss_kib "$pid")
    stop_pid "$HOLDER"
    wait_fds_down_to "$pid" "$fresh_fds" || true
    redirect_to none
    stop_pid "$pid"
    log "  $variant: ready ${FOOT[$variant:ready]}s; RSS KiB fresh ${FOOT[$variant:fresh]}, 1000 ${FOOT[$variant:rss1000]}," \
        "5000 ${FOOT[$variant:rss5000]}, closed ${FOOT[$variant:rss_closed]}, +5 s ${FOOT[$variant:rss_closed5]}," \
        "after a full collection ${FOOT[$variant:rss_gc]};" \
        "ceiling ${FOOT[$variant:ceiling]} of $FOOTPRINT_CEILING"
}

# Table cells of the footprint section, one function per row: each takes the variant.
fp_mib() { kib_to_mib "$1"; }
fp_per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.2f\n", (b - a) / n; else print "n/a" }'; }
fp_ready_runs() { echo "${FOOT[$1:ready]% }"; }
fp_ready_median() {
    local runs
    runs=$(fp_ready_runs "$1")
    [[ $runs == *fail* ]] && { echo "fail"; return; }
    # shellcheck disable=SC2086
    "$PY" -c 'import statistics,sys; print("%.2f" % statistics.median(map(float, sys.argv[1:])))' $runs
}
fp_rss_fresh() { fp_mib "${FOOT[$1:fresh]}"; }
fp_rss_1000() { echo "$(fp_mib "${FOOT[$1:rss1000]}") (${FOOT[$1:held1000]} held)"; }
fp_rss_5000() { echo "$(fp_mib "${FOOT[$1:rss5000]}") (${FOOT[$1:held5000]} held)"; }
fp_rss_per() { fp_per "${FOOT[$1:fresh]}" "${FOOT[$1:rss5000]}" "${FOOT[$1:held5000]}"; }
fp_rss_closed() { fp_mib "${FOOT[$1:rss_closed]}"; }
fp_rss_closed5() { fp_mib "${FOOT[$1:rss_closed5]}"; }
fp_rss_back() { fp_mib $((FOOT[$1:rss_closed5] - FOOT[$1:fresh])); }
fp_rss_closed60() { fp_mib "${FOOT[$1:rss_closed60]}"; }
fp_rss_back60() { fp_mib $((FOOT[$1:rss_closed60] - FOOT[$1:fresh])); }
fp_rss_gc() { fp_mib "${FOOT[$1:rss_gc]}"; }
fp_heap_fresh() { fp_mib "${FOOT[$1:heap0]}"; }
fp_heap_per() { fp_per "${FOOT[$1:heap0]}" "${FOOT[$1:heap5000]}" "${FOOT[$1:held5000]}"; }
fp_fds_per() {
    echo "$(fp_per "${FOOT[$1:fds_fresh]}" "${FOOT[$1:fds5000]}" "${FOOT[$1:held5000]}") (${FOOT[$1:fds_fresh]} fresh," \
        "${FOOT[$1:fds5000]} with 5000, ${FOOT[$1:fds_closed]} after)"
}
fp_ceiling() {
    local verdict=fail
    ((FOOT[$1:ceiling] >= FOOTPRINT_CEILING)) && verdict=pass
    echo "$verdict: ${FOOT[$1:ceiling]} held, ${FOOT[$1:ceiling_fds]} descriptors, RSS $(fp_mib "${FOOT[$1:ceiling_rss]}") MiB"
}
fp_row() { # label cell-function
    out "| $1 | $($2 shipped) | $($2 no-archive) | $($2 bare) |"
}

section_footprint() {
    require gcc jcmd jstat
    log "E: footprint of chainsocks run in gw: start-up, RSS with idle connections, the descriptor ceiling"
    local started=$SECONDS load_at_start hard ns
    load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
    build_loadgen
    build_gateway
    spawn "$WAN" lg-echo "$LOADGEN" echo 198.19.2.2:9100 1800
    local echo_server=$SPAWNED
    # The upstream hop is chainsocks' own SOCKS5 server: it holds the ceiling's connections in a few threads.
    start_chainsocks "$WAN" fp-upstream "-Xmx512m" socks-server --listen 198.19.2.2:1080 --allow-from 198.19.2.0/24 \
        --max-connections $((FOOTPRINT_CEILING + 1000))
    local upstream=$SPAWNED
    wait_port "$WAN" 9100; wait_port "$WAN" 1080
    chainsocks_gateway_config "$WORK/footprint.toml" 12345 splice
    # The redirector runs under the descriptor limit of the target (the unit itself sets LimitNOFILE=65536).
    hard=$(ulimit -Hn)
    ulimit -n "$FOOTPRINT_NOFILE"
    footprint_starts "shipped=$UNIT_JVM_FLAGS" "no-archive=$UNIT_JVM_FLAGS_NO_ARCHIVE" "bare="
    footprint_variant shipped "$UNIT_JVM_FLAGS"
    footprint_variant no-archive "$UNIT_JVM_FLAGS_NO_ARCHIVE"
    footprint_variant bare ""
    ulimit -n "$hard"
    stop_pid "$upstream"; stop_pid "$echo_server"
    for ns in "$LAN" "$GW" "$WAN"; do delete_namespace "$ns"; done

    begin_section footprint
    out "Run: $(date -u '+%Y-%m-%d %H:%M UTC'), \`native-scripts/benchmarks/run.sh footprint\`, $((SECONDS - started)) s;" \
        "$(nproc) cores, kernel $(uname -r), $("$JAVA" -version 2>&1 | head -1); load average at the start" \
        "(shared machine): $load_at_start. \`chainsocks run\` in gw with one listener and one SOCKS5 hop (chainsocks" \
        "socks-server in wan), under \`ulimit -n $FOOTPRINT_NOFILE\`; the unit's flags: \`$UNIT_JVM_FLAGS_NO_ARCHIVE\`" \
        "and \`-XX:SharedArchiveFile=\` naming the class-data archive that native-scripts/class-archive recorded for" \
        "this jar (as the install step does)."
    out ""
    out "| chainsocks run | \`java\` with the unit's flags | the same without the class-data archive | \`java -jar\` (defaults) |"
    out "|---|---:|---:|---:|"
    fp_row "JVM start to READY=1, s, $FOOTPRINT_STARTS starts (interleaved)" fp_ready_runs
    fp_row "JVM start to READY=1, median s" fp_ready_median
    fp_row "RSS fresh (2 s after READY=1), MiB" fp_rss_fresh
    fp_row "RSS with 1000 idle redirected connections, MiB" fp_rss_1000
    fp_row "RSS with 5000, MiB" fp_rss_5000
    fp_row "RSS added per connection (5000), KiB" fp_rss_per
    fp_row "RSS once all have closed, MiB" fp_rss_closed
    fp_row "RSS 5 s later, MiB" fp_rss_closed5
    fp_row "RSS 5 s after closing minus fresh, MiB" fp_rss_back
    fp_row "RSS 60 s after closing, MiB" fp_rss_closed60
    fp_row "RSS 60 s after closing minus fresh, MiB" fp_rss_back60
    fp_row "RSS after a full collection then 3 s, MiB" fp_rss_gc
    fp_row "live heap fresh (after a full collection), MiB" fp_heap_fresh
    fp_row "live heap added per connection (5000), KiB" fp_heap_per
    fp_row "descriptors per connection" fp_fds_per
    fp_row "$FOOTPRINT_CEILING connections at once" fp_ceiling
    publish_section footprint
}

section_clean() {
    local ns
    for ns in $(ip netns list | awk '{print $1}' | grep '^csb-' || true); do
        log "removing leftover namespace $ns"
        delete_namespace "$ns"
    done
}

# ---------------------------------------------------------------------------------------------------- main

command=${1:-all}
case $command in
    clean) section_clean; exit 0 ;;
    all|clients|stream|memory|gateway|relay|footprint) ;;
    *) sed -n '2,35p' "$0" >&2; exit 2 ;;
esac
check_prerequisites
[[ $command == clients || $command == all ]] && require socat ncat
# The relay section writes its own run line; the machine block describes the runs of sections A to C.
[[ $command == relay || $command == footprint ]] || machine_section
case $command in
    all) section_clients; section_stream; section_memory; section_gateway; section_relay; section_footprint ;;
    clients) section_clients ;;
    stream) section_stream ;;
    memory) section_memory ;;
    gateway) section_gateway ;;
    relay) section_relay ;;
    footprint) section_footprint ;;
esac
log "done; results in ${DOC#"$REPO"/}"
