// Moving interrupts between the blocks: choosing each CPU's highest-priority pending interrupt,
// acknowledge, priority drop, deactivation and SGI generation (IHI0069 4.1, 4.7, 4.8, 12.2).
#include <vector>

#include "cpuif/icc_regs.hpp"
#include "gic/gic_core.hpp"
#include "gicd/gicd_regs.hpp"

namespace gicv3 {

namespace {
// Deactivations that someone asked to hear about, collected while locks are held and fired by
// flush_acks() once they are released. Per thread: each vCPU thread flushes its own.
thread_local std::vector<std::pair<unsigned, uint32_t>> t_acks;
}  // namespace

void GicCore::set_ack_notify(unsigned cpu, uint32_t intid) {
  if (Intid{intid}.is_private()) {
    CpuContext& c = *cpus_[cpu];
    with_cpu(c, [&] {
      if (Irq* irq = c.redist.find(intid)) irq->ack_notify = true;
    });
    return;
  }
  DistTxn txn(*this);
  if (Irq* irq = dist_.find(intid)) irq->ack_notify = true;
}

void GicCore::set_resample(uint32_t intid, bool on) {
  if (!Intid{intid}.is_shared()) return;  // irqchip routes name SPIs only
  DistTxn txn(*this);
  Irq* irq = dist_.find(intid);
  if (!irq) return;
  irq->resample = on;
  if (on) irq->ack_notify = true;  // the resamplefd is written by the ack listener
}

void GicCore::set_line_notifier(LineNotifier fn) {
  std::unique_ptr<const LineNotifier> fresh;
  if (fn) fresh = std::make_unique<const LineNotifier>(std::move(fn));
  std::lock_guard l(notifier_set_lock_);
  notifier_.store(fresh.get(), std::memory_order_release);
  // Quiescence: every call of the old notifier runs inside an update, under that CPU's lock. Once
  // each CPU lock has been taken and released after the store above, no call can still use it.
  for (auto& cp : cpus_) {
    CpuContext& c = *cp;
    c.lock.lock();
    c.lock.unlock([&] { update_cpu_locked(c); });
  }
  notifier_owner_ = std::move(fresh);  // frees the old one
}

void GicCore::flush_acks_slow() {
  gic_detail::t_have_acks = false;
  std::vector<std::pair<unsigned, uint32_t>> acks;
  acks.swap(t_acks);
  if (auto fn = ack_listener_.load(); fn && *fn)
    for (auto [cpu, intid] : acks) (*fn)(cpu, intid);
}

Hppi GicCore::select_hppi_locked(CpuContext& c) {
  // IHI0069 4.7: an interrupt is a candidate for a CPU interface when it is pending, enabled, not
  // active, its group is enabled in the Distributor (GICD_CTLR) and at this CPU interface
  // (ICC_IGRPEN<n>_EL1: an interrupt of a disabled group is released, not held, so it never hides
  // the other group's; KVM's highest-priority-LR selection does the same), and it targets this
  // CPU. The priority mask and running priority decide afterwards whether it is signalled.
  //
  // Every source offers a packed candidate (pack_candidate: priority, INTID, group, valid), whose
  // numeric order is the selection order: lower priority value first, then lower INTID. The best
  // is the smallest offered word of an enabled group (issue 7: a few compares, no branches on
  // Hppi records).
  const uint32_t dctlr = dist_.ctlr();  // one load of the published GICD_CTLR for both groups
  const unsigned grp = unsigned(GICD_CTLR::EnableGrp0::get(dctlr) && c.icc.igrpen[0]) |
                       unsigned(GICD_CTLR::EnableGrp1::get(dctlr) && c.icc.igrpen[1]) << 1;
  if (c.private_dirty) {
    Hppi pb[2];
    c.redist.for_each_candidate([&](uint32_t intid, const Irq& irq) {
      pb[size_t(irq.group())].offer(irq.priority, intid, irq.group());
    });
    for (unsigned g = 0; g < 2; ++g)
      c.private_best[g] = pb[g].valid() ? pack_candidate(pb[g].priority, pb[g].intid, pb[g].group) : 0;
    c.private_dirty = false;
  }
  uint64_t best = ~uint64_t(0);
  auto offer = [&](uint64_t packed) {
    if (packed && ((grp >> unsigned(candidate_group(packed))) & 1) && packed < best) best = packed;
  };
  offer(c.private_best[0]);
  offer(c.private_best[1]);
  offer(dist_.best_targeted(c.index, Group::g0));
  offer(dist_.best_targeted(c.index, Group::g1));
  // 1-of-N SPIs are offered to every participating CPU (awake, group enabled at its interface);
  // the first to acknowledge takes it (IHI0069 12.9, GICD_IROUTER<n>.Interrupt_Routing_Mode: the
  // choice of PE is IMPLEMENTATION DEFINED; see docs/spec-deviations.md, row 22). grp already
  // requires the group enabled at this interface.
  if (!c.redist.processor_sleep) {
    offer(dist_.best_1ofn(Group::g0));
    offer(dist_.best_1ofn(Group::g1));
  }
  // Kept for the update after an LPI acknowledge (update_cpu_locked): everything but the LPIs.
  c.other_best = best;
  c.lpis_offered = false;
  // LPIs are always Group 1 (IHI0069 5.1) and are delivered only while EnableLPIs is set.
  if (LpiTable* lpis = c.redist.lpis.get(); lpis && c.redist.enable_lpis && (grp & 2)) {
    lpis->process();
    c.lpis_offered = true;
    uint8_t prio;
    if (const uint32_t intid = lpis->best(prio)) offer(pack_candidate(prio, intid, Group::g1));
  }
  return hppi_of(best);
}

Hppi GicCore::hppi_of(uint64_t best) {
  if (best == ~uint64_t(0)) return Hppi{};
  return Hppi{candidate_intid(best), candidate_priority(best), candidate_group(best)};
}

Hppi GicCore::reselect_after_lpi_ack(CpuContext& c) {
  // The acknowledge changed only the LPI buckets (it took their best), and no other candidate has
  // changed since the last selection without a kick that will run a full one after this update
  // (every such change is made under this lock, which marks it, or is published and followed by
  // a kick). So the new HPPI is the best of the non-LPI candidates that selection saw and the new
  // head of the LPI buckets: no rescan of the other sources (issue 7).
  uint64_t best = c.other_best;
  uint8_t prio;
  if (const uint32_t intid = c.redist.lpis->best(prio); intid)
    if (const uint64_t p = pack_candidate(prio, intid, Group::g1); p < best) best = p;
  return hppi_of(best);
}

void GicCore::update_cpu_locked(CpuContext& c) {
  // reuse_hppi: the operation under this lock hold changed no candidate (see CpuContext), so the
  // selection made at the last update still stands; only the lines can have changed.
  // LPIs posted without an update (post_lpi) are taken in as well.
  // lpi_acked: this hold acknowledged an LPI and changed nothing else (see reselect_after_lpi_ack).
  // Both flags hold for this one update: the updates drained for kicks after it select in full.
  if (c.lpi_acked && !c.private_dirty && !lpis_posted(c))
    c.icc.hppi = reselect_after_lpi_ack(c);
  else if (!c.reuse_hppi || lpis_posted(c))
    c.icc.hppi = select_hppi_locked(c);
  c.reuse_hppi = false;
  c.lpi_acked = false;
  const int lines = c.icc.lines();
  c.lines.store(lines, std::memory_order_release);
  if (lines != c.notified_lines) {
    c.notified_lines = lines;
    if (const LineNotifier* fn = notifier_.load(std::memory_order_acquire)) (*fn)(c.index, lines);
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
  DistTxn txn(*this);
  if (Irq* irq = dist_.find(intid)) dist_.set_line(*irq, level);
}

uint32_t GicCore::highest_pending(CpuContext& c, Group g) {
  // ICC_HPPIR<n>: the highest-priority pending interrupt if it is of group g and that group is
  // enabled at this interface; the priority mask and running priority do not matter (IHI0069 12.2.12).
  // c.icc.hppi is current when the lock is taken (see acknowledge()), and a read changes nothing,
  // so the update on the way out need not select again.
  c.reuse_hppi = true;
  if (lpis_posted(c)) c.icc.hppi = select_hppi_locked(c);  // LPIs posted while the IRQ line was up
  const Hppi& h = c.icc.hppi;
  if (!h.valid() || h.group != g || !c.icc.igrpen[size_t(g)]) return Intid::kSpurious;
  return h.intid;
}

uint32_t GicCore::acknowledge(CpuContext& c, Group g) {
  // The published SPI state can be a moment old (another CPU may have just taken a 1-of-N SPI),
  // so an SPI is re-checked under the Distributor lock before it is activated; if it is gone the
  // selection runs again.
  // The first attempt uses the selection made when the lock was last released: every change to
  // this CPU's candidates is made under its lock or followed by a kick, and both recompute
  // c.icc.hppi before the lock is free again, so it is current when the lock is taken (a change
  // whose kick is still on its way is concurrent with this acknowledge and may order after it).
  // The exception are LPIs posted while the IRQ line was up (post_lpi): they wait on the dirty
  // stack, and then the selection runs first.
  for (bool current = !lpis_posted(c);; current = false) {
    if (!current) c.icc.hppi = select_hppi_locked(c);
    const Hppi h = c.icc.hppi;
    // IHI0069 12.2.10/11: IAR<n> returns the HPPI only if it belongs to group n and may be
    // signalled; otherwise the spurious INTID 1023, and nothing changes.
    if (!h.valid() || h.group != g || !c.icc.can_signal(h)) {
      log_.count_spurious_ack();
      return Intid::kSpurious;
    }
    const Intid id{h.intid};
    if (id.is_lpi()) {
      // LPIs have no active state. A pending bit taken since this CPU last processed its LPIs (a
      // move to another CPU, CLEAR, DISCARD) is not delivered here: select again, as for an SPI
      // that another CPU took. (Delivering it would deliver a moved LPI twice.)
      if (!c.redist.lpis->acknowledge(h.intid)) continue;
      // Only if the selection that chose it also saw the other sources (it always does when it
      // offered an LPI).
      c.lpi_acked = c.lpis_offered;
    } else if (id.is_private()) {
      c.redist.find(h.intid)->activate();
      c.private_dirty = true;
    } else {
      DistTxn txn(*this);
      Irq* irq = dist_.find(h.intid);
      const bool still_ours = irq->candidate() && irq->priority == h.priority && irq->group() == h.group &&
                              (irq->irm || irq->target == c.index);
      if (!still_ours) continue;  // the transaction publishes the fresh state; select again
      irq->activate();
      dist_.changed(*irq);
    }
    c.icc.activate_priority(h);
    return h.intid;
  }
}

void GicCore::deactivate(CpuContext& c, uint32_t intid, int group_check) {
  const Intid id{intid};
  auto finish = [&](Irq* irq) -> bool {
    if (!irq) return false;  // special INTIDs, LPIs (no active state), unimplemented: nothing to do
    if (group_check >= 0 && int(irq->group()) != group_check) {
      // IHI0069 12.2.9: EOIR<n> for an interrupt of the other group is UNPREDICTABLE; vgic ignores it.
      log_.guest_error("eoi-wrong-group", "icc", c.index, intid, 0, "EOI of an interrupt of the other group ignored");
      return false;
    }
    if (!irq->active) {
      log_.guest_error("deactivate-inactive", "icc", c.index, intid, 0,
                       "deactivation of an interrupt that is not active ignored");
      return false;
    }
    irq->active = false;
    // The mark stays: as KVM's resampler ack notifier, it acts on every deactivation until the
    // last resampling irqfd of the SPI is deassigned or re-routed.
    if (irq->resample) irq->line = false;  // atomically with the deactivation (see Irq::resample)
    if (irq->ack_notify) {
      t_acks.emplace_back(c.index, intid);
      gic_detail::t_have_acks = true;
    }
    return true;
  };
  if (id.is_private()) {
    if (finish(c.redist.find(intid))) c.private_dirty = true;
  } else if (id.is_shared()) {
    DistTxn txn(*this);
    Irq* irq = dist_.find(intid);
    if (finish(irq)) dist_.changed(*irq);
  }
}

void GicCore::end_of_interrupt(CpuContext& c, Group g, uint32_t intid) {
  // A priority drop changes no candidate, only whether the HPPI may be signalled; so does the EOI
  // of an LPI (no active state) or any EOI with EOImode 1 (no deactivation). Then the update on
  // the way out keeps the selection and recomputes the lines only.
  const Intid id{intid};
  const bool drop_only = c.icc.eoimode || !(id.is_private() || id.is_shared());
  if (drop_only) c.reuse_hppi = true;
  if (id.is_special()) return;  // EOI of a special INTID has no effect (IHI0069 12.2.9)
  if (!c.icc.drop_priority(g)) {
    log_.guest_error("eoi-no-active", "icc", c.index, intid, 0,
                     "EOIR with no active priority of that group (broken nesting) ignored");
    return;
  }
  // EOImode 1: priority drop only, ICC_DIR deactivates; an LPI has no active state (IHI0069 5.1).
  if (drop_only) return;
  deactivate(c, intid, int(g));
}

void GicCore::deactivate_by_dir(CpuContext& c, uint32_t intid) {
  if (!c.icc.eoimode) {
    // IHI0069 12.2.7 ICC_DIR_EL1: with EOImode == 0 an implementation must ignore the write.
    log_.guest_error("dir-eoimode0", "icc", c.index, intid, 0, "ICC_DIR write while EOImode == 0 ignored");
    return;
  }
  if (Intid{intid}.is_special()) return;
  deactivate(c, intid, -1);
}

void GicCore::generate_sgi(unsigned from, uint64_t v, uint32_t enc) {
  const uint32_t sgi = uint32_t(ICC_SGIR::INTID::get(v));
  // Which target SGIs a write may make pending (IHI0069 12.2.21-23, "Forwarding an SGI to a target
  // PE", with GICD_CTLR.DS == 1 and the guest in Non-secure state): SGI0R -> Group 0 only; SGI1R ->
  // either group, as the target's SGI is configured ("under certain conditions a write to
  // ICC_SGI1R_EL1 can generate Group 0 interrupts"; KVM does the same); ASGI1R -> the "other"
  // Group 1, which with one Security state reaches only Group 0 SGIs.
  const bool any_group = enc == icc::SGI1R;
  auto forward = [&](unsigned target) {
    CpuContext& t = *cpus_[target];
    with_cpu(t, [&] {
      Irq& irq = *t.redist.find(sgi);
      if (any_group || !irq.group1) irq.latch = true;
    });
  };
  if (ICC_SGIR::IRM::get(v)) {
    // Every PE except the sender (IHI0069 12.2.22).
    for (unsigned i = 0; i < nr_cpus(); ++i)
      if (i != from) forward(i);
    return;
  }
  uint64_t rs = ICC_SGIR::RS::get(v);
  if (rs != 0 && !cfg_.rss) {
    // ICC_CTLR_EL1.RSS == 0 (and so GICD_TYPER.RSS == 0): RS is RES0 (IHI0069 12.2.22), so the
    // field has no effect and TargetList names Aff0 0..15. Counted: a driver that sets it has
    // computed RS for a PE this GIC cannot address.
    log_.guest_error("sgi-rs", "icc", from, enc, v, "ICC_SGI*R.RS != 0 while RSS == 0; RS is RES0, treated as 0");
    rs = 0;
  }
  const uint32_t cluster = uint32_t(ICC_SGIR::Aff1::get(v) << 8 | ICC_SGIR::Aff2::get(v) << 16 | ICC_SGIR::Aff3::get(v) << 24);
  for (uint64_t list = ICC_SGIR::TargetList::get(v); list; list &= list - 1) {
    const uint32_t aff0 = uint32_t(rs * 16 + unsigned(__builtin_ctzll(list)));
    // A target that does not exist is ignored (IHI0069 12.2.22).
    if (auto t = topo_.cpu_for_affinity(cluster | aff0)) forward(*t);
  }
}

}  // namespace gicv3
