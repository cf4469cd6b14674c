#include "core/trace.hpp"

#include <chrono>
#include <string>

namespace gicv3 {

void TraceLog::guest_error(const char* kind, const char* frame, unsigned cpu, uint64_t offset,
                           uint64_t value, std::string_view detail) {
  guest_errors_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(sink_lock_);
  if (!sink_) return;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (now - window_start_ns_ >= 1'000'000'000) {
    window_start_ns_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= max_per_second_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ++in_window_;
  sink_(TraceEvent{kind, frame, cpu, offset, value, std::string(detail)});
}

void TraceLog::set_sink(TraceSink sink, unsigned max_per_second) {
  std::lock_guard lock(sink_lock_);
  sink_ = std::move(sink);
  max_per_second_ = max_per_second ? max_per_second : 100;
  in_window_ = 0;
}

Stats TraceLog::stats() const {
  return Stats{guest_errors_.load(std::memory_order_relaxed), dropped_.load(std::memory_order_relaxed),
               spurious_acks_.load(std::memory_order_relaxed)};
}

}  // namespace gicv3
