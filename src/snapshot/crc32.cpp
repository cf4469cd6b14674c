// CRC-32 (IEEE 802.3, polynomial 0xEDB88320 reflected, initial and final XOR 0xFFFFFFFF): the
// checksum of snapshot blobs, equal to zlib's crc32(). A small table-driven implementation, so
// that the library has no zlib dependency.
#include <array>

#include "snapshot/snapshot_format.hpp"

namespace gicv3::snapshot {

namespace {
constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = make_table();
}  // namespace

uint32_t crc32(std::span<const uint8_t> data, uint32_t crc) {
  crc = ~crc;
  for (uint8_t b : data) crc = kTable[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::string tag_name(uint32_t t) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const char c = char((t >> (8 * i)) & 0xff);
    s += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

uint8_t IrqState::flags() const {
  return uint8_t((enabled ? kEnabled : 0) | (group1 ? kGroup1 : 0) | (edge ? kEdge : 0) | (latch ? kLatch : 0) |
                 (line ? kLine : 0) | (msg_level ? kMsgLevel : 0) | (active ? kActive : 0));
}

void IrqState::set_flags(uint8_t f) {
  enabled = f & kEnabled;
  group1 = f & kGroup1;
  edge = f & kEdge;
  latch = f & kLatch;
  line = f & kLine;
  msg_level = f & kMsgLevel;
  active = f & kActive;
}

}  // namespace gicv3::snapshot
