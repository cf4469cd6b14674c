#!/bin/sh
# run_guest.sh [--stderr-has TEXT] EXPECTED COMMAND...
# Runs a guest (under QEMU or `vgic run`) with a time limit and compares its output (stdout: the guest's
# UART), line for line, with the expected file (QEMU's output, checked in). With --stderr-has, the
# run's stderr must also contain TEXT (e.g. that `vgic run --migrate-at N` really migrated).
set -u
need=
if [ "$1" = "--stderr-has" ]; then
  need=$2
  shift 2
fi
expected=$1
shift
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$out.lf" "$err"' EXIT
timeout 30 "$@" </dev/null >"$out" 2>"$err"
rc=$?
# QEMU, the oracle, has hung once on a loaded CI host (TCG; see tests/tools/machine/qemu_oracle.sh):
# a QEMU run that times out is tried once more. A `vgic run` that times out is never retried.
case "$(basename "$1")" in
  qemu-system-*)
    if [ "$rc" -eq 124 ]; then
      echo "run_guest: QEMU timed out; trying once more" >&2
      timeout 30 "$@" </dev/null >"$out" 2>"$err"
      rc=$?
    fi
    ;;
esac
# QEMU and vgic may end lines with CR LF or LF.
tr -d '\r' <"$out" >"$out.lf"
if ! diff -u "$expected" "$out.lf"; then
  echo "run_guest: output differs from $expected (exit status $rc); stderr:"
  tail -n 20 "$err"
  exit 1
fi
if [ "$rc" -ne 0 ]; then
  echo "run_guest: output matches but the run exited with status $rc; stderr:"
  tail -n 20 "$err"
  exit 1
fi
if [ -n "$need" ] && ! grep -qF -- "$need" "$err"; then
  echo "run_guest: output matches, but stderr lacks \"$need\"; stderr:"
  tail -n 20 "$err"
  exit 1
fi
echo "run_guest: output matches $expected"
