#!/usr/bin/env bash
# Install the Debian 12 packages twinnet needs, if any is missing.
# Build: cmake, gcc, pkg-config, libigraph-dev, libevent-dev, libmsgpack-dev.
# Tests: python3 (Debian's /usr/bin/python3) with msgpack, networkx, igraph,
# and pandas (optional for the Python client; its tests cover both cases).
# Interop tests (docs/interop.md): python3-pynvim (without its recommended
# neovim), Node with npm, and tests/interop/node_modules from its lockfile.
# Dashboard (docs/dashboard.md): clients/web/node_modules from its lockfile
# (d3, topojson-client, world-atlas: embedded in twinnetd at build time);
# its tests use Debian's chromium, chromium-driver and python3-selenium
# (a real headless browser), fonts-noto-cjk (Chinese names on screenshots),
# prometheus (promtool check metrics) and iso-codes (the country tables).
set -euo pipefail
pkgs=(build-essential cmake pkg-config libigraph-dev libevent-dev libmsgpack-dev
      python3 python3-msgpack python3-networkx python3-igraph python3-pandas)
if [ "${TN_WITH_FUZZ:-0}" = 1 ]; then
  pkgs+=(clang libclang-rt-14-dev)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Interop clients and the dashboard's test tools, installed without
# recommends (pynvim would pull in neovim, prometheus a running service).
# Node may come from outside Debian (the machine image has it): only install
# Debian's nodejs / npm when the commands are missing.
interop_pkgs=(python3-pynvim chromium chromium-driver python3-selenium prometheus fonts-noto-cjk
              iso-codes)
command -v node >/dev/null 2>&1 || interop_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || interop_pkgs+=(npm)
interop_missing=()
for p in "${interop_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || interop_missing+=("$p")
done
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
if [ ${#missing[@]} -gt 0 ] || [ ${#interop_missing[@]} -gt 0 ]; then
  "${sudo_cmd[@]}" apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "twinnet: installing missing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi
if [ ${#interop_missing[@]} -gt 0 ]; then
  echo "twinnet: installing missing Debian packages: ${interop_missing[*]}"
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${interop_missing[@]}"
fi

# Node packages of the interop test and of the dashboard, exactly as
# locked; again only when node_modules is missing or package.json /
# package-lock.json changed since the last install (a stamp file inside
# node_modules records their hash).
root_dir="$(cd "$(dirname "$0")/.." && pwd)"
for node_dir in "$root_dir/tests/interop" "$root_dir/clients/web"; do
  [ -f "$node_dir/package-lock.json" ] || continue
  want=$(cat "$node_dir/package.json" "$node_dir/package-lock.json" | sha256sum | cut -d' ' -f1)
  stamp="$node_dir/node_modules/.twinnet-lock-sha256"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "twinnet: installing ${node_dir#"$root_dir"/} Node packages (npm ci)"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" > "$stamp"
  fi
done
