// GSI routing (KVM_SET_GSI_ROUTING / KVM_IRQ_LINE semantics, seed 001): a table of routes from
// GSIs to SPI pins ("irqchip") or to MSIs (doorbell address, data, DeviceID).
//
// At creation the table is KVM/arm64's default (kvm_vgic_setup_default_irq_routing): GSI i ->
// irqchip pin i (SPI 32 + i) for every implemented SPI (not the extended SPIs, which KVM lacks),
// so that irqfds and GSI levels work before the VMM installs a table of its own.
//
// The table is immutable once published and replaced as a whole: set() builds a new one, swaps a
// pointer, waits for a grace period and frees the old one. Injection (set_level, irqfds) reads the
// table inside a Grace read section: the lookup takes no lock and sees either the old or the new
// table, never a mix. (Delivering to an SPI then takes the Distributor lock, as any line change;
// an MSI route takes no lock on a translation-cache hit.)
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "core/grace.hpp"
#include "vgic/vgic.hpp"

namespace gicv3 {

class GicCore;

class GsiRouting {
 public:
  static constexpr size_t kMaxRoutes = 4096;  // as KVM_MAX_IRQ_ROUTES: also the GSI limit
  explicit GsiRouting(GicCore& gic);
  ~GsiRouting();

  // KVM's default table for this GIC: GSI i -> SPI 32 + i for each of its SPIs.
  static std::vector<GsiRoute> default_routes(unsigned nr_spis);
  Status set(std::vector<GsiRoute> routes);
  // KVM_IRQ_LINE on a GSI: irqchip routes follow the level; MSI routes fire on level 1. Returns
  // the number of routes that delivered, or -1 if the GSI has no route.
  int set_level(uint32_t gsi, bool level);
  // An irqfd signal without resample (KVM's irqfd: level 1 then 0): each irqchip route gets a
  // 1-then-0 pulse and each MSI route fires, all within ONE lookup, so that one injection never
  // mixes two tables. Returns the number of routes that delivered, or -1 if the GSI has no route.
  int pulse(uint32_t gsi);
  // Drives one route (inside a for_each): irqchip follows level; an MSI fires on level 1.
  // Returns 1 if it delivered.
  int deliver(const GsiRoute& r, bool level);
  // Calls f(route) for every route of gsi, inside one consistent view of the table.
  template <class F>
  void for_each(uint32_t gsi, F&& f) {
    Grace::Reader r(grace_);
    const Table* t = table_.load(std::memory_order_acquire);
    if (!t) return;
    for (auto [b, e] = t->range(gsi); b != e; ++b) f(*b);
  }

 private:
  friend struct SnapshotAccess;  // snapshot/: full save/restore
  struct Table {
    std::vector<GsiRoute> routes;  // sorted by gsi
    std::pair<const GsiRoute*, const GsiRoute*> range(uint32_t gsi) const;
  };

  GicCore& gic_;
  std::atomic<const Table*> table_{nullptr};
  Grace grace_;
  std::mutex writer_;
};

}  // namespace gicv3
