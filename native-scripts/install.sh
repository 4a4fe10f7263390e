#!/bin/bash
# Installs chainsocks: the jar, a launcher, the systemd units, the firewall script and an example configuration.
#
#   native-scripts/install.sh [--jar PATH] [--build]
#
# Environment:
#   DESTDIR  stage the files under this directory instead of / (for packaging); then no user is created and
#            systemd is not touched
#   PREFIX   where the jar, launcher and firewall script go (default /usr); the units and /etc are not under it
#   UNITDIR  where the units go (default /lib/systemd/system)
#
# It never enables or starts anything, and never replaces an existing /etc/chainsocks/chainsocks.toml or
# /etc/chainsocks/firewall.env.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=${0##*/}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr}
UNITDIR=${UNITDIR:-/lib/systemd/system}
SERVICE_USER=chainsocks

usage() {
    cat <<EOF
usage: $PROG [--jar PATH] [--build]

  --jar PATH   the chainsocks jar to install (default: target/chainsocks.jar in the source tree)
  --build      when the jar does not exist, build it first with: mvn -B -DskipTests package

Environment: DESTDIR (staging root, default empty), PREFIX (default /usr), UNITDIR (default /lib/systemd/system).
EOF
}

die() {
    echo "$PROG: $*" >&2
    exit 1
}

jar=$ROOT/target/chainsocks.jar
build=no
while [[ $# -gt 0 ]]; do
    case $1 in
        --jar)
            [[ $# -ge 2 ]] || { echo "$PROG: --jar needs a path" >&2; exit 2; }
            jar=$2
            shift 2
            ;;
        --build) build=yes; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "$PROG: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

[[ $PREFIX == /* ]] || die "PREFIX must be an absolute path, not '$PREFIX'"
[[ $UNITDIR == /* ]] || die "UNITDIR must be an absolute path, not '$UNITDIR'"
[[ -z $DESTDIR || $DESTDIR == /* ]] || die "DESTDIR must be an absolute path, not '$DESTDIR'"
if [[ -z $DESTDIR && $EUID -ne 0 ]]; then
    die "installing into / needs root (or set DESTDIR to stage the files elsewhere)"
fi

if [[ ! -f $jar ]]; then
    [[ $build == yes ]] || die "$jar does not exist; build it with 'mvn -B clean verify', or pass --build or --jar PATH"
    echo "$PROG: $jar does not exist; building it" >&2
    (cd "$ROOT" && mvn -B -DskipTests package) || die "the build failed"
    [[ -f $jar ]] || die "the build did not produce $jar"
fi

example_config=$ROOT/systemd/chainsocks.toml
for f in "$example_config" "$ROOT/systemd/firewall.env" "$ROOT/systemd/chainsocks.service" \
    "$ROOT/systemd/chainsocks-firewall.service" "$ROOT/native-scripts/firewall" \
    "$ROOT/native-scripts/class-archive"; do
    [[ -f $f ]] || die "$f is missing from the source tree"
done

libdir=$PREFIX/lib/chainsocks
bindir=$PREFIX/bin

# The launcher's default JVM flags are the unit's (its ExecStart= line, without the jffi directory), so both are
# chosen in one place: see the comment above ExecStart= in systemd/chainsocks.service.
jvm_flags=$(sed -n 's|^ExecStart=/usr/bin/java \(.*\) -Djffi\.extract\.dir=[^ ]* -jar .*|\1|p' \
    "$ROOT/systemd/chainsocks.service")
[[ -n $jvm_flags ]] || die "cannot read the JVM flags from ExecStart= in $ROOT/systemd/chainsocks.service"
# The warm-up run that records the class-data archive takes the same flags, but not the archive it is recording.
archive_flags=$(sed 's| -XX:SharedArchiveFile=[^ ]*||' <<<"$jvm_flags")
[[ $archive_flags != "$jvm_flags" ]] \
    || die "no -XX:SharedArchiveFile= in ExecStart= of $ROOT/systemd/chainsocks.service"

# Paths inside the units and the firewall script are written for PREFIX=/usr.
relocate() {
    if [[ $PREFIX == /usr ]]; then
        cat "$1"
    else
        sed -e "s|/usr/lib/chainsocks|$libdir|g" -e "s|/usr/bin/chainsocks|$bindir/chainsocks|g" "$1"
    fi
}

# install_text SOURCE-TEXT-ON-STDIN MODE DEST
install_text() {
    local mode=$1 dest=$2 tmp
    install -d -m 0755 "$(dirname "$dest")"
    tmp=$(mktemp "$dest.XXXXXX")
    cat >"$tmp"
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$dest"
    echo "installed $dest"
}

install -D -m 0644 "$jar" "$DESTDIR$libdir/chainsocks.jar"
echo "installed $DESTDIR$libdir/chainsocks.jar"

relocate "$ROOT/native-scripts/firewall" | install_text 0755 "$DESTDIR$libdir/firewall"
relocate "$ROOT/native-scripts/class-archive" | sed "s|@JVM_FLAGS@|$archive_flags|" \
    | install_text 0755 "$DESTDIR$libdir/class-archive"

install_text 0755 "$DESTDIR$bindir/chainsocks" <<EOF
#!/bin/sh
# chainsocks launcher, written by native-scripts/install.sh. JAVA selects the java binary; JAVA_OPTS replaces the
# default JVM flags, which are the systemd unit's (heap sized for max-connections 10000; see docs/deployment.md).
# shellcheck disable=SC2086
exec "\${JAVA:-java}" \${JAVA_OPTS:-$jvm_flags} -jar $libdir/chainsocks.jar "\$@"
EOF

for unit in chainsocks.service chainsocks-firewall.service; do
    relocate "$ROOT/systemd/$unit" | install_text 0644 "$DESTDIR$UNITDIR/$unit"
done

# The configuration holds proxy credentials: readable by root and the service's group only.
install -d -m 0755 "$DESTDIR/etc/chainsocks"
config=$DESTDIR/etc/chainsocks/chainsocks.toml
if [[ -e $config ]]; then
    echo "kept existing $config"
else
    install -m 0640 "$example_config" "$config"
    echo "installed $config (example)"
    new_config=yes
fi
firewall_env=$DESTDIR/etc/chainsocks/firewall.env
if [[ -e $firewall_env ]]; then
    echo "kept existing $firewall_env"
else
    install -m 0644 "$ROOT/systemd/firewall.env" "$firewall_env"
    echo "installed $firewall_env (example)"
fi

if [[ -z $DESTDIR ]]; then
    if getent passwd "$SERVICE_USER" >/dev/null; then
        echo "user $SERVICE_USER exists"
    else
        useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
            --comment "chainsocks redirector" "$SERVICE_USER"
        echo "created system user $SERVICE_USER"
    fi
    if [[ ${new_config:-no} == yes ]]; then
        chgrp "$SERVICE_USER" "$config"
    fi
    if [[ -d /run/systemd/system ]]; then
        systemctl daemon-reload
        echo "ran systemctl daemon-reload"
    fi
    # The archive is for this jar and this JVM; without it chainsocks works, only starts slower.
    "$libdir/class-archive" || echo "$PROG: continuing without a class-data archive" >&2
else
    echo "DESTDIR is set: no user created, systemd not reloaded, no class-data archive recorded; the package must" \
        "create system user $SERVICE_USER, give /etc/chainsocks/chainsocks.toml group $SERVICE_USER and run" \
        "$libdir/class-archive"
fi

cat <<EOF

Installed. Nothing was enabled or started. Next:
  1. Edit /etc/chainsocks/chainsocks.toml: your proxies in [chain.*], the listener port
     (reference: docs/configuration.md).
  2. Check it:               chainsocks check --config /etc/chainsocks/chainsocks.toml
  3. Choose the rules:       edit /etc/chainsocks/firewall.env (mode, LAN interface, backend), then look at
                             them with: $libdir/firewall show
  4. Start:                  systemctl enable --now chainsocks.service chainsocks-firewall.service
  5. Verify:                 chainsocks status; journalctl -u chainsocks
See docs/deployment.md.
EOF
