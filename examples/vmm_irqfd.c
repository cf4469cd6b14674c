/*
 * vgic VMM example: devices wired the way a KVM VMM wires them, with GSI routing, irqfds and an ack
 * notifier, on top of the public C API (<vgic/vgic.h>) only.
 *
 *   guest         two vCPU threads. vCPU 0 boots the GIC like Linux does: Distributor, ITS (device
 *                 and collection tables, command queue), LPI configuration and pending tables. Each
 *                 vCPU then wakes its Redistributor, enables LPIs and its CPU interface. vCPU 0 then
 *                 "probes" two device drivers: a level-sensitive SPI routed to vCPU 0, and an MSI
 *                 (MAPC, MAPD, MAPTI, INV, SYNC) whose LPI goes to vCPU 1. Then each vCPU loops:
 *                 sleep until the line notifier reports its IRQ line, ICC_IAR1_EL1, handle,
 *                 ICC_EOIR1_EL1 (EOImode 0: the EOI also deactivates).
 *   VMM           GSI 0 -> SPI (irqchip pin 8, INTID 40), GSI 1 -> MSI through the ITS. An irqfd per
 *                 device: GSI 0 with a resamplefd (level-triggered, like VFIO INTx), GSI 1 without.
 *                 An ack notifier on the SPI counts the guest's deactivations.
 *   level device  asserts its interrupt by writing its eventfd, then waits on its resamplefd before
 *                 it may assert again: vgic lowers the line and signals the resamplefd when the guest
 *                 deactivates the interrupt (VFIO's INTx unmask handshake).
 *   MSI device    writes its eventfd, then waits until the guest driver reports the interrupt handled,
 *                 so that no two MSIs can coalesce (in the eventfd or in the LPI pending bit).
 *
 * The two event loops: vgic serves every irqfd of an instance from one loop, either the VMM's (poll
 * vgic_irqfd_poll_fd(), call vgic_irqfd_dispatch()) or its own thread (vgic_irqfd_start_thread()),
 * which then runs until vgic_destroy(). So the demo runs in two phases. Phase 1: the level device,
 * served by the VMM's main-loop thread, which is then stopped. Phase 2: the MSI device, served by
 * vgic's thread. Every wait is bounded; nothing sleeps to synchronise. The demo prints per device
 * what was signalled, acknowledged (by which vCPU), resampled and notified, and exits 0 only if
 * every count is exactly what the handshakes imply.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <vgic/vgic.h>

#define NR_CPUS 2u
#define LEVEL_ASSERTS 400u
#define MSI_SIGNALS 400u
#define WAIT_TIMEOUT_MS 10000 /* a failure bound only: a healthy handshake takes microseconds */

/* The VMM's interrupt plan. */
#define GSI_LEVEL 0u
#define GSI_MSI 1u
#define SPI_PIN 8u
#define SPI_INTID (32u + SPI_PIN) /* irqchip routes name the SPI by pin, as KVM does */
#define SPI_CPU 0u                /* the guest routes the SPI to vCPU 0 (GICD_IROUTER) ... */
#define MSI_DEVID 0x10u
#define MSI_EVENT 0u
#define LPI_INTID 8192u
#define LPI_CPU 1u                /* ... and the MSI's collection to vCPU 1 (MAPC) */

/* Guest RAM, which holds the ITS and LPI tables. */
#define RAM_GPA 0x40000000ull
#define RAM_SIZE (1u << 20)
#define SZ_64K 0x10000u

/* GIC CPU interface system registers (encoded as in KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS). */
#define ICC_PMR_EL1 VGIC_SYSREG(3, 0, 4, 6, 0)
#define ICC_IAR1_EL1 VGIC_SYSREG(3, 0, 12, 12, 0)
#define ICC_EOIR1_EL1 VGIC_SYSREG(3, 0, 12, 12, 1)
#define ICC_BPR1_EL1 VGIC_SYSREG(3, 0, 12, 12, 3)
#define ICC_CTLR_EL1 VGIC_SYSREG(3, 0, 12, 12, 4)
#define ICC_SRE_EL1 VGIC_SYSREG(3, 0, 12, 12, 5)
#define ICC_IGRPEN1_EL1 VGIC_SYSREG(3, 0, 12, 12, 7)
#define SPURIOUS 1023u

/* Distributor, Redistributor (RD_base) and ITS register offsets. */
#define GICD_CTLR 0x0000u
#define GICD_IGROUPR 0x0080u
#define GICD_ISENABLER 0x0100u
#define GICD_IPRIORITYR 0x0400u
#define GICD_ICFGR 0x0C00u
#define GICD_IROUTER 0x6000u
#define GICD_CTLR_ENABLE_GRP1 (1u << 1)
#define GICD_CTLR_ARE (1u << 4)
#define GICR_STRIDE 0x20000u
#define GICR_CTLR 0x0000u
#define GICR_CTLR_ENABLE_LPIS 1u
#define GICR_WAKER 0x0014u
#define GICR_WAKER_PROCESSOR_SLEEP (1u << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1u << 2)
#define GICR_PROPBASER 0x0070u
#define GICR_PENDBASER 0x0078u
#define GITS_CTLR 0x0000u
#define GITS_CBASER 0x0080u
#define GITS_CWRITER 0x0088u
#define GITS_CREADR 0x0090u
#define GITS_BASER 0x0100u
#define GITS_TRANSLATER 0x10040u
#define GITS_VALID (1ull << 63)         /* GITS_BASER<n>.Valid, GITS_CBASER.Valid */
#define GITS_BASER_RO (0x7ull << 56 | 0x1full << 48) /* Type, Entry_Size */
#define GITS_BASER_64K (2ull << 8)      /* Page_Size = 64 KiB; Size = 0: one page */
#define ITS_QUEUE_BYTES 4096u           /* GITS_CBASER.Size = 0: one 4 KiB page, 128 commands */
#define ITS_CMD_MAPD 0x08u
#define ITS_CMD_MAPC 0x09u
#define ITS_CMD_MAPTI 0x0Au
#define ITS_CMD_INV 0x0Cu
#define ITS_CMD_SYNC 0x05u

enum { DEV_LEVEL, DEV_MSI, NR_DEVS };

struct vcpu {
  unsigned index;
  pthread_t thread;
  pthread_mutex_t mu; /* protects lines and stop */
  pthread_cond_t cv;  /* signalled by the line notifier and by stop */
  int lines;          /* last value reported by the line notifier */
  int stop;
};

struct vmm {
  vgic *g;
  vgic_config cfg;
  uint8_t *ram;
  struct vcpu cpu[NR_CPUS];
  int level_efd, level_rfd, msi_efd, loop_stop_efd;

  /* The guest's own memory bookkeeping (used by vCPU 0, and by vCPU 1 only after a handoff). */
  uint64_t ram_next, its_queue, its_cwriter, prop, pend[NR_CPUS];

  pthread_mutex_t mu; /* protects everything below */
  pthread_cond_t cv;  /* broadcast on every change below */
  unsigned long boot; /* boot progress: vCPUs up, then +1 when the drivers are probed */
  unsigned long signals[NR_DEVS];
  unsigned long acked[NR_DEVS][NR_CPUS]; /* EOI written, by vCPU */
  unsigned long handled[NR_DEVS];        /* the same, summed over the vCPUs */
  unsigned long unexpected;              /* acknowledged INTIDs that no device owns */
  unsigned long spurious[NR_CPUS];       /* IAR reads that returned 1023 */
  unsigned long resamples;               /* resamplefd counts read by the level device */
  unsigned long acknotes[NR_CPUS];       /* ack notifier calls, by the vCPU they ran on */
  unsigned long acknotes_total;
  unsigned long dispatched;              /* signals injected by the VMM's loop */
  unsigned failures;                     /* host-level errors (a vgic or system call failed) */
};

static struct vmm vmm;
#define BOOT_CPUS_UP ((unsigned long)NR_CPUS)
#define BOOT_DONE (BOOT_CPUS_UP + 1)

/* ---------------------------------------------------------------- helpers */

static void fail(const char *what, int rc) {
  fprintf(stderr, "vmm_irqfd: %s failed: %d (%s) %s\n", what, rc, vgic_strerror(rc), vgic_last_error());
  pthread_mutex_lock(&vmm.mu);
  ++vmm.failures;
  pthread_mutex_unlock(&vmm.mu);
}

static void check(const char *what, int rc) {
  if (rc < 0) fail(what, rc);
}

static uint64_t mmio_read(uint64_t gpa, unsigned size) {
  uint64_t v = 0;
  check("MMIO read", vgic_mmio_read(vmm.g, gpa, size, &v));
  return v;
}

static void mmio_write(uint64_t gpa, unsigned size, uint64_t v) {
  check("MMIO write", vgic_mmio_write(vmm.g, gpa, size, v));
}

static uint64_t gicd(uint32_t off) { return vmm.cfg.gicd_base + off; }
static uint64_t gicr(unsigned cpu, uint32_t off) {
  return vmm.cfg.gicr_base + (uint64_t)cpu * GICR_STRIDE + off;
}
static uint64_t gits(uint32_t off) { return vmm.cfg.its[0].base + off; }

static uint64_t icc_read(unsigned cpu, uint32_t reg) {
  uint64_t v = 0;
  check("ICC register read", vgic_sysreg_read(vmm.g, cpu, reg, &v));
  return v;
}

static void icc_write(unsigned cpu, uint32_t reg, uint64_t v) {
  check("ICC register write", vgic_sysreg_write(vmm.g, cpu, reg, v));
}

static void efd_signal(int fd) {
  const uint64_t one = 1;
  if (write(fd, &one, sizeof one) != (ssize_t)sizeof one) fail("eventfd write", -errno);
}

static uint64_t efd_take(int fd) { /* 0 if not signalled */
  uint64_t v = 0;
  return read(fd, &v, sizeof v) == (ssize_t)sizeof v ? v : 0;
}

static void init_cond(pthread_cond_t *cv) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(cv, &a);
  pthread_condattr_destroy(&a);
}

/* Increments a vmm counter and wakes the waiters. */
static void bump(unsigned long *counter) {
  pthread_mutex_lock(&vmm.mu);
  ++*counter;
  pthread_cond_broadcast(&vmm.cv);
  pthread_mutex_unlock(&vmm.mu);
}

/* Waits until *counter >= target (a vmm counter). Returns 0, or -1 after WAIT_TIMEOUT_MS. */
static int wait_count(const unsigned long *counter, unsigned long target, const char *what) {
  struct timespec dl;
  clock_gettime(CLOCK_MONOTONIC, &dl);
  dl.tv_sec += WAIT_TIMEOUT_MS / 1000;
  int rc = 0;
  pthread_mutex_lock(&vmm.mu);
  while (*counter < target) {
    if (pthread_cond_timedwait(&vmm.cv, &vmm.mu, &dl) == ETIMEDOUT && *counter < target) {
      fprintf(stderr, "vmm_irqfd: timed out waiting for %s: %lu of %lu\n", what, *counter, target);
      rc = -1;
      break;
    }
  }
  pthread_mutex_unlock(&vmm.mu);
  return rc;
}

/* ---------------------------------------------------------------- guest RAM and the ITS */

static void ram_write64(uint64_t gpa, uint64_t v) { /* guest memory is little-endian */
  for (unsigned i = 0; i < 8; ++i) vmm.ram[gpa - RAM_GPA + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t ram_alloc(uint64_t bytes, uint64_t align) { /* zeroed: the RAM starts zeroed */
  const uint64_t gpa = (vmm.ram_next + align - 1) & ~(align - 1);
  if (gpa + bytes > RAM_GPA + RAM_SIZE) {
    fail("guest RAM allocation", VGIC_ENOMEM);
    return RAM_GPA;
  }
  vmm.ram_next = gpa + bytes;
  return gpa;
}

/* Writes one command into the queue, publishes it with GITS_CWRITER and waits (bounded, no sleep)
 * until the ITS has consumed it, as Linux's its_wait_for_range_completion() does. */
static void its_cmd(uint64_t dw0, uint64_t dw1, uint64_t dw2) {
  const uint64_t slot = vmm.its_queue + vmm.its_cwriter;
  ram_write64(slot, dw0);
  ram_write64(slot + 8, dw1);
  ram_write64(slot + 16, dw2);
  ram_write64(slot + 24, 0);
  vmm.its_cwriter = (vmm.its_cwriter + 32) % ITS_QUEUE_BYTES;
  mmio_write(gits(GITS_CWRITER), 8, vmm.its_cwriter);
  for (unsigned tries = 0;; ++tries) {
    const uint64_t creadr = mmio_read(gits(GITS_CREADR), 8);
    if (creadr & 1) { /* Stalled: a command error (the default policy skips, so never expected) */
      fail("ITS command (GITS_CREADR.Stalled)", VGIC_EINVAL);
      return;
    }
    if (creadr == vmm.its_cwriter) return;
    if (tries == 1000000) {
      fail("ITS command (GITS_CREADR never caught up)", VGIC_EBUSY);
      return;
    }
  }
}

/* Command encodings (IHI0069 5.3). RDbase is a processor number: GITS_TYPER.PTA = 0 (the default). */
static void its_mapc(uint32_t icid, unsigned cpu) { its_cmd(ITS_CMD_MAPC, 0, GITS_VALID | (uint64_t)cpu << 16 | icid); }
static void its_mapd(uint32_t dev, unsigned event_bits, uint64_t itt) {
  its_cmd(ITS_CMD_MAPD | (uint64_t)dev << 32, event_bits - 1, GITS_VALID | itt); /* ITT: 256-byte aligned */
}
static void its_mapti(uint32_t dev, uint32_t event, uint32_t intid, uint32_t icid) {
  its_cmd(ITS_CMD_MAPTI | (uint64_t)dev << 32, (uint64_t)intid << 32 | event, icid);
}
static void its_inv(uint32_t dev, uint32_t event) { its_cmd(ITS_CMD_INV | (uint64_t)dev << 32, event, 0); }
static void its_sync(unsigned cpu) { its_cmd(ITS_CMD_SYNC, 0, (uint64_t)cpu << 16); }

/* ------------------------------------------------------------------ the guest */

/* Boot CPU, once: Distributor, ITS tables and command queue, LPI tables for every CPU. */
static void gic_boot(void) {
  mmio_write(gicd(GICD_CTLR), 4, GICD_CTLR_ARE | GICD_CTLR_ENABLE_GRP1);

  for (unsigned n = 0; n < 8; ++n) { /* one 64 KiB page per table the ITS asks for */
    const uint64_t reset = mmio_read(gits(GITS_BASER + 8 * n), 8);
    if (((reset >> 56) & 7) == 0) continue; /* Type 0: unimplemented */
    const uint64_t table = ram_alloc(SZ_64K, SZ_64K);
    mmio_write(gits(GITS_BASER + 8 * n), 8, (reset & GITS_BASER_RO) | GITS_VALID | GITS_BASER_64K | table);
  }
  vmm.its_queue = ram_alloc(ITS_QUEUE_BYTES, SZ_64K);
  mmio_write(gits(GITS_CBASER), 8, GITS_VALID | vmm.its_queue);
  mmio_write(gits(GITS_CWRITER), 8, 0);
  mmio_write(gits(GITS_CTLR), 4, 1); /* Enabled */

  /* LPI configuration table (shared; every LPI disabled until its driver enables it) and one
   * pending table per CPU, allocated up front as Linux does. */
  const uint64_t nr_ids = 1ull << vmm.cfg.lpi_id_bits;
  vmm.prop = ram_alloc(nr_ids - 8192, SZ_64K);
  for (unsigned c = 0; c < NR_CPUS; ++c) vmm.pend[c] = ram_alloc(nr_ids / 8, SZ_64K);
}

/* Every CPU: wake its Redistributor, enable its LPIs, enable its CPU interface. */
static void cpu_init(unsigned c) {
  mmio_write(gicr(c, GICR_WAKER), 4, mmio_read(gicr(c, GICR_WAKER), 4) & ~GICR_WAKER_PROCESSOR_SLEEP);
  for (unsigned tries = 0; mmio_read(gicr(c, GICR_WAKER), 4) & GICR_WAKER_CHILDREN_ASLEEP; ++tries) {
    if (tries == 1000) {
      fail("GICR_WAKER.ChildrenAsleep never cleared", VGIC_EBUSY);
      break;
    }
  }
  mmio_write(gicr(c, GICR_PROPBASER), 8, vmm.prop | (vmm.cfg.lpi_id_bits - 1)); /* IDbits */
  mmio_write(gicr(c, GICR_PENDBASER), 8, vmm.pend[c]);
  mmio_write(gicr(c, GICR_CTLR), 4, GICR_CTLR_ENABLE_LPIS);

  if ((icc_read(c, ICC_SRE_EL1) & 1) == 0) fail("ICC_SRE_EL1.SRE is 0", VGIC_ENOSYS);
  icc_write(c, ICC_PMR_EL1, 0xf0);
  icc_write(c, ICC_BPR1_EL1, 0);
  icc_write(c, ICC_CTLR_EL1, 0); /* EOImode 0: EOIR drops the priority and deactivates */
  icc_write(c, ICC_IGRPEN1_EL1, 1);
}

/* The two device drivers' probe functions. */
static void probe_drivers(void) {
  /* Level device: SPI 40, Group 1, level-sensitive, routed to vCPU 0 (Aff0 = 0), enabled. */
  const uint32_t bit = 1u << (SPI_INTID % 32);
  const uint64_t igroupr = gicd(GICD_IGROUPR + 4 * (SPI_INTID / 32));
  mmio_write(igroupr, 4, mmio_read(igroupr, 4) | bit);
  mmio_write(gicd(GICD_IPRIORITYR + SPI_INTID), 1, 0xa0);
  const uint64_t icfgr = gicd(GICD_ICFGR + 4 * (SPI_INTID / 16));
  mmio_write(icfgr, 4, mmio_read(icfgr, 4) & ~(2u << (2 * (SPI_INTID % 16))));
  mmio_write(gicd(GICD_IROUTER + 8 * SPI_INTID), 8, SPI_CPU);
  mmio_write(gicd(GICD_ISENABLER + 4 * (SPI_INTID / 32)), 4, bit);

  /* MSI device: one event, LPI 8192 (priority 0xa0, enabled), collection LPI_CPU on vCPU 1. */
  vmm.ram[vmm.prop - RAM_GPA + (LPI_INTID - 8192)] = 0xa0 | 0x2 /* RES1 */ | 0x1 /* enabled */;
  const uint64_t itt = ram_alloc(256, 256); /* 2 events x 8-byte entries, rounded up to 256 */
  its_mapc(LPI_CPU, LPI_CPU);
  its_mapd(MSI_DEVID, 1, itt);
  its_mapti(MSI_DEVID, MSI_EVENT, LPI_INTID, LPI_CPU);
  its_inv(MSI_DEVID, MSI_EVENT);
  its_sync(LPI_CPU);
}

/* Called by vgic, with vgic's lock of that vCPU held, whenever its lines change. It only records the
 * value and wakes the vCPU thread: it takes no lock but its own leaf mutex and never calls vgic. */
static void on_lines(void *opaque, unsigned cpu, int lines) {
  struct vcpu *v = &((struct vmm *)opaque)->cpu[cpu];
  pthread_mutex_lock(&v->mu);
  v->lines = lines;
  pthread_cond_signal(&v->cv);
  pthread_mutex_unlock(&v->mu);
}

static void *vcpu_main(void *arg) {
  struct vcpu *v = arg;
  const unsigned c = v->index;
  /* Boot: vCPU 0 first, then the secondaries (as PSCI CPU_ON would), then vCPU 0 probes drivers. */
  if (c == 0)
    gic_boot();
  else if (wait_count(&vmm.boot, c, "the previous vCPU to boot"))
    return NULL;
  cpu_init(c);
  bump(&vmm.boot);
  if (c == 0) {
    if (wait_count(&vmm.boot, BOOT_CPUS_UP, "every vCPU to boot")) return NULL;
    probe_drivers();
    bump(&vmm.boot);
  }

  for (;;) {
    /* Wait for the IRQ line. The notifier runs under vgic's lock of this vCPU, so vgic must not be
     * called while holding v->mu. */
    pthread_mutex_lock(&v->mu);
    while (!(v->lines & VGIC_LINE_IRQ) && !v->stop) pthread_cond_wait(&v->cv, &v->mu);
    const int stop = v->stop;
    pthread_mutex_unlock(&v->mu);
    if (stop) break;

    const uint32_t intid = (uint32_t)(icc_read(c, ICC_IAR1_EL1) & 0xffffff);
    if (intid == SPURIOUS) {
      bump(&vmm.spurious[c]);
      continue;
    }
    /* A real handler would read its device's status here; these devices have nothing to say. */
    icc_write(c, ICC_EOIR1_EL1, intid);

    const int dev = intid == SPI_INTID ? DEV_LEVEL : intid == LPI_INTID ? DEV_MSI : -1;
    pthread_mutex_lock(&vmm.mu);
    if (dev < 0) {
      ++vmm.unexpected;
    } else {
      ++vmm.acked[dev][c];
      ++vmm.handled[dev];
    }
    pthread_cond_broadcast(&vmm.cv);
    pthread_mutex_unlock(&vmm.mu);
  }
  return NULL;
}

/* ------------------------------------------------------------------ the VMM */

/* Ack notifier on the level SPI: runs on the vCPU thread that deactivated it, after vgic released its
 * locks (after the resamplefd was signalled). */
static void on_level_ack(void *opaque, unsigned cpu, uint32_t intid) {
  struct vmm *m = opaque;
  pthread_mutex_lock(&m->mu);
  if (intid == SPI_INTID && cpu < NR_CPUS) {
    ++m->acknotes[cpu];
    ++m->acknotes_total;
  } else {
    ++m->failures;
  }
  pthread_cond_broadcast(&m->cv);
  pthread_mutex_unlock(&m->mu);
}

/* The VMM's own main loop (phase 1): poll vgic's irqfd descriptor next to the VMM's others. */
static void *vmm_loop_main(void *arg) {
  (void)arg;
  struct pollfd fds[2] = {{vgic_irqfd_poll_fd(vmm.g), POLLIN, 0}, {vmm.loop_stop_efd, POLLIN, 0}};
  for (;;) {
    const int n = poll(fds, 2, WAIT_TIMEOUT_MS);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fail("poll", -errno);
      break;
    }
    if (fds[1].revents & POLLIN) break; /* asked to stop */
    if (fds[0].revents & POLLIN) {
      const int injected = vgic_irqfd_dispatch(vmm.g); /* never blocks */
      if (injected < 0) {
        fail("vgic_irqfd_dispatch", injected);
        break;
      }
      pthread_mutex_lock(&vmm.mu);
      vmm.dispatched += (unsigned long)injected;
      pthread_mutex_unlock(&vmm.mu);
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------ the devices */

static int level_status, msi_status; /* 0: script completed */

/* Level-triggered device (VFIO INTx): assert, then wait for the resample before asserting again. */
static void *level_device_main(void *arg) {
  (void)arg;
  for (unsigned i = 0; i < LEVEL_ASSERTS; ++i) {
    efd_signal(vmm.level_efd);
    bump(&vmm.signals[DEV_LEVEL]);
    struct pollfd p = {vmm.level_rfd, POLLIN, 0};
    int n;
    do n = poll(&p, 1, WAIT_TIMEOUT_MS);
    while (n < 0 && errno == EINTR);
    if (n != 1) {
      fprintf(stderr, "vmm_irqfd: level device: no resample for assert %u\n", i + 1);
      level_status = -1;
      return NULL;
    }
    const uint64_t resampled = efd_take(vmm.level_rfd);
    pthread_mutex_lock(&vmm.mu);
    vmm.resamples += resampled;
    pthread_mutex_unlock(&vmm.mu);
  }
  return NULL;
}

/* Edge/MSI device: one MSI, then wait until the guest has handled it. */
static void *msi_device_main(void *arg) {
  (void)arg;
  for (unsigned i = 0; i < MSI_SIGNALS; ++i) {
    efd_signal(vmm.msi_efd);
    bump(&vmm.signals[DEV_MSI]);
    if (wait_count(&vmm.handled[DEV_MSI], i + 1ul, "the MSI to be handled")) {
      msi_status = -1;
      return NULL;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------ the report */

static int report(void) {
  int ok = 1;
  pthread_mutex_lock(&vmm.mu);
  const unsigned long want[NR_DEVS] = {LEVEL_ASSERTS, MSI_SIGNALS};
  const unsigned want_cpu[NR_DEVS] = {SPI_CPU, LPI_CPU};
  printf("\ndevice                          loop        signals  acked cpu0  cpu1  resamples  ack-notifier\n");
  for (int d = 0; d < NR_DEVS; ++d) {
    int row_ok = vmm.signals[d] == want[d] && vmm.handled[d] == want[d] && vmm.acked[d][want_cpu[d]] == want[d];
    printf("%-31s %-11s %7lu  %10lu %5lu", d == DEV_LEVEL ? "level  GSI 0 -> SPI 40" : "MSI    GSI 1 -> ITS -> LPI 8192",
           d == DEV_LEVEL ? "VMM poll()" : "vgic thread", vmm.signals[d], vmm.acked[d][0],
           vmm.acked[d][1]);
    if (d == DEV_LEVEL) {
      row_ok &= vmm.resamples == want[d] && vmm.acknotes_total == want[d] && vmm.acknotes[SPI_CPU] == want[d] &&
                vmm.dispatched == want[d];
      printf("  %9lu  %5lu (cpu0 %lu)", vmm.resamples, vmm.acknotes_total, vmm.acknotes[0]);
    } else {
      printf("  %9s  %12s", "-", "-");
    }
    printf("  %s\n", row_ok ? "ok" : "WRONG");
    ok &= row_ok;
  }
  printf("expected: %u level asserts, each acknowledged on cpu%u, resampled once and notified once;\n"
         "          %u MSIs, each acknowledged on cpu%u. The VMM's loop injected %lu signals (expected %u).\n",
         LEVEL_ASSERTS, SPI_CPU, MSI_SIGNALS, LPI_CPU, vmm.dispatched, LEVEL_ASSERTS);
  printf("spurious IAR1 reads (1023): cpu0 %lu, cpu1 %lu\n", vmm.spurious[0], vmm.spurious[1]);
  if (vmm.unexpected) {
    printf("unexpected INTIDs acknowledged: %lu  WRONG\n", vmm.unexpected);
    ok = 0;
  }
  vgic_stats st = {0};
  if (vgic_get_stats(vmm.g, &st) != VGIC_OK || st.guest_errors != 0) {
    printf("guest errors counted by vgic: %" PRIu64 "  WRONG\n", st.guest_errors);
    ok = 0;
  }
  for (unsigned c = 0; c < NR_CPUS; ++c) {
    if (vgic_cpu_lines(vmm.g, c) != 0) {
      printf("cpu%u still has its lines asserted at the end  WRONG\n", c);
      ok = 0;
    }
  }
  if (vmm.failures) {
    printf("host-level errors: %u  WRONG\n", vmm.failures);
    ok = 0;
  }
  pthread_mutex_unlock(&vmm.mu);
  return ok;
}

static _Noreturn void abandon(const char *why) {
  /* Report what arrived, then leave without joining: a thread may be stuck. */
  report();
  printf("result: FAIL (%s)\n", why);
  fflush(NULL);
  _Exit(1);
}

static pthread_t spawn(void *(*fn)(void *), void *arg) {
  pthread_t t;
  if (pthread_create(&t, NULL, fn, arg) != 0) {
    fprintf(stderr, "vmm_irqfd: pthread_create failed\n");
    exit(1);
  }
  return t;
}

static int new_eventfd(void) {
  const int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) {
    perror("vmm_irqfd: eventfd");
    exit(1);
  }
  return fd;
}

/* ------------------------------------------------------------------ main */

int main(void) {
  vgic_config_init(&vmm.cfg);
  vmm.cfg.nr_cpus = NR_CPUS;
  char err[256];
  vmm.g = vgic_create(&vmm.cfg, err, sizeof err);
  if (!vmm.g) {
    fprintf(stderr, "vmm_irqfd: vgic_create: %s\n", err);
    return 1;
  }
  vmm.ram = aligned_alloc(SZ_64K, RAM_SIZE);
  if (!vmm.ram) return 1;
  memset(vmm.ram, 0, RAM_SIZE);
  vmm.ram_next = RAM_GPA;
  check("vgic_map_ram", vgic_map_ram(vmm.g, RAM_GPA, RAM_SIZE, vmm.ram));

  pthread_mutex_init(&vmm.mu, NULL);
  init_cond(&vmm.cv);
  for (unsigned c = 0; c < NR_CPUS; ++c) {
    vmm.cpu[c].index = c;
    pthread_mutex_init(&vmm.cpu[c].mu, NULL);
    pthread_cond_init(&vmm.cpu[c].cv, NULL);
  }
  vgic_set_line_notifier(vmm.g, on_lines, &vmm);

  printf("vgic VMM irqfd example: %u vCPUs. A level-triggered device (irqfd + resamplefd, GSI 0 -> SPI %u)\n"
         "asserts %u times through the VMM's poll() loop; an MSI device (irqfd, GSI 1 -> ITS -> LPI %u)\n"
         "signals %u times through vgic's irqfd thread.\n",
         NR_CPUS, SPI_INTID, LEVEL_ASSERTS, LPI_INTID, MSI_SIGNALS);

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (unsigned c = 0; c < NR_CPUS; ++c) vmm.cpu[c].thread = spawn(vcpu_main, &vmm.cpu[c]);
  if (wait_count(&vmm.boot, BOOT_DONE, "the guest to boot")) abandon("the guest did not boot");

  /* The VMM wires its devices: GSI routes, irqfds, an ack notifier. */
  const vgic_gsi_route routes[2] = {
      {.gsi = GSI_LEVEL, .type = VGIC_ROUTE_IRQCHIP, .pin = SPI_PIN},
      {.gsi = GSI_MSI, .type = VGIC_ROUTE_MSI, .flags = VGIC_MSI_VALID_DEVID,
       .address = vmm.cfg.its[0].base + GITS_TRANSLATER, .data = MSI_EVENT, .devid = MSI_DEVID},
  };
  check("vgic_set_gsi_routing", vgic_set_gsi_routing(vmm.g, routes, 2));
  vmm.level_efd = new_eventfd();
  vmm.level_rfd = new_eventfd();
  vmm.msi_efd = new_eventfd();
  vmm.loop_stop_efd = new_eventfd();
  check("vgic_irqfd_assign (level)", vgic_irqfd_assign(vmm.g, vmm.level_efd, GSI_LEVEL, vmm.level_rfd));
  check("vgic_irqfd_assign (MSI)", vgic_irqfd_assign(vmm.g, vmm.msi_efd, GSI_MSI, -1));
  const int ack_id = vgic_register_ack_notifier(vmm.g, 0, SPI_INTID, on_level_ack, &vmm);
  check("vgic_register_ack_notifier", ack_id);

  /* Phase 1: the level device, served by the VMM's own loop. */
  pthread_t loop = spawn(vmm_loop_main, NULL);
  pthread_t level = spawn(level_device_main, NULL);
  pthread_join(level, NULL); /* bounded: each of its waits times out */
  if (level_status != 0) abandon("the level device did not complete");
  /* The device saw its last resample; the guest's bookkeeping and the notifier follow it. */
  if (wait_count(&vmm.handled[DEV_LEVEL], LEVEL_ASSERTS, "the level interrupts to be handled") ||
      wait_count(&vmm.acknotes_total, LEVEL_ASSERTS, "the ack notifier calls"))
    abandon("phase 1 did not complete");
  efd_signal(vmm.loop_stop_efd);
  pthread_join(loop, NULL);

  /* Phase 2: the MSI device, served by vgic's irqfd thread (it runs until vgic_destroy()). */
  check("vgic_irqfd_start_thread", vgic_irqfd_start_thread(vmm.g));
  pthread_t msi = spawn(msi_device_main, NULL);
  pthread_join(msi, NULL);
  if (msi_status != 0) abandon("the MSI device did not complete");
  clock_gettime(CLOCK_MONOTONIC, &t1);

  /* Shutdown: irqfds first (no signal can follow), then the vCPUs, then the GIC. */
  check("vgic_irqfd_deassign (level)", vgic_irqfd_deassign(vmm.g, vmm.level_efd, GSI_LEVEL));
  check("vgic_irqfd_deassign (MSI)", vgic_irqfd_deassign(vmm.g, vmm.msi_efd, GSI_MSI));
  check("vgic_unregister_ack_notifier", vgic_unregister_ack_notifier(vmm.g, ack_id));
  for (unsigned c = 0; c < NR_CPUS; ++c) {
    pthread_mutex_lock(&vmm.cpu[c].mu);
    vmm.cpu[c].stop = 1;
    pthread_cond_signal(&vmm.cpu[c].cv);
    pthread_mutex_unlock(&vmm.cpu[c].mu);
  }
  for (unsigned c = 0; c < NR_CPUS; ++c) pthread_join(vmm.cpu[c].thread, NULL);
  const uint64_t extra_resamples = efd_take(vmm.level_rfd); /* each assert resampled once, not more */
  if (extra_resamples) printf("resamples after the last assert: %" PRIu64 "  WRONG\n", extra_resamples);

  const int ok = report() && extra_resamples == 0;
  const double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  printf("result: %s (boot and %u interrupts in %.1f ms)\n", ok ? "PASS" : "FAIL", LEVEL_ASSERTS + MSI_SIGNALS, ms);

  vgic_set_line_notifier(vmm.g, NULL, NULL);
  vgic_destroy(vmm.g); /* stops vgic's irqfd thread */
  close(vmm.level_efd);
  close(vmm.level_rfd);
  close(vmm.msi_efd);
  close(vmm.loop_stop_efd);
  free(vmm.ram);
  return ok ? 0 : 1;
}
