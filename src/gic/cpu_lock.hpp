// The lock of one CPU (its redistributor and CPU interface), with an "update requested" bit that
// lets injectors hand work to whoever holds the lock instead of waiting for it.
//
// Protocol (one atomic word, so there is no store/load reordering between two variables):
//  - lock()/unlock(update): an ordinary blocking lock. Before it really releases, unlock() runs
//    `update` for every update request that arrived while it was held.
//  - request_update(update): never blocks. If the lock is free it takes the lock, runs `update`
//    and releases it (with the same drain loop). If the lock is held, it sets the request bit and
//    the holder runs the update before it releases. This is what keeps the injection paths (MSIs,
//    device lines) free of waiting on a vCPU that is inside its CPU interface.
//
// Cost (issue 7: the full delivery cycle takes this lock three times): in the uncontended case
// lock() and unlock() are one compare-and-swap each, and request_update() on a free lock is two
// (take, release). Sleepers announce themselves with the WAITERS bit, so an unlock wakes someone
// (a futex system call through std::atomic::notify_one) only when a thread may be asleep; the bit
// follows the classic three-state futex mutex (Drepper, "Futexes Are Tricky", mutex #3): a thread
// that slept takes the lock with WAITERS set, so its own unlock wakes the next sleeper.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace gicv3 {

class CpuLock {
 public:
  void lock() {
    uint32_t s = 0;
    // seq_cst: pairs with the injector's check in GicCore::post_lpi (see there); the same
    // instruction as acquire on x86.
    if (state_.compare_exchange_strong(s, kLocked, std::memory_order_seq_cst, std::memory_order_relaxed)) return;
    lock_slow(s);
  }

  template <class Update>
  void unlock(Update&& update) {
    // Common case: held, no request, no sleeper: one CAS from exactly LOCKED to free.
    uint32_t s = kLocked;
    for (;;) {
      if (!(s & kUpdate)) {
        // Release (and clear WAITERS: the one we wake takes the lock with it set again).
        if (state_.compare_exchange_weak(s, s & ~(kLocked | kWaiters), std::memory_order_seq_cst,
                                         std::memory_order_seq_cst)) {
          if (s & kWaiters) state_.notify_one();
          return;
        }
        continue;  // s is the current word: a request or a sleeper arrived
      }
      // A request arrived while held: take it (clear the bit) and run it before releasing; a
      // request made after this clear sets the bit again and is seen by the next CAS.
      if (!state_.compare_exchange_weak(s, s & ~kUpdate, std::memory_order_seq_cst, std::memory_order_seq_cst))
        continue;
      update();
      s = state_.load(std::memory_order_seq_cst);
    }
  }

  template <class Update>
  void request_update(Update&& update) {
    uint32_t s = 0;
    // Free and uncontended: take it, run the update, release (draining requests made meanwhile).
    if (state_.compare_exchange_strong(s, kLocked, std::memory_order_seq_cst, std::memory_order_relaxed)) {
      update();
      unlock(update);
      return;
    }
    s = state_.fetch_or(kUpdate, std::memory_order_seq_cst) | kUpdate;
    while (!(s & kLocked)) {
      if (state_.compare_exchange_weak(s, s | kLocked, std::memory_order_seq_cst, std::memory_order_relaxed)) {
        unlock(update);  // runs the requested update, and any that arrive meanwhile
        return;
      }
    }
    // Held by someone else: they run the update before releasing.
  }

  // Whether the lock is held now (a snapshot; seq_cst, see GicCore::post_lpi).
  bool held() const { return state_.load(std::memory_order_seq_cst) & kLocked; }

 private:
  void lock_slow(uint32_t s) {
    bool slept = false;
    for (unsigned spins = 0;; ++spins) {
      if (!(s & kLocked)) {
        // After sleeping, take it with WAITERS set: other sleepers may remain, and our unlock must
        // wake the next one.
        if (state_.compare_exchange_weak(s, s | kLocked | (slept ? kWaiters : 0), std::memory_order_seq_cst,
                                         std::memory_order_relaxed))
          return;
        continue;
      }
      if (spins < 64) {
        s = state_.load(std::memory_order_relaxed);
        continue;
      }
      if (!(s & kWaiters)) {
        if (!state_.compare_exchange_weak(s, s | kWaiters, std::memory_order_relaxed, std::memory_order_relaxed))
          continue;
        s |= kWaiters;
      }
      state_.wait(s, std::memory_order_relaxed);  // returns at once if the word changed meanwhile
      slept = true;
      s = state_.load(std::memory_order_relaxed);
    }
  }

  static constexpr uint32_t kLocked = 1;
  static constexpr uint32_t kUpdate = 2;
  static constexpr uint32_t kWaiters = 4;
  std::atomic<uint32_t> state_{0};
};

}  // namespace gicv3
