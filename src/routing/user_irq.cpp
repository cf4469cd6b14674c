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
  Device old;
  {
    std::lock_guard l(map_lock_);
    old = map_[bit];
    map_[bit] = {ppi, edge};
  }
  recompute_edge_bits();
  // A level device whose output is high holds its PPI's line: move that level to the new mapping,
  // so that the old PPI is not left asserted for good, and a level device mapped while its output
  // is high asserts its PPI now (the next sync would not: its bit has not changed).
  for (unsigned cpu = 0; cpu < gic_.nr_cpus(); ++cpu) {
    if (!((last_[cpu].load(std::memory_order_acquire) >> bit) & 1)) continue;
    if (old.ppi && !old.edge) gic_.set_irq_level(cpu, old.ppi, false);
    if (ppi && !edge) gic_.set_irq_level(cpu, ppi, true);
  }
  return {};
}

void UserIrqLevels::recompute_edge_bits() {
  uint64_t e = 0;
  std::lock_guard l(map_lock_);
  for (unsigned b = 0; b < 64; ++b)
    if (map_[b].ppi && map_[b].edge) e |= 1ull << b;
  edge_bits_.store(e, std::memory_order_release);
}

Status UserIrqLevels::sync(unsigned cpu, uint64_t bits) {
  if (cpu >= gic_.nr_cpus()) return {Errc::invalid_argument, "vgic_sync_device_irq_level: cpu out of range"};
  const uint64_t prev = last_[cpu].exchange(bits, std::memory_order_acq_rel);
  const uint64_t edge_bits = edge_bits_.load(std::memory_order_acquire);
  // Level devices act on a change of their bit; edge devices on every exit that reports an edge.
  const uint64_t act = ((prev ^ bits) & ~edge_bits) | (bits & edge_bits);
  if (!act) return {};
  std::array<Device, 64> map;
  {
    std::lock_guard l(map_lock_);
    map = map_;
  }
  for (uint64_t c = act; c; c &= c - 1) {
    const unsigned bit = unsigned(__builtin_ctzll(c));
    const Device d = map[bit];
    if (!d.ppi) continue;
    const bool level = (bits >> bit) & 1;
    if (!d.edge) {
      gic_.set_irq_level(cpu, d.ppi, level);
    } else if (level) {
      gic_.set_irq_level(cpu, d.ppi, true);  // one edge
      gic_.set_irq_level(cpu, d.ppi, false);
    }
  }
  return {};
}

}  // namespace gicv3
