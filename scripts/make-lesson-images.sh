#!/usr/bin/env bash
# Makes the small images the lessons open (public/lessons/), with qemu-img and qemu-io, from one
# pattern, so an independent implementation of each format wrote them:
# - disk.vhd (dynamic VHD) and disk.qcow2: a 16 MiB disk with 64 KiB of 0x5a at 0 and 64 KiB of
#   0xa5 at 1 MiB (lesson "image formats"; the raw copy is built in the page from the same pattern).
# - base.qcow2 <- mid.qcow2 <- top.qcow2: a 4 MiB chain, each file writing its own byte in its own
#   range, mid and top overwriting part of the range below (lesson "differencing chains").
# Small clusters (4 KiB) keep the qcow2 files small. Re-run to regenerate; the output is committed.
set -euo pipefail
cd "$(dirname "$0")/../public"
mkdir -p lessons
cd lessons
rm -f disk.vhd disk.qcow2 base.qcow2 mid.qcow2 top.qcow2

qemu-img create -q -f vpc -o subformat=dynamic disk.vhd 16M
qemu-img create -q -f qcow2 -o cluster_size=4096 disk.qcow2 16M
for img in "disk.vhd vpc" "disk.qcow2 qcow2"; do
  set -- $img
  qemu-io -f "$2" -c 'write -P 0x5a 0 64k' -c 'write -P 0xa5 1M 64k' "$1" >/dev/null
done

qemu-img create -q -f qcow2 -o cluster_size=4096 base.qcow2 4M
qemu-io -f qcow2 -c 'write -P 0x11 0 256k' base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=4096 -b base.qcow2 -F qcow2 mid.qcow2
qemu-io -f qcow2 -c 'write -P 0x22 128k 256k' mid.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=4096 -b mid.qcow2 -F qcow2 top.qcow2
qemu-io -f qcow2 -c 'write -P 0x33 320k 128k' top.qcow2 >/dev/null
ls -l
