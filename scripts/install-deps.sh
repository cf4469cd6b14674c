#!/usr/bin/env bash
# Installs every Debian package vgic needs to build, test and run, if it is missing.
# Called by `make test` and `make run`; safe to run repeatedly (does nothing when all is present).
set -euo pipefail

# Build: cmake, ninja, a C++20 compiler (g++), pkg-config (for the vgic.pc test).
# Tests: GoogleTest/GoogleMock. Benchmarks: Google Benchmark. Fuzzing/sanitizers: clang + compiler-rt.
PKGS=(cmake ninja-build g++ make pkg-config googletest libgtest-dev libgmock-dev libbenchmark-dev
      clang libclang-rt-dev nlohmann-json3-dev zlib1g-dev)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
