#!/bin/bash
# `vgic inspect` on a snapshot taken from a real guest run (issue 6): the 4-vCPU demo maps devices
# on the ITS; the snapshot it leaves must render as JSON that parses and shows that routing, as
# DOT that Graphviz renders, and as SVG. Usage: inspect_cli.sh VGIC JSON_CHECK DEMO_ELF WORKDIR
set -eu
vgic=$1 json_check=$2 demo=$3 work=$4
mkdir -p "$work"
snap=$work/demo.gic
rm -f "$snap"
"$vgic" run --cpus 4 --save-gic "$snap" "$demo" >/dev/null
"$vgic" inspect "$snap" | grep -q "^CPU 3 (MPIDR 0x3)"
"$vgic" inspect --json "$snap" >"$work/demo.json"
# The demo maps DeviceID 0's events 0..3 to collections 0..3, one per CPU.
"$json_check" "$work/demo.json" /config/nr_cpus /its/0/devices/0/events/3/cpu /its/0/collections/3/icid /cpus/3/cpu_interface/pmr
grep -q '"cpu": 3' "$work/demo.json"
if command -v dot >/dev/null; then
  "$vgic" inspect --dot "$snap" | dot -Tsvg >"$work/demo-from-dot.svg"
  "$vgic" inspect --svg "$snap" >"$work/demo.svg"
  grep -q "<svg" "$work/demo.svg"
fi
echo "inspect: ok"
