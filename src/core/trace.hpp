// Guest-error accounting: every architectural misuse by the guest is counted, and reported to the
// embedder's trace sink at a bounded rate, so that a hostile guest cannot flood the host's logs.
//
// Locking: the counters are relaxed atomics. `sink_lock_` protects the sink and the rate limiter;
// it is taken only when a sink is installed (`has_sink_`), so a guest that repeats an error on
// every vCPU costs one atomic add per error when nobody listens. The message of an event is built
// only once the limiter has admitted it: an event that is dropped or has no sink formats nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "vgic/vgic.hpp"

namespace gicv3 {

class TraceLog {
 public:
  static constexpr unsigned kNoCpu = ~0u;

  // Records one guest error. Never fails, never blocks on the guest. `describe` is either a fixed
  // text or a callable returning the message (std::string), called only for a delivered event.
  template <class Describe>
  void guest_error(const char* kind, const char* frame, unsigned cpu, uint64_t offset, uint64_t value,
                   Describe&& describe) {
    guest_errors_.fetch_add(1, std::memory_order_relaxed);
    if (!has_sink_.load(std::memory_order_relaxed)) return;
    std::unique_lock l = admit();
    if (!l.owns_lock()) return;
    if constexpr (std::is_invocable_v<Describe&>)
      sink_(TraceEvent{kind, frame, cpu, offset, value, std::string(describe())});
    else
      sink_(TraceEvent{kind, frame, cpu, offset, value, std::string(std::string_view(describe))});
  }

  void count_spurious_ack() { spurious_acks_.fetch_add(1, std::memory_order_relaxed); }

  void set_sink(TraceSink sink, unsigned max_per_second);
  Stats stats() const;

 private:
  // Takes sink_lock_ and charges the rate limiter: returns the lock owned when the event is to be
  // delivered, released when there is no sink or the second's quota is spent (counted as dropped).
  std::unique_lock<std::mutex> admit();

  std::atomic<uint64_t> guest_errors_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> spurious_acks_{0};
  std::atomic<bool> has_sink_{false};  // a hint: admit() decides under the lock

  mutable std::mutex sink_lock_;
  TraceSink sink_;
  unsigned max_per_second_ = 100;
  int64_t window_start_ns_ = 0;
  unsigned in_window_ = 0;
};

}  // namespace gicv3
