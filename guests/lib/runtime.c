// UART output, printf, checks, PSCI, start-up of the CPUs and the run_on() mailbox.
#include "guest.h"

#define UARTDR 0x00
#define UARTFR 0x18
#define UARTFR_TXFF (1u << 5)

void* memset(void* d, int c, size_t n) {
  volatile uint8_t* p = d;  // volatile: keeps GCC from turning this loop into a memset call
  while (n--) *p++ = (uint8_t)c;
  return d;
}
void* memcpy(void* d, const void* s, size_t n) {
  volatile uint8_t* p = d;
  const uint8_t* q = s;
  while (n--) *p++ = *q++;
  return d;
}

void delay(unsigned long spins) {
  for (volatile unsigned long i = 0; i < spins; i++) cpu_relax();
}

void uart_putc(char c) {
  while (r32(UART_BASE + UARTFR) & UARTFR_TXFF) cpu_relax();
  w32(UART_BASE + UARTDR, (uint8_t)c);
}
void uart_puts(const char* s) {
  while (*s) uart_putc(*s++);
}

static void put_num(uint64_t v, unsigned base, int neg, int width, char pad) {
  char buf[24];
  int n = 0;
  do {
    unsigned d = (unsigned)(v % base);
    buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= base;
  } while (v);
  if (neg) buf[n++] = '-';
  for (int i = n; i < width; i++) uart_putc(pad);
  while (n) uart_putc(buf[--n]);
}

// %d %u %x %s %c %p with optional '0' flag, width and l/ll length modifiers.
int vprintf(const char* f, va_list ap) {
  for (; *f; f++) {
    if (*f != '%') {
      uart_putc(*f);
      continue;
    }
    f++;
    char pad = ' ';
    int width = 0, lng = 0;
    if (*f == '0') pad = '0', f++;
    while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
    while (*f == 'l') lng++, f++;
    switch (*f) {
      case 'd': {
        int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
        put_num(v < 0 ? (uint64_t)-v : (uint64_t)v, 10, v < 0, width, pad);
        break;
      }
      case 'u': put_num(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, 0, width, pad); break;
      case 'x': put_num(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, 0, width, pad); break;
      case 'p': uart_puts("0x"); put_num((uintptr_t)va_arg(ap, void*), 16, 0, width, pad); break;
      case 's': uart_puts(va_arg(ap, const char*)); break;
      case 'c': uart_putc((char)va_arg(ap, int)); break;
      case '%': uart_putc('%'); break;
      default: uart_putc('?'); break;
    }
  }
  return 0;
}
int printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  return 0;
}

static unsigned n_checks, n_failed;
int check(int ok, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  n_checks++;
  if (!ok) n_failed++;
  uart_puts(ok ? "  ok: " : "  FAIL: ");
  vprintf(fmt, ap);
  uart_putc('\n');
  va_end(ap);
  return ok;
}
unsigned failures(void) { return n_failed; }
void summary(const char* guest) {
  printf("%s: %u checks, %u failed\n", guest, n_checks, n_failed);
  printf("%s: %s\n", guest, n_failed ? "FAIL" : "PASS");
}

// --- PSCI (SMCCC over HVC: the conduit of QEMU virt without EL2/EL3, and of `vgic run`)
int64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3) {
  register uint64_t x0 __asm__("x0") = fn;
  register uint64_t x1 __asm__("x1") = a1;
  register uint64_t x2 __asm__("x2") = a2;
  register uint64_t x3 __asm__("x3") = a3;
  __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"memory");
  return (int64_t)x0;
}
void psci_system_off(void) {
  psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
  uart_puts("FAIL: SYSTEM_OFF returned\n");
  for (;;) __asm__ volatile("wfi");
}

// --- CPUs
extern char secondary_entry[];
static volatile uint32_t cpu_online[NCPUS];

struct mailbox {
  void (*volatile fn)(void*);
  void* volatile arg;
  volatile uint32_t posted, done;
} __attribute__((aligned(64)));
static struct mailbox mbox[NCPUS];

int smp_start(void) {
  int ok = 1;
  for (unsigned c = 1; c < NCPUS; c++) {
    // MPIDR Aff0 = c (virt: up to 8 CPUs per cluster with GICv3); context_id = c.
    int64_t r = psci_call(PSCI_CPU_ON, c, (uintptr_t)secondary_entry, c);
    if (r != 0) {
      printf("FAIL: PSCI CPU_ON(cpu %u) = %d\n", c, (int)r);
      ok = 0;
      continue;
    }
    if (!WAIT_UNTIL(cpu_online[c])) {
      printf("FAIL: cpu %u did not come online\n", c);
      ok = 0;
    }
  }
  return ok ? 0 : -1;
}

int run_on(unsigned cpu, void (*fn)(void*), void* arg) {
  if (cpu == this_cpu()) {
    fn(arg);
    return 0;
  }
  struct mailbox* m = &mbox[cpu];
  uint32_t seq = m->posted + 1;
  m->fn = fn;
  m->arg = arg;
  dsb();
  m->posted = seq;
  dsb();
  gic_send_sgi(SGI_KICK, (uint16_t)(1u << cpu));  // wakes the CPU from WFI
  if (!WAIT_UNTIL(m->done == seq)) {
    printf("FAIL: cpu %u did not run the posted function\n", cpu);
    return -1;
  }
  dmb();
  return 0;
}

__attribute__((noreturn)) void guest_secondary_main(unsigned cpu) {
  gic_redist_init(cpu);
  gic_cpuif_init();
  dsb();
  cpu_online[cpu] = 1;
  dsb();
  struct mailbox* m = &mbox[cpu];
  // Idle in WFI with IRQs masked while checking the mailbox: a kick (or any interrupt) arriving after
  // the check keeps WFI from sleeping (WFI wakes on a pending IRQ even when PSTATE.I masks it), and is
  // taken once IRQs are unmasked again. No spinning: QEMU runs vCPUs as host threads.
  for (;;) {
    irq_disable();
    uint32_t seq = m->posted;
    if (seq == m->done) {
      __asm__ volatile("wfi" ::: "memory");
      irq_enable();
      continue;
    }
    irq_enable();
    dmb();
    m->fn(m->arg);
    dsb();
    m->done = seq;
    dsb();
  }
}

void guest_cpu0_main(void) {
  gic_dist_init();
  gic_redist_init(0);
  gic_cpuif_init();
  irq_enable();
  main();
  irq_disable();
  psci_system_off();
}

__attribute__((noreturn)) void guest_exception_entry(uint64_t kind, uint64_t esr, uint64_t elr, uint64_t far) {
  printf("FAIL: unexpected exception (vector %u) on cpu %u: ESR=0x%lx ELR=0x%lx FAR=0x%lx\n", (unsigned)kind,
         this_cpu(), esr, elr, far);
  psci_system_off();
}

int wait_delivered(uint32_t intid, uint32_t n) {
  int cpu;
  return WAIT_UNTIL(irq_where(intid, &cpu) >= n);
}
static void noop(void* arg) { (void)arg; }
void settle(void) {
  for (unsigned c = 1; c < NCPUS; c++) run_on(c, noop, 0);
  delay(20000);
  for (unsigned c = 1; c < NCPUS; c++) run_on(c, noop, 0);
}
const char* cpu_set_str(uint32_t mask) {
  static char buf[32];
  char* p = buf;
  *p++ = '{';
  for (unsigned c = 0; c < NCPUS; c++)
    if (mask & (1u << c)) {
      if (p != buf + 1) *p++ = ',';
      *p++ = (char)('0' + c);
    }
  *p++ = '}';
  *p = 0;
  return buf;
}
uint32_t cpus_that_took(uint32_t intid) {
  uint32_t m = 0;
  for (unsigned c = 0; c < NCPUS; c++)
    if (irq_count(c, intid)) m |= 1u << c;
  return m;
}
