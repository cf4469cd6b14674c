// Level-sensitive SPIs (IHI0069 4.1.2; GICD_ISPENDR/ICPENDR, GICD_SETSPI_NSR/CLRSPI_NSR):
// the pending state follows the input, except where software latched it.
#include <gtest/gtest.h>

#include "support/guest.hpp"

using namespace test;

namespace {

constexpr uint32_t kSpi = 60;

class Level : public ::testing::Test {
 protected:
  Guest g{Guest::config(2)};
  void SetUp() override {
    g.bring_up_all();
    g.setup(kSpi, true, 0x80, false, 1);
  }
  void handle_and_complete() {
    EXPECT_EQ(g.ack1(1), kSpi);
    g.eoi1(1, kSpi);
  }
};

}  // namespace

TEST_F(Level, PendingFollowsTheLine) {
  for (int round = 0; round < 2; ++round) {
    g.line(kSpi, true);
    EXPECT_TRUE(g.is_pending(kSpi));
    EXPECT_TRUE(g.irq(1));
    g.line(kSpi, false);
    EXPECT_FALSE(g.is_pending(kSpi));
    EXPECT_FALSE(g.irq(1));
  }
  EXPECT_EQ(g.ack1(1), kSpurious);
}

TEST_F(Level, LineHighAfterEoiMakesItPendingAgain) {
  g.line(kSpi, true);
  EXPECT_EQ(g.ack1(1), kSpi);
  EXPECT_TRUE(g.is_pending(kSpi));  // active and pending: the input is still asserted
  g.eoi1(1, kSpi);
  EXPECT_TRUE(g.irq(1));
  EXPECT_EQ(g.ack1(1), kSpi);
  g.line(kSpi, false);
  g.eoi1(1, kSpi);
  EXPECT_FALSE(g.irq(1));
  EXPECT_FALSE(g.is_pending(kSpi));
}

TEST_F(Level, IcpendrDoesNotClearPendingWhileTheLineIsHigh) {
  // GICD_ICPENDR<n>: a level-sensitive interrupt whose input is asserted stays pending.
  g.line(kSpi, true);
  g.clear_pending(kSpi);
  EXPECT_TRUE(g.is_pending(kSpi));
  EXPECT_TRUE(g.irq(1));
  g.line(kSpi, false);
  EXPECT_FALSE(g.is_pending(kSpi));
  EXPECT_FALSE(g.irq(1));
}

TEST_F(Level, IspendrLatchSurvivesTheLineGoingLowUntilAcknowledged) {
  // GICD_ISPENDR<n> on a level-sensitive interrupt: pending regardless of the input until the
  // interrupt is acknowledged or the pending state is cleared (IHI0069 4.1.2).
  g.set_pending(kSpi);
  EXPECT_TRUE(g.is_pending(kSpi));
  g.line(kSpi, true);
  g.line(kSpi, false);
  EXPECT_TRUE(g.is_pending(kSpi));
  EXPECT_TRUE(g.irq(1));
  EXPECT_EQ(g.ack1(1), kSpi);
  EXPECT_FALSE(g.is_pending(kSpi));  // the acknowledge consumed the latch; the line is low
  g.eoi1(1, kSpi);
  EXPECT_FALSE(g.irq(1));
  EXPECT_EQ(g.ack1(1), kSpurious);
}

TEST_F(Level, IcpendrClearsAnIspendrLatch) {
  g.set_pending(kSpi);
  g.clear_pending(kSpi);
  EXPECT_FALSE(g.is_pending(kSpi));
  EXPECT_FALSE(g.irq(1));
}

TEST_F(Level, SetspiAssertsALevelSpiUntilClrspi) {
  // GICD_SETSPI_NSR on a level-sensitive SPI: it remains pending until deasserted by
  // GICD_CLRSPI_NSR; activated in between it is active and pending.
  ASSERT_EQ((g.gicd_read(gicd::TYPER) >> 16) & 1, 1u);  // GICD_TYPER.MBIS
  g.gicd_write(gicd::SETSPI_NSR, kSpi);
  EXPECT_TRUE(g.is_pending(kSpi));
  EXPECT_EQ(g.ack1(1), kSpi);
  EXPECT_TRUE(g.is_pending(kSpi));
  EXPECT_TRUE(g.is_active(kSpi));
  g.eoi1(1, kSpi);
  EXPECT_TRUE(g.irq(1));  // still asserted
  handle_and_complete();
  g.gicd_write(gicd::CLRSPI_NSR, kSpi);
  EXPECT_FALSE(g.is_pending(kSpi));
  EXPECT_FALSE(g.irq(1));
}

TEST_F(Level, ClrspiWhileActiveLeavesItActiveOnly) {
  // GICD_CLRSPI_NSR changes active and pending to active.
  g.gicd_write(gicd::SETSPI_NSR, kSpi);
  EXPECT_EQ(g.ack1(1), kSpi);
  g.gicd_write(gicd::CLRSPI_NSR, kSpi);
  EXPECT_FALSE(g.is_pending(kSpi));
  EXPECT_TRUE(g.is_active(kSpi));
  g.eoi1(1, kSpi);
  EXPECT_FALSE(g.irq(1));
}

TEST_F(Level, SetspiOnAnEdgeSpiIsOnePendingEdge) {
  // GICD_SETSPI_NSR on an edge-triggered SPI adds the pending state; activation removes it.
  g.set_edge(kSpi, true);
  g.gicd_write(gicd::SETSPI_NSR, kSpi);
  g.gicd_write(gicd::SETSPI_NSR, kSpi);
  EXPECT_TRUE(g.is_pending(kSpi));
  handle_and_complete();
  EXPECT_FALSE(g.is_pending(kSpi));
  EXPECT_FALSE(g.irq(1));
}

TEST_F(Level, ClrspiRemovesThePendingStateOfAnEdgeSpi) {
  // GICD_CLRSPI_NSR changes a pending SPI to inactive and an active and pending one to active,
  // edge-triggered or not; GICD_SETSPI_NSR's edge case names CLRSPI as a way the pending state
  // ends.
  g.set_edge(kSpi, true);
  g.gicd_write(gicd::SETSPI_NSR, kSpi);
  EXPECT_TRUE(g.irq(1));
  g.gicd_write(gicd::CLRSPI_NSR, kSpi);
  EXPECT_FALSE(g.is_pending(kSpi));
  EXPECT_FALSE(g.irq(1));
  EXPECT_EQ(g.ack1(1), kSpurious);

  g.gicd_write(gicd::SETSPI_NSR, kSpi);
  EXPECT_EQ(g.ack1(1), kSpi);
  g.gicd_write(gicd::SETSPI_NSR, kSpi);  // active and pending
  EXPECT_TRUE(g.is_pending(kSpi));
  g.gicd_write(gicd::CLRSPI_NSR, kSpi);
  EXPECT_FALSE(g.is_pending(kSpi));
  EXPECT_TRUE(g.is_active(kSpi));
  g.eoi1(1, kSpi);
  EXPECT_FALSE(g.irq(1));
  EXPECT_EQ(g.ack1(1), kSpurious);
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST_F(Level, IcpendrDoesNotDeassertASetspiAssertion) {
  // GICD_SETSPI_NSR, level-sensitive case: the SPI remains pending until GICD_CLRSPI_NSR
  // de-asserts it. It is the message form of an asserted input, which ICPENDR does not clear
  // (IcpendrDoesNotClearPendingWhileTheLineIsHigh).
  g.gicd_write(gicd::SETSPI_NSR, kSpi);
  g.clear_pending(kSpi);
  EXPECT_TRUE(g.is_pending(kSpi));
  EXPECT_TRUE(g.irq(1));
  handle_and_complete();
  EXPECT_TRUE(g.irq(1));  // still asserted after the deactivation
  g.gicd_write(gicd::CLRSPI_NSR, kSpi);
  EXPECT_FALSE(g.is_pending(kSpi));
  EXPECT_FALSE(g.irq(1));
}

TEST_F(Level, SetspiOnAPendingLevelSpiIsStillAnAssertion) {
  // vgic's reading of "no effect if the SPI is already pending" for a level SPI
  // (docs/spec-deviations.md row 23): the assertion is recorded, so the SPI stays pending after
  // the ISPENDR latch is consumed, until the device's CLRSPI.
  g.set_pending(kSpi);
  g.gicd_write(gicd::SETSPI_NSR, kSpi);
  handle_and_complete();
  EXPECT_TRUE(g.is_pending(kSpi));
  g.gicd_write(gicd::CLRSPI_NSR, kSpi);
  EXPECT_FALSE(g.is_pending(kSpi));
  EXPECT_FALSE(g.irq(1));
}
