#include "its/its.hpp"

#include "gic/gic_core.hpp"
#include "gicr/gicr_regs.hpp"

namespace gicv3 {

const char* to_string(MsiOutcome o) {
  switch (o) {
    case MsiOutcome::pending: return "pending";
    case MsiOutcome::its_disabled: return "its-disabled";
    // The replay format's names for "the table could not be read" (traces/FORMAT.md).
    case MsiOutcome::device_table_invalid: return "dte";
    case MsiOutcome::collection_table_invalid: return "cte";
    case MsiOutcome::device_unmapped: return "dte-invalid";
    case MsiOutcome::event_out_of_range: return "other";
    case MsiOutcome::event_unmapped: return "ite-invalid";
    case MsiOutcome::collection_unmapped: return "cte-invalid";
    case MsiOutcome::lpis_disabled: return "lpis-disabled";
  }
  return "?";
}

Its::Its(GicCore& gic, const ItsConfig& cfg, unsigned index)
    : gic_(gic), cfg_(cfg), index_(index), iidr_(cfg.iidr ? cfg.iidr : kDefaultIidr), cache_(cfg.cache_entries) {
  // GITS_BASER0: Device table, GITS_BASER1: Collection table (for ICIDs at or above HCC); 8-byte
  // entries as in the KVM ABI. The others are not implemented (RAZ/WI).
  baser_[0] = GITS_BASER::Type::make(GITS_BASER::kTypeDevice) | GITS_BASER::Entry_Size::make(8 - 1);
  baser_[1] = GITS_BASER::Type::make(GITS_BASER::kTypeCollection) | GITS_BASER::Entry_Size::make(8 - 1);
  collection_cpu_.reset(new std::atomic<uint16_t>[kDirectCollections]);
  for (unsigned i = 0; i < kDirectCollections; ++i) collection_cpu_[i].store(kNoCpu, std::memory_order_relaxed);
}

Its::~Its() {
  for (auto& [id, d] : devices_) gic_.budget().release(Device::bytes_charged(d));
  for (const Device& d : deferred_.devices) gic_.budget().release(Device::bytes_charged(d));  // empty between batches
}

Its::Ite* Its::Device::find(uint32_t eventid) {
  auto it = ites.find(eventid / kChunk);
  if (it == ites.end()) return nullptr;
  Ite* e = &it->second[eventid % kChunk];
  return e->valid ? e : nullptr;
}

bool Its::collection_target(uint32_t icid, unsigned& cpu) const {
  auto it = collections_.find(icid);
  if (it == collections_.end()) return false;
  cpu = it->second;
  return true;
}

bool Its::rdbase_to_cpu(uint64_t rdbase, unsigned& cpu) const {
  if (!cfg_.pta) {
    // PTA = 0: RDbase is the processor number (GICR_TYPER.Processor_Number).
    if (rdbase >= gic_.nr_cpus()) return false;
    cpu = unsigned(rdbase);
    return true;
  }
  // PTA = 1: RDbase is bits [51:16] of the redistributor's physical address (IHI0069 5.3).
  const uint64_t pa = rdbase << 16;
  const uint64_t base = gic_.config().gicr_base;
  if (pa < base || (pa - base) % gicr_off::kStride) return false;
  const uint64_t n = (pa - base) / gicr_off::kStride;
  if (n >= gic_.nr_cpus()) return false;
  cpu = unsigned(n);
  return true;
}

TableLookup Its::check_id(unsigned baser_index, uint64_t id) const {
  // Each GITS_BASER value is decoded once (issue 7: MAPD, and MAPTI/MAPC/INVALL/MOVI with an ICID
  // at or above HCC, check an ID per command). Keyed by the value, so no writer has to invalidate.
  GeometryMemo& m = geometry_[baser_index];
  if (!m.valid || m.baser != baser_[baser_index]) m = {true, baser_[baser_index], TableGeometry::from_baser(baser_[baser_index])};
  uint64_t addr;
  return table_entry_address(gic_.memory(), m.geometry, id, addr);
}

void Its::publish_gate_locked() {
  // IHI0069 12.19 GITS_BASER<n>.Valid == 0: no memory is allocated for the table, and the ITS
  // discards writes to GITS_TRANSLATER when it is the Device table, or the Collection table while
  // GITS_TYPER.HCC == 0 (with HCC > 0 the ITS holds the first HCC collections itself).
  MsiOutcome gate = MsiOutcome::pending;
  if (!enabled_)
    gate = MsiOutcome::its_disabled;
  else if (!GITS_BASER::Valid::get(baser_[0]))
    gate = MsiOutcome::device_table_invalid;
  else if (cfg_.hcc == 0 && !GITS_BASER::Valid::get(baser_[1]))
    gate = MsiOutcome::collection_table_invalid;
  gate_pub_.store(gate, std::memory_order_release);
}

void Its::forget_table_locked(unsigned baser_index) {
  // IHI0069 12.19 GITS_BASER<n>.Valid == 0: "no memory is allocated for the translation table",
  // so nothing it held survives; a driver that makes the table Valid again maps afresh. KVM drops
  // its device or collection list at the same write. Collections below GITS_TYPER.HCC are held by
  // the ITS itself and stay. The ITS is disabled here, so no new MSI starts a translation; the
  // index clear waits out any reader still inside one.
  index_drop_locked();
  if (baser_index == 0) {
    for (auto& [id, d] : devices_) gic_.budget().release(Device::bytes_charged(d));
    devices_.clear();
  } else {
    std::erase_if(collections_, [&](const auto& c) { return c.first >= cfg_.hcc; });
  }
  index_rebuild_locked();
  invalidate_all_locked();
}

Its::Translation Its::translate_locked(uint32_t devid, uint32_t eventid) {
  Translation t{MsiOutcome::pending};
  if (const MsiOutcome gate = gate_pub_.load(std::memory_order_relaxed); gate != MsiOutcome::pending) return {gate};
  auto it = devices_.find(devid);
  if (it == devices_.end()) return {MsiOutcome::device_unmapped};
  Device& d = it->second;
  if (d.event_bits < 32 && (eventid >> d.event_bits) != 0) return {MsiOutcome::event_out_of_range};
  const Ite* e = d.find(eventid);
  if (!e) return {MsiOutcome::event_unmapped};
  t.intid = e->intid;
  t.icid = e->icid;
  if (!collection_target(e->icid, t.cpu)) t.outcome = MsiOutcome::collection_unmapped;
  return t;
}

Its::Translation Its::translate(uint32_t devid, uint32_t eventid) {
  std::lock_guard l(lock_);
  return translate_locked(devid, eventid);
}

bool Its::try_lockfree(uint32_t devid, uint32_t eventid, MsiOutcome& out, int& post) {
  Ite* chunk = ite_index_.find(devid, eventid / Device::kChunk);
  if (!chunk) return false;
  const Ite e = load_ite(chunk[eventid % Device::kChunk]);
  if (!e.valid || e.icid >= kDirectCollections) return false;
  const uint16_t cpu = collection_cpu_[e.icid].load(std::memory_order_relaxed);
  if (cpu == kNoCpu) return false;
  Redistributor& r = gic_.cpu(cpu).redist;
  LpiTable::Chunk* lpis = nullptr;
  if (r.lpis && r.lpis_on.load(std::memory_order_acquire) && e.intid < r.lpi_limit.load(std::memory_order_acquire))
    lpis = r.lpis->find(e.intid);
  if (!lpis) {
    // First MSI to this part of the LPI space (or LPIs off): the creating way.
    const bool set = gic_.set_lpi_pending_bit(cpu, e.intid);
    out = set ? MsiOutcome::pending : MsiOutcome::lpis_disabled;
    if (set) post = cpu;
    return true;
  }
  bool newly = false;
  r.lpis->set_pending_in(*lpis, e.intid, &newly);
  if (newly) post = cpu;
  // Remember the translation for the next MSI if no command runs. Holding lock_ inside the read
  // section proves that every command that completed has had its grace period without waiting for
  // this reader, so what this reader saw is current (a command's writes precede its synchronize()).
  // A fill that would evict another live translation happens for one such miss in kFillEvery (per
  // thread): with more live translations than entries each such fill evicts one as hot as itself,
  // and costs a shared lock word and a written cache line (issue 7); a translation that stays hot
  // still enters after a few misses.
  static constexpr unsigned kFillEvery = 16;
  thread_local unsigned evicting_misses = 0;
  if (cache_.enabled() && (!cache_.set_full(devid, eventid) || ++evicting_misses % kFillEvery == 1) &&
      lock_.try_lock()) {
    cache_.insert(devid, eventid, TranslationCache::Hit{e.intid, cpu, lpis});
    lock_.unlock();
  }
  out = MsiOutcome::pending;
  return true;
}

MsiOutcome Its::signal_msi(uint32_t devid, uint32_t eventid) {
  // The wake-up of the target CPU (post_lpi) comes after the read section and outside the lock:
  // it may run that CPU's update, and run further updates other threads request meanwhile
  // (CpuLock::request_update), which must delay neither a grace period nor ITS commands. The
  // pending bit is set inside, which is all the ordering against DISCARD needs.
  int post = -1;
  MsiOutcome out = MsiOutcome::pending;
  bool resolved = true;
  {
    // No lock (see the class comment). The enabled check is inside the read section: disabling
    // the ITS (and freeing translations after it, restore) waits out every reader that saw it on.
    Grace::Reader reader(grace_);
    if (const MsiOutcome gate = gate_pub_.load(std::memory_order_acquire); gate != MsiOutcome::pending) return gate;
    TranslationCache::Hit hit;
    if (cache_.lookup(devid, eventid, hit)) {
      bool newly = false;
      gic_.cpu(hit.cpu).redist.lpis->set_pending_in(*hit.chunk, hit.intid, &newly);
      if (newly) post = hit.cpu;
    } else {
      resolved = try_lockfree(devid, eventid, out, post);
    }
  }
  if (!resolved) out = signal_msi_locked(devid, eventid, post);
  if (post >= 0) gic_.post_lpi(unsigned(post));
  return out;
}

MsiOutcome Its::signal_msi_locked(uint32_t devid, uint32_t eventid, int& post) {
  // Not resolvable without the lock (an error outcome, or an ICID beyond the direct table).
  counters_.cache_misses.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard l(lock_);
  const Translation t = translate_locked(devid, eventid);
  if (t.outcome != MsiOutcome::pending) return t.outcome;
  if (!gic_.set_lpi_pending_bit(t.cpu, t.intid)) return MsiOutcome::lpis_disabled;
  post = int(t.cpu);
  // The LPI's state exists on the target now: remember the translation for the next MSI.
  if (LpiTable::Chunk* chunk = gic_.cpu(t.cpu).redist.lpis->find(t.intid))
    cache_.insert(devid, eventid, TranslationCache::Hit{t.intid, uint16_t(t.cpu), chunk});
  return MsiOutcome::pending;
}

void Its::invalidate_event(uint32_t devid, uint32_t eventid) {
  cache_.invalidate(devid, eventid);
  grace_.synchronize();
}

void Its::invalidate_all_locked() {
  cache_.invalidate_all();
  grace_.synchronize();
}

void Its::defer_clear(unsigned cpu, uint32_t intid) {
  deferred_.clears.emplace_back(uint16_t(cpu), intid);
  deferred_.clear_filter[intid / 64 % 4] |= 1ull << (intid % 64);
  if (deferred_.clears.size() >= kMaxDeferred) retire_locked();
}

bool Its::deferred_clear_of(uint32_t intid) const {
  if (!(deferred_.clear_filter[intid / 64 % 4] >> (intid % 64) & 1)) return false;
  for (const auto& [cpu, i] : deferred_.clears)
    if (i == intid) return true;
  return false;
}

void Its::retire_locked() {
  if (deferred_.grace) {
    // Every MSI that could still be using a translation removed since the last grace period
    // began before this call; once it returns, none is left (docs/architecture.md, "Deferred
    // grace periods").
    grace_.synchronize();
    deferred_.grace = false;
  }
  // DISCARD: the LPI is no longer pending once the command completed (IHI0069 5.3 DISCARD),
  // including a pending state set by an MSI that had looked the old translation up.
  for (const auto& [cpu, intid] : deferred_.clears) gic_.clear_lpi_pending(cpu, intid);
  deferred_.clears.clear();
  for (uint64_t& w : deferred_.clear_filter) w = 0;
  for (const Device& d : deferred_.devices) gic_.budget().release(Device::bytes_charged(d));
  deferred_.devices.clear();  // frees the ITE chunks: no reader can hold one now
}

bool Its::charge_locked(size_t bytes) {
  if (gic_.budget().charge(bytes)) return true;
  if (deferred_.devices.empty()) return false;
  retire_locked();
  return gic_.budget().charge(bytes);
}

void Its::index_drop_locked() {
  ite_index_.clear();  // waits out every reader
  for (unsigned i = 0; i < kDirectCollections; ++i) collection_cpu_[i].store(kNoCpu, std::memory_order_relaxed);
}

void Its::index_rebuild_locked() {
  for (auto& [id, d] : devices_)
    for (auto& [chunk, ites] : d.ites) ite_index_.insert(id, chunk, ites.get());
  for (auto [icid, cpu] : collections_) set_collection_locked(icid, true, cpu);
}

void Its::set_collection_locked(uint32_t icid, bool valid, unsigned cpu) {
  if (icid < kDirectCollections) collection_cpu_[icid].store(valid ? uint16_t(cpu) : kNoCpu, std::memory_order_relaxed);
}

}  // namespace gicv3
