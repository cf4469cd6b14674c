// The smallest guest: UART output, then PSCI SYSTEM_OFF.
#include "lib.h"
void cpu_main(unsigned cpu) {
  (void)cpu;
  puts_("hello from the reference machine\n");
  puts_("psci version ");
  puthex((uint64_t)hvc_call(PSCI_VERSION, 0, 0, 0));
  puts_("\n");
  system_off();
}
void sync_exception(void) { puts_("unexpected sync exception\n"); system_off(); }
void irq_exception(void) {}
void bad_exception(void) { puts_("bad exception\n"); system_off(); }
