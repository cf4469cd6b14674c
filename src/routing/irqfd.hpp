// irqfd (seed 001): an eventfd whose signal injects a GSI, optionally with a resample eventfd for
// level-triggered interrupts, and the ack notifiers behind resampling. Semantics follow KVM's
// virt/kvm/eventfd.c (irqfd, resampler) and irqchip.c (ack notifiers).
//
//  - Without resample: a signal triggers the GSI (MSI routes fire; irqchip routes get a 1-then-0
//    pulse, as KVM's irqfd does, which makes an edge-triggered SPI pending), in one table lookup.
//  - With resample: while the irqfd is assigned, the SPI(s) its GSI routes to carry the resample
//    mark (set at assign and kept in step with the routing table), as KVM registers the
//    resampler's ack notifier at assign. A signal raises the line and keeps it high. Every time the
//    guest DEACTIVATES a marked SPI (EOI with EOImode 0, or ICC_DIR) the line is lowered, whoever
//    raised it, and the resample eventfd is signalled, so the device can re-assert if it still
//    needs service. ICPENDR/ISPENDR writes (save/restore) are not deactivations.
//
// Event loop: either vgic's own thread (start_thread) or the VMM's loop, which polls poll_fd()
// (an epoll descriptor) and calls dispatch(). Eventfds may be blocking (kvmtool's are): vgic
// never reads one that poll() does not report readable.
//
// Locking: lock_ protects the irqfd set, each irqfd's state and the set of marked SPIs. Injection
// happens with lock_ held; injection never calls back into this class, and deactivation callbacks
// arrive on vCPU threads after vgic released its own locks, so lock_ nests outside every GIC lock.
// notifier_lock_ protects the ack-notifier list and the count of callbacks in flight.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "routing/gsi_routing.hpp"

namespace gicv3 {

class GicCore;

class IrqfdManager {
 public:
  IrqfdManager(GicCore& gic, GsiRouting& routing);
  ~IrqfdManager();

  Status assign(int eventfd, uint32_t gsi, int resamplefd);
  Status deassign(int eventfd, uint32_t gsi);
  int poll_fd() const { return epoll_; }
  // Handles every irqfd that is ready, without blocking. Returns how many signals were injected.
  int dispatch();
  Status start_thread();
  // The routing table was replaced: move the resample marks to the SPIs the GSIs route to now.
  void routing_changed();

  // Ack notifiers for VMM code that is not eventfd-based: fn(cpu, intid) after the guest
  // deactivates intid (of cpu, for PPIs). Returns an id for remove_ack_notifier, or an error.
  using AckFn = std::function<void(unsigned cpu, uint32_t intid)>;
  int add_ack_notifier(unsigned cpu, uint32_t intid, AckFn fn);
  // Once it returns, no call of that notifier is running or will start (as KVM's
  // synchronize_srcu), except the caller's own when a notifier unregisters itself.
  Status remove_ack_notifier(int id);

  // Called by the GIC when a watched interrupt is deactivated (no vgic lock held).
  void on_deactivated(unsigned cpu, uint32_t intid);

 private:
  struct Irqfd {
    int eventfd;
    uint32_t gsi;
    int resamplefd;  // -1: none
  };
  struct Notifier {
    unsigned cpu;
    uint32_t intid;
    AckFn fn;
  };
  void inject(Irqfd& f);   // lock_ held
  void sync_marks();       // lock_ held: marks exactly the SPIs routed from resampling irqfds
  int drain(int fd);       // lock_ held: reads an eventfd without blocking; > 0 if it was signalled

  GicCore& gic_;
  GsiRouting& routing_;
  int epoll_ = -1;
  int stop_ = -1;  // eventfd that stops the thread
  std::thread thread_;
  std::atomic<bool> loop_ended_{false};  // the thread's epoll_wait failed: start_thread may restart it
  std::mutex lock_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Irqfd> irqfds_;  // epoll data -> irqfd
  std::set<uint32_t> marked_;                   // SPIs whose Irq::resample this class set
  std::mutex notifier_lock_;
  std::condition_variable notifier_idle_;  // a callback finished (remove_ack_notifier waits)
  int next_notifier_ = 1;
  std::map<int, Notifier> notifiers_;
  std::map<int, int> in_flight_;  // notifier id -> calls running now
};

}  // namespace gicv3
