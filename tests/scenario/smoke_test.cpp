// First end-to-end checks: an SPI, a PPI and an SGI, each acknowledged and completed.
#include <gtest/gtest.h>

#include "support/guest.hpp"

using namespace test;

TEST(Smoke, SpiRoutedToCpu1IsAcknowledgedThere) {
  Guest g(Guest::config(2));
  g.bring_up_all();
  g.set_group(40, true);
  g.set_priority(40, 0x80);
  g.route_to_cpu(40, 1);
  g.enable(40);
  EXPECT_FALSE(g.irq(1));
  g.line(40, true);
  EXPECT_TRUE(g.irq(1));
  EXPECT_FALSE(g.irq(0));
  EXPECT_EQ(g.ack1(0), kSpurious);
  EXPECT_EQ(g.ack1(1), 40u);
  EXPECT_FALSE(g.irq(1));
  EXPECT_TRUE(g.is_active(40));
  g.line(40, false);
  g.eoi1(1, 40);
  EXPECT_FALSE(g.is_active(40));
  EXPECT_FALSE(g.irq(1));
}

TEST(Smoke, SgiAcrossCpus) {
  Guest g(Guest::config(4));
  g.bring_up_all();
  for (unsigned c = 0; c < 4; ++c) {
    g.set_group(3, true, c);
    g.enable(3, c);
  }
  g.send_sgi1(0, 2, 3);
  EXPECT_TRUE(g.irq(2));
  EXPECT_FALSE(g.irq(1));
  EXPECT_EQ(g.ack1(2), 3u);
  g.eoi1(2, 3);
  EXPECT_FALSE(g.is_active(3, 2));
}

TEST(Smoke, Group0PpiSignalsFiq) {
  Guest g(Guest::config(1));
  g.bring_up_all();
  g.set_group(27, false);
  g.enable(27);
  g.line(27, true);
  EXPECT_TRUE(g.fiq(0));
  EXPECT_FALSE(g.irq(0));
  EXPECT_EQ(g.ack1(0), kSpurious);
  EXPECT_EQ(g.ack0(0), 27u);
  g.eoi0(0, 27);
  // Level still high: pending again after deactivation.
  EXPECT_TRUE(g.fiq(0));
}
