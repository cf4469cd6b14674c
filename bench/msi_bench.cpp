// Item 1: MSI -> LPI pending on one thread, three ways:
//  - hit: vgic_signal_msi with the translation cache (no lock);
//  - no cache (cache_entries = 0): vgic's miss path, the lock-free index over the ITS's host-side
//    ITE chunks (docs/performance.md, "The cache-miss cliff");
//  - guest-RAM walk: the obvious design, QEMU's: every MSI reads the DTE, the ITE and the CTE from
//    the tables in guest RAM (KVM ABI layout, written by ITS_SAVE_TABLES) through the bounds-checked
//    guest-memory interface, decodes them, then makes the LPI pending. The ratio baseline.
// The LPIs are disabled, so they stay pending and each MSI after the first round is coalesced into
// an already-pending LPI, which is what a hot device does to a busy vCPU.
#include <memory>
#include <stdexcept>

#include "api/c_handle.hpp"
#include "api/gic_impl.hpp"
#include "harness.hpp"
#include "its/its_abi.hpp"
#include "rig.hpp"
#include "support/its_migration.hpp"

namespace gicv3::bench {

namespace {

struct MsiCase {
  static constexpr uint32_t kEvents = 256;
  explicit MsiCase(unsigned cache_entries) {
    RigOptions o;
    o.events = kEvents;
    o.lpis_enabled = false;
    o.cache_entries = cache_entries;
    o.lpi_id_bits = 16;
    o.ram_bytes = 8ull << 20;
    rig = std::make_unique<Rig>(o);
    db = rig->doorbell();
    run(kEvents);  // warm: every LPI pending, every translation cached
  }
  void run(uint64_t n) {
    vgic* g = rig->gic();
    for (uint64_t i = 0; i < n; ++i) {
      benchmark::DoNotOptimize(vgic_signal_msi(g, db, e, 0));
      e = (e + 1) % kEvents;
    }
  }
  std::unique_ptr<Rig> rig;
  uint64_t db = 0;
  uint32_t e = 0;
};

// The guest-RAM walk baseline. Its translations are the ones vgic holds, saved into guest RAM.
struct RamWalkCase : MsiCase {
  RamWalkCase() : MsiCase(1024), core(rig->gic()->gic->impl().core) {
    if (test::migration::save_tables(*rig->g) != 0) throw std::runtime_error("ITS_SAVE_TABLES failed");
    dev_table = rig->its->device_table();
    coll_table = rig->its->collection_table();
  }
  // One MSI from DeviceID 0: device table (flat) -> ITT -> collection table -> redistributor.
  bool walk(uint32_t event) {
    const GuestMemory& mem = core.memory();
    uint64_t w;
    if (!mem.read_u64(dev_table, w)) return false;
    const DeviceTableEntry dte = DeviceTableEntry::decode(w);
    if (!dte.valid || (event >> (dte.size + 1)) || !mem.read_u64(dte.itt_addr + 8ull * event, w)) return false;
    const InterruptTableEntry ite = InterruptTableEntry::decode(w);
    if (!ite.valid() || !mem.read_u64(coll_table + 8ull * ite.icid, w)) return false;
    const CollectionTableEntry cte = CollectionTableEntry::decode(w);
    if (!cte.valid || cte.rdbase >= core.nr_cpus()) return false;
    return core.make_lpi_pending(unsigned(cte.rdbase), ite.pintid);
  }
  void run(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      benchmark::DoNotOptimize(walk(e));
      e = (e + 1) % kEvents;
    }
  }
  GicCore& core;
  uint64_t dev_table = 0, coll_table = 0;
};

}  // namespace

void register_msi() {
  add_profile("msi_hit", [] {
    auto c = std::make_shared<MsiCase>(1024);
    return Runner([c](uint64_t n) { c->run(n); });
  });
  add_profile("msi_walk", [] {
    auto c = std::make_shared<MsiCase>(0);
    return Runner([c](uint64_t n) { c->run(n); });
  });
  add("msi/hit", [](benchmark::State& st) {
    MsiCase c(1024);
    run_batched(st, c, 1024);
  });
  add("msi/no_cache", [](benchmark::State& st) {
    MsiCase c(0);
    run_batched(st, c, 1024);
  });
  add_profile("msi_ram_walk", [] {
    auto c = std::make_shared<RamWalkCase>();
    return Runner([c](uint64_t n) { c->run(n); });
  });
  add("msi/guest_ram_walk", [](benchmark::State& st) {
    RamWalkCase c;
    if (!c.walk(0)) st.SkipWithError("the guest-RAM walk found no translation");
    run_batched(st, c, 1024);
  });
}

void figures_msi(Figures& f) {
  MsiCase hit(1024), miss(0);
  RamWalkCase walk;
  const bool walk_ok = walk.walk(0);
  const Timing th = measure([&](uint64_t n) { hit.run(n); });
  const Timing tm = measure([&](uint64_t n) { miss.run(n); });
  const Timing tw = measure([&](uint64_t n) { walk.run(n); });
  f.push_back({"1", "MSI, translation-cache hit", th.ns_per_op, "ns", 20, false, ""});
  f.push_back({"1", "MSI, no cache (lock-free ITE index)", tm.ns_per_op, "ns", 0, false, "informational"});
  f.back().goal = tm.ns_per_op;  // informational row: always "met"
  f.push_back({"1", "MSI, guest-RAM table walk (QEMU's design)", tw.ns_per_op, "ns", 0, false,
               walk_ok ? "baseline" : "WALK FOUND NO TRANSLATION"});
  f.back().goal = tw.ns_per_op;
  f.push_back({"1", "hit vs guest-RAM walk", tw.ns_per_op / th.ns_per_op, "x", 10, true, ""});
}

}  // namespace gicv3::bench
