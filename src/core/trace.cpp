#include "core/trace.hpp"

#include <chrono>

namespace gicv3 {

std::unique_lock<std::mutex> TraceLog::admit() {
  std::unique_lock lock(sink_lock_);
  if (!sink_) {
    lock.unlock();
    return lock;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (now - window_start_ns_ >= 1'000'000'000) {
    window_start_ns_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= max_per_second_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();
    return lock;
  }
  ++in_window_;
  return lock;
}

void TraceLog::set_sink(TraceSink sink, unsigned max_per_second) {
  std::lock_guard lock(sink_lock_);
  sink_ = std::move(sink);
  has_sink_.store(static_cast<bool>(sink_), std::memory_order_relaxed);
  max_per_second_ = max_per_second ? max_per_second : 100;
  in_window_ = 0;
}

Stats TraceLog::stats() const {
  return Stats{guest_errors_.load(std::memory_order_relaxed), dropped_.load(std::memory_order_relaxed),
               spurious_acks_.load(std::memory_order_relaxed)};
}

}  // namespace gicv3
