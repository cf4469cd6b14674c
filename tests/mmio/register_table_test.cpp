// The one MMIO dispatcher (src/mmio/register_table.hpp), exercised with a fake frame: lookup,
// width/alignment checks, 32-bit halves of 64-bit registers, writable masks, write-only and
// read-only registers, and the units handed to per-IRQ array handlers.
#include "mmio/register_table.hpp"

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "core/trace.hpp"
#include "mmio/irq_registers.hpp"  // the table-building helpers reg() and irq_array()

namespace {

using namespace gicv3;
using namespace gicv3::mmio;

struct Fake {
  uint64_t a = 0xF0;                    // REG_A: writable 0x0F
  uint64_t r64 = 0;                     // REG_R64: fully writable 64-bit
  uint64_t m64 = 0;                     // REG_M64: 64-bit with a writable mask
  std::array<uint64_t, 4> arr{};        // REG_ARR: 4 plain 32-bit registers
  uint64_t wo = 0;                      // REG_WO: last value written
  std::optional<Access> last_read, last_write;
  uint64_t last_value = 0;
  int reads = 0, writes = 0;
  uint64_t array_read_value = ~0ull;  // what per-IRQ array reads return
};

uint64_t& slot(Fake& f, int which, const Access& a) {
  switch (which) {
    case 0: return f.a;
    case 1: return f.r64;
    case 2: return f.m64;
    default: return f.arr[a.index];
  }
}
template <int Which>
uint64_t rd(Fake& f, const Access& a) {
  ++f.reads;
  f.last_read = a;
  return slot(f, Which, a);
}
template <int Which>
void wr(Fake& f, const Access& a, uint64_t v) {
  ++f.writes;
  f.last_write = a;
  f.last_value = v;
  slot(f, Which, a) = v;
}
uint64_t rd_const(Fake& f, const Access& a) {
  ++f.reads;
  f.last_read = a;
  return 0x12345678;
}
void wr_only(Fake& f, const Access& a, uint64_t v) {
  ++f.writes;
  f.last_write = a;
  f.wo = v;
}
uint64_t rd_array(Fake& f, const Access& a) {
  ++f.reads;
  f.last_read = a;
  return f.array_read_value;
}
void wr_array(Fake& f, const Access& a, uint64_t v) {
  ++f.writes;
  f.last_write = a;
  f.last_value = v;
}

constexpr uint8_t W32 = Width::W32, W8_32 = Width::W8 | Width::W32, W32_64 = Width::W32 | Width::W64;
using D = RegisterDesc<Fake>;

// Offsets of the fake frame (gaps at 0x0C, 0x30..0xFF, ...).
constexpr uint32_t A = 0x0, RO = 0x4, WO = 0x8, R64 = 0x10, M64 = 0x18, ARR = 0x20, BITS = 0x100, CFG = 0x200,
                   PRIO = 0x400, ROUTE = 0x800, LAST = 0xFFF0;
constexpr uint64_t kM64Writable = 0x000000FF80FFFFFFull;  // IROUTER-like

constexpr auto kTable = std::to_array<D>({
    reg<Fake>("REG_A", A, 4, W32, 0xF0, 0x0F, rd<0>, wr<0>),
    reg<Fake>("REG_RO", RO, 4, W32, 0x12345678, 0, rd_const, nullptr),
    reg<Fake>("REG_WO", WO, 4, W32, 0, ~0ull, nullptr, wr_only),
    reg<Fake>("REG_R64", R64, 8, W32_64, 0, ~0ull, rd<1>, wr<1>),
    reg<Fake>("REG_M64", M64, 8, W32_64, 0, kM64Writable, rd<2>, wr<2>),
    reg<Fake>("REG_ARR", ARR, 4, W32, 0, ~0ull, rd<3>, wr<3>, 4),
    irq_array<Fake>("BITS", BITS, 64, 1, W32, 32, rd_array, wr_array),
    irq_array<Fake>("CFG", CFG, 64, 2, W32, 0, rd_array, wr_array),
    irq_array<Fake>("PRIO", PRIO, 32, 8, W8_32, 0, rd_array, wr_array),
    irq_array<Fake>("ROUTE", ROUTE, 4, 64, W32_64, 4096, rd_array, wr_array),
    reg<Fake>("REG_LAST", LAST, 4, W32, 0, 0, rd_const, nullptr),
});

struct Event {
  std::string kind, frame;
  unsigned cpu;
  uint64_t offset, value;
};

class Dispatcher : public ::testing::Test {
 protected:
  Dispatcher() {
    log.set_sink([this](const TraceEvent& e) { events.push_back({e.kind, e.frame, e.cpu, e.offset, e.value}); },
                 1000000);
  }
  uint64_t read(uint32_t off, unsigned size) { return dispatch_read<Fake>(kTable, f, off, size, ec); }
  void write(uint32_t off, unsigned size, uint64_t v) { dispatch_write<Fake>(kTable, f, off, size, v, ec); }
  uint64_t errors() const { return log.stats().guest_errors; }
  // Asserts that exactly one guest error of this kind was reported since the last call.
  void expect_one_error(const char* kind, uint32_t off, uint64_t value) {
    ASSERT_EQ(events.size(), 1u) << "expected one '" << kind << "' event";
    EXPECT_EQ(events[0].kind, kind);
    EXPECT_EQ(events[0].frame, "fake");
    EXPECT_EQ(events[0].cpu, 7u);
    EXPECT_EQ(events[0].offset, off);
    EXPECT_EQ(events[0].value, value);
    events.clear();
  }

  Fake f;
  TraceLog log;
  ErrorContext ec{log, "fake", 7};
  std::vector<Event> events;
};

std::span<const D> table() { return kTable; }

TEST(FindRegister, TableIsSortedAsTheDispatcherRequires) {
  for (size_t i = 1; i < kTable.size(); ++i) EXPECT_LE(kTable[i - 1].offset + kTable[i - 1].bytes, kTable[i].offset);
}

TEST(FindRegister, MatchesLinearSearchForEveryOffset) {
  for (uint32_t off = 0; off < 0x10000; ++off) {
    const D* expect = nullptr;
    for (const D& d : kTable)
      if (off >= d.offset && off < d.offset + d.bytes) expect = &d;
    ASSERT_EQ(find_register(table(), off), expect) << "offset 0x" << std::hex << off;
  }
}

TEST(FindRegister, FirstLastAndGaps) {
  EXPECT_STREQ(find_register(table(), 0)->name, "REG_A");
  EXPECT_STREQ(find_register(table(), 3)->name, "REG_A");
  EXPECT_STREQ(find_register(table(), 4)->name, "REG_RO");
  EXPECT_EQ(find_register(table(), 0x0C), nullptr);
  EXPECT_STREQ(find_register(table(), 0x1F)->name, "REG_M64");
  EXPECT_STREQ(find_register(table(), 0x2F)->name, "REG_ARR");
  EXPECT_EQ(find_register(table(), 0x30), nullptr);
  EXPECT_STREQ(find_register(table(), LAST)->name, "REG_LAST");
  EXPECT_STREQ(find_register(table(), LAST + 3)->name, "REG_LAST");
  EXPECT_EQ(find_register(table(), LAST + 4), nullptr);
  EXPECT_EQ(find_register(table(), 0xFFFFFFFFu), nullptr);
}

TEST(FindRegister, OffsetBeforeTheFirstEntryAndEmptyTable) {
  const std::span<const D> tail = table().subspan(3);  // starts at R64 = 0x10
  EXPECT_EQ(find_register(tail, 0), nullptr);
  EXPECT_EQ(find_register(tail, 0x0F), nullptr);
  EXPECT_STREQ(find_register(tail, 0x10)->name, "REG_R64");
  EXPECT_EQ(find_register(std::span<const D>{}, 0), nullptr);
  const std::span<const D> one = table().subspan(0, 1);
  EXPECT_STREQ(find_register(one, 0)->name, "REG_A");
  EXPECT_EQ(find_register(one, 4), nullptr);
}

TEST_F(Dispatcher, ReservedOffsetReadsZeroAndWritesAreIgnored) {
  EXPECT_EQ(read(0x0C, 4), 0u);
  expect_one_error("mmio-reserved", 0x0C, 0);
  write(0x30, 4, 0xABCD);
  expect_one_error("mmio-reserved", 0x30, 0xABCD);
  EXPECT_EQ(f.reads + f.writes, 0);
  EXPECT_EQ(errors(), 2u);
}

TEST_F(Dispatcher, DisallowedWidthsAreRazWi) {
  for (unsigned size : {1u, 2u, 8u}) {
    EXPECT_EQ(read(A, size), 0u) << size;
    expect_one_error("mmio-width", A, 0);
    write(A, size, 0xFF);
    expect_one_error("mmio-width", A, 0xFF);
  }
  // 8-bit accesses are fine on PRIO but 16-bit ones are not.
  EXPECT_EQ(read(PRIO, 2), 0u);
  expect_one_error("mmio-width", PRIO, 0);
  EXPECT_EQ(f.reads + f.writes, 0);
  EXPECT_EQ(f.a, 0xF0u);
}

TEST_F(Dispatcher, SizesThatAreNotAPowerOfTwoAreRejected) {
  // The width bit set must not be tested with a size that is not a single bit (3 & W8, 5 & W32...).
  for (unsigned size : {0u, 3u, 5u, 6u, 7u, 12u, 16u}) {
    EXPECT_EQ(read(PRIO, size), 0u) << size;
    EXPECT_EQ(read(ROUTE, size), 0u) << size;
    write(PRIO, size, ~0ull);
    write(A, size, ~0ull);
  }
  EXPECT_EQ(f.reads + f.writes, 0) << "a handler saw a malformed access";
  EXPECT_EQ(errors(), 7u * 4u);
  for (const Event& e : events) EXPECT_EQ(e.kind, "mmio-width");
}

TEST_F(Dispatcher, MisalignedAccessesAreRazWi) {
  EXPECT_EQ(read(A + 2, 4), 0u);
  expect_one_error("mmio-width", A + 2, 0);
  EXPECT_EQ(read(R64 + 4, 8), 0u);  // 4-aligned but not 8-aligned
  expect_one_error("mmio-width", R64 + 4, 0);
  write(R64 + 1, 4, 0x1);
  expect_one_error("mmio-width", R64 + 1, 0x1);
  write(PRIO + 1, 4, 0x1);
  expect_one_error("mmio-width", PRIO + 1, 0x1);
  EXPECT_EQ(f.reads + f.writes, 0);
  EXPECT_EQ(f.r64, 0u);
}

TEST_F(Dispatcher, ThirtyTwoBitHalvesOfA64BitRegister) {
  f.r64 = 0x1122334455667788ull;
  EXPECT_EQ(read(R64, 8), 0x1122334455667788ull);
  EXPECT_EQ(read(R64, 4), 0x55667788u);
  EXPECT_EQ(read(R64 + 4, 4), 0x11223344u);
  // The handler always sees the whole unit.
  ASSERT_TRUE(f.last_read);
  EXPECT_EQ(f.last_read->size, 8u);
  EXPECT_EQ(f.last_read->units, 1u);

  write(R64 + 4, 4, 0xAABBCCDD);
  EXPECT_EQ(f.r64, 0xAABBCCDD55667788ull);
  write(R64, 4, 0xFFFFFFFF00000001ull);  // bits above the access size are not part of it
  EXPECT_EQ(f.r64, 0xAABBCCDD00000001ull);
  EXPECT_EQ(f.last_write->size, 8u);
  write(R64, 8, 0x0102030405060708ull);
  EXPECT_EQ(f.r64, 0x0102030405060708ull);
  EXPECT_TRUE(events.empty());
}

TEST_F(Dispatcher, WritableMaskKeepsReadOnlyBits) {
  write(A, 4, 0xFFFFFFFF);
  EXPECT_EQ(f.a, 0xFFu);  // 0xF0 were read-only and set: kept; 0x0F written
  write(A, 4, 0);
  EXPECT_EQ(f.a, 0xF0u);
  f.a = 0x0;
  write(A, 4, 0xF5);
  EXPECT_EQ(f.a, 0x05u);  // read-only bits stay 0
  EXPECT_EQ(read(A, 4), 0x05u);
  EXPECT_TRUE(events.empty());
}

TEST_F(Dispatcher, WritableMaskOn32BitHalvesOfA64BitRegister) {
  f.m64 = 0x7F00000000000000ull;  // read-only bits set, must survive
  write(M64 + 4, 4, 0xFFFFFFFF);  // only bits [39:32] of the upper half are writable
  EXPECT_EQ(f.m64, 0x7F0000FF00000000ull);
  write(M64, 4, 0xFFFFFFFF);
  EXPECT_EQ(f.m64, 0x7F0000FF80FFFFFFull);
  write(M64, 8, 0);
  EXPECT_EQ(f.m64, 0x7F00000000000000ull);
}

TEST_F(Dispatcher, WriteOnlyRegisterReadsZeroAndIsCounted) {
  EXPECT_EQ(read(WO, 4), 0u);
  expect_one_error("mmio-write-only", WO, 0);
  EXPECT_EQ(f.reads, 0);
  write(WO, 4, 0xCAFE);
  EXPECT_EQ(f.wo, 0xCAFEu);
  EXPECT_TRUE(events.empty());
}

TEST_F(Dispatcher, ReadOnlyRegisterIgnoresWritesAndIsCounted) {
  EXPECT_EQ(read(RO, 4), 0x12345678u);
  write(RO, 4, 0xFFFF);
  expect_one_error("mmio-read-only", RO, 0xFFFF);
  EXPECT_EQ(f.writes, 0);
  EXPECT_EQ(errors(), 1u);
}

TEST_F(Dispatcher, PlainRegisterArrayIndex) {
  write(ARR + 8, 4, 0xAB);
  EXPECT_EQ(f.arr[2], 0xABu);
  EXPECT_EQ(f.last_write->index, 2u);
  EXPECT_EQ(read(ARR + 8, 4), 0xABu);
  EXPECT_EQ(read(ARR + 12, 4), 0u);
  EXPECT_EQ(f.last_read->index, 3u);
}

struct ArrayCase {
  const char* name;
  uint32_t off;
  unsigned size;
  uint32_t index, intid;
  unsigned units;
};

TEST_F(Dispatcher, PerIrqArraysGetFirstIntidAndUnitCount) {
  const ArrayCase cases[] = {
      {"1 bit, first word", BITS, 4, 0, 32, 32},
      {"1 bit, second word", BITS + 4, 4, 32, 64, 32},
      {"2 bits, first word", CFG, 4, 0, 0, 16},
      {"2 bits, fourth word", CFG + 12, 4, 48, 48, 16},
      {"8 bits, byte", PRIO + 5, 1, 5, 5, 1},
      {"8 bits, word", PRIO + 8, 4, 8, 8, 4},
      {"8 bits, last byte", PRIO + 31, 1, 31, 31, 1},
      {"64 bits, doubleword", ROUTE + 8, 8, 1, 4097, 1},
      {"64 bits, last", ROUTE + 24, 8, 3, 4099, 1},
  };
  for (const ArrayCase& c : cases) {
    SCOPED_TRACE(c.name);
    f.last_read.reset();
    f.last_write.reset();
    read(c.off, c.size);
    ASSERT_TRUE(f.last_read);
    EXPECT_EQ(f.last_read->index, c.index);
    EXPECT_EQ(f.last_read->intid, c.intid);
    EXPECT_EQ(f.last_read->units, c.units);
    EXPECT_EQ(f.last_read->size, c.size);
    write(c.off, c.size, 0x5A5A5A5A5A5A5A5Aull);
    ASSERT_TRUE(f.last_write);
    EXPECT_EQ(f.last_write->index, c.index);
    EXPECT_EQ(f.last_write->intid, c.intid);
    EXPECT_EQ(f.last_write->units, c.units);
    EXPECT_EQ(f.last_value, 0x5A5A5A5A5A5A5A5Aull & (c.size == 8 ? ~0ull : (1ull << (c.size * 8)) - 1));
  }
  EXPECT_TRUE(events.empty());
}

TEST_F(Dispatcher, ReadsAreTruncatedToTheAccessSize) {
  f.array_read_value = ~0ull;
  EXPECT_EQ(read(PRIO + 3, 1), 0xFFu);
  EXPECT_EQ(read(PRIO, 4), 0xFFFFFFFFu);
  EXPECT_EQ(read(BITS, 4), 0xFFFFFFFFu);
  EXPECT_EQ(read(ROUTE, 8), ~0ull);
}

TEST_F(Dispatcher, HalfOfA64BitPerIrqUnit) {
  f.array_read_value = 0x1111111122222222ull;
  EXPECT_EQ(read(ROUTE + 12, 4), 0x11111111u);
  EXPECT_EQ(f.last_read->index, 1u);
  EXPECT_EQ(f.last_read->intid, 4097u);
  EXPECT_EQ(f.last_read->units, 1u);
  EXPECT_EQ(f.last_read->size, 8u);
  EXPECT_EQ(read(ROUTE + 8, 4), 0x22222222u);

  // A 32-bit write is a read-modify-write of the whole unit: the other half is kept.
  write(ROUTE + 12, 4, 0xAAAAAAAA);
  EXPECT_EQ(f.last_value, 0xAAAAAAAA22222222ull);
  EXPECT_EQ(f.last_write->size, 8u);
  EXPECT_EQ(f.last_write->intid, 4097u);
  write(ROUTE + 8, 4, 0xBBBBBBBB);
  EXPECT_EQ(f.last_value, 0x11111111BBBBBBBBull);
}

TEST_F(Dispatcher, EveryMisuseIsCountedOnce) {
  read(0x0C, 4);     // reserved
  write(0x0C, 4, 1);
  read(A, 2);        // width
  write(A + 1, 1, 1);
  read(WO, 4);       // write-only
  write(RO, 4, 1);   // read-only
  write(LAST, 4, 1);
  read(A, 4);        // fine
  write(A, 4, 1);
  write(WO, 4, 1);
  EXPECT_EQ(errors(), 7u);
  EXPECT_EQ(events.size(), 7u);
}

}  // namespace
