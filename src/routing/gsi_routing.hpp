// GSI routing (KVM_SET_GSI_ROUTING / KVM_IRQ_LINE semantics, seed 001): a table of routes from
// GSIs to SPI pins ("irqchip") or to MSIs (doorbell address, data, DeviceID).
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
  static constexpr size_t kMaxRoutes = 4096;  // as KVM_MAX_IRQ_ROUTES
  explicit GsiRouting(GicCore& gic) : gic_(gic) {}
  ~GsiRouting();

  Status set(std::vector<GsiRoute> routes);
  // KVM_IRQ_LINE on a GSI: irqchip routes follow the level; MSI routes fire on level 1. Returns
  // the number of routes that delivered, or -1 if the GSI has no route.
  int set_level(uint32_t gsi, bool level);
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
  int deliver(const GsiRoute& r, bool level);

  GicCore& gic_;
  std::atomic<const Table*> table_{nullptr};
  Grace grace_;
  std::mutex writer_;
};

}  // namespace gicv3
