// timer: the EL1 virtual timer (PPI 27) and the EL1 physical timer (PPI 30) reach the GIC as
// level-sensitive PPIs of their own CPU's redistributor (IHI0069 2.2.1; Arm ARM D11 generic timer).
// The handler masks the timer (CNTx_CTL.IMASK), which drops the level, then EOIs.
#include "guest.h"

#define VTIMER_PPI 27u
#define PTIMER_PPI 30u
#define CTL_ENABLE 1u
#define CTL_IMASK 2u
#define CTL_ISTATUS 4u

struct seen {
  volatile uint32_t fired, istatus, after_deadline, ctl_after;
};
static struct seen seen[NCPUS][2];
static volatile uint64_t deadline[NCPUS][2];

static int timer_hook(unsigned cpu, uint32_t intid) {
  if (intid != VTIMER_PPI && intid != PTIMER_PPI) return 0;
  int p = intid == PTIMER_PPI;
  uint64_t ctl = p ? READ_SYSREG(cntp_ctl_el0) : READ_SYSREG(cntv_ctl_el0);
  uint64_t now = p ? READ_SYSREG(cntpct_el0) : READ_SYSREG(cntvct_el0);
  if (p) WRITE_SYSREG(cntp_ctl_el0, ctl | CTL_IMASK);
  else WRITE_SYSREG(cntv_ctl_el0, ctl | CTL_IMASK);
  isb();
  seen[cpu][p].istatus = (ctl & CTL_ISTATUS) ? 1 : 0;
  seen[cpu][p].after_deadline = now >= deadline[cpu][p];
  seen[cpu][p].ctl_after = (uint32_t)(p ? READ_SYSREG(cntp_ctl_el0) : READ_SYSREG(cntv_ctl_el0));
  seen[cpu][p].fired++;
  return 0;
}

struct arm {
  int phys;
  uint64_t delta;
  uint32_t ctl;
};
static void arm_timer(void* a) {
  struct arm* t = a;
  unsigned c = this_cpu();
  isb();
  uint64_t now = t->phys ? READ_SYSREG(cntpct_el0) : READ_SYSREG(cntvct_el0);
  deadline[c][t->phys] = now + t->delta;
  if (t->phys) {
    WRITE_SYSREG(cntp_cval_el0, now + t->delta);
    WRITE_SYSREG(cntp_ctl_el0, t->ctl);
  } else {
    WRITE_SYSREG(cntv_cval_el0, now + t->delta);
    WRITE_SYSREG(cntv_ctl_el0, t->ctl);
  }
  isb();
}
static volatile uint32_t ctl_read;
static void read_ctl(void* a) {
  ctl_read = (uint32_t)(*(int*)a ? READ_SYSREG(cntp_ctl_el0) : READ_SYSREG(cntv_ctl_el0));
}
static void set_ctl(void* a) {
  struct arm* t = a;
  if (t->phys) WRITE_SYSREG(cntp_ctl_el0, t->ctl);
  else WRITE_SYSREG(cntv_ctl_el0, t->ctl);
  isb();
}

static void timer_case(unsigned cpu, int phys) {
  uint32_t ppi = phys ? PTIMER_PPI : VTIMER_PPI;
  const char* name = phys ? "physical" : "virtual";
  printf("cpu %u: %s timer, PPI %u, deadline 1 ms ahead\n", cpu, name, ppi);
  irq_reset();
  gic_enable(cpu, ppi);
  uint64_t freq = READ_SYSREG(cntfrq_el0);
  struct arm t = {phys, freq / 1000, CTL_ENABLE};
  run_on(cpu, arm_timer, &t);
  check(WAIT_UNTIL(seen[cpu][phys].fired >= 1), "%s timer interrupt taken", name);
  settle();
  uint32_t where = cpus_that_took(ppi);
  check(where == (1u << cpu) && irq_count(cpu, ppi) == 1, "PPI %u taken once, by cpu %u only (%s)", ppi, cpu,
        cpu_set_str(where));
  check(seen[cpu][phys].istatus == 1, "ISTATUS = 1 in the handler");
  check(seen[cpu][phys].after_deadline == 1, "the counter had reached the deadline");
  check(seen[cpu][phys].ctl_after == (CTL_ENABLE | CTL_IMASK | CTL_ISTATUS), "handler masked it: CTL = 0x%x",
        seen[cpu][phys].ctl_after);
  check(!gic_is_pending(cpu, ppi), "PPI %u no longer pending (level dropped)", ppi);
  // Turn the timer off.
  t.ctl = 0;
  run_on(cpu, set_ctl, &t);
  run_on(cpu, read_ctl, &phys);
  check(ctl_read == 0, "timer disabled: CTL = 0x%x", ctl_read);
}

static void masked_case(unsigned cpu, int phys) {
  uint32_t ppi = phys ? PTIMER_PPI : VTIMER_PPI;
  printf("cpu %u: %s timer already expired but IMASK = 1\n", cpu, phys ? "physical" : "virtual");
  irq_reset();
  seen[cpu][phys].fired = 0;
  gic_enable(cpu, ppi);
  struct arm t = {phys, 0, CTL_ENABLE | CTL_IMASK};
  run_on(cpu, arm_timer, &t);
  settle();
  run_on(cpu, read_ctl, &phys);
  check(ctl_read == (CTL_ENABLE | CTL_IMASK | CTL_ISTATUS), "CTL = 0x%x (condition met, masked)", ctl_read);
  check(irq_count(cpu, ppi) == 0 && !gic_is_pending(cpu, ppi), "no interrupt while masked");
  t.ctl = CTL_ENABLE;
  run_on(cpu, set_ctl, &t);
  check(WAIT_UNTIL(seen[cpu][phys].fired >= 1) && irq_count(cpu, ppi) == 1, "unmasking raises PPI %u on cpu %u",
        ppi, cpu);
  t.ctl = 0;
  run_on(cpu, set_ctl, &t);
}

int main(void) {
  printf("timer: generic timer PPIs through the GIC\n");
  if (smp_start() != 0) return 0;
  irq_set_hook(timer_hook);
  timer_case(0, 0);
  timer_case(0, 1);
  timer_case(1, 0);
  timer_case(3, 1);
  timer_case(2, 0);
  masked_case(0, 0);
  masked_case(2, 1);
  summary("timer");
  return 0;
}
