// GicCore: one emulated GICv3. Owns the Distributor, one Redistributor + CPU interface per vCPU,
// guest-memory access and the trace log; routes MMIO and system-register accesses to the
// declarative register tables; and moves interrupts between the blocks (gic/delivery.cpp).
//
// Locking (the full rules are in docs/architecture.md):
//  - CpuContext::lock (a CpuLock) owns that CPU's Redistributor and CpuInterface state.
//  - Distributor::lock() owns every SPI.
//  - Order: a CPU lock may be held while taking the Distributor lock, never the reverse, and no
//    thread holds two CPU locks. Code holding the Distributor lock collects the CPUs it affected in
//    a CpuSet and calls kick() after releasing it.
//  - kick() uses CpuLock::request_update(): it never waits for a vCPU that is inside its CPU
//    interface; the holder recomputes that CPU's outputs before it unlocks.
//  - Output lines are published in an atomic (lock-free vgic_cpu_lines) and the line notifier is
//    called from inside the update, under the CPU lock, so notifications of one CPU are ordered.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/trace.hpp"
#include "cpuif/cpu_interface.hpp"
#include "gic/cpu_lock.hpp"
#include "gic/topology.hpp"
#include "gicd/distributor.hpp"
#include "gicr/redistributor.hpp"
#include "mem/guest_memory.hpp"
#include "vgic/vgic.hpp"

namespace gicv3 {

struct CpuContext {
  CpuContext(const Config& cfg, unsigned cpu) : index(cpu), redist(cfg, cpu), icc(cfg) {}
  const unsigned index;
  CpuLock lock;
  Redistributor redist;
  CpuInterface icc;
  std::atomic<int> lines{0};
  int notified_lines = 0;  // under lock
};

// Result of a system-register access from the guest's point of view.
enum class SysregResult { ok, undefined, no_such_register };

class GicCore {
 public:
  explicit GicCore(const Config& cfg);

  const Config& config() const { return cfg_; }
  const Topology& topology() const { return topo_; }
  TraceLog& log() { return log_; }
  GuestMemory& memory() { return mem_; }
  Distributor& dist() { return dist_; }
  unsigned nr_cpus() const { return unsigned(cpus_.size()); }
  CpuContext& cpu(unsigned i) { return *cpus_[i]; }

  // --- MMIO (gic/mmio_routing.cpp). Returns false when gpa is in no frame of this GIC.
  bool mmio_read(uint64_t gpa, unsigned size, uint64_t& value);
  bool mmio_write(uint64_t gpa, unsigned size, uint64_t value);

  // --- System registers (cpuif/icc_registers.cpp).
  SysregResult sysreg_read(unsigned cpu, uint32_t enc, uint64_t& value);
  SysregResult sysreg_write(unsigned cpu, uint32_t enc, uint64_t value);

  // --- Delivery (gic/delivery.cpp).
  // Input line of an SPI (any cpu) or PPI (that cpu). intid must be valid (checked by the caller).
  void set_irq_level(unsigned cpu, uint32_t intid, bool level);
  // Recomputes cpu's highest-priority pending interrupt and output lines. CPU lock held.
  void update_cpu_locked(CpuContext& c);
  // Asks each CPU in set to recompute its outputs (never blocks on a busy CPU).
  void kick(const CpuSet& set);
  void kick(unsigned cpu);
  // Runs f() with c's lock held, then recomputes c's outputs and releases.
  template <class F>
  decltype(auto) with_cpu(CpuContext& c, F&& f) {
    c.lock.lock();
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

  // CPU-interface operations, CPU lock held (called from the ICC register handlers).
  uint32_t acknowledge(CpuContext& c, Group g);          // ICC_IAR0/1
  void end_of_interrupt(CpuContext& c, Group g, uint32_t intid);  // ICC_EOIR0/1
  void deactivate_by_dir(CpuContext& c, uint32_t intid);          // ICC_DIR
  uint32_t highest_pending(CpuContext& c, Group g);     // ICC_HPPIR0/1
  // SGI generation (ICC_SGI0R/SGI1R/ASGI1R). No CPU lock held: it locks each target in turn.
  void generate_sgi(unsigned from, uint64_t value, uint32_t enc);

  // Line notifier (may be replaced at any time; see vgic.h).
  void set_line_notifier(LineNotifier fn) { notifier_.store(std::make_shared<const LineNotifier>(std::move(fn))); }

 private:
  Hppi select_hppi_locked(CpuContext& c);  // Distributor lock held too
  void deactivate(CpuContext& c, uint32_t intid, int group_check, CpuSet& kick);

  const Config cfg_;
  const Topology topo_;
  TraceLog log_;
  GuestMemory mem_;
  Distributor dist_;
  std::vector<std::unique_ptr<CpuContext>> cpus_;
  std::atomic<std::shared_ptr<const LineNotifier>> notifier_;
};

}  // namespace gicv3
