// The byte archives of the snapshot format (src/snapshot/snapshot_archive.hpp): every integer
// little-endian and of fixed width (docs/snapshot-format.md), whatever the buffer's growth; the
// Decoder reads back what the Encoder wrote and stops at the first field that does not fit.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "snapshot/snapshot_archive.hpp"

namespace {

using gicv3::snapshot::Decoder;
using gicv3::snapshot::Encoder;

TEST(SnapshotArchive, FieldsAreLittleEndianAndFixedWidth) {
  Encoder e;
  e.u8(0x12, "a");
  e.u16(0x3456, "b");
  e.u32(0x789abcdeu, "c");
  e.u64(0x0123456789abcdefull, "d");
  e.flag(true, "f");
  const std::vector<uint8_t> got = e.take();
  const std::vector<uint8_t> want = {0x12, 0x56, 0x34, 0xde, 0xbc, 0x9a, 0x78, 0xef, 0xcd,
                                     0xab, 0x89, 0x67, 0x45, 0x23, 0x01, 0x01};
  EXPECT_EQ(got, want);
}

TEST(SnapshotArchive, AnOutgrownExternalBufferMovesWhatWasWritten) {
  std::vector<uint8_t> external(10, 0);
  Encoder e{std::span<uint8_t>(external)};
  e.u64(0x1111111111111111ull, "a");
  EXPECT_TRUE(e.in_external());
  EXPECT_EQ(external[0], 0x11);
  e.u64(0x2222222222222222ull, "b");  // 16 bytes do not fit in 10
  EXPECT_FALSE(e.in_external());
  e.patch_u64(0, 0x0807060504030201ull);
  const std::vector<uint8_t> blob = e.take();
  const std::vector<uint8_t> want = {1, 2, 3, 4, 5, 6, 7, 8, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22};
  EXPECT_EQ(blob, want);
  EXPECT_EQ(external[0], 0x11) << "the external buffer is not written after it was outgrown";
}

TEST(SnapshotArchive, ABufferGrownFieldByFieldHoldsEveryField) {
  // No reserve(): the buffer grows many times while it is written, and patch_u64 writes back
  // into what was written first.
  Encoder e;
  e.u64(0, "placeholder");
  constexpr uint32_t kN = 300000;
  for (uint32_t i = 0; i < kN; ++i) {
    e.u32(i * 2654435761u, "x");
    e.u16(uint16_t(i), "y");
  }
  e.patch_u64(0, kN);
  const std::vector<uint8_t> blob = e.take();
  ASSERT_EQ(blob.size(), 8 + kN * 6u);
  Decoder d(blob, 0);
  uint64_t n = 0;
  d.u64(n, "n");
  ASSERT_EQ(n, kN);
  for (uint32_t i = 0; i < kN; ++i) {
    uint32_t x = 0;
    uint16_t y = 0;
    d.u32(x, "x");
    d.u16(y, "y");
    ASSERT_EQ(x, i * 2654435761u) << i;
    ASSERT_EQ(y, uint16_t(i)) << i;
  }
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE(d.at_end());
}

TEST(SnapshotArchive, ATruncatedFieldIsAnErrorAndLeavesTheValue) {
  const std::vector<uint8_t> blob = {1, 2, 3};
  Decoder d(blob, 100);
  d.set_where("T");
  uint16_t a = 0;
  uint32_t b = 7;
  d.u16(a, "a");
  d.u32(b, "b");
  EXPECT_EQ(a, 0x0201);
  EXPECT_EQ(b, 7u);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), "T.b at offset 102: truncated (needs 4 bytes, 1 left)");
}

}  // namespace
