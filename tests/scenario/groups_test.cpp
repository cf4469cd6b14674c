// Interrupt groups with one Security state (IHI0069 4.6, 4.7; GICD_CTLR, ICC_IGRPEN<n>_EL1,
// ICC_IAR<n>_EL1): Group 0 is signalled as FIQ, Group 1 as IRQ, and each can be disabled in the
// Distributor and at the CPU interface.
#include <gtest/gtest.h>

#include "support/guest.hpp"

using namespace test;

namespace {

class Groups : public ::testing::Test {
 protected:
  Guest g{Guest::config(2)};
  void SetUp() override { g.bring_up_all(); }
  // One interrupt of each kind in Group 1 on CPU 0, made pending: an SPI, a PPI and an SGI.
  void raise_group1_of_each_kind() {
    g.setup(41, true, 0x80, true);
    g.setup(20, true, 0x80, true);
    g.setup(2, true, 0x80, true);
    g.pulse(41);
    g.pulse(20);
    g.send_sgi1(1, 0, 2);
  }
};

}  // namespace

TEST_F(Groups, Group0IsFiqAndGroup1IsIrq) {
  g.setup(40, false, 0x40, true);
  g.setup(41, true, 0x80, true);
  g.pulse(41);
  EXPECT_EQ(g.lines(0), VGIC_LINE_IRQ);
  g.pulse(40);  // higher priority, Group 0: it is now the one signalled
  EXPECT_EQ(g.lines(0), VGIC_LINE_FIQ);
  EXPECT_EQ(g.ack0(0), 40u);
  EXPECT_EQ(g.lines(0), 0);  // 41 cannot preempt the running priority 0x40
  g.eoi0(0, 40);
  EXPECT_EQ(g.lines(0), VGIC_LINE_IRQ);
  EXPECT_EQ(g.ack1(0), 41u);
  g.eoi1(0, 41);
  EXPECT_EQ(g.lines(0), 0);
}

TEST_F(Groups, Group0PreemptsAGroup1Handler) {
  g.setup(40, false, 0x40, true);
  g.setup(41, true, 0x80, true);
  g.pulse(41);
  EXPECT_EQ(g.ack1(0), 41u);
  g.pulse(40);
  EXPECT_EQ(g.lines(0), VGIC_LINE_FIQ);
  EXPECT_EQ(g.ack0(0), 40u);
  EXPECT_EQ(g.rpr(0), 0x40);
  g.eoi0(0, 40);
  EXPECT_EQ(g.rpr(0), 0x80);
  g.eoi1(0, 41);
  EXPECT_EQ(g.rpr(0), 0xff);
}

TEST_F(Groups, Iar1IsSpuriousWhenTheHighestPendingIsGroup0) {
  // ICC_IAR1_EL1 returns 1023 when the highest-priority pending interrupt is not Group 1, and
  // acknowledges nothing; ICC_IAR0_EL1 likewise for Group 0.
  g.setup(40, false, 0x40, true);
  g.setup(41, true, 0x80, true);
  g.pulse(40);
  g.pulse(41);
  EXPECT_EQ(g.ack1(0), kSpurious);
  EXPECT_TRUE(g.is_pending(40));
  EXPECT_TRUE(g.is_pending(41));
  EXPECT_FALSE(g.is_active(41));
  EXPECT_EQ(g.ack0(0), 40u);
  g.eoi0(0, 40);

  g.set_priority(40, 0xc0);  // now Group 1 is the highest
  g.pulse(40);
  EXPECT_EQ(g.ack0(0), kSpurious);
  EXPECT_TRUE(g.is_pending(40));
  EXPECT_EQ(g.ack1(0), 41u);
  g.eoi1(0, 41);
  EXPECT_EQ(g.ack0(0), 40u);
  g.eoi0(0, 40);
}

TEST_F(Groups, DistributorGroup1DisableHoldsBackSpisPpisAndSgis) {
  // GICD_CTLR.EnableGrp1: with affinity routing the Distributor's group enables gate the
  // Redistributors' SGIs and PPIs too.
  g.enable_distributor(true, false);
  raise_group1_of_each_kind();
  g.setup(45, false, 0x80, true);
  g.pulse(45);
  EXPECT_EQ(g.lines(0), VGIC_LINE_FIQ);  // Group 0 still flows
  EXPECT_EQ(g.ack0(0), 45u);
  g.eoi0(0, 45);
  EXPECT_EQ(g.lines(0), 0);
  EXPECT_EQ(g.ack1(0), kSpurious);
  for (uint32_t id : {41u, 20u, 2u}) EXPECT_TRUE(g.is_pending(id)) << id;

  g.enable_distributor(true, true);
  EXPECT_EQ(g.lines(0), VGIC_LINE_IRQ);
  for (uint32_t want : {2u, 20u, 41u}) {  // equal priority: lowest INTID first (vgic's choice)
    EXPECT_EQ(g.ack1(0), want);
    g.eoi1(0, want);
  }
  EXPECT_EQ(g.lines(0), 0);
}

TEST_F(Groups, DistributorGroup0DisableHoldsBackGroup0Only) {
  g.enable_distributor(false, true);
  g.setup(45, false, 0x80, true);
  g.setup(4, false, 0x80, true);
  g.pulse(45);
  g.icc_write(1, icc::SGI0R, g.sgi1r_to(0, 4));
  EXPECT_EQ(g.lines(0), 0);
  EXPECT_EQ(g.ack0(0), kSpurious);
  g.enable_distributor(true, true);
  EXPECT_EQ(g.lines(0), VGIC_LINE_FIQ);
}

TEST_F(Groups, ADisabledGroupDoesNotHideTheOtherGroup) {
  // Interrupts of a group the Distributor has disabled are not forwarded (GICD_CTLR), so a
  // higher-priority pending Group 0 SPI must not keep a Group 1 SPI from being signalled.
  g.setup(40, false, 0x40, true);
  g.setup(41, true, 0x80, true);
  g.enable_distributor(false, true);
  g.pulse(40);
  g.pulse(41);
  EXPECT_EQ(g.lines(0), VGIC_LINE_IRQ);
  EXPECT_EQ(g.hppir1(0), 41u);
  EXPECT_EQ(g.ack1(0), 41u);
  g.eoi1(0, 41);
  EXPECT_TRUE(g.is_pending(40));
  // The same with PPIs in the Redistributor.
  g.setup(20, false, 0x40, true);
  g.setup(21, true, 0x80, true);
  g.pulse(20);
  g.pulse(21);
  EXPECT_EQ(g.ack1(0), 21u);
  g.eoi1(0, 21);
}

TEST_F(Groups, CpuInterfaceGroup1DisableHoldsBackGroup1) {
  // ICC_IGRPEN1_EL1.Enable == 0: Group 1 interrupts are not signalled and IAR1 returns 1023.
  g.icc_write(0, icc::IGRPEN1, 0);
  EXPECT_EQ(g.icc_read(0, icc::IGRPEN1), 0u);
  raise_group1_of_each_kind();
  EXPECT_EQ(g.lines(0), 0);
  EXPECT_EQ(g.ack1(0), kSpurious);
  g.setup(45, false, 0xa0, true);
  g.pulse(45);
  EXPECT_EQ(g.lines(0), VGIC_LINE_FIQ);
  EXPECT_EQ(g.ack0(0), 45u);
  g.eoi0(0, 45);
  // Another CPU's interface is not affected.
  g.setup(20, true, 0x80, true, 1);
  g.pulse(20, 1);
  EXPECT_EQ(g.lines(1), VGIC_LINE_IRQ);

  g.icc_write(0, icc::IGRPEN1, 1);
  EXPECT_EQ(g.lines(0), VGIC_LINE_IRQ);
  EXPECT_EQ(g.ack1(0), 2u);
  g.eoi1(0, 2);
}

TEST_F(Groups, CpuInterfaceGroup0DisableHoldsBackGroup0) {
  g.icc_write(0, icc::IGRPEN0, 0);
  g.setup(45, false, 0x80, true);
  g.pulse(45);
  EXPECT_EQ(g.lines(0), 0);
  EXPECT_EQ(g.ack0(0), kSpurious);
  g.icc_write(0, icc::IGRPEN0, 1);
  EXPECT_EQ(g.lines(0), VGIC_LINE_FIQ);
  EXPECT_EQ(g.ack0(0), 45u);
  g.eoi0(0, 45);
}
