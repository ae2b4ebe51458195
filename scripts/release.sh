#!/usr/bin/env bash
# scripts/release.sh VERSION: the release artefacts for operators, in dist/:
#   mtx-companion-VERSION-linux-amd64.tar.gz   mtx-companion and mtx-hook (release, Swift runtime linked in), the web UI,
#                                              docs, configs/config.production.yaml, mediamtx.yml.example, LICENSE, INSTALL
#   mtx-companion_VERSION_amd64.deb            the same as a Debian package (dpkg-deb): /usr/bin, /usr/share/mtx-companion,
#                                              /etc/mtx-companion, a system user, a hardened systemd unit (packaging/)
# VERSION is stamped into `mtx-companion --version` and /healthz for the build, then put back.
# RELEASE_SKIP_BUILD=1 packages the binaries already in .build/release (tests that just built them).
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: scripts/release.sh VERSION (e.g. 0.1.0)}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([~+][0-9A-Za-z.]+)?$ ]] || { echo "release: not a version: $version (e.g. 0.1.0, 0.1.0~rc1)" >&2; exit 2; }
[ "$(uname -m)" = x86_64 ] || { echo "release: builds linux-amd64 only (this is $(uname -m))" >&2; exit 2; }
export PATH="$PATH:/opt/swift/usr/bin"
scripts/install-deps.sh

# The Swift runtime and Foundation are linked in; what is left is the C library and libsqlite3 (the Debian package
# depends on them).
build_info=Sources/API/Observability/BuildInfo.swift
if [ "${RELEASE_SKIP_BUILD:-}" != 1 ]; then
  cp "$build_info" "$build_info.orig"
  trap 'mv -f "$build_info.orig" "$build_info"' EXIT
  sed -i "s/public static let version = \".*\"/public static let version = \"$version\"/" "$build_info"
  grep -q "\"$version\"" "$build_info"
  for product in mtx-companion mtx-hook; do
    swift build -c release --static-swift-stdlib -Xswiftc -gnone --product "$product"
  done
fi
bin="$(swift build -c release --show-bin-path)"
for product in mtx-companion mtx-hook; do
  if { ldd "$bin/$product" 2>/dev/null || true; } | grep -q 'libswift\|libFoundation\|libdispatch\|libBlocksRuntime'; then
    echo "release: $product links a Swift runtime library dynamically" >&2; exit 1
  fi
done
stamped="$("$bin/mtx-companion" --version)"
[ "$stamped" = "$version" ] || { echo "release: the build says $stamped, not $version" >&2; exit 1; }

rm -rf dist && mkdir -p dist
# --- tarball
name="mtx-companion-$version-linux-amd64"
tree="dist/$name"
mkdir -p "$tree/bin" "$tree/configs" "$tree/docs"
install -m 0755 -s "$bin/mtx-companion" "$bin/mtx-hook" "$tree/bin/"
cp -r ui "$tree/ui"
cp docs/*.md docs/openapi.yaml "$tree/docs/"
cp configs/config.production.yaml "$tree/configs/"
cp mediamtx.yml.example LICENSE README.md packaging/INSTALL "$tree/"
cp packaging/mtx-companion.service "$tree/"
cp -r packaging/nginx "$tree/nginx"
tar -C dist --owner=0 --group=0 --sort=name -czf "dist/$name.tar.gz" "$name"

# --- Debian package
root="dist/deb"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/mtx-companion/docs" "$root/usr/share/doc/mtx-companion" \
  "$root/etc/mtx-companion" "$root/lib/systemd/system"
install -m 0755 "$tree/bin/mtx-companion" "$tree/bin/mtx-hook" "$root/usr/bin/"
cp -r ui "$root/usr/share/mtx-companion/ui"
cp docs/openapi.yaml "$root/usr/share/mtx-companion/docs/"
cp docs/*.md README.md mediamtx.yml.example packaging/INSTALL "$root/usr/share/doc/mtx-companion/"
cp LICENSE "$root/usr/share/doc/mtx-companion/copyright"
cp -r packaging/nginx "$root/usr/share/doc/mtx-companion/nginx"
install -m 0640 configs/config.production.yaml "$root/etc/mtx-companion/config.production.yaml"
install -m 0644 packaging/mtx-companion.service "$root/lib/systemd/system/mtx-companion.service"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
echo /etc/mtx-companion/config.production.yaml > "$root/DEBIAN/conffiles"
find "$root" -type d -exec chmod 0755 {} +

# Depends: the Debian packages holding the shared libraries the binaries load (as dpkg-shlibdeps would find).
# (mtx-hook is fully static: ldd says "not a dynamic executable".)
depends="$({ ldd "$root/usr/bin/mtx-companion" "$root/usr/bin/mtx-hook" 2>/dev/null || true; } | awk '/=> \//{print $3}' | sort -u |
  while read -r lib; do dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib"; done | cut -d: -f1 | sort -u |
  while read -r pkg; do echo "$pkg (>= $(dpkg-query -W -f='${Version}' "$pkg" | sed 's/-[^-]*$//'))"; done | paste -sd, - | sed 's/,/, /g')"
cat > "$root/DEBIAN/control" <<CONTROL
Package: mtx-companion
Version: $version
Architecture: amd64
Maintainer: mtx-companion developers <mtx-companion@users.noreply.github.com>
Installed-Size: $(du -sk "$root" --exclude=DEBIAN | cut -f1)
Depends: $depends, passwd
Section: video
Priority: optional
Description: companion server of the MediaMTX media server
 Keeps a catalogue of media sources (each one MediaMTX path, pulled or pushed) and stream assets,
 changes MediaMTX through its v3 control API, indexes stream events and recording segments in real time
 from MediaMTX's hooks (mtx-hook), authorises MediaMTX's publish/read/playback requests, and serves
 recordings, playback URLs, a web UI and an HTTP API.
CONTROL
dpkg-deb --root-owner-group -Zxz --build "$root" "dist/mtx-companion_${version}_amd64.deb" >/dev/null
rm -rf "$root"
ls -l dist/*.tar.gz dist/*.deb
