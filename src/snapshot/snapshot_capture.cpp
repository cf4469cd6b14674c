// Capture of the full snapshot: every block's guest-visible state into a snapshot::Model.
#include <algorithm>

#include "gicd/gicd_regs.hpp"
#include "snapshot/snapshot_access.hpp"

namespace gicv3 {

using namespace snapshot;

namespace {

IrqState irq_state(const Irq& q) {
  IrqState s;
  s.priority = q.priority;
  s.enabled = q.enabled;
  s.group1 = q.group1;
  s.edge = q.edge;
  s.latch = q.latch;
  s.line = q.line;
  s.msg_level = q.msg_level;
  s.active = q.active;
  s.route = q.route;
  return s;
}

}  // namespace

void SnapshotAccess::capture(Gic::Impl& g, Model& m) {
  GicCore& core = g.core;
  const Config& cfg = core.config();
  std::vector<uint64_t> mpidrs;
  for (unsigned i = 0; i < core.nr_cpus(); ++i) mpidrs.push_back(core.topology().mpidr(i));
  m.config = effective_config(cfg, mpidrs);

  // Distributor (its lock only).
  {
    Distributor& d = core.dist();
    std::lock_guard l(d.lock());
    m.gicd_ctlr = d.ctlr() & uint32_t(mask_of<GICD_CTLR::EnableGrp0, GICD_CTLR::EnableGrp1>());
    for (uint32_t i = 0; i < d.nr_spis(); ++i) m.spis.push_back(irq_state(*d.find(Intid::kPpiEnd + i)));
    for (uint32_t i = 0; i < d.nr_espis(); ++i) m.spis.push_back(irq_state(*d.find(Intid::kEspiBase + i)));
  }

  // CPUs: redistributor, CPU interface, private interrupts, LPIs (each under its CPU lock).
  m.cpus.resize(core.nr_cpus());
  for (unsigned i = 0; i < core.nr_cpus(); ++i) {
    CpuContext& c = core.cpu(i);
    CpuState& s = m.cpus[i];
    core.with_cpu(c, [&] {
      Redistributor& r = c.redist;
      s.processor_sleep = r.processor_sleep;
      s.propbaser = r.propbaser;
      s.pendbaser = r.pendbaser;
      s.ptz = r.ptz;
      s.enable_lpis = r.enable_lpis;
      s.lpis_on = r.lpis_on.load(std::memory_order_acquire);
      s.lpi_limit = r.lpi_limit.load(std::memory_order_acquire);
      s.prop_pa = r.prop_pa.load(std::memory_order_acquire);
      const CpuInterface& icc = c.icc;
      s.pmr = icc.pmr;
      s.bpr = icc.bpr;
      s.apr = icc.apr;
      s.eoimode = icc.eoimode;
      s.cbpr = icc.cbpr;
      s.igrpen = icc.igrpen;
      for (uint32_t id = 0; id < Intid::kPpiEnd; ++id) s.private_irqs.push_back(irq_state(*r.find(id)));
      for (uint32_t k = 0; k < r.nr_eppis(); ++k) s.private_irqs.push_back(irq_state(*r.find(Intid::kEppiBase + k)));
      if (!r.lpis) return;
      LpiTable& t = *r.lpis;
      // Take every change signalled so far into the priority buckets (the owner's step, as an
      // acknowledge would), then read the bits: an MSI that set its bit before this point is
      // seen either in a bucket or in the bits.
      t.process();
      t.for_each_chunk([&](const LpiTable::Chunk& ch) {
        LpiChunk k;
        k.base = ch.base;
        for (unsigned j = 0; j < LpiTable::kChunkSize; ++j) k.config[j] = ch.config[j].load(std::memory_order_acquire);
        for (unsigned w = 0; w < LpiTable::kWords; ++w) k.pending[w] = ch.pending[w].load(std::memory_order_acquire);
        s.lpi_chunks.push_back(k);
      });
      std::sort(s.lpi_chunks.begin(), s.lpi_chunks.end(), [](const LpiChunk& a, const LpiChunk& b) { return a.base < b.base; });
      // The order in which equal-priority LPIs would be taken (FIFO within a priority bucket).
      for (unsigned b = 0; b < 64; ++b) {
        for (uint32_t id = t.head_[b]; id != LpiTable::kNone;) {
          const LpiTable::Chunk* ch = t.find(id);
          const auto it = std::lower_bound(s.lpi_chunks.begin(), s.lpi_chunks.end(), ch->base,
                                           [](const LpiChunk& k, uint32_t base) { return k.base < base; });
          if (it != s.lpi_chunks.end() && it->base == ch->base && it->is_pending(id)) s.lpi_order.push_back(id);
          id = ch->next[id - ch->base];
        }
      }
    });
  }

  // ITSes (each under its lock).
  m.its.resize(core.nr_its());
  for (unsigned i = 0; i < core.nr_its(); ++i) {
    Its& its = core.its(i);
    ItsState& s = m.its[i];
    std::lock_guard l(its.lock_);
    s.enabled = its.enabled_;
    s.cbaser = its.cbaser_;
    s.cwriter = its.cwriter_;
    s.creadr = its.creadr_;
    s.stalled = its.stalled_;
    std::copy(std::begin(its.baser_), std::end(its.baser_), s.baser.begin());
    for (auto [icid, cpu] : its.collections_) s.collections.emplace_back(icid, cpu);
    std::sort(s.collections.begin(), s.collections.end());
    for (auto& [devid, dev] : its.devices_) {
      ItsDevice d;
      d.devid = devid;
      d.event_bits = dev.event_bits;
      d.itt_addr = dev.itt_addr;
      // EventID order: sort the 64-event chunks, not the events (issue 7: sorting every ITE was
      // a fifth of saving 1 M LPIs).
      std::vector<std::pair<uint32_t, const Its::Ite*>> chunks;
      chunks.reserve(dev.ites.size());
      for (auto& [chunk, ites] : dev.ites) chunks.emplace_back(chunk, ites.get());
      std::sort(chunks.begin(), chunks.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      d.ites.reserve(dev.nr_ites);
      for (auto [chunk, ites] : chunks)
        for (unsigned j = 0; j < Its::Device::kChunk; ++j)
          if (ites[j].valid) d.ites.push_back({uint32_t(chunk * Its::Device::kChunk + j), ites[j].intid, ites[j].icid});
      s.devices.push_back(std::move(d));
    }
    std::sort(s.devices.begin(), s.devices.end(), [](const ItsDevice& a, const ItsDevice& b) { return a.devid < b.devid; });
  }

  // GSI routing: one consistent view of the table.
  {
    Grace::Reader r(g.routing.grace_);
    if (const auto* t = g.routing.table_.load(std::memory_order_acquire)) m.gsi_routes = t->routes;
  }

  // User IRQ levels.
  {
    std::lock_guard l(g.user_irq.map_lock_);
    for (size_t b = 0; b < 64; ++b) m.user_irq.map[b] = {g.user_irq.map_[b].ppi, g.user_irq.map_[b].edge};
  }
  for (unsigned i = 0; i < core.nr_cpus(); ++i) m.user_irq.last.push_back(g.user_irq.last_[i].load(std::memory_order_acquire));
}

}  // namespace gicv3
