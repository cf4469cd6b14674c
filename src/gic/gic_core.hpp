// GicCore: one emulated GICv3. Owns the Distributor, one Redistributor + CPU interface per vCPU,
// guest-memory access and the trace log; routes MMIO and system-register accesses to the
// declarative register tables; and moves interrupts between the blocks (gic/delivery.cpp).
//
// Locking (the full rules are in docs/architecture.md):
//  - CpuContext::lock (a CpuLock) owns that CPU's Redistributor and CpuInterface state.
//  - Distributor::lock() owns every SPI.
//  - Order: a CPU lock may be held while taking the Distributor lock, never the reverse, and no
//    thread holds two CPU locks. Changes to SPIs go through a DistTxn, which publishes the
//    Distributor's per-CPU best SPIs and kicks the affected CPUs after releasing the lock.
//  - Updating a CPU's outputs (update_cpu_locked) takes no other lock: it reads the published
//    Distributor state, so an MSI injector that ends up running it never blocks.
//  - kick() uses CpuLock::request_update(): it never waits for a vCPU that is inside its CPU
//    interface; the holder recomputes that CPU's outputs before it unlocks.
//  - Output lines are published in an atomic (lock-free vgic_cpu_lines) and the line notifier is
//    called from inside the update, under the CPU lock, so notifications of one CPU are ordered.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "core/trace.hpp"
#include "cpuif/cpu_interface.hpp"
#include "gic/cpu_lock.hpp"
#include "gic/topology.hpp"
#include "gicd/distributor.hpp"
#include "gicr/redistributor.hpp"
#include "its/its.hpp"
#include "mem/guest_memory.hpp"
#include "vgic/vgic.hpp"

namespace gicv3 {

namespace gic_detail {
// Whether this thread collected deactivation notifications (GicCore::flush_acks). A trivially
// initialized thread_local, so the check is one TLS load, without a lazy-initialization wrapper.
inline thread_local constinit bool t_have_acks = false;
}  // namespace gic_detail

struct CpuContext {
  CpuContext(const Config& cfg, unsigned cpu, HostBudget& budget) : index(cpu), redist(cfg, cpu, budget), icc(cfg) {}
  const unsigned index;
  CpuLock lock;
  Redistributor redist;
  CpuInterface icc;
  std::atomic<int> lines{0};
  int notified_lines = 0;  // under lock
  // Under lock: set by an operation that changed none of this CPU's candidates (an EOI that only
  // drops a priority), so the next update_cpu_locked() keeps icc.hppi and recomputes the lines only.
  // Cleared by that update; updates requested meanwhile (kicks) select in full.
  bool reuse_hppi = false;
  // Under lock: the best candidate of each group among this CPU's private interrupts (SGIs, PPIs,
  // extended PPIs), rescanned only when private_dirty. Private interrupts change only under this
  // lock, and every hold marks them dirty (with_cpu) except the system-register holds, which mark
  // it themselves where they activate or deactivate a private interrupt. Updates requested by
  // kicks (LPIs, SPIs) therefore never rescan them (issue 7).
  bool private_dirty = true;
  uint64_t private_best[2] = {0, 0};  // pack_candidate() words, 0: none
  // Under lock, set by each full selection: the best candidate of an enabled group among every
  // source but the LPIs (~0: none), and whether the LPIs were offered. After an IAR that took an
  // LPI (lpi_acked, cleared by the next update), the update combines other_best with the new head
  // of the LPI buckets instead of selecting again (issue 7; GicCore::reselect_after_lpi_ack).
  uint64_t other_best = ~uint64_t(0);
  bool lpis_offered = false;
  bool lpi_acked = false;
};

class GicCore;

// A Distributor transaction: holds the Distributor lock; on exit publishes the Distributor's
// derived per-CPU state, releases the lock, then kicks the affected CPUs. Every change to SPI
// state goes through one, so no path can forget to publish or to kick.
class DistTxn {
 public:
  explicit DistTxn(GicCore& g);
  ~DistTxn();
  DistTxn(const DistTxn&) = delete;
  DistTxn& operator=(const DistTxn&) = delete;
  CpuSet kick;  // CPUs to kick in addition to those publish() finds

 private:
  GicCore& g_;
  std::unique_lock<std::mutex> lock_;
};

// Result of a system-register access from the guest's point of view.
enum class SysregResult { ok, undefined, no_such_register };

class GicCore {
 public:
  explicit GicCore(const Config& cfg);
  ~GicCore();

  const Config& config() const { return cfg_; }
  const Topology& topology() const { return topo_; }
  TraceLog& log() { return log_; }
  GuestMemory& memory() { return mem_; }
  HostBudget& budget() { return budget_; }
  Distributor& dist() { return dist_; }
  unsigned nr_cpus() const { return unsigned(cpus_.size()); }
  CpuContext& cpu(unsigned i) { return *cpus_[i]; }
  unsigned nr_its() const { return unsigned(its_.size()); }
  Its& its(unsigned i) { return *its_[i]; }

  // An MSI written to doorbell (an ITS's GITS_TRANSLATER, GICD_SETSPI_NSR for a message-based
  // SPI, or with DirectLPI a Redistributor's GICR_SETLPIR). 1: made pending; 0: the guest's
  // configuration blocked it; -1: no doorbell there.
  int signal_msi(uint64_t doorbell, uint32_t data, uint32_t devid);

  // --- MMIO (gic/mmio_routing.cpp). Returns false when gpa is in no frame of this GIC.
  bool mmio_read(uint64_t gpa, unsigned size, uint64_t& value);
  bool mmio_write(uint64_t gpa, unsigned size, uint64_t value);

  // --- System registers (cpuif/icc_registers.cpp).
  SysregResult sysreg_read(unsigned cpu, uint32_t enc, uint64_t& value);
  SysregResult sysreg_write(unsigned cpu, uint32_t enc, uint64_t value);
  // The VMM's access to CPU interface state (KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS): 0, VGIC_ENXIO
  // (not a state register) or VGIC_EINVAL (a value this interface cannot honour).
  int sysreg_uaccess(unsigned cpu, uint32_t enc, uint64_t& value, bool is_write);

  // --- Save/restore helpers for the VMM (KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, SAVE_PENDING_TABLES).
  // Input line levels of 32 INTIDs from base (a multiple of 32): SPIs, or cpu's PPIs.
  uint32_t line_levels(unsigned cpu, uint32_t base);
  void restore_line_levels(unsigned cpu, uint32_t base, uint32_t levels);
  // Writes every LPI's pending bit into its redistributor's pending table (state kept).
  bool save_pending_tables();
  // vCPUs the VMM declared running: state groups of the attribute API answer -EBUSY meanwhile.
  void set_vcpu_running(unsigned cpu, bool running);
  bool any_vcpu_running() const { return running_.load(std::memory_order_acquire) != 0; }

  // --- Delivery (gic/delivery.cpp).
  // Input line of an SPI (any cpu) or PPI (that cpu). intid must be valid (checked by the caller).
  void set_irq_level(unsigned cpu, uint32_t intid, bool level);
  // Recomputes cpu's highest-priority pending interrupt and output lines. CPU lock held.
  void update_cpu_locked(CpuContext& c);
  // Asks each CPU in set to recompute its outputs (never blocks on a busy CPU).
  void kick(const CpuSet& set);
  void kick(unsigned cpu);
  // After an LPI became newly pending on cpu (set_pending reported newly set): updates cpu only if
  // its lines can change (lock-free when its IRQ line is already up; see gic_core.cpp).
  void post_lpi(unsigned cpu);
  // Whether LPI changes were posted to c that its last selection has not taken in (CPU lock held):
  // c.icc.hppi may then be stale and is recomputed before use.
  static bool lpis_posted(const CpuContext& c) {
    const LpiTable* l = c.redist.lpis.get();
    return l && l->has_dirty();
  }
  // Runs f() with c's lock held, then recomputes c's outputs and releases. touches_private:
  // f may change c's private interrupts (false only where f marks c.private_dirty itself).
  template <class F>
  decltype(auto) with_cpu(CpuContext& c, F&& f, bool touches_private = true) {
    c.lock.lock();
    if (touches_private) c.private_dirty = true;
    struct Release {
      GicCore& g;
      CpuContext& c;
      ~Release() {
        g.update_cpu_locked(c);
        c.lock.unlock([&] { g.update_cpu_locked(c); });
      }
    } release{*this, c};
    return f();
  }

  // --- LPIs (gic/lpi_delivery.cpp). Lock-free unless stated.
  // Makes an LPI pending on cpu's redistributor (ITS INT/MSI slow path, GICR_SETLPIR). False if
  // LPIs are disabled there, the INTID is out of the programmed range, or the host budget is out.
  bool make_lpi_pending(unsigned cpu, uint32_t intid);
  // make_lpi_pending without the wake-up (post_lpi): the caller posts.
  bool set_lpi_pending_bit(unsigned cpu, uint32_t intid);
  bool clear_lpi_pending(unsigned cpu, uint32_t intid);
  // MOVI/MOVALL: moves intid's pending state from one redistributor to another. An LPI the target
  // cannot hold stays pending where it was (docs/spec-deviations.md rows 88, 89), counted as a
  // guest error.
  void move_lpi_pending(unsigned from, unsigned to, uint32_t intid);
  // MOVALL: every LPI pending on `from` moves to `to`, a 1024-LPI chunk at a time (its pending
  // words taken and added in one go, its configuration block read once). LPIs the target cannot
  // hold stay, as above. Returns the LPIs moved; `chunks`: the chunks of `from` walked.
  size_t move_all_lpis(unsigned from, unsigned to, size_t& chunks);
  // Re-reads one LPI's configuration byte (ITS INV, GICR_INVLPIR) or all (INVALL, GICR_INVALLR).
  void reload_lpi_config(unsigned cpu, uint32_t intid);
  void reload_all_lpi_config(unsigned cpu);
  // Consume-on-create (seed 003, KVM's vgic_v3_lpi_sync_pending_status): when a restored ITS
  // translation creates an LPI, its bit in cpu's pending table moves into the redistributor: read,
  // cleared in guest RAM, made pending. Only where PENDBASER is programmed and EnableLPIs is 1
  // (while it is 0 the table stays authoritative: it is read when LPIs are enabled). Returns
  // whether the LPI was pending there. Takes cpu's lock: not with an ITS lock held.
  bool consume_lpi_pending(unsigned cpu, uint32_t intid);
  // The same for many LPIs of one CPU under one hold of its lock (ITS_RESTORE_TABLES), with the
  // pending table read and written a block at a time, not a byte per LPI (issue 7); the effect is
  // consume_lpi_pending's on each LPI in turn, in the order given.
  void consume_lpis_pending_blocks(unsigned cpu, std::span<const uint32_t> intids);
  // GICR_CTLR.EnableLPIs transitions; CPU lock held.
  void enable_lpis_locked(CpuContext& c);
  void disable_lpis_locked(CpuContext& c);
  // Drops every ITS's cached translations, waits until no MSI that used one is in flight, and runs
  // f while every ITS lock is held (in ITS order, inside the caller's CPU lock: the lock order).
  template <class F>
  void with_its_quiesced(F&& f, size_t from = 0) {
    if (from == its_.size()) return f();
    its_[from]->quiesced([&] { with_its_quiesced(f, from + 1); });
  }

  // CPU-interface operations, CPU lock held (called from the ICC register handlers).
  uint32_t acknowledge(CpuContext& c, Group g);          // ICC_IAR0/1
  void end_of_interrupt(CpuContext& c, Group g, uint32_t intid);  // ICC_EOIR0/1
  void deactivate_by_dir(CpuContext& c, uint32_t intid);          // ICC_DIR
  uint32_t highest_pending(CpuContext& c, Group g);     // ICC_HPPIR0/1
  // SGI generation (ICC_SGI0R/SGI1R/ASGI1R). No CPU lock held: it locks each target in turn.
  void generate_sgi(unsigned from, uint64_t value, uint32_t enc);

  // --- Deactivation notifications (seed 001: an ack comes from the guest deactivating the
  // interrupt, by EOI with EOImode 0 or by ICC_DIR; never from ICPENDR/ISPENDR/ICACTIVER writes).
  // The listener runs on the deactivating vCPU's thread after vgic released its locks, so it may
  // call back into vgic (e.g. lower a line).
  using AckListener = std::function<void(unsigned cpu, uint32_t intid)>;
  void set_ack_listener(AckListener fn) { ack_listener_.store(std::make_shared<const AckListener>(std::move(fn))); }
  // Marks an SPI (any cpu) or a PPI (of cpu) as wanting deactivation notifications. Never
  // cleared: a deactivation nobody listens to any more reaches a listener that finds no one.
  void set_ack_notify(unsigned cpu, uint32_t intid);
  // irqfd resample mark of an SPI (KVM's resampler ack notifier): while it is set, every
  // deactivation of the SPI lowers its input line in the same transaction, whoever raised it,
  // and is notified. The irqfd layer clears it when no resampling irqfd covers the SPI any more.
  void set_resample(uint32_t intid, bool on);
  // Fires the notifications collected on this thread (called where vgic released its locks).
  // Inline check: it runs after every system-register access (issue 7).
  void flush_acks() {
    if (gic_detail::t_have_acks) [[unlikely]]
      flush_acks_slow();
  }

  // Every command an ITS executed, with its outcome (tools: replay, tracing). Lock held: the
  // observer must not call back into vgic.
  // slot: the command's queue slot (GITS_CREADR / 32 when it ran).
  using CommandObserver = std::function<void(unsigned its, uint64_t slot, const RawCommand&, const CommandOutcome&)>;
  void set_command_observer(CommandObserver fn) {
    cmd_observer_.store(std::make_shared<const CommandObserver>(std::move(fn)));
  }
  void observe_command(unsigned its, uint64_t slot, const RawCommand& cmd, const CommandOutcome& o) {
    if (auto fn = cmd_observer_.load(); fn && *fn) (*fn)(its, slot, cmd, o);
  }

  // A System Error (ITS command error with GITS_TYPER.SEIS) for the VMM.
  void system_error(unsigned its, uint32_t code) {
    if (auto fn = sei_notifier_.load(); fn && *fn) (*fn)(its, code);
  }
  void set_system_error_notifier(SystemErrorNotifier fn) {
    sei_notifier_.store(std::make_shared<const SystemErrorNotifier>(std::move(fn)));
  }

  // Line notifier (may be replaced at any time; see vgic.h). Takes every CPU lock in turn: not
  // from inside a notifier or with a vgic lock held.
  void set_line_notifier(LineNotifier fn);

 private:
  void flush_acks_slow();
  static Hppi hppi_of(uint64_t packed_best);
  Hppi reselect_after_lpi_ack(CpuContext& c);
  Hppi select_hppi_locked(CpuContext& c);  // CPU lock only: reads the Distributor's published state
  bool consume_lpi_pending_locked(CpuContext& c, uint32_t intid);
  void deactivate(CpuContext& c, uint32_t intid, int group_check);

  const Config cfg_;
  const Topology topo_;
  TraceLog log_;
  GuestMemory mem_;
  HostBudget budget_;
  Distributor dist_;
  std::vector<std::unique_ptr<CpuContext>> cpus_;
  std::vector<std::unique_ptr<Its>> its_;
  // The line notifier is called on every line change (twice per delivery cycle), so it is read
  // with one plain acquire load instead of an atomic shared_ptr's lock and reference counts
  // (issue 7). Every call runs under that CPU's lock, so set_line_notifier() frees the old one
  // after each CPU lock has been free once (no call can still be using it). Null: none.
  std::atomic<const LineNotifier*> notifier_{nullptr};
  std::unique_ptr<const LineNotifier> notifier_owner_;  // under notifier_set_lock_
  std::mutex notifier_set_lock_;
  std::atomic<std::shared_ptr<const SystemErrorNotifier>> sei_notifier_;
  std::atomic<std::shared_ptr<const CommandObserver>> cmd_observer_;
  std::atomic<std::shared_ptr<const AckListener>> ack_listener_;
  std::atomic<unsigned> running_{0};
  std::unique_ptr<std::atomic<bool>[]> cpu_running_;
};

}  // namespace gicv3
