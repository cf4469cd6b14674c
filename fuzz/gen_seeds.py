#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/ (run from anywhere; overwrites the seeds it owns)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def out(harness, name, data):
    d = os.path.join(HERE, 'corpus', harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# ---- fuzz_mmio: ops (see fuzz_mmio.cpp)
GICD, GICR0, GICR1, ITS, ITS_T = range(5)
SIZE = {1: 0, 2: 1, 4: 2, 8: 3}
PMR, IAR1, EOIR1, SGI1R, IGRPEN1, CTLR = 0, 14, 15, 11, 21, 18


def mw(frame, off, val, size=4):
    return struct.pack('<BBIBQ', 1, frame, off, SIZE[size], val)


def mr(frame, off, size=4):
    return struct.pack('<BBIB', 0, frame, off, SIZE[size])


def sw(cpu, sel, val):
    return struct.pack('<BBBQ', 3, cpu, sel, val)


def sr(cpu, sel):
    return struct.pack('<BBB', 2, cpu, sel)


def line(cpu, intid, level):
    return struct.pack('<BBHB', 4, cpu, intid, level)


def msi(data, devid, setspi=False):
    return struct.pack('<BBII', 5, 1 if setspi else 0, data, devid)


def ram64(off, val):
    return struct.pack('<BIQ', 7, off, val)


def cmd(off, dws):
    return b''.join(ram64(off + 8 * i, dw) for i, dw in enumerate(dws))


def bring_up():
    s = mw(GICD, 0x0, 0x13)  # ARE_NS, EnableGrp1, EnableGrp0
    for fr, cpu in ((GICR0, 0), (GICR1, 1)):
        s += mw(fr, 0x14, 0)  # GICR_WAKER
        s += sw(cpu, PMR, 0xff) + sw(cpu, IGRPEN1, 1)
    return s


V = 1 << 63
its = bring_up()
its += ram64(0x10000, 0xa1a1a1a1a1a1a1a1)  # LPI 8192..8199: priority 0xa0, enabled
for fr, pend in ((GICR0, 0x20000), (GICR1, 0x30000)):
    its += mw(fr, 0x70, 0x10000 | 15, 8) + mw(fr, 0x78, pend, 8) + mw(fr, 0x0, 1)
its += mr(ITS, 0x8, 8)  # GITS_TYPER
its += mw(ITS, 0x100, V | 0x40000, 8) + mw(ITS, 0x108, V | 0x50000, 8)
its += mw(ITS, 0x80, V | 0x60000, 8) + mw(ITS, 0x88, 0, 8) + mw(ITS, 0x0, 1)
q = 0x60000
its += cmd(q + 0x00, [0x09, 0, V | (0 << 16) | 0, 0])             # MAPC ICID 0 -> CPU 0
its += cmd(q + 0x20, [0x08 | (1 << 32), 3, V | 0x70000, 0])       # MAPD dev 1, 4 event bits
its += cmd(q + 0x40, [0x0a | (1 << 32), 8192 << 32 | 0, 0, 0])    # MAPTI dev 1 ev 0 -> 8192
its += cmd(q + 0x60, [0x0d, 0, 0, 0])                             # INVALL 0
its += cmd(q + 0x80, [0x05, 0, 0, 0])                             # SYNC CPU 0
its += mw(ITS, 0x88, 0xa0, 8) + mr(ITS, 0x90, 8)
its += msi(0, 1) + sr(0, IAR1) + sw(0, EOIR1, 8192)
its += cmd(q + 0xa0, [0x03 | (1 << 32), 0, 0, 0])                 # INT dev 1 ev 0
its += cmd(q + 0xc0, [0x0f | (1 << 32), 0, 0, 0])                 # DISCARD dev 1 ev 0
its += mw(ITS, 0x88, 0xe0, 8) + sr(0, IAR1)
out('fuzz_mmio', 'its-lpi', its)

spi = bring_up()
spi += mw(GICD, 0x6000 + 8 * 40, 1, 8)  # IROUTER40 -> CPU 1
spi += mw(GICD, 0x400 + 40, 0x80, 1) + mw(GICD, 0x80 + 4, 3 << 8) + mw(GICD, 0x104, 1 << 8)
spi += line(0, 40, 1) + sr(1, IAR1) + line(0, 40, 0) + sw(1, EOIR1, 40)
spi += msi(41, 0, setspi=True) + mw(GICD, 0x104, 1 << 9) + sr(0, IAR1) + sw(0, EOIR1, 41)
out('fuzz_mmio', 'spi', spi)

sgi = bring_up()
for fr in (GICR0, GICR1):
    sgi += mw(fr, 0x10000 + 0x80, 0xffffffff) + mw(fr, 0x10000 + 0x100, 0xffffffff)
sgi += sw(0, SGI1R, (3 << 0) | (1 << 1) << 0 | 5 << 24) + sr(1, IAR1) + sw(1, EOIR1, 5)
sgi += sw(0, CTLR, 2) + mw(GICR0, 0x10000 + 0xc04, 0xffffffff) + line(0, 27, 1) + sr(0, IAR1)
out('fuzz_mmio', 'sgi-ppi', sgi)

# ---- fuzz_its_restore: a KVM ITS table ABI revision 0 image (arm-vgic-its.rst)
DT, CT, ITT, PROP = 0x1000, 0x2000, 0x3000, 0x4000
baser0 = V | (1 << 56) | (7 << 48) | DT        # device table, flat, 4 KiB, 1 page
baser1 = V | (4 << 56) | (7 << 48) | CT        # collection table
cbaser = V | 0x5000
hdr = struct.pack('<BQQQIQQ', 1 | 2 | 4 | 8, baser0, baser1, cbaser, 0x5600043B, PROP | 15, 0x8000)
msis = struct.pack('<HHHHHHHH', 1, 0, 1, 1, 2, 0, 0, 0)
ram = bytearray(PROP + 64)
# DTE for device 1: V | Next (offset to the next valid, 0: last) | ITT_addr >> 8 | Size (event bits - 1)
struct.pack_into('<Q', ram, DT + 8, V | (0 << 49) | ((ITT >> 8) << 5) | 3)
struct.pack_into('<Q', ram, CT, V | (0 << 16) | 0)   # collection 0 -> RDbase 0 (CPU 0)
# ITEs: Next[63:48] | pINTID[47:16] | ICID[15:0]
struct.pack_into('<Q', ram, ITT, (1 << 48) | (8192 << 16) | 0)
struct.pack_into('<Q', ram, ITT + 8, (0 << 48) | (8193 << 16) | 0)
ram[PROP:PROP + 8] = b'\xa1' * 8
out('fuzz_its_restore', 'kvm-abi', hdr + msis + bytes(ram))
out('fuzz_its_restore', 'empty-tables', struct.pack('<BQQQIQQ', 2, baser0, baser1, cbaser, 0x5600043B, 0, 0) + msis)

# ---- fuzz_its_commands: header + ops (see fuzz_its_commands.cpp)
OPC = {0x08: 0, 0x09: 1, 0x0A: 2, 0x0B: 3, 0x01: 4, 0x03: 5, 0x04: 6, 0x0F: 7, 0x0C: 8, 0x0D: 9, 0x05: 10,
       0x0E: 11, 0x29: 12, 0x7F: 13}
ITT_AREA = 0x100000


def c(opcode, devid=0, dw1=0, dw2=0, dw3=0):
    return struct.pack('<BBIQQQ', 0, OPC[opcode], devid, dw1, dw2, dw3)


def publish(retry=0):
    return struct.pack('<BB', 2, retry)


def table(which, off, val):  # 0 device, 1 collection, 2 ITT area, 3 prop, 4 pend
    return struct.pack('<BBIQ', 3, which, off, val)


def l1(coll, idx, page):
    return struct.pack('<BBHB', 5, coll, idx, page)


def imsi(devid, event):
    return struct.pack('<BBBH', 6, 0, devid, event)


def ack(cpu):
    return struct.pack('<BB', 7, cpu)


def reg(which, val):
    return struct.pack('<BBQ', 8, which, val)


def abi(which):
    return struct.pack('<BB', 9, which)


def lifecycle(itt, icid=0, rd=0):
    s = c(0x09, 0, 0, V | rd << 16 | icid)                 # MAPC icid -> RDbase
    s += c(0x08, 1, 3, V | itt)                            # MAPD dev 1, 4 event bits
    s += c(0x0A, 1, 8192 << 32 | 0, icid)                  # MAPTI dev 1 ev 0 -> 8192
    s += c(0x0B, 1, 1, icid)                               # MAPI dev 1 ev 1 (-> LPI 1: an error)
    s += c(0x0D, 0, 0, icid) + c(0x05, 0, 0, rd << 16) + publish()
    s += imsi(1, 0) + ack(0) + ack(1)
    s += c(0x03, 1, 0) + c(0x01, 1, 0, 1) + c(0x0C, 1, 0) + publish() + ack(0) + ack(1)
    s += c(0x0F, 1, 0) + c(0x0E, 0, 0, 0, 1 << 16) + c(0x08, 1, 0, 0) + publish()
    s += imsi(1, 0) + ack(0)
    return s


hdr_flat = struct.pack('<BBB', 0x40, 0, 0)
out('fuzz_its_commands', 'flat', hdr_flat + lifecycle(ITT_AREA))
# two-level device table, 64 KiB pages: level-1 entry 0 -> a level-2 page at ITT_AREA + 8 * 64 KiB
hdr_ind = struct.pack('<BBB', 0x41, 1, 0)
out('fuzz_its_commands', 'indirect-devices', hdr_ind + l1(0, 0, 8) + lifecycle(ITT_AREA))
# both tables two-level, 4 KiB pages, stall on errors: an unknown command stalls, Retry skips it
hdr_stall = struct.pack('<BBB', 0x4B, 3, 1)
stall = l1(0, 0, 40) + l1(1, 0, 41) + c(0x7F, 0, 1, 2, 3) + publish() + reg(4, 0) + publish(1)
out('fuzz_its_commands', 'indirect-stall', hdr_stall + stall + lifecycle(ITT_AREA))
# DirectLPI: GICR_INVLPIR below 8192, ITS disable/enable and EnableLPIs toggling around MSIs, the ABI
hdr_direct = struct.pack('<BBB', 0x80 | 0x10, 0, 0)
direct = lifecycle(ITT_AREA, rd=0x080A0000 >> 16)
direct += reg(5, 2 << 32 | 8191) + reg(5, 2 << 32 | 8192) + reg(0, 0) + imsi(1, 0) + reg(0, 1)
direct += reg(1, 0) + imsi(1, 0) + reg(1, 1) + abi(0) + reg(0, 0) + abi(1) + reg(0, 1) + imsi(1, 0) + ack(0)
direct += table(0, 8, 0xffffffffffffffff) + abi(1) + abi(2) + abi(3)
out('fuzz_its_commands', 'direct-lpi-abi', hdr_direct + direct)

# ---- fuzz_replay: the start of a recorded trace
with open(os.path.join(ROOT, 'tests/data/traces/smp2-blk-rng/events.jsonl'), 'rb') as f:
    lines = f.readlines()
out('fuzz_replay', 'smp2-blk-rng-30', b''.join(lines[:30]))
out('fuzz_replay', 'smp2-blk-rng-config', lines[0])
