// PPIs: one input line per CPU, edge- or level-sensitive (IHI0069 4.1.2, 4.3; GICR_ICFGR1).
#include <gtest/gtest.h>

#include "support/guest.hpp"

using namespace test;

namespace {
constexpr uint32_t kPpi = 23;

class Ppi : public ::testing::Test {
 protected:
  Guest g{Guest::config(4)};
  void SetUp() override { g.bring_up_all(); }
  void setup_everywhere(bool edge) {
    for (unsigned c = 0; c < 4; ++c) g.setup(kPpi, true, 0x80, edge, c);
  }
};
}  // namespace

TEST_F(Ppi, EachCpuHasItsOwnLine) {
  setup_everywhere(false);
  for (unsigned raised = 0; raised < 4; ++raised) {
    g.line(kPpi, true, raised);
    for (unsigned c = 0; c < 4; ++c) {
      EXPECT_EQ(g.is_pending(kPpi, c), c == raised) << "raised " << raised << " cpu " << c;
      EXPECT_EQ(g.irq(c), c == raised) << "raised " << raised << " cpu " << c;
      if (c != raised) {
        EXPECT_EQ(g.ack1(c), kSpurious);
      }
    }
    g.line(kPpi, false, raised);
    EXPECT_FALSE(g.irq(raised));
  }
}

TEST_F(Ppi, LevelPendingFollowsTheLineUntilAcknowledged) {
  // IHI0069 4.1.2: a level-sensitive interrupt is pending while its input is asserted.
  setup_everywhere(false);
  g.line(kPpi, true, 1);
  EXPECT_TRUE(g.is_pending(kPpi, 1));
  g.line(kPpi, false, 1);
  EXPECT_FALSE(g.is_pending(kPpi, 1));
  EXPECT_FALSE(g.irq(1));
  EXPECT_EQ(g.ack1(1), kSpurious);
}

TEST_F(Ppi, LevelReassertsAfterEoiWhileTheLineIsHigh) {
  setup_everywhere(false);
  g.line(kPpi, true, 2);
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(g.irq(2)) << "round " << round;
    EXPECT_EQ(g.ack1(2), kPpi);
    // Acknowledged with the line still high: active and pending (IHI0069 4.1.2).
    EXPECT_TRUE(g.is_active(kPpi, 2));
    EXPECT_TRUE(g.is_pending(kPpi, 2));
    EXPECT_FALSE(g.irq(2));  // an active interrupt is not signalled again
    g.eoi1(2, kPpi);
    EXPECT_FALSE(g.is_active(kPpi, 2));
  }
  EXPECT_TRUE(g.irq(2));
}

TEST_F(Ppi, LevelIsNotReassertedOnceTheLineIsLow) {
  setup_everywhere(false);
  g.line(kPpi, true, 3);
  EXPECT_EQ(g.ack1(3), kPpi);
  g.line(kPpi, false, 3);  // the handler quietened the device
  EXPECT_FALSE(g.is_pending(kPpi, 3));
  g.eoi1(3, kPpi);
  EXPECT_FALSE(g.is_active(kPpi, 3));
  EXPECT_FALSE(g.irq(3));
  EXPECT_EQ(g.ack1(3), kSpurious);
}

TEST_F(Ppi, EdgeBecomesPendingOnEachRisingEdgeOnly) {
  // IHI0069 4.1.2: an edge-triggered interrupt becomes pending on an asserting edge; the level of
  // the line afterwards does not matter.
  setup_everywhere(true);
  g.line(kPpi, true, 0);
  EXPECT_TRUE(g.is_pending(kPpi, 0));
  g.line(kPpi, false, 0);
  EXPECT_TRUE(g.is_pending(kPpi, 0));  // latched
  EXPECT_EQ(g.ack1(0), kPpi);
  EXPECT_FALSE(g.is_pending(kPpi, 0));
  g.eoi1(0, kPpi);
  EXPECT_FALSE(g.irq(0));

  g.line(kPpi, true, 0);
  EXPECT_EQ(g.ack1(0), kPpi);
  g.eoi1(0, kPpi);
  g.line(kPpi, true, 0);  // still high: no new edge
  EXPECT_FALSE(g.is_pending(kPpi, 0));
  EXPECT_FALSE(g.irq(0));
  g.line(kPpi, false, 0);
  EXPECT_FALSE(g.irq(0));
}

TEST_F(Ppi, EdgeWhileActiveIsDeliveredAgainAfterDeactivation) {
  setup_everywhere(true);
  g.line(kPpi, true, 1);
  g.line(kPpi, false, 1);
  EXPECT_EQ(g.ack1(1), kPpi);
  g.line(kPpi, true, 1);  // a second edge while the first is being handled
  EXPECT_TRUE(g.is_active(kPpi, 1));
  EXPECT_TRUE(g.is_pending(kPpi, 1));
  EXPECT_FALSE(g.irq(1));
  g.eoi1(1, kPpi);
  EXPECT_TRUE(g.irq(1));
  EXPECT_EQ(g.ack1(1), kPpi);
  g.eoi1(1, kPpi);
  EXPECT_FALSE(g.irq(1));
}

TEST_F(Ppi, TriggerModeComesFromGicrIcfgr1) {
  // GICR_ICFGR1 bit 2n+1 of PPI 16+n: 1 = edge-triggered (IHI0069 GICR_ICFGR1).
  g.set_edge(kPpi, true, 0);
  EXPECT_EQ((g.gicr_read(0, gicr::ICFGR1) >> (2 * (kPpi - 16) + 1)) & 1, 1u);
  EXPECT_EQ((g.gicr_read(1, gicr::ICFGR1) >> (2 * (kPpi - 16) + 1)) & 1, 0u);  // per CPU
  g.set_edge(kPpi, false, 0);
  EXPECT_EQ((g.gicr_read(0, gicr::ICFGR1) >> (2 * (kPpi - 16) + 1)) & 1, 0u);
}
