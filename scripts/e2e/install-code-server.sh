#!/usr/bin/env bash
# Installs code-server (VS Code 1.100.3, the newest release that runs on Node 20) into the
# git-ignored .vscode-test-env/ folder, for the end-to-end tests (test/e2e/runInCodeServer.ts).
# Needs only the npm registry: the postinstall steps that would download prebuilt binaries are fed
# from the machine instead (Debian's ripgrep; node-gyp builds the native modules against the
# Node headers npm is set up with). Idempotent: does nothing when that version is already installed.
#
# Needs (Debian): apt-get install chromium ripgrep libkrb5-dev   (plus python3, make, g++ for node-gyp)
#
# Env: PROMPT_LENS_E2E_ENV  install folder (default: <repo>/.vscode-test-env)
set -euo pipefail

VERSION=4.100.3
RG_PKG_VERSION=1.15.11                       # @vscode/ripgrep used by this code-server
RG_ARCHIVE=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ENV_DIR="${PROMPT_LENS_E2E_ENV:-$ROOT/.vscode-test-env}"
MARKER="$ENV_DIR/.installed-code-server-$VERSION"
CS_DIR="$ENV_DIR/node_modules/code-server"

installed() {
  [[ -f "$MARKER" && -f "$CS_DIR/package.json" && -f "$CS_DIR/lib/vscode/out/server-main.js" ]] &&
    [[ "$(node -p "require('$CS_DIR/package.json').version")" == "$VERSION" ]]
}

if installed; then
  bash "$ROOT/scripts/e2e/install-prerequisites.sh"
  echo "code-server $VERSION already installed in $ENV_DIR"
  exit 0
fi

bash "$ROOT/scripts/e2e/install-prerequisites.sh"

for cmd in node npm rg; do
  command -v "$cmd" >/dev/null || { echo "install-code-server: '$cmd' not found (apt-get install ripgrep; Node 20 with npm)" >&2; exit 1; }
done
if [[ "$(uname -m)" != x86_64 ]]; then
  echo "install-code-server: the ripgrep cache trick is for x86_64 only (got $(uname -m))" >&2
  exit 1
fi

echo "Installing code-server $VERSION into $ENV_DIR ..."
start=$(date +%s)
mkdir -p "$ENV_DIR"
rm -f "$MARKER"

cat > "$ENV_DIR/package.json" <<JSON
{
  "name": "prompt-lens-vscode-test-env",
  "private": true,
  "description": "code-server for Prompt Lens end-to-end tests; written by scripts/e2e/install-code-server.sh",
  "allowScripts": { "code-server": true, "argon2": true },
  "dependencies": { "code-server": "$VERSION" }
}
JSON

# @vscode/ripgrep's postinstall tries GitHub first and falls back to an archive cached in
# $TMPDIR/vscode-ripgrep-cache-<version>/: put Debian's rg there.
TMP="$ENV_DIR/tmp"
CACHE="$TMP/vscode-ripgrep-cache-$RG_PKG_VERSION"
mkdir -p "$CACHE"
if [[ ! -s "$CACHE/$RG_ARCHIVE" ]]; then
  stage="$(mktemp -d "$TMP/rg.XXXXXX")"
  cp "$(command -v rg)" "$stage/rg"
  chmod 755 "$stage/rg"
  tar -C "$stage" -czf "$CACHE/$RG_ARCHIVE" rg
  rm -rf "$stage"
fi

cd "$ENV_DIR"
# ignore_scripts=false: code-server's install scripts are needed, and `npm test` hands the project's
# ignore-scripts=true (.npmrc) to its scripts as npm_config_ignore_scripts.
# unsafe_perm: code-server's postinstall refuses to run as root otherwise.
# yes: node-pty's install runs `npx node-gyp`, which would otherwise ask.
TMPDIR="$TMP" npm_config_ignore_scripts=false npm_config_unsafe_perm=true npm_config_yes=true \
  npm install --no-audit --no-fund --prefer-offline --loglevel=warn

if [[ ! -f "$CS_DIR/lib/vscode/out/server-main.js" ]]; then
  echo "install-code-server: code-server's files are missing after npm install" >&2
  exit 1
fi
touch "$MARKER"
echo "code-server $VERSION installed in $(( $(date +%s) - start )) s: $CS_DIR/out/node/entry.js"
