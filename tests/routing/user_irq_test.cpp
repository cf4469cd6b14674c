// Device output levels (seed 002, KVM_CAP_ARM_USER_IRQ): changing the map while a device's output
// is high. The per-exit behaviour of level and edge devices is in irqfd_test.cpp (DeviceIrqLevel).
#include <gtest/gtest.h>

#include "support/guest.hpp"

using namespace test;

TEST(DeviceIrqMap, RemappingAHighLevelDeviceMovesItsLevel) {
  Guest g(Guest::config(2));
  g.bring_up_all();
  for (uint32_t ppi : {26u, 27u}) g.setup(ppi, true, 0x80, false, 0);
  ASSERT_EQ(vgic_sync_device_irq_level(g.gic(), 0, 1), 0);  // bit 0 -> PPI 27 (default), high
  ASSERT_TRUE(g.is_pending(27, 0));
  ASSERT_EQ(vgic_set_device_irq_map(g.gic(), 0, 26, 0), 0);
  EXPECT_FALSE(g.is_pending(27, 0)) << "the old PPI is no longer driven by the device";
  EXPECT_TRUE(g.is_pending(26, 0)) << "the device's output is still high";
  ASSERT_EQ(vgic_sync_device_irq_level(g.gic(), 0, 0), 0);
  EXPECT_FALSE(g.is_pending(26, 0));
  EXPECT_FALSE(g.is_pending(27, 0));
}

TEST(DeviceIrqMap, RemappingAHighLevelDeviceAsEdgeReleasesTheLine) {
  Guest g(Guest::config(1));
  g.bring_up_all();
  g.setup(27, true, 0x80, false, 0);
  ASSERT_EQ(vgic_sync_device_irq_level(g.gic(), 0, 1), 0);
  ASSERT_TRUE(g.is_pending(27, 0));
  ASSERT_EQ(vgic_set_device_irq_map(g.gic(), 0, 27, 1), 0);  // the same PPI, now an edge device
  EXPECT_FALSE(g.is_pending(27, 0));
  EXPECT_EQ(g.lines(0), 0);
}

TEST(DeviceIrqMap, OtherCpusAndBitsAreUntouched) {
  Guest g(Guest::config(2));
  g.bring_up_all();
  for (unsigned cpu = 0; cpu < 2; ++cpu)
    for (uint32_t ppi : {26u, 27u, 30u}) g.setup(ppi, true, 0x80, false, cpu);
  ASSERT_EQ(vgic_sync_device_irq_level(g.gic(), 0, 0b10), 0);  // CPU 0: bit 1 (PPI 30) high
  ASSERT_EQ(vgic_sync_device_irq_level(g.gic(), 1, 0b01), 0);  // CPU 1: bit 0 (PPI 27) high
  ASSERT_EQ(vgic_set_device_irq_map(g.gic(), 0, 26, 0), 0);
  EXPECT_FALSE(g.is_pending(26, 0));
  EXPECT_TRUE(g.is_pending(30, 0));
  EXPECT_TRUE(g.is_pending(26, 1));
  EXPECT_FALSE(g.is_pending(27, 1));
}
