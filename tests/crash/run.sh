#!/bin/sh
# Short crash-safety run for `make test` (< 90 s): 5 SIGKILLs under webhook load, full disk.
# Long version: CRASH_KILLS=25 tests/crash/run.sh
cd "$(dirname "$0")/../.." || exit 1
exec /usr/bin/python3 -m pytest tests/crash -q "$@"
