// GICv3 distributor, redistributors, CPU interface (ICC_* system registers), LPI tables and the
// library's IRQ handler. Register offsets and fields: Arm IHI0069 chapter 12.
#include "guest.h"

#define CTLR_RWP (1u << 31)
#define GICD_CTLR_ARE (1u << 4)   // ARE (ARE_NS): affinity routing, DS = 1 on virt without EL3
#define GICD_CTLR_GRP1 (1u << 1)  // EnableGrp1 (EnableGrp1NS)
#define WAKER_PS (1u << 1)
#define WAKER_CA (1u << 2)

static void gicd_wait_rwp(void) {
  if (!WAIT_UNTIL(!(r32(GICD_BASE + GICD_CTLR) & CTLR_RWP))) printf("FAIL: GICD_CTLR.RWP stuck\n");
}
static void gicr_wait_rwp(unsigned cpu) {
  if (!WAIT_UNTIL(!(r32(gicr_rd(cpu) + GICR_CTLR) & (1u << 3)))) printf("FAIL: GICR_CTLR.RWP stuck\n");
}

static unsigned n_spis(void) {
  unsigned lines = r32(GICD_BASE + GICD_TYPER) & 0x1f;  // ITLinesNumber: 32 * (N + 1) INTIDs
  unsigned n = 32 * (lines + 1);
  return n > 1020 ? 1020 : n;
}

void gic_dist_init(void) {
  w32(GICD_BASE + GICD_CTLR, 0);
  gicd_wait_rwp();
  unsigned n = n_spis();
  for (unsigned i = 32; i < n; i += 32) {
    w32(GICD_BASE + GICD_ICENABLER + i / 8, ~0u);
    w32(GICD_BASE + GICD_ICPENDR + i / 8, ~0u);
    w32(GICD_BASE + GICD_ICACTIVER + i / 8, ~0u);
    w32(GICD_BASE + GICD_IGROUPR + i / 8, ~0u);
  }
  for (unsigned i = 32; i < n; i += 4) w32(GICD_BASE + GICD_IPRIORITYR + i, 0xA0A0A0A0u);
  gicd_wait_rwp();
  w32(GICD_BASE + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_GRP1);
  gicd_wait_rwp();
}

void gic_redist_init(unsigned cpu) {
  uintptr_t rd = gicr_rd(cpu), sgi = gicr_sgi(cpu);
  w32(rd + GICR_WAKER, r32(rd + GICR_WAKER) & ~WAKER_PS);
  if (!WAIT_UNTIL(!(r32(rd + GICR_WAKER) & WAKER_CA))) printf("FAIL: cpu %u redistributor asleep\n", cpu);
  w32(sgi + GICD_ICENABLER, ~0u);
  w32(sgi + GICD_ICPENDR, ~0u);
  w32(sgi + GICD_ICACTIVER, ~0u);
  w32(sgi + GICD_IGROUPR, ~0u);
  for (unsigned i = 0; i < 32; i += 4) w32(sgi + GICD_IPRIORITYR + i, 0xA0A0A0A0u);
  gicr_wait_rwp(cpu);
  w32(sgi + GICD_ISENABLER, 1u << SGI_KICK);
}

static volatile uint32_t eoimode[NCPUS];

void gic_cpuif_init(void) {
  WRITE_SYSREG(icc_sre_el1, READ_SYSREG(icc_sre_el1) | 1);
  isb();
  WRITE_SYSREG(icc_pmr_el1, 0xff);
  WRITE_SYSREG(icc_bpr1_el1, 0);
  WRITE_SYSREG(icc_ctlr_el1, 0);  // EOImode 0, CBPR 0
  eoimode[this_cpu()] = 0;
  WRITE_SYSREG(icc_igrpen1_el1, 1);
  isb();
}

static uintptr_t frame(unsigned cpu, uint32_t intid) { return intid < 32 ? gicr_sgi(cpu) : GICD_BASE; }

void gic_enable(unsigned cpu, uint32_t intid) {
  w32(frame(cpu, intid) + GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32));
  dsb();
}
void gic_disable(unsigned cpu, uint32_t intid) {
  w32(frame(cpu, intid) + GICD_ICENABLER + (intid / 32) * 4, 1u << (intid % 32));
  if (intid < 32) gicr_wait_rwp(cpu); else gicd_wait_rwp();
}
void gic_set_priority(unsigned cpu, uint32_t intid, uint8_t prio) {
  w8(frame(cpu, intid) + GICD_IPRIORITYR + intid, prio);
  dsb();
}
void gic_set_pending(unsigned cpu, uint32_t intid) {
  w32(frame(cpu, intid) + GICD_ISPENDR + (intid / 32) * 4, 1u << (intid % 32));
  dsb();
}
void gic_clear_pending(unsigned cpu, uint32_t intid) {
  w32(frame(cpu, intid) + GICD_ICPENDR + (intid / 32) * 4, 1u << (intid % 32));
  dsb();
}
int gic_is_pending(unsigned cpu, uint32_t intid) {
  return (r32(frame(cpu, intid) + GICD_ISPENDR + (intid / 32) * 4) >> (intid % 32)) & 1;
}
int gic_is_active(unsigned cpu, uint32_t intid) {
  return (r32(frame(cpu, intid) + GICD_ISACTIVER + (intid / 32) * 4) >> (intid % 32)) & 1;
}
void gic_set_edge(uint32_t intid, int edge) {
  uintptr_t a = GICD_BASE + GICD_ICFGR + (intid / 16) * 4;
  unsigned sh = (intid % 16) * 2 + 1;
  w32(a, (r32(a) & ~(1u << sh)) | ((edge ? 1u : 0u) << sh));
  dsb();
}
void gic_route_spi(uint32_t intid, unsigned cpu) {
  w64(GICD_BASE + GICD_IROUTER + intid * 8, cpu);
  dsb();
}
void gic_route_spi_any(uint32_t intid) {
  w64(GICD_BASE + GICD_IROUTER + intid * 8, 1ul << 31);
  dsb();
}
void gic_send_sgi(uint32_t intid, uint16_t targets) {
  dsb();
  WRITE_SYSREG(icc_sgi1r_el1, ((uint64_t)(intid & 0xf) << 24) | targets);
  isb();
}
void gic_send_sgi_others(uint32_t intid) {
  dsb();
  WRITE_SYSREG(icc_sgi1r_el1, ((uint64_t)(intid & 0xf) << 24) | (1ul << 40));
  isb();
}
void gic_set_eoimode(int mode) {
  uint64_t v = READ_SYSREG(icc_ctlr_el1);
  v = mode ? (v | 2) : (v & ~2ul);
  WRITE_SYSREG(icc_ctlr_el1, v);
  isb();
  eoimode[this_cpu()] = (uint32_t)mode;
}
uint32_t gic_ack(void) {
  uint32_t v = (uint32_t)READ_SYSREG(icc_iar1_el1) & 0xffffff;
  dsb();
  return v;
}
void gic_eoi(uint32_t intid) {
  WRITE_SYSREG(icc_eoir1_el1, intid);
  isb();
}
void gic_dir(uint32_t intid) {
  WRITE_SYSREG(icc_dir_el1, intid);
  isb();
}

// --- interrupt accounting
#define NSLOTS 2048u  // INTIDs 0..1023 and LPIs 8192..9215
static volatile uint32_t counts[NCPUS][NSLOTS];
static volatile uint32_t totals[NCPUS];
volatile uint32_t irq_log[NCPUS][IRQ_LOG_LEN];
volatile uint32_t irq_log_len[NCPUS];
volatile uint32_t spurious_count[NCPUS];
static irq_hook_t volatile hook;

static int slot(uint32_t intid) {
  if (intid < 1024) return (int)intid;
  if (intid >= LPI_BASE && intid < LPI_BASE + 1024) return (int)(1024 + intid - LPI_BASE);
  return -1;
}

void irq_set_hook(irq_hook_t h) {
  hook = h;
  dsb();
}
uint32_t irq_count(unsigned cpu, uint32_t intid) {
  int s = slot(intid);
  return s < 0 ? 0 : counts[cpu][s];
}
uint32_t irq_total(unsigned cpu) { return totals[cpu]; }
uint32_t irq_where(uint32_t intid, int* cpu) {
  uint32_t n = 0;
  *cpu = -1;
  for (unsigned c = 0; c < NCPUS; c++)
    if (irq_count(c, intid)) n += irq_count(c, intid), *cpu = (int)c;
  return n;
}
void irq_reset(void) {
  for (unsigned c = 0; c < NCPUS; c++) {
    for (unsigned s = 0; s < NSLOTS; s++) counts[c][s] = 0;
    totals[c] = 0;
    irq_log_len[c] = 0;
    spurious_count[c] = 0;
  }
  dsb();
}

void guest_irq_entry(void) {
  unsigned cpu = this_cpu();
  uint32_t intid = gic_ack();
  if (intid >= 1020 && intid < 1024) {
    spurious_count[cpu]++;
    return;
  }
  if (intid == SGI_KICK) {  // run_on()'s wake-up: not counted, not logged, no hook
    gic_eoi(intid);
    if (eoimode[cpu]) gic_dir(intid);
    return;
  }
  int s = slot(intid);
  if (s >= 0) counts[cpu][s]++;
  uint32_t n = irq_log_len[cpu];
  if (n < IRQ_LOG_LEN) irq_log[cpu][n] = intid;
  irq_log_len[cpu] = n + 1;
  dsb();
  irq_hook_t h = hook;
  int done = h ? h(cpu, intid) : 0;
  if (!done) {
    gic_eoi(intid);
    if (eoimode[cpu]) gic_dir(intid);
  }
  dsb();
  totals[cpu]++;  // last: a waiter seeing the total sees the handler finished
  dsb();
}

// --- LPIs (IHI0069 5.1: property table shared, one pending table per redistributor)
#define PROP_SIZE ((1u << LPI_IDBITS) - LPI_BASE)
static uint8_t lpi_prop[PROP_SIZE] __attribute__((aligned(65536)));
static uint8_t lpi_pend[NCPUS][65536] __attribute__((aligned(65536)));

void lpi_config(uint32_t intid, uint8_t prio, int enable) {
  lpi_prop[intid - LPI_BASE] = (uint8_t)((prio & 0xfc) | LPI_PROP_RES1 | (enable ? LPI_PROP_ENABLE : 0));
  dsb();
}

void lpi_init(void) {
  for (uint32_t i = LPI_BASE; i < (1u << LPI_IDBITS); i++) lpi_config(i, 0xA0, 0);
  for (unsigned c = 0; c < NCPUS; c++) {
    uintptr_t rd = gicr_rd(c);
    if (!((r64(rd + GICR_TYPER) >> 0) & 1)) printf("FAIL: cpu %u GICR_TYPER.PLPIS = 0\n", c);
    w64(rd + GICR_PROPBASER, (uintptr_t)lpi_prop | (LPI_IDBITS - 1));
    w64(rd + GICR_PENDBASER, (uintptr_t)lpi_pend[c] | (1ul << 62));  // PTZ: the table is zero
    dsb();
    w32(rd + GICR_CTLR, r32(rd + GICR_CTLR) | 1);  // EnableLPIs
    dsb();
  }
}

int gicr_wait_sync(unsigned cpu) {
  return WAIT_UNTIL(!(r32(gicr_rd(cpu) + GICR_SYNCR) & 1)) ? 0 : -1;
}
