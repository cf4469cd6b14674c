/*
 * vgic — a user-space emulation of the Arm GICv3 interrupt controller.
 *
 * This is the stable C API: a thin layer over the C++ facade in <vgic/vgic.hpp>.
 *
 * Threading contract
 * ------------------
 * Every function here may be called concurrently from any thread: vCPU threads accessing MMIO and
 * their own CPU interface system registers, device threads raising lines, the VMM's main thread.
 * The exceptions are vgic_create() / vgic_destroy() (no other call on the same instance may run
 * concurrently with, or after, vgic_destroy()), and vgic_set_line_notifier() / vgic_set_trace_sink(),
 * which should be installed before vCPUs run (installing one while others run is safe, but a callback
 * already in flight may still see the old one).
 *
 * The line notifier and the trace sink may be invoked from any thread that calls into vgic, WITH
 * vgic's internal locks held (the line notifier under that CPU's lock, so its calls for one CPU are
 * ordered). Such a callback may call vgic_cpu_lines() and vgic_get_stats() only; anything else on
 * the same instance could deadlock. Ack notifiers and irqfd resampling are different: they run
 * after vgic released its locks and may call any vgic function.
 *
 * Errors
 * ------
 * Host errors (the VMM using the API wrongly) return a negative VGIC_E* code; vgic_last_error()
 * then returns a message for the calling thread (a thread-local string: valid until the thread's
 * next failing call; a successful call leaves it as it was). A NULL handle is VGIC_EINVAL, a NULL
 * out-parameter or buffer VGIC_EFAULT. Where a host resource runs out (memory, a thread) a call
 * returns VGIC_ENOMEM (vgic_create: NULL), and the GIC stays usable. Guest errors (a guest doing something the
 * architecture forbids) never return an error: they get the architectural outcome (RAZ/WI, ignored
 * command ...) and are counted in vgic_get_stats() and reported to the trace sink (rate-limited).
 */
#ifndef VGIC_VGIC_H
#define VGIC_VGIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes. Their values equal Linux's errno values, so that KVM-style callers can compare them. */
#define VGIC_OK 0
#define VGIC_EPERM (-1)
#define VGIC_ENOENT (-2)
#define VGIC_ENXIO (-6)    /* no such register, frame, attribute; address not ours */
#define VGIC_ENOMEM (-12)
#define VGIC_EFAULT (-14)  /* bad pointer or guest memory not mapped */
#define VGIC_EBUSY (-16)   /* state cannot change now (e.g. vCPUs running) */
#define VGIC_EEXIST (-17)
#define VGIC_ENODEV (-19)
#define VGIC_EINVAL (-22)  /* invalid argument */
#define VGIC_ENOSPC (-28)
#define VGIC_ERANGE (-34)
#define VGIC_ENOSYS (-38)  /* not implemented (yet) */

#define VGIC_MAX_CPUS 512u
#define VGIC_MAX_ITS 8u

typedef struct vgic vgic;

/* What an ITS does with a command that the architecture calls an error (unmapped device, ID out of
 * range, unreadable memory, unknown opcode ...). */
#define VGIC_ITS_ERRORS_SKIP 0  /* count it, trace it, go on with the next command (Linux/KVM) */
#define VGIC_ITS_ERRORS_STALL 1 /* GITS_CREADR.Stalled until GITS_CWRITER.Retry; SEI if seis */

typedef struct vgic_its_config {
  uint64_t base;            /* ITS control frame (64 KiB); the translation frame follows at +64 KiB */
  unsigned device_id_bits;  /* GITS_TYPER.Devbits + 1: 1..32 (default 16) */
  unsigned event_id_bits;   /* GITS_TYPER.ID_bits + 1: 1..32 (default 16) */
  unsigned collection_id_bits; /* CIDbits + 1 (CIL = 1): 1..16 (default 16) */
  unsigned hcc;             /* GITS_TYPER.HCC: collections held in the ITS (no table memory), 0..255 (default 0) */
  unsigned itt_entry_size;  /* GITS_TYPER.ITT_entry_size in bytes: 8..16 (default 8, the KVM ABI) */
  int error_policy;         /* VGIC_ITS_ERRORS_SKIP (default) or VGIC_ITS_ERRORS_STALL */
  int seis;                 /* GITS_TYPER.SEIS: report command errors as System Errors (default 0) */
  int pta;                  /* GITS_TYPER.PTA: RDbase is a physical address (1) or a CPU number (0, default) */
  uint32_t iidr;            /* GITS_IIDR (0: vgic's default; Revision 0 = KVM save/restore ABI) */
  unsigned cache_entries;   /* MSI translation cache size, power of 2 up to 2^20 (default 1024; 0: no cache) */
} vgic_its_config;

/* Configuration. Always start from vgic_config_init(): fields added in later versions get defaults. */
typedef struct vgic_config {
  unsigned nr_cpus;        /* 1..VGIC_MAX_CPUS (default 1) */
  const uint64_t *mpidr;   /* NULL, or nr_cpus MPIDR_EL1 values (Aff3..Aff0 used; must be unique;
                              Aff0 <= 15 unless rss).
                              Default: CPU i has Aff0 = i % 16, Aff1 = i / 16. */
  unsigned nr_spis;        /* SPIs 32..32+nr_spis-1: a multiple of 32, 0..992 (992: up to INTID 1019);
                              default 256 */
  unsigned nr_espis;       /* GICv3.1 extended SPIs from INTID 4096: multiple of 32, 0..1024 (default 0) */
  unsigned nr_eppis;       /* GICv3.1 extended PPIs from INTID 1056: 0, 32 or 64 (default 0) */
  unsigned priority_bits;  /* implemented priority bits, 5..8 (default 5, as on Arm's cores) */
  int mbis;                /* message-based SPIs (GICD_SETSPI_NSR/CLRSPI_NSR), default 1 */
  int no1n;                /* 1: 1-of-N SPI routing NOT supported (GICD_TYPER.No1N), default 0 */
  int rss;                 /* range selector support: SGIs to Aff0 16..255 (GICD_TYPER.RSS), default 0 */
  uint64_t gicd_base;      /* distributor frame (64 KiB), default 0x08000000 (QEMU virt) */
  uint64_t gicr_base;      /* redistributor region: nr_cpus x 128 KiB, default 0x080A0000 (QEMU virt) */
  uint32_t gicd_iidr;      /* GICD_IIDR / GICR_IIDR value (default: Arm implementer, vgic product) */

  /* LPIs (IHI0069 chapter 5). */
  unsigned lpi_id_bits;    /* INTID bits incl. LPIs: 0 (no LPIs) or 14..24 (default 16) */
  int direct_lpi;          /* GICR_TYPER.DirectLPI: GICR_SETLPIR/CLRLPIR/INVLPIR/INVALLR/SYNCR (default 0;
                              required with LPIs and nr_its = 0) */
  unsigned common_lpi_aff; /* GICR_TYPER.CommonLPIAff, 0..3 (default 0) */
  unsigned nr_its;         /* 0..VGIC_MAX_ITS (default 1) */
  vgic_its_config its[VGIC_MAX_ITS]; /* default its[0].base = 0x08080000 (QEMU virt) */
  uint64_t max_host_memory; /* bytes the guest may make vgic allocate (ITS and LPI state); >= 1 MiB, default 256 MiB */
} vgic_config;

void vgic_config_init(vgic_config *cfg);

/* Returns NULL on a bad configuration (or when the host is out of memory) and writes a message
 * into err (if err_len > 0). Counts are checked before anything is read or allocated from them. */
vgic *vgic_create(const vgic_config *cfg, char *err, size_t err_len);
void vgic_destroy(vgic *g);

/* Guest RAM the GIC may access (ITS tables, LPI tables). Regions must not overlap. host must stay
 * valid until vgic_destroy() or until the region is unmapped. */
int vgic_map_ram(vgic *g, uint64_t gpa, uint64_t size, void *host);
int vgic_unmap_ram(vgic *g, uint64_t gpa);

/* Guest MMIO into the GIC frames. size is 1, 2, 4 or 8 (any other size is VGIC_EINVAL, a host
 * error, checked before the address). Returns VGIC_ENXIO when gpa is in no GIC
 * frame (the VMM routed an access that is not ours). A guest access the architecture does not allow
 * (bad width, reserved offset) returns 0: it reads as zero / is ignored and is counted. */
int vgic_mmio_read(vgic *g, uint64_t gpa, unsigned size, uint64_t *val);
int vgic_mmio_write(vgic *g, uint64_t gpa, unsigned size, uint64_t val);

/* CPU interface system registers of one vCPU, encoded as KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS:
 * op0<<14 | op1<<11 | CRn<<7 | CRm<<3 | op2. Must be called for the vCPU's own accesses (guest
 * semantics: reading ICC_IAR1_EL1 acknowledges). Encodings that are no GIC CPU interface register
 * return VGIC_ENXIO. */
/* Returned (non-negative: not a host error) when the guest's access is architecturally UNDEFINED:
 * a write to a read-only register such as ICC_IAR1_EL1, a read of a write-only one such as
 * ICC_EOIR1_EL1, or ICC_AP0R<n>_EL1 beyond the implemented priority levels. The VMM should then
 * deliver an Undefined Instruction exception to the guest. */
#define VGIC_SYSREG_UNDEFINED 1
#define VGIC_SYSREG(op0, op1, crn, crm, op2) \
  ((uint32_t)(((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2)))
int vgic_sysreg_read(vgic *g, unsigned cpu, uint32_t sysreg, uint64_t *val);
int vgic_sysreg_write(vgic *g, unsigned cpu, uint32_t sysreg, uint64_t val);

/* Drive an interrupt line. SPI (32..1019, 4096..5119): cpu ignored. PPI (16..31, 1056..1119): the
 * line of that cpu. An edge-triggered interrupt becomes pending on each 0->1 transition; a
 * level-sensitive one is pending while the line is high. SGIs and LPIs have no line: VGIC_EINVAL. */
int vgic_set_irq_level(vgic *g, unsigned cpu, uint32_t intid, int level);

/* An MSI (KVM_SIGNAL_MSI with KVM_MSI_VALID_DEVID semantics). doorbell_gpa: an ITS's
 * GITS_TRANSLATER (base + 0x10040), GICD_SETSPI_NSR for a message-based SPI (data = INTID), or with
 * direct_lpi a Redistributor's GICR_SETLPIR (RD frame + 0x40; data = the LPI's INTID, devid unused).
 * Returns 1 when the LPI/SPI was made pending, 0 when the guest's configuration blocked it (ITS
 * disabled, device/event unmapped, LPIs disabled ...), VGIC_ENXIO when no doorbell is at that
 * address. Thread-safe; no lock is taken on a translation-cache hit (a GICR_SETLPIR doorbell takes
 * that Redistributor's lock, as the guest's own write to it does). */
int vgic_signal_msi(vgic *g, uint64_t doorbell_gpa, uint32_t data, uint32_t devid);

/* Called when an ITS with seis = 1 reports a command error as a System Error (error_code is the
 * architectural encoding, e.g. 0x010a04 for MAPTI on an unmapped device). It runs on the thread
 * that wrote GITS_CWRITER, with that ITS's lock held: like the line notifier, it may only record
 * the error (and call vgic_cpu_lines/vgic_get_stats), e.g. to inject an SError later. */
typedef void (*vgic_sei_fn)(void *opaque, unsigned its, uint32_t error_code);
void vgic_set_system_error_notifier(vgic *g, vgic_sei_fn fn, void *opaque);

/* ---- VMM integration: the vocabulary of KVM (seeds 001, 002) ---------------------------------- */

/* GSI routing (KVM_SET_GSI_ROUTING). At creation the table is KVM/arm64's default: GSI i -> pin i
 * (INTID 32 + i) for every SPI (not the extended SPIs), so irqfds and GSI levels work before any
 * vgic_set_gsi_routing() call. The table is replaced as a whole (the default one too; a restored
 * snapshot's table replaces it as well); an injection racing with the update (one irqfd signal,
 * one vgic_set_gsi_level() call) uses the old or the new table, never a mix, and takes no lock. */
#define VGIC_ROUTE_IRQCHIP 1  /* GSI -> SPI: pin is the SPI number, INTID = pin + 32 (as KVM) */
#define VGIC_ROUTE_MSI 2      /* GSI -> MSI: address (doorbell), data, devid */
#define VGIC_MSI_VALID_DEVID 1
typedef struct vgic_gsi_route {
  uint32_t gsi;
  uint32_t type;    /* VGIC_ROUTE_IRQCHIP or VGIC_ROUTE_MSI */
  uint32_t flags;   /* VGIC_MSI_VALID_DEVID (required for an ITS doorbell) */
  uint32_t pin;     /* irqchip */
  uint64_t address; /* msi */
  uint32_t data;    /* msi */
  uint32_t devid;   /* msi */
} vgic_gsi_route;
int vgic_set_gsi_routing(vgic *g, const vgic_gsi_route *routes, unsigned nr);
/* KVM_IRQ_LINE on a GSI: irqchip routes follow level; MSI routes fire when level is 1. Returns the
 * number of routes that delivered (>= 0), VGIC_ENOENT if the GSI has no route (with the default
 * table: a GSI >= the number of SPIs). */
int vgic_set_gsi_level(vgic *g, uint32_t gsi, int level);

/* irqfd (KVM_IRQFD). A signal on eventfd injects gsi: MSI routes and edge SPIs are triggered.
 * Eventfds may be blocking or not: vgic only reads one that poll() reports readable.
 * With a resamplefd (>= 0) the route is level-triggered, as KVM_IRQFD_FLAG_RESAMPLE: from
 * vgic_irqfd_assign() until vgic_irqfd_deassign() (following the routing table if it changes),
 * EVERY deactivation of the SPI by the guest (EOI with EOImode 0, or ICC_DIR) lowers its line,
 * whoever raised it (the irqfd, vgic_set_irq_level, a restored LEVEL_INFO), and signals
 * resamplefd; a signal on eventfd raises the line and it stays high until then. ICPENDR/ISPENDR
 * writes are not deactivations. vgic never closes the descriptors: deassign an irqfd before
 * closing its eventfd or resamplefd (vgic does not notice a close, unlike KVM's EPOLLHUP).
 * A signal that arrived before vgic_irqfd_deassign() returns is injected (for a resampling irqfd
 * the line it raises is lowered again by the deassign, which lowers the GSI when the last
 * resampling irqfd of the GSI goes, as KVM does); none is injected after it. After deassign the
 * SPI's deactivations no longer lower the line, so the VMM may drive it with vgic_set_irq_level().
 * Event loop: either vgic_irqfd_start_thread(), or the VMM polls vgic_irqfd_poll_fd() (readable
 * when an irqfd is signalled) and calls vgic_irqfd_dispatch() (never blocks; returns the number
 * of signals injected). Errors of assign: VGIC_EBUSY the eventfd is already assigned; VGIC_EINVAL a
 * negative or unpollable eventfd, a resamplefd that is no open descriptor, or a resamplefd for a GSI
 * without route or with an MSI route. Deassign: VGIC_ENOENT no irqfd with that eventfd and GSI. */
int vgic_irqfd_assign(vgic *g, int eventfd, uint32_t gsi, int resamplefd);
int vgic_irqfd_deassign(vgic *g, int eventfd, uint32_t gsi);
int vgic_irqfd_start_thread(vgic *g);
int vgic_irqfd_poll_fd(vgic *g);
int vgic_irqfd_dispatch(vgic *g);

/* Ack notifiers for VMM code that is not eventfd-based: fn runs on the vCPU thread that deactivated
 * intid (an SPI, or a PPI of cpu), after vgic released its locks; it may call vgic. Returns an id
 * (> 0) or a negative error. vgic_unregister_ack_notifier() waits until no call of that notifier
 * is running on another thread (as KVM's synchronize_srcu), so opaque may be freed once it
 * returns; a notifier may unregister itself (it does not wait for its own call), but two
 * notifiers running at once must not unregister each other. */
typedef void (*vgic_ack_fn)(void *opaque, unsigned cpu, uint32_t intid);
int vgic_register_ack_notifier(vgic *g, unsigned cpu, uint32_t intid, vgic_ack_fn fn, void *opaque);
int vgic_unregister_ack_notifier(vgic *g, int id);

/* Output levels of in-kernel devices (KVM_CAP_ARM_USER_IRQ): the bitmap of
 * run->s.regs.device_irq_level, synced after every exit. Default map: bit 0 (EL1 virtual timer) ->
 * PPI 27, bit 1 (EL1 physical timer) -> PPI 30, bit 2 (PMU) -> PPI 23, all level devices. An edge
 * device's bit is set on exactly one exit per edge (KVM's contract), so each call with the bit set
 * is one edge: call once per exit, from the vCPU's thread. Remapping a bit whose level device is
 * high moves its level to the new PPI; remap while no vCPU syncs (as KVM fixes the device PPIs at
 * vCPU init): a remap racing a sync of the same bit may leave the new PPI's line as the old level
 * left it. ppi 0 unmaps a bit. */
int vgic_sync_device_irq_level(vgic *g, unsigned cpu, uint64_t bits);
int vgic_set_device_irq_map(vgic *g, unsigned bit, uint32_t ppi, int edge);

/* ---- KVM device-attribute API (KVM_{GET,SET,HAS}_DEVICE_ATTR on KVM_DEV_TYPE_ARM_VGIC_V3 and
 * KVM_DEV_TYPE_ARM_VGIC_ITS): the same groups, attribute encodings, value sizes and error meanings,
 * so that a VMM's KVM save/restore code carries over. These are the VMM's accesses, not the guest's:
 * restoring GICD_ISPENDR sets the pending state without side effects, GITS_CREADR and GITS_CWRITER
 * are writable, read-only ID registers accept only the value vgic implements. Errors: VGIC_ENXIO
 * unknown group/attribute/register (a "has" query sets the message too), VGIC_EINVAL bad value or
 * MPIDR, VGIC_EFAULT addr NULL, VGIC_EBUSY a vCPU is declared running (state groups) or NR_IRQS set
 * to another value than the configured one, VGIC_EEXIST an address set differently, VGIC_ENODEV no
 * ITS of that index, VGIC_ENOENT a REDIST_REGION index other than 0, and for ITS_REGS VGIC_EINVAL an
 * offset inside a 64-bit register or not 4-byte aligned (as KVM); ITS_RESTORE_TABLES also
 * VGIC_EINVAL (malformed tables), VGIC_EEXIST (a collection listed twice), VGIC_EFAULT (a table
 * outside guest RAM), VGIC_ENOMEM (budget). */
#define VGIC_DEV_GRP_ADDR 0
#define VGIC_DEV_GRP_DIST_REGS 1        /* u32; attr = offset */
#define VGIC_DEV_GRP_NR_IRQS 3          /* u32 */
#define VGIC_DEV_GRP_CTRL 4             /* no value */
#define VGIC_DEV_GRP_REDIST_REGS 5      /* u32; attr = MPIDR affinity << 32 | offset from RD_base */
#define VGIC_DEV_GRP_CPU_SYSREGS 6      /* u64; attr = MPIDR affinity << 32 | sysreg encoding */
#define VGIC_DEV_GRP_LEVEL_INFO 7       /* u32; attr = MPIDR << 32 | info << 10 | INTID (multiple of 32) */
#define VGIC_DEV_GRP_ITS_REGS 8         /* u64; attr = offset (ITS device only) */
#define VGIC_ADDR_TYPE_DIST 2           /* GRP_ADDR attributes (u64) */
#define VGIC_ADDR_TYPE_REDIST 3
#define VGIC_ADDR_TYPE_ITS 4
#define VGIC_ADDR_TYPE_REDIST_REGION 5
#define VGIC_CTRL_INIT 0                /* GRP_CTRL attributes */
/* ITS device only: the KVM ITS table ABI revision 0 (Documentation/virt/kvm/devices/arm-vgic-its.rst),
 * offered when the ITS has GITS_IIDR.Revision 0 and 8-byte ITT entries (the defaults), else
 * VGIC_ENXIO. VGIC_EBUSY while a vCPU runs.
 * SAVE_TABLES writes every translation into the guest's device table, ITTs and collection table
 * (entries of unmapped IDs as 0). It does not fail because of the guest: what the guest's tables
 * can no longer hold (a table shrunk or a level-2 page dropped after mapping, an ITT outside RAM)
 * is skipped and reported as guest errors ("its-save-skipped"); the rest is saved consistently.
 * RESTORE_TABLES reads them back, in the seed-003 order: guest RAM, then every redistributor
 * (PROPBASER, PENDBASER, EnableLPIs), then the ITS: CTRL_INIT, GITS_CBASER, the other GITS
 * registers except GITS_CTLR, RESTORE_TABLES, GITS_CTLR last (VGIC_EBUSY if the ITS is enabled).
 * All or nothing: VGIC_EINVAL (malformed entry, broken Next chain, ID out of range ...) or
 * VGIC_EFAULT (table or ITT not in guest RAM) leave the ITS as it was. A restored LPI's pending
 * bit is moved from its redistributor's pending table into the GIC (cleared in RAM). */
#define VGIC_CTRL_ITS_SAVE_TABLES 1
#define VGIC_CTRL_ITS_RESTORE_TABLES 2
#define VGIC_CTRL_SAVE_PENDING_TABLES 3 /* GIC device: every pending LPI into its pending table */
#define VGIC_CTRL_ITS_RESET 4
#define VGIC_ATTR_MPIDR_SHIFT 32        /* Aff3 << 24 | Aff2 << 16 | Aff1 << 8 | Aff0 */
#define VGIC_LEVEL_INFO_LINE_LEVEL 0
int vgic_get_attr(vgic *g, uint32_t group, uint64_t attr, void *addr);
int vgic_set_attr(vgic *g, uint32_t group, uint64_t attr, void *addr);
int vgic_has_attr(vgic *g, uint32_t group, uint64_t attr, void *addr);
int vgic_its_get_attr(vgic *g, unsigned its, uint32_t group, uint64_t attr, void *addr);
int vgic_its_set_attr(vgic *g, unsigned its, uint32_t group, uint64_t attr, void *addr);
int vgic_its_has_attr(vgic *g, unsigned its, uint32_t group, uint64_t attr, void *addr);
/* Declares a vCPU running (1) or stopped (0); while any runs, state groups answer VGIC_EBUSY. */
int vgic_vcpu_running(vgic *g, unsigned cpu, int running);

/* Full snapshot (docs/snapshot-format.md): every piece of guest-visible GIC state (distributor,
 * redistributors, CPU interfaces with active priorities, SGI/PPI/SPI/LPI pending and active state,
 * cached LPI configuration, ITS registers, command-queue position and translations) plus the
 * host-set inputs (line levels, GSI routing table, user-IRQ map and levels), in a versioned,
 * little-endian, checksummed format independent of vgic's memory layout.
 * Not stored, because they are the embedder's: guest RAM (the guest's LPI and ITS tables live there:
 * migrate RAM with the snapshot), RAM mappings, irqfds, ack notifiers and callbacks (registered
 * again on the target; restore leaves the target's ones in place). Derived state (caches) is rebuilt.
 *
 * vgic_save: *len is the capacity of buf on entry; on return, the bytes written (0) or needed
 * (VGIC_ENOSPC when the capacity is too small; buf may be NULL to ask for the size). The size of
 * the next save can change if the state changes in between.
 * Concurrency: every vCPU must be stopped (vgic_vcpu_running(.., 0); VGIC_EBUSY otherwise). Host
 * inputs (vgic_signal_msi, vgic_set_irq_level, GSI levels, irqfds) may keep arriving: the snapshot
 * holds every input whose call returned before vgic_save began; one racing with the save may or
 * may not be in it, and is then pending in this instance (nothing is lost on the source).
 *
 * vgic_restore: replaces this instance's state by the snapshot's. The instance must have the same
 * configuration (compared field by field; cache_entries and max_host_memory excepted) and guest
 * RAM mapped as the source had it. Requires every vCPU stopped (VGIC_EBUSY) and no other call on
 * this instance running concurrently (no MSI injection, line change or irqfd delivery).
 * Errors, with a message naming the section, field and offset: VGIC_EINVAL (corrupt, truncated,
 * foreign blob or configuration mismatch), VGIC_ENOSYS (a newer format version), VGIC_ENOMEM (over
 * max_host_memory). On any error the instance is left exactly as it was. */
int vgic_save(vgic *g, void *buf, size_t *len);
int vgic_restore(vgic *g, const void *buf, size_t len);

/* Current output lines of a vCPU: bit 0 IRQ, bit 1 FIQ (>= 0). Lock-free. A NULL handle or a cpu
 * out of range is VGIC_EINVAL (negative: test the sign before the bits). */
#define VGIC_LINE_IRQ 1
#define VGIC_LINE_FIQ 2
int vgic_cpu_lines(vgic *g, unsigned cpu);

/* Called whenever a vCPU's lines change (from the thread that changed them). */
typedef void (*vgic_line_fn)(void *opaque, unsigned cpu, int lines);
void vgic_set_line_notifier(vgic *g, vgic_line_fn fn, void *opaque);

/* Guest-error accounting and trace events. */
typedef struct vgic_stats {
  uint64_t guest_errors;        /* every architectural misuse by the guest (RAZ/WI taken etc.) */
  uint64_t trace_dropped;       /* guest-error events not passed to the sink (rate limit) */
  uint64_t spurious_acks;       /* IAR reads that returned 1023 */
} vgic_stats;
int vgic_get_stats(vgic *g, vgic_stats *out);

typedef struct vgic_trace_event {
  const char *kind;     /* e.g. "mmio-reserved", "mmio-width", "mmio-read-only", "sysreg-misuse" */
  const char *frame;    /* "gicd", "gicr", "icc", ... */
  unsigned cpu;         /* vCPU involved, or ~0u */
  uint64_t offset;      /* register offset or sysreg encoding */
  uint64_t value;       /* value written (0 for reads) */
  const char *detail;   /* human-readable text */
} vgic_trace_event;
typedef void (*vgic_trace_fn)(void *opaque, const vgic_trace_event *ev);
/* max_per_second: events beyond it in one second are counted in trace_dropped (0: default 100). */
void vgic_set_trace_sink(vgic *g, vgic_trace_fn fn, void *opaque, unsigned max_per_second);

const char *vgic_strerror(int err);
/* Message for the last host error returned to the calling thread ("" if none). */
const char *vgic_last_error(void);

#ifdef __cplusplus
}
#endif
#endif /* VGIC_VGIC_H */
