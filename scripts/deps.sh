#!/usr/bin/env bash
# Installs the Debian packages edgebench needs, and only those that are missing.
#   scripts/deps.sh           what the build and the quick start need
#   scripts/deps.sh --fuzz    the reliability tools instead: clang with libFuzzer
#                             (scripts/fuzz.sh) and valgrind (scripts/valgrind-quickstart.sh)
set -euo pipefail
# man-db and groff-base: `man edgebench` after `cmake --install` (ctest "install")
pkgs=(cmake gcc make pkg-config libsqlite3-dev libjansson-dev libcurl4-openssl-dev
      zlib1g-dev check gnuplot-nox npm git python3 sqlite3 man-db groff-base)
what=deps
if [ "${1:-}" = --fuzz ]; then
  pkgs=(clang libclang-rt-dev valgrind)
  what=deps-fuzz
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3 may come from elsewhere (pyenv); only ask apt when there is none at all
if command -v python3 >/dev/null 2>&1; then
  missing=("${missing[@]/python3}")
fi
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | sed '/^$/d'))
if [ ${#missing[@]} -eq 0 ]; then
  echo "$what: all Debian packages present" >&2
  exit 0
fi
echo "$what: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
