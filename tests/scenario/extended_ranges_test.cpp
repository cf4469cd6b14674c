// GICv3.1 extended INTID ranges (IHI0069 2.2; the GICD_*<n>E and
// GICR_*<n>E registers):
// extended SPIs 4096.. and extended PPIs 1056.., here 64 of each.
#include <gtest/gtest.h>

#include "support/guest.hpp"

using namespace test;

namespace {

constexpr uint32_t kEspi = 4100, kLastEspi = 4096 + 63;
constexpr uint32_t kEppi = 1060, kLastEppi = 1056 + 63;

class Extended : public ::testing::Test {
 protected:
  Guest g{make_config()};
  static vgic_config make_config() {
    vgic_config c = Guest::config(2);
    c.nr_espis = 64;
    c.nr_eppis = 64;
    return c;
  }
  void SetUp() override { g.bring_up_all(); }
};

}  // namespace

TEST_F(Extended, IdRegistersAdvertiseTheRanges) {
  const uint64_t typer = g.gicd_read(gicd::TYPER);
  EXPECT_EQ((typer >> 8) & 1, 1u);             // GICD_TYPER.ESPI
  EXPECT_EQ((typer >> 27) & 0x1f, 1u);         // ESPI_range: (64 / 32) - 1
  EXPECT_GE(((typer >> 19) & 0x1f) + 1, 13u);  // IDbits cover INTID 4159
  for (unsigned c = 0; c < 2; ++c)
    EXPECT_EQ((g.gicr_read(c, gicr::TYPER, 8) >> 27) & 0x1f, 2u);  // GICR_TYPER.PPInum: up to 1119
  EXPECT_EQ((g.icc_read(0, icc::CTLR) >> 19) & 1, 1u);             // ICC_CTLR_EL1.ExtRange
}

TEST_F(Extended, ExtendedSpiIsConfiguredRoutedAndAcknowledged) {
  g.setup(kEspi, true, 0x60, true, 1);
  const uint32_t word = (kEspi - 4096) / 32 * 4, bit = 1u << ((kEspi - 4096) % 32);
  EXPECT_EQ(g.gicd_read(gicd::IGROUPRE + word) & bit, bit);
  EXPECT_EQ(g.gicd_read(gicd::ISENABLERE + word) & bit, bit);
  EXPECT_EQ(g.gicd_read(gicd::IPRIORITYRE + (kEspi - 4096), 1), 0x60u);
  EXPECT_EQ((g.gicd_read(gicd::ICFGRE + (kEspi - 4096) / 16 * 4) >> (2 * ((kEspi - 4096) % 16) + 1)) & 1, 1u);
  EXPECT_EQ(g.gicd_read(gicd::IROUTERE + (kEspi - 4096) * 8, 8), g.mpidr(1));

  g.pulse(kEspi);
  EXPECT_EQ(g.gicd_read(gicd::ISPENDRE + word) & bit, bit);
  EXPECT_FALSE(g.irq(0));
  EXPECT_TRUE(g.irq(1));
  EXPECT_EQ(g.ack1(0), kSpurious);
  EXPECT_EQ(g.ack1(1), kEspi);
  EXPECT_EQ(g.gicd_read(gicd::ISPENDRE + word) & bit, 0u);
  EXPECT_EQ(g.gicd_read(gicd::ISACTIVERE + word) & bit, bit);
  g.eoi1(1, kEspi);
  EXPECT_EQ(g.gicd_read(gicd::ISACTIVERE + word) & bit, 0u);
  EXPECT_FALSE(g.irq(1));
}

TEST_F(Extended, ExtendedSpiPendingAndActiveViaRegisters) {
  g.setup(kLastEspi, true, 0x80, false, 0);
  g.set_pending(kLastEspi);  // GICD_ISPENDR<n>E
  EXPECT_TRUE(g.is_pending(kLastEspi));
  EXPECT_TRUE(g.irq(0));
  g.clear_pending(kLastEspi);  // GICD_ICPENDR<n>E
  EXPECT_FALSE(g.irq(0));
  g.gicd_write(gicd::ISACTIVERE + 4, 1u << 31);
  EXPECT_TRUE(g.is_active(kLastEspi));
  g.set_pending(kLastEspi);
  EXPECT_FALSE(g.irq(0));     // active: not forwarded
  g.clear_active(kLastEspi);  // GICD_ICACTIVER<n>E
  EXPECT_FALSE(g.is_active(kLastEspi));
  EXPECT_EQ(g.ack1(0), kLastEspi);
  g.eoi1(0, kLastEspi);
  EXPECT_FALSE(g.is_active(kLastEspi));
  EXPECT_FALSE(g.irq(0));
}

TEST_F(Extended, ExtendedSpiCompetesByPriorityWithOrdinarySpis) {
  g.setup(40, true, 0x80, true);
  g.setup(kEspi, true, 0x40, true);
  g.pulse(40);
  g.pulse(kEspi);
  EXPECT_EQ(g.ack1(0), kEspi);
  g.eoi1(0, kEspi);
  EXPECT_EQ(g.ack1(0), 40u);
  g.eoi1(0, 40);
}

TEST_F(Extended, UnimplementedExtendedSpisAreRazWi) {
  // 64 extended SPIs: GICD_IGROUPR<2>E (INTIDs 4160..4191) has no implemented bits.
  g.gicd_write(gicd::IGROUPRE + 8, 0xffffffff);
  EXPECT_EQ(g.gicd_read(gicd::IGROUPRE + 8), 0u);
  g.gicd_write(gicd::IGROUPRE + 4, 0xffffffff);
  EXPECT_EQ(g.gicd_read(gicd::IGROUPRE + 4), 0xffffffffu);
  EXPECT_EQ(vgic_set_irq_level(g.gic(), 0, kLastEspi + 1, 1), VGIC_EINVAL);
}

TEST_F(Extended, ExtendedPpiIsPerCpu) {
  for (unsigned c = 0; c < 2; ++c) g.setup(kEppi, true, 0x80, false, c);
  // GICR_IGROUPR<1>E / GICR_ISENABLER<1>E hold INTIDs 1056..1087.
  const uint32_t bit = 1u << (kEppi - 1056);
  EXPECT_EQ(g.gicr_read(1, gicr::IGROUPR0 + 4) & bit, bit);
  EXPECT_EQ(g.gicr_read(1, gicr::ISENABLER0 + 4) & bit, bit);
  EXPECT_EQ(g.gicr_read(1, gicr::IPRIORITYR + 32 + (kEppi - 1056), 1), 0x80u);

  g.line(kEppi, true, 1);
  EXPECT_FALSE(g.irq(0));
  EXPECT_TRUE(g.irq(1));
  EXPECT_EQ(g.gicr_read(1, gicr::ISPENDR0 + 4) & bit, bit);
  EXPECT_EQ(g.gicr_read(0, gicr::ISPENDR0 + 4) & bit, 0u);
  EXPECT_EQ(g.ack1(0), kSpurious);
  EXPECT_EQ(g.ack1(1), kEppi);
  EXPECT_EQ(g.gicr_read(1, gicr::ISACTIVER0 + 4) & bit, bit);
  g.line(kEppi, false, 1);
  g.eoi1(1, kEppi);
  EXPECT_EQ(g.gicr_read(1, gicr::ISACTIVER0 + 4) & bit, 0u);
  EXPECT_FALSE(g.irq(1));
}

TEST_F(Extended, LastExtendedPpiIsEdgeCapable) {
  g.setup(kLastEppi, true, 0x80, true, 0);
  // GICR_ICFGR<n>E: ICFGR<3>E (at ICFGR0 + 8 + 3 * 4) holds INTIDs 1104..1119.
  EXPECT_EQ((g.gicr_read(0, gicr::ICFGR0 + 8 + 3 * 4) >> (2 * ((kLastEppi - 1056) % 16) + 1)) & 1, 1u);
  g.pulse(kLastEppi);
  EXPECT_TRUE(g.is_pending(kLastEppi));
  EXPECT_EQ(g.ack1(0), kLastEppi);
  g.eoi1(0, kLastEppi);
  EXPECT_FALSE(g.irq(0));
  EXPECT_EQ(vgic_set_irq_level(g.gic(), 0, kLastEppi + 1, 1), VGIC_EINVAL);
}
