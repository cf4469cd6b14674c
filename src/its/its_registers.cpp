// The GITS control frame as a register table (IHI0069 12.19, ITS register map), and the translation
// frame (GITS_TRANSLATER). Registers and command-queue processing are under the ITS lock.
#include <array>

#include "gic/gic_core.hpp"
#include "gicd/gicd_regs.hpp"
#include "its/its.hpp"
#include "mmio/irq_registers.hpp"

namespace gicv3 {

struct ItsRegisters {
  using Ctx = ItsRegisters;
  Its& its;
  bool rejected = false;  // set by a restore handler that refuses the VMM's value

  static uint64_t read_ctlr(Ctx& c, const mmio::Access&) {
    // Quiescent: no command or translation is ever in progress between two accesses, so the ITS
    // is quiescent whenever it is disabled (IHI0069 12.19, GITS_CTLR.Quiescent).
    return c.its.enabled_ ? GITS_CTLR::Enabled::mask : GITS_CTLR::Quiescent::mask;
  }
  static void write_ctlr(Ctx& c, const mmio::Access&, uint64_t v) {
    const bool en = GITS_CTLR::Enabled::get(v);
    if (en == c.its.enabled_) return;
    c.its.enabled_ = en;
    c.its.publish_gate_locked();
    if (en) {
      c.its.process_queue();  // commands already queued run now (as the trace format expects)
    } else {
      c.its.invalidate_all_locked();  // no translation outlives the disable
    }
  }
  static uint64_t read_iidr(Ctx& c, const mmio::Access&) { return c.its.iidr_; }
  // The VMM's write selects the table ABI by Revision, as KVM's (which keeps its own Implementer and
  // ProductID: a stream from KVM carries KVM's GITS_IIDR, and QEMU writes it first). vgic implements
  // one revision, the configured one: another is refused.
  static void restore_iidr(Ctx& c, const mmio::Access&, uint64_t v) {
    c.rejected = GITS_IIDR::Revision::get(v) != GITS_IIDR::Revision::get(c.its.iidr_);
  }
  static uint64_t read_typer(Ctx& c, const mmio::Access&) {
    const ItsConfig& k = c.its.cfg_;
    return GITS_TYPER::Physical::make(1) | GITS_TYPER::ITT_entry_size::make(k.itt_entry_size - 1) |
           GITS_TYPER::ID_bits::make(k.event_id_bits - 1) | GITS_TYPER::Devbits::make(k.device_id_bits - 1) |
           GITS_TYPER::SEIS::make(k.seis) | GITS_TYPER::PTA::make(k.pta) | GITS_TYPER::HCC::make(k.hcc) |
           GITS_TYPER::CIDbits::make(k.collection_id_bits - 1) | GITS_TYPER::CIL::make(1);
  }
  static uint64_t read_cbaser(Ctx& c, const mmio::Access&) { return c.its.cbaser_; }
  static void write_cbaser(Ctx& c, const mmio::Access&, uint64_t v) {
    if (c.its.enabled_) {
      // IHI0069 12.19: writing GITS_CBASER while the ITS is enabled is UNPREDICTABLE; ignored.
      c.its.gic_.log().guest_error("its-cbaser-locked", "gits", TraceLog::kNoCpu, gits_off::CBASER, v,
                                   "GITS_CBASER written while the ITS is enabled; ignored");
      return;
    }
    c.its.cbaser_ = v;
    c.its.creadr_ = 0;  // writing CBASER resets CREADR (IHI0069 12.19)
    c.its.stalled_ = false;
  }
  static uint64_t read_cwriter(Ctx& c, const mmio::Access&) { return c.its.cwriter_; }
  static void write_cwriter(Ctx& c, const mmio::Access&, uint64_t v) {
    c.its.cwriter_ = GITS_CQ::Offset::make(GITS_CQ::Offset::get(v));
    // Retry restarts a stalled queue at the command that failed (IHI0069 12.19 GITS_CWRITER).
    if (GITS_CQ::Retry::get(v) && c.its.stalled_) c.its.stalled_ = false;
    c.its.process_queue();
  }
  static uint64_t read_creadr(Ctx& c, const mmio::Access& a) {
    // Commands left over by the work limit of process_queue() run while the driver polls.
    if (c.its.queue_runnable()) c.its.process_queue();
    return peek_creadr(c, a);
  }
  static uint64_t peek_creadr(Ctx& c, const mmio::Access&) {
    return c.its.creadr_ | GITS_CQ::Stalled::make(c.its.stalled_);
  }
  // Restore (the VMM, in the seed-003 order: CBASER, then the others, CTLR last).
  static void restore_creadr(Ctx& c, const mmio::Access&, uint64_t v) {
    const uint64_t off = GITS_CQ::Offset::make(GITS_CQ::Offset::get(v));
    if (c.its.enabled_ || off >= (GITS_CBASER::Size::get(c.its.cbaser_) + 1) * 4096) {
      c.rejected = true;  // as KVM: -EINVAL (-EBUSY there while enabled)
      return;
    }
    c.its.creadr_ = off;
    c.its.stalled_ = GITS_CQ::Stalled::get(v);
  }
  static void restore_cwriter(Ctx& c, const mmio::Access&, uint64_t v) {
    const uint64_t off = GITS_CQ::Offset::make(GITS_CQ::Offset::get(v));
    if (off >= (GITS_CBASER::Size::get(c.its.cbaser_) + 1) * 4096) {
      c.rejected = true;
      return;
    }
    c.its.cwriter_ = off;  // stored only: commands run when GITS_CTLR enables the ITS
  }
  static uint64_t read_baser(Ctx& c, const mmio::Access& a) { return c.its.baser_[a.index]; }
  static void write_baser(Ctx& c, const mmio::Access& a, uint64_t v) {
    uint64_t& reg = c.its.baser_[a.index];
    if (GITS_BASER::Type::get(reg) == GITS_BASER::kTypeNone) return;  // not implemented: RAZ/WI
    if (c.its.enabled_) {
      c.its.gic_.log().guest_error("its-baser-locked", "gits", TraceLog::kNoCpu, gits_off::BASER + 8 * a.index, v,
                                   "GITS_BASER<n> written while the ITS is enabled; ignored");
      return;
    }
    // Type and Entry_Size are read-only; every other field reads back as written (drivers such
    // as Zephyr's check this).
    constexpr uint64_t ro = GITS_BASER::Type::mask | GITS_BASER::Entry_Size::mask;
    const bool was_valid = GITS_BASER::Valid::get(reg);
    reg = (reg & ro) | (v & ~ro);
    if (was_valid && !GITS_BASER::Valid::get(reg)) c.its.forget_table_locked(a.index);
  }
  static uint64_t read_id(Ctx&, const mmio::Access& a) { return kGicIdRegs[a.index]; }
};

namespace {
using Ctx = ItsRegisters;
using Desc = mmio::RegisterDesc<Ctx>;
using namespace gits_off;
using mmio::reg;
using mmio::raz_wi;
constexpr uint8_t W32 = mmio::Width::W32, W32_64 = mmio::Width::W32 | mmio::Width::W64;

constexpr auto kTable = std::to_array<Desc>({
    reg<Ctx>("GITS_CTLR", CTLR, 4, W32, GITS_CTLR::Quiescent::mask, GITS_CTLR::Enabled::mask, Ctx::read_ctlr,
             Ctx::write_ctlr),
    reg<Ctx>("GITS_IIDR", IIDR, 4, W32, 0, 0, Ctx::read_iidr, nullptr, 1, Ctx::restore_iidr),
    reg<Ctx>("GITS_TYPER", TYPER, 8, W32_64, 0, 0, Ctx::read_typer, nullptr),
    raz_wi<Ctx>("GITS_STATUSR", STATUSR, 4, W32),  // optional, not implemented
    reg<Ctx>("GITS_CBASER", CBASER, 8, W32_64, 0, ~0ull, Ctx::read_cbaser, Ctx::write_cbaser),
    reg<Ctx>("GITS_CWRITER", CWRITER, 8, W32_64, 0, ~0ull, Ctx::read_cwriter, Ctx::write_cwriter, 1, Ctx::restore_cwriter),
    [] {
      Desc d = reg<Ctx>("GITS_CREADR", CREADR, 8, W32_64, 0, 0, Ctx::read_creadr, nullptr, 1, Ctx::restore_creadr);
      d.uread = Ctx::peek_creadr;  // the VMM's read (save) runs no command
      return d;
    }(),
    reg<Ctx>("GITS_BASER<n>", BASER, 8, W32_64, 0, ~0ull, Ctx::read_baser, Ctx::write_baser, 8),
    reg<Ctx>("GITS_PIDR4..CIDR3", ID_REGS, 4, W32, 0, 0, Ctx::read_id, nullptr, 12),
});

constexpr bool sorted_and_disjoint() {
  for (size_t i = 1; i < kTable.size(); ++i)
    if (kTable[i - 1].offset + kTable[i - 1].bytes > kTable[i].offset) return false;
  return kTable.back().offset + kTable.back().bytes <= kFrameSize;
}
static_assert(sorted_and_disjoint(), "GITS table must be sorted by offset and its entries disjoint");
}  // namespace

uint64_t Its::mmio_read(uint32_t offset, unsigned size) {
  if (offset >= kFrameSize) {
    // Translation frame: GITS_TRANSLATER is write-only; everything there reads as zero.
    gic_.log().guest_error(offset == kFrameSize + TRANSLATER ? "mmio-write-only" : "mmio-reserved", "gits-translater",
                           TraceLog::kNoCpu, offset, 0, "read of the ITS translation frame returns 0");
    return 0;
  }
  std::lock_guard l(lock_);
  ItsRegisters ctx{*this};
  return mmio::dispatch_read<Ctx>(kTable, ctx, offset, size, mmio::ErrorContext{gic_.log(), "gits", TraceLog::kNoCpu});
}

mmio::UAccess Its::uaccess(uint32_t offset, uint64_t& value, bool is_write) {
  if (offset >= kFrameSize) return mmio::UAccess::no_register;
  const mmio::RegisterDesc<Ctx>* d = mmio::find_register<Ctx>(kTable, offset);
  if (!d) return mmio::UAccess::no_register;
  std::lock_guard l(lock_);
  ItsRegisters ctx{*this};
  return mmio::dispatch_uaccess<Ctx>(kTable, ctx, offset, d->reg_bytes, value, is_write);
}

void Its::reset() {
  std::lock_guard l(lock_);
  enabled_ = false;
  publish_gate_locked();
  cbaser_ = cwriter_ = creadr_ = 0;
  stalled_ = false;
  for (uint64_t& b : baser_) b &= GITS_BASER::Type::mask | GITS_BASER::Entry_Size::mask;
  index_drop_locked();  // no reader holds a chunk when they are freed
  for (auto& [id, d] : devices_) gic_.budget().release(Device::bytes_charged(d));
  devices_.clear();
  collections_.clear();
  invalidate_all_locked();
}

void Its::mmio_write(uint32_t offset, unsigned size, uint64_t value) {
  if (offset >= kFrameSize) {
    // A CPU write to GITS_TRANSLATER is an MSI from DeviceID 0 (as on QEMU's virt machine, where no
    // DeviceID travels with a CPU store). 16- and 32-bit writes are allowed (IHI0069 12.19).
    if (offset - kFrameSize == TRANSLATER && (size == 2 || size == 4)) {
      // A 16-bit write writes bits [31:16] as zero (IHI0069 12.19 GITS_TRANSLATER).
      (void)signal_msi(0, uint32_t(value & (size == 2 ? 0xffffu : 0xffffffffu)));
      return;
    }
    gic_.log().guest_error("mmio-reserved", "gits-translater", TraceLog::kNoCpu, offset, value,
                           "write to the ITS translation frame other than GITS_TRANSLATER ignored");
    return;
  }
  std::lock_guard l(lock_);
  ItsRegisters ctx{*this};
  mmio::dispatch_write<Ctx>(kTable, ctx, offset, size, value, mmio::ErrorContext{gic_.log(), "gits", TraceLog::kNoCpu});
}

}  // namespace gicv3
