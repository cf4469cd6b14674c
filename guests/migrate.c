// migrate: a workload whose state lives in every part of the GIC (ITS tables and caches, pending LPIs,
// an active SPI in EOImode 1, per-CPU priority masks, a running timer) over several rounds, so that a
// `vgic run --migrate-at N` lands in the middle of something wherever N is. Its output must not
// depend on whether, or where, the machine was saved and restored.
#include "guest.h"

#define ROUNDS 6u
#define SPI_HELD 60u   // held active across rounds in EOImode 1 on cpu 1
#define SPI_ROT 61u    // routed to a different CPU every round
#define SGI_RING 7u
#define LPI_PARKED 8300u  // disabled + pending at the end of each round, enabled at the start of the next

static volatile uint32_t timer_fired;
static volatile uint32_t held_left;  // SPI_HELD acknowledges still to EOI without DIR

static int hook(unsigned cpu, uint32_t intid) {
  if (intid == 27) {
    WRITE_SYSREG(cntv_ctl_el0, READ_SYSREG(cntv_ctl_el0) | 2);  // IMASK
    isb();
    timer_fired++;
  }
  if (intid == SPI_HELD && cpu == 1 && held_left) {
    held_left--;
    gic_eoi(intid);  // priority drop only: stays active until the next round's DIR
    return 1;
  }
  return 0;
}

static void cpu1_setup(void* a) {
  (void)a;
  gic_set_eoimode(1);
  WRITE_SYSREG(icc_pmr_el1, 0xd0);
  isb();
}
static volatile uint64_t pmr_seen;
static void read_pmr(void* a) { (void)a; pmr_seen = READ_SYSREG(icc_pmr_el1); }
static void dir_held(void* a) { (void)a; gic_dir(SPI_HELD); }
static void ring(void* a) {
  unsigned next = (this_cpu() + 1) % NCPUS;
  (void)a;
  gic_send_sgi(SGI_RING, (uint16_t)(1u << next));
}

static int round_(unsigned r) {
  int ok = 1;
  irq_reset();
  // 1. The LPI parked in the previous round is still pending: enabling it delivers it.
  if (r > 0) {
    lpi_config(LPI_PARKED, 0xA0, 1);
    its_inv(2, 0);
    ok &= check(wait_delivered(LPI_PARKED, 1) && cpus_that_took(LPI_PARKED) == 1u << 3,
                "round %u: LPI %u parked last round delivered to cpu 3", r, LPI_PARKED);
  }
  // 2. MSIs (device 0) and INTs (device 1) to every CPU.
  for (uint32_t e = 0; e < 8; e++) its_msi(e);
  for (uint32_t e = 0; e < 4; e++) its_int(1, e);
  int lpis = 1;
  for (uint32_t e = 0; e < 8; e++) lpis &= wait_delivered(LPI_BASE + e, 1);
  for (uint32_t e = 0; e < 4; e++) lpis &= wait_delivered(8256 + e, 1);
  settle();
  for (uint32_t e = 0; e < 8; e++) lpis &= irq_count((e + r) % NCPUS, LPI_BASE + e) == 1;
  for (uint32_t e = 0; e < 4; e++) lpis &= irq_count(e, 8256 + e) == 1;
  ok &= check(lpis, "round %u: 8 MSIs and 4 INTs each taken once, where mapped", r);
  // 3. Move device 0's events one CPU further for the next round (MOVI).
  for (uint32_t e = 0; e < 8; e++) its_movi(0, e, (uint16_t)((e + r + 1) % NCPUS));
  // 4. An SGI ring 0 -> 1 -> 2 -> 3 -> 0.
  for (unsigned c = 0; c < NCPUS; c++) {
    uint32_t before = irq_count((c + 1) % NCPUS, SGI_RING);
    run_on(c, ring, 0);
    WAIT_UNTIL(irq_count((c + 1) % NCPUS, SGI_RING) > before);
  }
  settle();
  int sgis = 1;
  for (unsigned c = 0; c < NCPUS; c++) sgis &= irq_count(c, SGI_RING) == 1;
  ok &= check(sgis, "round %u: SGI ring, each CPU took SGI %u once", r, SGI_RING);
  // 5. A rotating SPI.
  gic_route_spi(SPI_ROT, r % NCPUS);
  gic_set_pending(0, SPI_ROT);
  ok &= check(wait_delivered(SPI_ROT, 1) && (settle(), cpus_that_took(SPI_ROT) == 1u << (r % NCPUS)),
              "round %u: SPI %u taken by cpu %u", r, SPI_ROT, r % NCPUS);
  // 6. SPI_HELD: active since the previous round (EOImode 1 on cpu 1); DIR it, it is taken again.
  if (r > 0) {
    ok &= check(gic_is_active(0, SPI_HELD) && gic_is_pending(0, SPI_HELD), "round %u: SPI %u still active + pending",
                r, SPI_HELD);
    held_left = 1;
    run_on(1, dir_held, 0);
  } else {
    held_left = 1;
  }
  gic_set_pending(0, SPI_HELD);
  ok &= check(wait_delivered(SPI_HELD, 1) && WAIT_UNTIL(held_left == 0), "round %u: SPI %u taken by cpu 1, left active",
              r, SPI_HELD);
  gic_set_pending(0, SPI_HELD);  // active + pending into the next round
  // 7. cpu 1's priority mask survives.
  run_on(1, read_pmr, 0);
  ok &= check(pmr_seen == 0xd0, "round %u: cpu 1 ICC_PMR_EL1 = 0x%lx", r, pmr_seen);
  // 8. A virtual timer on cpu 0.
  timer_fired = 0;
  uint64_t now = READ_SYSREG(cntvct_el0);
  WRITE_SYSREG(cntv_cval_el0, now + READ_SYSREG(cntfrq_el0) / 2000);
  WRITE_SYSREG(cntv_ctl_el0, 1);
  isb();
  ok &= check(WAIT_UNTIL(timer_fired == 1), "round %u: virtual timer fired on cpu 0", r);
  WRITE_SYSREG(cntv_ctl_el0, 0);
  isb();
  // 9. Park an LPI for the next round: disabled, then made pending.
  lpi_config(LPI_PARKED, 0xA0, 0);
  its_inv(2, 0);
  its_int(2, 0);
  return ok;
}

int main(void) {
  printf("migrate: %u rounds of GIC activity\n", ROUNDS);
  if (smp_start() != 0) return 0;
  irq_set_hook(hook);
  for (unsigned c = 0; c < NCPUS; c++) {
    gic_enable(c, SGI_RING);
    gic_enable(c, 27);
  }
  gic_route_spi(SPI_HELD, 1);
  gic_set_priority(0, SPI_HELD, 0x80);
  gic_enable(0, SPI_HELD);
  gic_enable(0, SPI_ROT);
  run_on(1, cpu1_setup, 0);
  lpi_init();
  if (its_init() != 0) return 0;
  for (unsigned c = 0; c < NCPUS; c++) its_mapc((uint16_t)c, c);
  its_mapd(0, 3);
  for (uint32_t e = 0; e < 8; e++) {
    its_mapti(0, e, LPI_BASE + e, (uint16_t)(e % NCPUS));
    lpi_config(LPI_BASE + e, 0xA0, 1);
  }
  its_mapd(1, 2);
  for (uint32_t e = 0; e < 4; e++) {
    its_mapti(1, e, 8256 + e, (uint16_t)e);
    lpi_config(8256 + e, 0xA0, 1);
  }
  its_mapd(2, 1);
  its_mapti(2, 0, LPI_PARKED, 3);
  for (unsigned c = 0; c < NCPUS; c++) its_invall((uint16_t)c);
  its_sync(0);
  printf("set up: 3 devices on the ITS, cpu 1 in EOImode 1 with PMR 0xd0\n");
  unsigned good = 0;
  for (unsigned r = 0; r < ROUNDS; r++) good += (unsigned)round_(r);
  printf("%u of %u rounds clean\n", good, ROUNDS);
  summary("migrate");
  return 0;
}
