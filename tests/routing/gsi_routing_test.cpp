// The routing table is replaced as a whole: a reader never sees a mix of two tables.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "api/c_handle.hpp"
#include "api/gic_impl.hpp"
#include "support/guest.hpp"

using namespace gicv3;

TEST(GsiRoutingTable, ConcurrentReadersSeeOneTableOrTheOther) {
  Config cfg;
  cfg.nr_cpus = 1;
  auto gic = Gic::create(cfg);
  GsiRouting& routing = gic->impl().routing;
  // Table k routes GSI 1 to four SPIs, all tagged with data == k (a mix would show two tags).
  auto table = [](uint32_t k) {
    std::vector<GsiRoute> v;
    for (uint32_t i = 0; i < 4; ++i) {
      GsiRoute r;
      r.gsi = 1;
      r.intid = 32 + i + 4 * (k % 2);
      r.data = k;
      v.push_back(r);
    }
    return v;
  };
  ASSERT_TRUE(routing.set(table(0)).ok());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, mixes{0}, short_reads{0};
  std::thread reader([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      uint32_t first = ~0u;
      int n = 0;
      bool mixed = false;
      routing.for_each(1, [&](const GsiRoute& r) {
        if (first == ~0u) first = r.data;
        mixed |= r.data != first;
        ++n;
      });
      reads++;
      if (mixed) mixes++;
      if (n != 4) short_reads++;
    }
  });
  // Keep swapping until the reader has overlapped with many swaps (bounded).
  for (uint32_t k = 1; k <= 300 || (reads.load() < 2000 && k < 200000); ++k) ASSERT_TRUE(routing.set(table(k)).ok());
  stop = true;
  reader.join();
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(mixes.load(), 0u);
  EXPECT_EQ(short_reads.load(), 0u);
}

TEST(GsiRoutingTable, InjectionRacingAnUpdateDeliversEveryTime) {
  Config cfg;
  cfg.nr_cpus = 1;
  auto gic = Gic::create(cfg);
  std::atomic<bool> stop{false};
  std::vector<GsiRoute> a(1), b(1);
  a[0].gsi = b[0].gsi = 7;
  a[0].intid = 33;
  b[0].intid = 34;
  ASSERT_TRUE(gic->set_gsi_routing(a).ok());
  std::atomic<uint64_t> missed{0};
  std::thread injector([&] {
    for (int i = 0; i < 20000; ++i)
      if (gic->set_gsi_level(7, i & 1) != 1) missed++;
    stop = true;
  });
  for (int k = 0; !stop.load(); ++k) ASSERT_TRUE(gic->set_gsi_routing(k & 1 ? a : b).ok());
  injector.join();
  EXPECT_EQ(missed.load(), 0u) << "every injection found a route: no window without a table";
}

// An irqfd signal without resample is one pulse per route inside ONE table lookup (vgic.h: an
// injection never mixes two tables), so pulse() is a single for_each, not set_level(1) + set_level(0).
TEST(GsiRoutingTable, PulseLatchesAnEdgeSpiAndLeavesALevelSpiIdle) {
  test::Guest g(test::Guest::config(1));
  g.bring_up_all();
  g.setup(33, true, 0x80, true, 0);   // edge
  g.setup(34, true, 0x80, false, 0);  // level
  GsiRouting& routing = g.gic()->gic->impl().routing;
  std::vector<GsiRoute> v(2);
  v[0].gsi = 5;
  v[0].intid = 33;
  v[1].gsi = 6;
  v[1].intid = 34;
  ASSERT_TRUE(routing.set(v).ok());
  EXPECT_EQ(routing.pulse(5), 1);
  EXPECT_TRUE(g.is_pending(33)) << "the rising edge latched";
  EXPECT_EQ(routing.pulse(6), 1);
  EXPECT_FALSE(g.is_pending(34)) << "a level SPI is pending only during the pulse";
  EXPECT_EQ(routing.pulse(7), -1) << "no route";
}
