#!/bin/sh
# Compatibility tests with real webhook client libraries (npm) and GitHub's documented webhook
# payloads (@octokit/webhooks-examples): every *.test.mjs here (server.mjs runs their servers).
# Needs node >= 20 and npm. Arguments go to node --test (e.g. ./run.sh github.test.mjs).
# SWITCHBOARD_BIN overrides the binary (default ../../build/switchboard).
set -eu
cd "$(dirname "$0")"
# (again when package-lock.json changed since the last install)
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
fi
exec node --test --test-concurrency=1 "$@"
