// A Redistributor (IHI0069 3.2, 12.11): the private interrupts of one CPU (SGIs, PPIs, GICv3.1
// extended PPIs), its power state (GICR_WAKER) and, from the LPI work on, its LPI tables.
//
// Locking: everything here is owned by the CPU's CpuLock (see GicCore), except what is marked
// "published": atomics that ITSes and DirectLPI writers read without that lock, and the LpiTable,
// whose own rules are in lpi/lpi_table.hpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/host_budget.hpp"
#include "irq/irq.hpp"
#include "lpi/lpi_table.hpp"
#include "vgic/vgic.hpp"

namespace gicv3 {

class Redistributor {
 public:
  Redistributor(const Config& cfg, unsigned cpu, HostBudget& budget);

  // Private Irq for an SGI/PPI/extended PPI INTID; nullptr if not implemented.
  Irq* find(uint32_t intid) {
    if (intid < Intid::kPpiEnd) return &irqs_[intid];
    if (intid >= Intid::kEppiBase && intid < Intid::kEppiBase + nr_eppis_)
      return &irqs_[Intid::kPpiEnd + intid - Intid::kEppiBase];
    return nullptr;
  }
  unsigned nr_eppis() const { return nr_eppis_; }

  template <class F>
  void for_each_candidate(F&& f) {
    for (unsigned i = 0; i < irqs_.size(); ++i)
      if (irqs_[i].candidate()) f(i < Intid::kPpiEnd ? i : Intid::kEppiBase + i - Intid::kPpiEnd, irqs_[i]);
  }

  // GICR_WAKER.ProcessorSleep (IHI0069 12.11.40): reset 1; a sleeping CPU does not take 1-of-N SPIs.
  bool processor_sleep = true;

  // --- LPIs (IHI0069 5.1). lpis is null when the GIC has no LPI support.
  std::unique_ptr<LpiTable> lpis;
  uint64_t propbaser = 0;
  uint64_t pendbaser = 0;  // PTZ is kept apart: it reads as 0
  bool ptz = false;
  bool enable_lpis = false;
  // Published: whether LPIs are enabled, the first INTID beyond the LPI range programmed in
  // GICR_PROPBASER.IDbits, and the configuration table's address.
  std::atomic<bool> lpis_on{false};
  std::atomic<uint32_t> lpi_limit{0};
  std::atomic<uint64_t> prop_pa{0};

  // Input line of a PPI.
  void set_line(Irq& irq, bool level) {
    if (irq.edge && level && !irq.line) irq.latch = true;
    irq.line = level;
  }

 private:
  const unsigned nr_eppis_;
  std::vector<Irq> irqs_;
};

}  // namespace gicv3
