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
exit $status
