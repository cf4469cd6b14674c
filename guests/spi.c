// spi: Shared Peripheral Interrupts made pending by GICD_ISPENDR writes, routed by GICD_IROUTER
// (IHI0069 12.9.22), enable/disable, pending clear, active state, and end of interrupt in EOImode 0
// (EOIR drops priority and deactivates) and EOImode 1 (EOIR drops priority, DIR deactivates; 4.1.1).
#include "guest.h"

static volatile uint32_t active_in_handler[NCPUS];
static volatile uint32_t eoi_only_left;  // SPI 46: this many more acknowledges are EOI'd without DIR

static int spi_hook(unsigned cpu, uint32_t intid) {
  if (intid == 45) active_in_handler[cpu] = (uint32_t)gic_is_active(cpu, intid);
  if (intid == 46 && eoi_only_left) {
    eoi_only_left--;
    active_in_handler[cpu] = (uint32_t)gic_is_active(cpu, intid);
    gic_eoi(intid);  // priority drop only: the interrupt stays active (EOImode 1)
    return 1;
  }
  return 0;
}

static void pend_and_expect(uint32_t intid, unsigned cpu) {
  irq_reset();
  gic_set_pending(0, intid);
  int ok = wait_delivered(intid, 1);
  settle();
  uint32_t where = cpus_that_took(intid);
  printf("SPI %u routed to cpu %u: taken by %s\n", intid, cpu, cpu_set_str(where));
  check(ok && where == (1u << cpu) && irq_count(cpu, intid) == 1, "SPI %u taken once by cpu %u", intid, cpu);
}

static void set_eoimode1(void* a) { (void)a; gic_set_eoimode(1); }
static void set_eoimode0(void* a) { (void)a; gic_set_eoimode(0); }
static volatile uint64_t rpr;
static void read_rpr(void* a) { (void)a; rpr = READ_SYSREG(icc_rpr_el1); }
static void dir46(void* a) { (void)a; gic_dir(46); }

int main(void) {
  printf("spi: SPIs through the distributor\n");
  if (smp_start() != 0) return 0;
  irq_set_hook(spi_hook);

  printf("-- routing (level-sensitive SPI 40, pended by GICD_ISPENDR)\n");
  gic_enable(0, 40);
  for (unsigned c = 0; c < NCPUS; c++) {
    gic_route_spi(40, c);
    check(r64(GICD_BASE + GICD_IROUTER + 40 * 8) == c, "GICD_IROUTER40 reads back Aff0 = %u", c);
    pend_and_expect(40, c);
  }

  printf("-- edge-triggered SPI 41\n");
  gic_set_edge(41, 1);
  check((r32(GICD_BASE + GICD_ICFGR + (41 / 16) * 4) >> ((41 % 16) * 2 + 1)) & 1, "GICD_ICFGR2 shows SPI 41 edge");
  gic_route_spi(41, 2);
  gic_enable(0, 41);
  pend_and_expect(41, 2);

  printf("-- disabled SPI 42 stays pending until enabled\n");
  irq_reset();
  gic_route_spi(42, 1);
  gic_disable(0, 42);
  gic_set_pending(0, 42);
  settle();
  check(gic_is_pending(0, 42), "GICD_ISPENDR shows SPI 42 pending");
  check(irq_count(1, 42) == 0, "not taken while disabled");
  gic_enable(0, 42);
  check(wait_delivered(42, 1) && cpus_that_took(42) == 2u, "taken by cpu 1 once enabled");
  settle();
  check(!gic_is_pending(0, 42), "no longer pending");
  gic_disable(0, 42);

  printf("-- GICD_ICPENDR clears a pending, disabled SPI 43\n");
  irq_reset();
  gic_route_spi(43, 3);
  gic_set_pending(0, 43);
  check(gic_is_pending(0, 43), "SPI 43 pending");
  gic_clear_pending(0, 43);
  check(!gic_is_pending(0, 43), "SPI 43 cleared");
  gic_enable(0, 43);
  settle();
  check(irq_total(3) == 0 && irq_where(43, &(int){0}) == 0, "SPI 43 never taken");
  gic_disable(0, 43);

  printf("-- re-routing a pending SPI 44 before enabling it\n");
  irq_reset();
  gic_route_spi(44, 1);
  gic_set_pending(0, 44);
  gic_route_spi(44, 3);
  gic_enable(0, 44);
  check(wait_delivered(44, 1), "SPI 44 taken");
  settle();
  check(cpus_that_took(44) == 8u, "by the new target, cpu 3: %s", cpu_set_str(cpus_that_took(44)));

  printf("-- EOImode 0 on cpu 1: active while handled, EOIR deactivates (SPI 45)\n");
  gic_route_spi(45, 1);
  gic_enable(0, 45);
  pend_and_expect(45, 1);
  check(active_in_handler[1] == 1, "SPI 45 active in its handler");
  check(!gic_is_active(0, 45), "SPI 45 inactive after EOIR");

  printf("-- EOImode 1 on cpu 2: EOIR drops priority only, DIR deactivates (SPI 46)\n");
  run_on(2, set_eoimode1, 0);
  check((uint32_t)((READ_SYSREG(icc_ctlr_el1) >> 1) & 1) == 0, "cpu 0 still in EOImode 0");
  gic_route_spi(46, 2);
  gic_enable(0, 46);
  eoi_only_left = 1;
  pend_and_expect(46, 2);
  check(gic_is_active(0, 46), "SPI 46 still active after EOIR");
  run_on(2, read_rpr, 0);
  check(rpr == 0xff, "cpu 2 running priority back to idle: ICC_RPR_EL1 = 0x%lx", rpr);
  gic_set_pending(0, 46);
  settle();
  check(gic_is_pending(0, 46) && gic_is_active(0, 46), "pended again: active and pending");
  check(irq_count(2, 46) == 1, "not taken again while active");
  run_on(2, dir46, 0);
  check(wait_delivered(46, 2), "ICC_DIR_EL1 deactivates it: taken a second time");
  settle();
  check(irq_count(2, 46) == 2 && !gic_is_active(0, 46) && !gic_is_pending(0, 46),
        "second handler ran EOIR + DIR: inactive, not pending");
  run_on(2, set_eoimode0, 0);

  printf("-- active state set by GICD_ISACTIVER holds off SPI 47\n");
  irq_reset();
  gic_route_spi(47, 0);
  w32(GICD_BASE + GICD_ISACTIVER + 4, 1u << (47 - 32));
  gic_enable(0, 47);
  gic_set_pending(0, 47);
  settle();
  check(gic_is_active(0, 47) && gic_is_pending(0, 47) && irq_count(0, 47) == 0, "active + pending, not taken");
  w32(GICD_BASE + GICD_ICACTIVER + 4, 1u << (47 - 32));
  check(wait_delivered(47, 1) && cpus_that_took(47) == 1u, "GICD_ICACTIVER: taken by cpu 0");

  printf("-- 1-of-N routing (IRM = 1), SPI 48\n");
  irq_reset();
  gic_route_spi_any(48);
  check(r64(GICD_BASE + GICD_IROUTER + 48 * 8) == (1ul << 31), "GICD_IROUTER48.IRM = 1");
  gic_enable(0, 48);
  gic_set_pending(0, 48);
  check(wait_delivered(48, 1), "SPI 48 taken");
  settle();
  uint32_t m = cpus_that_took(48);
  check(m && !(m & (m - 1)) && irq_where(48, &(int){0}) == 1, "by exactly one CPU, once");

  unsigned sp = 0;
  for (unsigned c = 0; c < NCPUS; c++) sp += spurious_count[c];
  check(sp == 0, "no spurious acknowledges");
  summary("spi");
  return 0;
}
