#!/bin/sh
# run_guest.sh EXPECTED COMMAND...: runs a guest (under QEMU or `vgic run`) with a time limit and
# compares its output, line for line, with the expected file (QEMU's output, checked in).
set -u
expected=$1
shift
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
timeout 30 "$@" </dev/null >"$out" 2>"$err"
rc=$?
# The UART output only: QEMU and vgic may end lines with CR LF or LF.
tr -d '\r' <"$out" >"$err.lf" && cat "$err.lf" >"$out" && rm -f "$err.lf"
if ! diff -u "$expected" "$out"; then
  echo "run_guest: output differs from $expected (exit status $rc); stderr:"
  cat "$err"
  exit 1
fi
if [ "$rc" -ne 0 ]; then
  echo "run_guest: output matches but the run exited with status $rc"
  exit 1
fi
echo "run_guest: output matches $expected"
