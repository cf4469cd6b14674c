#!/bin/bash
# Makes corrupted copies of a good trace at run time and checks that `vgic replay` rejects each
# with a clear message: (1) a line that is not JSON, (2) one expected register value changed.
# Usage: corrupt_trace.sh VGIC EXPECT_SH TRACE
set -u
vgic=$1 expect=$2 trace=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
head -n 40 "$trace" >"$dir/garbage.jsonl"
echo '{"n":40,"k":"mmio", this is not json' >>"$dir/garbage.jsonl"
tail -n +41 "$trace" >>"$dir/garbage.jsonl"
"$expect" 1 - 'line 41' "$vgic" replay "$dir/garbage.jsonl" || exit 1
# Record 2 (line 3) reads GICD_TYPER; expect a value vgic will not produce.
sed '3s/"val":"0x37a0007"/"val":"0x37a0008"/' "$trace" >"$dir/mismatch.jsonl"
cmp -s "$trace" "$dir/mismatch.jsonl" && { echo "the trace changed: nothing was corrupted"; exit 1; }
"$expect" 1 - '1 mismatch' "$vgic" replay "$dir/mismatch.jsonl" || exit 1
"$vgic" replay "$dir/mismatch.jsonl" | grep -q 'record 2 (line 3' || { echo "the mismatch is not located"; exit 1; }
