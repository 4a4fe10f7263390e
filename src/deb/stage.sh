#!/bin/bash
# Stages the file tree of the Debian package under TARGET/deb/root, for jdeb (pom.xml, package phase).
#
#   src/deb/stage.sh TARGET VERSION REVISION MAINTAINER
#
# The jar, launcher, units, firewall script and configuration come from native-scripts/install.sh, run with
# DESTDIR: the launcher's JVM flags, the paths in the units and the modes are written in that one place, for the
# package and for installs on other distributions alike. This script adds what only the package has: the manual
# pages and bash completion generated in prepare-package, the copyright file, changelog.Debian.gz and the docs.
set -euo pipefail
umask 022

[[ $# -eq 4 ]] || { echo "usage: $0 TARGET VERSION REVISION MAINTAINER" >&2; exit 2; }
target=$1
version=${2/-SNAPSHOT/\~SNAPSHOT}-$3
maintainer=$4
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$src/../.." && pwd)
root=$target/deb/root
generated=$target/generated-docs

rm -rf "$target/deb"
mkdir -p "$target/deb"

DESTDIR=$root PREFIX=/usr UNITDIR=/lib/systemd/system \
    bash "$repo/native-scripts/install.sh" --jar "$target/chainsocks.jar" >"$target/deb/install.log" 2>&1 \
    || { cat "$target/deb/install.log" >&2; exit 1; }

# gzip -9n: no name or time stamp in the header, so the same input gives the same package (Debian policy 12.3).
install_gz() {
    install -d -m 0755 "$(dirname "$2")"
    gzip -9nc "$1" >"$2"
    chmod 0644 "$2"
}

install_gz "$generated/man/chainsocks.1" "$root/usr/share/man/man1/chainsocks.1.gz"
install_gz "$generated/man/chainsocks.toml.5" "$root/usr/share/man/man5/chainsocks.toml.5.gz"
install -D -m 0644 "$generated/completion/chainsocks" "$root/usr/share/bash-completion/completions/chainsocks"

doc=$root/usr/share/doc/chainsocks
install -D -m 0644 "$src/copyright" "$doc/copyright"
sed -e "s|@VERSION@|$version|" -e "s|@MAINTAINER@|$maintainer|" "$src/changelog" >"$target/deb/changelog.Debian"
install_gz "$target/deb/changelog.Debian" "$doc/changelog.Debian.gz"
install -m 0644 "$repo/README.md" "$doc/README.md"
for page in "$repo"/docs/*.md; do
    install_gz "$page" "$doc/$(basename "$page").gz"
done
install -D -m 0644 "$src/lintian-overrides" "$root/usr/share/lintian/overrides/chainsocks"
