// Declarative MMIO register tables and the one dispatcher that serves them.
//
// Every frame (GICD, GICR RD_base, GICR SGI_base, the GITS control frame) is a sorted array of RegisterDesc.
// The dispatcher alone checks bounds, access width and alignment, splits 32-bit accesses to 64-bit
// registers into read-modify-write of the whole register, applies the writable mask of plain
// registers, and turns every guest misuse into RAZ/WI plus a counted trace event (IHI0069 12.1.3:
// accesses of an unsupported width, or to reserved offsets, are RAZ/WI or CONSTRAINED
// UNPREDICTABLE; vgic always chooses RAZ/WI). Handlers never see a malformed access.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/trace.hpp"

namespace gicv3::mmio {

// Allowed access sizes, as a bit set.
enum Width : uint8_t { W8 = 1, W16 = 2, W32 = 4, W64 = 8 };

// What the handler is asked to do. A "unit" is one register (plain registers) or one interrupt's
// field (per-IRQ arrays such as GICD_ISENABLER<n> with 1 bit per INTID).
struct Access {
  uint32_t index;        // first unit within the descriptor
  uint32_t intid;        // per-IRQ arrays: first INTID covered (= first_intid + index)
  unsigned units;        // number of units covered
  unsigned size;         // bytes
};

template <class Ctx>
struct RegisterDesc {
  using ReadFn = uint64_t (*)(Ctx&, const Access&);
  using WriteFn = void (*)(Ctx&, const Access&, uint64_t);

  const char* name;
  uint32_t offset;
  uint32_t bytes;          // total span (an array of registers covers count * reg_bytes)
  uint8_t reg_bytes;       // natural register size: 4 or 8
  uint8_t widths;          // allowed access sizes
  uint8_t bits_per_irq;    // 0: plain register(s); else a per-IRQ array with this many bits per INTID
  uint32_t first_intid;    // per-IRQ arrays: INTID of the first unit
  uint64_t reset;          // reset value of each unit where the architecture fixes it; 0 where it
                           // depends on the configuration or the unit (TYPER, ID registers, ICFGR0)
  uint64_t writable;       // plain registers: bits the guest may change (others keep their value)
  ReadFn read;             // nullptr: write-only (reads are RAZ + guest error)
  WriteFn write;           // nullptr: read-only (writes are ignored + guest error)
  // The VMM's write (save/restore, the KVM device-attribute API) when it differs from the guest's:
  // e.g. GITS_CREADR is read-only to the guest but restorable. nullptr: as the guest's write; a
  // register with neither accepts from the VMM only the value it already holds.
  WriteFn restore = nullptr;
  // The VMM's read when it differs from the guest's: GICD_ISPENDR reads the pending latch alone
  // (KVM). nullptr: as the guest's read.
  ReadFn uread = nullptr;

  unsigned unit_bits() const { return bits_per_irq ? bits_per_irq : reg_bytes * 8u; }
};

// Where the dispatcher reports guest misuse.
struct ErrorContext {
  TraceLog& log;
  const char* frame;
  unsigned cpu;  // redistributor's CPU for GICR frames, TraceLog::kNoCpu otherwise
};

template <class Ctx>
const RegisterDesc<Ctx>* find_register(std::span<const RegisterDesc<Ctx>> table, uint32_t off) {
  // Tables are sorted by offset; binary search for the last descriptor starting at or before off.
  size_t lo = 0, hi = table.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (table[mid].offset <= off)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0) return nullptr;
  const RegisterDesc<Ctx>& d = table[lo - 1];
  return off - d.offset < d.bytes ? &d : nullptr;
}

namespace detail {

template <class Ctx>
bool check_access(const RegisterDesc<Ctx>* d, uint32_t off, unsigned size, uint64_t value,
                  bool is_write, const ErrorContext& ec) {
  if (!d) {
    ec.log.guest_error("mmio-reserved", ec.frame, ec.cpu, off, value,
                       is_write ? "write to a reserved offset ignored" : "read of a reserved offset returns 0");
    return false;
  }
  // size must be one of 1, 2, 4, 8 before it is tested against the widths bit set (3 & W8 != 0).
  if (size > 8 || (size & (size - 1)) != 0 || !(d->widths & size) || (off & (size - 1)) != 0) {
    ec.log.guest_error("mmio-width", ec.frame, ec.cpu, off, value,
                       [&] { return std::string(d->name) + ": access of " + std::to_string(size) +
                                    " bytes not allowed or misaligned; RAZ/WI"; });
    return false;
  }
  return true;
}

inline uint64_t size_mask(unsigned size) { return size >= 8 ? ~0ull : ((1ull << (size * 8)) - 1); }

}  // namespace detail

template <class Ctx>
uint64_t dispatch_read(std::span<const RegisterDesc<Ctx>> table, Ctx& ctx, uint32_t off, unsigned size,
                       const ErrorContext& ec) {
  const RegisterDesc<Ctx>* d = find_register(table, off);
  if (!detail::check_access(d, off, size, 0, false, ec)) return 0;
  if (!d->read) {
    ec.log.guest_error("mmio-write-only", ec.frame, ec.cpu, off, 0, [&] { return std::string(d->name) + " is write-only; RAZ"; });
    return 0;
  }
  const unsigned ub = d->unit_bits();
  const uint32_t rel_bits = (off - d->offset) * 8;
  if (size * 8 < ub) {
    // Part of one unit (a 32-bit half of a 64-bit register): read the unit, extract.
    const uint32_t index = rel_bits / ub;
    const uint64_t whole = d->read(ctx, Access{index, d->first_intid + index, 1, ub / 8});
    return (whole >> (rel_bits % ub)) & detail::size_mask(size);
  }
  const uint32_t index = rel_bits / ub;
  return d->read(ctx, Access{index, d->first_intid + index, size * 8 / ub, size}) & detail::size_mask(size);
}

template <class Ctx>
void dispatch_write(std::span<const RegisterDesc<Ctx>> table, Ctx& ctx, uint32_t off, unsigned size,
                    uint64_t value, const ErrorContext& ec) {
  const RegisterDesc<Ctx>* d = find_register(table, off);
  if (!detail::check_access(d, off, size, value, true, ec)) return;
  if (!d->write) {
    ec.log.guest_error("mmio-read-only", ec.frame, ec.cpu, off, value,
                       [&] { return std::string(d->name) + " is read-only; write ignored"; });
    return;
  }
  value &= detail::size_mask(size);
  const unsigned ub = d->unit_bits();
  const uint32_t rel_bits = (off - d->offset) * 8;
  const uint32_t index = rel_bits / ub;
  const bool plain = d->bits_per_irq == 0;
  if (size * 8 < ub || (plain && d->writable != ~0ull)) {
    // Read-modify-write of one whole unit: merges a partial (32-bit half) access, and keeps the
    // read-only bits of a plain register at their current value.
    const Access a{index, d->first_intid + index, 1, ub / 8};
    const uint64_t old = d->read ? d->read(ctx, a) : 0;
    const unsigned shift = rel_bits % ub;
    const uint64_t m = detail::size_mask(size) << shift;
    uint64_t merged = (old & ~m) | (value << shift);
    if (plain) merged = (old & ~d->writable) | (merged & d->writable);
    d->write(ctx, a, merged);
    return;
  }
  d->write(ctx, Access{index, d->first_intid + index, size * 8 / ub, size}, value);
}

// --- The VMM's (userspace) accesses: same tables, no guest-error accounting, precise outcomes.
enum class UAccess { ok, no_register, invalid_value };

template <class Ctx>
UAccess dispatch_uaccess(std::span<const RegisterDesc<Ctx>> table, Ctx& ctx, uint32_t off, unsigned size,
                         uint64_t& value, bool is_write) {
  const RegisterDesc<Ctx>* d = find_register(table, off);
  if (!d || size > 8 || (size & (size - 1)) || !(d->widths & size) || (off & (size - 1))) return UAccess::no_register;
  if (!d->read) return UAccess::no_register;  // write-only registers hold no state to save or restore
  const unsigned ub = d->unit_bits();
  const uint32_t rel_bits = (off - d->offset) * 8;
  const uint32_t index = rel_bits / ub;
  const bool partial = size * 8 < ub;
  const Access whole{index, d->first_intid + index, partial ? 1u : size * 8 / ub, partial ? ub / 8 : size};
  const uint64_t cur = (d->uread ? d->uread : d->read)(ctx, whole);
  const unsigned shift = partial ? rel_bits % ub : 0;
  const uint64_t m = detail::size_mask(size);
  if (!is_write) {
    value = (cur >> shift) & m;
    return UAccess::ok;
  }
  value &= m;
  const typename RegisterDesc<Ctx>::WriteFn fn = d->restore ? d->restore : d->write;
  if (!fn) return ((cur >> shift) & m) == value ? UAccess::ok : UAccess::invalid_value;
  uint64_t v = partial ? (cur & ~(m << shift)) | (value << shift) : value;
  if (d->bits_per_irq == 0 && !d->restore) v = (cur & ~d->writable) | (v & d->writable);
  // A restore handler that refuses the value (out of range, not honourable) sets ctx.rejected.
  ctx.rejected = false;
  fn(ctx, whole, v);
  return ctx.rejected ? UAccess::invalid_value : UAccess::ok;
}

}  // namespace gicv3::mmio
