#!/usr/bin/env bash
# Builds and runs every test: native, under ASan+UBSan, and the Windows
# cross-build under wine. Each build folder is reused when present.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
status=0
for preset in default asan mingw; do
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
