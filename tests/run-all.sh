#!/usr/bin/env bash
# Builds and runs every test: native, under ASan+UBSan, and the Windows
# cross-build under wine. Each build folder is reused when present.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
status=0

# The Windows build's dependencies (GTK 3 and the rest, cross-built from
# Debian's source packages into a cache outside the tree: about 47 minutes on
# two cores the first time on a machine, a second or two afterwards) build
# in the background while the native presets build and test, at a lower
# priority than they (their tests mostly wait on browsers and windows). The
# mingw configure below finds the result, or waits for it.
mkdir -p build
stack_log=build/mingw-stack.log
echo "=== mingw: the Windows dependencies, in the background (log: $stack_log)"
nice -n 10 env LK_BUILD_JOBS="$jobs" bash installer/deps/mingw-stack.sh ensure >"$stack_log" 2>&1 &
stack_pid=$!

for preset in default asan mingw; do
    if [ "$preset" = mingw ]; then
        echo "=== mingw: waiting for the Windows dependencies"
        if ! wait "$stack_pid"; then
            tail -n 40 "$stack_log"
            echo "=== mingw: the Windows dependencies failed to build (full log: $stack_log)"
            status=1
            continue
        fi
        grep -E '^mingw-stack: (\[|complete)' "$stack_log" | tail -n 25 || true
    fi
    echo "=== $preset: configure and build"
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j "$jobs"
    echo "=== $preset: test"
    if ! ctest --preset "$preset" -j "$jobs" --timeout 600; then
        status=1
    fi
done
# The parsers that read what browsers and files say, fuzzed briefly (clang).
echo "=== fuzz: configure, build and run each target for 20 s"
CC=clang cmake -S . -B build/fuzz -DLK_FUZZ=ON >/dev/null
cmake --build build/fuzz --target lk_fuzz -j "$jobs"
if ! ctest --test-dir build/fuzz -R '^unit\.fuzz_' -j "$jobs" --output-on-failure; then
    status=1
fi
exit $status
