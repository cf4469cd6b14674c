// The Distributor (IHI0069 3.1, 12.9): shared interrupts (SPIs and GICv3.1 extended SPIs), their
// configuration and state, GICD_CTLR, and message-based SPIs.
//
// Locking: lock() protects every Irq here and the candidate bitmap. The Distributor never takes a
// CPU lock. Each change marks the CPUs it may affect as stale; publish() (called by DistTxn before
// the lock is released) recomputes, for each stale CPU, the best SPI targeted at it, and the best
// 1-of-N SPI of each group, and stores them in atomics. CPU interfaces read those atomics (and
// ctlr_) without the Distributor lock, so that a CPU update never waits for it; this is what lets
// an MSI injector run a CPU update without blocking (gic/delivery.cpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "gic/topology.hpp"
#include "irq/irq.hpp"
#include "vgic/vgic.hpp"

namespace gicv3 {

class Distributor {
 public:
  Distributor(const Config& cfg, const Topology& topo);

  std::mutex& lock() { return lock_; }

  // The Irq of an implemented SPI or extended SPI; nullptr otherwise (RAZ/WI).
  Irq* find(uint32_t intid) {
    const int i = dense_index(intid);
    return i < 0 ? nullptr : &irqs_[i];
  }
  unsigned nr_spis() const { return nr_spis_; }
  unsigned nr_espis() const { return nr_espis_; }
  uint8_t priority_mask() const { return pri_mask_; }
  bool mbis() const { return mbis_; }
  bool no1n() const { return no1n_; }

  uint32_t ctlr() const { return ctlr_.load(std::memory_order_acquire); }
  bool group_enabled(Group g) const;
  void write_ctlr(uint32_t value, CpuSet& kick);

  // After any change to irq's state or configuration (lock held): refreshes the derived candidate
  // bitmap and marks the CPUs that may see the change as stale.
  void changed(const Irq& irq);

  // Recomputes route -> target after GICD_IROUTER changed.
  void set_route(Irq& irq, uint64_t route);

  // Input lines and message-based SPIs.
  void set_line(Irq& irq, bool level);
  void set_spi_message(uint32_t intid, bool set, bool& valid);

  // Recomputes the published best SPIs of stale CPUs (lock held) and adds the CPUs whose outputs
  // may have changed to kick.
  void publish(CpuSet& kick);

  // Published, lock-free: the best candidate SPI of group g targeted at cpu (IRM == 0), and the
  // best 1-of-N candidate SPI of group g. 0 when none; else see pack_candidate().
  uint64_t best_targeted(unsigned cpu, Group g) const {
    return best_[2 * cpu + size_t(g)].load(std::memory_order_acquire);
  }
  uint64_t best_1ofn(Group g) const { return best_1ofn_[size_t(g)].load(std::memory_order_acquire); }

  // Calls f(intid, Irq&) for every candidate SPI (enabled, pending, not active). Lock held.
  template <class F>
  void for_each_candidate(F&& f) {
    for (size_t w = 0; w < candidates_.size(); ++w) {
      for (uint64_t bits = candidates_[w]; bits; bits &= bits - 1) {
        const unsigned i = unsigned(w * 64 + __builtin_ctzll(bits));
        f(intid_of(i), irqs_[i]);
      }
    }
  }

 private:
  int dense_index(uint32_t intid) const {
    if (intid >= Intid::kPpiEnd && intid < Intid::kPpiEnd + nr_spis_) return int(intid - Intid::kPpiEnd);
    if (intid >= Intid::kEspiBase && intid < Intid::kEspiBase + nr_espis_)
      return int(nr_spis_ + intid - Intid::kEspiBase);
    return -1;
  }
  uint32_t intid_of(unsigned i) const {
    return i < nr_spis_ ? Intid::kPpiEnd + i : Intid::kEspiBase + (i - nr_spis_);
  }
  void mark_stale(const Irq& irq);

  const Topology& topo_;
  const unsigned nr_spis_, nr_espis_;
  const uint8_t pri_mask_;
  const bool mbis_, no1n_;

  std::mutex lock_;
  std::atomic<uint32_t> ctlr_{0};
  std::vector<Irq> irqs_;
  std::vector<uint64_t> candidates_;  // derived: bit i set iff irqs_[i].candidate()
  // Derived, published state (see the class comment). Never saved.
  std::unique_ptr<std::atomic<uint64_t>[]> best_;
  std::atomic<uint64_t> best_1ofn_[2] = {0, 0};
  CpuSet stale_;
  bool stale_1ofn_ = false;
};

// A candidate packed for lock-free publication: ordering by value is priority order
// (lower priority value first, then lower INTID), with 0 meaning "none".
inline uint64_t pack_candidate(uint8_t prio, uint32_t intid, Group g) {
  return uint64_t(prio) << 40 | uint64_t(intid) << 8 | uint64_t(g) << 1 | 1;
}
inline uint8_t candidate_priority(uint64_t c) { return uint8_t(c >> 40); }
inline uint32_t candidate_intid(uint64_t c) { return uint32_t(c >> 8); }
inline Group candidate_group(uint64_t c) { return Group((c >> 1) & 1); }

}  // namespace gicv3
