// irqfd (seed 001): an eventfd whose signal injects a GSI, optionally with a resample eventfd for
// level-triggered interrupts, and the ack notifiers behind resampling.
//
//  - Without resample: a signal triggers the GSI (MSI routes fire; irqchip routes get a 1-then-0
//    pulse, as KVM's irqfd does, which makes an edge-triggered SPI pending).
//  - With resample: a signal raises the irqchip line and keeps it high; when the guest
//    DEACTIVATES the interrupt (EOI with EOImode 0, or ICC_DIR) the line is lowered and the
//    resample eventfd is signalled, so the device can re-assert if it still needs service.
//    ICPENDR/ISPENDR writes (save/restore) are not deactivations and resample nothing.
//
// Event loop: either vgic's own thread (start_thread) or the VMM's loop, which polls poll_fd()
// (an epoll descriptor) and calls dispatch().
//
// Locking: lock_ protects the irqfd set and each irqfd's state. Injection happens with lock_
// held; injection never calls back into this class, and deactivation callbacks arrive on vCPU
// threads after vgic released its own locks, so lock_ nests outside every GIC lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
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

  // Ack notifiers for VMM code that is not eventfd-based: fn(cpu, intid) after the guest
  // deactivates intid (of cpu, for PPIs). Returns an id for remove_ack_notifier, or an error.
  using AckFn = std::function<void(unsigned cpu, uint32_t intid)>;
  int add_ack_notifier(unsigned cpu, uint32_t intid, AckFn fn);
  Status remove_ack_notifier(int id);

  // Called by the GIC when a watched interrupt is deactivated (no vgic lock held).
  void on_deactivated(unsigned cpu, uint32_t intid);

 private:
  struct Irqfd {
    int eventfd;
    uint32_t gsi;
    int resamplefd;  // -1: none
    bool asserted = false;
  };
  struct Notifier {
    unsigned cpu;
    uint32_t intid;
    AckFn fn;
  };
  void inject(Irqfd& f);   // lock_ held
  void lower(Irqfd& f);    // lock_ held
  int drain(int fd);       // reads an eventfd without blocking; > 0 if it had been signalled

  GicCore& gic_;
  GsiRouting& routing_;
  int epoll_ = -1;
  int stop_ = -1;  // eventfd that stops the thread
  std::thread thread_;
  std::mutex lock_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Irqfd> irqfds_;  // epoll data -> irqfd
  std::mutex notifier_lock_;
  int next_notifier_ = 1;
  std::map<int, Notifier> notifiers_;
};

}  // namespace gicv3
