// Regression tests for the bug classes other ITS implementations shipped (issue 8). Each test names
// the class; the ones already covered elsewhere are listed here so the set is complete:
//   - off-by-one bounds on RDbase, DeviceID, EventID, ICID in commands: ItsCommandError.* in
//     its_commands_test.cpp (every bound next to its largest valid value); the MSI path: below.
//   - GICR_INVLPIR (and SETLPIR) with an INTID below 8192: DirectLpi.IntidsBelow8192AreIgnored.
//   - an unknown command: ItsCommandError.*UnknownOpcode*; the queue goes on: below.
//   - read-only registers: GitsRegisters / GicrTyper / KvmDeviceRegs; one sweep over every frame below.
// Threads here only race; no assertion depends on timing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "support/its_driver.hpp"
#include "support/its_migration.hpp"

using namespace test;
using namespace gicv3;

namespace {

vgic_config two_cpus(unsigned cache_entries = 1024, int policy = VGIC_ITS_ERRORS_SKIP) {
  vgic_config c = Guest::config(2);
  c.its[0].seis = 1;
  c.its[0].cache_entries = cache_entries;
  c.its[0].error_policy = policy;
  return c;
}

// Acknowledges and ends everything deliverable on cpu; returns the INTIDs.
std::vector<uint32_t> drain(Guest& g, unsigned cpu) { return migration::drain(g, cpu); }

// A thread that signals MSIs in a loop until stopped, counting those that were made pending.
class Hammer {
 public:
  Hammer(ItsDriver& its, std::vector<std::pair<uint32_t, uint32_t>> targets) : its_(its), targets_(std::move(targets)) {
    t_ = std::thread([this] {
      for (size_t i = 0; !stop_.load(std::memory_order_relaxed); ++i) {
        const auto& [dev, ev] = targets_[i % targets_.size()];
        if (its_.msi(dev, ev) == 1) hits_.fetch_add(1, std::memory_order_relaxed);
        attempts_.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  ~Hammer() { stop(); }
  void stop() {
    stop_ = true;
    if (t_.joinable()) t_.join();
  }
  // Waits (bounded) until n more MSIs were made pending: the racing path is really exercised.
  bool wait_hits(uint64_t n) {
    const uint64_t target = hits_.load() + n;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (hits_.load() < target)
      if (std::chrono::steady_clock::now() > deadline) return false;
      else std::this_thread::yield();
    return true;
  }
  // Waits (bounded) until n more MSIs were attempted, whatever their outcome.
  bool wait_attempts(uint64_t n) {
    const uint64_t target = attempts_.load() + n;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (attempts_.load() < target)
      if (std::chrono::steady_clock::now() > deadline) return false;
      else std::this_thread::yield();
    return true;
  }

 private:
  ItsDriver& its_;
  std::vector<std::pair<uint32_t, uint32_t>> targets_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> hits_{0}, attempts_{0};
  std::thread t_;
};

}  // namespace

// CVE-2024-26598 (KVM): a translation-cache hit used an LPI that a concurrent DISCARD had freed.
// Here: MSIs hit the cache for (1, 0) while the guest DISCARDs it, unmaps the device and maps the
// event again to another LPI. Once DISCARD / MAPD V=0 completed, no MSI may still translate (a
// stale cache entry would); after DISCARD the LPI is not pending (IHI0069 5.3 DISCARD removes the
// pending state), after MAPD V=0 it may still be pending once (docs/spec-deviations.md row 84), and
// MSIs racing on afterwards never make it pending again. Under ASan a freed translation used by
// the hit path is a use-after-free report.
TEST(ItsRegression, CacheHitRacingDiscardAndUnmap) {
  ItsHarness h(two_cpus(/*cache_entries=*/4));
  h.its.mapc(0, 0);
  for (uint32_t l = 8192; l < 8192 + 64; ++l) h.its.lpi_config(l, 0xa0, true);
  h.its.invall(0);
  h.its.mapd(1, 2);
  Hammer hammer(h.its, {{1, 0}});
  for (uint32_t round = 0; round < 100; ++round) {
    const uint32_t lpi = 8192 + round % 64;
    h.its.mapti(1, 0, lpi, 0);
    ASSERT_TRUE(hammer.wait_hits(2)) << "round " << round << ": the mapped event never translated";
    if (round % 2 == 0) {
      h.its.discard(1, 0);
    } else {
      h.its.mapd(1, 2, false);  // unmap the whole device (its ITT state is freed) ...
      h.its.mapd(1, 2);         // ... and map it again, empty
    }
    EXPECT_EQ(h.its.msi(1, 0), 0) << "round " << round << ": a translation survived its removal";
    const auto seen = drain(h.g, 0);
    if (round % 2 == 0) {
      EXPECT_TRUE(seen.empty()) << "round " << round << ": LPI " << seen[0] << " pending after its DISCARD";
    } else {
      EXPECT_TRUE(seen.empty() || seen == std::vector<uint32_t>{lpi}) << "round " << round;
    }
    ASSERT_TRUE(hammer.wait_attempts(50));
    EXPECT_TRUE(drain(h.g, 0).empty()) << "round " << round << ": an MSI after the removal was translated";
  }
  hammer.stop();
  EXPECT_TRUE(h.sei_codes().empty());
}

// Cache invalidation from GITS_CTLR (Enabled 1 -> 0) and GICR_CTLR (EnableLPIs 1 -> 0) racing
// translations on the lock-free path: once the write returned, an MSI is refused (IHI0069 12.19.5:
// a disabled ITS does not translate; 12.11.2: LPIs of a redistributor with EnableLPIs 0 are not
// signalled), and after re-enabling the same MSIs translate again to the same LPIs.
TEST(ItsRegression, ItsAndRedistributorDisableRacingTranslation) {
  ItsHarness h(two_cpus());
  h.its.mapc(0, 0);
  h.its.mapc(1, 1);
  h.its.mapd(1, 3);
  for (uint32_t e = 0; e < 8; ++e) {
    h.its.mapti(1, e, 8192 + e, e % 2);
    h.its.lpi_config(8192 + e, 0xa0, true);
  }
  h.its.invall(0);
  h.its.invall(1);
  Hammer hammer(h.its, {{1, 0}, {1, 1}, {1, 2}, {1, 3}});
  for (int round = 0; round < 50; ++round) {
    ASSERT_TRUE(hammer.wait_hits(4));
    h.its.gits_write(0x0, 0, 4);  // GITS_CTLR.Enabled = 0
    EXPECT_EQ(h.its.msi(1, 4), 0) << "round " << round << ": translated by a disabled ITS";
    h.its.gits_write(0x0, 1, 4);
    ASSERT_TRUE(hammer.wait_hits(4));
    h.g.gicr_write(1, gicr::CTLR, 0);  // CPU 1: EnableLPIs = 0
    EXPECT_EQ(h.its.msi(1, 5), 0) << "round " << round << ": an LPI made pending on a redistributor without LPIs";
    EXPECT_TRUE(drain(h.g, 1).empty()) << "round " << round << ": an LPI signalled with EnableLPIs 0";
    h.g.gicr_write(1, gicr::CTLR, 1);
    drain(h.g, 0);
    drain(h.g, 1);
  }
  hammer.stop();
  drain(h.g, 0);
  drain(h.g, 1);
  // Everything still translates to the same place.
  for (uint32_t e = 0; e < 8; ++e) {
    ASSERT_EQ(h.its.msi(1, e), 1) << e;
    EXPECT_EQ(drain(h.g, e % 2), std::vector<uint32_t>{8192 + e});
  }
  EXPECT_TRUE(h.sei_codes().empty());
}

// MOVALL and the pending-table synchronisation (GICR_CTLR.EnableLPIs, SAVE_PENDING_TABLES) racing
// a device unmap (KVM had lock-ordering and use-after-free bugs here): a command thread moves
// everything between the CPUs and unmaps/remaps the device, a third thread toggles CPU 1's
// EnableLPIs and syncs the pending tables, vCPUs acknowledge. Only mapped LPIs are ever
// acknowledged, nothing deadlocks, and once quiet every event is delivered where it is mapped.
TEST(ItsRegression, MovallAndPendingTableSyncRacingUnmap) {
  ItsHarness h(two_cpus());
  h.its.mapc(0, 0);
  h.its.mapc(1, 1);
  auto map_device = [&] {
    h.its.mapd(1, 3);
    for (uint32_t e = 0; e < 8; ++e) h.its.mapti(1, e, 8192 + e, e % 2);
  };
  for (uint32_t e = 0; e < 8; ++e) h.its.lpi_config(8192 + e, 0xa0, true);
  map_device();
  h.its.invall(0);
  h.its.invall(1);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> foreign{0}, acks{0};
  std::vector<std::thread> threads;
  for (unsigned cpu = 0; cpu < 2; ++cpu)
    threads.emplace_back([&, cpu] {
      while (!stop.load()) {
        uint64_t id = 0;
        vgic_sysreg_read(h.g.gic(), cpu, icc::IAR1, &id);
        if (id == kSpurious) {
          std::this_thread::yield();
          continue;
        }
        if (id < 8192 || id >= 8200) foreign++;
        acks++;
        vgic_sysreg_write(h.g.gic(), cpu, icc::EOIR1, id);
      }
    });
  threads.emplace_back([&] {  // the pending-table sync
    for (int i = 0; !stop.load(); ++i) {
      vgic_mmio_write(h.g.gic(), h.g.cfg().gicr_base + 0x20000, 4, i % 2);  // CPU 1 GICR_CTLR.EnableLPIs
      vgic_set_attr(h.g.gic(), VGIC_DEV_GRP_CTRL, VGIC_CTRL_SAVE_PENDING_TABLES, nullptr);
      std::this_thread::yield();
    }
  });
  {
    Hammer hammer(h.its, {{1, 0}, {1, 1}, {1, 2}, {1, 3}, {1, 4}, {1, 5}, {1, 6}, {1, 7}});
    for (int round = 0; round < 150; ++round) {
      ASSERT_TRUE(hammer.wait_hits(8)) << "round " << round;
      h.its.movall(0, 1);
      h.its.movall(1, 0);
      if (round % 3 == 0) {
        h.its.mapd(1, 3, false);
        map_device();
      }
    }
    hammer.stop();
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (acks.load() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(foreign.load(), 0u) << "an LPI that was never mapped was acknowledged";
  EXPECT_GT(acks.load(), 0u);
  h.g.gicr_write(1, gicr::CTLR, 1);
  drain(h.g, 0);
  drain(h.g, 1);
  for (uint32_t e = 0; e < 8; ++e) {
    ASSERT_EQ(h.its.msi(1, e), 1) << e;
    EXPECT_EQ(drain(h.g, e % 2), std::vector<uint32_t>{8192 + e}) << "event " << e;
  }
  // A MOVALL (the commands above) with a pending table that was in flight must not have left
  // anything pending on the wrong CPU.
  EXPECT_TRUE(drain(h.g, 0).empty());
  EXPECT_TRUE(drain(h.g, 1).empty());
  // EnableLPIs toggled while commands ran: a command may have found CPU 1 without LPIs, which is
  // not a command error; nothing else may fail.
  EXPECT_TRUE(h.sei_codes().empty());
}

// Stale DTEs / ITEs in guest RAM (KVM: an unmapped device's entry left valid, restored later or
// breaking the restore when its ITT memory had been reused): after DISCARD and MAPD V=0, the next
// SAVE_TABLES writes those entries as 0, and a restore brings back exactly what is mapped, even
// though the guest reused the unmapped device's ITT for garbage.
TEST(ItsRegression, StaleEntriesAfterUnmapDoNotComeBackOnRestore) {
  ItsHarness h(two_cpus());
  h.its.mapc(0, 0);
  h.its.mapd(1, 2);
  h.its.mapd(2, 2);
  h.its.mapti(1, 0, 8192, 0);
  h.its.mapti(1, 1, 8193, 0);
  h.its.mapti(2, 0, 8194, 0);
  for (uint32_t l = 8192; l < 8195; ++l) h.its.lpi_config(l, 0xa0, true);
  h.its.invall(0);
  ASSERT_EQ(migration::save_tables(h.g), 0) << vgic_last_error();
  const uint64_t dte2 = h.its.device_table() + 2 * 8;
  ASSERT_NE(h.ram.read64(dte2), 0u) << "device 2 saved";
  const uint64_t ite11 = h.its.itt(1) + 1 * 8;
  ASSERT_NE(h.ram.read64(ite11), 0u) << "event (1, 1) saved";

  h.its.discard(1, 1);
  h.its.mapd(2, 2, false);
  for (uint64_t a = h.its.itt(2); a < h.its.itt(2) + 256; a += 8) h.ram.write64(a, ~0ull);  // ITT reused
  ASSERT_EQ(migration::save_tables(h.g), 0) << vgic_last_error();
  EXPECT_EQ(h.ram.read64(dte2), 0u) << "stale DTE of the unmapped device";
  EXPECT_EQ(h.ram.read64(ite11), 0u) << "stale ITE of the discarded event";

  h.its.gits_write(migration::GITS_CTLR, 0, 4);
  ASSERT_EQ(migration::restore_tables(h.g), 0) << vgic_last_error();
  h.its.gits_write(migration::GITS_CTLR, 1, 4);
  EXPECT_EQ(h.its.msi(1, 0), 1);
  EXPECT_EQ(drain(h.g, 0), std::vector<uint32_t>{8192});
  EXPECT_EQ(h.its.msi(1, 1), 0) << "the discarded event came back";
  EXPECT_EQ(h.its.msi(2, 0), 0) << "the unmapped device came back";
  EXPECT_TRUE(drain(h.g, 0).empty());
}

// Off-by-one on the MSI path: with an ITT of 2^4 events, EventID 15 translates and EventID 16 is
// out of range; it must not alias EventID 0 (a masking bug would). DeviceID 2^Devbits likewise.
TEST(ItsRegression, MsiEventIdAndDeviceIdBounds) {
  vgic_config cfg = two_cpus();
  cfg.its[0].device_id_bits = 8;
  ItsHarness h(cfg);
  h.its.mapc(0, 0);
  h.its.mapd(0, 4);
  h.its.mapd(255, 4);
  h.its.mapti(0, 0, 8192, 0);
  h.its.mapti(0, 15, 8193, 0);
  h.its.mapti(255, 0, 8194, 0);
  for (uint32_t l = 8192; l < 8195; ++l) h.its.lpi_config(l, 0xa0, true);
  h.its.invall(0);
  EXPECT_EQ(h.its.msi(0, 15), 1);
  EXPECT_EQ(drain(h.g, 0), std::vector<uint32_t>{8193});
  for (uint32_t ev : {16u, 32u, 0x10000u, 0x80000000u}) EXPECT_EQ(h.its.msi(0, ev), 0) << ev;
  EXPECT_EQ(h.its.msi(255, 0), 1);
  EXPECT_EQ(drain(h.g, 0), std::vector<uint32_t>{8194});
  for (uint32_t dev : {256u, 512u, 0x100u | 0x10000u}) EXPECT_EQ(h.its.msi(dev, 0), 0) << dev;
  EXPECT_TRUE(drain(h.g, 0).empty()) << "an out-of-range ID aliased a mapped one";
  EXPECT_TRUE(h.sei_codes().empty());
}

// A command read that fails (the queue's second page is not guest RAM) must not execute the data
// of the previous command again (KVM/QEMU kept using a stale command buffer): the INT before it
// makes its LPI pending once; the failed slot is an error (0x0100E0, IHI0069 5.3 / vgic's kind for
// unreadable memory), and with the stall policy every Retry fails the same way without side effect.
TEST(ItsRegression, FailedQueueReadDoesNotReuseThePreviousCommand) {
  for (int policy : {VGIC_ITS_ERRORS_SKIP, VGIC_ITS_ERRORS_STALL}) {
    SCOPED_TRACE(policy == VGIC_ITS_ERRORS_SKIP ? "skip" : "stall");
    ItsHarness h(two_cpus(1024, policy));
    h.its.mapc(0, 0);
    h.its.mapd(1, 2);
    h.its.mapti(1, 0, 8192, 0);
    h.its.lpi_config(8192, 0xa0, true);
    h.its.invall(0);
    // A two-page queue whose first page is the last page of RAM; the second is beyond RAM. The
    // first page holds SYNCs, then an INT in its last slot.
    const uint64_t q = h.ram.base() + h.ram.size() - 4096;
    const RawCommand sync = SyncCommand{0}.encode();
    for (uint64_t slot = 0; slot < 4096 - 32; slot += 32)
      for (unsigned i = 0; i < 4; ++i) h.ram.write64(q + slot + 8 * i, sync[i]);
    h.its.gits_write(migration::GITS_CTLR, 0, 4);
    h.its.gits_write(migration::GITS_CBASER, 1ull << 63 | q | 1);
    h.its.gits_write(migration::GITS_CWRITER, 4096 - 32);
    h.its.gits_write(migration::GITS_CTLR, 1, 4);
    ASSERT_EQ(h.its.creadr(), 4096u - 32);
    const RawCommand int_cmd = EventCommand{its_cmd::INT, DeviceId(1), EventId(0)}.encode();
    for (unsigned i = 0; i < 4; ++i) h.ram.write64(q + 4096 - 32 + 8 * i, int_cmd[i]);
    const size_t errors_before = h.sei_codes().size();
    h.its.gits_write(migration::GITS_CWRITER, 4096 + 32);  // INT, then the unreadable slot
    EXPECT_EQ(drain(h.g, 0), std::vector<uint32_t>{8192}) << "the INT ran once";
    for (int retry = 0; retry < 3 && policy == VGIC_ITS_ERRORS_STALL; ++retry) {
      EXPECT_EQ(h.its.creadr(), 4096u | 1) << "stalled at the unreadable slot";
      h.its.gits_write(migration::GITS_CWRITER, (4096 + 32) | 1);  // Retry
    }
    if (policy == VGIC_ITS_ERRORS_SKIP) {
      EXPECT_EQ(h.its.creadr(), 4096u + 32);
    }
    EXPECT_TRUE(drain(h.g, 0).empty()) << "the failed read re-executed the previous INT";
    const auto codes = h.sei_codes();
    ASSERT_GT(codes.size(), errors_before);
    for (size_t i = errors_before; i < codes.size(); ++i) EXPECT_EQ(codes[i], 0x0100E0u);
  }
}

// An unknown command, then writes to every read-only register of every frame (and to read-only
// CPU interface registers): each is ignored and counted, nothing aborts, and the ITS goes on
// executing the commands after the unknown one.
TEST(ItsRegression, UnknownCommandAndReadOnlyRegistersAbortNothing) {
  ItsHarness h(two_cpus());
  h.its.mapc(0, 0);
  h.its.mapd(1, 2);
  h.its.lpi_config(8192, 0xa0, true);
  h.its.invall(0);
  h.its.enqueue(RawCommand{0x42, ~0ull, ~0ull, ~0ull});  // no such opcode
  h.its.enqueue(MaptiCommand{its_cmd::MAPTI, DeviceId(1), EventId(0), 8192, CollectionId(0)}.encode());
  h.its.flush();
  EXPECT_EQ(h.its.creadr(), h.its.cwriter());
  EXPECT_EQ(h.sei_codes(), std::vector<uint32_t>{0x0142FFu});
  EXPECT_EQ(h.its.msi(1, 0), 1) << "the command after the unknown one ran";
  EXPECT_EQ(drain(h.g, 0), std::vector<uint32_t>{8192});

  struct Ro {
    int frame;  // 0 GICD, 1 GICR of CPU 1, 2 ITS
    uint32_t off;
    unsigned size;
  };
  const Ro regs[] = {{0, gicd::TYPER, 4}, {0, gicd::IIDR, 4}, {0, gicd::TYPER2, 4}, {0, gicd::PIDR2, 4},
                     {1, gicr::IIDR, 4},  {1, gicr::TYPER, 8}, {1, gicr::PIDR2, 4}, {2, 0x4, 4},
                     {2, 0x8, 8},         {2, 0x90, 8},        {2, 0xFFE8, 4}};
  auto rd = [&](const Ro& r) {
    if (r.frame == 0) return h.g.gicd_read(r.off, r.size);
    if (r.frame == 1) return h.g.gicr_read(1, r.off, r.size);
    return h.its.gits_read(r.off, r.size);
  };
  for (const Ro& r : regs) {
    const uint64_t before = rd(r), errors = h.g.guest_errors();
    const uint64_t junk = r.size == 8 ? ~before : (~before & 0xFFFFFFFF);
    if (r.frame == 0) h.g.gicd_write(r.off, junk, r.size);
    if (r.frame == 1) h.g.gicr_write(1, r.off, junk, r.size);
    if (r.frame == 2) h.its.gits_write(r.off, junk, r.size);
    EXPECT_EQ(rd(r), before) << "frame " << r.frame << " offset 0x" << std::hex << r.off;
    EXPECT_EQ(h.g.guest_errors(), errors + 1) << "frame " << r.frame << " offset 0x" << std::hex << r.off;
  }
  for (uint32_t enc : {icc::IAR1, icc::HPPIR1, icc::RPR, icc::IAR0})
    EXPECT_EQ(vgic_sysreg_write(h.g.gic(), 0, enc, 0x2000), VGIC_SYSREG_UNDEFINED) << enc;
  EXPECT_EQ(h.its.msi(1, 0), 1) << "still working";
  EXPECT_EQ(drain(h.g, 0), std::vector<uint32_t>{8192});
}

// Issue 7 (no cliff): with many more live translations than translation-cache entries, MSIs are
// resolved through the ITS's own ITEs without the ITS lock. What the guest observes must be the
// same as through the cache or the locked walk: every mapped event makes its own LPI pending on its
// collection's redistributor (IHI0069 5.2: DeviceID -> ITE -> collection -> redistributor), also
// after MOVI and MAPC moved it, and DISCARDed events translate to nothing (IHI0069 5.3).
TEST(ItsRegression, TranslationsBeyondTheCacheFollowCommands) {
  ItsHarness h(two_cpus(/*cache_entries=*/2));
  h.its.mapc(0, 0);
  h.its.mapc(1, 1);
  constexpr uint32_t kDevs = 4, kEvents = 100;  // 400 translations, 2 cache entries; 2 ITE chunks per device
  for (uint32_t d = 0; d < kDevs; ++d) h.its.mapd(d, 7);
  auto lpi_of = [](uint32_t d, uint32_t e) { return 8192 + d * kEvents + e; };
  for (uint32_t d = 0; d < kDevs; ++d)
    for (uint32_t e = 0; e < kEvents; ++e) {
      h.its.lpi_config(lpi_of(d, e), 0xa0, true);
      h.its.mapti(d, e, lpi_of(d, e), e % 2);
    }
  h.its.invall(0);
  h.its.invall(1);
  auto expect_round = [&](const char* when, auto icid_of, auto discarded) {
    std::vector<uint32_t> want[2];
    for (uint32_t d = 0; d < kDevs; ++d)
      for (uint32_t e = 0; e < kEvents; ++e) {
        EXPECT_EQ(h.its.msi(d, e), discarded(d, e) ? 0 : 1) << when << ": dev " << d << " event " << e;
        if (!discarded(d, e)) want[icid_of(d, e)].push_back(lpi_of(d, e));
      }
    for (unsigned cpu = 0; cpu < 2; ++cpu) {
      std::vector<uint32_t> seen;  // all of them (drain() stops at 64); bounded by the LPIs mapped
      for (uint32_t id; seen.size() <= kDevs * kEvents && (id = h.g.ack1(cpu)) != kSpurious;) {
        h.g.eoi1(cpu, id);
        seen.push_back(id);
      }
      std::sort(seen.begin(), seen.end());
      EXPECT_EQ(seen, want[cpu]) << when << ": CPU " << cpu;
    }
  };
  auto none = [](uint32_t, uint32_t) { return false; };
  expect_round("mapped", [](uint32_t, uint32_t e) { return e % 2; }, none);
  // Every event of device 2 moves to collection 0; every third event of device 1 is discarded.
  for (uint32_t e = 1; e < kEvents; e += 2) h.its.movi(2, e, 0);
  for (uint32_t e = 0; e < kEvents; e += 3) h.its.discard(1, e);
  auto discarded = [](uint32_t d, uint32_t e) { return d == 1 && e % 3 == 0; };
  expect_round("after MOVI/DISCARD", [](uint32_t d, uint32_t e) { return d == 2 ? 0u : e % 2; }, discarded);
  // Collection 1 is retargeted to CPU 0: its events follow without any command naming them.
  h.its.mapc(1, 0);
  expect_round("after MAPC", [](uint32_t, uint32_t) { return 0u; }, discarded);
  // Device 3 unmapped: nothing of it translates any more; the others are unaffected.
  h.its.mapd(3, 7, false);
  expect_round("after MAPD V=0", [](uint32_t, uint32_t) { return 0u; },
               [&](uint32_t d, uint32_t e) { return discarded(d, e) || d == 3; });
}
