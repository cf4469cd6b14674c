// Guest-error accounting: every architectural misuse by the guest is counted, and reported to the
// embedder's trace sink at a bounded rate, so that a hostile guest cannot flood the host's logs.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "vgic/vgic.hpp"

namespace gicv3 {

class TraceLog {
 public:
  static constexpr unsigned kNoCpu = ~0u;

  // Records one guest error. Never fails, never blocks on the guest.
  void guest_error(const char* kind, const char* frame, unsigned cpu, uint64_t offset,
                   uint64_t value, std::string_view detail);

  void count_spurious_ack() { spurious_acks_.fetch_add(1, std::memory_order_relaxed); }

  void set_sink(TraceSink sink, unsigned max_per_second);
  Stats stats() const;

 private:
  std::atomic<uint64_t> guest_errors_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> spurious_acks_{0};

  // The sink and the rate limiter; taken only on the (rare) guest-error path.
  mutable std::mutex sink_lock_;
  TraceSink sink_;
  unsigned max_per_second_ = 100;
  int64_t window_start_ns_ = 0;
  unsigned in_window_ = 0;
};

}  // namespace gicv3
