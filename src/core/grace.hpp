// Grace periods for lock-free readers (a small sleepable-RCU): a reader marks itself inside a
// read section with one atomic increment on a counter of its own; synchronize() returns only when
// every read section that began before it has ended.
//
// Why: the MSI hit path reads the translation cache and sets a pending bit without a lock. A
// command that removes a translation (DISCARD, MOVI, MAPD ...) first invalidates the cache, then
// calls synchronize(), and only then clears or moves pending state, so no MSI that saw the old
// translation can land after the command completed (the race behind CVE-2024-26598 in KVM).
//
// Readers never wait. Writers serialize among themselves and wait only for readers, which hold no
// lock, so synchronize() may be called with other locks held.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

namespace gicv3 {

class Grace {
  struct alignas(64) Slot {
    std::atomic<uint64_t> count[2] = {0, 0};
  };

 public:
  class Reader {
   public:
    explicit Reader(Grace& g) {
      slot_ = &g.slots_[thread_slot()];
      for (;;) {
        const unsigned p = g.phase_.load(std::memory_order_seq_cst);
        phase_ = p & 1;
        slot_->count[phase_].fetch_add(1, std::memory_order_seq_cst);
        // Pairs with the fence in synchronize(): either the writer sees this reader, or this
        // reader sees everything the writer did before synchronize().
        std::atomic_thread_fence(std::memory_order_seq_cst);
        // The phase must still be the one counted in: a reader that read the phase before one
        // synchronize() and counted itself after a second one flipped it again would be waited
        // for by neither. Seeing the same phase after the increment proves that any later flip's
        // wait sees this count.
        if (g.phase_.load(std::memory_order_seq_cst) == p) break;
        slot_->count[phase_].fetch_sub(1, std::memory_order_release);
      }
    }
    ~Reader() { slot_->count[phase_].fetch_sub(1, std::memory_order_release); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

   private:
    Slot* slot_;
    unsigned phase_;
  };

  void synchronize() {
    std::lock_guard l(writer_lock_);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Flip the phase so that new readers count elsewhere (the wait below then ends even under a
    // constant stream of readers), and wait for the old phase to drain. A reader whose increment
    // this loop does not see comes after the fence above in the seq_cst order, so its fence makes
    // every change made before synchronize() visible to it.
    const unsigned old = phase_.fetch_add(1, std::memory_order_seq_cst) & 1;
    for (unsigned spins = 0;; ++spins) {
      uint64_t sum = 0;
      for (const Slot& s : slots_) sum += s.count[old].load(std::memory_order_acquire);
      if (sum == 0) break;
      if (spins > 100) std::this_thread::yield();
    }
  }

 private:
  friend class Reader;
  static constexpr unsigned kSlots = 64;
  static unsigned thread_slot() {
    static std::atomic<unsigned> next{0};
    thread_local unsigned slot = next.fetch_add(1, std::memory_order_relaxed) % kSlots;
    return slot;
  }

  std::array<Slot, kSlots> slots_{};
  std::atomic<unsigned> phase_{0};
  std::mutex writer_lock_;
};

}  // namespace gicv3
