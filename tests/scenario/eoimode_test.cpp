// End of interrupt: priority drop and deactivation, and the split between them that
// ICC_CTLR_EL1.EOImode selects (IHI0069 4.1, 4.8; ICC_EOIR<n>_EL1, ICC_DIR_EL1, ICC_CTLR_EL1).
#include <gtest/gtest.h>

#include "support/guest.hpp"

using namespace test;

namespace {

class Eoi : public ::testing::Test {
 protected:
  Guest g{Guest::config(1)};
  void SetUp() override {
    g.bring_up_all();
    g.setup(40, true, 0x80, false);  // level
    g.setup(41, true, 0x80, true);   // edge, same priority
    g.setup(42, true, 0x40, true);   // edge, higher priority
    g.setup(45, false, 0x80, true);  // Group 0
  }
};

}  // namespace

TEST_F(Eoi, EoiMode0EoirDropsPriorityAndDeactivates) {
  EXPECT_EQ((g.icc_read(0, icc::CTLR) >> 1) & 1, 0u);  // EOImode resets to 0
  g.pulse(41);
  EXPECT_EQ(g.ack1(0), 41u);
  EXPECT_TRUE(g.is_active(41));
  EXPECT_EQ(g.rpr(0), 0x80);
  g.eoi1(0, 41);
  EXPECT_FALSE(g.is_active(41));
  EXPECT_EQ(g.rpr(0), 0xff);
}

TEST_F(Eoi, EoiMode1EoirOnlyDropsPriorityAndDirDeactivates) {
  g.set_eoimode(0, true);
  EXPECT_EQ((g.icc_read(0, icc::CTLR) >> 1) & 1, 1u);
  g.line(40, true);
  EXPECT_EQ(g.ack1(0), 40u);
  g.eoi1(0, 40);
  EXPECT_EQ(g.rpr(0), 0xff);     // priority dropped ...
  EXPECT_TRUE(g.is_active(40));  // ... but still active
  EXPECT_FALSE(g.irq(0));        // so not signalled again although its line is high
  EXPECT_EQ(g.ack1(0), kSpurious);

  // The dropped priority lets another interrupt of the same priority in.
  g.pulse(41);
  EXPECT_TRUE(g.irq(0));
  EXPECT_EQ(g.ack1(0), 41u);
  g.eoi1(0, 41);
  g.dir(0, 41);
  EXPECT_FALSE(g.is_active(41));

  g.dir(0, 40);
  EXPECT_FALSE(g.is_active(40));
  EXPECT_TRUE(g.irq(0));  // level still high: pending again
  EXPECT_EQ(g.ack1(0), 40u);
  g.line(40, false);
  g.eoi1(0, 40);
  g.dir(0, 40);
  EXPECT_FALSE(g.irq(0));
  EXPECT_FALSE(g.is_active(40));
}

TEST_F(Eoi, EoiMode1DeactivationNeedNotFollowTheNesting) {
  g.set_eoimode(0, true);
  g.pulse(41);
  EXPECT_EQ(g.ack1(0), 41u);
  g.pulse(42);
  EXPECT_EQ(g.ack1(0), 42u);  // preempts 41
  g.eoi1(0, 42);
  g.eoi1(0, 41);
  EXPECT_EQ(g.rpr(0), 0xff);
  g.dir(0, 41);  // the outer one first
  EXPECT_FALSE(g.is_active(41));
  EXPECT_TRUE(g.is_active(42));
  g.dir(0, 42);
  EXPECT_FALSE(g.is_active(42));
}

TEST_F(Eoi, DirWithEoiMode0IsIgnoredAndCounted) {
  // ICC_DIR_EL1 with EOImode == 0 is UNPREDICTABLE; vgic ignores it and counts a guest error.
  g.pulse(41);
  EXPECT_EQ(g.ack1(0), 41u);
  const uint64_t errors = g.guest_errors();
  g.dir(0, 41);
  EXPECT_EQ(g.guest_errors(), errors + 1);
  EXPECT_TRUE(g.is_active(41));
  EXPECT_EQ(g.rpr(0), 0x80);
  g.eoi1(0, 41);
  EXPECT_FALSE(g.is_active(41));
}

TEST_F(Eoi, EoiOfTheSpuriousIntidIsIgnored) {
  // ICC_EOIR1_EL1: a write of a special INTID (1020-1023) has no effect.
  g.pulse(41);
  EXPECT_EQ(g.ack1(0), 41u);
  g.eoi1(0, kSpurious);
  EXPECT_EQ(g.rpr(0), 0x80);
  EXPECT_TRUE(g.is_active(41));
  EXPECT_EQ(g.icc_read(0, icc::AP1R0), 1u << (0x80 >> 3));
  g.eoi1(0, 41);
  EXPECT_EQ(g.rpr(0), 0xff);
  EXPECT_FALSE(g.is_active(41));
}

TEST_F(Eoi, SpuriousAcknowledgeNeedsNoEoi) {
  // Reading 1023 from IAR changes nothing, and the driver's matching EOI of 1023 changes nothing.
  EXPECT_EQ(g.ack1(0), kSpurious);
  g.eoi1(0, kSpurious);
  EXPECT_EQ(g.rpr(0), 0xff);
  g.pulse(41);
  EXPECT_EQ(g.ack1(0), 41u);
  g.eoi1(0, 41);
  EXPECT_FALSE(g.is_active(41));
}

TEST_F(Eoi, Eoir1OfAGroup0InterruptIsIgnored) {
  // The highest active priority belongs to a Group 0 interrupt: ICC_EOIR1_EL1 may not end it
  // (IHI0069 4.8: the EOI must match the group of the interrupt). vgic ignores it and counts it.
  g.pulse(45);
  EXPECT_EQ(g.ack0(0), 45u);
  const uint64_t errors = g.guest_errors();
  g.eoi1(0, 45);
  EXPECT_GT(g.guest_errors(), errors);
  EXPECT_TRUE(g.is_active(45));
  EXPECT_EQ(g.rpr(0), 0x80);
  EXPECT_EQ(g.icc_read(0, icc::AP0R0), 1u << (0x80 >> 3));
  g.eoi0(0, 45);
  EXPECT_FALSE(g.is_active(45));
  EXPECT_EQ(g.rpr(0), 0xff);
}

TEST_F(Eoi, Eoir0OfAGroup1InterruptIsIgnored) {
  g.pulse(41);
  EXPECT_EQ(g.ack1(0), 41u);
  g.eoi0(0, 41);
  EXPECT_TRUE(g.is_active(41));
  EXPECT_EQ(g.rpr(0), 0x80);
  g.eoi1(0, 41);
  EXPECT_FALSE(g.is_active(41));
}
