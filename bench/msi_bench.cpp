// The MSI fast path and the delivery cycle (issue 7 extends this into the full suite).
//   BM_MsiHit:       MSI -> translation-cache hit -> LPI already pending (coalesced).
//   BM_MsiTableWalk: the same with the cache disabled: the ITS walks its translations every time.
//   BM_FullCycle:    MSI -> line raised -> ICC_IAR1 -> ICC_EOIR1 on one vCPU.
#include <benchmark/benchmark.h>

#include <memory>

#include "support/its_driver.hpp"

using namespace test;

namespace {

struct Setup {
  vgic_config cfg;
  std::unique_ptr<Guest> g;
  std::unique_ptr<GuestRam> ram;
  std::unique_ptr<ItsDriver> its;
  static constexpr uint32_t kEvents = 256;

  explicit Setup(unsigned cache_entries, bool enabled_lpis) {
    cfg = Guest::config(1);
    cfg.its[0].cache_entries = cache_entries;
    g = std::make_unique<Guest>(cfg);
    ram = std::make_unique<GuestRam>(g->gic(), 0x40000000, 16 << 20);
    g->bring_up_all();
    its = std::make_unique<ItsDriver>(*g, *ram);
    its->init();
    its->enable_lpis_all();
    its->mapc(0, 0);
    its->mapd(1, 8);
    for (uint32_t e = 0; e < kEvents; ++e) {
      its->mapti(1, e, 8192 + e, 0);
      its->lpi_config(8192 + e, 0x80, enabled_lpis);
    }
    its->invall(0);
  }
  uint64_t doorbell() const { return its->its_base() + 0x10040; }
};

// MSIs round-robin over the mapped events; the LPIs are disabled, so they stay pending.
void run_msis(benchmark::State& st, unsigned cache_entries) {
  Setup s(cache_entries, false);
  const uint64_t db = s.doorbell();
  uint32_t e = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(vgic_signal_msi(s.g->gic(), db, e, 1));
    e = (e + 1) % Setup::kEvents;
  }
  st.SetItemsProcessed(st.iterations());
}

void BM_MsiHit(benchmark::State& st) { run_msis(st, 1024); }
BENCHMARK(BM_MsiHit);

void BM_MsiTableWalk(benchmark::State& st) { run_msis(st, 0); }
BENCHMARK(BM_MsiTableWalk);

void BM_FullCycle(benchmark::State& st) {
  Setup s(1024, true);
  const uint64_t db = s.doorbell();
  vgic* g = s.g->gic();
  uint32_t e = 0;
  for (auto _ : st) {
    vgic_signal_msi(g, db, e, 1);
    uint64_t intid = 0;
    vgic_sysreg_read(g, 0, icc::IAR1, &intid);
    vgic_sysreg_write(g, 0, icc::EOIR1, intid);
    e = (e + 1) % Setup::kEvents;
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_FullCycle);

}  // namespace

BENCHMARK_MAIN();
