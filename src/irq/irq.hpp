// The architectural state of one SGI, PPI or SPI (IHI0069 4.1: the interrupt life cycle).
// LPIs are kept elsewhere (they have no active state and live in guest-RAM tables).
//
// An Irq is owned by one lock: private interrupts (SGI/PPI/extended PPI) by their CPU's CpuLock,
// shared ones (SPI/extended SPI) by the Distributor lock. Nothing here is atomic.
#pragma once

#include <cstdint>

#include "core/types.hpp"

namespace gicv3 {

struct Irq {
  // Guest configuration.
  uint8_t priority = 0;
  bool enabled = false;
  bool group1 = false;
  bool edge = false;  // GICD_ICFGR / GICR_ICFGR: 1 = edge-triggered

  // State.
  bool latch = false;      // pending latch: edges, ISPENDR, SGIs, SETSPI on edge SPIs
  bool line = false;       // level of the input wire (vgic_set_irq_level)
  bool msg_level = false;  // level SPI asserted by GICD_SETSPI_NSR until GICD_CLRSPI_NSR
  bool active = false;
  // Someone (irqfd resample, an ack notifier) wants to know when the guest deactivates it.
  bool ack_notify = false;
  // irqfd resample (set while a resampling irqfd's GSI routes here): every deactivation lowers the
  // line in the same transaction, so that no CPU can take the same assertion again before the
  // resample notification runs (KVM lowers it first, too).
  bool resample = false;

  // SPI routing (GICD_IROUTER<n>); target resolved when IROUTER is written.
  uint64_t route = 0;
  static constexpr uint16_t kNoTarget = 0xffff;
  uint16_t target = kNoTarget;  // CPU index whose affinity equals route (IRM = 0)
  bool irm = false;             // 1-of-N

  Group group() const { return group1 ? Group::g1 : Group::g0; }
  // IHI0069 4.1.2: a level-sensitive interrupt is pending while its input is asserted; an
  // explicit set-pending (ISPENDR) latches for either kind.
  bool pending() const { return latch || (!edge && (line || msg_level)); }
  // May be forwarded to a CPU interface (before group enables and routing are considered).
  bool candidate() const { return enabled && pending() && !active; }

  // Acknowledge (pending -> active, or active-and-pending for an asserted level interrupt).
  void activate() {
    latch = false;
    active = true;
  }
};

// The highest-priority pending interrupt chosen for a CPU interface. Derived state: recomputed by
// GicCore::update_cpu_locked() and never saved.
struct Hppi {
  uint32_t intid = Intid::kSpurious;
  uint8_t priority = 0xff;
  Group group = Group::g1;
  bool valid() const { return intid != Intid::kSpurious; }
  // Priority order: lower value first; equal priority: lower INTID first (IHI0069 4.7 leaves the
  // choice among equal priorities IMPLEMENTATION DEFINED; see docs/spec-deviations.md).
  bool better_than(uint8_t prio, uint32_t id) const {
    return !valid() || prio < priority || (prio == priority && id < intid);
  }
  void offer(uint8_t prio, uint32_t id, Group g) {
    if (better_than(prio, id)) *this = Hppi{id, prio, g};
  }
};

}  // namespace gicv3
