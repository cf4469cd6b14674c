// A bound on the host memory one GIC may allocate on behalf of its guest (ITS devices and
// translations, LPI state). Guest actions that would exceed it fail architecturally (a command
// error, an LPI that cannot be made pending) instead of growing the host without limit.
#pragma once

#include <atomic>
#include <algorithm>
#include <cstddef>

namespace gicv3 {

class HostBudget {
 public:
  explicit HostBudget(size_t limit) : limit_(limit) {}
  // Reserves bytes; false (and nothing reserved) if that would pass the limit.
  bool charge(size_t bytes) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (bytes > limit_ - std::min(used, limit_)) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void release(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

}  // namespace gicv3
