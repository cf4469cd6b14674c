// Which frame a guest physical address falls in. The frames themselves are register tables.
#include "gic/doorbell.hpp"
#include "gic/gic_core.hpp"
#include "gicd/gicd_registers.hpp"
#include "gicd/gicd_regs.hpp"
#include "gicr/gicr_registers.hpp"
#include "gicr/gicr_regs.hpp"
#include "its/its_regs.hpp"

namespace gicv3 {

namespace {
struct Target {
  enum Kind { none, gicd, gicr, its } kind = none;
  unsigned index = 0;  // CPU for GICR, ITS number for ITS
  uint32_t offset = 0;
};

Target locate(const Config& cfg, unsigned nr_cpus, uint64_t gpa) {
  if (gpa - cfg.gicd_base < gicd_off::kFrameSize) return {Target::gicd, 0, uint32_t(gpa - cfg.gicd_base)};
  const uint64_t rel = gpa - cfg.gicr_base;
  if (rel < uint64_t(nr_cpus) * gicr_off::kStride)
    return {Target::gicr, unsigned(rel / gicr_off::kStride), uint32_t(rel % gicr_off::kStride)};
  for (unsigned i = 0; i < cfg.its.size(); ++i)
    if (gpa - cfg.its[i].base < 2 * gits_off::kFrameSize) return {Target::its, i, uint32_t(gpa - cfg.its[i].base)};
  return {};
}
}  // namespace

bool GicCore::mmio_read(uint64_t gpa, unsigned size, uint64_t& value) {
  const Target t = locate(cfg_, nr_cpus(), gpa);
  switch (t.kind) {
    case Target::gicd: value = gicd_read(*this, t.offset, size); return true;
    case Target::gicr: value = gicr_read(*this, t.index, t.offset, size); return true;
    case Target::its: value = its_[t.index]->mmio_read(t.offset, size); return true;
    case Target::none: break;
  }
  return false;
}

bool GicCore::mmio_write(uint64_t gpa, unsigned size, uint64_t value) {
  const Target t = locate(cfg_, nr_cpus(), gpa);
  switch (t.kind) {
    case Target::gicd: gicd_write(*this, t.offset, size, value); return true;
    case Target::gicr: gicr_write(*this, t.index, t.offset, size, value); return true;
    case Target::its: its_[t.index]->mmio_write(t.offset, size, value); return true;
    case Target::none: break;
  }
  return false;
}

}  // namespace gicv3

namespace gicv3 {

int GicCore::signal_msi(uint64_t doorbell, uint32_t data, uint32_t devid) {
  const Doorbell d = doorbell_at(cfg_, doorbell);
  switch (d.kind) {
    case Doorbell::its: return its_[d.index]->signal_msi(devid, data) == MsiOutcome::pending ? 1 : 0;
    case Doorbell::setspi: {
      // A message-based SPI (IHI0069 2.3.2): the data is the INTID.
      DistTxn txn(*this);
      bool valid;
      dist_.set_spi_message(data, true, valid);
      return valid ? 1 : 0;
    }
    case Doorbell::setlpir: {
      // Without an ITS a device's MSI targets GICR_SETLPIR (seed 004); a 32-bit write is the INTID,
      // zero-extended (IHI0069 12.11). Blocked like any MSI (row 94): LPIs off, INTID out of range.
      // Under the target's CPU lock, as the guest's own write to the register: EnableLPIs 1 -> 0
      // runs under it too, so the check of EnableLPIs and the setting of the bit are one step
      // (a bit set after the write-back would be lost). No ITS translation is involved: this
      // doorbell is not the lock-free MSI path.
      bool made = false;
      with_cpu(*cpus_[d.index], [&] { made = make_lpi_pending(d.index, data); }, false);
      return made ? 1 : 0;
    }
    case Doorbell::none: break;
  }
  return -1;
}

}  // namespace gicv3
