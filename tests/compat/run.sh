#!/bin/sh
# Compatibility tests with real webhook client libraries (npm). Needs node >= 20 and npm.
# SWITCHBOARD_BIN overrides the binary (default ../../build/switchboard).
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
    npm ci --no-audit --no-fund
fi
exec node --test --test-concurrency=1 "$@"
