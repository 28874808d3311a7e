#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine with Go: Node.js
# (runs the GOOS=js wasm tests) and Chromium (browser tests). Does nothing
# when they are present.
set -euo pipefail
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v chromium >/dev/null 2>&1 || need+=(chromium libegl1 libegl-mesa0 libgl1-mesa-dri)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "installing ${need[*]} with apt-get" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
