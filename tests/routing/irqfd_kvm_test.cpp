// irqfd, GSI routing and ack notifiers as a VMM ported from KVM uses them (seed 001): blocking
// eventfds (kvmtool), the default GSI table of KVM/arm64, resampling as KVM's resampler ack notifier
// (registered at assign, acting on every deactivation), and unregistering a notifier in flight.
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "support/eventfd.hpp"
#include "support/kvm_attr.hpp"

using namespace test;
using namespace test::kvm_attr;

namespace {

constexpr uint32_t kGsi = 8;
constexpr uint32_t kSpi = 40;  // KVM's default table: GSI 8 -> pin 8 -> INTID 40

using Fd = EventFd;

// Two CPUs; kSpi a level-sensitive Group 1 SPI routed to CPU 1. No vgic_set_gsi_routing call.
struct LevelGuest {
  Guest g{Guest::config(2)};
  LevelGuest() {
    g.bring_up_all();
    g.setup(kSpi, true, 0x80, false, 0);
    g.route_to_cpu(kSpi, 1);
  }
  // The device signals; the guest takes the interrupt on CPU 1 and completes it.
  void signal_and_complete(const Fd& efd, uint32_t spi) {
    efd.signal();
    EXPECT_EQ(vgic_irqfd_dispatch(g.gic()), 1);
    EXPECT_EQ(g.ack1(1), spi);
    g.eoi1(1, spi);
  }
};

}  // namespace

TEST(IrqfdKvm, DeassignOfABlockingEventfdReturns) {
  LevelGuest t;
  Fd efd(EFD_CLOEXEC);  // blocking, as kvmtool creates them
  ASSERT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, kGsi, -1), 0) << vgic_last_error();
  auto done = std::async(std::launch::async, [&] { return vgic_irqfd_deassign(t.g.gic(), efd.fd, kGsi); });
  const bool returned = done.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  if (!returned) efd.signal();  // unblock the read so that the test ends
  EXPECT_TRUE(returned) << "deassign blocked in read() on an unsignalled blocking eventfd";
  EXPECT_EQ(done.get(), 0);
}

TEST(IrqfdKvm, ConcurrentDispatchersWithABlockingEventfdNeverBlock) {
  // Two event loops (the VMM's threads) both see the eventfd readable; only one finds a count to
  // read. The other must not block in read() (holding the irqfd lock) until the next signal.
  LevelGuest t;
  t.g.set_edge(kSpi, true);
  Fd efd(EFD_CLOEXEC);
  ASSERT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, kGsi, -1), 0);
  std::atomic<bool> stop{false};
  auto loop = [&] {
    while (!stop.load()) vgic_irqfd_dispatch(t.g.gic());
  };
  auto a = std::async(std::launch::async, loop), b = std::async(std::launch::async, loop);
  for (int i = 0; i < 20000; ++i) efd.signal();
  stop = true;
  bool returned = true;
  for (auto* f : {&a, &b}) {
    const bool ok = f->wait_for(std::chrono::seconds(5)) == std::future_status::ready;
    if (!ok) efd.signal();  // release a blocked read so that the test ends
    returned &= ok;
  }
  a.get();
  b.get();
  EXPECT_TRUE(returned) << "a dispatch blocked in read() after another one had drained the eventfd";
}

TEST(IrqfdKvm, DefaultTableRoutesEveryGsiToItsSpi) {
  LevelGuest t;
  const unsigned nr_spis = t.g.cfg().nr_spis;
  EXPECT_EQ(vgic_set_gsi_level(t.g.gic(), kGsi, 1), 1) << "GSI 8 -> SPI 40 with no table set";
  EXPECT_TRUE(t.g.is_pending(kSpi));
  EXPECT_EQ(vgic_set_gsi_level(t.g.gic(), kGsi, 0), 1);
  EXPECT_FALSE(t.g.is_pending(kSpi));
  t.g.setup(32 + nr_spis - 1, true, 0x80, false, 0);
  EXPECT_EQ(vgic_set_gsi_level(t.g.gic(), nr_spis - 1, 1), 1) << "the last SPI";
  EXPECT_TRUE(t.g.is_pending(32 + nr_spis - 1));
  EXPECT_EQ(vgic_set_gsi_level(t.g.gic(), nr_spis, 1), VGIC_ENOENT) << "beyond the SPIs: no default route";
  // kvmtool's use: an irqfd with a resamplefd on a GSI it never routed.
  Fd efd, rfd;
  EXPECT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, kGsi, rfd.fd), 0) << vgic_last_error();
  efd.signal();
  EXPECT_EQ(vgic_irqfd_dispatch(t.g.gic()), 1);
  EXPECT_EQ(t.g.ack1(1), kSpi);
  t.g.eoi1(1, kSpi);
  EXPECT_EQ(rfd.take(), 1u);
  // A table of the VMM replaces the default one as a whole.
  vgic_gsi_route r{100, VGIC_ROUTE_IRQCHIP, 0, kSpi - 32, 0, 0, 0};
  ASSERT_EQ(vgic_set_gsi_routing(t.g.gic(), &r, 1), 0);
  EXPECT_EQ(vgic_set_gsi_level(t.g.gic(), kGsi, 1), VGIC_ENOENT);
  EXPECT_EQ(vgic_set_gsi_level(t.g.gic(), 100, 1), 1);
}

// nr_spis 992 implements INTIDs 32..1019 (1020..1023 are special): the default table has those
// 988 GSIs. (A table naming 1020 would be refused, and with it the whole default table.)
TEST(IrqfdKvm, DefaultTableOfTheLargestSpiCountStopsBeforeTheSpecialIntids) {
  vgic_config c = Guest::config(1);
  c.nr_spis = 992;
  Guest g(c);
  g.bring_up_all();
  g.setup(1019, true, 0x80, false, 0);
  EXPECT_EQ(vgic_set_gsi_level(g.gic(), 987, 1), 1) << vgic_last_error();
  EXPECT_TRUE(g.is_pending(1019));
  EXPECT_EQ(vgic_set_gsi_level(g.gic(), 0, 1), 1) << "GSI 0 -> SPI 32";
  EXPECT_EQ(vgic_set_gsi_level(g.gic(), 988, 1), VGIC_ENOENT);
}

TEST(IrqfdKvm, ResampleLowersALineTheIrqfdDidNotRaise) {
  LevelGuest t;
  // After migration the line comes back high through LEVEL_INFO; then the VMM re-assigns its irqfd.
  ASSERT_EQ(set32(t.g, VGIC_DEV_GRP_LEVEL_INFO, level_attr(t.g, 0, 32), 1u << (kSpi - 32)), 0) << vgic_last_error();
  ASSERT_TRUE(t.g.is_pending(kSpi));
  Fd efd, rfd;
  ASSERT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, kGsi, rfd.fd), 0) << vgic_last_error();
  EXPECT_EQ(t.g.ack1(1), kSpi);
  EXPECT_EQ(rfd.take(), 0u);
  t.g.eoi1(1, kSpi);
  EXPECT_EQ(rfd.take(), 1u) << "KVM's resampler acts on every deactivation of the SPI";
  EXPECT_FALSE(t.g.is_pending(kSpi)) << "the line was lowered";
  EXPECT_EQ(t.g.ack1(1), kSpurious);
  // And it stays armed: the next assertion is resampled too.
  t.signal_and_complete(efd, kSpi);
  EXPECT_EQ(rfd.take(), 1u);
  EXPECT_FALSE(t.g.is_pending(kSpi));
}

TEST(IrqfdKvm, DeassignForgetsTheResampleMark) {
  LevelGuest t;
  Fd efd, rfd;
  ASSERT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, kGsi, rfd.fd), 0);
  efd.signal();
  EXPECT_EQ(vgic_irqfd_dispatch(t.g.gic()), 1);
  ASSERT_EQ(vgic_irqfd_deassign(t.g.gic(), efd.fd, kGsi), 0);
  EXPECT_FALSE(t.g.is_pending(kSpi)) << "deassign lowers the line the irqfd raised";
  // QEMU's VFIO fallback: the VMM now drives the line itself.
  ASSERT_EQ(vgic_set_irq_level(t.g.gic(), 0, kSpi, 1), 0);
  EXPECT_EQ(t.g.ack1(1), kSpi);
  t.g.eoi1(1, kSpi);
  EXPECT_TRUE(t.g.is_pending(kSpi)) << "the VMM's line is still high: no resample after deassign";
  EXPECT_EQ(rfd.take(), 0u);
}

TEST(IrqfdKvm, RerouteMovesTheResampleMark) {
  LevelGuest t;
  constexpr uint32_t kOther = 41;
  t.g.setup(kOther, true, 0x80, false, 0);
  t.g.route_to_cpu(kOther, 1);
  Fd efd, rfd;
  ASSERT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, kGsi, rfd.fd), 0);
  efd.signal();
  EXPECT_EQ(vgic_irqfd_dispatch(t.g.gic()), 1);
  // The VMM re-routes GSI 8 to SPI 41 while the line of SPI 40 is high, then drives SPI 40 itself.
  vgic_gsi_route r{kGsi, VGIC_ROUTE_IRQCHIP, 0, kOther - 32, 0, 0, 0};
  ASSERT_EQ(vgic_set_gsi_routing(t.g.gic(), &r, 1), 0);
  EXPECT_EQ(t.g.ack1(1), kSpi);
  t.g.eoi1(1, kSpi);
  EXPECT_TRUE(t.g.is_pending(kSpi)) << "SPI 40 is no longer the irqfd's: its line stays";
  EXPECT_EQ(rfd.take(), 0u);
  ASSERT_EQ(vgic_set_irq_level(t.g.gic(), 0, kSpi, 0), 0);
  // The new SPI is resampled.
  t.signal_and_complete(efd, kOther);
  EXPECT_EQ(rfd.take(), 1u);
  EXPECT_FALSE(t.g.is_pending(kOther));
}

TEST(IrqfdKvm, UnregisterWaitsForACallbackInFlight) {
  LevelGuest t;
  struct State {
    std::atomic<bool> started{false}, finished{false};
  } st;
  const int id = vgic_register_ack_notifier(
      t.g.gic(), 0, kSpi,
      [](void* o, unsigned, uint32_t) {
        auto* s = static_cast<State*>(o);
        s->started = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        s->finished = true;
      },
      &st);
  ASSERT_GT(id, 0);
  t.g.set_pending(kSpi);
  ASSERT_EQ(t.g.ack1(1), kSpi);
  std::thread vcpu([&] { t.g.eoi1(1, kSpi); });  // runs the callback
  while (!st.started.load()) std::this_thread::yield();
  EXPECT_EQ(vgic_unregister_ack_notifier(t.g.gic(), id), 0);
  EXPECT_TRUE(st.finished.load()) << "unregister returned while the callback was still running";
  vcpu.join();
}

TEST(IrqfdKvm, ACallbackMayUnregisterItself) {
  LevelGuest t;
  struct State {
    vgic* g;
    int id = 0;
    int rc = 1;
    int calls = 0;
  } st{t.g.gic()};
  st.id = vgic_register_ack_notifier(
      t.g.gic(), 0, kSpi,
      [](void* o, unsigned, uint32_t) {
        auto* s = static_cast<State*>(o);
        s->calls++;
        s->rc = vgic_unregister_ack_notifier(s->g, s->id);  // must not wait for itself
      },
      &st);
  ASSERT_GT(st.id, 0);
  for (int i = 0; i < 2; ++i) {
    t.g.set_pending(kSpi);
    ASSERT_EQ(t.g.ack1(1), kSpi);
    t.g.eoi1(1, kSpi);
  }
  EXPECT_EQ(st.rc, 0);
  EXPECT_EQ(st.calls, 1);
}

TEST(IrqfdKvm, RoutingRejectsWhatKvmSetGsiRoutingRejects) {
  LevelGuest t;
  vgic_gsi_route last{4095, VGIC_ROUTE_IRQCHIP, 0, kSpi - 32, 0, 0, 0};
  EXPECT_EQ(vgic_set_gsi_routing(t.g.gic(), &last, 1), 0) << vgic_last_error();
  vgic_gsi_route big{4096, VGIC_ROUTE_IRQCHIP, 0, kSpi - 32, 0, 0, 0};
  EXPECT_EQ(vgic_set_gsi_routing(t.g.gic(), &big, 1), VGIC_EINVAL) << "GSI >= KVM_MAX_IRQ_ROUTES";
  vgic_gsi_route chip_flags{1, VGIC_ROUTE_IRQCHIP, VGIC_MSI_VALID_DEVID, kSpi - 32, 0, 0, 0};
  EXPECT_EQ(vgic_set_gsi_routing(t.g.gic(), &chip_flags, 1), VGIC_EINVAL) << "an irqchip route takes no flag";
  vgic_gsi_route msi_flags{2, VGIC_ROUTE_MSI, VGIC_MSI_VALID_DEVID | 2, 0, t.g.cfg().its[0].base + 0x10040, 0, 1};
  EXPECT_EQ(vgic_set_gsi_routing(t.g.gic(), &msi_flags, 1), VGIC_EINVAL) << "unknown MSI flag";
  std::vector<vgic_gsi_route> many(4097, last);
  for (uint32_t i = 0; i < many.size(); ++i) many[i].gsi = i % 4096;
  EXPECT_EQ(vgic_set_gsi_routing(t.g.gic(), many.data(), unsigned(many.size())), VGIC_EINVAL) << "more than 4096 routes";
  EXPECT_EQ(vgic_set_gsi_level(t.g.gic(), 4095, 1), 1) << "a refused table leaves the previous one";
}

TEST(IrqfdKvm, AssignRefusesAResamplefdThatIsNotOpen) {
  LevelGuest t;
  Fd efd;
  int closed = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(closed, 0);
  close(closed);
  EXPECT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, kGsi, closed), VGIC_EINVAL);
  EXPECT_NE(std::string(vgic_last_error()).find("resamplefd"), std::string::npos);
  EXPECT_EQ(vgic_irqfd_assign(t.g.gic(), efd.fd, kGsi, -1), 0) << "nothing was assigned by the refused call";
}
