#!/usr/bin/env bash
# Checks that fedglioma's executables take std::filesystem from libstdc++, never from libtorch.
# The pip wheels' libtorch.so exports copies of some std::filesystem functions, and a call bound
# to them crashed (std::filesystem::remove_all jumped to address 0). CMakeLists.txt links
# libstdc++ ahead of LibTorch; this script proves it, for each executable given:
#   1. libstdc++.so.6 comes before every LibTorch library among its needed libraries (readelf -d);
#   2. with every symbol bound at start-up (LD_BIND_NOW=1 LD_DEBUG=bindings), each std::filesystem
#      symbol the executable uses binds to libstdc++.so.6.
# Usage: scripts/check_symbol_bindings.sh EXECUTABLE...   (each must accept --help)
set -euo pipefail
status=0
for exe in "$@"; do
  name=$(basename "$exe")
  needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  stdcxx=$(grep -n '^libstdc++\.so' <<<"$needed" | head -1 | cut -d: -f1 || true)
  torch=$(grep -n -E '^lib(torch|torch_cpu|torch_cuda|c10)\.so' <<<"$needed" | head -1 | cut -d: -f1 || true)
  if [[ -z "$stdcxx" || -z "$torch" ]]; then
    echo "symbol_bindings: $name: expected libstdc++ and LibTorch among its needed libraries, got: $(tr '\n' ' ' <<<"$needed")" >&2
    status=1
    continue
  fi
  if (( stdcxx > torch )); then
    echo "symbol_bindings: $name: libstdc++.so.6 is needed library #$stdcxx, after LibTorch's #$torch" >&2
    status=1
  fi
  bindings=$(LD_BIND_NOW=1 LD_DEBUG=bindings "$exe" --help 2>&1 >/dev/null |
             grep -F "binding file $exe [0] to " | grep -F 'symbol `_ZNSt10filesystem' || true)
  total=$(grep -c . <<<"$bindings" || true)
  wrong=$(grep -v -F 'libstdc++.so.6 [0]' <<<"$bindings" | grep . || true)
  if [[ -n "$wrong" ]]; then
    echo "symbol_bindings: $name: std::filesystem symbols bound outside libstdc++:" >&2
    echo "$wrong" >&2
    status=1
  elif (( total == 0 )); then
    echo "symbol_bindings: $name: no std::filesystem binding seen (LD_DEBUG unsupported?)" >&2
    status=1
  else
    echo "symbol_bindings: $name: libstdc++ is needed library #$stdcxx (LibTorch #$torch); $total std::filesystem symbols bound to libstdc++.so.6"
  fi
done
exit "$status"
