#!/usr/bin/env bash
# Installs the Debian packages only the test suite needs (not the quick start), and only
# those that are missing: chromium renders the html report headlessly (check_report_html),
# libxml2-utils' xmllint validates the JUnit XML of `edgebench compare` (check_compare).
set -euo pipefail
pkgs=(chromium libxml2-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps-test: all test packages present" >&2
  exit 0
fi
echo "deps-test: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
