#include "mem/guest_memory.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <mutex>
#include <string>

namespace gicv3 {

namespace {
std::string hex(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

Status GuestMemory::map(uint64_t gpa, uint64_t size, void* host) {
  if (!host) return {Errc::invalid_argument, "vgic_map_ram: host pointer is NULL"};
  if (size == 0) return {Errc::invalid_argument, "vgic_map_ram: size is 0"};
  if (gpa + size < gpa) return {Errc::invalid_argument, "vgic_map_ram: region wraps around the address space"};
  std::unique_lock l(lock_);
  for (const Region& r : regions_)
    if (gpa < r.gpa + r.size && r.gpa < gpa + size)
      return {Errc::exists, "vgic_map_ram: [" + hex(gpa) + ", +" + hex(size) + ") overlaps the region at " + hex(r.gpa)};
  Region nr{gpa, size, static_cast<uint8_t*>(host)};
  regions_.insert(std::upper_bound(regions_.begin(), regions_.end(), gpa, [](uint64_t a, const Region& r) { return a < r.gpa; }), nr);
  return {};
}

Status GuestMemory::unmap(uint64_t gpa) {
  std::unique_lock l(lock_);
  auto it = std::find_if(regions_.begin(), regions_.end(), [&](const Region& r) { return r.gpa == gpa; });
  if (it == regions_.end()) return {Errc::no_entry, "vgic_unmap_ram: no region starts at " + hex(gpa)};
  regions_.erase(it);
  return {};
}

uint8_t* GuestMemory::translate(uint64_t gpa, size_t len) const {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), gpa, [](uint64_t a, const Region& r) { return a < r.gpa; });
  if (it == regions_.begin()) return nullptr;
  --it;
  const uint64_t off = gpa - it->gpa;
  if (off >= it->size || len > it->size - off) return nullptr;
  return it->host + off;
}

template <class Fn>
bool GuestMemory::for_each_piece(uint64_t gpa, size_t len, Fn&& fn) const {
  if (uint8_t* p = translate(gpa, len)) {  // the common case: one region
    fn(p, size_t(0), len);
    return true;
  }
  if (len == 0 || gpa + len < gpa) return false;
  // Check that the regions holding the range are adjacent before touching anything.
  auto first = std::upper_bound(regions_.begin(), regions_.end(), gpa, [](uint64_t a, const Region& r) { return a < r.gpa; });
  if (first == regions_.begin()) return false;
  --first;
  if (gpa - first->gpa >= first->size) return false;
  auto it = first;
  for (uint64_t at = it->gpa + it->size; at < gpa + len; at = it->gpa + it->size)
    if (++it == regions_.end() || it->gpa != at) return false;
  size_t done = 0;
  for (it = first; done < len; ++it) {
    const uint64_t a = gpa + done, off = a - it->gpa;
    const size_t n = size_t(std::min<uint64_t>(len - done, it->size - off));
    fn(it->host + off, done, n);
    done += n;
  }
  return true;
}

bool GuestMemory::read(uint64_t gpa, void* dst, size_t len) const {
  std::shared_lock l(lock_);
  return for_each_piece(gpa, len, [&](const uint8_t* p, size_t at, size_t n) { std::memcpy(static_cast<uint8_t*>(dst) + at, p, n); });
}

bool GuestMemory::write(uint64_t gpa, const void* src, size_t len) {
  std::shared_lock l(lock_);
  return for_each_piece(gpa, len, [&](uint8_t* p, size_t at, size_t n) { std::memcpy(p, static_cast<const uint8_t*>(src) + at, n); });
}

bool GuestMemory::fill(uint64_t gpa, uint8_t byte, size_t len) {
  std::shared_lock l(lock_);
  return for_each_piece(gpa, len, [&](uint8_t* p, size_t, size_t n) { std::memset(p, byte, n); });
}

bool GuestMemory::is_ram(uint64_t gpa, uint64_t len) const {
  if (size_t(len) != len) return false;  // larger than this host's address space
  std::shared_lock l(lock_);
  return for_each_piece(gpa, size_t(len), [](uint8_t*, size_t, size_t) {});
}

bool GuestMemory::read_u64(uint64_t gpa, uint64_t& v) const {
  uint64_t raw;
  if (!read(gpa, &raw, sizeof raw)) return false;
  v = std::endian::native == std::endian::little ? raw : __builtin_bswap64(raw);
  return true;
}

bool GuestMemory::write_u64(uint64_t gpa, uint64_t v) {
  const uint64_t raw = std::endian::native == std::endian::little ? v : __builtin_bswap64(v);
  return write(gpa, &raw, sizeof raw);
}

}  // namespace gicv3
