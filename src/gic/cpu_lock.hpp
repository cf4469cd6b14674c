// The lock of one CPU (its redistributor and CPU interface), with an "update requested" bit that
// lets injectors hand work to whoever holds the lock instead of waiting for it.
//
// Protocol (one atomic word, so there is no store/load reordering between two variables):
//  - lock()/unlock(update): an ordinary blocking lock. Before it really releases, unlock() runs
//    `update` for every update request that arrived while it was held.
//  - request_update(update): never blocks. Sets the request bit; if the lock is free it takes the
//    lock, runs `update` and releases it (with the same drain loop). If the lock is held, the holder
//    will run the update before it releases. This is what keeps the injection paths (MSIs, device
//    lines) free of waiting on a vCPU that is inside its CPU interface.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace gicv3 {

class CpuLock {
 public:
  void lock() {
    uint32_t s = state_.load(std::memory_order_relaxed);
    for (unsigned spins = 0;; ++spins) {
      if (!(s & kLocked)) {
        if (state_.compare_exchange_weak(s, s | kLocked, std::memory_order_acquire, std::memory_order_relaxed))
          return;
        continue;
      }
      if (spins < 64) {
        s = state_.load(std::memory_order_relaxed);
      } else {
        state_.wait(s, std::memory_order_relaxed);
        s = state_.load(std::memory_order_relaxed);
      }
    }
  }

  template <class Update>
  void unlock(Update&& update) {
    uint32_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (s & kUpdate) {
        state_.fetch_and(~kUpdate, std::memory_order_acq_rel);
        update();
        s = state_.load(std::memory_order_acquire);
        continue;
      }
      if (state_.compare_exchange_weak(s, s & ~kLocked, std::memory_order_release, std::memory_order_acquire))
        break;
    }
    // libstdc++ keeps its own waiter count, so this is cheap when nobody sleeps.
    state_.notify_one();
  }

  template <class Update>
  void request_update(Update&& update) {
    uint32_t s = state_.fetch_or(kUpdate, std::memory_order_acq_rel) | kUpdate;
    while (!(s & kLocked)) {
      if (state_.compare_exchange_weak(s, s | kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
        unlock(update);  // runs the requested update, and any that arrive meanwhile
        return;
      }
    }
    // Held by someone else: they run the update before releasing.
  }

 private:
  static constexpr uint32_t kLocked = 1;
  static constexpr uint32_t kUpdate = 2;
  std::atomic<uint32_t> state_{0};
};

}  // namespace gicv3
