// A tiny bare-metal library for the machine's test images: PL011 output, PSCI over HVC, the
// GICv3 registers they use. Everything here behaves the same on QEMU virt (gic-version=3).
#pragma once
#include <stdint.h>

#define UART_DR ((volatile uint32_t*)0x09000000)
#define GICD_BASE 0x08000000UL
#define GICR_BASE(cpu) (0x080A0000UL + (uint64_t)(cpu) * 0x20000)
#define REG32(a) (*(volatile uint32_t*)(a))

#define PSCI_VERSION 0x84000000UL
#define PSCI_CPU_OFF 0x84000002UL
#define PSCI_CPU_ON 0xC4000003UL
#define PSCI_AFFINITY_INFO 0xC4000004UL
#define PSCI_SYSTEM_OFF 0x84000008UL

int64_t hvc_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
void secondary_entry(void);

static inline void putc_(char c) { *UART_DR = (uint32_t)(unsigned char)c; }
static inline void puts_(const char* s) { while (*s) putc_(*s++); }
static inline void puthex(uint64_t v) {
  puts_("0x");
  int started = 0;
  for (int i = 60; i >= 0; i -= 4) {
    unsigned d = (v >> i) & 0xF;
    if (d || started || i == 0) { putc_((char)(d < 10 ? '0' + d : 'a' + d - 10)); started = 1; }
  }
}
static inline void putdec(int64_t v) {
  char b[24]; int n = 0;
  if (v < 0) { putc_('-'); v = -v; }
  do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n) putc_(b[--n]);
}
static inline void system_off(void) { hvc_call(PSCI_SYSTEM_OFF, 0, 0, 0); for (;;) {} }

#define SYSREG_READ(name) ({ uint64_t v_; __asm__ volatile("mrs %0, " #name : "=r"(v_)); v_; })
#define SYSREG_WRITE(name, v) __asm__ volatile("msr " #name ", %0" :: "r"((uint64_t)(v)) : "memory")
#define ISB() __asm__ volatile("isb" ::: "memory")
#define DSB() __asm__ volatile("dsb sy" ::: "memory")

// ICC registers by encoding, so any assembler accepts them.
#define ICC_PMR_EL1 s3_0_c4_c6_0
#define ICC_IAR1_EL1 s3_0_c12_c12_0
#define ICC_EOIR1_EL1 s3_0_c12_c12_1
#define ICC_SRE_EL1 s3_0_c12_c12_5
#define ICC_IGRPEN1_EL1 s3_0_c12_c12_7
#define ICC_SGI1R_EL1 s3_0_c12_c11_5

// Distributor: affinity routing + Group 1 (the same bits under DS=1 and the NS view of DS=0).
static inline void gicd_init(void) {
  REG32(GICD_BASE + 0x0) = (1u << 4) | (1u << 1);
  while (REG32(GICD_BASE + 0x0) & (1u << 31)) {}  // RWP
}
// This CPU's redistributor awake, SGIs/PPIs in Group 1 at priority 0x80, CPU interface on.
static inline void gicr_cpu_init(unsigned cpu, uint32_t enable_mask) {
  uint64_t rd = GICR_BASE(cpu), sgi = rd + 0x10000;
  REG32(rd + 0x14) &= ~(1u << 1);           // GICR_WAKER.ProcessorSleep
  while (REG32(rd + 0x14) & (1u << 2)) {}   // ChildrenAsleep
  REG32(sgi + 0x80) = 0xFFFFFFFFu;          // GICR_IGROUPR0
  for (int i = 0; i < 8; ++i) REG32(sgi + 0x400 + 4 * i) = 0x80808080u;
  REG32(sgi + 0x100) = enable_mask;          // GICR_ISENABLER0
  SYSREG_WRITE(ICC_SRE_EL1, SYSREG_READ(ICC_SRE_EL1) | 1);
  ISB();
  SYSREG_WRITE(ICC_PMR_EL1, 0xFF);
  SYSREG_WRITE(ICC_IGRPEN1_EL1, 1);
  ISB();
}
static inline void send_sgi(unsigned intid, unsigned target_cpu) {
  uint64_t v = ((uint64_t)intid << 24) | ((uint64_t)(target_cpu / 16) << 16) | (1u << (target_cpu % 16));
  SYSREG_WRITE(ICC_SGI1R_EL1, v);
  ISB();
}
