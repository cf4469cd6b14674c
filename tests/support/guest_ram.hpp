// Guest RAM for tests: a host buffer mapped into the GIC at a guest physical address, with a bump
// allocator for the tables a driver allocates (LPI configuration/pending tables, ITS tables, ITTs,
// the command queue).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

#include <gtest/gtest.h>

#include "vgic/vgic.h"

namespace test {

class GuestRam {
 public:
  GuestRam(vgic* g, uint64_t gpa, uint64_t size) : gpa_(gpa), size_(size), mem_(new uint8_t[size]()), next_(gpa) {
    EXPECT_EQ(vgic_map_ram(g, gpa, size, mem_.get()), 0) << vgic_last_error();
  }
  uint64_t base() const { return gpa_; }
  uint64_t size() const { return size_; }

  // Zeroed, aligned allocation in guest physical address space.
  uint64_t alloc(uint64_t bytes, uint64_t align = 4096) {
    next_ = (next_ + align - 1) & ~(align - 1);
    const uint64_t a = next_;
    next_ += bytes;
    EXPECT_LE(next_, gpa_ + size_) << "test guest RAM exhausted";
    std::memset(host(a), 0, bytes);
    return a;
  }
  uint8_t* host(uint64_t gpa) { return mem_.get() + (gpa - gpa_); }
  void write8(uint64_t gpa, uint8_t v) { *host(gpa) = v; }
  uint8_t read8(uint64_t gpa) { return *host(gpa); }
  void write64(uint64_t gpa, uint64_t v) { std::memcpy(host(gpa), &v, 8); }  // little-endian host
  uint64_t read64(uint64_t gpa) {
    uint64_t v;
    std::memcpy(&v, host(gpa), 8);
    return v;
  }

 private:
  uint64_t gpa_, size_;
  std::unique_ptr<uint8_t[]> mem_;
  uint64_t next_;
};

}  // namespace test
