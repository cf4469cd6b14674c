// Item 4: choosing the highest-priority pending interrupt with 16, 1 K and 64 K LPIs pending on
// one vCPU. Measured as GicCore::kick(cpu): what every MSI that makes an LPI newly pending runs,
// the CPU lock taken and released, a full selection (the private interrupts' cached best, the
// Distributor's published SPI candidates, the LPI priority buckets) and the line computation.
// (ICC_HPPIR1_EL1 reads do not select: the selection made at the last update is current.)
#include <memory>

#include "harness.hpp"
#include "rig.hpp"
#include "api/c_handle.hpp"
#include "api/gic_impl.hpp"
#include "support/guest.hpp"

namespace gicv3::bench {

namespace {

struct SelectionCase {
  explicit SelectionCase(uint32_t pending) : expect(8192) {
    RigOptions o;
    o.events = pending;
    o.lpi_id_bits = 17;
    o.ram_bytes = 16ull << 20;
    rig = std::make_unique<Rig>(o);
    // Priorities spread over the range so the buckets are not one list; the highest (lowest value)
    // is LPI 8192.
    for (uint32_t e = 0; e < pending; ++e) rig->its->lpi_config(rig->lpi(0, e), uint8_t(0x10 + (e % 32) * 4), true);
    rig->command(InvallCommand{CollectionId(0)}.encode());
    rig->flush();
    // Nothing acknowledges them: every LPI stays pending.
    for (uint32_t e = 0; e < pending; ++e) rig->msi(0, e);
  }
  void run(uint64_t n) {
    GicCore& core = rig->gic()->gic->impl().core;
    for (uint64_t i = 0; i < n; ++i) core.kick(0);
    uint64_t v = 0;
    vgic_sysreg_read(rig->gic(), 0, test::icc::HPPIR1, &v);
    if (v != expect) ++wrong;
  }
  std::unique_ptr<Rig> rig;
  uint64_t expect;
  uint64_t wrong = 0;
};

const uint32_t kSizes[] = {16, 1024, 65536};

}  // namespace

void register_selection() {
  add_profile("selection16", [] {
    auto c = std::make_shared<SelectionCase>(16);
    return Runner([c](uint64_t n) { c->run(n); });
  });
  for (uint32_t n : kSizes)
    add("selection/kick/" + std::to_string(n) + "_pending", [n](benchmark::State& st) {
      SelectionCase c(n);
      run_batched(st, c, 1024);
      if (c.wrong) st.SkipWithError("HPPIR1 returned the wrong LPI");
    });
}

void figures_selection(Figures& f) {
  double lo = 1e30, hi = 0;
  for (uint32_t n : kSizes) {
    SelectionCase c(n);
    const Timing t = measure([&](uint64_t k) { c.run(k); });
    lo = std::min(lo, t.ns_per_op);
    hi = std::max(hi, t.ns_per_op);
    f.push_back({"4", "HPPI selection, " + std::to_string(n) + " LPIs pending", t.ns_per_op, "ns", 50, false,
                 c.wrong ? "WRONG RESULT" : "kick: lock, select, lines"});
  }
  f.push_back({"4", "selection 64K / 16 pending", hi / lo, "x", 1.5, false, "does not grow"});
}

}  // namespace gicv3::bench
