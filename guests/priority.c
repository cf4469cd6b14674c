// priority: priorities and preemption on cpu 0 (IHI0069 4.8): a higher-priority interrupt preempts a
// running handler that unmasked IRQs, a lower or equal one waits for the priority drop, pending
// interrupts are taken highest priority first, ICC_PMR_EL1 masks, and ICC_BPR1_EL1 groups priorities.
#include "guest.h"

#define A 50u  // 0x80
#define B 51u  // 0x40
#define C 52u  // 0x60
#define D 53u  // 0x60
#define E 54u  // 0x50

static volatile uint32_t log_[64];
static volatile uint32_t log_n;
static void note(char what, uint32_t intid, uint32_t rpr) {
  if (log_n < 64) log_[log_n] = ((uint32_t)what << 24) | (intid << 8) | (rpr & 0xff);
  log_n++;
}
static void print_log(void) {
  for (uint32_t i = 0; i < log_n && i < 64; i++) {
    uint32_t v = log_[i];
    char what = (char)(v >> 24);
    uint32_t intid = (v >> 8) & 0xffff;
    if (what == 'E') printf("  enter SPI %u (running priority 0x%x)\n", intid, v & 0xff);
    else if (what == 'X') printf("  exit  SPI %u\n", intid);
    else if (what == 'N') printf("  SPI %u not taken inside this handler\n", intid);
    else if (what == 'T') printf("  SPI %u taken inside this handler\n", intid);
  }
  log_n = 0;
}

// What each handler does, set per test: pend `pend` from inside the handler, unmask IRQs and wait.
static volatile uint32_t nest_on, nest_pend, nest_wait_taken;

static int prio_hook(unsigned cpu, uint32_t intid) {
  (void)cpu;
  note('E', intid, (uint32_t)READ_SYSREG(icc_rpr_el1));
  if (intid == nest_on) {
    uint32_t p = nest_pend;
    nest_on = 0;
    uint32_t before = irq_count(0, p);
    gic_set_pending(0, p);
    irq_enable();
    // Either the pended interrupt preempts us (and its own handler completes inside this wait), or it
    // must not: then wait a fixed while and check that it still was not taken.
    if (nest_wait_taken) WAIT_UNTIL(irq_count(0, p) > before);
    else delay(200000);
    irq_disable();
    note(irq_count(0, p) > before ? 'T' : 'N', p, 0);
  }
  note('X', intid, 0);
  return 0;
}

static void nested(uint32_t outer, uint32_t inner, int expect_preempt) {
  irq_reset();
  nest_on = outer;
  nest_pend = inner;
  nest_wait_taken = (uint32_t)expect_preempt;
  dsb();
  gic_set_pending(0, outer);
  WAIT_UNTIL(irq_count(0, outer) == 1 && irq_count(0, inner) == 1);
  print_log();
}

int main(void) {
  printf("priority: preemption and masking on cpu 0\n");
  static const uint32_t ids[] = {A, B, C, D, E};
  static const uint8_t prios[] = {0x80, 0x40, 0x60, 0x60, 0x50};
  for (unsigned i = 0; i < 5; i++) {
    gic_route_spi(ids[i], 0);
    gic_set_priority(0, ids[i], prios[i]);
    gic_enable(0, ids[i]);
  }
  irq_set_hook(prio_hook);
  WRITE_SYSREG(icc_bpr1_el1, 3);
  isb();
  printf("ICC_BPR1_EL1 = %lu (Group 1: group priority = bits [7:3])\n", READ_SYSREG(icc_bpr1_el1));
  printf("SPI %u prio 0x80, SPI %u prio 0x40, SPI %u prio 0x60, SPI %u prio 0x60, SPI %u prio 0x50\n", A, B, C, D, E);

  printf("-- SPI %u (0x40) pended inside the handler of SPI %u (0x80): preempts\n", B, A);
  nested(A, B, 1);
  check(irq_count(0, A) == 1 && irq_count(0, B) == 1, "both taken once");
  printf("-- SPI %u (0x60) pended inside the handler of SPI %u (0x40): waits for its EOI\n", C, B);
  nested(B, C, 0);
  check(irq_count(0, B) == 1 && irq_count(0, C) == 1, "both taken once");
  printf("-- SPI %u (0x60) pended inside the handler of SPI %u (0x60, equal): waits\n", D, C);
  nested(C, D, 0);
  check(irq_count(0, C) == 1 && irq_count(0, D) == 1, "both taken once");

  printf("-- three pending while PSTATE.I masks IRQs: taken highest priority first\n");
  irq_reset();
  irq_disable();
  gic_set_pending(0, A);
  gic_set_pending(0, C);
  gic_set_pending(0, B);
  uint32_t hppi = (uint32_t)READ_SYSREG(icc_hppir1_el1) & 0xffffff;
  check(hppi == B, "ICC_HPPIR1_EL1 = %u", hppi);
  irq_enable();
  WAIT_UNTIL(irq_count(0, A) == 1);
  print_log();
  check(irq_count(0, A) == 1 && irq_count(0, B) == 1 && irq_count(0, C) == 1, "all three taken once");

  printf("-- ICC_PMR_EL1 = 0x60 masks priorities 0x60 and lower\n");
  irq_reset();
  WRITE_SYSREG(icc_pmr_el1, 0x60);
  isb();
  gic_set_pending(0, C);
  delay(200000);
  check(irq_count(0, C) == 0 && gic_is_pending(0, C), "SPI %u (0x60) stays pending", C);
  gic_set_pending(0, B);
  check(WAIT_UNTIL(irq_count(0, B) == 1), "SPI %u (0x40) taken", B);
  check(irq_count(0, C) == 0, "SPI %u still not taken", C);
  WRITE_SYSREG(icc_pmr_el1, 0xff);
  isb();
  check(WAIT_UNTIL(irq_count(0, C) == 1), "PMR = 0xff: SPI %u taken", C);
  print_log();

  printf("-- binary point: SPI %u (0x40) pended inside SPI %u (0x50)\n", B, E);
  // For Group 1 (CBPR = 0) ICC_BPR1_EL1 = n makes bits [7:n] the group priority (GroupBits() pseudocode).
  printf("   ICC_BPR1_EL1 = 3: group priorities (bits [7:3]) 0x40 and 0x50 differ\n");
  nested(E, B, 1);
  WRITE_SYSREG(icc_bpr1_el1, 5);
  isb();
  printf("   ICC_BPR1_EL1 = %lu: both in group priority (bits [7:5]) 0x40\n", READ_SYSREG(icc_bpr1_el1));
  nested(E, B, 0);
  check(irq_count(0, E) == 1 && irq_count(0, B) == 1, "both taken once");
  WRITE_SYSREG(icc_bpr1_el1, 3);
  isb();

  check(READ_SYSREG(icc_rpr_el1) == 0xff, "idle running priority 0x%lx", READ_SYSREG(icc_rpr_el1));
  check(spurious_count[0] == 0, "no spurious acknowledges");
  summary("priority");
  return 0;
}
