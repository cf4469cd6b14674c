// libFuzzer harness: vgic_restore of arbitrary (untrusted: a migration stream) snapshot blobs into
// a configured GIC, then guest and VMM accesses on whatever was restored. Input layout:
//   u8 selector: bits 0-1 the configuration (0: the "irqs" golden's, 1: the "lpis" goldens',
//      2: "stalled_its"'s); bit 7 clear: the harness fixes the blob's payload length and CRC first,
//      so that mutations reach the section decoders instead of stopping at the checksum
//   the rest: the blob
// Properties checked beyond "no crash, no sanitizer report": a refused blob leaves the GIC as it
// was (its save is unchanged), and a restored state saves to a blob that restores and saves to the
// same bytes again (save is a fixed point after one restore).
#include <cstdint>
#include <cstring>
#include <vector>

#include "snapshot/snapshot_format.hpp"
#include "vgic/vgic.h"

namespace {
constexpr uint64_t kRamBase = 0x40000000, kRamSize = 1u << 20;
constexpr uint32_t kIAR1 = VGIC_SYSREG(3, 0, 12, 12, 0), kEOIR1 = VGIC_SYSREG(3, 0, 12, 12, 1);
constexpr uint32_t kIAR0 = VGIC_SYSREG(3, 0, 12, 8, 0), kEOIR0 = VGIC_SYSREG(3, 0, 12, 8, 1);
constexpr uint32_t kDIR = VGIC_SYSREG(3, 0, 12, 11, 1), kHPPIR1 = VGIC_SYSREG(3, 0, 12, 12, 2);

vgic_config config(uint8_t sel) {
  vgic_config c;
  vgic_config_init(&c);
  switch ((sel & 3) % 3) {
    case 0:
      c.nr_cpus = 2;
      c.nr_spis = 64;
      c.nr_espis = 32;
      c.nr_eppis = 32;
      break;
    case 1: c.nr_cpus = 2; break;
    default:
      c.nr_cpus = 1;
      c.its[0].error_policy = VGIC_ITS_ERRORS_STALL;
      break;
  }
  c.max_host_memory = 64u << 20;
  return c;
}

std::vector<uint8_t> save(vgic* g) {
  size_t len = 0;
  if (vgic_save(g, nullptr, &len) != VGIC_ENOSPC) __builtin_trap();
  std::vector<uint8_t> b(len);
  if (vgic_save(g, b.data(), &len) != 0 || len != b.size()) __builtin_trap();
  return b;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const vgic_config cfg = config(data[0]);
  vgic* g = vgic_create(&cfg, nullptr, 0);
  if (!g) __builtin_trap();
  std::vector<uint8_t> ram(kRamSize);
  if (vgic_map_ram(g, kRamBase, kRamSize, ram.data()) != 0) __builtin_trap();
  const std::vector<uint8_t> before = save(g);
  std::vector<uint8_t> blob(data + 1, data + size);
  namespace sn = gicv3::snapshot;
  if (!(data[0] & 0x80) && blob.size() >= sn::kHeaderSize + sn::kTrailerSize) {
    const uint64_t len = blob.size() - sn::kHeaderSize - sn::kTrailerSize;
    for (unsigned i = 0; i < 8; ++i) blob[16 + i] = uint8_t(len >> (8 * i));
    const uint32_t crc = sn::crc32(std::span<const uint8_t>(blob.data(), blob.size() - 4));
    for (unsigned i = 0; i < 4; ++i) blob[blob.size() - 4 + i] = uint8_t(crc >> (8 * i));
  }
  const int rc = vgic_restore(g, blob.data(), blob.size());
  if (rc != 0) {
    if (rc != VGIC_EINVAL && rc != VGIC_ENOSYS && rc != VGIC_ENOMEM) __builtin_trap();
    if (save(g) != before) __builtin_trap();  // a refused blob changed the GIC
    vgic_destroy(g);
    return 0;
  }
  // Save is a fixed point after one restore.
  const std::vector<uint8_t> once = save(g);
  vgic* h = vgic_create(&cfg, nullptr, 0);
  if (!h || vgic_map_ram(h, kRamBase, kRamSize, ram.data()) != 0) __builtin_trap();
  if (vgic_restore(h, once.data(), once.size()) != 0) __builtin_trap();
  if (save(h) != once) __builtin_trap();
  vgic_destroy(h);
  // Exercise what was restored: acknowledge and end everything on every CPU, MSIs, register reads.
  for (unsigned cpu = 0; cpu < cfg.nr_cpus; ++cpu) {
    for (int n = 0; n < 64; ++n) {
      uint64_t id = 1023;
      bool grp0 = true;
      (void)vgic_sysreg_read(g, cpu, kIAR0, &id);
      if (id == 1023) {
        grp0 = false;
        (void)vgic_sysreg_read(g, cpu, kIAR1, &id);
      }
      if (id == 1023) break;
      (void)vgic_sysreg_write(g, cpu, grp0 ? kEOIR0 : kEOIR1, id);
      (void)vgic_sysreg_write(g, cpu, kDIR, id);
    }
    uint64_t v;
    (void)vgic_sysreg_read(g, cpu, kHPPIR1, &v);
  }
  for (uint32_t dev = 0; dev < 8; ++dev)
    for (uint32_t ev = 0; ev < 8; ++ev) (void)vgic_signal_msi(g, cfg.its[0].base + 0x10040, ev, dev);
  for (uint32_t off = 0; off < 0x100; off += 4) {
    uint64_t v;
    (void)vgic_mmio_read(g, cfg.gicd_base + 0x100 + off, 4, &v);
    (void)vgic_mmio_read(g, cfg.its[0].base + off, 4, &v);
  }
  (void)vgic_set_gsi_level(g, 3, 1);
  (void)vgic_sync_device_irq_level(g, 0, ~0ull);
  vgic_destroy(g);
  return 0;
}
