#!/usr/bin/env bash
# Debian packages the end-to-end tests need: Chromium (the browser), ripgrep (fed to code-server's
# @vscode/ripgrep), and libkrb5-dev, python3, make and g++ (code-server's native modules via node-gyp).
# With the argument `python`, also what the Python package's tests need (prompt_lens_py: Debian's PyTorch 1.13
# and numpy for /usr/bin/python3); .ci/run asks for them, `npm test` does not.
# Installs only what is missing, so `npm test` works on a fresh machine; as a non-root user it says
# which command to run instead.
set -euo pipefail

need=()
if [[ ${1:-} == python ]]; then
  /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || need+=(python3-torch python3-numpy)
fi
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
command -v python3 >/dev/null || need+=(python3)
command -v make >/dev/null || need+=(make)
command -v g++ >/dev/null || need+=(g++)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
[[ ${#need[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "test prerequisites missing: ${need[*]} — install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "Installing test prerequisites with apt: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
