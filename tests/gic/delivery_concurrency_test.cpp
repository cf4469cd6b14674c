// The delivery protocol between MSI injectors and a vCPU thread (docs/architecture.md, "Threading
// and locking"): a vCPU thread that sleeps until the line notifier reports its IRQ line, as a VMM's
// does, must be woken for every LPI that becomes pending, whether the injector updated the CPU
// itself (line low) or only posted the LPI on the dirty stack (line already up, GicCore::post_lpi).
// A dropped wake-up leaves the vCPU asleep with an LPI pending: the test then fails on its
// deadline. Nothing here asserts on timing.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "support/its_driver.hpp"

using namespace test;

namespace {

constexpr uint32_t kDev = 1, kEvents = 32, kLpi = 8192;

// What a VMM keeps for one vCPU: the last line level the notifier reported, under a leaf mutex that
// the vCPU thread never holds while it calls vgic (vgic.h, the notifier's rules).
struct LineWaiter {
  std::mutex m;
  std::condition_variable cv;
  bool irq = false;
  static void notify(void* self, unsigned cpu, int lines) {
    auto* w = static_cast<LineWaiter*>(self);
    if (cpu != 0) return;
    {
      std::lock_guard l(w->m);
      w->irq = lines & VGIC_LINE_IRQ;
    }
    w->cv.notify_one();
  }
  // Sleeps until the IRQ line is reported up or stop is set; false on the deadline.
  bool wait_irq(const std::atomic<bool>& stop, std::chrono::seconds deadline) {
    std::unique_lock l(m);
    return cv.wait_for(l, deadline, [&] { return irq || stop.load(); });
  }
};

void setup(ItsHarness& h, uint8_t priority) {
  h.its.mapc(0, 0);
  h.its.mapd(kDev, 5);
  for (uint32_t e = 0; e < kEvents; ++e) {
    h.its.mapti(kDev, e, kLpi + e, 0);
    h.its.lpi_config(kLpi + e, priority, true);
  }
  h.its.invall(0);
}

}  // namespace

TEST(CpuDeliveryConcurrency, SleepingVcpuIsWokenForEveryNewlyPendingLpi) {
  ItsHarness h(Guest::config(1));
  setup(h, 0xa0);
  vgic* const g = h.g.gic();
  LineWaiter w;
  vgic_set_line_notifier(g, &LineWaiter::notify, &w);

  // Each event carries one token: an injector sends the event's MSI only after the previous one
  // was acknowledged, so every MSI makes its LPI newly pending (no coalescing) and the count of
  // acknowledges must end equal to the count of MSIs. Two injectors split the events; while the
  // vCPU drains, other events arrive with its line up (the lock-free post), and when it has
  // drained everything they arrive with the line down (the updating kick).
  constexpr unsigned kInjectors = 2;
  constexpr uint64_t kPerInjector = 20000;
  std::array<std::atomic<uint64_t>, kEvents> sent{}, acked{};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lost_wakeups{0}, invented{0}, spurious_on_irq{0}, blocked{0};

  std::thread vcpu([&] {
    while (!stop.load()) {
      if (!w.wait_irq(stop, std::chrono::seconds(20))) {
        lost_wakeups.fetch_add(1);  // asleep 20 s: nobody reported the line although MSIs wait
        return;
      }
      if (stop.load()) return;
      // The line was reported up and only this thread lowers it (by acknowledging): something
      // must be deliverable now (IHI0069 4.8.6: the line follows the signalled HPPI).
      bool first = true;
      for (;;) {
        const uint32_t intid = h.g.ack1(0);
        if (intid == 1023) {
          if (first) spurious_on_irq.fetch_add(1);
          break;
        }
        first = false;
        const uint32_t e = intid - kLpi;
        if (e >= kEvents || acked[e].load() >= sent[e].load()) {
          invented.fetch_add(1);  // an acknowledge without an MSI behind it: delivered twice
        } else {
          acked[e].fetch_add(1);
        }
        h.g.eoi1(0, intid);
      }
    }
  });

  std::vector<std::thread> injectors;
  for (unsigned i = 0; i < kInjectors; ++i)
    injectors.emplace_back([&, i] {
      uint64_t n = 0;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      for (uint32_t e = i; n < kPerInjector; e = (e + kInjectors) % kEvents) {
        if (acked[e].load() != sent[e].load()) {
          // Give up once the vCPU reported a lost wake-up (or on the deadline): the test has failed.
          if (lost_wakeups.load() || std::chrono::steady_clock::now() > deadline) return;
          std::this_thread::yield();
          continue;
        }
        sent[e].fetch_add(1);
        if (vgic_signal_msi(g, h.its.its_base() + 0x10040, e, kDev) != 1) blocked.fetch_add(1);
        ++n;
      }
    });
  for (auto& t : injectors) t.join();

  // Every MSI must be acknowledged: wait (bounded) for the vCPU to catch up.
  auto all_acked = [&] {
    for (uint32_t e = 0; e < kEvents; ++e)
      if (acked[e].load() != sent[e].load()) return false;
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!all_acked() && lost_wakeups.load() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const bool caught_up = all_acked();
  stop.store(true);
  {
    std::lock_guard l(w.m);
  }
  w.cv.notify_one();
  vcpu.join();
  vgic_set_line_notifier(g, nullptr, nullptr);

  uint64_t total_sent = 0;
  for (auto& s : sent) total_sent += s.load();
  EXPECT_EQ(total_sent, kInjectors * kPerInjector);
  EXPECT_EQ(blocked.load(), 0u);
  EXPECT_EQ(lost_wakeups.load(), 0u) << "the vCPU slept while an LPI was pending";
  EXPECT_TRUE(caught_up) << "MSIs never acknowledged";
  EXPECT_EQ(invented.load(), 0u);
  EXPECT_EQ(spurious_on_irq.load(), 0u) << "IRQ line reported up with nothing deliverable";
  // Quiescent: nothing pending, line down, IAR spurious.
  EXPECT_EQ(h.g.lines(0), 0);
  EXPECT_EQ(h.g.ack1(0), 1023u);
}

TEST(CpuDeliveryConcurrency, PostedLpiOfHigherPriorityIsTakenFirst) {
  // Single thread, the lock-free post in isolation: LPI A (priority 0xa0) is pending and the IRQ
  // line is up, so the MSI for B (priority 0x20) is only posted, with no selection. The next
  // ICC_HPPIR1 and ICC_IAR1 must still see B first (IHI0069 12.2.10/12.2.12: the highest-priority
  // pending interrupt), then A.
  ItsHarness h(Guest::config(1));
  setup(h, 0xa0);
  h.its.lpi_config(kLpi + 1, 0x20, true);
  h.its.inv(kDev, 1);
  ASSERT_EQ(h.its.msi(kDev, 0), 1);
  ASSERT_TRUE(h.g.irq(0));
  ASSERT_EQ(h.its.msi(kDev, 1), 1);
  EXPECT_TRUE(h.g.irq(0));
  EXPECT_EQ(h.g.icc_read(0, icc::HPPIR1), kLpi + 1);
  EXPECT_EQ(h.g.ack1(0), kLpi + 1);
  // While B is active its priority runs: A (lower priority) is not signalled (IHI0069 4.8.6).
  EXPECT_FALSE(h.g.irq(0));
  h.g.eoi1(0, kLpi + 1);
  EXPECT_TRUE(h.g.irq(0));
  EXPECT_EQ(h.g.ack1(0), kLpi);
  h.g.eoi1(0, kLpi);
  EXPECT_FALSE(h.g.irq(0));
  EXPECT_EQ(h.g.ack1(0), 1023u);
}

TEST(CpuDelivery, AcknowledgingAnLpiFallsBackToTheOtherSources) {
  // After an IAR takes an LPI, the new HPPI is combined from the non-LPI candidates of the last
  // selection and the new head of the LPI buckets (GicCore::reselect_after_lpi_ack) instead of a
  // full selection. Check it against every other source: a PPI, an SPI and a second LPI, in
  // priority order (IHI0069 4.7: lowest value first; HPPIR ignores the running priority, 12.2.12).
  ItsHarness h(Guest::config(1));
  setup(h, 0xa0);
  h.its.lpi_config(kLpi, 0x20, true);
  h.its.inv(kDev, 0);
  constexpr uint32_t kPpi = 20, kSpi = 40;
  h.g.set_group(kPpi, true);
  h.g.set_priority(kPpi, 0x60);
  h.g.enable(kPpi);
  h.g.set_group(kSpi, true);
  h.g.set_priority(kSpi, 0x40);
  h.g.route_to_cpu(kSpi, 0);
  h.g.enable(kSpi);
  h.g.set_pending(kPpi);
  h.g.set_pending(kSpi);
  ASSERT_EQ(h.its.msi(kDev, 0), 1);  // LPI 8192, priority 0x20
  ASSERT_EQ(h.its.msi(kDev, 3), 1);  // LPI 8195, priority 0xa0
  EXPECT_EQ(h.g.ack1(0), kLpi);
  EXPECT_EQ(h.g.icc_read(0, icc::HPPIR1), kSpi);
  h.g.eoi1(0, kLpi);
  EXPECT_EQ(h.g.ack1(0), kSpi);
  h.g.eoi1(0, kSpi);
  EXPECT_EQ(h.g.ack1(0), kPpi);
  h.g.eoi1(0, kPpi);
  EXPECT_EQ(h.g.ack1(0), kLpi + 3);
  EXPECT_EQ(h.g.icc_read(0, icc::HPPIR1), 1023u);
  h.g.eoi1(0, kLpi + 3);
  EXPECT_FALSE(h.g.irq(0));
  EXPECT_EQ(h.g.ack1(0), 1023u);
}

TEST(CpuDeliveryConcurrency, ReplacedLineNotifierIsNeverCalledAfterTheReplacementReturns) {
  // vgic_set_line_notifier frees the old notifier only after every CPU lock has been free once
  // (every call runs under its CPU's lock). So once the call returns, the old one is never called
  // again: each generation counts its calls after it was retired, which must stay 0.
  ItsHarness h(Guest::config(2));
  h.its.mapc(0, 0);
  h.its.mapc(1, 1);
  h.its.mapd(kDev, 5);
  for (uint32_t e = 0; e < kEvents; ++e) {
    h.its.mapti(kDev, e, kLpi + e, e % 2);
    h.its.lpi_config(kLpi + e, 0xa0, true);
  }
  h.its.invall(0);
  h.its.invall(1);
  vgic* const g = h.g.gic();
  struct Gen {
    std::atomic<bool> retired{false};
    std::atomic<uint64_t> calls{0}, late{0};
  };
  constexpr unsigned kGens = 30;
  static std::array<Gen, kGens> gens;  // static: outlives any (buggy) late call
  for (auto& gen : gens) {
    gen.retired.store(false);
    gen.calls.store(0);
    gen.late.store(0);
  }
  auto fn = [](void* p, unsigned, int) {
    auto* gen = static_cast<Gen*>(p);
    gen->calls.fetch_add(1);
    if (gen->retired.load()) gen->late.fetch_add(1);
  };
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  for (unsigned cpu = 0; cpu < 2; ++cpu)
    ts.emplace_back([&, cpu] {
      // Toggle this CPU's line: MSI (line up), acknowledge + EOI (line down).
      for (uint32_t e = cpu; !stop.load(); e = (e + 2) % kEvents) {
        (void)vgic_signal_msi(g, h.its.its_base() + 0x10040, e, kDev);
        const uint32_t intid = h.g.ack1(cpu);
        if (intid != 1023) h.g.eoi1(cpu, intid);
      }
    });
  for (unsigned i = 0; i < kGens; ++i) {
    vgic_set_line_notifier(g, fn, &gens[i]);
    if (i > 0) gens[i - 1].retired.store(true);
    // Replace a notifier only once it is in use (the threads toggle the lines all the time), so
    // that every replacement races real calls, however the threads are scheduled.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (gens[i].calls.load() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  }
  vgic_set_line_notifier(g, nullptr, nullptr);
  gens[kGens - 1].retired.store(true);
  stop.store(true);
  for (auto& t : ts) t.join();
  uint64_t calls = 0, late = 0;
  for (auto& gen : gens) {
    calls += gen.calls.load();
    late += gen.late.load();
  }
  EXPECT_GE(calls, uint64_t(kGens)) << "every generation was called before it was replaced";
  EXPECT_EQ(late, 0u) << "a notifier was called after its replacement returned";
}
