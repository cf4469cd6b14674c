// Apply of a decoded, checked snapshot::Model to a GIC, and the host-budget check that precedes
// it. Derived state is rebuilt here: SPI targets (from GICD_IROUTER), the Distributor's candidate
// bitmap and published best SPIs, LPI priority buckets, every CPU's HPPI and output lines; ITS
// translation caches start empty.
#include <set>

#include "gicd/gicd_regs.hpp"
#include "snapshot/snapshot_access.hpp"

namespace gicv3 {

using namespace snapshot;

namespace {

void set_irq(Irq& q, const IrqState& s) {
  // ack_notify and resample stay: they belong to this GIC's own ack notifiers and irqfds.
  q.priority = s.priority;
  q.enabled = s.enabled;
  q.group1 = s.group1;
  q.edge = s.edge;
  q.latch = s.latch;
  q.line = s.line;
  q.msg_level = s.msg_level;
  q.active = s.active;
}

// The 64-event chunks d's ITEs occupy. decode() checked that they are in ascending EventID order,
// so a chunk's ITEs are adjacent: counting changes is counting chunks (no set per device).
size_t nr_chunks(const ItsDevice& d) {
  size_t n = 0;
  uint32_t prev = UINT32_MAX;  // no chunk index (EventIDs are 32-bit, chunk indexes < 2^26)
  for (const ItsIte& e : d.ites) {
    const uint32_t chunk = e.eventid / Its::Device::kChunk;
    n += chunk != prev;
    prev = chunk;
  }
  return n;
}

size_t device_cost(const ItsDevice& d) { return Its::Device::device_cost() + nr_chunks(d) * Its::Device::chunk_cost(); }

}  // namespace

Status SnapshotAccess::check_budget(Gic::Impl& g, const Model& m) {
  GicCore& core = g.core;
  size_t need = 0, freed = 0;
  for (unsigned i = 0; i < core.nr_its(); ++i) {
    Its& its = core.its(i);
    std::lock_guard l(its.lock_);
    for (auto& [id, d] : its.devices_) freed += Its::Device::bytes_charged(d);
    for (const ItsDevice& d : m.its[i].devices) need += device_cost(d);
  }
  // LPI chunks are never freed while the GIC lives (lpi/lpi_table.hpp): only new ones cost.
  for (unsigned i = 0; i < core.nr_cpus(); ++i) {
    const LpiTable* t = core.cpu(i).redist.lpis.get();
    if (!t) continue;
    std::set<size_t> new_dirs;
    for (const LpiChunk& k : m.cpus[i].lpi_chunks) {
      if (t->find(k.base)) continue;
      need += sizeof(LpiTable::Chunk);
      const size_t d = (k.base >> LpiTable::kChunkShift) >> LpiTable::kDirShift;
      if (!t->dir_[d].load(std::memory_order_acquire) && new_dirs.insert(d).second) need += sizeof(LpiTable::Dir);
    }
  }
  const HostBudget& b = core.budget();
  const size_t used = b.used() - std::min(freed, b.used());
  if (need > b.limit() - std::min(used, b.limit()))
    return {Errc::no_memory, "vgic_restore: the snapshot's ITS translations and LPI state need " + std::to_string(need) +
                                 " bytes of host memory, more than this GIC's max_host_memory leaves"};
  return {};
}

void SnapshotAccess::apply(Gic::Impl& g, const Model& m) {
  GicCore& core = g.core;

  // 1. ITSes: no cached translation (and no MSI using one) survives; then registers and tables.
  for (unsigned i = 0; i < core.nr_its(); ++i) {
    Its& its = core.its(i);
    const ItsState& s = m.its[i];
    std::lock_guard l(its.lock_);
    its.enabled_ = false;
    its.publish_gate_locked();
    its.invalidate_all_locked();
    its.index_drop_locked();  // no MSI holds an ITE chunk when they are freed
    for (auto& [id, d] : its.devices_) core.budget().release(Its::Device::bytes_charged(d));
    its.devices_.clear();
    its.collections_.clear();
    its.devices_.reserve(s.devices.size());
    its.cbaser_ = s.cbaser;
    its.cwriter_ = s.cwriter;
    its.creadr_ = s.creadr;
    its.stalled_ = s.stalled;
    std::copy(s.baser.begin(), s.baser.end(), its.baser_);
    for (auto [icid, cpu] : s.collections) its.collections_.emplace(icid, uint16_t(cpu));
    for (const ItsDevice& sd : s.devices) {
      Its::Device& d = its.devices_[sd.devid];
      d.event_bits = sd.event_bits;
      d.itt_addr = sd.itt_addr;
      Its::Ite* chunk = nullptr;  // the chunk of the previous ITE (ascending EventIDs: one lookup per chunk)
      uint32_t chunk_index = 0;
      for (const ItsIte& e : sd.ites) {
        if (!chunk || e.eventid / Its::Device::kChunk != chunk_index) {
          chunk_index = e.eventid / Its::Device::kChunk;
          auto& slot = d.ites[chunk_index];
          if (!slot) slot.reset(new Its::Ite[Its::Device::kChunk]());
          chunk = slot.get();
        }
        chunk[e.eventid % Its::Device::kChunk] = Its::Ite{e.intid, e.icid, true};
        ++d.nr_ites;
      }
      // Checked by check_budget() with no concurrent user (restore's contract).
      (void)core.budget().charge(Its::Device::bytes_charged(d));
    }
    its.index_rebuild_locked();
    its.enabled_ = s.enabled;
    its.publish_gate_locked();
  }

  // 2. CPUs.
  for (unsigned i = 0; i < core.nr_cpus(); ++i) {
    CpuContext& c = core.cpu(i);
    const CpuState& s = m.cpus[i];
    core.with_cpu(c, [&] {
      Redistributor& r = c.redist;
      for (uint32_t id = 0; id < Intid::kPpiEnd; ++id) set_irq(*r.find(id), s.private_irqs[id]);
      for (uint32_t k = 0; k < r.nr_eppis(); ++k) set_irq(*r.find(Intid::kEppiBase + k), s.private_irqs[Intid::kPpiEnd + k]);
      r.processor_sleep = s.processor_sleep;
      r.propbaser = s.propbaser;
      r.pendbaser = s.pendbaser;
      r.ptz = s.ptz;
      r.enable_lpis = s.enable_lpis;
      r.lpi_limit.store(s.lpi_limit, std::memory_order_release);
      r.prop_pa.store(s.prop_pa, std::memory_order_release);
      CpuInterface& icc = c.icc;
      icc.pmr = s.pmr;
      icc.bpr = s.bpr;
      icc.apr = s.apr;
      icc.eoimode = s.eoimode;
      icc.cbpr = s.cbpr;
      icc.igrpen = s.igrpen;
      if (r.lpis) {
        LpiTable& t = *r.lpis;
        // Forget every pending LPI and bucket; configuration not in the snapshot is not cached
        // there, so it is what a first use would read now: the table in guest RAM.
        t.process();
        t.reload_all_config(core.memory(), s.prop_pa);
        t.for_each_chunk([&](const LpiTable::Chunk& cc) {
          auto& ch = const_cast<LpiTable::Chunk&>(cc);
          for (unsigned w = 0; w < LpiTable::kWords; ++w) {
            ch.pending[w].store(0, std::memory_order_relaxed);
            ch.queued[w] = 0;
          }
          std::fill(std::begin(ch.bucket), std::end(ch.bucket), LpiTable::Chunk::kNoBucket);
        });
        t.head_.fill(LpiTable::kNone);
        t.tail_.fill(LpiTable::kNone);
        t.nonempty_ = 0;
        for (const LpiChunk& k : s.lpi_chunks) {
          LpiTable::Chunk* ch = t.get_or_create(k.base, core.memory(), s.prop_pa);  // budget checked
          if (!ch) continue;
          for (unsigned j = 0; j < LpiTable::kChunkSize; ++j) ch->config[j].store(k.config[j], std::memory_order_relaxed);
          t.mark_dirty(ch, LpiTable::Chunk::kAllWords);
        }
        t.process();
        // Pending LPIs in their saved order, each appended to the tail of its priority bucket as
        // in the source (what process() would do for it alone, without rescanning the chunk);
        // then the rest (disabled ones, or ones that arrived after the source last sorted its
        // buckets), which process() takes in.
        for (uint32_t id : s.lpi_order) {
          LpiTable::Chunk* ch = t.find(id);
          if (!ch) continue;
          const unsigned j = id - ch->base;
          const uint64_t bit = uint64_t(1) << (j % 64);
          ch->pending[j / 64].fetch_or(bit, std::memory_order_acq_rel);
          ch->queued[j / 64] |= bit;
          const uint8_t cfg = ch->config[j].load(std::memory_order_relaxed);
          if (cfg & LPI_CONFIG::kEnable)
            t.bucket_insert(id, uint8_t((cfg & LPI_CONFIG::kPriorityMask & t.pri_mask_) >> 2));
        }
        for (const LpiChunk& k : s.lpi_chunks) {
          LpiTable::Chunk* ch = t.find(k.base);
          if (!ch) continue;
          for (unsigned w = 0; w < LpiTable::kWords; ++w) ch->pending[w].fetch_or(k.pending[w], std::memory_order_acq_rel);
          t.mark_dirty(ch, LpiTable::Chunk::kAllWords);
        }
        t.process();
      }
      r.lpis_on.store(s.lpis_on, std::memory_order_release);
    });
  }

  // 3. Distributor.
  {
    DistTxn txn(core);
    Distributor& d = core.dist();
    d.write_ctlr(m.gicd_ctlr, txn.kick);
    for (size_t i = 0; i < m.spis.size(); ++i) {
      const uint32_t intid = i < d.nr_spis() ? Intid::kPpiEnd + uint32_t(i) : Intid::kEspiBase + uint32_t(i - d.nr_spis());
      Irq& q = *d.find(intid);
      set_irq(q, m.spis[i]);
      d.set_route(q, m.spis[i].route);
      d.changed(q);
    }
    txn.kick.add_all();
  }

  // 4. VMM integration: GSI routing and user IRQ levels.
  // The saved table replaces the current one (the default table at creation, too), and the
  // resample marks of the irqfds still assigned follow it.
  (void)g.routing.set(m.gsi_routes);  // checked by decode() with the same rules
  g.irqfds.routing_changed();
  {
    std::lock_guard l(g.user_irq.map_lock_);
    for (size_t b = 0; b < 64; ++b) g.user_irq.map_[b] = {m.user_irq.map[b].ppi, m.user_irq.map[b].edge};
  }
  g.user_irq.recompute_edge_bits();
  for (unsigned i = 0; i < core.nr_cpus(); ++i) g.user_irq.last_[i].store(m.user_irq.last[i], std::memory_order_release);

  for (unsigned i = 0; i < core.nr_cpus(); ++i) core.kick(i);
}

}  // namespace gicv3
