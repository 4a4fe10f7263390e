#!/bin/bash
# Removes what native-scripts/install.sh installed.
#
#   native-scripts/uninstall.sh [--purge]
#
# Keeps /etc/chainsocks (your configuration) and the chainsocks user unless --purge is given. On a running
# system, chainsocks-firewall.service and chainsocks.service are stopped and disabled first, and it says so.
# Takes the same DESTDIR, PREFIX and UNITDIR as install.sh.
set -euo pipefail

PROG=${0##*/}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr}
UNITDIR=${UNITDIR:-/lib/systemd/system}
SERVICE_USER=chainsocks
UNITS=(chainsocks-firewall.service chainsocks.service)

usage() {
    cat <<EOF
usage: $PROG [--purge]

  --purge   also remove /etc/chainsocks (configuration and proxy credentials) and the $SERVICE_USER user

Environment: DESTDIR, PREFIX (default /usr), UNITDIR (default /lib/systemd/system), as for install.sh.
EOF
}

die() {
    echo "$PROG: $*" >&2
    exit 1
}

purge=no
while [[ $# -gt 0 ]]; do
    case $1 in
        --purge) purge=yes; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "$PROG: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

[[ $PREFIX == /* ]] || die "PREFIX must be an absolute path, not '$PREFIX'"
[[ -z $DESTDIR || $DESTDIR == /* ]] || die "DESTDIR must be an absolute path, not '$DESTDIR'"
if [[ -z $DESTDIR && $EUID -ne 0 ]]; then
    die "removing from / needs root (or set DESTDIR)"
fi

systemd_running=no
[[ -z $DESTDIR && -d /run/systemd/system ]] && systemd_running=yes

if [[ $systemd_running == yes ]]; then
    for unit in "${UNITS[@]}"; do
        if systemctl is-active --quiet "$unit"; then
            echo "stopping $unit"
            systemctl stop "$unit"
        fi
        if systemctl is-enabled --quiet "$unit" 2>/dev/null; then
            echo "disabling $unit"
            systemctl disable --quiet "$unit"
        fi
    done
fi

remove() {
    local path=$1
    if [[ -e $path || -L $path ]]; then
        rm -f -- "$path"
        echo "removed $path"
    fi
}

libdir=$PREFIX/lib/chainsocks
remove "$DESTDIR$PREFIX/bin/chainsocks"
remove "$DESTDIR$libdir/chainsocks.jar"
remove "$DESTDIR$libdir/firewall"
remove "$DESTDIR$libdir/class-archive"
rmdir "$DESTDIR$libdir" 2>/dev/null || true
# The class-data archive install.sh recorded (native-scripts/class-archive).
remove "$DESTDIR/var/cache/chainsocks/chainsocks.jsa"
remove "$DESTDIR/var/cache/chainsocks/.chainsocks.jsa.new"
rmdir "$DESTDIR/var/cache/chainsocks" 2>/dev/null || true
for unit in "${UNITS[@]}"; do
    remove "$DESTDIR$UNITDIR/$unit"
    # Enablement links left behind (systemctl disable was not run, or ran against another root).
    for link in "$DESTDIR"/etc/systemd/system/*.wants/"$unit"; do
        [[ -L $link ]] && remove "$link"
    done
done

if [[ $purge == yes ]]; then
    if [[ -d $DESTDIR/etc/chainsocks ]]; then
        rm -rf -- "$DESTDIR/etc/chainsocks"
        echo "removed $DESTDIR/etc/chainsocks"
    fi
    if [[ -z $DESTDIR ]] && getent passwd "$SERVICE_USER" >/dev/null; then
        userdel "$SERVICE_USER"
        echo "removed user $SERVICE_USER"
    fi
elif [[ -d $DESTDIR/etc/chainsocks ]]; then
    echo "kept $DESTDIR/etc/chainsocks (remove it with --purge)"
fi

if [[ $systemd_running == yes ]]; then
    systemctl daemon-reload
    echo "ran systemctl daemon-reload"
fi
