// The line notifier (vgic.h, vgic_set_line_notifier): called whenever a vCPU's IRQ/FIQ outputs
// change, with that vCPU and its new lines, and only then.
#include <gtest/gtest.h>

#include <mutex>
#include <utility>
#include <vector>

#include "support/guest.hpp"

using namespace test;

namespace {

using Event = std::pair<unsigned, int>;  // cpu, lines

struct Recorder {
  vgic* gic = nullptr;
  std::mutex lock;
  std::vector<Event> events;
  int mismatches = 0;  // calls whose lines differ from vgic_cpu_lines() seen from the callback

  static void fn(void* opaque, unsigned cpu, int lines) {
    auto* r = static_cast<Recorder*>(opaque);
    // A callback may call vgic_cpu_lines() (vgic.h); the lines it reports are already published.
    const int published = vgic_cpu_lines(r->gic, cpu);
    std::lock_guard l(r->lock);
    r->events.emplace_back(cpu, lines);
    if (published != lines) ++r->mismatches;
  }
  std::vector<Event> take() {
    std::lock_guard l(lock);
    return std::exchange(events, {});
  }
};

class Notifier : public ::testing::Test {
 protected:
  Guest g{Guest::config(2)};
  Recorder rec;
  void SetUp() override {
    rec.gic = g.gic();
    vgic_set_line_notifier(g.gic(), Recorder::fn, &rec);
    g.bring_up_all();
    g.setup(40, true, 0x80, false, 1);  // level, Group 1, CPU 1
    g.setup(41, false, 0x40, true, 0);  // edge, Group 0, CPU 0
    g.setup(42, true, 0xa0, true, 1);   // edge, Group 1, CPU 1, lower priority than 40
  }
  void TearDown() override { EXPECT_EQ(rec.mismatches, 0); }
};

}  // namespace

TEST_F(Notifier, NothingIsNotifiedWhileTheLinesStayLow) {
  // Bringing the GIC up and configuring interrupts changed no output.
  EXPECT_TRUE(rec.take().empty());
}

TEST_F(Notifier, CalledOnEachChangeWithTheCpuAndItsLines) {
  g.line(40, true);
  EXPECT_EQ(rec.take(), (std::vector<Event>{{1, VGIC_LINE_IRQ}}));
  EXPECT_EQ(g.ack1(1), 40u);
  EXPECT_EQ(rec.take(), (std::vector<Event>{{1, 0}}));
  g.eoi1(1, 40);  // the line is still high
  EXPECT_EQ(rec.take(), (std::vector<Event>{{1, VGIC_LINE_IRQ}}));
  g.line(40, false);
  EXPECT_EQ(rec.take(), (std::vector<Event>{{1, 0}}));

  g.line(41, true);
  EXPECT_EQ(rec.take(), (std::vector<Event>{{0, VGIC_LINE_FIQ}}));
  EXPECT_EQ(g.ack0(0), 41u);
  EXPECT_EQ(rec.take(), (std::vector<Event>{{0, 0}}));
  g.eoi0(0, 41);
  EXPECT_TRUE(rec.take().empty());
}

TEST_F(Notifier, IrqToFiqIsOneNotification) {
  g.setup(43, false, 0x40, true, 1);  // Group 0 on CPU 1, above 40
  g.line(40, true);
  EXPECT_EQ(rec.take(), (std::vector<Event>{{1, VGIC_LINE_IRQ}}));
  g.line(43, true);
  EXPECT_EQ(rec.take(), (std::vector<Event>{{1, VGIC_LINE_FIQ}}));
  EXPECT_EQ(g.ack0(1), 43u);
  // 40 cannot preempt the running priority 0x40: no output.
  EXPECT_EQ(rec.take(), (std::vector<Event>{{1, 0}}));
  g.eoi0(1, 43);
  EXPECT_EQ(rec.take(), (std::vector<Event>{{1, VGIC_LINE_IRQ}}));
}

TEST_F(Notifier, NotCalledWhenTheLinesDoNotChange) {
  g.line(40, true);
  ASSERT_EQ(rec.take().size(), 1u);
  g.line(42, true);  // another, lower-priority interrupt for the same CPU: IRQ stays asserted
  g.line(40, true);  // no transition
  g.set_pmr(1, 0xff);
  (void)g.hppir1(1);
  (void)g.gicd_read(gicd::ISPENDR + 4);
  (void)g.gicr_read(1, gicr::ISPENDR0);
  g.set_priority(40, 0x70);
  g.line(41, false);  // CPU 0, nothing pending there
  EXPECT_TRUE(rec.take().empty());
  EXPECT_EQ(g.lines(1), VGIC_LINE_IRQ);
  EXPECT_EQ(g.lines(0), 0);
}

TEST_F(Notifier, PriorityMaskChangesAreNotified) {
  g.line(40, true);
  rec.take();
  g.set_pmr(1, 0x80);  // masks 0x80
  EXPECT_EQ(rec.take(), (std::vector<Event>{{1, 0}}));
  g.set_pmr(1, 0x90);
  EXPECT_EQ(rec.take(), (std::vector<Event>{{1, VGIC_LINE_IRQ}}));
}

TEST_F(Notifier, RemovedNotifierIsNotCalled) {
  vgic_set_line_notifier(g.gic(), nullptr, nullptr);
  g.line(40, true);
  EXPECT_TRUE(g.irq(1));
  EXPECT_TRUE(rec.take().empty());
}

TEST_F(Notifier, SgiNotifiesTheTargetOnly) {
  for (unsigned c = 0; c < 2; ++c) g.setup(6, true, 0x80, true, c);
  g.send_sgi1(0, 1, 6);
  EXPECT_EQ(rec.take(), (std::vector<Event>{{1, VGIC_LINE_IRQ}}));
}
