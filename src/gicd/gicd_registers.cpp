// The GICD register table (IHI0069 12.9, Table 12-25). One line per register or register array;
// the dispatcher in mmio/register_table.hpp does all width, alignment and bounds checking.
#include "gicd/gicd_registers.hpp"

#include <algorithm>
#include <array>
#include <bit>

#include "gic/gic_core.hpp"
#include "gicd/gicd_regs.hpp"
#include "mmio/irq_registers.hpp"

namespace gicv3 {

Irq* GicdCtx::find(uint32_t intid) { return d.find(intid); }
void GicdCtx::changed(Irq& irq) { d.changed(irq); }
uint8_t GicdCtx::priority_mask() const { return d.priority_mask(); }

namespace {

using namespace mmio;
using Ctx = GicdCtx;
using Desc = RegisterDesc<Ctx>;

uint64_t read_ctlr(Ctx& c, const Access&) {
  return c.d.ctlr() | GICD_CTLR::ARE::mask | GICD_CTLR::DS::mask;
}
void write_ctlr(Ctx& c, const Access&, uint64_t v) { c.d.write_ctlr(uint32_t(v), c.kick); }

uint64_t read_typer(Ctx& c, const Access&) {
  const Config& cfg = c.gic.config();
  // INTID bits: the LPI space when LPIs are supported, else enough for the highest INTID.
  const unsigned top = cfg.nr_espis ? Intid::kEspiBase + cfg.nr_espis - 1 : Intid::kSpurious;
  const unsigned id_bits = cfg.lpi_id_bits ? cfg.lpi_id_bits : std::max(10u, unsigned(std::bit_width(top)));
  uint64_t v = GICD_TYPER::ITLinesNumber::make((cfg.nr_spis + 32) / 32 - 1) |
               GICD_TYPER::MBIS::make(cfg.mbis) | GICD_TYPER::LPIS::make(cfg.lpi_id_bits != 0) |
               GICD_TYPER::IDbits::make(id_bits - 1) |
               GICD_TYPER::A3V::make(1) | GICD_TYPER::No1N::make(cfg.no1n) | GICD_TYPER::RSS::make(cfg.rss);
  if (cfg.nr_espis) v |= GICD_TYPER::ESPI::make(1) | GICD_TYPER::ESPI_range::make(cfg.nr_espis / 32 - 1);
  return v;
}

uint64_t read_iidr(Ctx& c, const Access&) { return c.gic.config().gicd_iidr; }

void write_setspi(Ctx& c, const Access&, uint64_t v) {
  if (!c.d.mbis()) {
    c.gic.log().guest_error("mmio-reserved", "gicd", TraceLog::kNoCpu, gicd_off::SETSPI_NSR, v,
                            "GICD_SETSPI_NSR written but message-based SPIs are not implemented");
    return;
  }
  bool valid;
  c.d.set_spi_message(uint32_t(SPI_INTID::get(v)), true, valid);
  if (!valid)
    c.gic.log().guest_error("setspi-invalid", "gicd", TraceLog::kNoCpu, gicd_off::SETSPI_NSR, v,
                            "GICD_SETSPI_NSR names an unimplemented SPI; ignored");
}
void write_clrspi(Ctx& c, const Access&, uint64_t v) {
  if (!c.d.mbis()) {
    c.gic.log().guest_error("mmio-reserved", "gicd", TraceLog::kNoCpu, gicd_off::CLRSPI_NSR, v,
                            "GICD_CLRSPI_NSR written but message-based SPIs are not implemented");
    return;
  }
  bool valid;
  c.d.set_spi_message(uint32_t(SPI_INTID::get(v)), false, valid);
  if (!valid)
    c.gic.log().guest_error("setspi-invalid", "gicd", TraceLog::kNoCpu, gicd_off::CLRSPI_NSR, v,
                            "GICD_CLRSPI_NSR names an unimplemented SPI; ignored");
}

uint64_t read_irouter(Ctx& c, const Access& a) {
  Irq* irq = c.d.find(a.intid);
  return irq ? irq->route : 0;
}
void write_irouter(Ctx& c, const Access& a, uint64_t v) {
  if (Irq* irq = c.d.find(a.intid)) c.d.set_route(*irq, v);
}

uint64_t read_id(Ctx&, const Access& a) { return kGicIdRegs[a.index]; }

constexpr uint8_t W32 = Width::W32, W8_32 = Width::W8 | Width::W32, W16_32 = Width::W16 | Width::W32,
                  W32_64 = Width::W32 | Width::W64;
using namespace gicd_off;

// Per-IRQ arrays cover INTIDs 0..1023 (0..31 are RAZ/WI here: with affinity routing SGIs and PPIs
// live in the Redistributors) and 4096..5119 for the extended SPI range.
constexpr auto kTable = std::to_array<Desc>({
    reg<Ctx>("GICD_CTLR", CTLR, 4, W32, GICD_CTLR::ARE::mask | GICD_CTLR::DS::mask,
             mask_of<GICD_CTLR::EnableGrp0, GICD_CTLR::EnableGrp1>(), read_ctlr, write_ctlr),
    reg<Ctx>("GICD_TYPER", TYPER, 4, W32, 0, 0, read_typer, nullptr),
    reg<Ctx>("GICD_IIDR", IIDR, 4, W32, 0, 0, read_iidr, nullptr),
    reg<Ctx>("GICD_TYPER2", TYPER2, 4, W32, 0, 0, read_zero<Ctx>, nullptr),
    raz_wi<Ctx>("GICD_STATUSR", STATUSR, 4, W32),  // optional register, not implemented (RAZ/WI)
    // "16-bit accesses to bits [15:0] of this register must be supported" (each register's
    // description in IHI0069 12.9): a 16-bit write carries the whole INTID field.
    reg<Ctx>("GICD_SETSPI_NSR", SETSPI_NSR, 4, W16_32, 0, ~0ull, nullptr, write_setspi),
    reg<Ctx>("GICD_CLRSPI_NSR", CLRSPI_NSR, 4, W16_32, 0, ~0ull, nullptr, write_clrspi),
    raz_wi<Ctx>("GICD_SETSPI_SR", SETSPI_SR, 4, W16_32),  // RAZ/WI with DS == 1
    raz_wi<Ctx>("GICD_CLRSPI_SR", CLRSPI_SR, 4, W16_32),
    irq_array<Ctx>("GICD_IGROUPR", IGROUPR, 1024, 1, W32, 0, read_flag<Ctx, &Irq::group1>, write_flag<Ctx, &Irq::group1>),
    irq_array<Ctx>("GICD_ISENABLER", ISENABLER, 1024, 1, W32, 0, read_flag<Ctx, &Irq::enabled>,
                   write_flag_w1<Ctx, &Irq::enabled, true>),
    irq_array<Ctx>("GICD_ICENABLER", ICENABLER, 1024, 1, W32, 0, read_flag<Ctx, &Irq::enabled>,
                   write_flag_w1<Ctx, &Irq::enabled, false>),
    pending_array<Ctx, true>("GICD_ISPENDR", ISPENDR, 1024, 0),
    pending_array<Ctx, false>("GICD_ICPENDR", ICPENDR, 1024, 0),
    irq_array<Ctx>("GICD_ISACTIVER", ISACTIVER, 1024, 1, W32, 0, read_flag<Ctx, &Irq::active>,
                   write_flag_w1<Ctx, &Irq::active, true>),
    irq_array<Ctx>("GICD_ICACTIVER", ICACTIVER, 1024, 1, W32, 0, read_flag<Ctx, &Irq::active>,
                   write_flag_w1<Ctx, &Irq::active, false>),
    // IPRIORITYR<n> and ITARGETSR<n> stop at n = 254 (INTID 1019); 0x7FC and 0xBFC are reserved.
    irq_array<Ctx>("GICD_IPRIORITYR", IPRIORITYR, 1020, 8, W8_32, 0, read_priority<Ctx>, write_priority<Ctx>),
    raz_wi<Ctx>("GICD_ITARGETSR", ITARGETSR, 1020, W8_32),  // RES0 with affinity routing
    irq_array<Ctx>("GICD_ICFGR", ICFGR, 1024, 2, W32, 0, read_config<Ctx>, write_config<Ctx>),
    raz_wi<Ctx>("GICD_IGRPMODR", IGRPMODR, 128, W32),  // RAZ/WI with DS == 1
    raz_wi<Ctx>("GICD_NSACR", NSACR, 256, W32),        // RAZ/WI with DS == 1
    raz_wi<Ctx>("GICD_SGIR", SGIR, 4, W32),            // RES0 with affinity routing
    raz_wi<Ctx>("GICD_CPENDSGIR", CPENDSGIR, 16, W8_32),
    raz_wi<Ctx>("GICD_SPENDSGIR", SPENDSGIR, 16, W8_32),
    raz_wi<Ctx>("GICD_INMIR", INMIR, 128, W32),  // no NMI support: RES0
    irq_array<Ctx>("GICD_IGROUPRE", IGROUPRE, 1024, 1, W32, Intid::kEspiBase, read_flag<Ctx, &Irq::group1>,
                   write_flag<Ctx, &Irq::group1>),
    irq_array<Ctx>("GICD_ISENABLERE", ISENABLERE, 1024, 1, W32, Intid::kEspiBase, read_flag<Ctx, &Irq::enabled>,
                   write_flag_w1<Ctx, &Irq::enabled, true>),
    irq_array<Ctx>("GICD_ICENABLERE", ICENABLERE, 1024, 1, W32, Intid::kEspiBase, read_flag<Ctx, &Irq::enabled>,
                   write_flag_w1<Ctx, &Irq::enabled, false>),
    pending_array<Ctx, true>("GICD_ISPENDRE", ISPENDRE, 1024, Intid::kEspiBase),
    pending_array<Ctx, false>("GICD_ICPENDRE", ICPENDRE, 1024, Intid::kEspiBase),
    irq_array<Ctx>("GICD_ISACTIVERE", ISACTIVERE, 1024, 1, W32, Intid::kEspiBase, read_flag<Ctx, &Irq::active>,
                   write_flag_w1<Ctx, &Irq::active, true>),
    irq_array<Ctx>("GICD_ICACTIVERE", ICACTIVERE, 1024, 1, W32, Intid::kEspiBase, read_flag<Ctx, &Irq::active>,
                   write_flag_w1<Ctx, &Irq::active, false>),
    irq_array<Ctx>("GICD_IPRIORITYRE", IPRIORITYRE, 1024, 8, W8_32, Intid::kEspiBase, read_priority<Ctx>,
                   write_priority<Ctx>),
    irq_array<Ctx>("GICD_ICFGRE", ICFGRE, 1024, 2, W32, Intid::kEspiBase, read_config<Ctx>, write_config<Ctx>),
    raz_wi<Ctx>("GICD_IGRPMODRE", IGRPMODRE, 128, W32),
    raz_wi<Ctx>("GICD_NSACRE", NSACRE, 256, W32),
    raz_wi<Ctx>("GICD_INMIRE", INMIRE, 128, W32),
    irq_array<Ctx>("GICD_IROUTER", IROUTER + 8 * 32, 988, 64, W32_64, 32, read_irouter, write_irouter),
    irq_array<Ctx>("GICD_IROUTERE", IROUTERE, 1024, 64, W32_64, Intid::kEspiBase, read_irouter, write_irouter),
    reg<Ctx>("GICD_PIDR4..CIDR3", ID_REGS, 4, W32, 0, 0, read_id, nullptr, 12),
});

constexpr bool sorted_and_disjoint() {
  for (size_t i = 1; i < kTable.size(); ++i)
    if (kTable[i - 1].offset + kTable[i - 1].bytes > kTable[i].offset) return false;
  return kTable.back().offset + kTable.back().bytes <= kFrameSize;
}
static_assert(sorted_and_disjoint(), "GICD table must be sorted by offset and its entries disjoint");

}  // namespace

std::span<const RegisterDesc<GicdCtx>> gicd_register_table() { return kTable; }

uint64_t gicd_read(GicCore& gic, uint32_t offset, unsigned size) {
  DistTxn txn(gic);
  GicdCtx ctx{gic, gic.dist(), txn.kick};
  return dispatch_read<GicdCtx>(kTable, ctx, offset, size, ErrorContext{gic.log(), "gicd", TraceLog::kNoCpu});
}

mmio::UAccess gicd_uaccess(GicCore& gic, uint32_t offset, uint64_t& value, bool is_write) {
  DistTxn txn(gic);
  GicdCtx ctx{gic, gic.dist(), txn.kick};
  return dispatch_uaccess<GicdCtx>(kTable, ctx, offset, 4, value, is_write);
}

void gicd_write(GicCore& gic, uint32_t offset, unsigned size, uint64_t value) {
  DistTxn txn(gic);
  GicdCtx ctx{gic, gic.dist(), txn.kick};
  dispatch_write<GicdCtx>(kTable, ctx, offset, size, value, ErrorContext{gic.log(), "gicd", TraceLog::kNoCpu});
}

}  // namespace gicv3
