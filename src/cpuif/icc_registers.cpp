// The CPU interface system registers (IHI0069 12.2) as one declarative table, and the one
// dispatcher that serves them. Encodings follow KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS.
#include <array>

#include "cpuif/icc_regs.hpp"
#include "gic/gic_core.hpp"

namespace gicv3 {

namespace {

struct SysregCtx {
  GicCore& gic;
  CpuContext& c;
  CpuInterface& icc() { return c.icc; }
};

struct SysregDesc {
  const char* name;
  uint32_t encoding;
  uint8_t count;  // AP0R<n>/AP1R<n>: consecutive op2 values
  bool locked;    // runs under the CPU lock (all but SGI generation)
  bool state;     // CPU interface state the VMM saves and restores (KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS)
  uint64_t (*read)(SysregCtx&, unsigned index);          // nullptr: reads are UNDEFINED
  void (*write)(SysregCtx&, unsigned index, uint64_t);  // nullptr: writes are UNDEFINED
};

Group grp(unsigned g) { return g ? Group::g1 : Group::g0; }

uint64_t read_pmr(SysregCtx& s, unsigned) { return s.icc().pmr; }
void write_pmr(SysregCtx& s, unsigned, uint64_t v) { s.icc().write_pmr(v); }

template <unsigned G>
uint64_t read_iar(SysregCtx& s, unsigned) {
  return s.gic.acknowledge(s.c, grp(G));
}
template <unsigned G>
void write_eoir(SysregCtx& s, unsigned, uint64_t v) {
  s.gic.end_of_interrupt(s.c, grp(G), uint32_t(ICC_INTID::get(v)));
}
template <unsigned G>
uint64_t read_hppir(SysregCtx& s, unsigned) {
  return s.gic.highest_pending(s.c, grp(G));
}
template <unsigned G>
uint64_t read_bpr(SysregCtx& s, unsigned) {
  return s.icc().read_bpr(grp(G));
}
template <unsigned G>
void write_bpr(SysregCtx& s, unsigned, uint64_t v) {
  s.icc().write_bpr(grp(G), v);
}
template <unsigned G>
uint64_t read_apr(SysregCtx& s, unsigned n) {
  return s.icc().apr[G][n];
}
template <unsigned G>
void write_apr(SysregCtx& s, unsigned n, uint64_t v) {
  // Software writes only 0 or a value it read (IHI0069 12.2.1); vgic stores what it is given.
  s.icc().apr[G][n] = uint32_t(v);
}
void write_dir(SysregCtx& s, unsigned, uint64_t v) { s.gic.deactivate_by_dir(s.c, uint32_t(ICC_INTID::get(v))); }
uint64_t read_rpr(SysregCtx& s, unsigned) { return s.icc().running_priority(); }

template <uint32_t Enc>
void write_sgi(SysregCtx& s, unsigned, uint64_t v) {
  s.gic.generate_sgi(s.c.index, v, Enc);
}

uint64_t read_ctlr(SysregCtx& s, unsigned) {
  const Config& cfg = s.gic.config();
  const CpuInterface& icc = s.icc();
  return ICC_CTLR::CBPR::make(icc.cbpr) | ICC_CTLR::EOImode::make(icc.eoimode) |
         ICC_CTLR::PRIbits::make(icc.priority_bits() - 1) | ICC_CTLR::IDbits::make(cfg.lpi_id_bits > 16 ? 1 : 0) |
         ICC_CTLR::A3V::make(1) | ICC_CTLR::RSS::make(cfg.rss) | ICC_CTLR::ExtRange::make(1);
}
void write_ctlr(SysregCtx& s, unsigned, uint64_t v) {
  // Only CBPR and EOImode are writable; PMHE is RAZ/WI (no priority-mask hint), the rest read-only.
  s.icc().cbpr = ICC_CTLR::CBPR::get(v);
  s.icc().eoimode = ICC_CTLR::EOImode::get(v);
}

// The system-register interface is the only one: SRE, DFB and DIB are RAO/WI (IHI0069 12.2.16).
uint64_t read_sre(SysregCtx&, unsigned) { return mask_of<ICC_SRE::SRE, ICC_SRE::DFB, ICC_SRE::DIB>(); }
void write_sre(SysregCtx&, unsigned, uint64_t) {}

template <unsigned G>
uint64_t read_igrpen(SysregCtx& s, unsigned) {
  return s.icc().igrpen[G];
}
template <unsigned G>
void write_igrpen(SysregCtx& s, unsigned, uint64_t v) {
  s.icc().igrpen[G] = ICC_IGRPEN_Enable::get(v);
}

constexpr auto kTable = std::to_array<SysregDesc>({
    {"ICC_PMR_EL1", icc::PMR, 1, true, true, read_pmr, write_pmr},
    {"ICC_IAR0_EL1", icc::IAR0, 1, true, false, read_iar<0>, nullptr},
    {"ICC_EOIR0_EL1", icc::EOIR0, 1, true, false, nullptr, write_eoir<0>},
    {"ICC_HPPIR0_EL1", icc::HPPIR0, 1, true, false, read_hppir<0>, nullptr},
    {"ICC_BPR0_EL1", icc::BPR0, 1, true, true, read_bpr<0>, write_bpr<0>},
    {"ICC_AP0R<n>_EL1", icc::AP0R0, 4, true, true, read_apr<0>, write_apr<0>},
    {"ICC_AP1R<n>_EL1", icc::AP1R0, 4, true, true, read_apr<1>, write_apr<1>},
    {"ICC_DIR_EL1", icc::DIR, 1, true, false, nullptr, write_dir},
    {"ICC_RPR_EL1", icc::RPR, 1, true, false, read_rpr, nullptr},
    {"ICC_SGI1R_EL1", icc::SGI1R, 1, false, false, nullptr, write_sgi<icc::SGI1R>},
    {"ICC_ASGI1R_EL1", icc::ASGI1R, 1, false, false, nullptr, write_sgi<icc::ASGI1R>},
    {"ICC_SGI0R_EL1", icc::SGI0R, 1, false, false, nullptr, write_sgi<icc::SGI0R>},
    {"ICC_IAR1_EL1", icc::IAR1, 1, true, false, read_iar<1>, nullptr},
    {"ICC_EOIR1_EL1", icc::EOIR1, 1, true, false, nullptr, write_eoir<1>},
    {"ICC_HPPIR1_EL1", icc::HPPIR1, 1, true, false, read_hppir<1>, nullptr},
    {"ICC_BPR1_EL1", icc::BPR1, 1, true, true, read_bpr<1>, write_bpr<1>},
    {"ICC_CTLR_EL1", icc::CTLR, 1, true, true, read_ctlr, write_ctlr},
    {"ICC_SRE_EL1", icc::SRE, 1, true, true, read_sre, write_sre},
    {"ICC_IGRPEN0_EL1", icc::IGRPEN0, 1, true, true, read_igrpen<0>, write_igrpen<0>},
    {"ICC_IGRPEN1_EL1", icc::IGRPEN1, 1, true, true, read_igrpen<1>, write_igrpen<1>},
});

// Direct-indexed dispatch (issue 7: IAR/EOIR are on every interrupt; a linear search put IAR1
// behind twelve compares). Every ICC register has op0 = 3, op1 = 0 and CRn 4 or 12, so CRn bit 3,
// CRm and op2 (8 bits) index a 256-slot table; a slot holds the table row and is confirmed against
// the full encoding.
constexpr unsigned slot_of(uint32_t enc) { return ((enc >> 10) & 1) << 7 | (enc & 0x7f); }

struct Slot {
  uint8_t row = 0xff;  // index into kTable, 0xff: none
  uint8_t index = 0;   // AP<n>R: n
};

constexpr auto kSlots = [] {
  std::array<Slot, 256> slots{};
  for (size_t r = 0; r < kTable.size(); ++r)
    for (unsigned i = 0; i < kTable[r].count; ++i) slots[slot_of(kTable[r].encoding + i)] = Slot{uint8_t(r), uint8_t(i)};
  return slots;
}();

// No two registers share a slot (checked at compile time).
constexpr bool slots_unique() {
  for (size_t r = 0; r < kTable.size(); ++r)
    for (unsigned i = 0; i < kTable[r].count; ++i) {
      const Slot s = kSlots[slot_of(kTable[r].encoding + i)];
      if (s.row != r || s.index != i) return false;
    }
  return true;
}
static_assert(slots_unique(), "two ICC registers map to one dispatch slot");

const SysregDesc* find(uint32_t enc, unsigned& index) {
  const Slot s = kSlots[slot_of(enc)];
  if (s.row == 0xff) return nullptr;
  const SysregDesc& d = kTable[s.row];
  if (enc != d.encoding + s.index) return nullptr;
  index = s.index;
  return &d;
}

// Out of line: the message is built only here, so the common path keeps a small frame (issue 7).
[[gnu::cold, gnu::noinline]] SysregResult undefined_access(GicCore& gic, const SysregDesc& d, unsigned cpu,
                                                          uint32_t enc, bool is_write, uint64_t value) {
  gic.log().guest_error("sysreg-undefined", "icc", cpu, enc, value,
                        [&] { return std::string(d.name) + (is_write ? ": write" : ": read") + " is UNDEFINED"; });
  return SysregResult::undefined;
}

template <class Op>
SysregResult run(GicCore& gic, unsigned cpu, uint32_t enc, bool is_write, uint64_t value, Op&& op) {
  unsigned index = 0;
  const SysregDesc* d = find(enc, index);
  if (!d) return SysregResult::no_such_register;
  CpuContext& c = gic.cpu(cpu);
  // Active-priority registers beyond the implemented preemption levels do not exist (UNDEFINED),
  // and so does an access in a direction the register does not have (IHI0069 12.2).
  const bool apr = d->count > 1;
  if ((apr && index >= c.icc.nr_apr()) || (is_write ? !d->write : !d->read)) [[unlikely]]
    return undefined_access(gic, *d, cpu, enc, is_write, value);
  SysregCtx s{gic, c};
  if (d->locked)
    // The handlers that change a private interrupt (acknowledge, deactivation) mark it themselves.
    gic.with_cpu(c, [&] { op(*d, s, index); }, /*touches_private=*/false);
  else
    op(*d, s, index);
  gic.flush_acks();  // EOIR/DIR deactivations someone listens for, now that no lock is held
  return SysregResult::ok;
}

}  // namespace

int GicCore::sysreg_uaccess(unsigned cpu, uint32_t enc, uint64_t& value, bool is_write) {
  unsigned index = 0;
  const SysregDesc* d = find(enc, index);
  CpuContext& c = *cpus_[cpu];
  if (!d || !d->state || (d->count > 1 && index >= c.icc.nr_apr())) return VGIC_ENXIO;
  SysregCtx s{*this, c};
  return with_cpu(c, [&]() -> int {
    if (!is_write) {
      value = d->read(s, index);
      return 0;
    }
    if (enc == icc::CTLR) {
      // Only a value this CPU interface can honour: its read-only fields must match.
      constexpr uint64_t rw = mask_of<ICC_CTLR::CBPR, ICC_CTLR::EOImode>();
      if ((value & ~rw & ~ICC_CTLR::PMHE::mask) != (read_ctlr(s, 0) & ~rw)) return VGIC_EINVAL;
    }
    d->write(s, index, value);
    return 0;
  });
}

SysregResult GicCore::sysreg_read(unsigned cpu, uint32_t enc, uint64_t& value) {
  value = 0;
  return run(*this, cpu, enc, false, 0,
             [&](const SysregDesc& d, SysregCtx& s, unsigned index) { value = d.read(s, index); });
}

SysregResult GicCore::sysreg_write(unsigned cpu, uint32_t enc, uint64_t value) {
  return run(*this, cpu, enc, true, value,
             [&](const SysregDesc& d, SysregCtx& s, unsigned index) { d.write(s, index, value); });
}

}  // namespace gicv3
