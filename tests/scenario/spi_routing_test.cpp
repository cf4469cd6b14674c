// SPI routing with affinity routing enabled (IHI0069 2.3, GICD_IROUTER<n>): targeted
// routing, re-routing, unroutable SPIs and the 1-of-N model.
#include <gtest/gtest.h>

#include <set>

#include "support/guest.hpp"

using namespace test;

namespace {
constexpr uint64_t kIrm = 1ull << 31;  // GICD_IROUTER<n>.Interrupt_Routing_Mode

uint64_t irouter_of(const Guest& g, unsigned cpu) {
  const uint64_t m = g.mpidr(cpu);
  return (m & 0xffffff) | ((m >> 32) & 0xff) << 32;
}

std::set<unsigned> irq_cpus(Guest& g) {
  std::set<unsigned> s;
  for (unsigned c = 0; c < g.cfg().nr_cpus; ++c)
    if (g.irq(c)) s.insert(c);
  return s;
}
}  // namespace

TEST(SpiRouting, IrouterSelectsTheTargetCpu) {
  Guest g(Guest::config(6));
  g.bring_up_all();
  g.setup(40, true, 0x80, true);
  for (unsigned target = 0; target < 6; ++target) {
    g.route_to_cpu(40, target);
    EXPECT_EQ(g.gicd_read(gicd::IROUTER + 40 * 8, 8), irouter_of(g, target));
    g.line(40, true);
    g.line(40, false);
    EXPECT_EQ(irq_cpus(g), std::set<unsigned>{target});
    for (unsigned c = 0; c < 6; ++c)
      if (c != target) {
        EXPECT_EQ(g.ack1(c), kSpurious) << "cpu " << c;
      }
    EXPECT_EQ(g.ack1(target), 40u);
    g.eoi1(target, 40);
    EXPECT_TRUE(irq_cpus(g).empty());
  }
}

TEST(SpiRouting, ReroutingAPendingSpiMovesIt) {
  Guest g(Guest::config(3));
  g.bring_up_all();
  g.setup(41, true, 0x80, false, 0);
  g.line(41, true);
  EXPECT_EQ(irq_cpus(g), std::set<unsigned>{0});
  g.route_to_cpu(41, 2);
  EXPECT_EQ(irq_cpus(g), std::set<unsigned>{2});
  EXPECT_EQ(g.ack1(0), kSpurious);
  EXPECT_EQ(g.ack1(2), 41u);
  g.line(41, false);
  g.eoi1(2, 41);
  EXPECT_TRUE(irq_cpus(g).empty());
}

TEST(SpiRouting, RouteToANonexistentAffinityKeepsTheSpiPendingUndelivered) {
  // IHI0069 GICD_IROUTER<n>: it may name an affinity with no PE; the SPI is then not forwarded to
  // any CPU interface, but its pending state is kept until it is routed somewhere that exists.
  Guest g(Guest::config(4));
  g.bring_up_all();
  g.setup(42, true, 0x80, true, 0);
  const uint64_t nowhere = 7u << 8;  // Aff1 = 7: no such cluster
  g.route(42, nowhere);
  EXPECT_EQ(g.gicd_read(gicd::IROUTER + 42 * 8, 8), nowhere);
  g.line(42, true);
  g.line(42, false);
  EXPECT_TRUE(g.is_pending(42));
  EXPECT_TRUE(irq_cpus(g).empty());
  for (unsigned c = 0; c < 4; ++c) EXPECT_EQ(g.ack1(c), kSpurious);
  EXPECT_TRUE(g.is_pending(42));
  g.route_to_cpu(42, 3);
  EXPECT_EQ(irq_cpus(g), std::set<unsigned>{3});
  EXPECT_EQ(g.ack1(3), 42u);
  g.eoi1(3, 42);
}

TEST(SpiRouting, OneOfNIsOfferedToEveryParticipatingCpuAndTakenByOne) {
  // IHI0069 2.3.2: with IRM == 1 the SPI goes to one participating PE. vgic offers it to all of
  // them; the first acknowledge takes it and the others see it disappear.
  for (unsigned taker = 0; taker < 3; ++taker) {
    Guest g(Guest::config(3));
    g.bring_up_all();
    g.setup(50, true, 0x80, true);
    g.route(50, kIrm);
    g.line(50, true);
    EXPECT_EQ(irq_cpus(g), (std::set<unsigned>{0, 1, 2}));
    EXPECT_EQ(g.ack1(taker), 50u);
    EXPECT_TRUE(irq_cpus(g).empty()) << "taker " << taker;
    for (unsigned c = 0; c < 3; ++c)
      if (c != taker) {
        EXPECT_EQ(g.ack1(c), kSpurious) << "cpu " << c;
      }
    EXPECT_TRUE(g.is_active(50));
    g.eoi1(taker, 50);
    EXPECT_FALSE(g.is_active(50));
    EXPECT_TRUE(irq_cpus(g).empty());
  }
}

TEST(SpiRouting, OneOfNSkipsCpusWithTheGroupDisabled) {
  // A PE whose CPU interface has the interrupt's group disabled does not participate (IHI0069
  // ICC_IGRPEN1_EL1: a pending interrupt must be released to another PE when the enable is
  // cleared).
  Guest g(Guest::config(3));
  g.bring_up_all();
  g.icc_write(1, icc::IGRPEN1, 0);
  g.setup(51, true, 0x80, false);
  g.route(51, kIrm);
  g.line(51, true);
  EXPECT_EQ(irq_cpus(g), (std::set<unsigned>{0, 2}));
  EXPECT_EQ(g.ack1(1), kSpurious);
  // Disabling Group 1 on the remaining CPUs leaves the SPI pending with nobody to take it ...
  g.icc_write(0, icc::IGRPEN1, 0);
  g.icc_write(2, icc::IGRPEN1, 0);
  EXPECT_TRUE(irq_cpus(g).empty());
  EXPECT_TRUE(g.is_pending(51));
  // ... until one enables it again.
  g.icc_write(1, icc::IGRPEN1, 1);
  EXPECT_EQ(irq_cpus(g), std::set<unsigned>{1});
  EXPECT_EQ(g.ack1(1), 51u);
  g.line(51, false);
  g.eoi1(1, 51);
}

TEST(SpiRouting, OneOfNNeverGoesToASleepingCpu) {
  // IHI0069 2.3.2, GICR_WAKER: a PE whose GICR_WAKER.ProcessorSleep is 1 is not selected for 1-of-N
  // SPIs.
  Guest g(Guest::config(2));
  g.bring_up_all();
  g.sleep(1);
  g.setup(52, true, 0x80, true);
  g.route(52, kIrm);
  for (int round = 0; round < 3; ++round) {
    g.line(52, true);
    g.line(52, false);
    EXPECT_FALSE(g.irq(1));
    EXPECT_EQ(g.ack1(1), kSpurious);
    EXPECT_EQ(g.ack1(0), 52u);
    g.eoi1(0, 52);
  }
  // With CPU 0 out of the game too, the SPI waits; waking CPU 1 delivers it there.
  g.sleep(0);
  g.line(52, true);
  EXPECT_TRUE(irq_cpus(g).empty());
  EXPECT_TRUE(g.is_pending(52));
  g.wake(1);
  EXPECT_EQ(irq_cpus(g), std::set<unsigned>{1});
  EXPECT_EQ(g.ack1(1), 52u);
  g.eoi1(1, 52);
}

TEST(SpiRouting, No1NMakesIrmRazWi) {
  // GICD_TYPER.No1N == 1: 1-of-N is not supported and GICD_IROUTER<n>.IRM is RES0 (IHI0069
  // GICD_IROUTER<n>), so the SPI is routed by its affinity fields.
  vgic_config cfg = Guest::config(2);
  cfg.no1n = 1;
  Guest g(cfg);
  g.bring_up_all();
  EXPECT_EQ((g.gicd_read(gicd::TYPER) >> 25) & 1, 1u);  // GICD_TYPER.No1N
  g.setup(53, true, 0x80, true);
  g.route(53, kIrm | irouter_of(g, 1));
  EXPECT_EQ(g.gicd_read(gicd::IROUTER + 53 * 8, 8), irouter_of(g, 1));
  g.line(53, true);
  EXPECT_EQ(irq_cpus(g), std::set<unsigned>{1});
  EXPECT_EQ(g.ack1(1), 53u);
  g.eoi1(1, 53);
}

TEST(SpiRouting, IrmReadsBackWhen1OfNIsSupported) {
  Guest g(Guest::config(2));
  EXPECT_EQ((g.gicd_read(gicd::TYPER) >> 25) & 1, 0u);
  g.route(54, kIrm);
  EXPECT_EQ(g.gicd_read(gicd::IROUTER + 54 * 8, 8) & kIrm, kIrm);
}
