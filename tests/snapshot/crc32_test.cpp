// The snapshot trailer's CRC-32 (docs/snapshot-format.md: IEEE 802.3, reflected polynomial
// 0xEDB88320, initial and final XOR 0xFFFFFFFF, as zlib's crc32) against its definition, computed
// here a bit at a time, for every length and alignment the eight-byte table steps, the 64- and
// 16-byte folding steps (x86-64 with PCLMULQDQ) and the tails can take.
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "snapshot/snapshot_format.hpp"

namespace {

using gicv3::snapshot::crc32;
using gicv3::snapshot::crc32_portable;

uint32_t crc32_bitwise(std::span<const uint8_t> d, uint32_t crc = 0) {
  crc = ~crc;
  for (uint8_t b : d) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

std::span<const uint8_t> bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST(SnapshotCrc32, CheckValueOfTheStandard) {
  // The catalogued check value of CRC-32/ISO-HDLC (zlib's crc32) over "123456789".
  EXPECT_EQ(crc32(bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32(bytes("")), 0u);
}

TEST(SnapshotCrc32, EveryLengthAndAlignmentMatchesTheDefinition) {
  std::vector<uint8_t> buf(300);
  uint32_t x = 0x12345678;
  for (uint8_t& b : buf) {
    x = x * 1103515245u + 12345u;
    b = uint8_t(x >> 16);
  }
  for (size_t off = 0; off < 8; ++off)
    for (size_t len = 0; off + len <= buf.size(); ++len) {
      const std::span<const uint8_t> s(buf.data() + off, len);
      const uint32_t want = crc32_bitwise(s);
      ASSERT_EQ(crc32(s), want) << "offset " << off << " length " << len;
      ASSERT_EQ(crc32_portable(s), want) << "offset " << off << " length " << len;
    }
}

TEST(SnapshotCrc32, ContinuesAnEarlierCrc) {
  const std::span<const uint8_t> all = bytes("The quick brown fox jumps over the lazy dog, twice over");
  for (size_t cut = 0; cut <= all.size(); ++cut)
    ASSERT_EQ(crc32(all.subspan(cut), crc32(all.first(cut))), crc32_bitwise(all)) << "cut at " << cut;
}

TEST(SnapshotCrc32, LongBufferSameOnEveryPath) {
  // A blob-sized buffer (many 64-byte folding steps), with a non-zero initial CRC.
  std::vector<uint8_t> buf(1 << 20);
  uint64_t x = 88172645463325252ull;
  for (uint8_t& b : buf) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b = uint8_t(x);
  }
  const std::span<const uint8_t> s(buf.data() + 3, buf.size() - 3 - 5);
  const uint32_t want = crc32_bitwise(s, 0xdeadbeef);
  EXPECT_EQ(crc32(s, 0xdeadbeef), want);
  EXPECT_EQ(crc32_portable(s, 0xdeadbeef), want);
}

}  // namespace
