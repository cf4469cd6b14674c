#!/bin/bash
# Runs a test image under real QEMU, the oracle that confirms expected/<name>.out, and passes on its
# stdout and exit status. Usage: qemu_oracle.sh SECONDS QEMU [ARGS...]
#
# Why a second attempt: QEMU 7.2's TCG has hung on us once (CI, 2026-11-21, loaded host: the irq
# image stopped right after printing "irq 27", in code that needs microseconds; 150 runs under load
# never reproduced it). A guest that runs in 0.06 s and a QEMU that never returns says nothing about
# vgic, which is not in the process. So an attempt that times out is retried once, with the note on
# stderr; any other outcome (a wrong line, a crash, a second timeout) is reported as it is.
set -u
limit=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for attempt in 1 2; do
  timeout "$limit" "$@" >"$out"
  rc=$?
  [ "$rc" != 124 ] && break
  echo "qemu_oracle.sh: attempt $attempt timed out after ${limit} s" >&2
done
cat "$out"
exit "$rc"
