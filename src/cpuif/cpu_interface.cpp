#include "cpuif/cpu_interface.hpp"

#include <algorithm>

#include "cpuif/icc_regs.hpp"

namespace gicv3 {

CpuInterface::CpuInterface(const Config& cfg)
    : pri_bits_(cfg.priority_bits),
      // At most 7 bits of group priority: with BPR0 = 0 the group priority is bits [7:1].
      pre_bits_(std::min(cfg.priority_bits, 7u)),
      pri_mask_(uint8_t(0xff << (8 - cfg.priority_bits))),
      // The minimum BPR0 keeps all implemented priority bits as group priority (IHI0069 12.2.3).
      min_bpr0_(uint8_t(7 - pre_bits_)) {
  bpr[0] = min_bpr(Group::g0);
  bpr[1] = min_bpr(Group::g1);
}

void CpuInterface::write_pmr(uint64_t v) { pmr = uint8_t(ICC_PMR_Priority::get(v)) & pri_mask_; }

uint64_t CpuInterface::read_bpr(Group g) const {
  // IHI0069 12.2.6: with CBPR set, BPR1 reads as BPR0 + 1, saturated at 7 (the guest is
  // Non-secure; see spec-deviations.md).
  if (g == Group::g1 && cbpr) return std::min<unsigned>(bpr[0] + 1u, 7u);
  return bpr[size_t(g)];
}

void CpuInterface::write_bpr(Group g, uint64_t v) {
  if (g == Group::g1 && cbpr) return;  // writes ignored while CBPR is set (IHI0069 12.2.6)
  // Values below the minimum set the minimum (IHI0069 12.2.5/12.2.6).
  bpr[size_t(g)] = std::max<uint8_t>(uint8_t(ICC_BPR_BinaryPoint::get(v)), min_bpr(g));
}

uint8_t CpuInterface::group_priority_mask(Group g) const {
  unsigned b;
  if (g == Group::g0 || cbpr) {
    b = bpr[0];
  } else {
    // Non-secure Group 1 uses BPR1 - 1 so that equal BPR values mean equal grouping (IHI0069 4.8.5).
    b = bpr[1] - 1u;
  }
  return uint8_t(0xffu << (b + 1));
}

int CpuInterface::highest_active_group() const {
  for (unsigned r = 0; r < nr_apr(); ++r) {
    const uint32_t g0 = apr[0][r], g1 = apr[1][r];
    if (!(g0 | g1)) continue;
    const unsigned low = unsigned(__builtin_ctz(g0 | g1));
    return (g0 >> low) & 1 ? 0 : 1;
  }
  return -1;
}

void CpuInterface::activate_priority(const Hppi& h) {
  const unsigned bit = unsigned(h.priority & group_priority_mask(h.group)) >> (8 - pre_bits_);
  apr[size_t(h.group)][bit / 32] |= 1u << (bit % 32);
}

bool CpuInterface::drop_priority(Group g) {
  if (highest_active_group() != int(g)) return false;
  for (unsigned r = 0; r < nr_apr(); ++r) {
    uint32_t& bits = apr[size_t(g)][r];
    if (bits) {
      bits &= bits - 1;  // clear the lowest set bit: the highest active priority
      return true;
    }
  }
  return false;
}

}  // namespace gicv3
