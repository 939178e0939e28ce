#!/bin/sh
# run.sh SECONDS: builds every fuzz target (fuzz_*.c here) with clang's libFuzzer, ASan and
# UBSan against the project's sources, and runs each for SECONDS with its corpus
# (tests/fuzz/corpus/<name>/), where libFuzzer saves the new inputs it finds. A crash, leak or
# failed invariant fails the script; the input that caused it is kept in tests/fuzz/artifacts/.
#
# Environment: FUZZ_BUILD (object and binary directory, default build-fuzz), FUZZ_CORPUS (the
# corpus root, default tests/fuzz/corpus), FUZZ_TARGETS (names to run, default all), CC (clang).
set -eu

seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD:-$top/build-fuzz}
corpus_root=${FUZZ_CORPUS:-$here/corpus}
artifacts=$here/artifacts
cc=${CC:-clang}
case "$cc" in *clang*) ;; *) cc=clang ;; esac

flags="-g -O1 -std=gnu11 -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=undefined -D_FILE_OFFSET_BITS=64 -I$top/src"
deps=$(pkg-config --cflags --libs libmicrohttpd jansson sqlite3 libsodium libcrypto libcurl libxml-2.0 libcmark-gfm libpq)

mkdir -p "$build/obj" "$artifacts"

# The library: every source but the program's main(), instrumented for coverage.
objs=
for src in $(cd "$top" && find src -name '*.c' ! -path src/cli/main.c | sort); do
    obj=$build/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')
    if [ ! -f "$obj" ] || [ "$top/$src" -nt "$obj" ] || [ -n "$(find "$top/src" -name '*.h' -newer "$obj" -o -name '*.def' -newer "$obj" | head -1)" ]; then
        # shellcheck disable=SC2086
        $cc $flags -fsanitize=fuzzer-no-link $(pkg-config --cflags libmicrohttpd jansson sqlite3 libsodium libcrypto libcurl libxml-2.0 libcmark-gfm libpq) \
            -c "$top/$src" -o "$obj"
    fi
    objs="$objs $obj"
done

targets=${FUZZ_TARGETS:-$(cd "$here" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
failed=
for name in $targets; do
    bin=$build/fuzz_$name
    # shellcheck disable=SC2086
    $cc $flags -fsanitize=fuzzer "$here/fuzz_$name.c" $objs $deps -lpthread -o "$bin"
    corpus=$corpus_root/$name
    mkdir -p "$corpus"
    echo "== fuzz_$name: ${seconds}s, corpus $corpus ($(ls "$corpus" | wc -l) inputs)"
    # -close_fd_mask=3: the targets' own output (config_parse prints) is dropped; libFuzzer and
    # the sanitizers still report on the original stderr.
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
        "$bin" -max_total_time="$seconds" -close_fd_mask=3 -max_len=4096 -timeout=10 \
        -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
        "$corpus" 2>"$build/fuzz_$name.log"; then
        grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$build/fuzz_$name.log" || true
    else
        echo "fuzz_$name FAILED: see $build/fuzz_$name.log and $artifacts/$name-*"
        grep -E 'ERROR|SUMMARY|invariant|runtime error' "$build/fuzz_$name.log" | head -5 || true
        failed="$failed $name"
    fi
done

if [ -n "$failed" ]; then
    echo "fuzzing found problems in:$failed"
    exit 1
fi
echo "fuzzing: no crashes"
