#!/bin/bash
# Runs a command and checks its exit status, its stdout (exactly, against a file) and its stderr
# (against an extended regex). Usage: expect.sh RC STDOUT_FILE|- STDERR_REGEX|- COMMAND [ARGS...]
set -u
rc_want=$1 out_file=$2 err_re=$3
shift 3
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
rc=$?
fail=0
if [ "$rc" != "$rc_want" ]; then echo "exit status $rc, expected $rc_want"; fail=1; fi
if [ "$out_file" != - ] && ! diff -u "$out_file" "$out"; then fail=1; fi
if [ "$err_re" != - ] && ! grep -Eq -- "$err_re" "$err"; then echo "stderr does not match /$err_re/"; fail=1; fi
if [ $fail != 0 ]; then echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; fi
exit $fail
