#!/bin/sh
# Runs the web client's browser tests (every *.test.mjs): Debian's Chromium driven by playwright-core
# against the real server. Builds the web client first when web/dist is missing (or uses $WEB_DIST),
# installs the npm packages when node_modules is missing. Exits non-zero when any test fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
	echo "run.sh: no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install -y chromium)" >&2
	exit 1
fi
if [ -z "${WEB_DIST:-}" ]; then
	if [ ! -f "$repo/web/dist/index.html" ]; then
		[ -d "$repo/web/node_modules" ] || (cd "$repo/web" && npm ci --no-audit --no-fund)
		(cd "$repo/web" && npm run build)
	fi
	WEB_DIST="$repo/web/dist"
	export WEB_DIST
fi
[ -d "$here/node_modules" ] || (cd "$here" && npm ci --no-audit --no-fund)
cd "$here"
exec node --test --test-concurrency=1 --test-timeout=150000 *.test.mjs
