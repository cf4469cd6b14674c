#include "gicd/distributor.hpp"

#include <algorithm>

#include "gicd/gicd_regs.hpp"

namespace gicv3 {

Distributor::Distributor(const Config& cfg, const Topology& topo)
    : topo_(topo),
      nr_spis_(Intid::implemented_spis(cfg.nr_spis)),
      nr_espis_(cfg.nr_espis),
      pri_mask_(uint8_t(0xff << (8 - cfg.priority_bits))),
      mbis_(cfg.mbis),
      no1n_(cfg.no1n),
      irqs_(nr_spis_ + cfg.nr_espis),
      candidates_((irqs_.size() + 63) / 64),
      best_(new std::atomic<uint64_t>[2 * topo.nr_cpus()]) {
  for (unsigned i = 0; i < 2 * topo.nr_cpus(); ++i) best_[i].store(0, std::memory_order_relaxed);
  // Reset: every SPI level-sensitive, group 0, priority 0, routed to Aff 0.0.0.0 (IHI0069 12.9:
  // GICD_ICFGR and GICD_IROUTER reset to UNKNOWN/0; vgic chooses 0, see spec-deviations.md).
  for (Irq& irq : irqs_) set_route(irq, 0);
}

bool Distributor::group_enabled(Group g) const {
  const uint32_t c = ctlr();
  return g == Group::g0 ? GICD_CTLR::EnableGrp0::get(c) : GICD_CTLR::EnableGrp1::get(c);
}

void Distributor::write_ctlr(uint32_t value, CpuSet& kick) {
  const uint32_t enables = uint32_t(mask_of<GICD_CTLR::EnableGrp0, GICD_CTLR::EnableGrp1>());
  const uint32_t old = ctlr_.load(std::memory_order_relaxed);
  const uint32_t now = (old & ~enables) | (value & enables);
  ctlr_.store(now, std::memory_order_release);
  // Group enables gate SGIs, PPIs and LPIs too (IHI0069 12.9.4), so every CPU must look again.
  if (now != old) kick.add_all();
}

void Distributor::mark_stale(const Irq& irq) {
  if (irq.irm)
    stale_1ofn_ = true;
  else if (irq.target != Irq::kNoTarget)
    stale_.add(irq.target);
}

void Distributor::changed(const Irq& irq) {
  const size_t i = size_t(&irq - irqs_.data());
  const uint64_t bit = 1ull << (i % 64);
  if (irq.candidate())
    candidates_[i / 64] |= bit;
  else
    candidates_[i / 64] &= ~bit;
  mark_stale(irq);
}

void Distributor::publish(CpuSet& kick) {
  if (stale_1ofn_) {
    uint64_t best[2] = {0, 0};
    for_each_candidate([&](uint32_t intid, const Irq& irq) {
      if (!irq.irm) return;
      const uint64_t c = pack_candidate(irq.priority, intid, irq.group());
      uint64_t& b = best[size_t(irq.group())];
      if (!b || c < b) b = c;
    });
    for (unsigned g = 0; g < 2; ++g)
      if (best_1ofn_[g].exchange(best[g], std::memory_order_acq_rel) != best[g]) kick.add_all();
    stale_1ofn_ = false;
  }
  if (stale_.empty()) return;
  const unsigned n = topo_.nr_cpus();
  // One pass over the candidates serves every stale CPU. One best per group: a group disabled in
  // GICD_CTLR or at the CPU interface must not hide the other group's SPIs.
  std::vector<uint64_t> best(2 * n, 0);
  for_each_candidate([&](uint32_t intid, const Irq& irq) {
    if (irq.irm || irq.target == Irq::kNoTarget || !stale_.contains(irq.target)) return;
    const uint64_t c = pack_candidate(irq.priority, intid, irq.group());
    uint64_t& b = best[2 * irq.target + size_t(irq.group())];
    if (!b || c < b) b = c;
  });
  for (unsigned cpu = 0; cpu < n; ++cpu) {
    if (!stale_.contains(cpu)) continue;
    for (unsigned i = 2 * cpu; i < 2 * cpu + 2; ++i)
      if (best_[i].exchange(best[i], std::memory_order_acq_rel) != best[i]) kick.add(cpu);
  }
  stale_ = CpuSet{};
}

void Distributor::set_route(Irq& irq, uint64_t route) {
  mark_stale(irq);  // the old target must drop it
  uint64_t writable = mask_of<GICD_IROUTER::Aff0, GICD_IROUTER::Aff1, GICD_IROUTER::Aff2, GICD_IROUTER::Aff3>();
  // With GICD_TYPER.No1N == 1, IRM is RES0 (IHI0069 12.9.22).
  if (!no1n_) writable |= GICD_IROUTER::IRM::mask;
  irq.route = route & writable;
  irq.irm = GICD_IROUTER::IRM::get(irq.route);
  const uint32_t aff = uint32_t(GICD_IROUTER::Aff0::get(irq.route) | GICD_IROUTER::Aff1::get(irq.route) << 8 |
                                GICD_IROUTER::Aff2::get(irq.route) << 16 | GICD_IROUTER::Aff3::get(irq.route) << 24);
  const auto cpu = topo_.cpu_for_affinity(aff);
  irq.target = cpu ? *cpu : Irq::kNoTarget;
  mark_stale(irq);
}

void Distributor::set_line(Irq& irq, bool level) {
  if (irq.edge && level && !irq.line) irq.latch = true;  // rising edge (IHI0069 4.1.1)
  irq.line = level;
  changed(irq);
}

void Distributor::set_spi_message(uint32_t intid, bool set, bool& valid) {
  Irq* irq = find(intid);
  valid = irq != nullptr;
  if (!irq) return;
  // IHI0069 2.3.2 and 12.9 GICD_SETSPI_NSR / GICD_CLRSPI_NSR: SETSPI makes an edge-triggered SPI
  // pending (until it is acknowledged or CLRSPI/ICPENDR removes it) and asserts a level-sensitive
  // one until CLRSPI. CLRSPI removes the pending state of either kind: pending becomes inactive,
  // active and pending becomes active; a level SPI whose input line is high stays pending.
  // SETSPI on a level SPI that is already pending (ISPENDR, the line) still records the assertion:
  // the device has asserted its message level and will de-assert it with CLRSPI
  // (docs/spec-deviations.md row 23).
  if (set) {
    (irq->edge ? irq->latch : irq->msg_level) = true;
  } else {
    irq->latch = false;
    irq->msg_level = false;
  }
  changed(*irq);
}

}  // namespace gicv3
