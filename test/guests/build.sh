#!/usr/bin/env bash
# Builds the C guests (test/guests/*.c) into build/guests/*.wasm with Debian's
# clang and wasi-libc (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32).
# Exit 3 (and a line saying SKIPPED) when no wasm32-wasi clang is here.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/guests
mkdir -p "$out"
cc="${WASI_CC:-clang}"
if ! command -v "$cc" >/dev/null 2>&1 || ! echo 'int main(void){return 0;}' | "$cc" --target=wasm32-wasi -x c - -o "$out/.probe.wasm" 2>/dev/null; then
  echo "SKIPPED: no clang that targets wasm32-wasi (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)" >&2
  exit 3
fi
rm -f "$out/.probe.wasm"
for src in test/guests/*.c; do
  name="$(basename "$src" .c)"
  # Rebuild only what changed.
  if [ ! -f "$out/$name.wasm" ] || [ "$src" -nt "$out/$name.wasm" ]; then
    "$cc" --target=wasm32-wasi -O2 -Wall -Werror -o "$out/$name.wasm" "$src"
  fi
done
