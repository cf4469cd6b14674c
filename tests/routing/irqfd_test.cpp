// GSI routing, irqfd with resample, ack notifiers and device IRQ levels (seeds 001 and 002),
// with real eventfds and threads.
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/eventfd.hpp"
#include "support/its_driver.hpp"

using namespace test;

namespace {

constexpr uint32_t kSpi = 40;  // GSI 8 -> pin 8 -> INTID 40

using Fd = EventFd;

struct RoutedGuest {
  Guest g{Guest::config(2)};
  RoutedGuest() {
    g.bring_up_all();
    g.setup(kSpi, true, 0x80, false, 0);
    g.route_to_cpu(kSpi, 1);
  }
  void route_irqchip(uint32_t gsi, uint32_t intid) {
    vgic_gsi_route r{gsi, VGIC_ROUTE_IRQCHIP, 0, intid - 32, 0, 0, 0};
    ASSERT_EQ(vgic_set_gsi_routing(g.gic(), &r, 1), 0) << vgic_last_error();
  }
};

// A 1-CPU guest whose ITS maps (dev, event) to an enabled LPI on CPU 0, as a Linux driver would.
struct ItsVectorGuest {
  ItsVectorGuest(uint32_t dev, unsigned event_bits, uint32_t event, uint32_t lpi) {
    g.bring_up_all();
    its.init();
    its.enable_lpis_all();
    its.mapc(0, 0);
    its.mapd(dev, event_bits);
    its.mapti(dev, event, lpi, 0);
    its.lpi_config(lpi, 0x80, true);
    its.inv(dev, event);
  }
  Guest g{Guest::config(1)};
  GuestRam ram{g.gic(), 0x40000000, 16 << 20};
  ItsDriver its{g, ram};
};

// Waits (bounded) until pred() holds; returns whether it did.
template <class P>
bool eventually(P pred) {
  for (int i = 0; i < 20000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return pred();
}

}  // namespace

TEST(GsiRouting, IrqchipRouteFollowsTheLevel) {
  RoutedGuest t;
  t.route_irqchip(8, kSpi);
  EXPECT_EQ(vgic_set_gsi_level(t.g.gic(), 8, 1), 1);
  EXPECT_TRUE(t.g.is_pending(kSpi));
  EXPECT_EQ(vgic_set_gsi_level(t.g.gic(), 8, 0), 1);
  EXPECT_FALSE(t.g.is_pending(kSpi));
  EXPECT_EQ(vgic_set_gsi_level(t.g.gic(), 9, 1), VGIC_ENOENT);
}

TEST(GsiRouting, MsiRouteFiresOnLevelOne) {
  ItsVectorGuest t(0x10, 2, 3, 8300);
  Guest& g = t.g;
  ItsDriver& its = t.its;
  vgic_gsi_route r{5, VGIC_ROUTE_MSI, VGIC_MSI_VALID_DEVID, 0, its.its_base() + 0x10040, 3, 0x10};
  ASSERT_EQ(vgic_set_gsi_routing(g.gic(), &r, 1), 0) << vgic_last_error();
  EXPECT_EQ(vgic_set_gsi_level(g.gic(), 5, 0), 0);
  EXPECT_EQ(g.ack1(0), kSpurious);
  EXPECT_EQ(vgic_set_gsi_level(g.gic(), 5, 1), 1);
  EXPECT_EQ(g.ack1(0), 8300u);
}

TEST(GsiRouting, RejectsBadRoutes) {
  RoutedGuest t;
  vgic_gsi_route bad_pin{1, VGIC_ROUTE_IRQCHIP, 0, 5000, 0, 0, 0};
  EXPECT_EQ(vgic_set_gsi_routing(t.g.gic(), &bad_pin, 1), VGIC_EINVAL);
  vgic_gsi_route bad_msi{1, VGIC_ROUTE_MSI, VGIC_MSI_VALID_DEVID, 0, 0x1234, 0, 0};
  EXPECT_EQ(vgic_set_gsi_routing(t.g.gic(), &bad_msi, 1), VGIC_EINVAL);
  vgic_gsi_route no_devid{1, VGIC_ROUTE_MSI, 0, 0, t.g.cfg().its[0].base + 0x10040, 0, 0};
  EXPECT_EQ(vgic_set_gsi_routing(t.g.gic(), &no_devid, 1), VGIC_EINVAL) << "an ITS needs a DeviceID";
  vgic_gsi_route bad_type{1, 7, 0, 8, 0, 0, 0};
  EXPECT_EQ(vgic_set_gsi_routing(t.g.gic(), &bad_type, 1), VGIC_EINVAL);
  EXPECT_NE(std::string(vgic_last_error()), "");
}

TEST(Irqfd, EdgeSignalMakesTheSpiPendingOnce) {
  RoutedGuest t;
  t.g.set_edge(kSpi, true);
  t.route_irqchip(8, kSpi);
  Fd efd;
  ASSERT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, 8, -1), 0) << vgic_last_error();
  EXPECT_EQ(vgic_irqfd_dispatch(t.g.gic()), 0);
  efd.signal(3);  // coalesced into one edge, as with KVM
  EXPECT_EQ(vgic_irqfd_dispatch(t.g.gic()), 1);
  EXPECT_EQ(t.g.ack1(1), kSpi);
  t.g.eoi1(1, kSpi);
  EXPECT_EQ(t.g.ack1(1), kSpurious);
  EXPECT_EQ(vgic_irqfd_deassign(t.g.gic(), efd.fd, 8), 0);
  EXPECT_EQ(vgic_irqfd_deassign(t.g.gic(), efd.fd, 8), VGIC_ENOENT);
}

TEST(Irqfd, VgicThreadDeliversAnMsiRoute) {
  ItsVectorGuest t(1, 1, 0, 8200);
  Guest& g = t.g;
  ItsDriver& its = t.its;
  vgic_gsi_route r{3, VGIC_ROUTE_MSI, VGIC_MSI_VALID_DEVID, 0, its.its_base() + 0x10040, 0, 1};
  ASSERT_EQ(vgic_set_gsi_routing(g.gic(), &r, 1), 0);
  Fd efd;
  ASSERT_EQ(vgic_irqfd_assign(g.gic(), efd.fd, 3, -1), 0);
  ASSERT_EQ(vgic_irqfd_start_thread(g.gic()), 0);
  EXPECT_EQ(vgic_irqfd_start_thread(g.gic()), VGIC_EBUSY);
  efd.signal();
  EXPECT_TRUE(eventually([&] { return g.irq(0); }));
  EXPECT_EQ(g.ack1(0), 8200u);
}

TEST(Irqfd, ResampleFiresOnEoiNotBefore) {
  RoutedGuest t;  // kSpi is level-sensitive
  t.route_irqchip(8, kSpi);
  Fd efd, rfd;
  ASSERT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, 8, rfd.fd), 0) << vgic_last_error();
  efd.signal();
  EXPECT_EQ(vgic_irqfd_dispatch(t.g.gic()), 1);
  EXPECT_TRUE(t.g.irq(1));
  EXPECT_EQ(t.g.ack1(1), kSpi);
  EXPECT_EQ(rfd.take(), 0u) << "acknowledging is not deactivating";
  t.g.eoi1(1, kSpi);
  EXPECT_EQ(rfd.take(), 1u) << "EOI with EOImode 0 deactivates: resample";
  EXPECT_FALSE(t.g.is_pending(kSpi)) << "the line was lowered";
  EXPECT_FALSE(t.g.irq(1));
}

TEST(Irqfd, ResampleFiresOnDirWithEoiMode1) {
  RoutedGuest t;
  t.route_irqchip(8, kSpi);
  t.g.set_eoimode(1, true);
  Fd efd, rfd;
  ASSERT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, 8, rfd.fd), 0);
  efd.signal();
  vgic_irqfd_dispatch(t.g.gic());
  EXPECT_EQ(t.g.ack1(1), kSpi);
  t.g.eoi1(1, kSpi);
  EXPECT_EQ(rfd.take(), 0u) << "priority drop only";
  t.g.dir(1, kSpi);
  EXPECT_EQ(rfd.take(), 1u);
}

TEST(Irqfd, IcpendrIsNotADeactivationAndDoesNotResample) {
  RoutedGuest t;
  t.route_irqchip(8, kSpi);
  Fd efd, rfd;
  ASSERT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, 8, rfd.fd), 0);
  efd.signal();
  vgic_irqfd_dispatch(t.g.gic());
  t.g.clear_pending(kSpi);  // what save/restore code does
  t.g.set_pending(kSpi);
  EXPECT_EQ(rfd.take(), 0u);
  EXPECT_TRUE(t.g.is_pending(kSpi)) << "the line is still high";
}

TEST(Irqfd, ResampleNeedsAnIrqchipRoute) {
  Guest g(Guest::config(1));
  vgic_gsi_route r{2, VGIC_ROUTE_MSI, 0, 0, g.cfg().gicd_base + 0x40, 40, 0};
  ASSERT_EQ(vgic_set_gsi_routing(g.gic(), &r, 1), 0) << vgic_last_error();
  Fd efd, rfd;
  EXPECT_EQ(vgic_irqfd_assign(g.gic(), efd.fd, 2, rfd.fd), VGIC_EINVAL);
  EXPECT_EQ(vgic_irqfd_assign(g.gic(), efd.fd, 2, -1), 0);
  EXPECT_EQ(vgic_irqfd_assign(g.gic(), efd.fd, 2, -1), VGIC_EBUSY) << "same eventfd twice";
}

TEST(Irqfd, DeassignDeliversWhatArrivedBeforeAndNothingAfter) {
  RoutedGuest t;
  t.g.set_edge(kSpi, true);
  t.route_irqchip(8, kSpi);
  Fd efd;
  ASSERT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, 8, -1), 0);
  efd.signal();  // never dispatched
  ASSERT_EQ(vgic_irqfd_deassign(t.g.gic(), efd.fd, 8), 0);
  EXPECT_TRUE(t.g.is_pending(kSpi)) << "the signal before deassign is not lost";
  EXPECT_EQ(t.g.ack1(1), kSpi);
  t.g.eoi1(1, kSpi);
  efd.signal();
  EXPECT_EQ(vgic_irqfd_dispatch(t.g.gic()), 0);
  EXPECT_FALSE(t.g.is_pending(kSpi)) << "nothing after deassign";
}

TEST(Irqfd, DeassignDuringASignalStorm) {
  RoutedGuest t;
  t.g.set_edge(kSpi, true);
  t.route_irqchip(8, kSpi);
  Fd efd;
  ASSERT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, 8, -1), 0);
  ASSERT_EQ(vgic_irqfd_start_thread(t.g.gic()), 0);
  std::atomic<bool> stop{false};
  std::thread storm([&] {
    while (!stop.load()) efd.signal();
  });
  std::thread acker([&] {
    for (int i = 0; i < 2000 && !stop.load(); ++i) {
      const uint32_t id = t.g.ack1(1);
      if (id != kSpurious) t.g.eoi1(1, id);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(vgic_irqfd_deassign(t.g.gic(), efd.fd, 8), 0);
  // After deassign returned: drain what is pending, then no new injection may appear.
  stop = true;
  storm.join();
  acker.join();
  while (t.g.ack1(1) == kSpi) t.g.eoi1(1, kSpi);
  for (int i = 0; i < 100; ++i) efd.signal();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(t.g.is_pending(kSpi));
}

TEST(AckNotifier, CalledOnDeactivationOnly) {
  RoutedGuest t;
  struct Seen {
    std::atomic<int> n{0};
    unsigned cpu = 99;
    uint32_t intid = 0;
  } seen;
  const int id = vgic_register_ack_notifier(
      t.g.gic(), 0, kSpi,
      [](void* o, unsigned cpu, uint32_t intid) {
        auto* s = static_cast<Seen*>(o);
        s->cpu = cpu;
        s->intid = intid;
        s->n++;
      },
      &seen);
  ASSERT_GT(id, 0);
  t.g.set_pending(kSpi);
  t.g.clear_pending(kSpi);
  EXPECT_EQ(seen.n.load(), 0);
  t.g.set_pending(kSpi);
  EXPECT_EQ(t.g.ack1(1), kSpi);
  EXPECT_EQ(seen.n.load(), 0);
  t.g.eoi1(1, kSpi);
  EXPECT_EQ(seen.n.load(), 1);
  EXPECT_EQ(seen.cpu, 1u);
  EXPECT_EQ(seen.intid, kSpi);
  EXPECT_EQ(vgic_unregister_ack_notifier(t.g.gic(), id), 0);
  EXPECT_EQ(vgic_unregister_ack_notifier(t.g.gic(), id), VGIC_ENOENT);
  EXPECT_EQ(vgic_register_ack_notifier(t.g.gic(), 0, 8192, [](void*, unsigned, uint32_t) {}, nullptr), VGIC_EINVAL);
}

TEST(DeviceIrqLevel, LevelDevicesFollowTheBitPerCpu) {
  Guest g(Guest::config(2));
  g.bring_up_all();
  for (unsigned c = 0; c < 2; ++c) g.setup(27, true, 0x80, false, c);
  EXPECT_EQ(vgic_sync_device_irq_level(g.gic(), 1, 1), 0);  // bit 0: EL1 virtual timer -> PPI 27
  EXPECT_TRUE(g.is_pending(27, 1));
  EXPECT_FALSE(g.is_pending(27, 0));
  EXPECT_EQ(vgic_sync_device_irq_level(g.gic(), 1, 1), 0);  // re-synced: still just a level
  EXPECT_EQ(g.ack1(1), 27u);
  EXPECT_EQ(vgic_sync_device_irq_level(g.gic(), 1, 0), 0);
  g.eoi1(1, 27);
  EXPECT_FALSE(g.is_pending(27, 1)) << "timer output low: no re-assertion";
  EXPECT_EQ(vgic_sync_device_irq_level(g.gic(), 2, 1), VGIC_EINVAL);
}

TEST(DeviceIrqLevel, EdgeDeviceGivesOneInterruptPerExitThatReportsAnEdge) {
  // Seed 002: an edge device's bit is "set exactly once per edge signal", i.e. on one exit per
  // edge; two edges on consecutive exits are the bit set on both.
  Guest g(Guest::config(1));
  g.bring_up_all();
  g.setup(20, true, 0x80, true, 0);  // PPI 20, edge-triggered
  ASSERT_EQ(vgic_set_device_irq_map(g.gic(), 5, 20, 1), 0);
  vgic_sync_device_irq_level(g.gic(), 0, 1u << 5);
  EXPECT_EQ(g.ack1(0), 20u);
  g.eoi1(0, 20);
  vgic_sync_device_irq_level(g.gic(), 0, 1u << 5);  // the next exit: a second edge
  EXPECT_EQ(g.ack1(0), 20u);
  g.eoi1(0, 20);
  vgic_sync_device_irq_level(g.gic(), 0, 0);
  EXPECT_EQ(g.ack1(0), kSpurious);
  vgic_sync_device_irq_level(g.gic(), 0, 1u << 5);
  EXPECT_EQ(g.ack1(0), 20u);
  g.eoi1(0, 20);
  EXPECT_EQ(vgic_set_device_irq_map(g.gic(), 64, 20, 0), VGIC_EINVAL);
  EXPECT_EQ(vgic_set_device_irq_map(g.gic(), 1, 40, 0), VGIC_EINVAL) << "an SPI is no per-CPU device output";
}
