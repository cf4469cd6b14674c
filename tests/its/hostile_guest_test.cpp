// A guest that attacks the ITS: garbage tables and queues, thousands of random commands while
// MSIs arrive, tables outside guest RAM, exhausting the host memory budget, huge IDs. vgic must
// stay within bounded work and memory, never crash, and account for every command: each one is
// either done or an error that is counted (and, with GITS_TYPER.SEIS, reported).
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "its/its.hpp"
#include "support/its_driver.hpp"

using namespace test;
using namespace gicv3;

namespace {

constexpr uint32_t CTLR = 0x0, BASER = 0x100, CBASER = 0x80, CWRITER = 0x88;
constexpr uint32_t GICR_PROPBASER = 0x70, GICR_PENDBASER = 0x78;
constexpr uint64_t kPaMask = 0x0000'FFFF'FFFF'F000ull;

vgic_config hostile_cfg(int policy, unsigned cpus = 2) {
  vgic_config c = Guest::config(cpus);
  c.its[0].error_policy = policy;
  c.its[0].seis = 1;
  return c;
}

// A command that is plausible (a real opcode, small IDs; MAPD and MAPTI more often) 3 times in 4,
// else random words.
RawCommand random_command(std::mt19937_64& rng) {
  static constexpr uint8_t kOps[] = {0x08, 0x08, 0x0A, 0x0A, 0x0A, 0x09, 0x0B, 0x03, 0x04, 0x0C,
                                     0x0D, 0x05, 0x01, 0x0E, 0x0F, 0x02, 0x20};
  if (rng() % 4 == 0) return {rng(), rng(), rng(), rng()};
  const uint8_t op = kOps[rng() % std::size(kOps)];
  const uint32_t dev = uint32_t(rng() % 16), ev = uint32_t(rng() % 16), icid = uint32_t(rng() % 8);
  const uint64_t itt = (rng() & 1 ? 0x40000000 + (rng() % (4 << 20)) : rng()) & 0x000F'FFFF'FFFF'FF00ull;
  switch (op) {
    case 0x08: return MapdCommand{DeviceId(dev), uint8_t(rng() % 2 ? 4 + rng() % 4 : 13), itt, rng() % 8 != 0}.encode();
    case 0x09: return MapcCommand{CollectionId(icid), rng() % 3, rng() % 8 != 0}.encode();
    case 0x0A:
    case 0x0B:
      return MaptiCommand{op, DeviceId(dev), EventId(op == 0x0B ? 8192 + ev : ev), uint32_t(8180 + rng() % 3000),
                          CollectionId(icid)}.encode();
    case 0x01: return MoviCommand{DeviceId(dev), EventId(ev), CollectionId(icid)}.encode();
    case 0x0D: return InvallCommand{CollectionId(icid)}.encode();
    case 0x05: return SyncCommand{rng() % 3}.encode();
    case 0x0E: return MovallCommand{rng() % 3, rng() % 3}.encode();
    default: return EventCommand{op, DeviceId(dev), EventId(ev)}.encode();
  }
}

void fill_garbage(GuestRam& ram, uint64_t gpa, uint64_t bytes, std::mt19937_64& rng) {
  for (uint64_t a = gpa; a < gpa + bytes; a += 8) ram.write64(a, rng());
}

// Acknowledges whatever is pending on every CPU (bounded).
void drain(Guest& g) {
  for (unsigned c = 0; c < g.cfg().nr_cpus; ++c)
    for (int i = 0; i < 256; ++i) {
      const uint32_t id = g.ack1(c);
      if (id == kSpurious) break;
      g.eoi1(c, id);
    }
}

class HostileGuest : public ::testing::TestWithParam<int> {};

}  // namespace

// (a) Garbage in the device, collection and level-1 tables and in the command queue, thousands of
// random commands, and random MSIs from another thread.
TEST_P(HostileGuest, RandomCommandsOnGarbageTablesWhileMsisArrive) {
  const bool stall = GetParam() == VGIC_ITS_ERRORS_STALL;
  ItsOptions o;
  o.page_size = 4096;
  o.indirect_devices = o.indirect_collections = true;
  o.table_pages = 2;
  o.queue_pages = 2;
  ItsHarness h(hostile_cfg(GetParam()), o);
  std::mt19937_64 rng(stall ? 7 : 3);
  fill_garbage(h.ram, h.its.device_table(), 2 * 4096, rng);
  fill_garbage(h.ram, h.its.collection_table(), 2 * 4096, rng);
  fill_garbage(h.ram, h.its.queue(), h.its.queue_bytes(), rng);
  // Level-1 entry 0 of each table is sane, so that the plausible commands on small IDs can succeed.
  h.ram.write64(h.its.device_table(), h.ram.alloc(4096, 4096) | 1ull << 63);
  h.ram.write64(h.its.collection_table(), h.ram.alloc(4096, 4096) | 1ull << 63);
  for (uint32_t intid = 8192; intid < 8192 + 3000; ++intid) h.its.lpi_config(intid, 0x80, true);
  const uint64_t errors0 = h.g.guest_errors();

  std::atomic<bool> stop{false};
  std::atomic<unsigned> msis{0};
  std::thread devices([&] {
    std::mt19937 r(11);
    while (!stop.load(std::memory_order_relaxed) && msis.load(std::memory_order_relaxed) < 200000) {
      const uint32_t dev = uint32_t(r() % 8 == 0 ? r() : r() % 16), ev = uint32_t(r() % 8 == 0 ? r() : r() % 16);
      const int ret = h.its.msi(dev, ev);
      EXPECT_TRUE(ret == 0 || ret == 1) << ret;
      msis.fetch_add(1, std::memory_order_relaxed);
    }
  });
  unsigned sent = 0, stalls = 0;
  while (sent < 3000) {
    const unsigned batch = 1 + unsigned(rng() % 40);
    for (unsigned i = 0; i < batch; ++i) h.its.enqueue(random_command(rng));
    sent += batch;
    if (!stall && rng() % 16 == 0) {
      // GITS_CWRITER at a random slot: stale garbage in the queue runs (at most one lap).
      h.its.gits_write(CWRITER, (rng() % (h.its.queue_bytes() / 32)) * 32);
      EXPECT_EQ(h.its.creadr() & 1, 0u);
    }
    h.its.flush();
    // Stalled on a bad command: the guest overwrites it with a SYNC and retries (bounded: each
    // retry gets past at least one command).
    for (unsigned n = 0; h.its.stalled() && n <= batch + h.its.queue_bytes() / 32; ++n, ++stalls) {
      h.ram.write64(h.its.queue() + (h.its.creadr() & ~1ull), 0x05);
      for (unsigned w = 1; w < 4; ++w) h.ram.write64(h.its.queue() + (h.its.creadr() & ~1ull) + 8 * w, 0);
      h.its.retry();
    }
    ASSERT_EQ(h.its.creadr(), h.its.cwriter()) << "every command processed after " << sent;
    if (rng() % 8 == 0) drain(h.g);
  }
  stop = true;
  devices.join();
  drain(h.g);
  const size_t reported = h.sei_codes().size();
  EXPECT_GT(reported, 100u) << "garbage produces errors";
  EXPECT_EQ(h.g.guest_errors() - errors0, reported) << "every command error counted once, nothing else";
  if (stall) {
    EXPECT_GT(stalls, 0u);
  }
  for (uint32_t code : h.sei_codes()) EXPECT_EQ(code >> 16, 1u) << std::hex << code;
}

INSTANTIATE_TEST_SUITE_P(Policies, HostileGuest, ::testing::Values(VGIC_ITS_ERRORS_SKIP, VGIC_ITS_ERRORS_STALL),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return std::string(i.param == VGIC_ITS_ERRORS_SKIP ? "Skip" : "Stall");
                         });

// (b) Every guest-provided address outside guest RAM.
TEST(HostileGuestMemory, TablesIttsQueueAndLpiTablesOutsideRam) {
  ItsOptions o;
  o.indirect_collections = true;
  ItsHarness h(hostile_cfg(VGIC_ITS_ERRORS_SKIP), o);
  // CPU 1: LPI configuration and pending tables that are not RAM (near the top of the 52-bit space).
  h.g.gicr_write(1, gicr::CTLR, 0);
  h.g.gicr_write(1, GICR_PROPBASER, 0x000F'FFFF'FFFF'0000ull | 15, 8);
  h.g.gicr_write(1, GICR_PENDBASER, 0x000F'FFFF'FFFF'0000ull, 8);
  uint64_t errors = h.g.guest_errors();
  h.g.gicr_write(1, gicr::CTLR, 1);
  EXPECT_EQ(h.g.guest_errors(), ++errors) << "pending table unreadable: counted";
  // Flat device table and ITT outside RAM: vgic keeps translations in host memory.
  h.its.gits_write(CTLR, 0, 4);
  h.its.gits_write(BASER, (h.its.gits_read(BASER) & ~kPaMask) | 0x20000000);
  h.its.gits_write(CTLR, 1, 4);
  h.its.mapc(0, 0);
  h.its.mapc(1, 1);
  h.its.send(MapdCommand{DeviceId(1), 3, 0x000F'FFFF'FFFF'FF00ull, true}.encode());
  h.its.mapti(1, 0, 8192, 1);
  h.its.mapti(1, 1, 8193, 0);
  h.its.lpi_config(8193, 0xa0, true);
  h.its.inv(1, 0);
  h.its.inv(1, 1);
  h.its.invall(1);
  EXPECT_EQ(h.its.creadr(), h.its.cwriter());
  // CPU 1's LPI becomes pending, but configuration vgic cannot read counts as "disabled"
  // (gic/lpi_delivery.cpp), so it is not signalled.
  EXPECT_EQ(h.its.msi(1, 0), 1);
  EXPECT_FALSE(h.g.irq(1));
  EXPECT_EQ(h.its.msi(1, 1), 1);
  EXPECT_EQ(h.g.ack1(0), 8193u) << "CPU 0 is unaffected";
  h.g.eoi1(0, 8193);
  errors = h.g.guest_errors();
  h.g.gicr_write(1, gicr::CTLR, 0);
  EXPECT_EQ(h.g.guest_errors(), errors + 1) << "pending-table write-back failed: counted";
  // Indirect collection table whose level-1 table is not RAM: MAPC cannot be checked (0x0109E0).
  h.its.gits_write(CTLR, 0, 4);
  h.its.gits_write(BASER + 8, (h.its.gits_read(BASER + 8) & ~kPaMask) | 0x000F'FFFF'FFFF'0000ull);
  h.its.gits_write(CTLR, 1, 4);
  h.its.send(MapcCommand{CollectionId(3), 0, true}.encode());
  EXPECT_EQ(h.sei_codes(), std::vector<uint32_t>{0x0109E0});
  // The command queue in the last page of the physical address space.
  h.its.gits_write(CTLR, 0, 4);
  h.its.gits_write(CBASER, 1ull << 63 | 0x000F'FFFF'FFFF'F000ull);
  h.its.gits_write(CTLR, 1, 4);
  h.its.gits_write(CWRITER, 0xFE0);
  EXPECT_EQ(h.its.creadr(), 0xFE0u) << "skipped up to GITS_CWRITER";
  EXPECT_EQ(h.sei_codes().size(), 1u + 0xFE0 / 32);
  EXPECT_EQ(h.sei_codes().back(), 0x0100E0u);
}

// (c) Mapping as many devices and events as possible with a 1 MiB host budget.
TEST(HostileGuestMemory, HostBudgetExhaustionIsACommandErrorNotGrowth) {
  vgic_config cfg = hostile_cfg(VGIC_ITS_ERRORS_SKIP, 1);
  cfg.max_host_memory = 1 << 20;
  ItsOptions o;
  o.table_pages = 8;  // 64 KiB pages: 65536 DeviceIDs
  ItsHarness h(cfg, o);
  h.its.mapc(0, 0);
  h.its.mapd(0, 4);
  h.its.mapti(0, 0, 8192, 0);  // a canary, delivered before the budget runs out
  h.its.mapti(0, 1, 30000, 0);  // an LPI whose state on CPU 0 does not exist yet
  h.its.lpi_config(8192, 0xa0, true);
  h.its.lpi_config(30000, 0xa0, true);
  h.its.inv(0, 0);
  EXPECT_EQ(h.its.msi(0, 0), 1);
  h.g.eoi1(0, h.g.ack1(0));
  ASSERT_TRUE(h.sei_codes().empty());

  size_t devices = 0, chunks = 0;
  uint32_t dev = 1;
  for (; dev < 65536 && h.sei_codes().size() < 8; ++dev) {
    size_t before = h.sei_codes().size();
    h.its.send(MapdCommand{DeviceId(dev), 7, 0x40000000, true}.encode());
    if (h.sei_codes().size() != before) continue;
    ++devices;
    h.its.send(MaptiCommand{its_cmd::MAPTI, DeviceId(dev), EventId(0), 8192 + dev % 1000, CollectionId(0)}.encode());
    if (h.sei_codes().size() == before) ++chunks;
  }
  ASSERT_GE(h.sei_codes().size(), 8u) << "the budget never ran out after " << dev << " devices";
  for (uint32_t code : h.sei_codes())
    EXPECT_TRUE(code == 0x0108E1 || code == 0x010AE1) << std::hex << code << ": only budget errors";
  // What the ITS allocated for the guest stayed within the budget.
  const size_t used = devices * Its::Device::device_cost() + chunks * Its::Device::chunk_cost();
  EXPECT_LE(used, size_t(1) << 20);
  EXPECT_GT(devices, 100u) << "the budget is not absurdly small";
  // Existing state keeps working; new LPI state cannot be allocated (a counted guest error).
  EXPECT_EQ(h.its.msi(0, 0), 1);
  EXPECT_EQ(h.g.ack1(0), 8192u);
  h.g.eoi1(0, 8192);
  const uint64_t errors = h.g.guest_errors();
  EXPECT_EQ(h.its.msi(0, 1), 0);
  EXPECT_EQ(h.g.guest_errors(), errors + 1);
  // Unmapping devices gives the budget back: mapping works again.
  for (uint32_t d = 1; d < 40; ++d) h.its.send(MapdCommand{DeviceId(d), 7, 0, false}.encode());
  const size_t before = h.sei_codes().size();
  h.its.send(MapdCommand{DeviceId(dev), 7, 0x40000000, true}.encode());
  h.its.send(MaptiCommand{its_cmd::MAPTI, DeviceId(dev), EventId(0), 8200, CollectionId(0)}.encode());
  EXPECT_EQ(h.sei_codes().size(), before);
}

// (d) MSIs and commands with the largest DeviceIDs and EventIDs.
TEST(HostileGuestIds, HugeDeviceAndEventIds) {
  {
    ItsHarness h(hostile_cfg(VGIC_ITS_ERRORS_SKIP));  // 16-bit IDs
    h.its.mapc(0, 0);
    h.its.mapd(0xFFFF, 16);
    for (uint32_t dev : {0xFFFFFFFFu, 0x10000u, 0xFFFFu, 0x80000000u})
      for (uint32_t ev : {0xFFFFFFFFu, 0x10000u, 0xFFFFu, 0u}) EXPECT_EQ(h.its.msi(dev, ev), 0) << dev << "/" << ev;
    EXPECT_EQ(vgic_mmio_write(h.g.gic(), h.its.its_base() + 0x10040, 4, 0xFFFFFFFF), 0);
    EXPECT_EQ(h.g.ack1(0), kSpurious);
  }
  // 32-bit DeviceIDs and EventIDs: the extremes translate, their neighbours do not.
  vgic_config cfg = hostile_cfg(VGIC_ITS_ERRORS_SKIP);
  cfg.its[0].device_id_bits = cfg.its[0].event_id_bits = 32;
  ItsOptions o;
  o.indirect_devices = true;
  o.table_pages = 64;  // 64 pages of 8-byte level-1 entries x 8192 DeviceIDs each = 2^32
  ItsHarness h(cfg, o, 12ull << 20);  // both tables are 4 MiB
  const uint64_t l1 = h.its.device_table() + (0xFFFFFFFFull / 8192) * 8;
  h.ram.write64(l1, h.ram.alloc(65536, 65536) | 1ull << 63);
  h.its.mapc(0, 0);
  h.its.send(MapdCommand{DeviceId(0xFFFFFFFF), 31, h.ram.alloc(4096, 256), true}.encode());  // Size 31: 32 bits
  h.its.mapti(0xFFFFFFFF, 0xFFFFFFFF, 8192, 0);
  h.its.mapti(0xFFFFFFFF, 0, 8193, 0);
  h.its.lpi_config(8192, 0xa0, true);
  h.its.lpi_config(8193, 0xa0, true);
  h.its.invall(0);
  EXPECT_TRUE(h.sei_codes().empty());
  EXPECT_EQ(h.its.msi(0xFFFFFFFF, 0xFFFFFFFE), 0);
  EXPECT_EQ(h.its.msi(0xFFFFFFFE, 0xFFFFFFFF), 0);
  EXPECT_EQ(h.its.msi(0xFFFFFFFF, 0xFFFFFFFF), 1);
  EXPECT_EQ(h.g.ack1(0), 8192u);
  h.g.eoi1(0, 8192);
  EXPECT_EQ(h.its.msi(0xFFFFFFFF, 0), 1);
  EXPECT_EQ(h.g.ack1(0), 8193u);
  h.g.eoi1(0, 8193);
  h.its.discard(0xFFFFFFFF, 0xFFFFFFFF);
  EXPECT_EQ(h.its.msi(0xFFFFFFFF, 0xFFFFFFFF), 0);
  EXPECT_TRUE(h.sei_codes().empty());
}
