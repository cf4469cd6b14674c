// Field / Bit / mask_of (src/core/bitfield.hpp): the one way register fields are read and written.
#include "core/bitfield.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using gicv3::Bit;
using gicv3::Field;
using gicv3::mask_of;

// Usable in constant expressions (register tables are constexpr).
static_assert(Field<4, 4>::make(0xA) == 0xA0);
static_assert(mask_of<Bit<0>, Bit<1>>() == 0x3);

TEST(Bitfield, ConstantsOfANarrowField) {
  using F = Field<8, 16>;
  EXPECT_EQ(F::lsb, 8u);
  EXPECT_EQ(F::width, 16u);
  EXPECT_EQ(F::max, 0xFFFFull);
  EXPECT_EQ(F::mask, 0xFFFF00ull);
}

TEST(Bitfield, GetExtractsOnlyTheField) {
  using F = Field<4, 4>;
  EXPECT_EQ(F::get(0x0000), 0u);
  EXPECT_EQ(F::get(0x00A0), 0xAu);
  EXPECT_EQ(F::get(0xFF5F), 0x5u);
  EXPECT_EQ(F::get(~0ull), 0xFu);
}

TEST(Bitfield, SetReplacesTheFieldAndKeepsOtherBits) {
  using F = Field<4, 4>;
  EXPECT_EQ(F::set(0xFFFF, 0x0), 0xFF0Full);
  EXPECT_EQ(F::set(0x0000, 0x5), 0x0050ull);
  EXPECT_EQ(F::set(0x1234, 0x9), 0x1294ull);
  // A value wider than the field is truncated to the field, never spilling into neighbours.
  EXPECT_EQ(F::set(0x0000, 0x1F), 0x00F0ull);
  EXPECT_EQ(F::set(0xF00F, 0xF0), 0xF00Full);
}

TEST(Bitfield, MakeTruncatesToTheWidth) {
  using F = Field<16, 8>;
  EXPECT_EQ(F::make(0x12), 0x120000ull);
  EXPECT_EQ(F::make(0x1FF), 0xFF0000ull);
  EXPECT_EQ(F::make(0x100), 0ull);
}

TEST(Bitfield, FitsTellsWhetherAValueIsRepresentable) {
  using F = Field<0, 5>;
  EXPECT_TRUE(F::fits(0));
  EXPECT_TRUE(F::fits(31));
  EXPECT_FALSE(F::fits(32));
  EXPECT_FALSE(F::fits(~0ull));
  EXPECT_TRUE(Bit<3>::fits(1));
  EXPECT_FALSE(Bit<3>::fits(2));
}

TEST(Bitfield, SingleBits) {
  EXPECT_EQ(Bit<0>::mask, 0x1ull);
  EXPECT_EQ(Bit<31>::mask, 0x80000000ull);
  EXPECT_EQ(Bit<5>::get(0x20), 1u);
  EXPECT_EQ(Bit<5>::get(~0x20ull), 0u);
  EXPECT_EQ(Bit<5>::set(0, 1), 0x20ull);
  EXPECT_EQ(Bit<5>::set(~0ull, 0), ~0x20ull);
  EXPECT_EQ(Bit<5>::make(3), 0x20ull);  // truncated to one bit
}

TEST(Bitfield, TopBitOfTheWord) {
  using F = Bit<63>;
  EXPECT_EQ(F::mask, 0x8000000000000000ull);
  EXPECT_EQ(F::get(0x8000000000000000ull), 1u);
  EXPECT_EQ(F::get(0x7FFFFFFFFFFFFFFFull), 0u);
  EXPECT_EQ(F::set(0, 1), 0x8000000000000000ull);
  EXPECT_EQ(F::set(~0ull, 0), 0x7FFFFFFFFFFFFFFFull);
}

TEST(Bitfield, UpperHalfField) {
  using F = Field<32, 32>;  // e.g. GICR_TYPER.Affinity
  EXPECT_EQ(F::max, 0xFFFFFFFFull);
  EXPECT_EQ(F::mask, 0xFFFFFFFF00000000ull);
  EXPECT_EQ(F::get(0x1234567800000000ull | 0xFFFFFFFF), 0x12345678u);
  EXPECT_EQ(F::make(0x1'0000'0001ull), 0x0000000100000000ull);
  EXPECT_EQ(F::set(0xAAAAAAAABBBBBBBBull, 0x11111111), 0x11111111BBBBBBBBull);
  EXPECT_TRUE(F::fits(0xFFFFFFFFull));
  EXPECT_FALSE(F::fits(0x100000000ull));
}

TEST(Bitfield, FullWidth64BitField) {
  // Width 64: max and mask must not be computed with an undefined 1 << 64.
  using F = Field<0, 64>;
  EXPECT_EQ(F::max, ~0ull);
  EXPECT_EQ(F::mask, ~0ull);
  EXPECT_EQ(F::get(0xDEADBEEFCAFEF00Dull), 0xDEADBEEFCAFEF00Dull);
  EXPECT_EQ(F::set(0x1234, 0xDEADBEEFCAFEF00Dull), 0xDEADBEEFCAFEF00Dull);
  EXPECT_EQ(F::make(~0ull), ~0ull);
  EXPECT_TRUE(F::fits(~0ull));
}

TEST(Bitfield, Width63Fields) {
  using Low = Field<0, 63>;
  using High = Field<1, 63>;
  EXPECT_EQ(Low::mask, 0x7FFFFFFFFFFFFFFFull);
  EXPECT_EQ(High::mask, 0xFFFFFFFFFFFFFFFEull);
  EXPECT_EQ(High::get(~0ull), 0x7FFFFFFFFFFFFFFFull);
  EXPECT_EQ(High::make(~0ull), 0xFFFFFFFFFFFFFFFEull);
  EXPECT_EQ(Low::set(~0ull, 0), 0x8000000000000000ull);
  EXPECT_FALSE(Low::fits(0x8000000000000000ull));
}

TEST(Bitfield, SetThenGetRoundTripsForEveryPosition) {
  // Sweep all lsb positions for a 7-bit field via a runtime-equivalent formula.
  auto check = [](auto field, uint64_t word, uint64_t v) {
    using F = decltype(field);
    const uint64_t w = F::set(word, v);
    EXPECT_EQ(F::get(w), v & F::max);
    EXPECT_EQ(w & ~F::mask, word & ~F::mask);
  };
  check(Field<0, 7>{}, 0x0123456789ABCDEFull, 0x55);
  check(Field<13, 7>{}, 0x0123456789ABCDEFull, 0x2A);
  check(Field<31, 7>{}, ~0ull, 0x00);
  check(Field<57, 7>{}, 0x0123456789ABCDEFull, 0x7F);
}

TEST(Bitfield, MaskOf) {
  EXPECT_EQ(mask_of<>(), 0ull);
  EXPECT_EQ((mask_of<Bit<0>, Bit<1>>()), 0x3ull);
  EXPECT_EQ((mask_of<Field<0, 8>, Field<8, 8>, Field<16, 8>, Field<32, 8>>()), 0x000000FF00FFFFFFull);
  // Overlapping fields: the union.
  EXPECT_EQ((mask_of<Field<0, 8>, Field<4, 8>>()), 0xFFFull);
  EXPECT_EQ((mask_of<Field<0, 64>, Bit<3>>()), ~0ull);
}

}  // namespace
