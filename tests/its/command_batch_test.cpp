// Commands published by one GITS_CWRITER write form a batch that waits one grace period at its end
// (issue 7 item 5; docs/architecture.md, "Deferred grace periods"). These tests check that the
// deferral changes no architectural outcome (IHI0069 5.3: commands take effect in queue order):
// a DISCARD's removal of the pending state never reaches past a later command that makes the same
// LPI pending, deferred frees never make a later command of the batch fail, and batches longer
// than the deferral bound still clear every discarded LPI.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "support/its_driver.hpp"
#include "support/its_migration.hpp"

using namespace test;
using namespace gicv3;

namespace {

vgic_config one_cpu() {
  vgic_config c = Guest::config(1);
  c.its[0].seis = 1;  // command errors reach the System Error notifier
  return c;
}

constexpr uint32_t kLpi = 8200;

RawCommand discard(uint32_t dev, uint32_t ev) { return EventCommand{its_cmd::DISCARD, DeviceId(dev), EventId(ev)}.encode(); }
RawCommand int_cmd(uint32_t dev, uint32_t ev) { return EventCommand{its_cmd::INT, DeviceId(dev), EventId(ev)}.encode(); }
RawCommand mapti(uint32_t dev, uint32_t ev, uint32_t lpi) {
  return MaptiCommand{its_cmd::MAPTI, DeviceId(dev), EventId(ev), lpi, CollectionId(0)}.encode();
}

// The System Error notifier runs inside the batch, with the ITS lock held. A device thread sends
// one MSI from there, i.e. while the batch is being processed, after the commands before the
// failing one took effect. (It resolves through the ITS's lock-free index, so it does not wait for
// the lock the batch holds.)
struct MidBatchMsi {
  vgic* gic;
  uint64_t doorbell;
  uint32_t dev, ev;
  std::atomic<int> result{-100};
  static void on_sei(void* self, unsigned, uint32_t) {
    auto* m = static_cast<MidBatchMsi*>(self);
    std::thread t([m] { m->result = vgic_signal_msi(m->gic, m->doorbell, m->ev, m->dev); });
    t.join();
  }
};

}  // namespace

// DISCARD (1, 0) -> L while L is pending, then MAPTI (2, 0) -> L in the same batch, and an MSI
// through (2, 0) while the batch still runs: that MSI uses a translation that exists only after
// the MAPTI, so it is ordered after the DISCARD and L must stay pending. (Were DISCARD's clear
// simply deferred to the end of the batch, it would remove this MSI's pending state.)
TEST(ItsCommandBatch, DiscardedLpiMappedAgainInTheBatchKeepsItsLaterMsi) {
  ItsHarness h(one_cpu());
  h.its.mapc(0, 0);
  h.its.mapd(1, 4);
  h.its.mapd(2, 4);
  h.its.lpi_config(kLpi, 0xa0, true);
  h.its.mapti(1, 0, kLpi, 0);
  ASSERT_EQ(h.its.msi(1, 0), 1);

  MidBatchMsi m{h.g.gic(), h.its.its_base() + 0x10040, 2, 0};
  vgic_set_system_error_notifier(h.g.gic(), &MidBatchMsi::on_sei, &m);
  h.its.enqueue(discard(1, 0));
  h.its.enqueue(mapti(2, 0, kLpi));
  h.its.enqueue(int_cmd(7, 0));  // device 7 is not mapped: an error, so the notifier runs here
  h.its.enqueue(SyncCommand{0}.encode());
  h.its.flush();
  vgic_set_system_error_notifier(h.g.gic(), nullptr, nullptr);

  EXPECT_EQ(m.result.load(), 1) << "the mid-batch MSI through the new translation made L pending";
  EXPECT_EQ(h.its.creadr(), h.its.cwriter()) << "the batch ran to its end";
  EXPECT_EQ(migration::drain(h.g, 0), std::vector<uint32_t>{kLpi}) << "L, pending once, after the batch";
}

// The same order with commands only. First INT (1, 0), DISCARD (1, 0) in one batch: the INT's
// pending state goes with the DISCARD. Then MAPTI (1, 0) -> L, INT (1, 0), DISCARD (1, 0),
// MAPTI (1, 1) -> L, INT (1, 1): the last INT comes after the DISCARD, so L stays pending.
TEST(ItsCommandBatch, IntAfterDiscardOfTheSameLpiInOneBatchStaysPending) {
  ItsHarness h(one_cpu());
  h.its.mapc(0, 0);
  h.its.mapd(1, 4);
  h.its.lpi_config(kLpi, 0xa0, true);
  h.its.mapti(1, 0, kLpi, 0);

  h.its.enqueue(int_cmd(1, 0));
  h.its.enqueue(discard(1, 0));
  h.its.flush();
  EXPECT_TRUE(migration::drain(h.g, 0).empty()) << "INT, then DISCARD: not pending";

  h.its.enqueue(mapti(1, 0, kLpi));
  h.its.enqueue(int_cmd(1, 0));
  h.its.enqueue(discard(1, 0));
  h.its.enqueue(mapti(1, 1, kLpi));
  h.its.enqueue(int_cmd(1, 1));
  h.its.flush();
  EXPECT_EQ(migration::drain(h.g, 0), std::vector<uint32_t>{kLpi}) << "DISCARD, then INT: pending";
  EXPECT_TRUE(h.sei_codes().empty());
}

// More DISCARDs in one batch than the ITS defers (Its::kMaxDeferred = 256): every discarded LPI
// stops being pending, and MSIs through the discarded events make nothing pending.
TEST(ItsCommandBatch, LongBatchOfDiscardsClearsEveryLpi) {
  ItsOptions o;
  o.queue_pages = 32;  // 4096 commands
  ItsHarness h(one_cpu(), o);
  constexpr uint32_t kEvents = 600;
  h.its.mapc(0, 0);
  h.its.mapd(1, 10);
  for (uint32_t e = 0; e < kEvents; ++e) {
    h.its.lpi_config(8192 + e, 0xa0, true);
    h.its.enqueue(mapti(1, e, 8192 + e));
    h.its.enqueue(int_cmd(1, e));
  }
  h.its.flush();
  for (uint32_t e = 0; e < kEvents; ++e) h.its.enqueue(discard(1, e));
  h.its.flush();
  EXPECT_TRUE(h.sei_codes().empty());
  EXPECT_TRUE(migration::drain(h.g, 0).empty()) << "every DISCARD removed its LPI's pending state";
  EXPECT_EQ(h.its.msi(1, 0), 0);
  EXPECT_EQ(h.its.msi(1, kEvents - 1), 0);
}

// MAPD V=0 frees the device's interrupt translation entries only after the batch's grace period,
// and their host budget is released with them. A batch that unmaps a device and maps another as
// large must still succeed when the budget holds only one of them: the charge that would fail
// waits for the deferred frees first.
TEST(ItsCommandBatch, DeferredFreesDoNotMakeALaterMappingFail) {
  vgic_config c = one_cpu();
  c.max_host_memory = 1 << 20;  // the minimum
  c.its[0].event_id_bits = 20;  // one device can hold more chunks than the budget
  ItsOptions o;
  o.queue_pages = 128;  // 16 K commands: room for the whole second batch
  ItsHarness h(c, o);
  h.its.mapc(0, 0);
  // The LPI state the MSIs below need, created before the budget is spent (LPIs 8192..9191).
  h.its.send(MapdCommand{DeviceId(1), 19, 0x40000000, true}.encode());
  h.its.lpi_config(8192, 0xa0, true);
  h.its.mapti(1, 0, 8192, 0);
  ASSERT_EQ(h.its.msi(1, 0), 1);
  EXPECT_EQ(migration::drain(h.g, 0), std::vector<uint32_t>{8192});
  // Map one event per 64-event chunk of device 1 until the budget refuses a chunk.
  uint32_t chunks = 1;
  for (; chunks < 8192; ++chunks) {
    h.its.mapti(1, chunks * 64, 8192 + chunks % 1000, 0);
    if (!h.sei_codes().empty()) break;
  }
  ASSERT_EQ(h.sei_codes().size(), 1u) << "the budget must run out";
  EXPECT_EQ(h.sei_codes()[0], its_err::code(its_cmd::MAPTI, its_err::kNoResources));
  ASSERT_GT(chunks, 100u);

  // One batch: unmap device 1, map device 2 with as many chunks.
  h.its.enqueue(MapdCommand{DeviceId(1), 19, 0, false}.encode());
  h.its.enqueue(MapdCommand{DeviceId(2), 19, 0x40000000, true}.encode());
  for (uint32_t k = 0; k < chunks; ++k) h.its.enqueue(mapti(2, k * 64, 8192 + k % 1000));
  h.its.flush();
  EXPECT_EQ(h.sei_codes().size(), 1u) << "no command of the batch failed";
  EXPECT_EQ(h.its.msi(2, (chunks - 1) * 64), 1) << "the last mapping of the batch translates";
  EXPECT_EQ(h.its.msi(1, 0), 0) << "device 1 is unmapped";
}
