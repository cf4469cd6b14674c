// Unit tests of gicv3::CpuInterface: binary points, active priorities, running priority, priority
// drop and the signalling decision (IHI0069 4.8 and the ICC_* register descriptions). One Security
// state (DS == 1), the guest is Non-secure EL1.
#include "cpuif/cpu_interface.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>

namespace gicv3 {
namespace {

// Implemented priority bits and what follows from them (IHI0069 4.8; ICC_AP0R<n>_EL1, ICC_BPR0_EL1,
// ICC_BPR1_EL1):
// at most 7 bits of group priority, so 8 implemented bits behave like 7 for preemption.
struct PriorityBits {
  unsigned bits;
  uint8_t priority_mask;  // implemented bits of a priority value
  uint8_t min_bpr0;       // smallest BPR0 that keeps every implemented bit in the group priority
  unsigned nr_apr;        // ICC_AP<g>R<n>_EL1 registers: 32 preemption levels each
};
constexpr std::array<PriorityBits, 4> kBits{{
    {5, 0xf8, 2, 1},
    {6, 0xfc, 1, 2},
    {7, 0xfe, 0, 4},
    {8, 0xff, 0, 4},
}};

CpuInterface make(unsigned bits) {
  Config cfg;
  cfg.priority_bits = bits;
  return CpuInterface(cfg);
}

Hppi hppi(uint8_t prio, Group g, uint32_t intid = 40) { return Hppi{intid, prio, g}; }

class PerPriorityBits : public ::testing::TestWithParam<PriorityBits> {};

TEST_P(PerPriorityBits, DerivedSizes) {
  const PriorityBits p = GetParam();
  const CpuInterface icc = make(p.bits);
  EXPECT_EQ(icc.priority_bits(), p.bits);
  EXPECT_EQ(icc.priority_mask(), p.priority_mask);
  EXPECT_EQ(icc.nr_apr(), p.nr_apr);
  EXPECT_EQ(icc.min_bpr(Group::g0), p.min_bpr0);
  // Non-secure BPR1 is one more than BPR0 for the same grouping (IHI0069 4.8, ICC_BPR1_EL1).
  EXPECT_EQ(icc.min_bpr(Group::g1), p.min_bpr0 + 1);
}

TEST_P(PerPriorityBits, BinaryPointsResetToTheirMinimum) {
  // The reset value is vgic's choice (the minimum, as Arm's cores do).
  const PriorityBits p = GetParam();
  const CpuInterface icc = make(p.bits);
  EXPECT_EQ(icc.read_bpr(Group::g0), p.min_bpr0);
  EXPECT_EQ(icc.read_bpr(Group::g1), p.min_bpr0 + 1u);
}

TEST_P(PerPriorityBits, BinaryPointWritesBelowTheMinimumSetTheMinimum) {
  // IHI0069 ICC_BPR0_EL1/ICC_BPR1_EL1: "an attempt to program the binary point field to a value
  // less than the minimum value sets the field to the minimum value".
  const PriorityBits p = GetParam();
  CpuInterface icc = make(p.bits);
  for (uint64_t v = 0; v < 8; ++v) {
    icc.write_bpr(Group::g0, v);
    EXPECT_EQ(icc.read_bpr(Group::g0), std::max<uint64_t>(v, p.min_bpr0)) << "BPR0 <- " << v;
    icc.write_bpr(Group::g1, v);
    EXPECT_EQ(icc.read_bpr(Group::g1), std::max<uint64_t>(v, p.min_bpr0 + 1u)) << "BPR1 <- " << v;
  }
  // Only BinaryPoint [2:0] is writable.
  icc.write_bpr(Group::g0, 0xf8 | 5);
  EXPECT_EQ(icc.read_bpr(Group::g0), std::max<uint64_t>(5, p.min_bpr0));
}

TEST_P(PerPriorityBits, ActivatePrioritySetsTheGroupPriorityBit) {
  // IHI0069 ICC_AP0R<n>_EL1/ICC_AP1R<n>_EL1: with n preemption bits, bit k of the APRs stands for
  // group priority k << (8 - n); the priority recorded is the group priority under the current
  // binary point.
  const PriorityBits p = GetParam();
  const unsigned pre = std::min(p.bits, 7u);
  for (Group g : {Group::g0, Group::g1}) {
    for (unsigned prio = 0; prio < 0x100; prio += 0x1d) {
      CpuInterface icc = make(p.bits);
      const uint8_t masked = uint8_t(prio) & p.priority_mask;
      icc.activate_priority(hppi(masked, g));
      const uint8_t group_prio = masked & icc.group_priority_mask(g);
      const unsigned bit = unsigned(group_prio) >> (8 - pre);
      for (unsigned r = 0; r < 4; ++r) {
        EXPECT_EQ(icc.apr[size_t(g)][r], r == bit / 32 ? 1u << (bit % 32) : 0u) << "prio " << prio << " APR" << r;
        EXPECT_EQ(icc.apr[1 - size_t(g)][r], 0u);
      }
      EXPECT_LT(bit / 32, icc.nr_apr());
      EXPECT_EQ(icc.running_priority(), group_prio) << "prio " << prio;
      EXPECT_EQ(icc.highest_active_group(), int(g));
    }
  }
}

std::string bits_name(const ::testing::TestParamInfo<PriorityBits>& p) { return std::to_string(p.param.bits) + "bits"; }
INSTANTIATE_TEST_SUITE_P(CpuInterface, PerPriorityBits, ::testing::ValuesIn(kBits), bits_name);

TEST(CpuInterface, CbprMakesBpr1ReadAsBpr0PlusOneAndIgnoresWrites) {
  // IHI0069 ICC_BPR1_EL1: with ICC_CTLR_EL1.CBPR == 1, Non-secure reads of ICC_BPR1_EL1 return
  // ICC_BPR0_EL1 + 1 saturated to 0b111, and Non-secure writes are ignored.
  CpuInterface icc = make(5);
  icc.write_bpr(Group::g1, 6);
  icc.cbpr = true;
  for (uint64_t b0 = 2; b0 < 8; ++b0) {
    icc.write_bpr(Group::g0, b0);
    EXPECT_EQ(icc.read_bpr(Group::g1), std::min<uint64_t>(b0 + 1, 7));
  }
  icc.write_bpr(Group::g1, 4);  // ignored
  icc.cbpr = false;
  EXPECT_EQ(icc.read_bpr(Group::g1), 6u);
}

TEST(CpuInterface, GroupPriorityMaskPerGroup) {
  // GroupBits() (IHI0069 4.8): Group 0 uses BPR0; Non-secure Group 1 uses BPR1 - 1, or BPR0
  // when CBPR is set. The group priority is bits [7:BP+1].
  CpuInterface icc = make(8);
  for (uint64_t b = 0; b < 8; ++b) {
    icc.write_bpr(Group::g0, b);
    EXPECT_EQ(icc.group_priority_mask(Group::g0), uint8_t(0xff << (b + 1))) << "BPR0 " << b;
  }
  for (uint64_t b = 1; b < 8; ++b) {
    icc.write_bpr(Group::g1, b);
    EXPECT_EQ(icc.group_priority_mask(Group::g1), uint8_t(0xff << b)) << "BPR1 " << b;
  }
  icc.write_bpr(Group::g0, 3);
  icc.write_bpr(Group::g1, 6);
  icc.cbpr = true;
  EXPECT_EQ(icc.group_priority_mask(Group::g1), icc.group_priority_mask(Group::g0));
  EXPECT_EQ(icc.group_priority_mask(Group::g1), 0xf0);
}

TEST(CpuInterface, RunningPriorityIsIdleWithNothingActive) {
  for (const PriorityBits& p : kBits) {
    const CpuInterface icc = make(p.bits);
    EXPECT_EQ(icc.running_priority(), 0xff);
    EXPECT_EQ(icc.highest_active_group(), -1);
  }
}

TEST(CpuInterface, PriorityDropClearsOnlyTheHighestActivePriority) {
  // IHI0069 4.8, ICC_EOIR1_EL1: a priority drop clears the highest active priority; it must be of
  // the group of the EOIR written (vgic refuses the other group's EOI).
  CpuInterface icc = make(5);
  icc.activate_priority(hppi(0x80, Group::g1));
  icc.activate_priority(hppi(0x40, Group::g0));
  icc.activate_priority(hppi(0x20, Group::g1));
  EXPECT_EQ(icc.running_priority(), 0x20);

  EXPECT_FALSE(icc.drop_priority(Group::g0));  // highest is Group 1
  EXPECT_EQ(icc.running_priority(), 0x20);
  EXPECT_TRUE(icc.drop_priority(Group::g1));
  EXPECT_EQ(icc.running_priority(), 0x40);
  EXPECT_EQ(icc.apr[1][0], 1u << (0x80 >> 3));  // the lower Group 1 priority is still active

  EXPECT_FALSE(icc.drop_priority(Group::g1));  // highest is Group 0 now
  EXPECT_TRUE(icc.drop_priority(Group::g0));
  EXPECT_EQ(icc.running_priority(), 0x80);
  EXPECT_TRUE(icc.drop_priority(Group::g1));
  EXPECT_EQ(icc.running_priority(), 0xff);
  EXPECT_FALSE(icc.drop_priority(Group::g1));  // nothing active
  EXPECT_FALSE(icc.drop_priority(Group::g0));
}

TEST(CpuInterface, PriorityDropInHigherAprRegisters) {
  // 7 preemption bits: priorities 0x40 and 0xc0 live in ICC_AP1R1 and ICC_AP1R3.
  CpuInterface icc = make(7);
  icc.activate_priority(hppi(0xc0, Group::g1));
  icc.activate_priority(hppi(0x40, Group::g1));
  EXPECT_EQ(icc.apr[1][1], 1u << 0);
  EXPECT_EQ(icc.apr[1][3], 1u << 0);
  EXPECT_TRUE(icc.drop_priority(Group::g1));
  EXPECT_EQ(icc.apr[1][1], 0u);
  EXPECT_EQ(icc.running_priority(), 0xc0);
}

class CanSignal : public ::testing::Test {
 protected:
  CpuInterface icc = make(5);
  void SetUp() override {
    icc.igrpen = {true, true};
    icc.write_pmr(0xff);
  }
};

TEST_F(CanSignal, NeedsAValidInterruptOfAnEnabledGroup) {
  EXPECT_FALSE(icc.can_signal(Hppi{}));
  for (Group g : {Group::g0, Group::g1}) {
    EXPECT_TRUE(icc.can_signal(hppi(0x80, g)));
    icc.igrpen[size_t(g)] = false;
    EXPECT_FALSE(icc.can_signal(hppi(0x80, g)));
    EXPECT_TRUE(icc.can_signal(hppi(0x80, g == Group::g0 ? Group::g1 : Group::g0)));
    icc.igrpen[size_t(g)] = true;
  }
}

TEST_F(CanSignal, PriorityMustBeHigherThanThePriorityMask) {
  // IHI0069 ICC_PMR_EL1: only interrupts with a higher priority (lower value) than PMR are
  // signalled.
  icc.write_pmr(0x80);
  EXPECT_EQ(icc.pmr, 0x80);
  EXPECT_TRUE(icc.can_signal(hppi(0x78, Group::g1)));
  EXPECT_FALSE(icc.can_signal(hppi(0x80, Group::g1)));
  EXPECT_FALSE(icc.can_signal(hppi(0x88, Group::g0)));
  icc.write_pmr(0);
  EXPECT_FALSE(icc.can_signal(hppi(0x00, Group::g0)));
  // Unimplemented low-order PMR bits are RAZ/WI.
  icc.write_pmr(0x87);
  EXPECT_EQ(icc.pmr, 0x80);
}

TEST_F(CanSignal, PreemptionNeedsAHigherGroupPriorityThanTheRunningPriority) {
  // IHI0069 4.8 (preemption): a pending interrupt is signalled while another is active only if its
  // group priority is higher than the running priority.
  icc.activate_priority(hppi(0x80, Group::g1));
  EXPECT_TRUE(icc.can_signal(hppi(0x78, Group::g1)));
  EXPECT_TRUE(icc.can_signal(hppi(0x00, Group::g0)));
  EXPECT_FALSE(icc.can_signal(hppi(0x80, Group::g1)));
  EXPECT_FALSE(icc.can_signal(hppi(0x80, Group::g0)));
  EXPECT_FALSE(icc.can_signal(hppi(0xa0, Group::g1)));
}

TEST_F(CanSignal, SubPriorityDoesNotPreempt) {
  // BPR1 = 5: Group 1 group priority is bits [7:5]; 0x90 and 0x80 share group priority 0x80.
  icc.write_bpr(Group::g1, 5);
  icc.activate_priority(hppi(0x90, Group::g1));
  EXPECT_EQ(icc.running_priority(), 0x80);
  EXPECT_FALSE(icc.can_signal(hppi(0x80, Group::g1)));
  EXPECT_FALSE(icc.can_signal(hppi(0x98, Group::g1)));
  EXPECT_TRUE(icc.can_signal(hppi(0x60, Group::g1)));
}

TEST_F(CanSignal, EightBitPrioritiesHaveOneSubPriorityBit) {
  CpuInterface icc8 = make(8);
  icc8.igrpen = {true, true};
  icc8.write_pmr(0xff);
  icc8.activate_priority(hppi(0x81, Group::g0));
  EXPECT_EQ(icc8.running_priority(), 0x80);
  EXPECT_FALSE(icc8.can_signal(hppi(0x80, Group::g0)));  // same group priority [7:1]
  EXPECT_TRUE(icc8.can_signal(hppi(0x7f, Group::g0)));
}

TEST_F(CanSignal, LinesFollowTheGroupOfASignalledInterrupt) {
  // IHI0069 4.6.2 (DS == 1): Group 0 is signalled as FIQ, Group 1 as IRQ.
  icc.hppi = hppi(0x80, Group::g1);
  EXPECT_EQ(icc.lines(), VGIC_LINE_IRQ);
  icc.hppi = hppi(0x80, Group::g0);
  EXPECT_EQ(icc.lines(), VGIC_LINE_FIQ);
  icc.write_pmr(0x80);
  EXPECT_EQ(icc.lines(), 0);
  icc.hppi = Hppi{};
  EXPECT_EQ(icc.lines(), 0);
}

}  // namespace
}  // namespace gicv3
