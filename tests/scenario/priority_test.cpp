// Prioritization and preemption as a guest sees them (IHI0069 4.8; ICC_PMR_EL1, ICC_BPR1_EL1,
// ICC_RPR_EL1, ICC_HPPIR<n>_EL1). Default configuration: 5 priority bits, so BPR1 >= 3.
#include <gtest/gtest.h>

#include <vector>

#include "support/guest.hpp"

using namespace test;

namespace {

class Priority : public ::testing::Test {
 protected:
  Guest g{Guest::config(1)};
  void SetUp() override { g.bring_up_all(); }
  // An edge-triggered Group 1 interrupt made pending by a pulse on its line (SPI or PPI).
  void raise(uint32_t intid, uint8_t prio) {
    g.setup(intid, true, prio, true);
    g.line(intid, true);
    g.line(intid, false);
  }
  // Acknowledges and completes everything pending, returning the order of acknowledgement.
  std::vector<uint32_t> drain() {
    std::vector<uint32_t> order;
    for (uint32_t id; (id = g.ack1(0)) != kSpurious && order.size() < 64;) {
      order.push_back(id);
      g.eoi1(0, id);
    }
    return order;
  }
};

}  // namespace

TEST_F(Priority, HighestPriorityIsAcknowledgedFirst) {
  raise(40, 0xa0);
  raise(41, 0x40);
  raise(42, 0x80);
  raise(20, 0x60);  // a PPI competes with the SPIs
  g.setup(3, true, 0x50, true);
  g.send_sgi1(0, 0, 3);  // and an SGI
  EXPECT_EQ(drain(), (std::vector<uint32_t>{41, 3, 20, 42, 40}));
}

TEST_F(Priority, EqualPrioritiesGoLowestIntidFirst) {
  // Among equal priorities the choice is IMPLEMENTATION DEFINED (IHI0069 4.8); vgic takes the
  // lowest INTID (its documented choice).
  for (uint32_t id : {60u, 45u, 44u, 20u}) raise(id, 0x80);
  EXPECT_EQ(drain(), (std::vector<uint32_t>{20, 44, 45, 60}));
}

TEST_F(Priority, PriorityMaskHoldsBackEqualAndLowerPriorities) {
  // ICC_PMR_EL1: only interrupts of higher priority (lower value) than the mask are signalled.
  raise(40, 0x80);
  for (uint8_t pmr : {uint8_t(0x00), uint8_t(0x40), uint8_t(0x80)}) {
    g.set_pmr(0, pmr);
    EXPECT_FALSE(g.irq(0)) << "PMR " << int(pmr);
    EXPECT_EQ(g.ack1(0), kSpurious);
  }
  EXPECT_TRUE(g.is_pending(40));
  g.set_pmr(0, 0x88);
  EXPECT_TRUE(g.irq(0));
  EXPECT_EQ(drain(), std::vector<uint32_t>{40});
}

TEST_F(Priority, UnimplementedPriorityMaskBitsReadAsZero) {
  // 5 implemented bits: PMR[2:0] are RAZ/WI (ICC_PMR_EL1).
  g.set_pmr(0, 0xff);
  EXPECT_EQ(g.icc_read(0, icc::PMR), 0xf8u);
  g.set_pmr(0, 0x47);
  EXPECT_EQ(g.icc_read(0, icc::PMR), 0x40u);
}

TEST_F(Priority, HigherGroupPriorityPreemptsAnActiveInterrupt) {
  // IHI0069 4.8: an interrupt whose group priority is higher than the running priority is
  // signalled while another is active, and can be acknowledged (nested).
  raise(40, 0x80);
  EXPECT_EQ(g.ack1(0), 40u);
  EXPECT_EQ(g.rpr(0), 0x80);
  raise(41, 0x40);
  EXPECT_TRUE(g.irq(0));
  EXPECT_EQ(g.ack1(0), 41u);
  EXPECT_EQ(g.rpr(0), 0x40);
  raise(42, 0x20);
  EXPECT_EQ(g.ack1(0), 42u);
  EXPECT_EQ(g.rpr(0), 0x20);
  g.eoi1(0, 42);
  EXPECT_EQ(g.rpr(0), 0x40);
  g.eoi1(0, 41);
  EXPECT_EQ(g.rpr(0), 0x80);
  g.eoi1(0, 40);
  EXPECT_EQ(g.rpr(0), 0xff);
  for (uint32_t id : {40u, 41u, 42u}) EXPECT_FALSE(g.is_active(id));
}

TEST_F(Priority, EqualOrLowerPriorityWaitsForTheActiveOne) {
  raise(40, 0x80);
  EXPECT_EQ(g.ack1(0), 40u);
  raise(41, 0x80);
  raise(42, 0xc0);
  EXPECT_FALSE(g.irq(0));
  EXPECT_EQ(g.ack1(0), kSpurious);
  g.eoi1(0, 40);
  EXPECT_TRUE(g.irq(0));
  EXPECT_EQ(drain(), (std::vector<uint32_t>{41, 42}));
}

TEST_F(Priority, BinaryPointDecidesWhetherASubPriorityDifferencePreempts) {
  // Active 0x90, pending 0x80. For Group 1 the group priority is bits [7:BPR1] (GroupBits() with
  // BPR1 - 1; IHI0069 4.8): BPR1 3 and 4 keep bit 4 in the group priority, so 0x80 preempts; from 5
  // on 0x80 and 0x90 share a group priority and 0x80 must wait.
  const struct {
    uint8_t bpr1;
    bool preempts;
  } cases[] = {{3, true}, {4, true}, {5, false}, {6, false}, {7, false}};
  for (const auto& k : cases) {
    g.icc_write(0, icc::BPR1, k.bpr1);  // before anything is active
    EXPECT_EQ(g.icc_read(0, icc::BPR1), k.bpr1);
    raise(40, 0x90);
    EXPECT_EQ(g.ack1(0), 40u);
    raise(41, 0x80);
    EXPECT_EQ(g.irq(0), k.preempts) << "BPR1 " << int(k.bpr1);
    EXPECT_EQ(g.hppir1(0), 41u);
    if (k.preempts) {
      EXPECT_EQ(g.ack1(0), 41u);
      g.eoi1(0, 41);
      g.eoi1(0, 40);
    } else {
      EXPECT_EQ(g.ack1(0), kSpurious);
      g.eoi1(0, 40);
      EXPECT_EQ(drain(), std::vector<uint32_t>{41});
    }
    EXPECT_EQ(g.rpr(0), 0xff);
  }
}

TEST_F(Priority, RunningPriorityIsTheGroupPriorityOfTheActiveInterrupt) {
  // ICC_RPR_EL1: 0xff when idle; otherwise the group priority of the highest active priority.
  EXPECT_EQ(g.rpr(0), 0xff);
  g.icc_write(0, icc::BPR1, 5);  // group priority [7:5]
  raise(40, 0xb8);
  EXPECT_EQ(g.ack1(0), 40u);
  EXPECT_EQ(g.rpr(0), 0xa0);
  g.eoi1(0, 40);
  EXPECT_EQ(g.rpr(0), 0xff);
}

TEST_F(Priority, HppirIgnoresThePriorityMask) {
  // ICC_HPPIR1_EL1 reports the highest-priority pending interrupt whether or not it can be
  // signalled; reading it acknowledges nothing.
  raise(40, 0x80);
  g.set_pmr(0, 0x40);
  EXPECT_FALSE(g.irq(0));
  EXPECT_EQ(g.hppir1(0), 40u);
  EXPECT_EQ(g.ack1(0), kSpurious);
  EXPECT_TRUE(g.is_pending(40));
  EXPECT_FALSE(g.is_active(40));
}

TEST_F(Priority, HppirIgnoresTheRunningPriority) {
  raise(40, 0x80);
  EXPECT_EQ(g.ack1(0), 40u);
  raise(41, 0xa0);
  EXPECT_EQ(g.hppir1(0), 41u);
  EXPECT_EQ(g.ack1(0), kSpurious);
  g.eoi1(0, 40);
  EXPECT_EQ(g.hppir1(0), 41u);
  EXPECT_EQ(drain(), std::vector<uint32_t>{41});
  EXPECT_EQ(g.hppir1(0), kSpurious);
}

TEST_F(Priority, Hppir0ReportsAMaskedGroup0Interrupt) {
  g.setup(45, false, 0x80, true);
  g.set_pending(45);
  g.set_pmr(0, 0x00);
  EXPECT_EQ(g.lines(0), 0);
  EXPECT_EQ(g.hppir0(0), 45u);
  EXPECT_EQ(g.hppir1(0), kSpurious);  // the highest pending interrupt is not Group 1
  EXPECT_EQ(g.ack0(0), kSpurious);
}

TEST_F(Priority, ActivePriorityRegistersRecordNesting) {
  // ICC_AP1R0_EL1 with 5 priority bits: bit n stands for group priority n << 3.
  raise(40, 0x80);
  raise(41, 0x40);
  EXPECT_EQ(g.ack1(0), 41u);
  raise(42, 0x20);
  EXPECT_EQ(g.ack1(0), 42u);
  EXPECT_EQ(g.icc_read(0, icc::AP1R0), (1u << (0x40 >> 3)) | (1u << (0x20 >> 3)));
  EXPECT_EQ(g.icc_read(0, icc::AP0R0), 0u);
  g.eoi1(0, 42);
  g.eoi1(0, 41);
  EXPECT_EQ(g.icc_read(0, icc::AP1R0), 0u);
  EXPECT_EQ(drain(), std::vector<uint32_t>{40});
}
