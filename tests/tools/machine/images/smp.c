// PSCI CPU_ON / AFFINITY_INFO / CPU_OFF and an SGI from CPU 0 to CPU 1. Only one CPU prints at a
// time (the other waits), so the output is the same on every machine.
#include "lib.h"
static volatile int stage;

void irq_exception(void) {
  uint32_t iar = (uint32_t)SYSREG_READ(ICC_IAR1_EL1);
  puts_("cpu1 got sgi ");
  putdec(iar & 0xFFFFFF);
  puts_("\n");
  SYSREG_WRITE(ICC_EOIR1_EL1, iar);
  ISB();
  stage = 4;
}
void sync_exception(void) { puts_("unexpected sync exception\n"); system_off(); }
void bad_exception(void) { puts_("bad exception\n"); system_off(); }

void cpu_main(unsigned cpu) {
  if (cpu == 0) {
    puts_("cpu0 boot\n");
    gicd_init();
    gicr_cpu_init(0, 0);
    // 64-bit accesses must reach the GIC whole: GICR_TYPER's affinity is in its upper word, and
    // GICD_IROUTER<n> keeps Aff3 (bits 39:32).
    puts_("gicr1 typer affinity ");
    puthex(*(volatile uint64_t*)(GICR_BASE(1) + 0x8) >> 32);
    *(volatile uint64_t*)(GICD_BASE + 0x6000 + 8 * 40) = (1ULL << 32) | 0x0101;
    puts_("\nirouter40 ");
    puthex(*(volatile uint64_t*)(GICD_BASE + 0x6000 + 8 * 40));
    puts_("\n");
    int64_t r = hvc_call(PSCI_CPU_ON, 1, (uint64_t)&secondary_entry, 1);
    while (stage < 1) __asm__ volatile("dsb sy");
    puts_("cpu_on(1): ");
    putdec(r);
    puts_("\n");
    stage = 2;
    while (stage < 3) __asm__ volatile("dsb sy");
    puts_("cpu_on(0) again: ");
    putdec(hvc_call(PSCI_CPU_ON, 0, (uint64_t)&secondary_entry, 0));
    puts_("\ncpu_on(bad mpidr): ");
    putdec(hvc_call(PSCI_CPU_ON, 0x55, (uint64_t)&secondary_entry, 0));
    puts_("\naffinity_info(1): ");
    putdec(hvc_call(PSCI_AFFINITY_INFO, 1, 0, 0));
    puts_("\n");
    send_sgi(3, 1);
    while (stage < 5) __asm__ volatile("dsb sy");
    while (hvc_call(PSCI_AFFINITY_INFO, 1, 0, 0) != 1) {}
    puts_("cpu1 off\n");
    system_off();
  }
  stage = 1;
  while (stage < 2) __asm__ volatile("dsb sy");
  puts_("cpu1 up, context_id ");
  putdec(cpu);
  puts_("\n");
  gicr_cpu_init(1, 1u << 3);
  __asm__ volatile("msr daifclr, #2" ::: "memory");
  stage = 3;
  while (stage < 4) __asm__ volatile("wfi");
  __asm__ volatile("msr daifset, #2" ::: "memory");
  stage = 5;
  hvc_call(PSCI_CPU_OFF, 0, 0, 0);
  puts_("cpu_off returned\n");
}
