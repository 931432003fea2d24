#!/usr/bin/env bash
# Makes the committed fixture images in fixtures/images/ with QEMU's own tools, and records in
# fixtures/images/manifest.json what qemu-img reads from each of them, so our readers can be
# checked against qemu without qemu being installed (src/core/formats/fixtures.test.ts).
#
# Needs: qemu-img and qemu-io (Debian: qemu-utils), sha256sum, node (for the VHDX patch and the
# manifest). Run from anywhere: `bash scripts/make-fixtures.sh`. It replaces fixtures/images/.
#
# Not byte-for-byte reproducible, and that is expected: qemu writes random ids (VHD unique id,
# VHDX file/data/log GUIDs) and time stamps (VHD footer, qcow2 snapshot dates) into the images,
# so the image files differ from run to run. What the images *contain* does not: the sha256 of
# `qemu-img convert -O raw` (of the whole backing chain) and of each snapshot is the same on
# every run, and those are what the manifest records and the test checks. Rerun this only when a
# fixture is added or changed, and commit the images and the manifest together.
#
# Sizes are kept small (the committed set, compressed as git stores it, stays well under 1.5 MB):
# small virtual sizes, data written as repeating byte patterns (`qemu-io -c 'write -P ...'`),
# and the smallest block sizes each format allows. VHDX and dynamic VHD files are mostly zeroes
# (qemu lays out VHDX metadata over the first 8 MiB; a dynamic VHD block is 2 MiB), which git
# compresses to almost nothing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/fixtures/images"
for tool in qemu-img qemu-io sha256sum node; do
  command -v "$tool" >/dev/null 2>&1 || { echo "make-fixtures: $tool is required (qemu-img/qemu-io: apt-get install qemu-utils)" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out" "$work/info"
cd "$out"

# One line per image for the manifest: file, format, raw sha256, chunk sha256s, key=value notes.
entries="$work/entries.tsv"
snapshots="$work/snapshots.tsv"
: >"$entries"
: >"$snapshots"

io() { # io FORMAT FILE CMD...: each CMD is one qemu-io command
  local fmt="$1" file="$2"
  shift 2
  local args=()
  for c in "$@"; do args+=(-c "$c"); done
  qemu-io -f "$fmt" "${args[@]}" "$file" >/dev/null
}

raw_sha() { # raw_sha FORMAT FILE [convert options...]: what qemu-img reads (whole chain), hashed
  # Prints the sha256 of it all, a tab, and the sha256 of each 1 MiB chunk joined by commas (so
  # a reader that differs can be told which MiB differs first).
  local fmt="$1" file="$2"
  shift 2
  rm -f "$work/raw"
  qemu-img convert -f "$fmt" "$@" -O raw "$file" "$work/raw"
  printf '%s\t%s' "$(sha256sum "$work/raw" | cut -d' ' -f1)" \
    "$(split -b $((1024 * 1024)) --filter='sha256sum | cut -c1-64' "$work/raw" | paste -sd,)"
}

record() { # record FORMAT FILE [key=value ...]: hash now, keep qemu-img info for the manifest
  local fmt="$1" file="$2"
  shift 2
  qemu-img info -f "$fmt" --output=json "$file" >"$work/info/$file.json"
  local notes=""
  for kv in "$@"; do notes+=$'\t'"$kv"; done
  printf '%s\t%s\t%s%s\n' "$file" "$fmt" "$(raw_sha "$fmt" "$file")" "$notes" >>"$entries"
}

snapshot() { # snapshot FILE NAME: take an internal snapshot and record what it holds
  qemu-img snapshot -c "$2" "$1"
}

record_snapshots() { # after all writes: hash each snapshot of FILE
  local file="$1"
  shift
  for name in "$@"; do
    printf '%s\t%s\t%s\n' "$file" "$name" "$(raw_sha qcow2 "$file" -l "snapshot.name=$name")" >>"$snapshots"
  done
}

K=1024
M=$((1024 * 1024))

# --- VHD (qemu's "vpc") ---------------------------------------------------------------------
# Fixed: the data then a 512-byte footer. force_size keeps the exact size (no CHS rounding).
qemu-img create -q -f vpc -o subformat=fixed,force_size=on vpc-fixed.vhd $((256 * K))
io vpc vpc-fixed.vhd 'write -P 0x11 0 4096' 'write -P 0x22 66048 1536' 'write -P 0xfe 261632 512'
record vpc vpc-fixed.vhd

# Dynamic, 3 blocks of 2 MiB: block 0 partly written (sector bitmap partly set), block 1 never
# allocated, block 2 holding the disk's last sector; a zero write inside block 0.
qemu-img create -q -f vpc -o subformat=dynamic,force_size=on vpc-dynamic.vhd $((6 * M))
io vpc vpc-dynamic.vhd 'write -P 0x31 512 3072' 'write -P 0x32 65536 65536' 'write -z 69632 4096' \
  "write -P 0x33 $((4 * M + 4096)) 8192" "write -P 0x34 $((6 * M - 512)) 512"
record vpc vpc-dynamic.vhd

# Dynamic without force_size: qemu rounds the size up to a CHS geometry, and the size a reader
# reports must be the footer's (what qemu reports), not the requested one.
qemu-img create -q -f vpc -o subformat=dynamic vpc-dynamic-chs.vhd $((5 * M))
io vpc vpc-dynamic-chs.vhd "write -P 0x35 $((5 * M - 4096)) 4096"
record vpc vpc-dynamic-chs.vhd

# --- VHDX -------------------------------------------------------------------------------------
# Dynamic, 1 MiB blocks (the smallest), 1 MiB log: partly written blocks, a zero write that qemu
# records as a ZERO block state, an unallocated block, the last sector.
qemu-img create -q -f vhdx -o subformat=dynamic,block_size=1M,log_size=1M vhdx-dynamic-512.vhdx $((6 * M))
io vhdx vhdx-dynamic-512.vhdx 'write -P 0x41 0 4096' "write -P 0x42 $((M + 512)) 1024" \
  "write -P 0x43 $((3 * M)) $((M))" "write -z $((3 * M)) $((M))" "write -P 0x44 $((3 * M + 8192)) 4096" \
  "write -P 0x45 $((6 * M - 512)) 512"
record vhdx vhdx-dynamic-512.vhdx

# 4096-byte logical sectors: qemu creates and reads only 512-byte ones, so a qemu image is made
# and its logical sector size metadata item patched to 4096. With fewer blocks than the chunk
# ratio (4096 blocks at 512, 32768 at 4096) no sector bitmap entry falls inside the BAT at either
# size, so the layout stays valid and the bytes are what qemu read before the patch. The
# manifest says so (rawFrom); qemu-img refuses the patched file ("Operation not supported").
qemu-img create -q -f vhdx -o subformat=dynamic,block_size=1M,log_size=1M vhdx-dynamic-4096.vhdx $((5 * M))
io vhdx vhdx-dynamic-4096.vhdx 'write -P 0x51 0 8192' "write -P 0x52 $((2 * M + 4096)) $((16 * K))" \
  "write -P 0x53 $((5 * M - 4096)) 4096"
record vhdx vhdx-dynamic-4096.vhdx logicalSectorSize=4096 'rawFrom=qemu-img convert before the logical sector size was patched from 512 to 4096 (qemu reads only 512)'
node --input-type=module - vhdx-dynamic-4096.vhdx <<'EOF'
// Walks the region table and metadata table (MS-VHDX 2.2, 2.6) to the logical sector size item.
import * as fs from 'node:fs';
const file = process.argv[2];
const b = fs.readFileSync(file);
const guid = (s) => { // GUID text to its on-disk (mixed-endian) bytes
  const h = s.replaceAll('-', '');
  const le = (x) => Buffer.from(x, 'hex').reverse();
  return Buffer.concat([le(h.slice(0, 8)), le(h.slice(8, 12)), le(h.slice(12, 16)), Buffer.from(h.slice(16), 'hex')]);
};
const METADATA_REGION = guid('8B7CA206-4790-4B9A-B8FE-575F050F886E');
const LOGICAL_SECTOR_SIZE = guid('8141BF1D-A96F-4709-BA47-F233A8FAAB5F');
const rt = 192 * 1024;
let done = false;
for (let i = 0; i < b.readUInt32LE(rt + 8); i++) {
  const at = rt + 16 + 32 * i;
  if (!b.subarray(at, at + 16).equals(METADATA_REGION)) continue;
  const meta = Number(b.readBigUInt64LE(at + 16));
  for (let j = 0; j < b.readUInt16LE(meta + 10); j++) {
    const e = meta + 32 + 32 * j;
    if (!b.subarray(e, e + 16).equals(LOGICAL_SECTOR_SIZE)) continue;
    const item = meta + b.readUInt32LE(e + 16);
    if (b.readUInt32LE(item) !== 512) throw new Error(`${file}: logical sector size is not 512`);
    b.writeUInt32LE(4096, item);
    done = true;
  }
}
if (!done) throw new Error(`${file}: logical sector size item not found`);
fs.writeFileSync(file, b);
EOF

# --- qcow2 -------------------------------------------------------------------------------------
# v2 (compat=0.10): no zero clusters, so a zero write over backing data allocates zeroed data.
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=65536 qcow2-v2-base.qcow2 $((2 * M))
io qcow2 qcow2-v2-base.qcow2 'write -P 0x61 0 65536' 'write -P 0x62 200704 12288' "write -P 0x63 $((2 * M - 512)) 512"
record qcow2 qcow2-v2-base.qcow2

# An overlay larger than its base (past the base's end it reads zeroes), smaller clusters than
# the base (partial-cluster writes copy the rest of the cluster up from the base).
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4096 -b qcow2-v2-base.qcow2 -F qcow2 qcow2-v2-overlay.qcow2 $((3 * M))
io qcow2 qcow2-v2-overlay.qcow2 'write -P 0x64 1024 2048' 'write -z 204800 4096' \
  "write -P 0x65 $((2 * M - 1024)) 2048" "write -P 0x66 $((3 * M - 4096)) 4096"
record qcow2 qcow2-v2-overlay.qcow2

# v3 (compat=1.1), 64 KiB clusters, with zero clusters of its own.
qemu-img create -q -f qcow2 -o compat=1.1,cluster_size=65536 qcow2-v3-base.qcow2 $((2 * M))
io qcow2 qcow2-v3-base.qcow2 "write -P 0x71 0 $((256 * K))" 'write -z 65536 65536' \
  "write -P 0x72 $((M + 3 * 512)) 700" "write -P 0x73 $((2 * M - 65536)) 65536"
record qcow2 qcow2-v3-base.qcow2

# v3 overlay: zero clusters and a discard over base data (both must hide it), partial clusters.
qemu-img create -q -f qcow2 -o compat=1.1,cluster_size=16384 -b qcow2-v3-base.qcow2 -F qcow2 qcow2-v3-overlay.qcow2
io qcow2 qcow2-v3-overlay.qcow2 'write -z 16384 16384' 'discard 131072 16384' 'write -P 0x74 40960 1000' \
  "write -P 0x75 $((M)) 16384" "write -z $((2 * M - 16384)) 16384"
record qcow2 qcow2-v3-overlay.qcow2

# A third level with extended L2 entries (32 subclusters of 2 KiB): subcluster-sized writes and
# zero subclusters over a chain.
qemu-img create -q -f qcow2 -o compat=1.1,cluster_size=65536,extended_l2=on -b qcow2-v3-overlay.qcow2 -F qcow2 qcow2-v3-top-extl2.qcow2
io qcow2 qcow2-v3-top-extl2.qcow2 'write -P 0x76 2048 2048' 'write -z 8192 4096' "write -P 0x77 $((M + 6144)) 512" \
  "write -P 0x78 $((2 * M - 2048)) 2048"
record qcow2 qcow2-v3-top-extl2.qcow2

# Compressed clusters: `qemu-img convert -c` of a raw image with compressible clusters (patterns),
# an incompressible one (qemu stores it uncompressed) and zero runs (left unallocated).
qemu-img create -q -f raw "$work/src.raw" $((M))
io raw "$work/src.raw" 'write -P 0x81 0 65536' 'write -P 0x82 131072 100000' "write -P 0x83 $((M - 4096)) 4096"
node -e '
  // 64 KiB of xorshift32 output at 512 KiB: data deflate cannot shrink.
  const fs = require("node:fs");
  const b = Buffer.alloc(65536);
  let x = 2463534242;
  for (let i = 0; i < b.length; i += 4) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b.writeUInt32LE(x, i); }
  const fd = fs.openSync(process.argv[1], "r+");
  fs.writeSync(fd, b, 0, b.length, 524288);
  fs.closeSync(fd);
' "$work/src.raw"
qemu-img convert -q -c -f raw -O qcow2 -o compat=1.1,cluster_size=65536 "$work/src.raw" qcow2-v3-compressed.qcow2
record qcow2 qcow2-v3-compressed.qcow2
qemu-img convert -q -c -f raw -O qcow2 -o compat=0.10,cluster_size=4096 "$work/src.raw" qcow2-v2-compressed.qcow2
record qcow2 qcow2-v2-compressed.qcow2

# Internal snapshots: each holds the disk as it was when taken; the active state has moved on.
qemu-img create -q -f qcow2 -o compat=1.1,cluster_size=4096 qcow2-v3-snapshots.qcow2 $((M))
io qcow2 qcow2-v3-snapshots.qcow2 'write -P 0x91 0 16384' 'write -P 0x92 524288 8192'
snapshot qcow2-v3-snapshots.qcow2 first
io qcow2 qcow2-v3-snapshots.qcow2 'write -P 0x93 4096 4096' 'write -z 524288 4096' "write -P 0x94 $((M - 4096)) 4096"
snapshot qcow2-v3-snapshots.qcow2 second
io qcow2 qcow2-v3-snapshots.qcow2 'write -P 0x95 0 512' 'discard 528384 4096'
record qcow2 qcow2-v3-snapshots.qcow2
record_snapshots qcow2-v3-snapshots.qcow2 first second

# A qcow2 over a raw backing file.
qemu-img create -q -f raw raw-base.raw $((M))
io raw raw-base.raw 'write -P 0xa1 0 65536' "write -P 0xa2 $((M - 8192)) 8192"
record raw raw-base.raw
qemu-img create -q -f qcow2 -o compat=1.1,cluster_size=65536 -b raw-base.raw -F raw qcow2-over-raw.qcow2
io qcow2 qcow2-over-raw.qcow2 'write -P 0xa3 32768 4096' "write -z $((M - 65536)) 4096"
record qcow2 qcow2-over-raw.qcow2

# --- manifest -------------------------------------------------------------------------------
node --input-type=module - "$entries" "$snapshots" "$work/info" "$(qemu-img --version | head -n 1)" >manifest.json <<'EOF'
import * as fs from 'node:fs';
import * as path from 'node:path';
const [entriesFile, snapshotsFile, infoDir, qemuVersion] = process.argv.slice(2);
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
const snaps = lines(snapshotsFile);
const chunks = (list) => list.split(',');
const images = lines(entriesFile).map(([file, format, rawSha256, chunkList, ...notes]) => {
  const info = JSON.parse(fs.readFileSync(path.join(infoDir, `${file}.json`), 'utf8'));
  const extra = Object.fromEntries(notes.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const data = info['format-specific']?.data ?? {};
  const entry = {
    file,
    format,
    virtualSize: info['virtual-size'],
    fileSize: fs.statSync(file).size,
    backingFile: info['backing-filename'] ?? null,
    backingFormat: info['backing-filename-format'] ?? null,
    ...(info['cluster-size'] === undefined ? {} : { clusterSize: info['cluster-size'] }),
    ...(data.compat === undefined ? {} : { compat: data.compat }),
    ...(data['extended-l2'] === true ? { extendedL2: true } : {}),
    ...(extra.logicalSectorSize === undefined ? {} : { logicalSectorSize: Number(extra.logicalSectorSize) }),
    rawSha256,
    chunkSha256: chunks(chunkList),
    ...(extra.rawFrom === undefined ? {} : { rawFrom: extra.rawFrom }),
  };
  const own = snaps.filter(([f]) => f === file);
  if (own.length > 0) {
    entry.snapshots = own.map(([, name, sha, chunkList]) => {
      const s = (info.snapshots ?? []).find((x) => x.name === name);
      return { id: s?.id ?? null, name, rawSha256: sha, chunkSha256: chunks(chunkList) };
    });
  }
  return entry;
});
const manifest = {
  about: 'Made by scripts/make-fixtures.sh. rawSha256: sha256 of `qemu-img convert -O raw` of the image with its whole backing chain; a snapshot\'s, of `qemu-img convert -l snapshot.name=NAME`; chunkSha256: the same output hashed per chunkSize bytes. Image files differ run to run (qemu writes random ids and time stamps); these hashes do not.',
  chunkSize: 1048576,
  qemu: qemuVersion,
  images,
};
process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
EOF
echo "make-fixtures: wrote $(ls | wc -l) files to $out ($(du -sh --apparent-size . | cut -f1) apparent)"
