// Grace periods for lock-free readers (a small sleepable RCU): a reader marks itself inside a
// read section by bumping a counter that only its own thread writes; synchronize() returns only
// when every read section that began before it has ended.
//
// Why: the MSI hit path reads the translation cache and sets a pending bit without a lock. A
// command that removes a translation (DISCARD, MOVI, MAPD ...) first invalidates the cache, then
// calls synchronize(), and only then clears or moves pending state, so no MSI that saw the old
// translation can land after the command completed (the race behind CVE-2024-26598 in KVM).
//
// Readers never wait. Writers serialize among themselves and wait only for readers, which hold no
// lock, so synchronize() may be called with other locks held.
//
// Cost (issue 7): a read section is on every MSI, so it must not contain a locked read-modify-write
// or a full fence. Two measures:
//  - Each thread owns a slot exclusively (claimed on its first read section, released when the
//    thread exits), so entering and leaving are a plain load and store of its own counter. Threads
//    beyond kOwned share kShared overflow slots and use atomic read-modify-writes there.
//  - The store-load ordering a reader needs (its count before its reads of shared state) is
//    provided asymmetrically, as liburcu's "memb" flavour does: the writer calls
//    membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a full barrier on every CPU running a
//    thread of this process (and a context switch is one for those not running), so the reader
//    needs only a compiler barrier. Where the kernel (or valgrind) refuses membarrier, readers use
//    a seq_cst fence instead; the mode is chosen once per process, before the first Grace exists.
#pragma once

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

namespace gicv3 {

namespace grace_detail {

// Whether the asymmetric (membarrier) mode is on. Decided once, on first use; the first use is in
// Grace's constructor, so no reader of any Grace can run before the decision.
inline bool use_membarrier() {
  static const bool on = [] {
    const long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
    return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
  }();
  return on;
}

constexpr unsigned kOwned = 64;   // slots owned by one thread each
constexpr unsigned kShared = 8;   // overflow slots shared by the threads beyond kOwned

// This thread's slot index (< kOwned: owned; otherwise kOwned + a shared slot).
struct ThreadSlot {
  static std::atomic<bool>* claims() {
    static std::atomic<bool> c[kOwned] = {};
    return c;
  }
  ThreadSlot() {
    std::atomic<bool>* c = claims();
    for (unsigned i = 0; i < kOwned; ++i) {
      bool expected = false;
      if (!c[i].load(std::memory_order_relaxed) &&
          c[i].compare_exchange_strong(expected, true, std::memory_order_acquire)) {
        index = i;
        return;
      }
    }
    static std::atomic<unsigned> next{0};
    index = kOwned + next.fetch_add(1, std::memory_order_relaxed) % kShared;
  }
  // The thread's read sections are all over (balanced), so its counters are back where it found
  // them; the release hands the slot to the next thread that claims it (acquire above).
  ~ThreadSlot() {
    if (index < kOwned) claims()[index].store(false, std::memory_order_release);
  }
  unsigned index;
};

inline unsigned thread_slot() {
  thread_local ThreadSlot slot;
  return slot.index;
}

}  // namespace grace_detail

class Grace {
  struct alignas(64) Slot {
    std::atomic<uint64_t> count[2] = {0, 0};
  };

 public:
  Grace() : membarrier_(grace_detail::use_membarrier()) {}

  class Reader {
   public:
    explicit Reader(Grace& g) {
      const unsigned i = grace_detail::thread_slot();
      owned_ = i < grace_detail::kOwned;
      slot_ = &g.slots_[i];
      for (;;) {
        const unsigned p = g.phase_.load(std::memory_order_relaxed);
        phase_ = p & 1;
        std::atomic<uint64_t>& c = slot_->count[phase_];
        if (owned_)
          c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // only this thread writes it
        else
          c.fetch_add(1, std::memory_order_relaxed);
        // Pairs with synchronize()'s barrier: either the writer sees this count, or this reader
        // sees everything the writer did before it (the phase flip and the invalidations).
        if (g.membarrier_)
          std::atomic_signal_fence(std::memory_order_seq_cst);
        else
          std::atomic_thread_fence(std::memory_order_seq_cst);
        // The phase must still be the one counted in: a reader that read the phase before one
        // synchronize() and counted itself after a second one flipped it again would be waited
        // for by neither. Seeing the same phase after the barrier proves that any later flip's
        // wait sees this count.
        if (g.phase_.load(std::memory_order_relaxed) == p) break;
        leave();
      }
    }
    ~Reader() { leave(); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

   private:
    // Release: everything the section read happens before the writer's acquire load of zero.
    void leave() {
      std::atomic<uint64_t>& c = slot_->count[phase_];
      if (owned_)
        c.store(c.load(std::memory_order_relaxed) - 1, std::memory_order_release);
      else
        c.fetch_sub(1, std::memory_order_release);
    }
    Slot* slot_;
    unsigned phase_;
    bool owned_;
  };

  void synchronize() {
    std::lock_guard l(writer_lock_);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Flip the phase so that new readers count elsewhere (the wait below then ends even under a
    // constant stream of readers), and wait for the old phase to drain.
    const unsigned old = phase_.fetch_add(1, std::memory_order_seq_cst) & 1;
    // The writer's half of the reader's barrier: after it, any reader whose count this thread
    // does not see will see the flip and every change made before synchronize().
    if (membarrier_)
      syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    else
      std::atomic_thread_fence(std::memory_order_seq_cst);
    for (unsigned spins = 0;; ++spins) {
      uint64_t sum = 0;
      for (const Slot& s : slots_) sum += s.count[old].load(std::memory_order_acquire);
      if (sum == 0) break;
      if (spins > 100) std::this_thread::yield();
    }
  }

 private:
  friend class Reader;
  std::array<Slot, grace_detail::kOwned + grace_detail::kShared> slots_{};
  std::atomic<unsigned> phase_{0};
  const bool membarrier_;
  std::mutex writer_lock_;
};

}  // namespace gicv3
