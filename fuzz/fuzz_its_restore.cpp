// libFuzzer harness: the KVM ITS table ABI restore (VGIC_CTRL_ITS_RESTORE_TABLES) from guest RAM and
// ITS registers that are both untrusted (a migration stream). Input layout (little-endian):
//   u8 flags  bit0: program PROPBASER/PENDBASER + EnableLPIs on both redistributors first
//             bit1: enable the ITS (GITS_CTLR) after the restore
//             bit2: SAVE_TABLES at the end      bit3: enable the CPU interfaces and acknowledge
//   u64 GITS_BASER0, u64 GITS_BASER1, u64 GITS_CBASER, u32 GITS_IIDR, u64 PROPBASER, u64 PENDBASER
//   4 x (u16 DeviceID, u16 EventID) MSIs after the restore
//   the rest: guest RAM from GPA 0
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_input.hpp"
#include "vgic/vgic.h"

namespace {
constexpr uint64_t kRamSize = 1u << 20;
constexpr uint32_t kIAR1 = VGIC_SYSREG(3, 0, 12, 12, 0), kIGRPEN1 = VGIC_SYSREG(3, 0, 12, 12, 7);
constexpr uint32_t kPMR = VGIC_SYSREG(3, 0, 4, 6, 0);

int its_reg(vgic* g, uint32_t off, uint64_t v) { return vgic_its_set_attr(g, 0, VGIC_DEV_GRP_ITS_REGS, off, &v); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const uint8_t flags = in.u8();
  const uint64_t baser0 = in.u64(), baser1 = in.u64(), cbaser = in.u64();
  const uint32_t iidr = in.u32();
  const uint64_t propbaser = in.u64(), pendbaser = in.u64();
  uint16_t msi[4][2];
  for (auto& m : msi) m[0] = in.u16(), m[1] = in.u16();

  vgic_config cfg;
  vgic_config_init(&cfg);
  cfg.nr_cpus = 2;
  cfg.nr_its = 1;
  cfg.max_host_memory = 64u << 20;
  vgic* g = vgic_create(&cfg, nullptr, 0);
  if (!g) __builtin_trap();
  static std::vector<uint8_t> ram(kRamSize);  // static: a fresh 1 MiB per input costs page faults
  std::memset(ram.data(), 0, kRamSize);
  const size_t n = in.left() < kRamSize ? in.left() : kRamSize;
  std::memcpy(ram.data(), in.take(n), n);
  if (vgic_map_ram(g, 0, kRamSize, ram.data()) != 0) __builtin_trap();

  // The seed-003 order: RAM, redistributors, then the ITS registers, RESTORE_TABLES, GITS_CTLR.
  if (flags & 1) {
    for (unsigned cpu = 0; cpu < 2; ++cpu) {
      const uint64_t rd = cfg.gicr_base + cpu * 0x20000;
      (void)vgic_mmio_write(g, rd + 0x70, 8, propbaser);
      (void)vgic_mmio_write(g, rd + 0x78, 8, pendbaser);
      (void)vgic_mmio_write(g, rd + 0x0, 4, 1);  // GICR_CTLR.EnableLPIs
    }
  }
  (void)vgic_its_set_attr(g, 0, VGIC_DEV_GRP_CTRL, VGIC_CTRL_INIT, nullptr);
  (void)its_reg(g, 0x80, cbaser);  // GITS_CBASER
  (void)its_reg(g, 0x04, iidr);    // GITS_IIDR
  (void)its_reg(g, 0x100, baser0);
  (void)its_reg(g, 0x108, baser1);
  (void)vgic_its_set_attr(g, 0, VGIC_DEV_GRP_CTRL, VGIC_CTRL_ITS_RESTORE_TABLES, nullptr);
  if (flags & 2) (void)its_reg(g, 0x00, 1);  // GITS_CTLR.Enabled
  if (flags & 8) {
    (void)vgic_mmio_write(g, cfg.gicd_base, 4, 0x13);  // GICD_CTLR: ARE, EnableGrp1
    for (unsigned cpu = 0; cpu < 2; ++cpu) {
      (void)vgic_mmio_write(g, cfg.gicr_base + cpu * 0x20000 + 0x14, 4, 0);  // GICR_WAKER
      (void)vgic_sysreg_write(g, cpu, kPMR, 0xff);
      (void)vgic_sysreg_write(g, cpu, kIGRPEN1, 1);
    }
  }
  for (auto& m : msi) (void)vgic_signal_msi(g, cfg.its[0].base + 0x10040, m[1], m[0]);
  if (flags & 8) {
    uint64_t v;
    for (unsigned i = 0; i < 4; ++i) (void)vgic_sysreg_read(g, i & 1, kIAR1, &v);
  }
  if (flags & 4) (void)vgic_its_set_attr(g, 0, VGIC_DEV_GRP_CTRL, VGIC_CTRL_ITS_SAVE_TABLES, nullptr);
  vgic_destroy(g);
  return 0;
}
