#include "routing/user_irq.hpp"

#include "gic/gic_core.hpp"

namespace gicv3 {

UserIrqLevels::UserIrqLevels(GicCore& gic) : gic_(gic), last_(new std::atomic<uint64_t>[gic.nr_cpus()]) {
  for (unsigned i = 0; i < gic.nr_cpus(); ++i) last_[i].store(0, std::memory_order_relaxed);
  // KVM_ARM_DEV_EL1_VTIMER, KVM_ARM_DEV_EL1_PTIMER, KVM_ARM_DEV_PMU with the usual PPIs.
  map_[0] = {27, false};
  map_[1] = {30, false};
  map_[2] = {23, false};
}

Status UserIrqLevels::set_map(unsigned bit, uint32_t ppi, bool edge) {
  if (bit >= 64) return {Errc::invalid_argument, "vgic_set_device_irq_map: bit must be 0..63"};
  const Intid id{ppi};
  const bool ok = ppi == 0 || id.is_ppi() || (id.is_eppi() && ppi < Intid::kEppiBase + gic_.config().nr_eppis);
  if (!ok) return {Errc::invalid_argument, "vgic_set_device_irq_map: " + std::to_string(ppi) + " is not a PPI (0 unmaps)"};
  std::lock_guard l(map_lock_);
  map_[bit] = {ppi, edge};
  return {};
}

Status UserIrqLevels::sync(unsigned cpu, uint64_t bits) {
  if (cpu >= gic_.nr_cpus()) return {Errc::invalid_argument, "vgic_sync_device_irq_level: cpu out of range"};
  const uint64_t prev = last_[cpu].exchange(bits, std::memory_order_acq_rel);
  const uint64_t changed = prev ^ bits;
  if (!changed) return {};
  std::array<Device, 64> map;
  {
    std::lock_guard l(map_lock_);
    map = map_;
  }
  for (uint64_t c = changed; c; c &= c - 1) {
    const unsigned bit = unsigned(__builtin_ctzll(c));
    const Device d = map[bit];
    if (!d.ppi) continue;
    const bool level = (bits >> bit) & 1;
    if (!d.edge) {
      gic_.set_irq_level(cpu, d.ppi, level);
    } else if (level) {
      gic_.set_irq_level(cpu, d.ppi, true);  // one edge per rising transition
      gic_.set_irq_level(cpu, d.ppi, false);
    }
  }
  return {};
}

}  // namespace gicv3
