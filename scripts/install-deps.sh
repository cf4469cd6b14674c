#!/usr/bin/env bash
# Installs every Debian package vgic needs to build, test and run, if it is missing.
# Called by `make test` and `make run`; safe to run repeatedly (does nothing when all is present).
set -euo pipefail

# Build: cmake, ninja, a C++20 compiler (g++), pkg-config (for the vgic.pc test).
# Tests: GoogleTest/GoogleMock. Benchmarks: Google Benchmark. Fuzzing/sanitizers: clang + compiler-rt.
# Tools (`vgic`): CLI11, nlohmann-json, zlib (gzip traces), Unicorn (the reference machine's CPUs),
# libfdt (its device tree), Graphviz (`vgic inspect --svg`).
# Guests: the aarch64 cross compiler; QEMU (qemu-system-aarch64) is the oracle the guest tests
# compare `vgic run` against.
PKGS=(cmake ninja-build g++ make pkg-config googletest libgtest-dev libgmock-dev libbenchmark-dev
      clang libclang-rt-dev nlohmann-json3-dev zlib1g-dev
      libcli11-dev libunicorn-dev libfdt-dev graphviz
      gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-system-arm)

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
