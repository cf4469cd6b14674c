// The GICR register tables (IHI0069 12.10, 12.11; Tables 12-27 and 12-29).
#include "gicr/gicr_registers.hpp"

#include <array>

#include "gic/gic_core.hpp"
#include "gicd/gicd_regs.hpp"
#include "gicr/gicr_regs.hpp"
#include "mmio/irq_registers.hpp"

namespace gicv3 {

Irq* GicrCtx::find(uint32_t intid) { return c.redist.find(intid); }
uint8_t GicrCtx::priority_mask() const { return c.icc.priority_mask(); }

namespace {

using namespace mmio;
using namespace gicr_off;
using Ctx = GicrCtx;
using Desc = RegisterDesc<Ctx>;

bool has_lpis(Ctx& c) { return c.c.redist.lpis != nullptr; }

// GICR_CTLR (IHI0069 12.11.2): EnableLPIs; CES = 1 (clearing EnableLPIs is supported, as in a
// GICv3.3 Redistributor); IR = 1 when the LPI invalidate registers exist (DirectLPI); RWP = 0
// because every write completes before it returns.
uint64_t read_ctlr(Ctx& c, const Access&) {
  if (!has_lpis(c)) return 0;
  return GICR_CTLR::EnableLPIs::make(c.c.redist.enable_lpis) | GICR_CTLR::CES::make(1) |
         GICR_CTLR::IR::make(c.gic.config().direct_lpi);
}
void write_ctlr(Ctx& c, const Access&, uint64_t v) {
  if (!has_lpis(c)) return;
  const bool want = GICR_CTLR::EnableLPIs::get(v);
  if (want == c.c.redist.enable_lpis) return;
  if (want)
    c.gic.enable_lpis_locked(c.c);
  else
    c.gic.disable_lpis_locked(c.c);
}

uint64_t read_propbaser(Ctx& c, const Access&) { return c.c.redist.propbaser; }
uint64_t read_pendbaser(Ctx& c, const Access&) { return c.c.redist.pendbaser; }  // PTZ reads 0

bool lpi_tables_writable(Ctx& c, uint32_t off, uint64_t v) {
  if (!has_lpis(c)) return false;
  if (c.c.redist.enable_lpis) {
    // IHI0069 12.11.29/30: writing PROPBASER/PENDBASER while EnableLPIs == 1 is UNPREDICTABLE;
    // vgic ignores the write.
    c.gic.log().guest_error("lpi-base-locked", "gicr", c.c.index, off, v,
                            "GICR_PROPBASER/PENDBASER written while EnableLPIs == 1; ignored");
    return false;
  }
  return true;
}
void write_propbaser(Ctx& c, const Access&, uint64_t v) {
  if (lpi_tables_writable(c, PROPBASER, v)) c.c.redist.propbaser = v;
}
void write_pendbaser(Ctx& c, const Access&, uint64_t v) {
  if (!lpi_tables_writable(c, PENDBASER, v)) return;
  c.c.redist.ptz = GICR_PENDBASER::PTZ::get(v);
  c.c.redist.pendbaser = GICR_PENDBASER::PTZ::set(v, 0);
}

// DirectLPI registers (IHI0069 12.11: GICR_SETLPIR, CLRLPIR, INVLPIR, INVALLR, SYNCR). They exist
// only when GICR_TYPER.DirectLPI is configured; otherwise the offsets are reserved.
bool direct_lpi(Ctx& c, uint32_t off, uint64_t v) {
  if (has_lpis(c) && c.gic.config().direct_lpi) return true;
  c.gic.log().guest_error("mmio-reserved", "gicr", c.c.index, off, v, "DirectLPI register used but DirectLPI is not implemented");
  return false;
}
// INTIDs below 8192 name no LPI: such writes are ignored (a KVM bug once accepted them).
uint32_t lpi_operand(Ctx& c, uint32_t off, uint64_t v) {
  const uint32_t intid = uint32_t(GICR_LPIR::pINTID::get(v));
  if (intid >= Intid::kLpiBase) return intid;
  c.gic.log().guest_error("lpi-intid", "gicr", c.c.index, off, v, "INTID below 8192 written to a DirectLPI register; ignored");
  return 0;
}
// GICR_SETLPIR (IHI0069 12.11) while EnableLPIs == 0, or with an INTID beyond the range that
// GICR_PROPBASER.IDbits allows, names no LPI this Redistributor can hold: vgic ignores the write
// and counts it (the LPI is not silently dropped later).
bool lpi_in_range(Ctx& c, uint32_t off, uint64_t v, uint32_t intid) {
  const Redistributor& r = c.c.redist;
  if (r.lpis_on.load(std::memory_order_acquire) && intid < r.lpi_limit.load(std::memory_order_acquire)) return true;
  c.gic.log().guest_error("lpi-intid", "gicr", c.c.index, off, v,
                          "DirectLPI write while EnableLPIs == 0 or of an INTID beyond GICR_PROPBASER.IDbits; ignored");
  return false;
}
void write_setlpir(Ctx& c, const Access&, uint64_t v) {
  if (!direct_lpi(c, SETLPIR, v)) return;
  if (const uint32_t intid = lpi_operand(c, SETLPIR, v); intid && lpi_in_range(c, SETLPIR, v, intid))
    c.gic.make_lpi_pending(c.c.index, intid);
}
void write_clrlpir(Ctx& c, const Access&, uint64_t v) {
  if (!direct_lpi(c, CLRLPIR, v)) return;
  if (const uint32_t intid = lpi_operand(c, CLRLPIR, v)) c.gic.clear_lpi_pending(c.c.index, intid);
}
void write_invlpir(Ctx& c, const Access&, uint64_t v) {
  if (!direct_lpi(c, INVLPIR, v)) return;
  // V exists only with GICv4.1 (IHI0069 12.11 GICR_INVLPIR); here it is RES0 and has no effect: the
  // write invalidates the physical LPI. Counted, since a driver setting it expects virtual LPIs.
  if (GICR_LPIR::V::get(v))
    c.gic.log().guest_error("lpi-virtual", "gicr", c.c.index, INVLPIR, v, "GICR_INVLPIR.V is RES0 without GICv4.1; taken as a physical INVLPIR");
  if (const uint32_t intid = lpi_operand(c, INVLPIR, v)) c.gic.reload_lpi_config(c.c.index, intid);
}
void write_invallr(Ctx& c, const Access&, uint64_t v) {
  if (!direct_lpi(c, INVALLR, v)) return;
  c.gic.reload_all_lpi_config(c.c.index);
}
uint64_t read_syncr(Ctx& c, const Access&) {
  (void)direct_lpi(c, SYNCR, 0);
  return 0;  // Busy = 0: every DirectLPI operation completed before its write returned
}
// The VMM's read (a save, a has_attr query) is no guest access: nothing to count.
uint64_t peek_syncr(Ctx&, const Access&) { return 0; }

uint64_t read_iidr(Ctx& c, const Access&) { return c.gic.config().gicd_iidr; }

uint64_t read_typer(Ctx& c, const Access&) {
  const unsigned cpu = c.c.index;
  const unsigned eppis = c.c.redist.nr_eppis();
  const Config& cfg = c.gic.config();
  return GICR_TYPER::PLPIS::make(cfg.lpi_id_bits != 0) | GICR_TYPER::DirectLPI::make(cfg.direct_lpi) |
         GICR_TYPER::CommonLPIAff::make(cfg.common_lpi_aff) | GICR_TYPER::Processor_Number::make(cpu) |
         GICR_TYPER::Last::make(cpu + 1 == c.gic.nr_cpus()) |  // one contiguous region
         GICR_TYPER::PPInum::make(eppis == 0 ? 0 : eppis <= 32 ? 1 : 2) |
         GICR_TYPER::Affinity::make(c.gic.topology().affinity(cpu));
}

uint64_t read_waker(Ctx& c, const Access&) {
  const bool sleep = c.c.redist.processor_sleep;
  // ChildrenAsleep follows ProcessorSleep at once: there is no interface to quiesce.
  return GICR_WAKER::ProcessorSleep::make(sleep) | GICR_WAKER::ChildrenAsleep::make(sleep);
}
void write_waker(Ctx& c, const Access&, uint64_t v) { c.c.redist.processor_sleep = GICR_WAKER::ProcessorSleep::get(v); }

uint64_t read_id(Ctx&, const Access& a) { return kGicIdRegs[a.index]; }

constexpr uint8_t W32 = Width::W32, W8_32 = Width::W8 | Width::W32, W32_64 = Width::W32 | Width::W64;

constexpr auto kRdTable = std::to_array<Desc>({
    reg<Ctx>("GICR_CTLR", CTLR, 4, W32, 0, GICR_CTLR::EnableLPIs::mask, read_ctlr, write_ctlr),
    reg<Ctx>("GICR_IIDR", IIDR, 4, W32, 0, 0, read_iidr, nullptr),
    reg<Ctx>("GICR_TYPER", TYPER, 8, W32_64, 0, 0, read_typer, nullptr),
    raz_wi<Ctx>("GICR_STATUSR", STATUSR, 4, W32),  // optional register, not implemented (RAZ/WI)
    reg<Ctx>("GICR_WAKER", WAKER, 4, W32, GICR_WAKER::ProcessorSleep::mask | GICR_WAKER::ChildrenAsleep::mask,
             GICR_WAKER::ProcessorSleep::mask, read_waker, write_waker),
    reg<Ctx>("GICR_SETLPIR", SETLPIR, 8, W32_64, 0, ~0ull, nullptr, write_setlpir),
    reg<Ctx>("GICR_CLRLPIR", CLRLPIR, 8, W32_64, 0, ~0ull, nullptr, write_clrlpir),
    reg<Ctx>("GICR_PROPBASER", PROPBASER, 8, W32_64, 0, GICR_PROPBASER::kWritable, read_propbaser, write_propbaser),
    reg<Ctx>("GICR_PENDBASER", PENDBASER, 8, W32_64, 0, GICR_PENDBASER::kWritable, read_pendbaser, write_pendbaser),
    reg<Ctx>("GICR_INVLPIR", INVLPIR, 8, W32_64, 0, ~0ull, nullptr, write_invlpir),
    reg<Ctx>("GICR_INVALLR", INVALLR, 8, W32_64, 0, ~0ull, nullptr, write_invallr),
    [] {
      Desc d = reg<Ctx>("GICR_SYNCR", SYNCR, 4, W32, 0, 0, read_syncr, nullptr);
      d.uread = peek_syncr;
      return d;
    }(),
    reg<Ctx>("GICR_PIDR4..CIDR3", ID_REGS, 4, W32, 0, 0, read_id, nullptr, 12),
});

constexpr uint32_t E = Intid::kEppiBase;
constexpr auto kSgiTable = std::to_array<Desc>({
    irq_array<Ctx>("GICR_IGROUPR0", IGROUPR0, 32, 1, W32, 0, read_flag<Ctx, &Irq::group1>, write_flag<Ctx, &Irq::group1>),
    irq_array<Ctx>("GICR_IGROUPR<n>E", IGROUPR0 + 4, 64, 1, W32, E, read_flag<Ctx, &Irq::group1>,
                   write_flag<Ctx, &Irq::group1>),
    irq_array<Ctx>("GICR_ISENABLER0", ISENABLER0, 32, 1, W32, 0, read_flag<Ctx, &Irq::enabled>,
                   write_flag_w1<Ctx, &Irq::enabled, true>),
    irq_array<Ctx>("GICR_ISENABLER<n>E", ISENABLER0 + 4, 64, 1, W32, E, read_flag<Ctx, &Irq::enabled>,
                   write_flag_w1<Ctx, &Irq::enabled, true>),
    irq_array<Ctx>("GICR_ICENABLER0", ICENABLER0, 32, 1, W32, 0, read_flag<Ctx, &Irq::enabled>,
                   write_flag_w1<Ctx, &Irq::enabled, false>),
    irq_array<Ctx>("GICR_ICENABLER<n>E", ICENABLER0 + 4, 64, 1, W32, E, read_flag<Ctx, &Irq::enabled>,
                   write_flag_w1<Ctx, &Irq::enabled, false>),
    pending_array<Ctx, true>("GICR_ISPENDR0", ISPENDR0, 32, 0),
    pending_array<Ctx, true>("GICR_ISPENDR<n>E", ISPENDR0 + 4, 64, E),
    pending_array<Ctx, false>("GICR_ICPENDR0", ICPENDR0, 32, 0),
    pending_array<Ctx, false>("GICR_ICPENDR<n>E", ICPENDR0 + 4, 64, E),
    irq_array<Ctx>("GICR_ISACTIVER0", ISACTIVER0, 32, 1, W32, 0, read_flag<Ctx, &Irq::active>,
                   write_flag_w1<Ctx, &Irq::active, true>),
    irq_array<Ctx>("GICR_ISACTIVER<n>E", ISACTIVER0 + 4, 64, 1, W32, E, read_flag<Ctx, &Irq::active>,
                   write_flag_w1<Ctx, &Irq::active, true>),
    irq_array<Ctx>("GICR_ICACTIVER0", ICACTIVER0, 32, 1, W32, 0, read_flag<Ctx, &Irq::active>,
                   write_flag_w1<Ctx, &Irq::active, false>),
    irq_array<Ctx>("GICR_ICACTIVER<n>E", ICACTIVER0 + 4, 64, 1, W32, E, read_flag<Ctx, &Irq::active>,
                   write_flag_w1<Ctx, &Irq::active, false>),
    irq_array<Ctx>("GICR_IPRIORITYR", IPRIORITYR, 32, 8, W8_32, 0, read_priority<Ctx>, write_priority<Ctx>),
    irq_array<Ctx>("GICR_IPRIORITYR<n>E", IPRIORITYR + 32, 64, 8, W8_32, E, read_priority<Ctx>, write_priority<Ctx>),
    irq_array<Ctx>("GICR_ICFGR0/1", ICFGR0, 32, 2, W32, 0, read_config<Ctx>, write_config<Ctx>),
    irq_array<Ctx>("GICR_ICFGR<n>E", ICFGR0 + 8, 64, 2, W32, E, read_config<Ctx>, write_config<Ctx>),
    raz_wi<Ctx>("GICR_IGRPMODR0/<n>E", IGRPMODR0, 12, W32),  // RAZ/WI with DS == 1
    raz_wi<Ctx>("GICR_NSACR", NSACR, 4, W32),                // RAZ/WI with DS == 1
    raz_wi<Ctx>("GICR_INMIR0/<n>E", INMIR0, 12, W32),        // no NMI support: RES0
    reg<Ctx>("GICR_PIDR4..CIDR3", ID_REGS, 4, W32, 0, 0, read_id, nullptr, 12),
});

template <size_t N>
constexpr bool sorted_and_disjoint(const std::array<Desc, N>& t) {
  for (size_t i = 1; i < N; ++i)
    if (t[i - 1].offset + t[i - 1].bytes > t[i].offset) return false;
  return t[N - 1].offset + t[N - 1].bytes <= kFrameSize;
}
static_assert(sorted_and_disjoint(kRdTable) && sorted_and_disjoint(kSgiTable),
              "GICR tables must be sorted by offset and their entries disjoint");

}  // namespace

std::span<const RegisterDesc<GicrCtx>> gicr_rd_register_table() { return kRdTable; }
std::span<const RegisterDesc<GicrCtx>> gicr_sgi_register_table() { return kSgiTable; }

uint64_t gicr_read(GicCore& gic, unsigned cpu, uint32_t offset, unsigned size) {
  CpuContext& c = gic.cpu(cpu);
  return gic.with_cpu(c, [&] {
    GicrCtx ctx{gic, c};
    if (offset < kFrameSize)
      return dispatch_read<GicrCtx>(kRdTable, ctx, offset, size, ErrorContext{gic.log(), "gicr", cpu});
    return dispatch_read<GicrCtx>(kSgiTable, ctx, offset - kFrameSize, size, ErrorContext{gic.log(), "gicr-sgi", cpu});
  });
}

mmio::UAccess gicr_uaccess(GicCore& gic, unsigned cpu, uint32_t offset, uint64_t& value, bool is_write) {
  CpuContext& c = gic.cpu(cpu);
  return gic.with_cpu(c, [&] {
    GicrCtx ctx{gic, c};
    if (offset < kFrameSize) return dispatch_uaccess<GicrCtx>(kRdTable, ctx, offset, 4, value, is_write);
    return dispatch_uaccess<GicrCtx>(kSgiTable, ctx, offset - kFrameSize, 4, value, is_write);
  });
}

void gicr_write(GicCore& gic, unsigned cpu, uint32_t offset, unsigned size, uint64_t value) {
  CpuContext& c = gic.cpu(cpu);
  gic.with_cpu(c, [&] {
    GicrCtx ctx{gic, c};
    if (offset < kFrameSize)
      dispatch_write<GicrCtx>(kRdTable, ctx, offset, size, value, ErrorContext{gic.log(), "gicr", cpu});
    else
      dispatch_write<GicrCtx>(kSgiTable, ctx, offset - kFrameSize, size, value, ErrorContext{gic.log(), "gicr-sgi", cpu});
  });
}

}  // namespace gicv3
