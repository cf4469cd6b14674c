// GuestMemory (src/mem/guest_memory.hpp): the one bounds-checked path to guest RAM. Every address
// comes from the guest, so every access outside the mapped regions must fail cleanly.
#include "mem/guest_memory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace {

using gicv3::Errc;
using gicv3::GuestMemory;

class GuestMemoryTest : public ::testing::Test {
 protected:
  GuestMemoryTest() {
    for (size_t i = 0; i < ram.size(); ++i) ram[i] = uint8_t(i);
    for (size_t i = 0; i < ram2.size(); ++i) ram2[i] = uint8_t(0x80 + i);
  }
  GuestMemory mem;
  std::array<uint8_t, 0x1000> ram{};
  std::array<uint8_t, 0x1000> ram2{};
};

TEST_F(GuestMemoryTest, MapArgumentErrors) {
  EXPECT_EQ(mem.map(0x1000, 0x1000, nullptr).code(), Errc::invalid_argument);
  EXPECT_EQ(mem.map(0x1000, 0, ram.data()).code(), Errc::invalid_argument);
  const uint64_t top = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(mem.map(top - 0x10, 0x100, ram.data()).code(), Errc::invalid_argument);  // wraps
  EXPECT_EQ(mem.map(0x1000, top, ram.data()).code(), Errc::invalid_argument);
  for (const gicv3::Status& s : {mem.map(0x1000, 0, ram.data()), mem.map(0, 0x10, nullptr)})
    EXPECT_FALSE(s.message().empty());
  // Nothing was mapped by the failed calls.
  uint8_t b;
  EXPECT_FALSE(mem.read(0x1000, &b, 1));
}

TEST_F(GuestMemoryTest, OverlappingRegionsAreRejected) {
  ASSERT_TRUE(mem.map(0x10000, 0x1000, ram.data()).ok());
  const struct {
    uint64_t gpa, size;
  } overlaps[] = {{0x10000, 0x1000}, {0x10800, 0x1000}, {0xF800, 0x1000}, {0xF000, 0x3000}, {0x10FFF, 1}, {0x10100, 0x10}};
  for (const auto& o : overlaps) {
    const gicv3::Status s = mem.map(o.gpa, o.size, ram2.data());
    EXPECT_EQ(s.code(), Errc::exists) << std::hex << o.gpa << "+" << o.size;
    EXPECT_FALSE(s.message().empty());
  }
  // Adjacent regions on either side are fine.
  EXPECT_TRUE(mem.map(0x11000, 0x1000, ram2.data()).ok());
  EXPECT_TRUE(mem.map(0xF000, 0x1000, ram2.data()).ok());
}

TEST_F(GuestMemoryTest, Unmap) {
  ASSERT_TRUE(mem.map(0x10000, 0x1000, ram.data()).ok());
  EXPECT_EQ(mem.unmap(0x20000).code(), Errc::no_entry);
  EXPECT_EQ(mem.unmap(0x10800).code(), Errc::no_entry);  // only a region's start unmaps it
  uint8_t b = 0;
  EXPECT_TRUE(mem.read(0x10005, &b, 1));
  EXPECT_EQ(b, 5u);
  EXPECT_TRUE(mem.unmap(0x10000).ok());
  EXPECT_FALSE(mem.read(0x10005, &b, 1));
  EXPECT_EQ(mem.unmap(0x10000).code(), Errc::no_entry);
  // The range is free again.
  EXPECT_TRUE(mem.map(0x10800, 0x1000, ram2.data()).ok());
  EXPECT_TRUE(mem.read(0x10800, &b, 1));
  EXPECT_EQ(b, 0x80u);
}

TEST_F(GuestMemoryTest, ReadsAndWritesInsideARegion) {
  ASSERT_TRUE(mem.map(0x10000, 0x1000, ram.data()).ok());
  std::array<uint8_t, 16> buf{};
  ASSERT_TRUE(mem.read(0x10000, buf.data(), buf.size()));
  EXPECT_EQ(buf[0], 0u);
  EXPECT_EQ(buf[15], 15u);
  ASSERT_TRUE(mem.read(0x10FF0, buf.data(), 16));  // ends exactly at the region's end
  EXPECT_EQ(buf[15], 0xFFu);
  const uint8_t data[4] = {0xAA, 0xBB, 0xCC, 0xDD};
  ASSERT_TRUE(mem.write(0x10FFC, data, 4));
  EXPECT_EQ(std::memcmp(&ram[0xFFC], data, 4), 0);
  ASSERT_TRUE(mem.fill(0x10100, 0x5A, 0x20));
  EXPECT_EQ(ram[0xFF], 0xFFu);
  EXPECT_EQ(ram[0x100], 0x5Au);
  EXPECT_EQ(ram[0x11F], 0x5Au);
  EXPECT_EQ(ram[0x120], 0x20u);
}

TEST_F(GuestMemoryTest, AccessesOutsideOrAcrossEdgesFailWithoutSideEffects) {
  ASSERT_TRUE(mem.map(0x10000, 0x1000, ram.data()).ok());
  ASSERT_TRUE(mem.map(0x11000, 0x1000, ram2.data()).ok());  // adjacent: one range with the first
  const auto ram_before = ram;
  const auto ram2_before = ram2;
  std::array<uint8_t, 16> buf;
  buf.fill(0xEE);
  const uint8_t data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const struct {
    uint64_t gpa;
    size_t len;
  } bad[] = {
      {0xFFF8, 16},   // starts before the first region
      {0xFFFF, 1},    // just before
      {0x11FF8, 16},  // runs past the last region
      {0x12000, 1},   // just after
      {0x10000, std::numeric_limits<size_t>::max()},  // length overflow
      {std::numeric_limits<uint64_t>::max(), 1},
      {std::numeric_limits<uint64_t>::max() - 4, 16},
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(::testing::Message() << std::hex << b.gpa << " len " << b.len);
    const size_t n = std::min(b.len, buf.size());
    if (b.len <= buf.size()) {
      EXPECT_FALSE(mem.read(b.gpa, buf.data(), n));
      EXPECT_FALSE(mem.write(b.gpa, data, n));
    }
    EXPECT_FALSE(mem.fill(b.gpa, 0x77, b.len));
  }
  EXPECT_TRUE(ram == ram_before);
  EXPECT_TRUE(ram2 == ram2_before);
  for (uint8_t v : buf) EXPECT_EQ(v, 0xEEu);
  EXPECT_FALSE(mem.write_u64(0x11FFC, 0));
  EXPECT_TRUE(ram2 == ram2_before);
}

// A VMM may map its RAM as several regions (KVM memslots); a table may span two of them, and
// KVM's guest accesses cross memslot boundaries too. Only a gap makes an access fail.
TEST_F(GuestMemoryTest, AccessesAcrossAdjacentRegionsArePieced) {
  ASSERT_TRUE(mem.map(0x10000, 0x1000, ram.data()).ok());
  ASSERT_TRUE(mem.map(0x11000, 0x1000, ram2.data()).ok());
  uint8_t buf[16];
  ASSERT_TRUE(mem.read(0x10FF8, buf, sizeof buf));
  for (unsigned i = 0; i < 8; ++i) EXPECT_EQ(buf[i], uint8_t(0xF8 + i));
  for (unsigned i = 8; i < 16; ++i) EXPECT_EQ(buf[i], uint8_t(0x80 + i - 8));
  uint64_t v = 0;
  ASSERT_TRUE(mem.write_u64(0x10FFC, 0x1122334455667788ull));
  ASSERT_TRUE(mem.read_u64(0x10FFC, v));
  EXPECT_EQ(v, 0x1122334455667788ull);
  EXPECT_EQ(ram[0xFFC], 0x88u);
  EXPECT_EQ(ram2[3], 0x11u);
  ASSERT_TRUE(mem.fill(0x10FFE, 0x5A, 4));
  EXPECT_EQ(ram[0xFFF], 0x5Au);
  EXPECT_EQ(ram2[1], 0x5Au);
  EXPECT_TRUE(mem.is_ram(0x10000, 0x2000));
  EXPECT_FALSE(mem.is_ram(0x10000, 0x2001));
  // With a gap between regions: nothing is written, the read fails.
  std::array<uint8_t, 0x1000> ram3{};
  ASSERT_TRUE(mem.map(0x13000, 0x1000, ram3.data()).ok());
  const auto ram2_before = ram2;
  const uint8_t data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  EXPECT_FALSE(mem.write(0x11FF8, data, 16));
  EXPECT_FALSE(mem.read(0x11FF8, buf, 16));
  EXPECT_FALSE(mem.write(0x10FF8, data, 0x1010));  // adjacent, then past the second region
  EXPECT_TRUE(ram2 == ram2_before);
}

TEST_F(GuestMemoryTest, NoRegionsMapped) {
  uint8_t b;
  EXPECT_FALSE(mem.read(0, &b, 1));
  EXPECT_FALSE(mem.write(0x1000, &b, 1));
  uint64_t v;
  EXPECT_FALSE(mem.read_u64(0, v));
}

TEST_F(GuestMemoryTest, U64IsLittleEndian) {
  ASSERT_TRUE(mem.map(0x10000, 0x1000, ram.data()).ok());
  uint64_t v = 0;
  ASSERT_TRUE(mem.read_u64(0x10008, v));  // bytes 08 09 0A ... 0F
  EXPECT_EQ(v, 0x0F0E0D0C0B0A0908ull);
  ASSERT_TRUE(mem.read_u64(0x10003, v));  // unaligned is fine: it is a plain copy
  EXPECT_EQ(v, 0x0A09080706050403ull);
  ASSERT_TRUE(mem.write_u64(0x10100, 0x1122334455667788ull));
  const uint8_t expect[8] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
  EXPECT_EQ(std::memcmp(&ram[0x100], expect, 8), 0);
  ASSERT_TRUE(mem.read_u64(0x10FF8, v));  // the last doubleword of the region
  EXPECT_EQ(v, 0xFFFEFDFCFBFAF9F8ull);
}

}  // namespace
