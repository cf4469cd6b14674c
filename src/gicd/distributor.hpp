// The Distributor (IHI0069 3.1, 12.9): shared interrupts (SPIs and GICv3.1 extended SPIs), their
// configuration and state, GICD_CTLR, and message-based SPIs.
//
// Locking: lock() protects every Irq here and the candidate bitmap. ctlr_ is atomic so that CPU
// interfaces read the group enables without the lock. The Distributor never takes a CPU lock: a
// change that may affect a CPU's outputs adds that CPU to a CpuSet, and the caller asks those CPUs
// to update after releasing lock() (see GicCore::kick()).
#pragma once

#include <atomic>
#include <cstdint>
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
  // bitmap and adds the CPUs that may see the change to kick.
  void changed(const Irq& irq, CpuSet& kick);

  // Recomputes route -> target after GICD_IROUTER changed.
  void set_route(Irq& irq, uint64_t route, CpuSet& kick);

  // Input lines and message-based SPIs.
  void set_line(Irq& irq, bool level, CpuSet& kick);
  void set_spi_message(uint32_t intid, bool set, CpuSet& kick, bool& valid);

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
  void add_targets(const Irq& irq, CpuSet& kick) const;

  const Topology& topo_;
  const unsigned nr_spis_, nr_espis_;
  const uint8_t pri_mask_;
  const bool mbis_, no1n_;

  std::mutex lock_;
  std::atomic<uint32_t> ctlr_{0};
  std::vector<Irq> irqs_;
  std::vector<uint64_t> candidates_;  // derived: bit i set iff irqs_[i].candidate()
};

}  // namespace gicv3
