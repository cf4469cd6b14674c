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

bool GuestMemory::read(uint64_t gpa, void* dst, size_t len) const {
  std::shared_lock l(lock_);
  const uint8_t* p = translate(gpa, len);
  if (!p) return false;
  std::memcpy(dst, p, len);
  return true;
}

bool GuestMemory::write(uint64_t gpa, const void* src, size_t len) {
  std::shared_lock l(lock_);
  uint8_t* p = translate(gpa, len);
  if (!p) return false;
  std::memcpy(p, src, len);
  return true;
}

bool GuestMemory::fill(uint64_t gpa, uint8_t byte, size_t len) {
  std::shared_lock l(lock_);
  uint8_t* p = translate(gpa, len);
  if (!p) return false;
  std::memset(p, byte, len);
  return true;
}

bool GuestMemory::is_ram(uint64_t gpa, uint64_t len) const {
  if (size_t(len) != len) return false;  // larger than this host's address space
  std::shared_lock l(lock_);
  return translate(gpa, size_t(len)) != nullptr;
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
