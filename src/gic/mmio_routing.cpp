// Which frame a guest physical address falls in. The frames themselves are register tables.
#include "gic/gic_core.hpp"
#include "gicd/gicd_registers.hpp"
#include "gicd/gicd_regs.hpp"
#include "gicr/gicr_registers.hpp"
#include "gicr/gicr_regs.hpp"

namespace gicv3 {

namespace {
struct Target {
  enum Kind { none, gicd, gicr } kind = none;
  unsigned cpu = 0;
  uint32_t offset = 0;
};

Target locate(const Config& cfg, unsigned nr_cpus, uint64_t gpa) {
  if (gpa - cfg.gicd_base < gicd_off::kFrameSize) return {Target::gicd, 0, uint32_t(gpa - cfg.gicd_base)};
  const uint64_t rel = gpa - cfg.gicr_base;
  if (rel < uint64_t(nr_cpus) * gicr_off::kStride)
    return {Target::gicr, unsigned(rel / gicr_off::kStride), uint32_t(rel % gicr_off::kStride)};
  return {};
}
}  // namespace

bool GicCore::mmio_read(uint64_t gpa, unsigned size, uint64_t& value) {
  const Target t = locate(cfg_, nr_cpus(), gpa);
  switch (t.kind) {
    case Target::gicd: value = gicd_read(*this, t.offset, size); return true;
    case Target::gicr: value = gicr_read(*this, t.cpu, t.offset, size); return true;
    case Target::none: break;
  }
  return false;
}

bool GicCore::mmio_write(uint64_t gpa, unsigned size, uint64_t value) {
  const Target t = locate(cfg_, nr_cpus(), gpa);
  switch (t.kind) {
    case Target::gicd: gicd_write(*this, t.offset, size, value); return true;
    case Target::gicr: gicr_write(*this, t.cpu, t.offset, size, value); return true;
    case Target::none: break;
  }
  return false;
}

}  // namespace gicv3
