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
using Ctx = GicrCtx;
using Desc = RegisterDesc<Ctx>;

// GICR_CTLR: no LPI support yet, so EnableLPIs and the other controls are RES0 (RAZ/WI).
uint64_t read_ctlr(Ctx&, const Access&) { return 0; }

uint64_t read_iidr(Ctx& c, const Access&) { return c.gic.config().gicd_iidr; }

uint64_t read_typer(Ctx& c, const Access&) {
  const unsigned cpu = c.c.index;
  const unsigned eppis = c.c.redist.nr_eppis();
  return GICR_TYPER::Processor_Number::make(cpu) |
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
using namespace gicr_off;

constexpr auto kRdTable = std::to_array<Desc>({
    reg<Ctx>("GICR_CTLR", CTLR, 4, W32, 0, 0, read_ctlr, write_ignore<Ctx>),
    reg<Ctx>("GICR_IIDR", IIDR, 4, W32, 0, 0, read_iidr, nullptr),
    reg<Ctx>("GICR_TYPER", TYPER, 8, W32_64, 0, 0, read_typer, nullptr),
    raz_wi<Ctx>("GICR_STATUSR", STATUSR, 4, W32),  // optional register, not implemented (RAZ/WI)
    reg<Ctx>("GICR_WAKER", WAKER, 4, W32, GICR_WAKER::ProcessorSleep::mask | GICR_WAKER::ChildrenAsleep::mask,
             GICR_WAKER::ProcessorSleep::mask, read_waker, write_waker),
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
    irq_array<Ctx>("GICR_ISPENDR0", ISPENDR0, 32, 1, W32, 0, read_pending<Ctx>, write_pending<Ctx, true>),
    irq_array<Ctx>("GICR_ISPENDR<n>E", ISPENDR0 + 4, 64, 1, W32, E, read_pending<Ctx>, write_pending<Ctx, true>),
    irq_array<Ctx>("GICR_ICPENDR0", ICPENDR0, 32, 1, W32, 0, read_pending<Ctx>, write_pending<Ctx, false>),
    irq_array<Ctx>("GICR_ICPENDR<n>E", ICPENDR0 + 4, 64, 1, W32, E, read_pending<Ctx>, write_pending<Ctx, false>),
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
