/*
 * vgic SMP demo: four vCPU threads run a minimal GICv3 guest driver against one emulated GIC,
 * while a device thread raises interrupts. Only the public C API (<vgic/vgic.h>) is used.
 *
 *   vCPU threads  wake their redistributor, enable Group 1, set the priority mask, then loop:
 *                 sleep until the line notifier reports the IRQ line high, read ICC_IAR1_EL1,
 *                 handle the interrupt, write ICC_EOIR1_EL1, and record what they took.
 *   device thread per round: one edge SPI routed to each vCPU (GICD_IROUTER), one edge SPI routed
 *                 1-of-N (any vCPU may take it), and the level-sensitive timer PPI 27 of each vCPU.
 *   timer handler "reprograms the timer" (the VMM's timer model lowers PPI 27) and sends a
 *                 reschedule SGI 1 to the next vCPU by writing ICC_SGI1R_EL1.
 *
 * Every step is a handshake: the device starts a round only when every interrupt of the previous
 * one has been completed (EOI written), so no edge or SGI can merge with an earlier one and the
 * per-CPU counts are exact. The waits are bounded; nothing sleeps to synchronise. The demo prints
 * a table INTID -> CPU -> count and exits 0 only if every count is what the script implies.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vgic/vgic.h>

#define NR_CPUS 4u
#define ROUNDS 64u
#define WAIT_TIMEOUT_S 10 /* a failure bound only: a healthy round takes microseconds */

/* The interrupts of the script. */
#define SGI_RESCHED 1u
#define PPI_TIMER 27u
#define SPI_ROUTED 33u /* SPIs 33..36: SPI 33 + c is routed to vCPU c */
#define SPI_1OFN 40u   /* routed 1-of-N (GICD_IROUTER.Interrupt_Routing_Mode = 1) */
#define MAX_INTID 64u  /* counts are kept for INTIDs below this */
#define PER_ROUND (NR_CPUS /* routed SPIs */ + 1u /* 1-of-N SPI */ + NR_CPUS /* timers */ + NR_CPUS /* SGIs */)

/* GIC CPU interface system registers (encoded as in KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS). */
#define ICC_PMR_EL1 VGIC_SYSREG(3, 0, 4, 6, 0)
#define ICC_SGI1R_EL1 VGIC_SYSREG(3, 0, 12, 11, 5)
#define ICC_IAR1_EL1 VGIC_SYSREG(3, 0, 12, 12, 0)
#define ICC_EOIR1_EL1 VGIC_SYSREG(3, 0, 12, 12, 1)
#define ICC_BPR1_EL1 VGIC_SYSREG(3, 0, 12, 12, 3)
#define ICC_CTLR_EL1 VGIC_SYSREG(3, 0, 12, 12, 4)
#define ICC_SRE_EL1 VGIC_SYSREG(3, 0, 12, 12, 5)
#define ICC_IGRPEN1_EL1 VGIC_SYSREG(3, 0, 12, 12, 7)

/* Distributor offsets. */
#define GICD_CTLR 0x0000u
#define GICD_IGROUPR 0x0080u
#define GICD_ISENABLER 0x0100u
#define GICD_IPRIORITYR 0x0400u
#define GICD_ICFGR 0x0C00u
#define GICD_IROUTER 0x6000u
#define GICD_CTLR_ENABLE_GRP1 (1u << 1)
#define GICD_CTLR_ARE (1u << 4)
#define GICD_IROUTER_IRM (1ull << 31)

/* Redistributor offsets (RD_base; the SGI_base frame follows at +64 KiB). */
#define GICR_STRIDE 0x20000u
#define GICR_WAKER 0x0014u
#define GICR_WAKER_PROCESSOR_SLEEP (1u << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1u << 2)
#define GICR_SGI_BASE 0x10000u
#define GICR_IGROUPR0 (GICR_SGI_BASE + 0x0080u)
#define GICR_ISENABLER0 (GICR_SGI_BASE + 0x0100u)
#define GICR_IPRIORITYR (GICR_SGI_BASE + 0x0400u)
#define GICR_ICFGR1 (GICR_SGI_BASE + 0x0C04u)

#define SPURIOUS 1023u

struct vcpu {
  unsigned index;
  pthread_t thread;
  pthread_mutex_t mu; /* protects lines and stop */
  pthread_cond_t cv;  /* signalled by the line notifier and by stop */
  int lines;          /* last value reported by the line notifier */
  int stop;
};

struct demo {
  vgic *g;
  vgic_config cfg;
  struct vcpu cpu[NR_CPUS];

  pthread_mutex_t mu; /* protects everything below */
  pthread_cond_t cv;  /* broadcast on every change below */
  unsigned ready;     /* vCPUs whose driver initialisation is complete */
  unsigned long done; /* interrupts completed (EOI written) */
  unsigned count[MAX_INTID][NR_CPUS];
  unsigned long spurious[NR_CPUS];
  unsigned failures; /* host-level errors (a vgic call failed) */
};

static struct demo demo;

/* ---------------------------------------------------------------- helpers */

static void fail(const char *what, int rc) {
  fprintf(stderr, "smp_demo: %s failed: %d (%s) %s\n", what, rc, vgic_strerror(rc), vgic_last_error());
  pthread_mutex_lock(&demo.mu);
  ++demo.failures;
  pthread_mutex_unlock(&demo.mu);
}

static void gicd_write(uint32_t off, unsigned size, uint64_t v) {
  int rc = vgic_mmio_write(demo.g, demo.cfg.gicd_base + off, size, v);
  if (rc != VGIC_OK) fail("GICD write", rc);
}

static uint64_t gicr_read(unsigned cpu, uint32_t off) {
  uint64_t v = 0;
  int rc = vgic_mmio_read(demo.g, demo.cfg.gicr_base + (uint64_t)cpu * GICR_STRIDE + off, 4, &v);
  if (rc != VGIC_OK) fail("GICR read", rc);
  return v;
}

static void gicr_write(unsigned cpu, uint32_t off, unsigned size, uint64_t v) {
  int rc = vgic_mmio_write(demo.g, demo.cfg.gicr_base + (uint64_t)cpu * GICR_STRIDE + off, size, v);
  if (rc != VGIC_OK) fail("GICR write", rc);
}

static uint64_t icc_read(unsigned cpu, uint32_t reg) {
  uint64_t v = 0;
  int rc = vgic_sysreg_read(demo.g, cpu, reg, &v);
  if (rc != VGIC_OK) fail("ICC register read", rc);
  return v;
}

static void icc_write(unsigned cpu, uint32_t reg, uint64_t v) {
  int rc = vgic_sysreg_write(demo.g, cpu, reg, v);
  if (rc != VGIC_OK) fail("ICC register write", rc);
}

static void set_line(unsigned cpu, uint32_t intid, int level) {
  int rc = vgic_set_irq_level(demo.g, cpu, intid, level);
  if (rc != VGIC_OK) fail("vgic_set_irq_level", rc);
}

static struct timespec deadline(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_sec += WAIT_TIMEOUT_S;
  return t;
}

static void init_cond(pthread_cond_t *cv) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(cv, &a);
  pthread_condattr_destroy(&a);
}

/* ------------------------------------------------------- the line notifier */

/* Called by vgic whenever a vCPU's IRQ/FIQ lines change, from whichever thread caused the change and
 * with vgic's lock of that vCPU held. It only records the value and wakes the vCPU thread: it takes
 * no lock other than its own leaf mutex and calls nothing in vgic (see docs/architecture.md). */
static void on_lines(void *opaque, unsigned cpu, int lines) {
  struct vcpu *v = &((struct demo *)opaque)->cpu[cpu];
  pthread_mutex_lock(&v->mu);
  v->lines = lines;
  pthread_cond_signal(&v->cv);
  pthread_mutex_unlock(&v->mu);
}

/* ------------------------------------------------------- the guest driver */

/* Boot CPU: the Distributor. Each SPI: Group 1, a priority, edge-triggered, routed, enabled. */
static void distributor_init(void) {
  gicd_write(GICD_CTLR, 4, GICD_CTLR_ARE | GICD_CTLR_ENABLE_GRP1);
  uint32_t spis = 1u << (SPI_1OFN % 32);
  for (unsigned c = 0; c < NR_CPUS; ++c) spis |= 1u << ((SPI_ROUTED + c) % 32);
  gicd_write(GICD_IGROUPR + 4, 4, spis); /* INTIDs 32..63 */
  uint32_t edge = 0;
  for (unsigned i = 32; i < 48; ++i)
    if (spis >> (i % 32) & 1) edge |= 2u << (2 * (i % 16));
  gicd_write(GICD_ICFGR + 8, 4, edge); /* INTIDs 32..47 */
  for (unsigned c = 0; c < NR_CPUS; ++c) {
    gicd_write(GICD_IPRIORITYR + SPI_ROUTED + c, 1, 0xa0);
    /* Default affinities: vCPU c has Aff0 = c, Aff1..3 = 0. */
    gicd_write(GICD_IROUTER + 8 * (SPI_ROUTED + c), 8, c);
  }
  gicd_write(GICD_IPRIORITYR + SPI_1OFN, 1, 0xa8);
  gicd_write(GICD_IROUTER + 8 * SPI_1OFN, 8, GICD_IROUTER_IRM);
  gicd_write(GICD_ISENABLER + 4, 4, spis);
}

/* Every CPU: its Redistributor (wake it; SGI 1 and the timer PPI) and its CPU interface. */
static void cpu_init(unsigned c) {
  gicr_write(c, GICR_WAKER, 4, gicr_read(c, GICR_WAKER) & ~GICR_WAKER_PROCESSOR_SLEEP);
  for (unsigned tries = 0; gicr_read(c, GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP; ++tries) {
    if (tries == 1000) {
      fail("GICR_WAKER.ChildrenAsleep never cleared", VGIC_EBUSY);
      break;
    }
  }
  const uint32_t mine = 1u << SGI_RESCHED | 1u << PPI_TIMER;
  gicr_write(c, GICR_IGROUPR0, 4, mine);
  gicr_write(c, GICR_IPRIORITYR + SGI_RESCHED, 1, 0x80);
  gicr_write(c, GICR_IPRIORITYR + PPI_TIMER, 1, 0x90);
  /* PPI 27 level-sensitive: clear its ICFGR bit (the timer holds its output high until handled). */
  gicr_write(c, GICR_ICFGR1, 4, gicr_read(c, GICR_ICFGR1) & ~(2u << (2 * (PPI_TIMER - 16))));
  gicr_write(c, GICR_ISENABLER0, 4, mine);

  if ((icc_read(c, ICC_SRE_EL1) & 1) == 0) fail("ICC_SRE_EL1.SRE is 0", VGIC_ENOSYS);
  icc_write(c, ICC_PMR_EL1, 0xf0);
  icc_write(c, ICC_BPR1_EL1, 0);
  icc_write(c, ICC_CTLR_EL1, 0); /* EOImode 0: EOIR drops the priority and deactivates */
  icc_write(c, ICC_IGRPEN1_EL1, 1);
}

/* ICC_SGI1R_EL1 value that sends SGI sgi to the vCPU with affinity 0.0.0.target. */
static uint64_t sgi1r(unsigned target, unsigned sgi) { return (uint64_t)sgi << 24 | 1ull << target; }

static void handle(unsigned c, uint32_t intid) {
  if (intid == PPI_TIMER) {
    /* The guest reprograms its timer: the VMM's timer model drops the PPI line. Then, as a
     * scheduler would on a tick, it kicks the next CPU with a reschedule IPI. */
    set_line(c, PPI_TIMER, 0);
    icc_write(c, ICC_SGI1R_EL1, sgi1r((c + 1) % NR_CPUS, SGI_RESCHED));
  }
}

static void *vcpu_main(void *arg) {
  struct vcpu *v = arg;
  const unsigned c = v->index;
  if (c == 0) distributor_init();
  cpu_init(c);
  pthread_mutex_lock(&demo.mu);
  ++demo.ready;
  pthread_cond_broadcast(&demo.cv);
  pthread_mutex_unlock(&demo.mu);

  for (;;) {
    /* Wait for the IRQ line. The notifier runs under vgic's lock of this vCPU, so vgic must not be
     * called while holding v->mu: the mutex is released before the IAR read below. */
    pthread_mutex_lock(&v->mu);
    while (!(v->lines & VGIC_LINE_IRQ) && !v->stop) pthread_cond_wait(&v->cv, &v->mu);
    const int stop = v->stop;
    pthread_mutex_unlock(&v->mu);
    if (stop) break;

    const uint32_t intid = (uint32_t)(icc_read(c, ICC_IAR1_EL1) & 0xffffff);
    if (intid == SPURIOUS) {
      /* Another vCPU took the 1-of-N SPI first, or the line had already dropped again. */
      pthread_mutex_lock(&demo.mu);
      ++demo.spurious[c];
      pthread_mutex_unlock(&demo.mu);
      continue;
    }
    handle(c, intid);
    icc_write(c, ICC_EOIR1_EL1, intid);

    pthread_mutex_lock(&demo.mu);
    if (intid < MAX_INTID)
      ++demo.count[intid][c];
    else
      ++demo.failures;
    ++demo.done;
    pthread_cond_broadcast(&demo.cv);
    pthread_mutex_unlock(&demo.mu);
  }
  return NULL;
}

/* ------------------------------------------------------- the device thread */

/* Waits until demo.done >= target. Returns 0, or -1 after WAIT_TIMEOUT_S. */
static int wait_done(unsigned long target) {
  const struct timespec dl = deadline();
  int rc = 0;
  pthread_mutex_lock(&demo.mu);
  while (demo.done < target) {
    if (pthread_cond_timedwait(&demo.cv, &demo.mu, &dl) == ETIMEDOUT && demo.done < target) {
      fprintf(stderr, "smp_demo: timed out: %lu of %lu interrupts completed\n", demo.done, target);
      rc = -1;
      break;
    }
  }
  pthread_mutex_unlock(&demo.mu);
  return rc;
}

static int device_status; /* 0: script completed */

static void *device_main(void *arg) {
  (void)arg;
  for (unsigned r = 0; r < ROUNDS; ++r) {
    for (unsigned c = 0; c < NR_CPUS; ++c) { /* edge: a pulse makes the SPI pending once */
      set_line(0, SPI_ROUTED + c, 1);
      set_line(0, SPI_ROUTED + c, 0);
    }
    set_line(0, SPI_1OFN, 1);
    set_line(0, SPI_1OFN, 0);
    for (unsigned c = 0; c < NR_CPUS; ++c) set_line(c, PPI_TIMER, 1); /* each vCPU's timer fires */
    if (wait_done((unsigned long)(r + 1) * PER_ROUND)) { /* the handshake: the round completed */
      device_status = -1;
      break;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------ the report */

struct row {
  uint32_t intid;
  const char *what;
  int cpu;           /* the only vCPU that may take it; -1: every vCPU, ROUNDS each; -2: any one */
};

static const struct row rows[] = {
    {SGI_RESCHED, "SGI  reschedule IPI (ICC_SGI1R)", -1},
    {PPI_TIMER, "PPI  timer, level-sensitive", -1},
    {SPI_ROUTED + 0, "SPI  edge, IROUTER -> cpu0", 0},
    {SPI_ROUTED + 1, "SPI  edge, IROUTER -> cpu1", 1},
    {SPI_ROUTED + 2, "SPI  edge, IROUTER -> cpu2", 2},
    {SPI_ROUTED + 3, "SPI  edge, IROUTER -> cpu3", 3},
    {SPI_1OFN, "SPI  edge, 1-of-N (IRM = 1)", -2},
};

static int report(void) {
  int ok = 1;
  /* vCPU threads may still be running when a failed run reports; they take demo.mu only outside vgic. */
  pthread_mutex_lock(&demo.mu);
  printf("\nINTID  source                            ");
  for (unsigned c = 0; c < NR_CPUS; ++c) printf("  cpu%u", c);
  printf("  total  expected\n");

  unsigned listed[MAX_INTID] = {0};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; ++i) {
    const struct row *r = &rows[i];
    listed[r->intid] = 1;
    unsigned total = 0;
    int row_ok = 1;
    printf("%5" PRIu32 "  %-34s", r->intid, r->what);
    for (unsigned c = 0; c < NR_CPUS; ++c) {
      const unsigned n = demo.count[r->intid][c];
      total += n;
      printf("  %4u", n);
      if (r->cpu == -1 && n != ROUNDS) row_ok = 0;
      if (r->cpu >= 0 && n != ((unsigned)r->cpu == c ? ROUNDS : 0)) row_ok = 0;
    }
    const unsigned want_total = r->cpu == -1 ? ROUNDS * NR_CPUS : ROUNDS;
    if (total != want_total) row_ok = 0;
    char expect[32];
    if (r->cpu == -1)
      snprintf(expect, sizeof expect, "%u per cpu", ROUNDS);
    else if (r->cpu == -2)
      snprintf(expect, sizeof expect, "%u in total", ROUNDS);
    else
      snprintf(expect, sizeof expect, "%u on cpu%d", ROUNDS, r->cpu);
    printf("  %5u  %-12s %s\n", total, expect, row_ok ? "ok" : "WRONG");
    ok &= row_ok;
  }
  for (unsigned id = 0; id < MAX_INTID; ++id) {
    if (listed[id]) continue;
    for (unsigned c = 0; c < NR_CPUS; ++c) {
      if (demo.count[id][c]) {
        printf("%5u  unexpected: acknowledged %u times on cpu%u  WRONG\n", id, demo.count[id][c], c);
        ok = 0;
      }
    }
  }

  printf("\nspurious IAR1 reads (1023; e.g. a 1-of-N race lost):");
  for (unsigned c = 0; c < NR_CPUS; ++c) printf(" cpu%u %lu", c, demo.spurious[c]);
  printf("\n");

  vgic_stats st = {0};
  if (vgic_get_stats(demo.g, &st) != VGIC_OK) ok = 0;
  printf("guest errors counted by vgic: %" PRIu64 "\n", st.guest_errors);
  if (st.guest_errors != 0) ok = 0;
  for (unsigned c = 0; c < NR_CPUS; ++c) {
    const int lines = vgic_cpu_lines(demo.g, c);
    if (lines != 0) {
      printf("cpu%u still has lines %d asserted at the end  WRONG\n", c, lines);
      ok = 0;
    }
  }
  if (demo.failures) {
    printf("host-level errors: %u\n", demo.failures);
    ok = 0;
  }
  pthread_mutex_unlock(&demo.mu);
  return ok;
}

/* ------------------------------------------------------------------ main */

int main(void) {
  vgic_config_init(&demo.cfg);
  demo.cfg.nr_cpus = NR_CPUS;
  char err[256];
  demo.g = vgic_create(&demo.cfg, err, sizeof err);
  if (!demo.g) {
    fprintf(stderr, "smp_demo: vgic_create: %s\n", err);
    return 1;
  }

  pthread_mutex_init(&demo.mu, NULL);
  init_cond(&demo.cv);
  for (unsigned c = 0; c < NR_CPUS; ++c) {
    demo.cpu[c].index = c;
    pthread_mutex_init(&demo.cpu[c].mu, NULL);
    pthread_cond_init(&demo.cpu[c].cv, NULL);
  }
  vgic_set_line_notifier(demo.g, on_lines, &demo);

  printf("vgic SMP demo: %u vCPUs, %u rounds. Each round a device pulses one SPI routed to each vCPU\n"
         "and one 1-of-N SPI, and raises every vCPU's timer PPI; each timer tick sends a reschedule\n"
         "SGI to the next vCPU.\n",
         NR_CPUS, ROUNDS);

  for (unsigned c = 0; c < NR_CPUS; ++c) {
    if (pthread_create(&demo.cpu[c].thread, NULL, vcpu_main, &demo.cpu[c]) != 0) {
      fprintf(stderr, "smp_demo: pthread_create failed\n");
      return 1;
    }
  }

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  unsigned long ready = 0;
  pthread_mutex_lock(&demo.mu);
  const struct timespec dl = deadline();
  while (demo.ready < NR_CPUS && pthread_cond_timedwait(&demo.cv, &demo.mu, &dl) != ETIMEDOUT) {
  }
  ready = demo.ready;
  pthread_mutex_unlock(&demo.mu);
  if (ready < NR_CPUS) {
    fprintf(stderr, "smp_demo: only %lu of %u vCPUs finished their initialisation\n", ready, NR_CPUS);
    fflush(NULL);
    _Exit(1); /* threads may be stuck: do not join them */
  }

  pthread_t device;
  if (pthread_create(&device, NULL, device_main, NULL) != 0) {
    fprintf(stderr, "smp_demo: pthread_create failed\n");
    return 1;
  }
  pthread_join(device, NULL); /* bounded: each of its waits times out */
  clock_gettime(CLOCK_MONOTONIC, &t1);

  if (device_status != 0) {
    /* Report what arrived, then leave without joining: a vCPU may be stuck. */
    report();
    printf("result: FAIL (the script did not complete)\n");
    fflush(NULL);
    _Exit(1);
  }

  for (unsigned c = 0; c < NR_CPUS; ++c) {
    pthread_mutex_lock(&demo.cpu[c].mu);
    demo.cpu[c].stop = 1;
    pthread_cond_signal(&demo.cpu[c].cv);
    pthread_mutex_unlock(&demo.cpu[c].mu);
  }
  for (unsigned c = 0; c < NR_CPUS; ++c) pthread_join(demo.cpu[c].thread, NULL);

  const int ok = report();
  const double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  printf("result: %s (%lu interrupts completed in %.1f ms)\n", ok ? "PASS" : "FAIL", demo.done, ms);

  vgic_set_line_notifier(demo.g, NULL, NULL);
  vgic_destroy(demo.g);
  return ok ? 0 : 1;
}
