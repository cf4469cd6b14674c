// Which CPUs exist and what their affinities are. Immutable after creation, so read without locks.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/bitfield.hpp"

namespace gicv3 {

// MPIDR_EL1 affinity fields (Arm ARM D17.2) and their packed form in GICD_IROUTER / GICR_TYPER.
namespace MPIDR {
using Aff0 = Field<0, 8>;
using Aff1 = Field<8, 8>;
using Aff2 = Field<16, 8>;
using Aff3 = Field<32, 8>;
}  // namespace MPIDR

// Affinity as a 32-bit value Aff3.Aff2.Aff1.Aff0, the layout of GICR_TYPER[63:32].
inline uint32_t affinity_of_mpidr(uint64_t mpidr) {
  return static_cast<uint32_t>(MPIDR::Aff0::get(mpidr) | MPIDR::Aff1::get(mpidr) << 8 |
                               MPIDR::Aff2::get(mpidr) << 16 | MPIDR::Aff3::get(mpidr) << 24);
}

class Topology {
 public:
  explicit Topology(std::vector<uint64_t> mpidrs) : mpidr_(std::move(mpidrs)) {
    for (size_t i = 0; i < mpidr_.size(); ++i) by_affinity_.emplace(affinity_of_mpidr(mpidr_[i]), uint16_t(i));
  }
  unsigned nr_cpus() const { return static_cast<unsigned>(mpidr_.size()); }
  uint64_t mpidr(unsigned cpu) const { return mpidr_[cpu]; }
  uint32_t affinity(unsigned cpu) const { return affinity_of_mpidr(mpidr_[cpu]); }
  std::optional<uint16_t> cpu_for_affinity(uint32_t aff) const {
    auto it = by_affinity_.find(aff);
    if (it == by_affinity_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::vector<uint64_t> mpidr_;
  std::unordered_map<uint32_t, uint16_t> by_affinity_;
};

// A set of CPUs whose outputs must be recomputed after a change made under another lock.
class CpuSet {
 public:
  static constexpr unsigned kMax = 512;
  void add(unsigned cpu) { bits_[cpu / 64] |= 1ull << (cpu % 64); }
  void add_all() { all_ = true; }
  bool all() const { return all_; }
  bool contains(unsigned cpu) const { return all_ || (bits_[cpu / 64] >> (cpu % 64)) & 1; }
  bool empty() const {
    if (all_) return false;
    for (uint64_t w : bits_)
      if (w) return false;
    return true;
  }

 private:
  std::array<uint64_t, kMax / 64> bits_{};
  bool all_ = false;
};

}  // namespace gicv3
