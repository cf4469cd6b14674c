// LpiTable: sparse per-Redistributor LPI state (IHI0069 5.1), tested directly.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "lpi/lpi_table.hpp"
#include "mem/guest_memory.hpp"

using namespace gicv3;

namespace {

struct Fixture {
  static constexpr uint64_t kRam = 0x40000000, kProp = kRam, kPend = kRam + (1 << 24);
  HostBudget budget{64 << 20};
  GuestMemory mem;
  std::vector<uint8_t> ram = std::vector<uint8_t>((1 << 24) + (1 << 21));
  LpiTable t{24, 0xf8, budget};  // 24 ID bits, 5 priority bits
  Fixture() { EXPECT_TRUE(mem.map(kRam, ram.size(), ram.data()).ok()); }
  void config(uint32_t intid, uint8_t byte) { ram[intid - 8192] = byte; }
  LpiTable::Chunk* make(uint32_t intid) { return t.get_or_create(intid, mem, kProp); }
  std::vector<uint32_t> drain() {  // acknowledge everything deliverable, in order
    std::vector<uint32_t> out;
    t.process();
    uint8_t prio;
    while (uint32_t id = t.best(prio)) {
      out.push_back(id);
      t.acknowledge(id);
    }
    return out;
  }
};

}  // namespace

TEST(LpiTable, HostStateFollowsTheLpisUsedNotTheIdSpace) {
  Fixture f;
  EXPECT_EQ(f.t.nr_chunks(), 0u);
  const size_t before = f.budget.used();
  ASSERT_NE(f.make((1u << 24) - 1), nullptr);  // the very last LPI of a 24-bit space
  EXPECT_EQ(f.t.nr_chunks(), 1u);
  EXPECT_LT(f.budget.used() - before, 32u * 1024) << "one chunk and one directory block";
  EXPECT_EQ(f.t.find(8192), nullptr);
  EXPECT_EQ(f.make(100), nullptr) << "not an LPI";
}

TEST(LpiTable, PendingNeedsItsChunkAndCoalesces) {
  Fixture f;
  EXPECT_FALSE(f.t.set_pending(9000)) << "no state yet: the caller creates it";
  f.config(9000, 0x81);
  ASSERT_NE(f.make(9000), nullptr);
  bool newly = false;
  EXPECT_TRUE(f.t.set_pending(9000, &newly));
  EXPECT_TRUE(newly);
  EXPECT_TRUE(f.t.set_pending(9000, &newly));
  EXPECT_FALSE(newly);
  EXPECT_EQ(f.drain(), std::vector<uint32_t>{9000});
  EXPECT_FALSE(f.t.is_pending(9000));
}

TEST(LpiTable, PriorityOrderAndEqualPriorityInArrivalOrderWithinOneUpdate) {
  Fixture f;
  for (uint32_t id : {8200u, 8201u, 8202u, 12000u}) ASSERT_NE(f.make(id), nullptr);
  f.t.set_config(8200, 0x81);
  f.t.set_config(8201, 0x41);
  f.t.set_config(8202, 0x81);
  f.t.set_config(12000, 0x21);
  f.t.process();
  for (uint32_t id : {8202u, 8200u, 8201u, 12000u}) f.t.set_pending(id);
  const auto order = f.drain();
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[0], 12000u);  // priority 0x20
  EXPECT_EQ(order[1], 8201u);   // 0x40
  EXPECT_EQ(std::set<uint32_t>(order.begin() + 2, order.end()), (std::set<uint32_t>{8200, 8202}));
}

TEST(LpiTable, PriorityIsMaskedToImplementedBits) {
  Fixture f;  // 5 bits: 0x44 and 0x40 are the same priority
  f.make(8300);
  f.t.set_config(8300, 0x44 | 1);
  f.t.set_pending(8300);
  f.t.process();
  uint8_t prio = 0;
  EXPECT_EQ(f.t.best(prio), 8300u);
  EXPECT_EQ(prio, 0x40);
}

TEST(LpiTable, DisabledPendingLpiWaitsForAConfigurationChange) {
  Fixture f;
  f.make(8400);  // configuration byte 0: disabled
  f.t.set_pending(8400);
  EXPECT_TRUE(f.drain().empty());
  EXPECT_TRUE(f.t.is_pending(8400)) << "still pending while disabled";
  f.t.set_config(8400, 0x81);
  EXPECT_EQ(f.drain(), std::vector<uint32_t>{8400});
}

TEST(LpiTable, ClearAndTakeRemoveFromSelection) {
  Fixture f;
  f.config(8500, 0x81);
  f.config(8501, 0x81);
  f.make(8500);
  f.t.set_pending(8500);
  f.t.set_pending(8501);
  f.t.process();
  EXPECT_TRUE(f.t.clear_pending(8500));
  EXPECT_TRUE(f.t.take_pending(8501));
  EXPECT_FALSE(f.t.take_pending(8501));
  EXPECT_TRUE(f.drain().empty());
}

TEST(LpiTable, WriteBackKeepsOrForgetsAndNeverTouchesTheReservedKilobyte) {
  Fixture f;
  f.config(9001, 0x81);
  f.make(9001);
  f.t.set_pending(9001);
  std::fill(f.ram.begin() + (1 << 24), f.ram.begin() + (1 << 24) + 1024, 0x5a);  // reserved part
  EXPECT_TRUE(f.t.write_pending(f.mem, Fixture::kPend, 1u << 16, false));
  EXPECT_EQ((f.ram[(1 << 24) + 9001 / 8] >> (9001 % 8)) & 1, 1);
  EXPECT_TRUE(f.t.is_pending(9001)) << "SAVE_PENDING_TABLES keeps the state";
  EXPECT_TRUE(f.t.write_back_and_clear(f.mem, Fixture::kPend, 1u << 16));
  EXPECT_FALSE(f.t.is_pending(9001));
  for (int i = 0; i < 1024; ++i) ASSERT_EQ(f.ram[(1 << 24) + i], 0x5a) << i;
}

TEST(LpiTable, WriteBackStopsAtTheTableTheGuestGave) {
  // A chunk made under an earlier, larger GICR_PROPBASER.IDbits is not written past the end of
  // the table of the current range: that memory is not the table's.
  Fixture f;
  f.make(40000);
  f.make(9001);
  f.t.set_pending(9001);
  const size_t end = (1 << 24) + (1 << 14) / 8;  // the table of 14 INTID bits
  std::fill(f.ram.begin() + end, f.ram.begin() + end + 8192, 0x5a);
  EXPECT_TRUE(f.t.write_back_and_clear(f.mem, Fixture::kPend, 1u << 14));
  EXPECT_EQ((f.ram[(1 << 24) + 9001 / 8] >> (9001 % 8)) & 1, 1);
  for (size_t i = 0; i < 8192; ++i) ASSERT_EQ(f.ram[end + i], 0x5a) << i;
}

TEST(LpiTable, EnableReadsThePendingTableUpToTheLimit) {
  Fixture f;
  for (uint32_t id : {9100u, 17000u}) {
    f.config(id, 0x81);
    f.ram[(1 << 24) + id / 8] |= uint8_t(1 << (id % 8));
  }
  EXPECT_TRUE(f.t.enable(f.mem, Fixture::kProp, Fixture::kPend, false, 1u << 14));
  EXPECT_EQ(f.drain(), std::vector<uint32_t>{9100}) << "17000 is beyond 14 ID bits";
  EXPECT_TRUE(f.t.enable(f.mem, Fixture::kProp, Fixture::kPend, true, 1u << 24));
  EXPECT_TRUE(f.drain().empty()) << "PTZ: the table is taken as zero";
}

TEST(LpiTable, BudgetExhaustionFailsCleanly) {
  HostBudget tiny(4096);
  GuestMemory mem;
  LpiTable t(16, 0xf8, tiny);
  EXPECT_EQ(t.get_or_create(8192, mem, 0), nullptr);
  EXPECT_EQ(tiny.used(), 0u) << "nothing half-allocated";
}

TEST(LpiTable, ConcurrentSettersLoseNothing) {
  Fixture f;
  constexpr uint32_t kBase = 8192, kCount = 4096;
  for (uint32_t i = 0; i < kCount; ++i) f.config(kBase + i, 0x81);
  for (uint32_t i = 0; i < kCount; i += LpiTable::kChunkSize) ASSERT_NE(f.make(kBase + i), nullptr);
  std::atomic<bool> go{false};
  std::vector<std::thread> setters;
  for (unsigned t = 0; t < 3; ++t) {
    setters.emplace_back([&, t] {
      while (!go.load()) {
      }
      for (uint32_t i = t; i < kCount; i += 3) f.t.set_pending(kBase + i);
    });
  }
  std::set<uint32_t> seen;
  go = true;
  // The owner processes concurrently with the setters, then once more after them.
  for (int round = 0; round < 200; ++round)
    for (uint32_t id : f.drain()) seen.insert(id);
  for (auto& th : setters) th.join();
  for (uint32_t id : f.drain()) seen.insert(id);
  EXPECT_EQ(seen.size(), kCount);
}

TEST(LpiTable, DestructionGivesTheBudgetBack) {
  HostBudget budget(64 << 20);
  GuestMemory mem;
  {
    LpiTable t(24, 0xf8, budget);
    for (uint32_t id : {8192u, 70000u, (1u << 24) - 1}) ASSERT_NE(t.get_or_create(id, mem, 0), nullptr);
    EXPECT_GT(budget.used(), 0u);
  }
  EXPECT_EQ(budget.used(), 0u);
}

// The owner may select an LPI whose pending bit another thread has just taken (MOVI/MOVALL to
// another CPU, CLEAR, DISCARD) before it processed that change: acknowledge reports it, and the
// LPI leaves the priority order either way, so that the next selection offers the next one.
TEST(LpiTable, AcknowledgeOfAnLpiTakenMeanwhileReportsItAndSelectsTheNext) {
  Fixture f;
  f.config(9000, 0x41);  // priority 0x40, enabled
  f.config(9001, 0x81);
  ASSERT_NE(f.make(9000), nullptr);
  ASSERT_TRUE(f.t.set_pending(9000));
  ASSERT_TRUE(f.t.set_pending(9001));
  f.t.process();
  uint8_t prio = 0;
  ASSERT_EQ(f.t.best(prio), 9000u);
  EXPECT_TRUE(f.t.take_pending(9000)) << "a mover takes it; the owner has not processed that yet";
  EXPECT_FALSE(f.t.acknowledge(9000)) << "not pending any more: not to be delivered";
  EXPECT_EQ(f.t.best(prio), 9001u) << "without a process(): it left the buckets";
  EXPECT_TRUE(f.t.acknowledge(9001));
  f.t.process();
  EXPECT_EQ(f.t.best(prio), 0u);
}
