#!/bin/sh
# Short attack run for `make test` (< 90 s). Long version: ATTACK_FULL=1 tests/attack/run.sh
cd "$(dirname "$0")/../.." || exit 1
# The latency bounds compare p99s measured on a machine the attacker shares: a test that fails is
# run again (up to twice); a real regression fails every time.
exec /usr/bin/python3 -m pytest tests/attack -q -p rerunfailures --reruns 2 "$@"
