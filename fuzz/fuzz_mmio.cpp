// libFuzzer harness: a guest driving a 2-CPU GIC with one ITS through MMIO, system registers, device
// lines, MSIs and raw writes into its RAM (ITS tables, command queue, LPI tables). Input format: see
// the op decoder below (fuzz/gen_seeds.py writes seeds in it).
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_input.hpp"
#include "vgic/vgic.h"

namespace {

constexpr uint64_t kRamBase = 0, kRamSize = 1u << 20;  // at GPA 0: small table addresses hit RAM
constexpr unsigned kMaxOps = 2048;

const uint32_t kSysregs[] = {
    VGIC_SYSREG(3, 0, 4, 6, 0),    // PMR
    VGIC_SYSREG(3, 0, 12, 8, 0),   // IAR0
    VGIC_SYSREG(3, 0, 12, 8, 1),   // EOIR0
    VGIC_SYSREG(3, 0, 12, 8, 2),   // HPPIR0
    VGIC_SYSREG(3, 0, 12, 8, 3),   // BPR0
    VGIC_SYSREG(3, 0, 12, 8, 4),   // AP0R0
    VGIC_SYSREG(3, 0, 12, 8, 7),   // AP0R3
    VGIC_SYSREG(3, 0, 12, 9, 0),   // AP1R0
    VGIC_SYSREG(3, 0, 12, 9, 3),   // AP1R3
    VGIC_SYSREG(3, 0, 12, 11, 1),  // DIR
    VGIC_SYSREG(3, 0, 12, 11, 3),  // RPR
    VGIC_SYSREG(3, 0, 12, 11, 5),  // SGI1R
    VGIC_SYSREG(3, 0, 12, 11, 6),  // ASGI1R
    VGIC_SYSREG(3, 0, 12, 11, 7),  // SGI0R
    VGIC_SYSREG(3, 0, 12, 12, 0),  // IAR1
    VGIC_SYSREG(3, 0, 12, 12, 1),  // EOIR1
    VGIC_SYSREG(3, 0, 12, 12, 2),  // HPPIR1
    VGIC_SYSREG(3, 0, 12, 12, 3),  // BPR1
    VGIC_SYSREG(3, 0, 12, 12, 4),  // CTLR
    VGIC_SYSREG(3, 0, 12, 12, 5),  // SRE
    VGIC_SYSREG(3, 0, 12, 12, 6),  // IGRPEN0
    VGIC_SYSREG(3, 0, 12, 12, 7),  // IGRPEN1
};
constexpr unsigned kNrSysregs = sizeof(kSysregs) / sizeof(kSysregs[0]);

// Guest RAM is one static buffer, cleared per input: a fresh 1 MiB allocation per input cost more
// (page faults) than everything else an input does.
std::vector<uint8_t>& guest_ram() {
  static std::vector<uint8_t> r(kRamSize);
  return r;
}

struct Setup {
  vgic_config cfg;
  vgic* g = nullptr;
  std::vector<uint8_t>& ram = guest_ram();
  Setup() {
    std::memset(ram.data(), 0, kRamSize);
    vgic_config_init(&cfg);
    cfg.nr_cpus = 2;
    cfg.nr_its = 1;
    cfg.max_host_memory = 64u << 20;
    g = vgic_create(&cfg, nullptr, 0);
    if (!g || vgic_map_ram(g, kRamBase, kRamSize, ram.data()) != 0) __builtin_trap();
  }
  ~Setup() { vgic_destroy(g); }
};

// Frames: GICD, GICR0 (RD + SGI), GICR1, ITS control, ITS translation.
uint64_t frame_address(const vgic_config& c, uint8_t frame, uint32_t off) {
  switch (frame % 5) {
    case 0: return c.gicd_base + (off & 0xffff);
    case 1: return c.gicr_base + (off & 0x1ffff);
    case 2: return c.gicr_base + 0x20000 + (off & 0x1ffff);
    case 3: return c.its[0].base + (off & 0xffff);
    default: return c.its[0].base + 0x10000 + (off & 0xffff);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Setup s;
  vgic* g = s.g;
  fuzz::Input in(data, size);
  for (unsigned n = 0; n < kMaxOps && !in.empty(); ++n) {
    const uint8_t op = in.u8();
    switch (op % 8) {
      case 0:
      case 1: {  // MMIO read / write
        const uint8_t frame = in.u8();
        const uint32_t off = in.u32();
        const unsigned width = 1u << (in.u8() & 3);
        const uint64_t a = frame_address(s.cfg, frame, off);
        if (op % 8 == 0) {
          uint64_t v;
          (void)vgic_mmio_read(g, a, width, &v);
        } else {
          (void)vgic_mmio_write(g, a, width, in.u64());
        }
        break;
      }
      case 2:
      case 3: {  // system register read / write; selector beyond the list: a raw 16-bit encoding
        const unsigned cpu = in.u8() % 3;  // 2: an invalid CPU number
        const uint8_t sel = in.u8();
        const uint32_t enc = sel < kNrSysregs ? kSysregs[sel] : (sel < 0xf0 ? kSysregs[sel % kNrSysregs] : in.u16());
        if (op % 8 == 2) {
          uint64_t v;
          (void)vgic_sysreg_read(g, cpu, enc, &v);
        } else {
          (void)vgic_sysreg_write(g, cpu, enc, in.u64());
        }
        break;
      }
      case 4: {  // device line
        const unsigned cpu = in.u8() % 3;
        const uint32_t intid = in.u16();
        (void)vgic_set_irq_level(g, cpu, intid, in.u8() & 1);
        break;
      }
      case 5: {  // MSI: to GITS_TRANSLATER, or to GICD_SETSPI_NSR
        const uint8_t which = in.u8();
        const uint32_t data32 = in.u32(), devid = in.u32();
        const uint64_t bell = (which & 1) ? s.cfg.gicd_base + 0x40 : s.cfg.its[0].base + 0x10040;
        (void)vgic_signal_msi(g, bell, data32, devid);
        break;
      }
      case 6: {  // raw bytes into guest RAM
        const uint32_t off = in.u32() % kRamSize;
        size_t len = in.u8();
        if (len > kRamSize - off) len = kRamSize - off;
        const size_t avail = len < in.left() ? len : in.left();
        std::memcpy(s.ram.data() + off, in.take(avail), avail);
        break;
      }
      default: {  // one little-endian u64 into guest RAM, 8-byte aligned (table entries, commands)
        const uint32_t off = (in.u32() % kRamSize) & ~7u;
        const uint64_t v = in.u64();
        std::memcpy(s.ram.data() + off, &v, 8);
        break;
      }
    }
  }
  return 0;
}
