#include "gic/gic_core.hpp"

#include "gicr/gicr_regs.hpp"

namespace gicv3 {

namespace {
std::vector<uint64_t> mpidrs_of(const Config& cfg) {
  if (!cfg.mpidr.empty()) return cfg.mpidr;
  std::vector<uint64_t> m(cfg.nr_cpus);
  // Default: 16 CPUs per cluster, the most an SGI target list reaches without RSS.
  for (unsigned i = 0; i < cfg.nr_cpus; ++i) m[i] = MPIDR::Aff0::make(i % 16) | MPIDR::Aff1::make(i / 16);
  return m;
}
}  // namespace

GicCore::GicCore(const Config& cfg)
    : cfg_(cfg), topo_(mpidrs_of(cfg)), budget_(cfg.max_host_memory), dist_(cfg_, topo_) {
  cpus_.reserve(cfg.nr_cpus);
  for (unsigned i = 0; i < cfg.nr_cpus; ++i) cpus_.push_back(std::make_unique<CpuContext>(cfg_, i, budget_));
  for (unsigned i = 0; i < cfg_.its.size(); ++i) its_.push_back(std::make_unique<Its>(*this, cfg_.its[i], i));
  cpu_running_.reset(new std::atomic<bool>[cfg.nr_cpus]);
  for (unsigned i = 0; i < cfg.nr_cpus; ++i) cpu_running_[i].store(false, std::memory_order_relaxed);
}

void GicCore::set_vcpu_running(unsigned cpu, bool running) {
  if (cpu_running_[cpu].exchange(running) != running) running_.fetch_add(running ? 1u : ~0u, std::memory_order_acq_rel);
}

uint32_t GicCore::line_levels(unsigned cpu, uint32_t base) {
  uint32_t v = 0;
  auto collect = [&](auto find) {
    for (uint32_t i = 0; i < 32; ++i)
      if (const Irq* irq = find(base + i); irq && irq->line) v |= 1u << i;
  };
  if (Intid{base}.is_private()) {
    CpuContext& c = *cpus_[cpu];
    with_cpu(c, [&] { collect([&](uint32_t id) { return c.redist.find(id); }); });
  } else {
    DistTxn txn(*this);
    collect([&](uint32_t id) { return dist_.find(id); });
  }
  return v;
}

void GicCore::restore_line_levels(unsigned cpu, uint32_t base, uint32_t levels) {
  // The level of the input wire, restored as it was: no edge is detected (a latched edge comes
  // back through GICD_ISPENDR).
  if (Intid{base}.is_private()) {
    CpuContext& c = *cpus_[cpu];
    with_cpu(c, [&] {
      for (uint32_t i = 0; i < 32; ++i)
        if (Irq* irq = c.redist.find(base + i); irq && !Intid{base + i}.is_sgi()) irq->line = (levels >> i) & 1;
    });
    return;
  }
  DistTxn txn(*this);
  for (uint32_t i = 0; i < 32; ++i) {
    if (Irq* irq = dist_.find(base + i)) {
      irq->line = (levels >> i) & 1;
      dist_.changed(*irq);
    }
  }
}

bool GicCore::save_pending_tables() {
  bool ok = true;
  for (auto& cp : cpus_) {
    CpuContext& c = *cp;
    with_cpu(c, [&] {
      if (!c.redist.lpis || !c.redist.enable_lpis) return;
      const uint64_t pend = GICR_PENDBASER::Physical_Address::get(c.redist.pendbaser) << 16;
      ok &= c.redist.lpis->write_pending(mem_, pend, c.redist.lpi_limit.load(std::memory_order_acquire), false);
    });
  }
  return ok;
}

GicCore::~GicCore() = default;

DistTxn::DistTxn(GicCore& g) : g_(g), lock_(g.dist().lock()) {}

DistTxn::~DistTxn() {
  g_.dist().publish(kick);
  lock_.unlock();
  g_.kick(kick);
}

void GicCore::kick(unsigned cpu) {
  CpuContext& c = *cpus_[cpu];
  c.lock.request_update([&] { update_cpu_locked(c); });
}

void GicCore::post_lpi(unsigned cpu) {
  CpuContext& c = *cpus_[cpu];
  // The LPI's pending bit is set and its chunk is on the dirty stack: that is the mailbox the owner
  // drains (LpiTable::process) at its next selection. A selection is needed now only if the
  // output lines can change. They cannot when the IRQ line is already up: the current HPPI is then
  // a signalled Group 1 interrupt, and a newly pending LPI (Group 1) either stays behind it or
  // replaces it with a higher priority, which passes the same priority-mask and running-priority
  // checks (IHI0069 4.8.6), so the lines stay "IRQ" either way. So the injector takes no lock.
  //
  // Why nothing is lost: the lock word is read after the pending bit and the dirty-stack push
  // (seq_cst RMWs); every hold takes the lock with a seq_cst CAS and reads the dirty stack with
  // seq_cst loads. If the lock is free here, any later hold comes after this load in the single
  // total order, so it finds the chunk on the stack (or a process() that already took it in), and
  // acknowledge(), highest_pending() and update_cpu_locked() re-select whenever the stack is not
  // empty (lpis_posted). The lines read here are those of the last update (the lock is free, and
  // every hold updates before it releases) or of a later hold, which already saw this LPI. If the
  // lock is held, the holder may have sampled the stack already: request the update as before.
  if (!c.lock.held() && c.lines.load(std::memory_order_seq_cst) == VGIC_LINE_IRQ) return;
  kick(cpu);
}

void GicCore::kick(const CpuSet& set) {
  if (set.empty()) return;
  for (unsigned i = 0; i < nr_cpus(); ++i)
    if (set.contains(i)) kick(i);
}

}  // namespace gicv3
