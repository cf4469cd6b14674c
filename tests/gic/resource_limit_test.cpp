// Bounded host resources (issue 8; docs/spec-deviations.md row 95): whatever the guest does, the
// host memory vgic allocates on its behalf (ITS devices and translations, LPI state) stays within
// vgic_config.max_host_memory. The guest sees architectural outcomes instead: MAPD / MAPTI fail
// with error kind 0xE1, an LPI that would need new state is not made pending (a counted guest
// error). The counter checked is the GIC's own HostBudget, the one every allocation is charged to.
#include <gtest/gtest.h>

#include <cstring>

#include "api/c_handle.hpp"
#include "api/gic_impl.hpp"
#include "support/its_driver.hpp"

using namespace test;
using namespace gicv3;

namespace {

constexpr uint64_t kLimit = 2u << 20;

const HostBudget& budget_of(vgic* g) { return g->gic->impl().core.budget(); }

}  // namespace

// 2^Devbits devices, each with the largest ITT (2^ID_bits events) and translations spread over
// many ITT chunks: the budget runs out long before, and every command past it is an error.
TEST(ResourceLimit, MappingEveryDeviceWithMaximalIttsStaysWithinTheBudget) {
  vgic_config cfg = Guest::config(1);
  cfg.max_host_memory = kLimit;
  cfg.its[0].device_id_bits = 16;
  cfg.its[0].event_id_bits = 16;
  cfg.its[0].seis = 1;
  ItsOptions o;
  o.table_pages = 8;   // a flat device table of 8 x 64 KiB: all 2^16 DeviceIDs
  o.queue_pages = 16;  // 2048 command slots
  ItsHarness h(cfg, o, 8u << 20);
  const HostBudget& budget = budget_of(h.g.gic());
  EXPECT_EQ(budget.limit(), kLimit);
  h.its.mapc(0, 0);
  const uint64_t itt = h.ram.alloc(4096, 256);  // one ITT address for all: vgic never reads it

  size_t peak = 0;
  unsigned queued = 0;
  for (uint32_t dev = 0; dev < (1u << 16); ++dev) {
    h.its.enqueue(MapdCommand{DeviceId(dev), 15, itt, true}.encode());  // Size 15: 2^16 events
    for (uint32_t ev : {0u, 1000u * 64, 0xFFFFu})
      h.its.enqueue(MaptiCommand{its_cmd::MAPTI, DeviceId(dev), EventId(ev), 8192 + (dev + ev) % 50000,
                                 CollectionId(0)}.encode());
    if ((queued += 4) >= 2000) {
      h.its.flush();
      queued = 0;
      ASSERT_EQ(h.its.creadr(), h.its.cwriter()) << "the queue keeps moving";
      peak = std::max(peak, budget.used());
      ASSERT_LE(budget.used(), kLimit) << "after DeviceID " << dev;
    }
  }
  h.its.flush();
  peak = std::max(peak, budget.used());
  EXPECT_LE(peak, kLimit);
  EXPECT_GT(peak, kLimit / 2) << "the guest did not get near the limit: the test proves nothing";
  size_t budget_errors = 0;
  for (uint32_t code : h.sei_codes()) {
    // Budget errors, and MAPTI on a device whose MAPD failed for the budget (unmapped device).
    EXPECT_TRUE(code == 0x0108E1 || code == 0x010AE1 || code == 0x010A04) << std::hex << code;
    budget_errors += code == 0x0108E1;
  }
  EXPECT_GT(budget_errors, 60000u) << "most of the 2^16 MAPDs failed for the budget";
  // Unmapping gives the budget back.
  const size_t full = budget.used();
  for (uint32_t dev = 0; dev < 64; ++dev) h.its.send(MapdCommand{DeviceId(dev), 15, itt, false}.encode());
  EXPECT_LT(budget.used(), full);
}

// Every LPI pending, two ways, each on a fresh GIC: a pending table full of ones for 2^24 LPIs,
// read at GICR_CTLR.EnableLPIs (IHI0069 5.1.1), and GICR_SETLPIR across the whole 24-bit LPI space.
// Host LPI state is charged per chunk of LPIs in use, so these are the largest LPI state a guest can
// ask for.
class ResourceLimitLpis : public ::testing::Test {
 protected:
  static vgic_config config() {
    vgic_config cfg = Guest::config(2);
    cfg.max_host_memory = kLimit;
    cfg.lpi_id_bits = 24;
    cfg.direct_lpi = 1;
    return cfg;
  }
  ResourceLimitLpis() : h(config(), {}, 40u << 20), budget(budget_of(h.g.gic())) {
    // Every LPI enabled at priority 0xa0 (the harness left them disabled).
    std::memset(h.ram.host(h.its.prop_table()), 0xa1, (1u << 24) - 8192);
  }
  ItsHarness h;  // 16 MiB configuration table, 2 x 2 MiB pending tables
  const HostBudget& budget;
};

TEST_F(ResourceLimitLpis, APendingTableFullOfOnesStaysWithinTheBudget) {
  h.g.gicr_write(1, gicr::CTLR, 0);
  std::memset(h.ram.host(h.its.pend_table(1)) + 1024, 0xFF, (1u << 24) / 8 - 1024);  // past the reserved KiB
  h.g.gicr_write(1, gicr::CTLR, 1);
  EXPECT_LE(budget.used(), kLimit);
  EXPECT_GT(budget.used(), kLimit * 3 / 4) << "the guest did not get near the limit";
  EXPECT_TRUE(h.g.irq(1)) << "the LPIs that fitted are pending";
  const uint32_t id = h.g.ack1(1);
  EXPECT_GE(id, 8192u);
  h.g.eoi1(1, id);
}

TEST_F(ResourceLimitLpis, SetlpirOverTheWholeLpiSpaceStaysWithinTheBudget) {
  const uint64_t errors = h.g.guest_errors();
  constexpr uint32_t kSetlpir = 0x40;
  for (uint32_t lpi = 8192; lpi < (1u << 24); lpi += 256) {  // several LPIs of every chunk
    h.g.gicr_write(0, kSetlpir, lpi, 8);
    if (lpi % (1u << 20) == 0) {
      ASSERT_LE(budget.used(), kLimit) << "at LPI " << lpi;
    }
  }
  EXPECT_LE(budget.used(), kLimit);
  EXPECT_GT(budget.used(), kLimit * 3 / 4) << "the guest did not get near the limit";
  EXPECT_GT(h.g.guest_errors(), errors) << "LPIs refused for lack of budget are counted guest errors";
  EXPECT_TRUE(h.g.irq(0)) << "what fitted is pending";
  const uint32_t id = h.g.ack1(0);
  EXPECT_GE(id, 8192u);
  h.g.eoi1(0, id);
}
