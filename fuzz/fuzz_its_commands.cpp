// libFuzzer harness: the ITS command queue together with arbitrary guest-RAM contents for every
// table it reads (device table flat or two-level, collection table flat or two-level, ITTs, LPI
// configuration and pending tables), interleaved with MSIs, acknowledges, register writes that
// invalidate translations (GITS_CTLR, GICR_CTLR.EnableLPIs, BASER rewrites) and the KVM table
// ABI. fuzz_mmio reaches the same code only after guessing a whole ITS setup; here the setup is
// done (from the header) and the input spends its bytes on commands and table contents.
//
// Input (little-endian, reads past the end give zeros):
//   u8 flags  bit0: two-level device table    bit1: two-level collection table
//             bit2: 4 KiB pages (else 64 KiB)  bit3: VGIC_ITS_ERRORS_STALL (else skip)
//             bit4: GITS_TYPER.PTA             bit5: no translation cache   bit6: SEIS
//             bit7: GICR_TYPER.DirectLPI
//   u8 table pages - 1 (0..3), u8 queue pages - 1 (0..1)
//   then ops, one opcode byte each (see the switch).
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_input.hpp"
#include "vgic/vgic.h"

namespace {

constexpr uint64_t kRamSize = 2u << 20;  // at GPA 0
// Fixed guest layout; the regions after kItt are where the input puts ITTs and level-2 pages.
constexpr uint64_t kProp = 0x00000, kPend0 = 0x10000, kPend1 = 0x20000, kQueue = 0x30000;
constexpr uint64_t kDevTable = 0x40000, kCollTable = 0x80000, kItt = 0x100000;
constexpr uint32_t GITS_CTLR = 0x0, GITS_CBASER = 0x80, GITS_CWRITER = 0x88, GITS_CREADR = 0x90, GITS_BASER = 0x100;
constexpr uint32_t kIAR1 = VGIC_SYSREG(3, 0, 12, 12, 0), kEOIR1 = VGIC_SYSREG(3, 0, 12, 12, 1);
constexpr uint32_t kIGRPEN1 = VGIC_SYSREG(3, 0, 12, 12, 7), kPMR = VGIC_SYSREG(3, 0, 4, 6, 0);
constexpr unsigned kMaxOps = 1024;
// Command opcodes (IHI0069 5.3), plus two the ITS does not implement (VMAPP, an unknown one).
constexpr uint8_t kOpcodes[] = {0x08, 0x09, 0x0A, 0x0B, 0x01, 0x03, 0x04, 0x0F, 0x0C, 0x0D, 0x05, 0x0E, 0x29, 0x7F};

std::vector<uint8_t>& ram() {
  static std::vector<uint8_t> r(kRamSize);
  return r;
}

void put64(uint64_t gpa, uint64_t v) { std::memcpy(ram().data() + gpa, &v, 8); }

struct Rig {
  vgic_config cfg;
  vgic* g = nullptr;
  uint64_t its_base = 0, gicr = 0;
  Rig(uint8_t flags) {
    vgic_config_init(&cfg);
    cfg.nr_cpus = 2;
    cfg.nr_its = 1;
    cfg.max_host_memory = 16u << 20;
    cfg.its[0].error_policy = (flags & 8) ? VGIC_ITS_ERRORS_STALL : VGIC_ITS_ERRORS_SKIP;
    cfg.its[0].pta = (flags >> 4) & 1;
    cfg.its[0].cache_entries = (flags & 32) ? 0 : 64;
    cfg.its[0].seis = (flags >> 6) & 1;
    cfg.direct_lpi = (flags >> 7) & 1;
    g = vgic_create(&cfg, nullptr, 0);
    if (!g || vgic_map_ram(g, 0, kRamSize, ram().data()) != 0) __builtin_trap();
    its_base = cfg.its[0].base;
    gicr = cfg.gicr_base;
  }
  ~Rig() { vgic_destroy(g); }
  void its_w(uint32_t off, uint64_t v, unsigned size = 8) { (void)vgic_mmio_write(g, its_base + off, size, v); }
  uint64_t its_r(uint32_t off) {
    uint64_t v = 0;
    (void)vgic_mmio_read(g, its_base + off, 8, &v);
    return v;
  }
};

// GITS_BASER value for a table at pa (IHI0069 5.4.1 / 12.19.1): Valid, Indirect, page size, Size.
uint64_t baser_value(uint64_t ro_bits, uint64_t pa, bool indirect, bool pages4k, unsigned pages) {
  return ro_bits | 1ull << 63 | uint64_t(indirect) << 62 | pa | uint64_t(pages4k ? 0 : 2) << 8 | (pages - 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const uint8_t flags = in.u8();
  const unsigned table_pages = 1 + (in.u8() & 3), queue_pages = 1 + (in.u8() & 1);
  const bool pages4k = flags & 4;
  std::memset(ram().data(), 0, kRamSize);
  std::memset(ram().data() + kProp, 0xa1, (1u << 16) - 8192);  // LPIs 8192..65535: priority 0xa0, enabled
  Rig r(flags);
  vgic* g = r.g;

  // What a driver does before the first command (Linux's irq-gic-v3 / irq-gic-v3-its order).
  (void)vgic_mmio_write(g, r.cfg.gicd_base, 4, 0x13);
  for (unsigned cpu = 0; cpu < 2; ++cpu) {
    const uint64_t rd = r.gicr + cpu * 0x20000;
    (void)vgic_mmio_write(g, rd + 0x14, 4, 0);                        // GICR_WAKER
    (void)vgic_mmio_write(g, rd + 0x70, 8, kProp | 15);               // PROPBASER: 16 ID bits
    (void)vgic_mmio_write(g, rd + 0x78, 8, cpu ? kPend1 : kPend0);    // PENDBASER
    (void)vgic_mmio_write(g, rd + 0x0, 4, 1);                         // EnableLPIs
    (void)vgic_sysreg_write(g, cpu, kPMR, 0xff);
    (void)vgic_sysreg_write(g, cpu, kIGRPEN1, 1);
  }
  uint64_t baser[8] = {};
  for (unsigned n = 0; n < 8; ++n) {
    const uint64_t reset = r.its_r(GITS_BASER + 8 * n);
    const uint64_t type = (reset >> 56) & 7, ro = reset & (0x7ull << 56 | 0x1full << 48);
    if (type == 1) baser[n] = baser_value(ro, kDevTable, flags & 1, pages4k, table_pages);
    if (type == 4) baser[n] = baser_value(ro, kCollTable, flags & 2, pages4k, table_pages);
    if (baser[n]) r.its_w(GITS_BASER + 8 * n, baser[n]);
  }
  r.its_w(GITS_CBASER, 1ull << 63 | kQueue | (queue_pages - 1));
  r.its_w(GITS_CWRITER, 0);
  r.its_w(GITS_CTLR, 1, 4);

  const uint64_t queue_bytes = queue_pages * 4096ull;
  uint64_t slot = 0;  // offset of the next command the input writes
  for (unsigned n = 0; n < kMaxOps && !in.empty(); ++n) {
    const uint8_t op = in.u8();
    switch (op % 10) {
      case 0:
      case 1: {  // a command into the next queue slot: opcode from the list (or raw), DeviceID, 3 dwords
        const uint8_t sel = in.u8();
        const uint8_t opcode = sel < 0xE0 ? kOpcodes[sel % sizeof(kOpcodes)] : in.u8();
        const uint64_t dw0 = opcode | uint64_t(in.u32()) << 32;
        const uint64_t dw1 = in.u64(), dw2 = in.u64(), dw3 = in.u64();
        put64(kQueue + slot, dw0);
        put64(kQueue + slot + 8, dw1);
        put64(kQueue + slot + 16, dw2);
        put64(kQueue + slot + 24, dw3);
        slot = (slot + 32) % queue_bytes;
        break;
      }
      case 2: {  // publish: GITS_CWRITER = next slot (bit 0: Retry); sometimes a raw value
        const uint8_t how = in.u8();
        r.its_w(GITS_CWRITER, how < 0xF0 ? (slot | (how & 1)) : in.u64());
        break;
      }
      case 3:
      case 4: {  // one u64 into a table region: device, collection, ITT/level-2 area, LPI tables
        static constexpr uint64_t kRegion[][2] = {{kDevTable, 0x40000}, {kCollTable, 0x40000}, {kItt, 0x100000},
                                                  {kProp, 0x10000},     {kPend0, 0x20000}};
        const uint8_t which = in.u8() % 5;
        const uint64_t off = (in.u32() % kRegion[which][1]) & ~7ull;
        put64(kRegion[which][0] + off, in.u64());
        break;
      }
      case 5: {  // a valid level-1 entry pointing into the ITT/level-2 area (two-level tables)
        const uint8_t which = in.u8();
        const uint64_t l1 = (which & 1) ? kCollTable : kDevTable;
        const uint64_t idx = in.u16() % (table_pages * (pages4k ? 4096 : 65536) / 8);
        const uint64_t page = kItt + (uint64_t(in.u8()) * (pages4k ? 4096 : 65536)) % 0x100000;
        put64(l1 + idx * 8, 1ull << 63 | page);
        break;
      }
      case 6: {  // MSI
        const uint32_t devid = in.u8() < 0xF0 ? in.u8() : in.u32();
        const uint32_t event = in.u16();
        (void)vgic_signal_msi(g, r.its_base + 0x10040, event, devid);
        break;
      }
      case 7: {  // a vCPU acknowledges and completes what is pending
        const unsigned cpu = in.u8() & 1;
        uint64_t id = 0;
        (void)vgic_sysreg_read(g, cpu, kIAR1, &id);
        if (id != 1023) (void)vgic_sysreg_write(g, cpu, kEOIR1, id);
        break;
      }
      case 8: {  // registers that invalidate or re-read translations
        const uint8_t which = in.u8();
        const uint64_t v = in.u64();
        switch (which % 6) {
          case 0: r.its_w(GITS_CTLR, v & 1, 4); break;
          case 1: (void)vgic_mmio_write(g, r.gicr + (which & 8 ? 0x20000 : 0), 4, v & 1); break;  // GICR_CTLR
          case 2: r.its_w(GITS_BASER + 8 * (v & 7), (v & 8) ? baser[v & 7] : v); break;
          case 3: r.its_w(GITS_CBASER, (v & 1) ? (1ull << 63 | kQueue | (queue_pages - 1)) : v); break;
          case 4: (void)r.its_r(GITS_CREADR); break;
          default: {  // GICR_SETLPIR / CLRLPIR / INVLPIR / INVALLR with any INTID (RAZ/WI without DirectLPI)
            static constexpr uint32_t kDirect[] = {0x40, 0x48, 0xA0, 0xB0};
            (void)vgic_mmio_write(g, r.gicr + (which & 8 ? 0x20000 : 0) + kDirect[(v >> 32) & 3], 8, v & 0xffffffff);
            break;
          }
        }
        break;
      }
      default: {  // the VMM's table ABI in the middle of it all
        const uint8_t which = in.u8() % 4;
        if (which == 0) (void)vgic_its_set_attr(g, 0, VGIC_DEV_GRP_CTRL, VGIC_CTRL_ITS_SAVE_TABLES, nullptr);
        if (which == 1) (void)vgic_its_set_attr(g, 0, VGIC_DEV_GRP_CTRL, VGIC_CTRL_ITS_RESTORE_TABLES, nullptr);
        if (which == 2) (void)vgic_set_attr(g, VGIC_DEV_GRP_CTRL, VGIC_CTRL_SAVE_PENDING_TABLES, nullptr);
        if (which == 3) (void)vgic_its_set_attr(g, 0, VGIC_DEV_GRP_CTRL, VGIC_CTRL_ITS_RESET, nullptr);
        break;
      }
    }
  }
  return 0;
}
