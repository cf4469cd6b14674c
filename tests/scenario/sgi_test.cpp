// SGI generation through ICC_SGI0R_EL1 / ICC_SGI1R_EL1 (IHI0069 4.4 and those registers): target
// lists, affinity clusters, broadcast, the range selector and the group of the target SGI.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "support/guest.hpp"

using namespace test;

namespace {

// ICC_SGI<n>R_EL1 value: TargetList [15:0], Aff1 [23:16], INTID [27:24], Aff2 [39:32], IRM [40],
// RS [47:44], Aff3 [55:48].
uint64_t sgir(uint32_t sgi, uint16_t targets, uint64_t aff1 = 0, uint64_t rs = 0, bool irm = false) {
  return targets | aff1 << 16 | uint64_t(sgi) << 24 | uint64_t(irm) << 40 | rs << 44;
}

// Every CPU's copy of `sgi` as an enabled Group 1 (or Group 0) SGI.
void setup_sgi_everywhere(Guest& g, uint32_t sgi, bool group1 = true, uint8_t prio = 0x80) {
  for (unsigned c = 0; c < g.cfg().nr_cpus; ++c) g.setup(sgi, group1, prio, true, c);
}

// The CPUs on which `sgi` is pending.
std::set<unsigned> pending_on(Guest& g, uint32_t sgi) {
  std::set<unsigned> s;
  for (unsigned c = 0; c < g.cfg().nr_cpus; ++c)
    if (g.is_pending(sgi, c)) s.insert(c);
  return s;
}

// Acknowledges and completes `sgi` on each CPU in `cpus` (Group 1), checking the IRQ line first.
void take(Guest& g, uint32_t sgi, const std::set<unsigned>& cpus) {
  for (unsigned c : cpus) {
    EXPECT_TRUE(g.irq(c)) << "cpu " << c;
    EXPECT_EQ(g.ack1(c), sgi) << "cpu " << c;
    g.eoi1(c, sgi);
    EXPECT_FALSE(g.irq(c)) << "cpu " << c;
  }
}

}  // namespace

TEST(Sgi, TargetListSelectsExactlyTheListedCpus) {
  Guest g(Guest::config(8));
  g.bring_up_all();
  setup_sgi_everywhere(g, 5);
  const std::vector<std::set<unsigned>> lists = {{1}, {1, 3, 6}, {0, 7}, {2, 3, 4, 5}};
  for (const auto& want : lists) {
    uint16_t bits = 0;
    for (unsigned c : want) bits = uint16_t(bits | 1u << c);
    g.icc_write(0, icc::SGI1R, sgir(5, bits));  // a target list may include the sender itself
    EXPECT_EQ(pending_on(g, 5), want);
    for (unsigned c = 0; c < 8; ++c) EXPECT_EQ(g.irq(c), want.count(c) == 1) << "cpu " << c;
    take(g, 5, want);
    EXPECT_TRUE(pending_on(g, 5).empty());
  }
}

TEST(Sgi, Aff1SelectsTheClusterWhenThereAreMoreThan16Cpus) {
  // Default affinities: CPU i is Aff1 = i / 16, Aff0 = i % 16 (vgic.h).
  Guest g(Guest::config(40));
  g.bring_up_all();
  setup_sgi_everywhere(g, 2);
  struct Case {
    uint64_t aff1;
    uint16_t targets;
    std::set<unsigned> want;
  };
  const std::vector<Case> cases = {
      {0, 1u << 3, {3}}, {1, 1u << 3, {19}}, {1, 0x8001, {16, 31}}, {2, 1u << 7, {39}},
      // Aff0 8..15 in cluster 2 and cluster 9 do not exist: ignored (ICC_SGI1R_EL1.TargetList)
      {2, 0xff00, {}}, {9, 0xffff, {}},
  };
  for (const Case& k : cases) {
    g.icc_write(20, icc::SGI1R, sgir(2, k.targets, k.aff1));
    EXPECT_EQ(pending_on(g, 2), k.want) << "Aff1 " << k.aff1 << " targets " << k.targets;
    take(g, 2, k.want);
  }
}

TEST(Sgi, IrmBroadcastReachesEveryCpuButTheSender) {
  // IHI0069 ICC_SGI1R_EL1.IRM: 1 routes to all PEs in the system, excluding "self"; the affinity
  // and target-list fields do not matter.
  Guest g(Guest::config(20));
  g.bring_up_all();
  setup_sgi_everywhere(g, 9);
  for (unsigned sender : {0u, 7u, 19u}) {
    g.icc_write(sender, icc::SGI1R, sgir(9, 0, 0, 0, true));
    std::set<unsigned> want;
    for (unsigned c = 0; c < 20; ++c)
      if (c != sender) want.insert(c);
    EXPECT_EQ(pending_on(g, 9), want) << "sender " << sender;
    EXPECT_FALSE(g.irq(sender));
    take(g, 9, want);
  }
}

TEST(Sgi, Sgi0rGeneratesOnlyGroup0Sgis) {
  // IHI0069 ICC_SGI0R_EL1 and "Forwarding an SGI to a target PE": ICC_SGI0R_EL1 generates Group 0
  // SGIs; a target whose SGI is configured as Group 1 does not take it.
  Guest g(Guest::config(2));
  g.bring_up_all();
  g.setup(4, false, 0x80, true, 1);
  g.setup(5, true, 0x80, true, 1);
  g.icc_write(0, icc::SGI0R, sgir(5, 1u << 1));
  EXPECT_FALSE(g.is_pending(5, 1));
  EXPECT_EQ(g.lines(1), 0);
  g.icc_write(0, icc::SGI0R, sgir(4, 1u << 1));
  EXPECT_TRUE(g.is_pending(4, 1));
  EXPECT_EQ(g.lines(1), VGIC_LINE_FIQ);
  EXPECT_EQ(g.ack0(1), 4u);
  g.eoi0(1, 4);
  EXPECT_EQ(g.lines(1), 0);
}

TEST(Sgi, Sgi1rGeneratesGroup1Sgis) {
  Guest g(Guest::config(2));
  g.bring_up_all();
  g.setup(5, true, 0x80, true, 1);
  g.icc_write(0, icc::SGI1R, sgir(5, 1u << 1));
  EXPECT_TRUE(g.is_pending(5, 1));
  EXPECT_EQ(g.lines(1), VGIC_LINE_IRQ);
  take(g, 5, {1});
}

TEST(Sgi, Sgi1rFromNonSecureReachesAGroup0SgiWhenDsIsSet) {
  // IHI0069 "Forwarding an SGI to a target PE" (ICC_SGI1R_EL1): with GICD_CTLR.DS == 1 a Non-secure
  // write to ICC_SGI1R_EL1 is forwarded to a target whose SGI is Group 0 ("under certain
  // conditions a write to ICC_SGI1R_EL1 can generate Group 0 interrupts"); the target takes it as
  // the Group 0 interrupt it is configured as.
  Guest g(Guest::config(2));
  g.bring_up_all();
  g.setup(4, false, 0x80, true, 1);
  g.icc_write(0, icc::SGI1R, sgir(4, 1u << 1));
  EXPECT_TRUE(g.is_pending(4, 1));
  EXPECT_EQ(g.lines(1), VGIC_LINE_FIQ);
  EXPECT_EQ(g.ack1(1), kSpurious);
  EXPECT_EQ(g.ack0(1), 4u);
  g.eoi0(1, 4);
}

TEST(Sgi, RangeSelectorReachesAff0Above15WithRss) {
  // IHI0069 ICC_SGI1R_EL1.RS: TargetList[n] stands for Aff0 == RS * 16 + n when range selection is
  // supported (GICD_TYPER.RSS == 1, ICC_CTLR_EL1.RSS == 1).
  vgic_config cfg = Guest::config(4);
  const uint64_t mpidr[] = {0x00, 0x01, 0x10, 0x21};  // Aff0 0, 1, 16, 33
  cfg.mpidr = mpidr;
  cfg.rss = 1;
  Guest g(cfg);
  g.bring_up_all();
  EXPECT_EQ((g.icc_read(0, icc::CTLR) >> 18) & 1, 1u);  // ICC_CTLR_EL1.RSS
  setup_sgi_everywhere(g, 1);
  struct Case {
    uint64_t rs;
    uint16_t targets;
    std::set<unsigned> want;
  };
  const std::vector<Case> cases = {{0, 0x3, {0, 1}}, {1, 0x1, {2}}, {2, 0x2, {3}},
                                   {1, 0x2, {}},     {2, 0x1, {}},  {15, 0xffff, {}}};
  for (const Case& k : cases) {
    g.icc_write(0, icc::SGI1R, sgir(1, k.targets, 0, k.rs));
    EXPECT_EQ(pending_on(g, 1), k.want) << "RS " << k.rs;
    take(g, 1, k.want);
  }
}

TEST(Sgi, RangeSelectorIsRes0WithoutRssAndCounted) {
  // ICC_CTLR_EL1.RSS == 0: only Aff0 0..15 can be targeted and RS is RES0 (IHI0069
  // ICC_SGI1R_EL1.RS), so it has no effect: TargetList bit n names Aff0 n. vgic counts the write.
  Guest g(Guest::config(4));
  g.bring_up_all();
  EXPECT_EQ((g.icc_read(0, icc::CTLR) >> 18) & 1, 0u);
  setup_sgi_everywhere(g, 1);
  const uint64_t errors = g.guest_errors();
  g.icc_write(0, icc::SGI1R, sgir(1, 0x2, 0, 1));
  EXPECT_EQ(pending_on(g, 1), std::set<unsigned>{1});
  EXPECT_EQ(g.guest_errors(), errors + 1);
  take(g, 1, {1});
  g.icc_write(0, icc::SGI1R, sgir(1, 0x5, 0, 15));
  EXPECT_EQ(pending_on(g, 1), (std::set<unsigned>{0, 2}));
  EXPECT_EQ(g.guest_errors(), errors + 2);
}

TEST(Sgi, NonexistentTargetsAreIgnored) {
  // IHI0069 ICC_SGI1R_EL1.TargetList: a bit that names no PE is ignored.
  Guest g(Guest::config(3));
  g.bring_up_all();
  setup_sgi_everywhere(g, 7);
  g.icc_write(1, icc::SGI1R, sgir(7, 0xffff));
  EXPECT_EQ(pending_on(g, 7), (std::set<unsigned>{0, 1, 2}));
  take(g, 7, {0, 1, 2});
  g.icc_write(1, icc::SGI1R, sgir(7, 0xfff8));
  EXPECT_TRUE(pending_on(g, 7).empty());
  for (unsigned c = 0; c < 3; ++c) EXPECT_EQ(g.lines(c), 0);
}

TEST(Sgi, SgiIsPendingPerTargetAndCoalesces) {
  // An SGI pending on a target stays one pending interrupt however often it is sent (IHI0069 4.4:
  // with affinity routing there is no per-source pending state).
  Guest g(Guest::config(3));
  g.bring_up_all();
  setup_sgi_everywhere(g, 3);
  g.send_sgi1(0, 2, 3);
  g.send_sgi1(1, 2, 3);
  EXPECT_EQ(g.ack1(2), 3u);
  EXPECT_EQ(g.ack1(2), kSpurious);  // active, nothing else pending
  g.eoi1(2, 3);
  EXPECT_EQ(g.ack1(2), kSpurious);
  EXPECT_FALSE(g.irq(2));
}
