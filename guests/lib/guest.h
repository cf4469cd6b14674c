// The guest library: what a bare-metal aarch64 program needs to drive the GICv3 + ITS of QEMU's virt
// board and of `vgic run` (same layout). EL1, MMU off, 4 CPUs, everything identity-mapped.
// See docs/guests.md for the API overview and the determinism rules every guest follows.
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define NCPUS 4u

// --- platform (QEMU virt layout)
#define UART_BASE 0x09000000ul
#define GICD_BASE 0x08000000ul
#define GITS_BASE 0x08080000ul
#define GICR_BASE 0x080A0000ul
#define GICR_STRIDE 0x20000ul  // RD_base + SGI_base, 64 KiB each

// --- MMIO and barriers
static inline void w8(uintptr_t a, uint8_t v) { *(volatile uint8_t*)a = v; }
static inline void w32(uintptr_t a, uint32_t v) { *(volatile uint32_t*)a = v; }
static inline void w64(uintptr_t a, uint64_t v) { *(volatile uint64_t*)a = v; }
static inline uint8_t r8(uintptr_t a) { return *(volatile uint8_t*)a; }
static inline uint32_t r32(uintptr_t a) { return *(volatile uint32_t*)a; }
static inline uint64_t r64(uintptr_t a) { return *(volatile uint64_t*)a; }
#define dsb() __asm__ volatile("dsb sy" ::: "memory")
#define dmb() __asm__ volatile("dmb sy" ::: "memory")
#define isb() __asm__ volatile("isb" ::: "memory")
#define cpu_relax() __asm__ volatile("yield" ::: "memory")
#define READ_SYSREG(r) ({ uint64_t __v; __asm__ volatile("mrs %0, " #r : "=r"(__v)::"memory"); __v; })
#define WRITE_SYSREG(r, v) __asm__ volatile("msr " #r ", %0" ::"r"((uint64_t)(v)) : "memory")
static inline void irq_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }

// --- bounded waiting: every wait in a guest ends, and a timeout is reported by the caller as FAIL.
#define SPIN_LIMIT 20000000ul
#define WAIT_UNTIL(cond) ({ unsigned long __n = 0; while (!(cond) && ++__n < SPIN_LIMIT) cpu_relax(); (cond) ? 1 : 0; })
void delay(unsigned long spins);  // a fixed number of relax iterations (never printed, never measured)

// --- UART (PL011) and formatted output. Only one CPU prints at a time (docs/guests.md).
void uart_putc(char c);
void uart_puts(const char* s);
int printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char* fmt, va_list ap);
void* memset(void* d, int c, size_t n);
void* memcpy(void* d, const void* s, size_t n);

// --- checks: each prints "ok: ..." or "FAIL: ..."; summary() prints the totals line.
int check(int ok, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void summary(const char* guest);  // "<guest>: N checks, M failed" (and "<guest>: PASS"/"FAIL")
unsigned failures(void);

// --- PSCI over HVC (SMCCC)
#define PSCI_CPU_ON 0xC4000003u
#define PSCI_AFFINITY_INFO 0xC4000004u
#define PSCI_SYSTEM_OFF 0x84000008u
int64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
__attribute__((noreturn)) void psci_system_off(void);

// --- SMP: CPU 0 runs main(); secondaries (started by smp_start) idle with IRQs unmasked, running
// what CPU 0 hands them with run_on(). CPU index = CPU_ON's context_id, kept in TPIDR_EL1.
static inline unsigned this_cpu(void) { return (unsigned)READ_SYSREG(tpidr_el1); }
int smp_start(void);  // CPU_ON for CPUs 1..3, waits until each has initialised its GIC side
int run_on(unsigned cpu, void (*fn)(void*), void* arg);  // synchronous; 0 or -1 (timeout, printed)
#define SGI_KICK 0u  // reserved: run_on() wakes an idle secondary with SGI 0 (not counted by irq_*)
int main(void);  // provided by each guest; after it returns, CPU 0 calls SYSTEM_OFF

// --- GICv3 distributor / redistributors / CPU interface
#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_ISPENDR 0x0200
#define GICD_ICPENDR 0x0280
#define GICD_ISACTIVER 0x0300
#define GICD_ICACTIVER 0x0380
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0C00
#define GICD_IROUTER 0x6000
#define GICR_CTLR 0x0000
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_SETLPIR 0x0040
#define GICR_CLRLPIR 0x0048
#define GICR_PROPBASER 0x0070
#define GICR_PENDBASER 0x0078
#define GICR_INVLPIR 0x00A0
#define GICR_INVALLR 0x00B0
#define GICR_SYNCR 0x00C0
#define GICR_SGI 0x10000ul  // SGI_base frame; SGI/PPI registers at the GICD offsets within it

static inline uintptr_t gicr_rd(unsigned cpu) { return GICR_BASE + cpu * GICR_STRIDE; }
static inline uintptr_t gicr_sgi(unsigned cpu) { return gicr_rd(cpu) + GICR_SGI; }

void gic_dist_init(void);        // ARE=1, Group 1 enabled, SPIs group 1, disabled, priority 0xA0
void gic_redist_init(unsigned cpu);  // wake; SGIs/PPIs group 1, disabled, priority 0xA0
void gic_cpuif_init(void);       // this CPU: SRE, PMR 0xFF, BPR1 0, EOImode 0, IGRPEN1 = 1
// Per-interrupt helpers: `cpu` selects the redistributor for SGIs/PPIs (INTID < 32), ignored for SPIs.
void gic_enable(unsigned cpu, uint32_t intid);
void gic_disable(unsigned cpu, uint32_t intid);
void gic_set_priority(unsigned cpu, uint32_t intid, uint8_t prio);
void gic_set_pending(unsigned cpu, uint32_t intid);
void gic_clear_pending(unsigned cpu, uint32_t intid);
int gic_is_pending(unsigned cpu, uint32_t intid);
int gic_is_active(unsigned cpu, uint32_t intid);
void gic_set_edge(uint32_t intid, int edge);  // SPIs
void gic_route_spi(uint32_t intid, unsigned cpu);  // IROUTER: Aff0 = cpu, IRM = 0
void gic_route_spi_any(uint32_t intid);            // IROUTER.IRM = 1 (1 of N)
void gic_send_sgi(uint32_t intid, uint16_t aff0_targets);  // ICC_SGI1R_EL1 target list (Aff3.2.1 = 0)
void gic_send_sgi_others(uint32_t intid);                  // ICC_SGI1R_EL1.IRM = 1
void gic_set_eoimode(int mode);  // this CPU's ICC_CTLR_EL1.EOImode
uint32_t gic_ack(void);
void gic_eoi(uint32_t intid);
void gic_dir(uint32_t intid);

// --- interrupt accounting (the library's IRQ handler): acknowledge, count per CPU and INTID, append
// to the CPU's log, call the hook, then EOI (+ DIR in EOImode 1) unless the hook returns non-zero.
typedef int (*irq_hook_t)(unsigned cpu, uint32_t intid);
void irq_set_hook(irq_hook_t hook);
uint32_t irq_count(unsigned cpu, uint32_t intid);
uint32_t irq_total(unsigned cpu);
uint32_t irq_where(uint32_t intid, int* cpu);  // total count of intid over all CPUs, *cpu = last CPU seen (-1)
void irq_reset(void);  // clears all counters and logs (call when no interrupt is in flight)
#define IRQ_LOG_LEN 64
extern volatile uint32_t irq_log[NCPUS][IRQ_LOG_LEN];
extern volatile uint32_t irq_log_len[NCPUS];
extern volatile uint32_t spurious_count[NCPUS];

// --- LPIs: one property table shared by all redistributors, a pending table per CPU
#define LPI_BASE 8192u
#define LPI_IDBITS 14u  // INTIDs < 16384
#define LPI_PROP_ENABLE 0x1u
#define LPI_PROP_RES1 0x2u
void lpi_init(void);  // all LPIs disabled at priority 0xA0; PROPBASER/PENDBASER; EnableLPIs on 4 CPUs
void lpi_config(uint32_t intid, uint8_t prio, int enable);  // the property table byte only
int gicr_wait_sync(unsigned cpu);  // writes nothing; polls GICR_SYNCR.Busy (bounded)

// --- ITS
#define GITS_CTLR 0x0000
#define GITS_IIDR 0x0004
#define GITS_TYPER 0x0008
#define GITS_CBASER 0x0080
#define GITS_CWRITER 0x0088
#define GITS_CREADR 0x0090
#define GITS_BASER 0x0100
#define GITS_TRANSLATER 0x10040
int its_init(void);  // device/collection tables, 4 KiB command queue, GITS_CTLR.Enabled
uint64_t its_rdbase(unsigned cpu);  // GITS_TYPER.PTA ? redistributor address : processor number
// Commands are queued and executed (CWRITER written, CREADR polled) one at a time; each returns 0,
// or -1 after printing a FAIL line if the ITS did not consume it.
int its_mapd(uint32_t dev, unsigned event_bits);  // allocates the ITT from the library's pool
int its_unmapd(uint32_t dev);
int its_mapc(uint16_t icid, unsigned cpu);
int its_unmapc(uint16_t icid);
int its_mapti(uint32_t dev, uint32_t event, uint32_t intid, uint16_t icid);
int its_mapi(uint32_t dev, uint32_t event, uint16_t icid);
int its_int(uint32_t dev, uint32_t event);
int its_clear(uint32_t dev, uint32_t event);
int its_inv(uint32_t dev, uint32_t event);
int its_invall(uint16_t icid);
int its_movi(uint32_t dev, uint32_t event, uint16_t icid);
int its_discard(uint32_t dev, uint32_t event);
int its_sync(unsigned cpu);
int its_movall(unsigned from_cpu, unsigned to_cpu);
void its_msi(uint32_t event);  // a CPU write to GITS_TRANSLATER: DeviceID 0 on virt

// --- helpers shared by the guests
int wait_delivered(uint32_t intid, uint32_t n);  // bounded wait: intid taken n times (all CPUs together)
void settle(void);  // a round trip through every CPU plus a fixed delay: lets a wrong extra delivery show
const char* cpu_set_str(uint32_t mask);  // "{0,2}" (static buffer)
uint32_t cpus_that_took(uint32_t intid);  // bit c set if CPU c took intid
