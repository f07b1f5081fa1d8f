#!/usr/bin/env bash
# The repository's C++ sources are formatted as its .clang-format says (run by CTest as
# format.clang_format, hence by tests/run.sh and .ci/run). To fix: the same file list with
# `clang-format -i`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v clang-format >/dev/null || { echo "check_format: clang-format not found (apt install clang-format)" >&2; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.cpp' '*.h' | grep -v '^tests/fixtures/')
else
  mapfile -t files < <(find lib apps tests -name '*.cpp' -o -name '*.h' | grep -v '^tests/fixtures/')
fi
existing=()
for f in "${files[@]}"; do [[ -f "$f" ]] && existing+=("$f"); done
echo "check_format: $(clang-format --version | head -1), ${#existing[@]} files"
clang-format --dry-run --Werror "${existing[@]}"
echo "check_format: clean"
