// The active state (IHI0069 4.1.2; GICD_ISACTIVER/ICACTIVER, GICR_ISACTIVER0/ICACTIVER0): an
// active interrupt is not forwarded again until it is deactivated, whoever made it active.
#include <gtest/gtest.h>

#include "support/guest.hpp"

using namespace test;

namespace {

class Active : public ::testing::Test {
 protected:
  Guest g{Guest::config(2)};
  void SetUp() override { g.bring_up_all(); }
};

}  // namespace

TEST_F(Active, IsactiverMakesAnInterruptActiveAndHoldsItBack) {
  for (uint32_t id : {40u, 20u}) {  // an SPI (GICD) and a PPI (GICR)
    g.setup(id, true, 0x80, true);
    if (id >= 32) {
      g.gicd_write(gicd::ISACTIVER + id / 32 * 4, 1u << (id % 32));
    } else {
      g.gicr_write(0, gicr::ISACTIVER0, 1u << id);
    }
    EXPECT_TRUE(g.is_active(id));
    EXPECT_EQ(g.rpr(0), 0xff);  // the CPU interface's active priorities are not involved
    g.pulse(id);
    EXPECT_TRUE(g.is_pending(id));
    EXPECT_FALSE(g.irq(0)) << id;
    EXPECT_EQ(g.ack1(0), kSpurious);
    g.clear_active(id);
    EXPECT_FALSE(g.is_active(id));
    EXPECT_TRUE(g.irq(0));
    EXPECT_EQ(g.ack1(0), id);
    g.eoi1(0, id);
    EXPECT_FALSE(g.irq(0));
  }
}

TEST_F(Active, PpiActiveStateIsPerCpu) {
  g.setup(20, true, 0x80, true, 0);
  g.setup(20, true, 0x80, true, 1);
  g.gicr_write(1, gicr::ISACTIVER0, 1u << 20);
  EXPECT_TRUE(g.is_active(20, 1));
  EXPECT_FALSE(g.is_active(20, 0));
  g.pulse(20, 0);
  g.pulse(20, 1);
  EXPECT_TRUE(g.irq(0));
  EXPECT_FALSE(g.irq(1));
  g.gicr_write(1, gicr::ICACTIVER0, 1u << 20);
  EXPECT_TRUE(g.irq(1));
}

TEST_F(Active, EdgeWhileActiveGivesActiveAndPending) {
  g.setup(41, true, 0x80, true);
  g.pulse(41);
  EXPECT_EQ(g.ack1(0), 41u);
  EXPECT_FALSE(g.is_pending(41));
  g.pulse(41);
  EXPECT_TRUE(g.is_active(41));
  EXPECT_TRUE(g.is_pending(41));
  EXPECT_FALSE(g.irq(0));
  g.pulse(41);  // more edges while active and pending: still one pending interrupt
  g.eoi1(0, 41);
  EXPECT_FALSE(g.is_active(41));
  EXPECT_TRUE(g.is_pending(41));
  EXPECT_EQ(g.ack1(0), 41u);
  g.eoi1(0, 41);
  EXPECT_EQ(g.ack1(0), kSpurious);
}

TEST_F(Active, AnActiveSpiIsNotOfferedToAnotherCpu) {
  // 1-of-N: once CPU 0 has taken the SPI, a new edge leaves it active and pending; CPU 1 must not
  // get it before CPU 0 deactivates it.
  g.setup(42, true, 0x80, true);
  g.route(42, 1ull << 31);
  g.pulse(42);
  EXPECT_EQ(g.ack1(0), 42u);
  g.pulse(42);
  EXPECT_FALSE(g.irq(1));
  EXPECT_EQ(g.ack1(1), kSpurious);
  g.eoi1(0, 42);
  EXPECT_TRUE(g.irq(0));
  EXPECT_TRUE(g.irq(1));
  EXPECT_EQ(g.ack1(1), 42u);
  EXPECT_FALSE(g.irq(0));
  g.eoi1(1, 42);
}

TEST_F(Active, IcactiverOnAnAcknowledgedInterruptLeavesTheRunningPriority) {
  // ICACTIVER clears the interrupt's active state, not the CPU interface's active priority: the
  // running priority stays until the handler's EOI drops it (EOImode 1 keeps that EOI a pure
  // priority drop).
  g.set_eoimode(0, true);
  g.setup(43, true, 0x80, true);
  g.pulse(43);
  EXPECT_EQ(g.ack1(0), 43u);
  g.clear_active(43);
  EXPECT_FALSE(g.is_active(43));
  EXPECT_EQ(g.rpr(0), 0x80);
  g.pulse(43);
  EXPECT_TRUE(g.is_pending(43));
  EXPECT_FALSE(g.irq(0));  // same group priority as the running priority
  EXPECT_EQ(g.hppir1(0), 43u);
  g.eoi1(0, 43);
  EXPECT_EQ(g.rpr(0), 0xff);
  EXPECT_TRUE(g.irq(0));
  EXPECT_EQ(g.ack1(0), 43u);
  g.eoi1(0, 43);
  g.dir(0, 43);
  EXPECT_FALSE(g.is_active(43));
  EXPECT_FALSE(g.irq(0));
}

TEST_F(Active, IsactiverOnAPendingSpiWithdrawsItFromTheTarget) {
  g.setup(44, true, 0x80, false, 1);
  g.line(44, true);
  EXPECT_TRUE(g.irq(1));
  g.gicd_write(gicd::ISACTIVER + 4, 1u << (44 - 32));
  EXPECT_FALSE(g.irq(1));
  EXPECT_EQ(g.ack1(1), kSpurious);
  g.clear_active(44);
  EXPECT_TRUE(g.irq(1));
  g.line(44, false);
  EXPECT_FALSE(g.irq(1));
}
