#!/usr/bin/env bash
# The test command: installs what is missing (apt), configures, builds with -j2 and runs the
# whole suite with CTest. Extra arguments go to ctest (e.g. -R Demo).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/cmake/bootstrap.sh"
cd "$EPE_BUILD_DIR"
ctest --output-on-failure -j "${EPE_JOBS:-2}" "$@"
