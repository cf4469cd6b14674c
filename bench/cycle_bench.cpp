// Item 3: the full delivery cycle on one vCPU: MSI -> LPI pending -> IRQ line raised ->
// ICC_IAR1_EL1 -> ICC_EOIR1_EL1 (EOImode 0; LPIs have no active state, so the EOI is the priority
// drop only, IHI0069 5.1 / 12.2.9).
#include <cstdio>
#include <memory>

#include "harness.hpp"
#include "rig.hpp"
#include "support/guest.hpp"

namespace gicv3::bench {

namespace {

struct CycleCase {
  static constexpr uint32_t kEvents = 256;
  CycleCase() {
    RigOptions o;
    o.events = kEvents;
    o.lpi_id_bits = 16;
    o.ram_bytes = 8ull << 20;
    rig = std::make_unique<Rig>(o);
    db = rig->doorbell();
  }
  void run(uint64_t n) {
    vgic* g = rig->gic();
    for (uint64_t i = 0; i < n; ++i) {
      vgic_signal_msi(g, db, e, 0);
      if (!(vgic_cpu_lines(g, 0) & VGIC_LINE_IRQ)) ++lost;
      uint64_t intid = 0;
      vgic_sysreg_read(g, 0, test::icc::IAR1, &intid);
      vgic_sysreg_write(g, 0, test::icc::EOIR1, intid);
      if (intid != 8192 + e) ++lost;
      e = (e + 1) % kEvents;
    }
  }
  std::unique_ptr<Rig> rig;
  uint64_t db = 0;
  uint32_t e = 0;
  uint64_t lost = 0;  // cycles where the line was not raised or IAR returned another INTID
};

}  // namespace

void register_cycle() {
  add_profile("cycle", [] {
    auto c = std::make_shared<CycleCase>();
    return Runner([c](uint64_t n) { c->run(n); });
  });
  add("cycle/msi_iar_eoir", [](benchmark::State& st) {
    CycleCase c;
    run_batched(st, c, 256);
    if (c.lost) st.SkipWithError("a cycle did not deliver its LPI");
  });
}

void figures_cycle(Figures& f) {
  CycleCase c;
  const Timing t = measure([&](uint64_t n) { c.run(n); });
  f.push_back({"3", "full cycle MSI->IAR1->EOIR1", 1e3 / t.ns_per_op, "M/s", 20, true,
               std::to_string(int(t.ns_per_op)) + " ns/cycle" + (c.lost ? "; DELIVERY FAILED" : "")});
}

}  // namespace gicv3::bench
