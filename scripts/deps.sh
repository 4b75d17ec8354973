#!/usr/bin/env bash
# Install the Debian 12 packages twinnet needs, if any is missing.
# Build: cmake, gcc, pkg-config, libigraph-dev, libevent-dev, libmsgpack-dev.
# Tests: python3 (Debian's /usr/bin/python3) with msgpack, networkx, igraph.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libigraph-dev libevent-dev libmsgpack-dev
      python3 python3-msgpack python3-networkx python3-igraph)
if [ "${TN_WITH_FUZZ:-0}" = 1 ]; then
  pkgs+=(clang libclang-rt-14-dev)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "twinnet: installing missing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi
