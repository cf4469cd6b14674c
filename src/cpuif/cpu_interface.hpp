// The CPU interface of one vCPU (IHI0069 4.8, 12.2): priority mask, binary points, active
// priorities, running priority, EOI mode and group enables. It decides whether the highest-priority
// pending interrupt is signalled, and keeps the active-priority registers; which interrupt is
// highest is chosen by the GIC (gic/delivery.cpp) and handed in as an Hppi.
//
// Locking: owned by the CPU's CpuLock.
#pragma once

#include <array>
#include <cstdint>

#include "irq/irq.hpp"
#include "vgic/vgic.hpp"

namespace gicv3 {

class CpuInterface {
 public:
  explicit CpuInterface(const Config& cfg);

  // Configuration-derived.
  unsigned priority_bits() const { return pri_bits_; }
  unsigned preemption_bits() const { return pre_bits_; }
  unsigned nr_apr() const { return 1u << (pre_bits_ - 5); }  // 32 preemption levels per register
  uint8_t priority_mask() const { return pri_mask_; }
  uint8_t min_bpr(Group g) const { return g == Group::g0 ? min_bpr0_ : uint8_t(min_bpr0_ + 1); }

  // Guest-visible registers.
  uint8_t pmr = 0;  // reset: everything masked
  std::array<uint8_t, 2> bpr{};
  std::array<std::array<uint32_t, 4>, 2> apr{};
  bool eoimode = false;
  bool cbpr = false;
  std::array<bool, 2> igrpen{};

  // Derived (recomputed by GicCore::update_cpu_locked, never saved).
  Hppi hppi;

  void write_pmr(uint64_t v);
  uint64_t read_bpr(Group g) const;
  void write_bpr(Group g, uint64_t v);

  // Mask that keeps the group-priority bits of a priority for an interrupt of group g
  // (the GroupBits() pseudocode, IHI0069 4.8.5).
  uint8_t group_priority_mask(Group g) const;
  // ICC_RPR: priority of the highest active priority, or 0xff (idle). Inline, with can_signal and
  // lines: they run on every update and acknowledge (issue 7).
  uint8_t running_priority() const {
    const unsigned n = nr_apr();
    for (unsigned r = 0; r < n; ++r) {
      const uint32_t bits = apr[0][r] | apr[1][r];
      if (bits) return uint8_t((r * 32 + unsigned(__builtin_ctz(bits))) << (8 - pre_bits_));
    }
    return 0xff;
  }
  // Group of the highest active priority, or -1 when no priority is active.
  int highest_active_group() const;
  // Whether h may be signalled now: its group is enabled here, it is above the priority mask, and
  // its group priority is higher than the running priority (IHI0069 4.8.6).
  bool can_signal(const Hppi& h) const {
    if (!h.valid() || !igrpen[size_t(h.group)]) return false;
    if (h.priority >= pmr) return false;
    const uint8_t rprio = running_priority();
    if (rprio == 0xff) return true;
    const uint8_t m = group_priority_mask(h.group);
    return uint8_t(h.priority & m) < uint8_t(rprio & m);
  }
  // Output lines for the current hppi: bit 0 IRQ (group 1), bit 1 FIQ (group 0).
  int lines() const {
    if (!can_signal(hppi)) return 0;
    return hppi.group == Group::g1 ? VGIC_LINE_IRQ : VGIC_LINE_FIQ;
  }

  // Record h's group priority as active (on acknowledge).
  void activate_priority(const Hppi& h);
  // Priority drop (IHI0069 4.8.7): clears the highest active priority bit of group g. Returns false
  // if that is not the highest active group (the guest broke the nesting rule).
  bool drop_priority(Group g);

 private:
  unsigned pri_bits_, pre_bits_;
  uint8_t pri_mask_, min_bpr0_;
};

}  // namespace gicv3
