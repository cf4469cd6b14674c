// LPIs on the Redistributor side (IHI0069 5.1): making them pending, their configuration cache,
// and GICR_CTLR.EnableLPIs transitions with the pending-table read and write-back.
#include "gic/gic_core.hpp"

#include <algorithm>

#include "gicr/gicr_regs.hpp"

namespace gicv3 {

bool GicCore::make_lpi_pending(unsigned cpu, uint32_t intid) {
  if (!set_lpi_pending_bit(cpu, intid)) return false;
  post_lpi(cpu);
  return true;
}

bool GicCore::set_lpi_pending_bit(unsigned cpu, uint32_t intid) {
  Redistributor& r = cpus_[cpu]->redist;
  if (!r.lpis || !r.lpis_on.load(std::memory_order_acquire)) return false;
  if (intid < Intid::kLpiBase || intid >= r.lpi_limit.load(std::memory_order_acquire)) return false;
  if (!r.lpis->set_pending(intid)) {
    // First use of this part of the LPI space on this redistributor: create its state.
    if (!r.lpis->get_or_create(intid, mem_, r.prop_pa.load(std::memory_order_acquire))) {
      log_.guest_error("lpi-budget", "gicr", cpu, intid, 0, "LPI state could not be allocated (host budget); LPI dropped");
      return false;
    }
    r.lpis->set_pending(intid);
  }
  return true;
}

bool GicCore::clear_lpi_pending(unsigned cpu, uint32_t intid) {
  Redistributor& r = cpus_[cpu]->redist;
  if (!r.lpis || !r.lpis->take_pending(intid)) return false;
  kick(cpu);
  return true;
}

void GicCore::move_lpi_pending(unsigned from, unsigned to, uint32_t intid) {
  LpiTable* src = cpus_[from]->redist.lpis.get();
  if (!src || !src->take_pending(intid)) return;  // not pending: nothing to move
  const bool moved = set_lpi_pending_bit(to, intid);
  if (!moved) {
    // The target refused it (EnableLPIs = 0, INTID beyond its range, host budget). IHI0069 5.3
    // MOVI and MOVALL define no outcome for that; vgic keeps the interrupt rather than drop it.
    // Its chunk exists (it was pending), so putting the bit back allocates nothing.
    log_.guest_error("lpi-move-refused", "gits", to, intid, from,
                     "MOVI/MOVALL to a redistributor that cannot hold the LPI; it stays pending on the old one");
    src->set_pending(intid);
  }
  kick(from);
  if (moved) post_lpi(to);
}

size_t GicCore::move_all_lpis(unsigned from, unsigned to, size_t& chunks) {
  LpiTable& src = *cpus_[from]->redist.lpis;
  Redistributor& dst = cpus_[to]->redist;
  const bool on = dst.lpis_on.load(std::memory_order_acquire);
  const uint32_t limit = dst.lpi_limit.load(std::memory_order_acquire);
  const uint64_t prop = dst.prop_pa.load(std::memory_order_acquire);
  size_t moved = 0;
  chunks = src.take_all_pending([&](uint32_t base, LpiTable::PendingWords& bits) {
    size_t n = 0;
    for (uint64_t w : bits) n += size_t(__builtin_popcountll(w));
    // limit is a power of two >= 2^14, so a chunk (1024 LPIs, aligned) is wholly in range or not.
    const uint32_t first = std::max(base, Intid::kLpiBase);
    if (on && base < limit && dst.lpis->get_or_create(first, mem_, prop)) {
      dst.lpis->add_pending(base, bits, mem_, prop);  // the configuration moves too (as MOVI)
      bits = {};
      moved += n;
      return;
    }
    // Refused (EnableLPIs = 0, beyond the target's range, host budget): they stay (rows 88, 89).
    for (unsigned w = 0; w < LpiTable::kWords; ++w)
      for (uint64_t b = bits[w]; b; b &= b - 1)
        log_.guest_error("lpi-move-refused", "gits", to, base + w * 64 + unsigned(__builtin_ctzll(b)), from,
                         "MOVALL to a redistributor that cannot hold the LPI; it stays pending on the old one");
  });
  kick(from);
  kick(to);
  return moved;
}

bool GicCore::consume_lpi_pending(unsigned cpu, uint32_t intid) {
  CpuContext& c = *cpus_[cpu];
  return with_cpu(c, [&] { return consume_lpi_pending_locked(c, intid); });  // recomputes c's outputs on the way out
}

bool GicCore::consume_lpi_pending_locked(CpuContext& c, uint32_t intid) {
  Redistributor& r = c.redist;
  if (!r.lpis || !r.enable_lpis || !r.pendbaser) return false;
  if (intid < Intid::kLpiBase || intid >= r.lpi_limit.load(std::memory_order_acquire)) return false;
  // IHI0069 5.1.2: bit n of the pending table is INTID n's pending state.
  const uint64_t pa = (GICR_PENDBASER::Physical_Address::get(r.pendbaser) << 16) + intid / 8;
  const uint8_t bit = uint8_t(1u << (intid % 8));
  uint8_t byte = 0;
  if (!mem_.read(pa, &byte, 1) || !(byte & bit)) return false;
  if (!r.lpis->get_or_create(intid, mem_, r.prop_pa.load(std::memory_order_acquire))) {
    log_.guest_error("lpi-budget", "gicr", c.index, intid, 0, "LPI state could not be allocated (host budget); left in the pending table");
    return false;
  }
  r.lpis->set_pending(intid);
  byte = uint8_t(byte & ~bit);
  (void)mem_.write(pa, &byte, 1);
  return true;
}

void GicCore::reload_lpi_config(unsigned cpu, uint32_t intid) {
  Redistributor& r = cpus_[cpu]->redist;
  // An unchanged byte changes no LPI's place in the priority order: no re-evaluation and no kick
  // then (issue 7: INV after MAPTI, which already loaded the byte). Every store of a byte marks it
  // dirty and kicks, so the owner has already taken the cached value in.
  if (r.lpis && r.lpis->reload_config(intid, mem_, r.prop_pa.load(std::memory_order_acquire))) kick(cpu);
}

void GicCore::reload_all_lpi_config(unsigned cpu) {
  Redistributor& r = cpus_[cpu]->redist;
  if (!r.lpis) return;
  r.lpis->reload_all_config(mem_, r.prop_pa.load(std::memory_order_acquire));
  kick(cpu);
}

void GicCore::enable_lpis_locked(CpuContext& c) {
  Redistributor& r = c.redist;
  const uint64_t prop = GICR_PROPBASER::table_address(r.propbaser);
  const uint64_t pend = GICR_PENDBASER::Physical_Address::get(r.pendbaser) << 16;
  r.prop_pa.store(prop, std::memory_order_release);
  const uint32_t limit = GICR_PROPBASER::lpi_limit(r.propbaser, cfg_.lpi_id_bits);
  r.lpi_limit.store(limit, std::memory_order_release);
  if (!r.lpis->enable(mem_, prop, pend, r.ptz, limit))
    log_.guest_error("lpi-table", "gicr", c.index, pend, 0,
                     "pending table not (entirely) in guest RAM, or LPI state over the host budget; those LPIs are not pending");
  r.enable_lpis = true;
  r.lpis_on.store(true, std::memory_order_release);
}

void GicCore::disable_lpis_locked(CpuContext& c) {
  Redistributor& r = c.redist;
  r.lpis_on.store(false, std::memory_order_release);
  // No translation made before this point may land after it (IHI0069 5.1: after EnableLPIs is
  // cleared and RWP reads 0, no LPI is pending in the Redistributor's caches). And no command may
  // run during the write-back: a MOVI/MOVALL that took this CPU's bits and then puts back the ones
  // its target refused would put them back after the write-back read them, into host state
  // that EnableLPIs 0 no longer holds (lost at the next enable, and a snapshot that restore
  // refuses). So the write-back runs with every ITS lock held. (DirectLPI writes and the
  // GICR_SETLPIR doorbell hold this CPU's lock.)
  const uint64_t pend = GICR_PENDBASER::Physical_Address::get(r.pendbaser) << 16;
  bool written = true;
  with_its_quiesced([&] { written = r.lpis->write_back_and_clear(mem_, pend, r.lpi_limit.load(std::memory_order_acquire)); });
  if (!written)
    log_.guest_error("lpi-table", "gicr", c.index, pend, 0, "pending table not (entirely) in guest RAM; state lost");
  // The table now holds the pending state just written back, so PTZ's promise of a zero table no
  // longer holds: the next enable reads it (docs/spec-deviations.md row 57).
  r.ptz = false;
  r.enable_lpis = false;
}

// Issue 7: one guest read and one guest write of a byte per LPI were half of restoring 1 M LPIs.
// Here the pending table is read a block at a time and only the bytes whose bits were consumed
// are written back. The result is exactly that of consume_lpi_pending_locked() on each LPI in
// turn: a bit cleared earlier is seen cleared by a later LPI (two events mapping one LPI), and the
// cleared bits are written back before a new LPI chunk reads the configuration table, which the
// guest may have placed over its pending table. A block that is not all guest RAM falls back to
// the byte-wise path, which reads exactly the one byte.
void GicCore::consume_lpis_pending_blocks(unsigned cpu, std::span<const uint32_t> intids) {
  CpuContext& c = *cpus_[cpu];
  with_cpu(c, [&] {
    Redistributor& r = c.redist;
    if (!r.lpis || !r.enable_lpis || !r.pendbaser) return;
    const uint32_t limit = r.lpi_limit.load(std::memory_order_acquire);
    const uint64_t table = GICR_PENDBASER::Physical_Address::get(r.pendbaser) << 16;
    const uint64_t prop = r.prop_pa.load(std::memory_order_acquire);
    // Bytes per guest access (8192 LPIs). The table is limit / 8 >= 2 KiB, a multiple of this.
    constexpr uint32_t kBlock = 1024;
    uint8_t buf[kBlock];
    uint64_t held = UINT64_MAX;  // the block in buf
    bool in_ram = false;
    uint32_t lo = kBlock, hi = 0;  // bytes [lo, hi) of buf changed since it was read or flushed
    const auto flush = [&] {
      if (lo < hi) (void)mem_.write(table + held * kBlock + lo, buf + lo, hi - lo);
      lo = kBlock;
      hi = 0;
    };
    for (uint32_t intid : intids) {
      if (intid < Intid::kLpiBase || intid >= limit) continue;
      const uint32_t at = intid / 8;  // IHI0069 5.1.2: bit n of the pending table is INTID n's
      if (at / kBlock != held) {
        flush();
        held = at / kBlock;
        in_ram = mem_.read(table + held * kBlock, buf, kBlock);
      }
      if (!in_ram) {
        (void)consume_lpi_pending_locked(c, intid);
        continue;
      }
      const uint8_t bit = uint8_t(1u << (intid % 8));
      uint8_t& byte = buf[at % kBlock];
      if (!(byte & bit)) continue;
      LpiTable::Chunk* chunk = r.lpis->find(intid);
      if (!chunk) {
        flush();
        chunk = r.lpis->get_or_create(intid, mem_, prop);
        if (!chunk) {
          log_.guest_error("lpi-budget", "gicr", c.index, intid, 0, "LPI state could not be allocated (host budget); left in the pending table");
          continue;
        }
      }
      r.lpis->set_pending_in(*chunk, intid, nullptr);
      byte = uint8_t(byte & ~bit);
      lo = std::min(lo, at % kBlock);
      hi = std::max(hi, at % kBlock + 1);
    }
    flush();
  });
}

}  // namespace gicv3
