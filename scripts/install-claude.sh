#!/usr/bin/env bash
# Installs the pinned Claude Code CLI (for the contract test) into a cache folder and prints its bin path.
#
# Not a dependency of sprint-runner: it is ~235 MB and only test/contract/real-cli.test.ts runs it, offline,
# against a mock of the Anthropic API. Idempotent: an install that already reports the pinned version is kept.
#
# How 2.1.197 is packaged: `@anthropic-ai/claude-code` is a thin wrapper whose `bin/claude.exe` is a 500-byte
# shell stub; the real CLI is a native executable in the platform package (`@anthropic-ai/claude-code-linux-x64`
# etc., an optionalDependency that npm fetches from the npm registry like any package). The wrapper's postinstall
# (`node install.cjs`) hard-links that executable over the stub. Nothing is downloaded from anywhere but the
# registry, and there is no `cli.js` any more. When postinstall did not run (npm configured with ignore-scripts),
# this script runs install.cjs itself: it only links a local file.
set -euo pipefail

VERSION=2.1.197
PACKAGE="@anthropic-ai/claude-code@${VERSION}"
CACHE="${SPRINT_RUNNER_CLAUDE_CACHE:-$HOME/.cache/sprint-runner/claude-code-${VERSION}}"
BIN="$CACHE/node_modules/.bin/claude"
WRAPPER_DIR="$CACHE/node_modules/@anthropic-ai/claude-code"

installed_version() {
  # `claude --version` prints e.g. "2.1.197 (Claude Code)"; it needs no network and no login.
  [ -x "$BIN" ] || return 1
  HOME="${TMPDIR:-/tmp}" DISABLE_AUTOUPDATER=1 "$BIN" --version 2>/dev/null | awk '{print $1; exit}'
}

if [ "$(installed_version || true)" != "$VERSION" ]; then
  mkdir -p "$CACHE"
  echo "installing $PACKAGE into $CACHE" >&2
  npm install --prefix "$CACHE" --no-save --no-audit --no-fund --include=optional --loglevel=error "$PACKAGE" >&2
  if [ "$(installed_version || true)" != "$VERSION" ] && [ -f "$WRAPPER_DIR/install.cjs" ]; then
    echo "bin/claude.exe is still the stub (postinstall did not run); placing the native binary" >&2
    (cd "$WRAPPER_DIR" && node install.cjs) >&2
  fi
  got="$(installed_version || true)"
  if [ "$got" != "$VERSION" ]; then
    echo "error: $BIN does not report $VERSION after install (got: '${got:-nothing}')." >&2
    echo "  The native package for this platform (@anthropic-ai/claude-code-<os>-<arch>) may be missing." >&2
    exit 1
  fi
fi

echo "$BIN"
