// Moving interrupts between the blocks: choosing each CPU's highest-priority pending interrupt,
// acknowledge, priority drop, deactivation and SGI generation (IHI0069 4.1, 4.7, 4.8, 12.2).
#include <mutex>

#include "cpuif/icc_regs.hpp"
#include "gic/gic_core.hpp"

namespace gicv3 {

Hppi GicCore::select_hppi_locked(CpuContext& c) {
  Hppi best;
  // IHI0069 4.7: an interrupt is a candidate for a CPU interface when it is pending, enabled, not
  // active, its group is enabled in the Distributor (GICD_CTLR), and it targets this CPU. The CPU
  // interface's own group enables and masks decide afterwards whether it is signalled.
  const bool grp[2] = {dist_.group_enabled(Group::g0), dist_.group_enabled(Group::g1)};
  c.redist.for_each_candidate([&](uint32_t intid, const Irq& irq) {
    if (grp[size_t(irq.group())]) best.offer(irq.priority, intid, irq.group());
  });
  // 1-of-N SPIs are offered to every participating CPU (awake, group enabled at its interface);
  // the first to acknowledge takes it (IHI0069 4.6.? ; see spec-deviations.md).
  const bool awake = !c.redist.processor_sleep;
  dist_.for_each_candidate([&](uint32_t intid, const Irq& irq) {
    const Group g = irq.group();
    if (!grp[size_t(g)]) return;
    if (irq.irm ? (awake && c.icc.igrpen[size_t(g)]) : irq.target == c.index) best.offer(irq.priority, intid, g);
  });
  return best;
}

void GicCore::update_cpu_locked(CpuContext& c) {
  {
    std::lock_guard dl(dist_.lock());
    c.icc.hppi = select_hppi_locked(c);
  }
  const int lines = c.icc.lines();
  c.lines.store(lines, std::memory_order_release);
  if (lines != c.notified_lines) {
    c.notified_lines = lines;
    if (auto fn = notifier_.load(); fn && *fn) (*fn)(c.index, lines);
  }
}

void GicCore::set_irq_level(unsigned cpu, uint32_t intid, bool level) {
  const Intid id{intid};
  if (id.is_private()) {
    CpuContext& c = *cpus_[cpu];
    with_cpu(c, [&] {
      if (Irq* irq = c.redist.find(intid)) c.redist.set_line(*irq, level);
    });
    return;
  }
  CpuSet kick_set;
  {
    std::lock_guard dl(dist_.lock());
    if (Irq* irq = dist_.find(intid)) dist_.set_line(*irq, level, kick_set);
  }
  kick(kick_set);
}

uint32_t GicCore::highest_pending(CpuContext& c, Group g) {
  // ICC_HPPIR<n>: the highest-priority pending interrupt if it is of group g and that group is
  // enabled at this interface; the priority mask and running priority do not matter (IHI0069 12.2.12).
  update_cpu_locked(c);
  const Hppi& h = c.icc.hppi;
  if (!h.valid() || h.group != g || !c.icc.igrpen[size_t(g)]) return Intid::kSpurious;
  return h.intid;
}

uint32_t GicCore::acknowledge(CpuContext& c, Group g) {
  CpuSet others;
  uint32_t result = Intid::kSpurious;
  {
    std::lock_guard dl(dist_.lock());
    const Hppi h = select_hppi_locked(c);
    c.icc.hppi = h;
    // IHI0069 12.2.10/11: IAR<n> returns the HPPI only if it belongs to group n and may be
    // signalled; otherwise the spurious INTID 1023, and nothing changes.
    if (h.valid() && h.group == g && c.icc.can_signal(h)) {
      Irq* irq = Intid{h.intid}.is_private() ? c.redist.find(h.intid) : dist_.find(h.intid);
      irq->activate();
      if (Intid{h.intid}.is_shared()) {
        // The pending state is gone for every CPU it was offered to (1-of-N), not just this one.
        dist_.changed(*irq, others);
      }
      c.icc.activate_priority(h);
      result = h.intid;
    }
  }
  if (result == Intid::kSpurious) log_.count_spurious_ack();
  // This CPU is updated by with_cpu() on release; others may need to drop the SPI.
  for (unsigned i = 0; i < nr_cpus(); ++i)
    if (i != c.index && others.contains(i)) kick(i);
  return result;
}

void GicCore::deactivate(CpuContext& c, uint32_t intid, int group_check, CpuSet& kick_set) {
  const Intid id{intid};
  Irq* irq = nullptr;
  std::unique_lock<std::mutex> dl;
  if (id.is_private()) {
    irq = c.redist.find(intid);
  } else if (id.is_shared()) {
    dl = std::unique_lock(dist_.lock());
    irq = dist_.find(intid);
  }
  if (!irq) return;  // special INTIDs, LPIs (no active state) and unimplemented ones: nothing to do
  if (group_check >= 0 && int(irq->group()) != group_check) {
    // IHI0069 12.2.9: EOIR<n> for an interrupt of the other group is UNPREDICTABLE; vgic ignores it.
    log_.guest_error("eoi-wrong-group", "icc", c.index, intid, 0, "EOI of an interrupt of the other group ignored");
    return;
  }
  if (!irq->active) {
    log_.guest_error("deactivate-inactive", "icc", c.index, intid, 0, "deactivation of an interrupt that is not active ignored");
    return;
  }
  irq->active = false;
  if (id.is_shared()) dist_.changed(*irq, kick_set);
}

void GicCore::end_of_interrupt(CpuContext& c, Group g, uint32_t intid) {
  if (Intid{intid}.is_special()) return;  // EOI of a special INTID has no effect (IHI0069 12.2.9)
  if (!c.icc.drop_priority(g)) {
    log_.guest_error("eoi-no-active", "icc", c.index, intid, 0,
                     "EOIR with no active priority of that group (broken nesting) ignored");
    return;
  }
  if (c.icc.eoimode) return;  // EOImode 1: priority drop only; ICC_DIR deactivates
  CpuSet kick_set;
  deactivate(c, intid, int(g), kick_set);
  for (unsigned i = 0; i < nr_cpus(); ++i)
    if (i != c.index && kick_set.contains(i)) kick(i);
}

void GicCore::deactivate_by_dir(CpuContext& c, uint32_t intid) {
  if (!c.icc.eoimode) {
    // IHI0069 12.2.7: a write to ICC_DIR with EOImode == 0 is UNPREDICTABLE; vgic ignores it.
    log_.guest_error("dir-eoimode0", "icc", c.index, intid, 0, "ICC_DIR write while EOImode == 0 ignored");
    return;
  }
  if (Intid{intid}.is_special()) return;
  CpuSet kick_set;
  deactivate(c, intid, -1, kick_set);
  for (unsigned i = 0; i < nr_cpus(); ++i)
    if (i != c.index && kick_set.contains(i)) kick(i);
}

void GicCore::generate_sgi(unsigned from, uint64_t v, uint32_t enc) {
  const uint32_t sgi = uint32_t(ICC_SGIR::INTID::get(v));
  // Which group the SGI is generated for (IHI0069 12.2.21-23 with GICD_CTLR.DS == 1, the guest in
  // Non-secure state): SGI0R -> Group 0; SGI1R -> Group 1; ASGI1R -> the "other" Group 1, which a
  // target forwards only when its SGI is configured as Group 0 (as QEMU does).
  const int want = enc == icc::SGI0R ? 0 : enc == icc::SGI1R ? 1 : 2;
  auto forward = [&](unsigned target) {
    CpuContext& t = *cpus_[target];
    with_cpu(t, [&] {
      Irq& irq = *t.redist.find(sgi);
      const bool g1 = irq.group1;
      const bool ok = want == 0 ? !g1 : want == 1 ? g1 : !g1;
      if (ok) irq.latch = true;
    });
  };
  if (ICC_SGIR::IRM::get(v)) {
    // Every PE except the sender (IHI0069 12.2.22).
    for (unsigned i = 0; i < nr_cpus(); ++i)
      if (i != from) forward(i);
    return;
  }
  const uint64_t rs = ICC_SGIR::RS::get(v);
  if (rs != 0 && !cfg_.rss) {
    // RS != 0 without range-selector support: CONSTRAINED UNPREDICTABLE; vgic forwards nothing.
    log_.guest_error("sgi-rs", "icc", from, enc, v, "ICC_SGI*R.RS != 0 without GICD_TYPER.RSS; SGI ignored");
    return;
  }
  const uint32_t cluster = uint32_t(ICC_SGIR::Aff1::get(v) << 8 | ICC_SGIR::Aff2::get(v) << 16 | ICC_SGIR::Aff3::get(v) << 24);
  for (uint64_t list = ICC_SGIR::TargetList::get(v); list; list &= list - 1) {
    const uint32_t aff0 = uint32_t(rs * 16 + unsigned(__builtin_ctzll(list)));
    // A target that does not exist is ignored (IHI0069 12.2.22).
    if (auto t = topo_.cpu_for_affinity(cluster | aff0)) forward(*t);
  }
}

}  // namespace gicv3
