// The one bounds-checked interface through which vgic touches guest RAM (ITS tables, LPI
// configuration and pending tables). Every address comes from the guest, so every access is checked
// against the regions the VMM mapped; an access outside them fails and the caller turns the failure
// into the architectural outcome (command error, LPI not delivered ...).
//
// Locking: a shared_mutex; reads and writes of guest RAM take it shared, map/unmap exclusive.
// Guest RAM itself is also written by the guest's vCPUs: accesses are plain copies, like a DMA
// master's, and multi-byte entries are read with one memcpy each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <shared_mutex>
#include <vector>

#include "vgic/vgic.hpp"

namespace gicv3 {

class GuestMemory {
 public:
  Status map(uint64_t gpa, uint64_t size, void* host);
  Status unmap(uint64_t gpa);

  // False if any byte of [gpa, gpa+len) is not mapped; the range may span adjacent regions (a VMM
  // may map its RAM as several). A failed write writes nothing.
  bool read(uint64_t gpa, void* dst, size_t len) const;
  bool write(uint64_t gpa, const void* src, size_t len);
  bool fill(uint64_t gpa, uint8_t byte, size_t len);
  // True if every byte of [gpa, gpa+len) is mapped, i.e. read/write of that range would succeed.
  bool is_ram(uint64_t gpa, uint64_t len) const;

  bool read_u64(uint64_t gpa, uint64_t& v) const;  // little-endian guest value
  bool write_u64(uint64_t gpa, uint64_t v);

 private:
  struct Region {
    uint64_t gpa, size;
    uint8_t* host;
  };
  uint8_t* translate(uint64_t gpa, size_t len) const;  // shared lock held; one region
  // Calls fn(host, offset, n) for the consecutive pieces of [gpa, gpa+len) in adjacent regions, if
  // every byte is mapped (else calls nothing and returns false). Shared lock held.
  template <class Fn>
  bool for_each_piece(uint64_t gpa, size_t len, Fn&& fn) const;

  mutable std::shared_mutex lock_;
  std::vector<Region> regions_;  // sorted by gpa, non-overlapping
};

}  // namespace gicv3
