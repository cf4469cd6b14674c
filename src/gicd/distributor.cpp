#include "gicd/distributor.hpp"

#include "gicd/gicd_regs.hpp"

namespace gicv3 {

Distributor::Distributor(const Config& cfg, const Topology& topo)
    : topo_(topo),
      nr_spis_(cfg.nr_spis),
      nr_espis_(cfg.nr_espis),
      pri_mask_(uint8_t(0xff << (8 - cfg.priority_bits))),
      mbis_(cfg.mbis),
      no1n_(cfg.no1n),
      irqs_(cfg.nr_spis + cfg.nr_espis),
      candidates_((irqs_.size() + 63) / 64) {
  // Reset: every SPI level-sensitive, group 0, priority 0, routed to Aff 0.0.0.0 (IHI0069 12.9:
  // GICD_ICFGR and GICD_IROUTER reset to UNKNOWN/0; vgic chooses 0, see spec-deviations.md).
  for (Irq& irq : irqs_) {
    CpuSet ignored;
    set_route(irq, 0, ignored);
  }
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

void Distributor::add_targets(const Irq& irq, CpuSet& kick) const {
  if (irq.irm)
    kick.add_all();
  else if (irq.target != Irq::kNoTarget)
    kick.add(irq.target);
}

void Distributor::changed(const Irq& irq, CpuSet& kick) {
  const size_t i = size_t(&irq - irqs_.data());
  const uint64_t bit = 1ull << (i % 64);
  if (irq.candidate())
    candidates_[i / 64] |= bit;
  else
    candidates_[i / 64] &= ~bit;
  add_targets(irq, kick);
}

void Distributor::set_route(Irq& irq, uint64_t route, CpuSet& kick) {
  add_targets(irq, kick);  // the old target must drop it
  uint64_t writable = mask_of<GICD_IROUTER::Aff0, GICD_IROUTER::Aff1, GICD_IROUTER::Aff2, GICD_IROUTER::Aff3>();
  // With GICD_TYPER.No1N == 1, IRM is RES0 (IHI0069 12.9.22).
  if (!no1n_) writable |= GICD_IROUTER::IRM::mask;
  irq.route = route & writable;
  irq.irm = GICD_IROUTER::IRM::get(irq.route);
  const uint32_t aff = uint32_t(GICD_IROUTER::Aff0::get(irq.route) | GICD_IROUTER::Aff1::get(irq.route) << 8 |
                                GICD_IROUTER::Aff2::get(irq.route) << 16 | GICD_IROUTER::Aff3::get(irq.route) << 24);
  const auto cpu = topo_.cpu_for_affinity(aff);
  irq.target = cpu ? *cpu : Irq::kNoTarget;
  add_targets(irq, kick);
}

void Distributor::set_line(Irq& irq, bool level, CpuSet& kick) {
  if (irq.edge && level && !irq.line) irq.latch = true;  // rising edge (IHI0069 4.1.1)
  irq.line = level;
  changed(irq, kick);
}

void Distributor::set_spi_message(uint32_t intid, bool set, CpuSet& kick, bool& valid) {
  Irq* irq = find(intid);
  valid = irq != nullptr;
  if (!irq) return;
  // IHI0069 2.3.2 (message-based SPIs): SETSPI makes an edge-triggered SPI pending and asserts a
  // level-sensitive one until CLRSPI; CLRSPI has no effect on an edge-triggered SPI.
  if (irq->edge) {
    if (set) irq->latch = true;
  } else {
    irq->msg_level = set;
    if (!set) irq->latch = false;
  }
  changed(*irq, kick);
}

}  // namespace gicv3
