// The twelve physical ITS commands (IHI0069 5.3). Each handler validates its operands in the
// order the architecture lists the errors, changes the translations, and returns an outcome;
// only the queue loop (its/its_command_queue.cpp) moves GITS_CREADR.
//
// Every handler that removes or changes a translation invalidates the translation cache at once;
// what must wait for the MSIs that may still be using the old translation (a grace period) is
// deferred to the end of the batch or done before the next command that depends on it.
//
// Deferred grace periods (issue 7; docs/architecture.md, "Deferred grace periods"). A batch runs
// entirely under the ITS lock inside one GITS_CWRITER (or GITS_CTLR) write, and the queue loop
// retires (grace period, then the deferred clears and frees) before that write returns. Nobody can
// observe a command's completion before that: GITS_CREADR is read under the same lock, and so are
// the MSI slow path and every cache fill. An MSI that runs concurrently with the batch is
// concurrent with every command in it, so it may take effect at any point of the batch that is
// consistent with the translation it used. A stale MSI (one that looked up a translation a command
// of the batch removed) is ordered before that command; its only effect is a pending bit on the
// old (CPU, LPI). The deferral is correct as long as no command later in the same batch behaves
// differently because that bit is set late, or clears a bit that a later command set. So:
//  - DISCARD's clear of the old (CPU, LPI) is deferred; before a later MAPTI/MAPI maps that LPI
//    again, or a MAPC makes translations lead to new places, the batch retires (an MSI through the
//    new translation, ordered after the DISCARD, must not be cleared by it).
//  - INT, CLEAR, MOVI and MOVALL read or change pending state: they retire first if a grace
//    period is owed, so a stale MSI cannot set a bit after CLEAR cleared it or MOVI moved it.
//  - ITE chunks of an unmapped device are freed (and their budget released) at the retire.
//  - INV, INVALL, SYNC and MAPD V=1 touch no pending state and create no translation; they do not
//    retire. SYNC's guarantee (IHI0069 5.3 SYNC: the effects of earlier commands are globally
//    observed before later commands) holds because nothing can observe the queue past SYNC before
//    the batch has retired.
#include "its/its_commands.hpp"

#include <array>
#include <new>

#include "gic/gic_core.hpp"

namespace gicv3 {

using namespace its_cmd;
using its_err::code;

struct ItsCommands {
  // Whether an ID is covered by the guest's table; else the error kind to report.
  static uint8_t table_error(TableLookup l, uint8_t out_of_range_kind) {
    return l == TableLookup::unreadable ? its_err::kTableUnreadable : out_of_range_kind;
  }

  static CommandOutcome check_icid(Its& its, uint8_t op, uint32_t icid) {
    if (icid >> its.cfg_.collection_id_bits)
      return CommandOutcome::fail(op, its_err::kCollectionOor, "ICID beyond GITS_TYPER.CIDbits");
    // ICIDs below GITS_TYPER.HCC are held in the ITS itself; the others live in the Collection
    // table, which must cover them (IHI0069 5.2, GITS_TYPER.HCC).
    if (icid < its.cfg_.hcc) return CommandOutcome::ok();
    const TableLookup l = its.check_id(1, icid);
    if (l != TableLookup::ok)
      return CommandOutcome::fail(op, table_error(l, its_err::kCollectionOor), "ICID not covered by the collection table");
    return CommandOutcome::ok();
  }

  // DeviceID beyond GITS_TYPER.Devbits is "DeviceID out of range" for every command that names one.
  static CommandOutcome check_devid(Its& its, uint8_t op, uint32_t dev) {
    if (its.cfg_.device_id_bits < 32 && (dev >> its.cfg_.device_id_bits))
      return CommandOutcome::fail(op, its_err::kDeviceOor, "DeviceID beyond GITS_TYPER.Devbits");
    return CommandOutcome::ok();
  }

  // A mapped device and an EventID within its ITT, with the architectural errors of `op`.
  static CommandOutcome lookup_device(Its& its, uint8_t op, uint32_t devid, uint32_t eventid, Its::Device*& dev) {
    if (auto o = check_devid(its, op, devid); o.kind != CommandOutcome::done) return o;
    auto it = its.devices_.find(devid);
    if (it == its.devices_.end()) return CommandOutcome::fail(op, its_err::kUnmappedDevice, "device not mapped");
    dev = &it->second;
    if (dev->event_bits < 32 && (eventid >> dev->event_bits))
      return CommandOutcome::fail(op, its_err::kIdOor, "EventID beyond the device's ITT size");
    return CommandOutcome::ok();
  }

  // ... and a mapped event on it (and, unless told otherwise, its collection's redistributor).
  static CommandOutcome lookup_event(Its& its, uint8_t op, const EventCommand& c, Its::Ite*& ite, unsigned& cpu,
                                     bool need_collection = true, Its::Device** device = nullptr) {
    Its::Device* d = nullptr;
    if (auto o = lookup_device(its, op, c.device.value, c.event.value, d); o.kind != CommandOutcome::done) return o;
    if (device) *device = d;
    ite = d->find(c.event.value);
    if (!ite) return CommandOutcome::fail(op, its_err::kUnmappedInterrupt, "event not mapped");
    if (need_collection && !its.collection_target(ite->icid, cpu))
      return CommandOutcome::fail(op, its_err::kUnmappedCollection, "the event's collection is not mapped");
    return CommandOutcome::ok();
  }

  static CommandOutcome mapd(Its& its, const RawCommand& raw) {
    const MapdCommand c = MapdCommand::decode(raw);
    const uint32_t dev = c.device.value;
    if (its.cfg_.device_id_bits < 32 && (dev >> its.cfg_.device_id_bits))
      return CommandOutcome::fail(MAPD, its_err::kDeviceOor, "DeviceID beyond GITS_TYPER.Devbits");
    if (const TableLookup l = its.check_id(0, dev); l != TableLookup::ok)
      return CommandOutcome::fail(MAPD, table_error(l, its_err::kDeviceOor), "DeviceID not covered by the device table");
    if (c.valid && unsigned(c.size) + 1 > its.cfg_.event_id_bits)
      return CommandOutcome::fail(MAPD, its_err::kSizeOor, "ITT size larger than GITS_TYPER.ID_bits");
    // Remapping a device or unmapping it drops every translation under it (IHI0069 5.3, MAPD).
    // Unpublished from the lock-free index and the cache now; its ITE chunks are freed (and their
    // budget released) after the batch's grace period. Pending state is not touched.
    if (auto it = its.devices_.find(dev); it != its.devices_.end()) {
      Its::Device& old = it->second;
      // The cache holds only translations that were valid when filled (fills take the ITS lock),
      // and DISCARD drops its entry: a device with no mapped event (Linux discards every event
      // before MAPD V=0) has none, and the other devices' entries stay.
      if (old.nr_ites) its.cache_.invalidate_all();
      if (old.ites.empty()) {
        its.gic_.budget().release(Its::Device::bytes_charged(old));  // no chunk a reader could hold
      } else {
        for (auto& [chunk, ites] : old.ites) its.ite_index_.remove(dev, chunk);
        its.defer_grace();
        its.deferred_.devices.push_back(std::move(old));
      }
      its.devices_.erase(it);
      if (its.deferred_.devices.size() >= Its::kMaxDeferred) its.retire_locked();
    }
    if (!c.valid) return CommandOutcome::ok();
    if (!its.charge_locked(Its::Device::device_cost()))
      return CommandOutcome::fail(MAPD, its_err::kNoResources, "host memory budget exhausted");
    Its::Device& d = its.devices_[dev];
    d.event_bits = uint8_t(c.size + 1);
    d.itt_addr = c.itt_addr;
    return CommandOutcome::ok();
  }

  static CommandOutcome mapc(Its& its, const RawCommand& raw) {
    const MapcCommand c = MapcCommand::decode(raw);
    if (auto o = check_icid(its, MAPC, c.collection.value); o.kind != CommandOutcome::done) return o;
    unsigned cpu = 0;
    if (c.valid && !its.rdbase_to_cpu(c.rdbase, cpu))
      return CommandOutcome::fail(MAPC, its_err::kSizeOor, "RDbase names no redistributor");
    // Translations through this collection start to lead to (another) redistributor: an MSI
    // through them is ordered after this MAPC, so a DISCARD's deferred clear must happen first.
    if (!its.deferred_.clears.empty()) its.retire_locked();
    const bool existed = its.collections_.count(c.collection.value);
    if (c.valid)
      its.collections_[c.collection.value] = uint16_t(cpu);
    else
      its.collections_.erase(c.collection.value);
    its.set_collection_locked(c.collection.value, c.valid, cpu);
    // Translations through this collection now go elsewhere or nowhere. Pending state stays
    // where it is (software moves it with MOVALL, IHI0069 5.3 MAPC).
    if (existed) {
      its.cache_.invalidate_all();
      its.defer_grace();
    }
    return CommandOutcome::ok();
  }

  static CommandOutcome mapti(Its& its, const RawCommand& raw) {
    const MaptiCommand c = MaptiCommand::decode(raw);
    const uint8_t op = c.opcode;
    Its::Device* dev = nullptr;
    if (auto o = lookup_device(its, op, c.device.value, c.event.value, dev); o.kind != CommandOutcome::done) return o;
    Its::Device& d = *dev;
    const unsigned lpi_bits = its.gic_.config().lpi_id_bits;
    if (c.pintid < Intid::kLpiBase || (lpi_bits < 32 && (c.pintid >> lpi_bits)))
      return CommandOutcome::fail(op, its_err::kPhysicalIdOor, "pINTID is not an LPI of this GIC");
    if (auto o = check_icid(its, op, c.collection.value); o.kind != CommandOutcome::done) return o;
    // An MSI through the new translation is ordered after this command: a DISCARD earlier in the
    // batch must have cleared the LPI before it can arrive (see the file comment).
    if (its.deferred_clear_of(c.pintid)) its.retire_locked();
    const uint32_t chunk = c.event.value / Its::Device::kChunk;
    auto& slot = d.ites[chunk];
    if (!slot) {
      if (!its.charge_locked(Its::Device::chunk_cost())) {
        d.ites.erase(chunk);
        return CommandOutcome::fail(op, its_err::kNoResources, "host memory budget exhausted");
      }
      // A host out of memory within the budget is the same command error, not an exception.
      slot.reset(new (std::nothrow) Its::Ite[Its::Device::kChunk]());
      if (!slot) {
        its.gic_.budget().release(Its::Device::chunk_cost());
        d.ites.erase(chunk);
        return CommandOutcome::fail(op, its_err::kNoResources, "host out of memory");
      }
      its.ite_index_.insert(c.device.value, chunk, slot.get());
    }
    Its::Ite& e = slot[c.event.value % Its::Device::kChunk];
    const bool remapped = e.valid;
    Its::store_ite(e, Its::Ite{c.pintid, uint16_t(c.collection.value), true});
    if (remapped) {
      its.cache_.invalidate(c.device.value, c.event.value);  // the old one: gone once the batch completes
      its.defer_grace();
    } else {
      ++d.nr_ites;
    }
    // Load the LPI's configuration into the target redistributor now, as KVM does at MAPTI: a
    // driver that wrote the byte before mapping sends no INV (IHI0069 5.1.1 lets a cache be
    // filled at any time; docs/spec-deviations.md).
    if (unsigned cpu; its.collection_target(e.icid, cpu)) its.gic_.reload_lpi_config(cpu, e.intid);
    return CommandOutcome::ok();
  }

  static CommandOutcome movi(Its& its, const RawCommand& raw) {
    const MoviCommand c = MoviCommand::decode(raw);
    Its::Ite* ite;
    unsigned from;
    if (auto o = lookup_event(its, MOVI, {MOVI, c.device, c.event}, ite, from); o.kind != CommandOutcome::done) return o;
    if (auto o = check_icid(its, MOVI, c.collection.value); o.kind != CommandOutcome::done) return o;
    unsigned to;
    if (!its.collection_target(c.collection.value, to))
      return CommandOutcome::fail(MOVI, its_err::kUnmappedCollection, "target collection not mapped");
    Its::store_ite(*ite, Its::Ite{ite->intid, uint16_t(c.collection.value), true});
    its.cache_.invalidate(c.device.value, c.event.value);
    // Same redistributor: nothing moves, and an MSI through the old translation landed where one
    // through the new one would (no grace period).
    if (from == to) return CommandOutcome::ok();
    // The pending state moves below: every MSI through this or an earlier-removed translation
    // must be over first (one grace period for both; it also applies earlier DISCARDs' clears).
    its.defer_grace();
    its.retire_locked();
    // The configuration and the pending state move with the LPI (IHI0069 5.3 MOVI): Linux sends no
    // INV after MOVI, so a block the new redistributor cached earlier must not hold a stale byte.
    its.gic_.reload_lpi_config(to, ite->intid);
    its.gic_.move_lpi_pending(from, to, ite->intid);
    return CommandOutcome::ok();
  }

  static CommandOutcome movall(Its& its, const RawCommand& raw) {
    const MovallCommand c = MovallCommand::decode(raw);
    unsigned from, to;
    if (!its.rdbase_to_cpu(c.rdbase1, from) || !its.rdbase_to_cpu(c.rdbase2, to))
      return CommandOutcome::fail(MOVALL, its_err::kRdbaseOor, "RDbase names no redistributor");
    if (from == to) return CommandOutcome::ok();
    // Every LPI pending on the first redistributor moves to the second (IHI0069 5.3 MOVALL).
    its.cache_.invalidate_all();
    its.defer_grace();
    its.retire_locked();
    size_t chunks = 0;
    const size_t moved = its.gic_.move_all_lpis(from, to, chunks);
    its.charge_work(16 * chunks + moved / 16);
    return CommandOutcome::ok();
  }

  static CommandOutcome discard(Its& its, const RawCommand& raw) {
    const EventCommand c = EventCommand::decode(raw);
    Its::Ite* ite;
    unsigned cpu = 0;
    Its::Device* dev = nullptr;
    if (auto o = lookup_event(its, DISCARD, c, ite, cpu, false, &dev); o.kind != CommandOutcome::done) return o;
    const uint32_t intid = ite->intid;
    const bool mapped = its.collection_target(ite->icid, cpu);
    Its::store_ite(*ite, Its::Ite{});
    --dev->nr_ites;
    // No MSI that saw this translation may leave the LPI pending once DISCARD completed (the race
    // behind CVE-2024-26598): the clear follows the batch's grace period (retire_locked).
    its.cache_.invalidate(c.device.value, c.event.value);
    its.defer_grace();
    if (mapped) its.defer_clear(cpu, intid);
    return CommandOutcome::ok();
  }

  // INT, CLEAR and INV: resolve the event to its LPI and the collection's redistributor, then act.
  template <uint8_t Op, class Act>
  static CommandOutcome on_mapped_event(Its& its, const RawCommand& raw, Act&& act) {
    const EventCommand c = EventCommand::decode(raw);
    Its::Ite* ite;
    unsigned cpu;
    if (auto o = lookup_event(its, Op, c, ite, cpu); o.kind != CommandOutcome::done) return o;
    return act(cpu, ite->intid);
  }

  // Pending state set by stale MSIs and deferred DISCARD clears land before this command acts.
  static void retire_before_pending_change(Its& its) {
    if (its.deferred_.grace) its.retire_locked();
  }

  static CommandOutcome int_(Its& its, const RawCommand& raw) {
    return on_mapped_event<INT>(its, raw, [&](unsigned cpu, uint32_t intid) {
      retire_before_pending_change(its);
      if (!its.gic_.make_lpi_pending(cpu, intid)) return CommandOutcome::ignore("target cannot take the LPI (EnableLPIs 0, INTID beyond IDbits, or budget)");
      return CommandOutcome::ok();
    });
  }

  static CommandOutcome clear(Its& its, const RawCommand& raw) {
    return on_mapped_event<CLEAR>(its, raw, [&](unsigned cpu, uint32_t intid) {
      retire_before_pending_change(its);
      its.gic_.clear_lpi_pending(cpu, intid);
      return CommandOutcome::ok();
    });
  }

  static CommandOutcome inv(Its& its, const RawCommand& raw) {
    return on_mapped_event<INV>(its, raw, [&](unsigned cpu, uint32_t intid) {
      its.gic_.reload_lpi_config(cpu, intid);
      return CommandOutcome::ok();
    });
  }

  static CommandOutcome invall(Its& its, const RawCommand& raw) {
    const InvallCommand c = InvallCommand::decode(raw);
    if (auto o = check_icid(its, INVALL, c.collection.value); o.kind != CommandOutcome::done) return o;
    unsigned cpu;
    if (!its.collection_target(c.collection.value, cpu))
      return CommandOutcome::fail(INVALL, its_err::kUnmappedCollection, "collection not mapped");
    its.charge_work(16 * its.gic_.cpu(cpu).redist.lpis->nr_chunks());
    its.gic_.reload_all_lpi_config(cpu);
    return CommandOutcome::ok();
  }

  static CommandOutcome sync(Its& its, const RawCommand& raw) {
    unsigned cpu;
    if (!its.rdbase_to_cpu(SyncCommand::decode(raw).rdbase, cpu))
      return CommandOutcome::fail(SYNC, its_err::kSyncRdbaseOor, "RDbase names no redistributor");
    return CommandOutcome::ok();  // every effect is already visible: commands complete synchronously
  }
};

namespace {
constexpr auto kCommands = std::to_array<ItsCommandDesc>({
    {MOVI, "MOVI", ItsCommands::movi},
    {INT, "INT", ItsCommands::int_},
    {CLEAR, "CLEAR", ItsCommands::clear},
    {SYNC, "SYNC", ItsCommands::sync},
    {MAPD, "MAPD", ItsCommands::mapd},
    {MAPC, "MAPC", ItsCommands::mapc},
    {MAPTI, "MAPTI", ItsCommands::mapti},
    {MAPI, "MAPI", ItsCommands::mapti},
    {INV, "INV", ItsCommands::inv},
    {INVALL, "INVALL", ItsCommands::invall},
    {MOVALL, "MOVALL", ItsCommands::movall},
    {DISCARD, "DISCARD", ItsCommands::discard},
});
}  // namespace

// Opcode -> row of kCommands, built once (issue 7: the queue looks every command up).
const ItsCommandDesc* find_its_command(uint8_t opcode) {
  static const auto index = [] {
    std::array<const ItsCommandDesc*, 256> t{};
    for (const ItsCommandDesc& d : kCommands) t[d.opcode] = &d;
    return t;
  }();
  return index[opcode];
}

const char* its_command_name(uint8_t opcode) {
  const ItsCommandDesc* d = find_its_command(opcode);
  return d ? d->name : "unknown";
}

}  // namespace gicv3
