// The KVM ITS table ABI revision 0 (Documentation/virt/kvm/devices/arm-vgic-its.rst): the entry
// value types, and KVM_DEV_ARM_ITS_SAVE_TABLES compared byte for byte with entries encoded here
// from the documented layout (flat and two-level tables, Next chains, stale entries cleared), and
// SAVE of a guest whose tables no longer cover what it mapped. RESTORE: its_abi_restore_test.cpp.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "its/its_abi.hpp"
#include "support/its_driver.hpp"
#include "support/its_migration.hpp"

using namespace test;
using namespace test::migration;
using namespace gicv3;

namespace {

struct Lcg {
  uint64_t s;
  uint64_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return s ^ (s >> 29);
  }
};

// --- Entry value types -----------------------------------------------------------------------------

TEST(ItsAbiEntries, EveryWordDecodesAndEncodesBackUnchanged) {
  Lcg r{7};
  for (int i = 0; i < 20000; ++i) {
    const uint64_t w = r.next();
    ASSERT_EQ(DeviceTableEntry::decode(w).encode(), w) << std::hex << w;
    ASSERT_EQ(CollectionTableEntry::decode(w).encode(), w) << std::hex << w;
    ASSERT_EQ(InterruptTableEntry::decode(w).encode(), w) << std::hex << w;
    const DeviceTableEntry d{bool(w & 1), uint16_t(w >> 1 & 0x3fff), (w >> 8 & 0xfffffffffffull) << 8, uint8_t(w >> 60)};
    ASSERT_EQ(DeviceTableEntry::decode(d.encode()), d);
    const CollectionTableEntry c{bool(w & 1), w >> 20 & 0xfffffffffull, uint16_t(w >> 4), uint16_t(w >> 1 & 0x7ff)};
    ASSERT_EQ(CollectionTableEntry::decode(c.encode()), c);
    const InterruptTableEntry e{uint16_t(w >> 48), uint32_t(w >> 8), uint16_t(w)};
    ASSERT_EQ(InterruptTableEntry::decode(e.encode()), e);
  }
}

TEST(ItsAbiEntries, FieldsSitWhereTheDocumentPutsThem) {
  // Each field alone, at both ends of its range, against the independent encoders.
  EXPECT_EQ((DeviceTableEntry{true, 0, 0, 0}.encode()), 1ull << 63);
  EXPECT_EQ((DeviceTableEntry{true, 0x3fff, 0, 0}.encode()), dte(0x3fff, 0, 0));
  EXPECT_EQ((DeviceTableEntry{false, 1, 0, 0}.encode()), 1ull << 49);
  EXPECT_EQ((DeviceTableEntry{false, 0, 0x100, 0}.encode()), 1ull << 5);        // ITT address bit 8
  EXPECT_EQ((DeviceTableEntry{false, 0, 1ull << 51, 0}.encode()), 1ull << 48);  // ITT address bit 51
  EXPECT_EQ((DeviceTableEntry{true, 5, 0x000fffffffffff00ull, 31}.encode()), dte(5, 0x000fffffffffff00ull, 31));
  EXPECT_EQ((CollectionTableEntry{true, 1, 0, 0}.encode()), cte(1, 0));
  EXPECT_EQ((CollectionTableEntry{true, 0xfffffffffull, 0xffff, 0}.encode()), cte(0xfffffffffull, 0xffff));
  EXPECT_EQ((CollectionTableEntry{false, 0, 0, 1}.encode()), 1ull << 52);       // RES0 [62:52]
  EXPECT_EQ((CollectionTableEntry{false, 0, 0, 0x400}.encode()), 1ull << 62);
  EXPECT_EQ((InterruptTableEntry{0xffff, 0, 0}.encode()), ite(0xffff, 0, 0));
  EXPECT_EQ((InterruptTableEntry{0, 0xffffffff, 0}.encode()), ite(0, 0xffffffff, 0));
  EXPECT_EQ((InterruptTableEntry{1, 8192, 0xffff}.encode()), ite(1, 8192, 0xffff));
  EXPECT_FALSE(InterruptTableEntry::decode(ite(3, 0, 5)).valid());  // pINTID 0: not valid
  // Next as KVM computes it: the ID distance, capped at the field's maximum; 0 for the last.
  EXPECT_EQ(its_abi::next_offset<ITS_DTE::Next>(5, 9, false), 4u);
  EXPECT_EQ(its_abi::next_offset<ITS_DTE::Next>(0, 16383, false), 16383u);
  EXPECT_EQ(its_abi::next_offset<ITS_DTE::Next>(0, 20000, false), 16383u);
  EXPECT_EQ(its_abi::next_offset<ITS_ITE::Next>(0, 70000, false), 65535u);
  EXPECT_EQ(its_abi::next_offset<ITS_ITE::Next>(7, 0, true), 0u);
}

// --- SAVE: golden tables ---------------------------------------------------------------------------

uint64_t itt_bytes(unsigned event_bits) { return (uint64_t(1) << event_bits) * 8; }

TEST(ItsAbiSave, FlatTablesAreTheDocumentedEntriesByteForByte) {
  ItsHarness h(Guest::config(2), ItsOptions{.table_pages = 4});  // 4 x 64 KiB: 32768 IDs each
  ItsDriver& its = h.its;
  GuestRam& ram = h.ram;
  // Stale bytes everywhere SAVE writes: none may survive.
  std::memset(ram.host(its.device_table()), 0xA5, 4 * 65536);
  std::memset(ram.host(its.collection_table()), 0xA5, 4 * 65536);
  its.mapc(0, 0);
  its.mapc(3, 1);
  its.mapc(5, 0);
  its.mapc(9, 1);
  its.mapc(9, 0, false);  // unmapped again: no CTE
  const std::pair<uint32_t, unsigned> devices[] = {{1, 3}, {2, 1}, {7, 2}, {40, 5}, {20000, 2}};
  for (auto [dev, bits] : devices) {
    its.mapd(dev, bits);
    std::memset(ram.host(its.itt(dev)), 0x5A, itt_bytes(bits));
  }
  its.mapd(7, 2, false);  // unmapped: DTE 0
  its.mapti(1, 0, 8192, 0);
  its.mapti(1, 3, 8200, 3);
  its.mapti(1, 5, 8301, 5);
  its.discard(1, 5);  // ITE 0
  its.mapti(1, 7, 8300, 5);
  its.mapti(2, 1, 8193, 7);  // collection 7 is never mapped: saved as KVM does (RDBase 0xFFFFFFFF)
  its.mapti(20000, 2, 9000, 3);
  const uint64_t errors = h.g.guest_errors();
  ASSERT_EQ(save_tables(h.g), 0) << vgic_last_error();
  EXPECT_EQ(h.g.guest_errors(), errors);

  std::vector<uint64_t> dt(4 * 8192, 0);
  dt[1] = dte(1, its.itt(1), 2);
  dt[2] = dte(38, its.itt(2), 0);
  dt[40] = dte(16383, its.itt(40), 4);  // 19960 IDs to the next: capped at 2^14 - 1
  dt[20000] = dte(0, its.itt(20000), 1);
  expect_entries(ram, its.device_table(), dt, "device table");
  std::vector<uint64_t> ct(4 * 8192, 0);  // a list, ascending ICIDs here, then invalid entries
  ct[0] = cte(0, 0);
  ct[1] = cte(1, 3);
  ct[2] = cte(0, 5);
  ct[3] = cte(0xFFFFFFFF, 7);
  expect_entries(ram, its.collection_table(), ct, "collection table");
  expect_entries(ram, its.itt(1), {ite(3, 8192, 0), 0, 0, ite(4, 8200, 3), 0, 0, 0, ite(0, 8300, 5)}, "ITT 1");
  expect_entries(ram, its.itt(2), {0, ite(0, 8193, 7)}, "ITT 2");
  expect_entries(ram, its.itt(40), std::vector<uint64_t>(32, 0), "ITT 40");
  expect_entries(ram, its.itt(20000), {0, 0, ite(0, 9000, 3), 0}, "ITT 20000");
}

TEST(ItsAbiSave, TwoLevelTablesAreTheDocumentedEntriesByteForByte) {
  ItsHarness h(Guest::config(2), ItsOptions{.page_size = 4096, .indirect_devices = true, .indirect_collections = true});
  ItsDriver& its = h.its;
  GuestRam& ram = h.ram;
  const uint64_t ids_per_page = 4096 / 8;
  its.mapd(3, 2);
  its.mapd(700, 1);     // level-2 page 1
  its.mapd(5000, 4);    // level-2 page 9
  its.mapd(1500, 1);    // level-2 page 2, unmapped again: a valid page without a valid DTE
  its.mapd(1500, 1, false);
  its.mapc(1, 0);
  its.mapc(600, 1);     // collection level-2 page 1
  its.mapti(3, 1, 8192, 600);
  its.mapti(700, 0, 8193, 1);
  its.mapti(5000, 15, 8194, 1);
  auto l2 = [&](uint64_t table, uint64_t id) {
    const uint64_t l1 = ram.read64(table + id / ids_per_page * 8);
    EXPECT_TRUE(l1 >> 63) << "level-1 entry of ID " << id;
    return l1 & 0x000ffffffffff000ull;
  };
  for (uint64_t id : {3u, 700u, 1500u, 5000u}) std::memset(ram.host(l2(its.device_table(), id)), 0xA5, 4096);
  for (uint64_t id : {1u, 600u}) std::memset(ram.host(l2(its.collection_table(), id)), 0xA5, 4096);
  std::vector<uint8_t> l1_dev(ram.host(its.device_table()), ram.host(its.device_table()) + 4096);
  std::vector<uint8_t> l1_coll(ram.host(its.collection_table()), ram.host(its.collection_table()) + 4096);
  ASSERT_EQ(save_tables(h.g), 0) << vgic_last_error();

  EXPECT_EQ(std::memcmp(l1_dev.data(), ram.host(its.device_table()), 4096), 0) << "level-1 tables are the guest's";
  EXPECT_EQ(std::memcmp(l1_coll.data(), ram.host(its.collection_table()), 4096), 0);
  std::vector<uint64_t> page(ids_per_page, 0);
  page[3] = dte(697, its.itt(3), 1);
  expect_entries(ram, l2(its.device_table(), 3), page, "device page 0");
  page.assign(ids_per_page, 0);
  page[700 - 512] = dte(4300, its.itt(700), 0);
  expect_entries(ram, l2(its.device_table(), 700), page, "device page 1");
  expect_entries(ram, l2(its.device_table(), 1500), std::vector<uint64_t>(ids_per_page, 0), "device page 2");
  page.assign(ids_per_page, 0);
  page[5000 - 9 * 512] = dte(0, its.itt(5000), 3);
  expect_entries(ram, l2(its.device_table(), 5000), page, "device page 9");
  page.assign(ids_per_page, 0);  // the collection list fills the first valid page first
  page[0] = cte(0, 1);
  page[1] = cte(1, 600);
  expect_entries(ram, l2(its.collection_table(), 1), page, "collection page 0");
  expect_entries(ram, l2(its.collection_table(), 600), std::vector<uint64_t>(ids_per_page, 0), "collection page 1");
  expect_entries(ram, its.itt(3), {0, ite(0, 8192, 600), 0, 0}, "ITT 3");
  expect_entries(ram, its.itt(700), {ite(0, 8193, 1), 0}, "ITT 700");
  std::vector<uint64_t> itt(16, 0);
  itt[15] = ite(0, 8194, 1);
  expect_entries(ram, its.itt(5000), itt, "ITT 5000");
}

TEST(ItsAbiSave, NextChainsCapAtTheFieldMaximum) {
  vgic_config cfg = Guest::config(1);
  cfg.its[0].event_id_bits = 17;  // EventIDs 0 and 70000 in one ITT
  ItsHarness h(cfg, ItsOptions{}, 8ull << 20);
  h.its.mapc(0, 0);
  h.its.mapd(9, 17);
  for (uint32_t ev : {0u, 65535u, 70000u, 70001u}) h.its.mapti(9, ev, 8192 + ev % 1000, 0);
  ASSERT_EQ(save_tables(h.g), 0) << vgic_last_error();
  const uint64_t itt = h.its.itt(9);
  EXPECT_EQ(h.ram.read64(itt), ite(65535, 8192, 0));
  EXPECT_EQ(h.ram.read64(itt + 65535 * 8), ite(4465, 8192 + 535, 0));
  EXPECT_EQ(h.ram.read64(itt + 70000 * 8), ite(1, 8192 + 0, 0));
  EXPECT_EQ(h.ram.read64(itt + 70001 * 8), ite(0, 8193, 0));
}

// --- SAVE: what the guest's tables can no longer represent -----------------------------------------

struct SkipTrace {
  std::vector<std::pair<std::string, uint64_t>> events;  // (kind, offset)
  static void record(void* self, const vgic_trace_event* ev) {
    static_cast<SkipTrace*>(self)->events.emplace_back(ev->kind, ev->offset);
  }
  unsigned count(const char* kind, uint64_t offset) const {
    unsigned n = 0;
    for (auto& [k, o] : events) n += k == kind && o == offset;
    return n;
  }
};

TEST(ItsAbiSave, AShrunkDeviceTableOrAnItTOutsideRamIsReportedAndTheRestSaved) {
  ItsHarness h(Guest::config(1), ItsOptions{.table_pages = 2});  // 2 x 64 KiB: DeviceIDs 0..16383
  ItsDriver& its = h.its;
  SkipTrace trace;
  vgic_set_trace_sink(h.g.gic(), &SkipTrace::record, &trace, 1000);
  its.mapc(0, 0);
  its.mapd(5, 2);
  its.mapd(9000, 2);
  its.send(MapdCommand{DeviceId(11), 1, 0x10000000, true}.encode());  // ITT outside guest RAM
  its.mapti(5, 1, 8192, 0);
  its.mapti(9000, 1, 8193, 0);
  its.mapti(11, 0, 8194, 0);
  its.lpi_config(8192, 0x40, true);
  its.invall(0);
  // The guest shrinks its device table to one page (DeviceIDs 0..8191), with the ITS disabled.
  its.gits_write(GITS_CTLR, 0, 4);
  its.gits_write(GITS_BASER, its.gits_read(GITS_BASER) & ~0xffull);
  its.gits_write(GITS_CTLR, 1, 4);
  EXPECT_EQ(its.msi(9000, 1), 1);  // still translated: vgic keeps its translations in host structures
  const uint64_t errors = h.g.guest_errors();
  ASSERT_EQ(save_tables(h.g), 0) << vgic_last_error();  // the guest cannot block its migration
  EXPECT_EQ(h.g.guest_errors(), errors + 2);
  EXPECT_EQ(trace.count("its-save-skipped", 9000), 1u);
  EXPECT_EQ(trace.count("its-save-skipped", 11), 1u);
  std::vector<uint64_t> dt(8192, 0);
  dt[5] = dte(0, its.itt(5), 1);  // the chain links what was saved
  expect_entries(h.ram, its.device_table(), dt, "device table");

  // What was saved restores; what was skipped is gone.
  Destination d(h.g.cfg(), h.ram);
  ASSERT_NO_FATAL_FAILURE(restore_gic(h.g, d.g));
  ASSERT_NO_FATAL_FAILURE(restore_its_registers(h.g, d.g));
  ASSERT_EQ(restore_tables(d.g), 0) << vgic_last_error();
  ASSERT_NO_FATAL_FAILURE(restore_its_ctlr(h.g, d.g));
  EXPECT_EQ(d.msi(5, 1), 1);
  EXPECT_EQ(d.g.ack1(0), 8192u);
  EXPECT_EQ(d.msi(9000, 1), 0);
  EXPECT_EQ(d.msi(11, 0), 0);
}

TEST(ItsAbiSave, ADroppedLevel2PageOrAShrunkCollectionTableIsReportedAndTheRestSaved) {
  ItsHarness h(Guest::config(2), ItsOptions{.page_size = 4096, .indirect_devices = true, .indirect_collections = true});
  ItsDriver& its = h.its;
  SkipTrace trace;
  vgic_set_trace_sink(h.g.gic(), &SkipTrace::record, &trace, 1000);
  its.mapc(1, 0);
  its.mapc(600, 1);  // collection level-2 page 1
  its.mapd(3, 2);
  its.mapd(700, 2);  // device level-2 page 1
  its.mapti(3, 0, 8192, 1);
  its.mapti(3, 1, 8193, 600);
  its.mapti(700, 0, 8194, 1);
  // The guest drops both level-2 pages 1 (clears the level-1 entries' Valid bit).
  const uint64_t dev_l1 = its.device_table() + 8, coll_l1 = its.collection_table() + 8;
  h.ram.write64(dev_l1, h.ram.read64(dev_l1) & ~(1ull << 63));
  h.ram.write64(coll_l1, h.ram.read64(coll_l1) & ~(1ull << 63));
  const uint64_t errors = h.g.guest_errors();
  ASSERT_EQ(save_tables(h.g), 0) << vgic_last_error();
  // DeviceID 700; EventID 1 of device 3 (its ICID 600); collection 600.
  EXPECT_EQ(h.g.guest_errors(), errors + 3);
  EXPECT_EQ(trace.count("its-save-skipped", 700), 1u);
  EXPECT_EQ(trace.count("its-save-skipped", 3), 1u);
  EXPECT_EQ(trace.count("its-save-skipped", 600), 1u);
  const uint64_t page0 = h.ram.read64(its.device_table()) & 0x000ffffffffff000ull;
  EXPECT_EQ(h.ram.read64(page0 + 3 * 8), dte(0, its.itt(3), 1));
  expect_entries(h.ram, its.itt(3), {ite(0, 8192, 1), 0, 0, 0}, "ITT 3");

  Destination d(h.g.cfg(), h.ram);
  ASSERT_NO_FATAL_FAILURE(restore_gic(h.g, d.g));
  ASSERT_NO_FATAL_FAILURE(restore_its_registers(h.g, d.g));
  ASSERT_EQ(restore_tables(d.g), 0) << vgic_last_error();
  ASSERT_NO_FATAL_FAILURE(restore_its_ctlr(h.g, d.g));
  EXPECT_EQ(d.msi(3, 0), 1);
  EXPECT_EQ(d.msi(3, 1), 0);
  EXPECT_EQ(d.msi(700, 0), 0);
}

}  // namespace

namespace {

// GITS_TYPER.Devbits bounds the device table: a level-1 entry beyond the DeviceID range is never
// read, so it neither costs a scan of a huge level-1 table nor claims guest memory (here: the page
// holding a device's ITT, which would otherwise make SAVE skip that device).
TEST(ItsAbiSave, LevelOneEntriesBeyondTheDeviceIdRangeAreNotRead) {
  vgic_config cfg = Guest::config(1);
  cfg.its[0].device_id_bits = 10;  // DeviceIDs 0..1023: level-1 entries 0 and 1 with 4 KiB pages
  ItsHarness h(cfg, ItsOptions{.page_size = 4096, .indirect_devices = true});
  ItsDriver& its = h.its;
  its.mapc(0, 0);
  its.mapd(1, 2);
  its.mapti(1, 0, 8192, 0);
  its.lpi_config(8192, 0x40, true);
  its.invall(0);
  // Level-1 entry 5 (DeviceIDs 2560..3071, out of range) is valid and points at device 1's ITT.
  h.ram.write64(its.device_table() + 5 * 8, uint64_t(1) << 63 | (its.itt(1) & ~0xfffull));
  const uint64_t errors = h.g.guest_errors();
  ASSERT_EQ(save_tables(h.g), 0) << vgic_last_error();
  EXPECT_EQ(h.g.guest_errors(), errors) << "device 1 was skipped";
  Destination d(h.g.cfg(), h.ram);
  ASSERT_NO_FATAL_FAILURE(restore_gic(h.g, d.g));
  ASSERT_NO_FATAL_FAILURE(restore_its_registers(h.g, d.g));
  ASSERT_EQ(restore_tables(d.g), 0) << vgic_last_error();
  ASSERT_NO_FATAL_FAILURE(restore_its_ctlr(h.g, d.g));
  EXPECT_EQ(d.msi(1, 0), 1);
  EXPECT_EQ(d.g.ack1(0), 8192u);
}

}  // namespace
