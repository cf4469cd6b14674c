// An eventfd for irqfd tests: non-blocking by default (take() returns 0 when not signalled);
// EFD_CLOEXEC alone gives the blocking kind kvmtool creates.
#pragma once

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace test {

struct EventFd {
  int fd;
  explicit EventFd(int flags = EFD_CLOEXEC | EFD_NONBLOCK) : fd(eventfd(0, flags)) {}
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  ~EventFd() { close(fd); }
  void signal(uint64_t n = 1) const { ASSERT_EQ(write(fd, &n, sizeof n), ssize_t(sizeof n)); }
  uint64_t take() const {  // 0 if not signalled (non-blocking descriptors only)
    uint64_t v = 0;
    return read(fd, &v, sizeof v) == ssize_t(sizeof v) ? v : 0;
  }
};

}  // namespace test
