// Consume-on-create of KVM_DEV_ARM_ITS_RESTORE_TABLES (seed 003) over many LPIs. The pending
// table is read and written a block at a time (issue 7; GicCore::consume_lpis_pending_blocks),
// which must change exactly what consuming one LPI at a time changes: the bit of every restored
// LPI whose collection is mapped moves from the pending table into the redistributor (IHI0069
// 5.1.2: bit n of the table is INTID n's pending state), and no other bit of the table changes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "support/its_driver.hpp"
#include "support/its_migration.hpp"

using namespace test;
using namespace test::migration;

namespace {

constexpr uint32_t CTRL = VGIC_DEV_GRP_CTRL;

vgic_config cfg() {
  vgic_config c = Guest::config(1);
  c.lpi_id_bits = 16;  // an 8 KiB pending table: eight blocks of 1 KiB (8192 LPIs each)
  return c;
}

uint8_t pending_bit(GuestRam& ram, uint64_t table, uint32_t intid) { return (ram.read8(table + intid / 8) >> (intid % 8)) & 1; }

TEST(ItsAbiPending, ConsumingThousandsOfLpisChangesExactlyTheirBitsInEveryBlock) {
  // Device 7: 8192 events, event e -> LPI 8192 + 5e (INTIDs 8192..49147: table bytes 1024..6143,
  // blocks 1 to 5), every third event pending. Only the sample LPIs are enabled (and nothing
  // acknowledges them in the source); the others stay pending, undelivered.
  constexpr uint32_t kEvents = 8192;
  const auto lpi = [](uint32_t e) { return 8192 + 5 * e; };
  const std::vector<uint32_t> sample = {lpi(0), lpi(3), lpi(3000), lpi(6000), lpi(8190)};  // pending, in blocks 1, 2, 4, 5
  ItsHarness src(cfg(), {}, 8ull << 20);
  src.its.mapc(0, 0);
  src.its.mapd(7, 13);
  for (uint32_t e = 0; e < kEvents; ++e) src.its.mapti(7, e, lpi(e), 0);
  for (uint32_t id : sample) src.its.lpi_config(id, 0x40, true);
  src.its.invall(0);
  for (uint32_t e = 0; e < kEvents; e += 3) ASSERT_EQ(src.its.msi(7, e), 1);
  ASSERT_EQ(vgic_set_attr(src.g.gic(), CTRL, VGIC_CTRL_SAVE_PENDING_TABLES, nullptr), 0) << vgic_last_error();
  ASSERT_EQ(save_tables(src.g), 0) << vgic_last_error();

  const uint64_t table = src.its.pend_table(0);
  const size_t bytes = (size_t(1) << 16) / 8;
  Destination d(src.g.cfg(), src.ram);
  // Bits no restored translation names: an LPI past the mapped ones, and one between two of them.
  for (uint32_t stray : {60001u, lpi(100) + 2}) d.ram.write8(table + stray / 8, uint8_t(d.ram.read8(table + stray / 8) | 1u << (stray % 8)));
  ASSERT_NO_FATAL_FAILURE(restore_gic(src.g, d.g));
  ASSERT_NO_FATAL_FAILURE(restore_its_registers(src.g, d.g));
  std::vector<uint8_t> want(d.ram.host(table), d.ram.host(table) + bytes);
  size_t was_pending = 0;
  for (uint32_t e = 0; e < kEvents; ++e) {
    was_pending += pending_bit(d.ram, table, lpi(e));
    want[lpi(e) / 8] = uint8_t(want[lpi(e) / 8] & ~(1u << (lpi(e) % 8)));
  }
  ASSERT_EQ(was_pending, (kEvents + 2) / 3);

  ASSERT_EQ(restore_tables(d.g), 0) << vgic_last_error();
  const std::vector<uint8_t> got(d.ram.host(table), d.ram.host(table) + bytes);
  for (size_t i = 0; i < bytes; ++i) ASSERT_EQ(got[i], want[i]) << "pending table byte " << i;
  EXPECT_EQ(pending_bit(d.ram, table, 60001), 1);
  EXPECT_EQ(pending_bit(d.ram, table, lpi(100) + 2), 1);

  // The consumed LPIs are pending in the redistributor: the enabled ones are delivered, once each.
  ASSERT_NO_FATAL_FAILURE(restore_its_ctlr(src.g, d.g));
  std::vector<uint32_t> seen = drain(d.g, 0);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, sample);
}

// A pending table split over two RAM regions, the boundary inside a block: that block cannot be
// read whole, and each of its LPIs is consumed from its own byte, on either side of the boundary.
TEST(ItsAbiPending, ABlockAcrossTwoRamRegionsIsConsumedByteByByte) {
  ItsHarness src(cfg(), {}, 8ull << 20);
  const uint64_t table = src.its.pend_table(0);
  // Table bytes 1024..2047 (INTIDs 8192..16383) form one block; the regions meet at byte 1324.
  // Three LPIs in that block (two before the boundary, one after), one in a block wholly after.
  const uint64_t split = table + 1324;
  const uint32_t first = 8192 + 8 + 1, left = 8192 + 8 * 200 + 3, right = 8192 + 8 * 400 + 6, far = 40000;
  ASSERT_LT(left / 8, 1324u);
  ASSERT_GE(right / 8, 1324u);
  ASSERT_LT(right / 8, 2048u);
  const uint32_t lpis[] = {first, left, right, far};
  src.its.mapc(0, 0);
  src.its.mapd(7, 2);
  for (uint32_t e = 0; e < 4; ++e) {
    src.its.mapti(7, e, lpis[e], 0);
    src.its.lpi_config(lpis[e], 0x40, true);
  }
  src.its.invall(0);
  ASSERT_EQ(save_tables(src.g), 0) << vgic_last_error();
  // Pending in the saved table (as SAVE_PENDING_TABLES would leave them).
  for (uint32_t id : lpis) src.ram.write8(table + id / 8, uint8_t(src.ram.read8(table + id / 8) | 1u << (id % 8)));

  Guest g(src.g.cfg());
  const uint64_t base = src.ram.base(), end = base + src.ram.size();
  GuestRam lo(g.gic(), base, split - base), hi(g.gic(), split, end - split);
  std::memcpy(lo.host(base), src.ram.host(base), split - base);
  std::memcpy(hi.host(split), src.ram.host(split), end - split);
  ASSERT_NO_FATAL_FAILURE(restore_gic(src.g, g));
  ASSERT_NO_FATAL_FAILURE(restore_its_registers(src.g, g));
  ASSERT_EQ(restore_tables(g), 0) << vgic_last_error();
  EXPECT_EQ(pending_bit(lo, table, first), 0);
  EXPECT_EQ(pending_bit(lo, table, left), 0);
  EXPECT_EQ(pending_bit(hi, table, right), 0);
  EXPECT_EQ(pending_bit(hi, table, far), 0);
  ASSERT_NO_FATAL_FAILURE(restore_its_ctlr(src.g, g));
  std::vector<uint32_t> seen = drain(g, 0);
  std::sort(seen.begin(), seen.end());
  std::vector<uint32_t> want(std::begin(lpis), std::end(lpis));
  std::sort(want.begin(), want.end());
  EXPECT_EQ(seen, want);
}

}  // namespace
