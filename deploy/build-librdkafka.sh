#!/usr/bin/env bash
# Builds librdkafka >= 2.1 into /usr/local from Debian trixie's source package, for images based on
# Debian bookworm (whose librdkafka 2.0.2 cannot parse tansu's ApiVersions response). The same
# steps as scripts/setup.sh, without the rest of the development setup.
#
# The Debian mirror is read from the image's own apt configuration, never written here.
set -euo pipefail
SUITE="${LIBRDKAFKA_SUITE:-trixie}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
uri="$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)"
[ -n "$uri" ] || uri="$(grep -hE '^\s*deb\s' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)"
[ -n "$uri" ] || { echo "build-librdkafka: no Debian mirror in /etc/apt" >&2; exit 1; }
mkdir -p "$work/lists/partial" "$work/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $SUITE main" > "$work/sources.list"
aptopts=(-o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$work/lists"
         -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
apt-get "${aptopts[@]}" update -qq
(cd "$work/src" && apt-get "${aptopts[@]}" source --download-only librdkafka >/dev/null && dpkg-source -x --no-check ./*.dsc rdkafka >/dev/null)
(cd "$work/src/rdkafka" && ./configure --prefix=/usr/local >/dev/null && make -s -j"$(nproc)" -C src >/dev/null && make -s -C src install >/dev/null)
ldconfig
echo "build-librdkafka: librdkafka $(PKG_CONFIG_PATH=/usr/local/lib/pkgconfig pkg-config --modversion rdkafka) in /usr/local"
