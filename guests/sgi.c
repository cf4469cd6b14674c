// sgi: Software Generated Interrupts between CPUs through ICC_SGI1R_EL1 (IHI0069 12.11.29): target
// lists, IRM = 1 ("all but self"), disabled SGIs staying pending, and who received what.
#include "guest.h"

struct send {
  uint32_t intid;
  uint16_t targets;
  int others;
};
static void do_send(void* arg) {
  struct send* s = arg;
  if (s->others) gic_send_sgi_others(s->intid);
  else gic_send_sgi(s->intid, s->targets);
}

static void sgi_case(unsigned from, uint32_t intid, uint16_t targets, int others) {
  uint32_t expect = others ? ((1u << NCPUS) - 1) & ~(1u << from) : targets;
  struct send s = {intid, targets, others};
  irq_reset();
  if (others) printf("SGI %u from cpu %u to all others (IRM=1)\n", intid, from);
  else printf("SGI %u from cpu %u to %s\n", intid, from, cpu_set_str(targets));
  run_on(from, do_send, &s);
  int all = 1;
  for (unsigned c = 0; c < NCPUS; c++)
    if (expect & (1u << c)) all &= WAIT_UNTIL(irq_count(c, intid) >= 1);
  settle();
  printf("  received:");
  for (unsigned c = 0; c < NCPUS; c++) printf(" cpu%u=%u", c, irq_count(c, intid));
  printf("\n");
  int exact = all;
  for (unsigned c = 0; c < NCPUS; c++) exact &= irq_count(c, intid) == ((expect >> c) & 1);
  check(exact, "SGI %u taken once by exactly %s", intid, cpu_set_str(expect));
}

int main(void) {
  printf("sgi: SGIs across 4 CPUs\n");
  if (smp_start() != 0) return 0;
  for (unsigned c = 0; c < NCPUS; c++)
    for (uint32_t i = 0; i < 16; i++) gic_enable(c, i);

  sgi_case(0, 1, 1u << 1, 0);
  sgi_case(0, 2, (1u << 1) | (1u << 2) | (1u << 3), 0);
  sgi_case(0, 3, 1u << 0, 0);
  sgi_case(0, 4, 0xf, 0);
  sgi_case(2, 5, (1u << 0) | (1u << 3), 0);
  sgi_case(3, 6, 1u << 3, 0);
  sgi_case(0, 7, 0, 1);
  sgi_case(1, 8, 0, 1);
  sgi_case(3, 15, 0, 1);

  // A disabled SGI is kept pending in the target's redistributor and taken once enabled.
  printf("SGI 9 to cpu 1 while disabled there\n");
  irq_reset();
  gic_disable(1, 9);
  struct send s = {9, 1u << 1, 0};
  run_on(0, do_send, &s);
  check(WAIT_UNTIL(gic_is_pending(1, 9)), "GICR_ISPENDR0 of cpu 1 shows SGI 9 pending");
  settle();
  check(irq_count(1, 9) == 0, "SGI 9 not taken while disabled");
  check(!gic_is_pending(2, 9), "SGI 9 not pending on cpu 2");
  gic_enable(1, 9);
  check(wait_delivered(9, 1) && irq_count(1, 9) == 1, "SGI 9 taken by cpu 1 once enabled");
  settle();
  check(!gic_is_pending(1, 9), "SGI 9 no longer pending");

  // Pending state cleared by GICR_ICPENDR0 before enabling: nothing is delivered.
  printf("SGI 10 to cpu 2 while disabled, then ICPENDR0\n");
  irq_reset();
  gic_disable(2, 10);
  s = (struct send){10, 1u << 2, 0};
  run_on(0, do_send, &s);
  check(WAIT_UNTIL(gic_is_pending(2, 10)), "SGI 10 pending on cpu 2");
  gic_clear_pending(2, 10);
  check(!gic_is_pending(2, 10), "SGI 10 cleared by GICR_ICPENDR0");
  gic_enable(2, 10);
  settle();
  check(irq_count(2, 10) == 0, "SGI 10 not taken after enabling");

  // Many SGIs from every CPU to every other CPU, one at a time: the count matrix.
  printf("every CPU sends SGI 11 to every other CPU, in turn\n");
  irq_reset();
  unsigned expect_each = NCPUS - 1;
  for (unsigned from = 0; from < NCPUS; from++)
    for (unsigned to = 0; to < NCPUS; to++) {
      if (to == from) continue;
      uint32_t before = irq_count(to, 11);
      s = (struct send){11, (uint16_t)(1u << to), 0};
      run_on(from, do_send, &s);
      if (!WAIT_UNTIL(irq_count(to, 11) > before)) printf("  FAIL: SGI 11 %u -> %u not taken\n", from, to);
    }
  settle();
  int ok = 1;
  for (unsigned c = 0; c < NCPUS; c++) {
    printf("  cpu%u took SGI 11 %u times\n", c, irq_count(c, 11));
    ok &= irq_count(c, 11) == expect_each;
  }
  check(ok, "each CPU took SGI 11 exactly %u times", expect_each);
  unsigned sp = 0;
  for (unsigned c = 0; c < NCPUS; c++) sp += spurious_count[c];
  check(sp == 0, "no spurious acknowledges");
  summary("sgi");
  return 0;
}
