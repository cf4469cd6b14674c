// Interrupts through real exception entry: an SGI to self (ICC_SGI1R_EL1), the EL1 virtual timer
// (PPI 27), and synchronous exceptions with their ESR (UDF: EC 0; SVC: EC 0x15 with the immediate).
#include "lib.h"
static volatile uint32_t last_irq;
static volatile int irqs;

void irq_exception(void) {
  uint32_t iar = (uint32_t)SYSREG_READ(ICC_IAR1_EL1);
  uint32_t intid = iar & 0xFFFFFF;
  if (intid == 27) SYSREG_WRITE(cntv_ctl_el0, 0);  // quiesce the level source before EOI
  puts_("irq ");
  putdec(intid);
  puts_("\n");
  last_irq = intid;
  ++irqs;
  SYSREG_WRITE(ICC_EOIR1_EL1, iar);
  ISB();
}

void sync_exception(void) {
  uint64_t esr = SYSREG_READ(esr_el1), elr = SYSREG_READ(elr_el1);
  puts_("sync esr=");
  puthex(esr);
  puts_("\n");
  if ((esr >> 26) == 0) SYSREG_WRITE(elr_el1, elr + 4);  // skip the UDF; SVC returns past itself
}
void bad_exception(void) { puts_("bad exception\n"); system_off(); }

static void wait_irqs(int n) {
  while (irqs < n) __asm__ volatile("wfi");
}

void cpu_main(unsigned cpu) {
  gicd_init();
  gicr_cpu_init(cpu, (1u << 1) | (1u << 27));
  __asm__ volatile("msr daifclr, #2" ::: "memory");
  send_sgi(1, 0);
  wait_irqs(1);
  puts_("sgi taken: ");
  putdec(last_irq);
  puts_("\n");
  SYSREG_WRITE(cntv_tval_el0, 5000);
  SYSREG_WRITE(cntv_ctl_el0, 1);
  ISB();
  wait_irqs(2);
  puts_("timer taken: ");
  putdec(last_irq);
  puts_("\n");
  __asm__ volatile("udf #7");
  __asm__ volatile("svc #0x42");
  puts_("done\n");
  system_off();
}
