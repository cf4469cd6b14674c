// The GICD frame through the public C API (IHI0069 12.9). The GIC has one Security state
// (GICD_CTLR.DS == 1) and affinity routing always enabled (GICD_CTLR.ARE == 1).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "support/guest.hpp"

using namespace test;

namespace {

vgic_config make_config(const std::function<void(vgic_config&)>& tweak = {}) {
  vgic_config c = Guest::config(1);
  if (tweak) tweak(c);
  return c;
}

// Offsets not in support/guest.hpp.
constexpr uint32_t ITARGETSR = 0x800, IGRPMODR = 0xD00, NSACR = 0xE00, SGIR = 0xF00, CPENDSGIR = 0xF10;
constexpr uint32_t SPENDSGIR = 0xF20, INMIR = 0xF80, IGRPMODRE = 0x3400, NSACRE = 0x3600, INMIRE = 0x3B00;
constexpr uint32_t SETSPI_SR = 0x50, CLRSPI_SR = 0x58, ID_BASE = 0xFFD0;

// GICD_IROUTER reads return the written affinity only when it names an implemented PE (otherwise
// CONSTRAINED UNPREDICTABLE; IHI0069, GICD_IROUTER<n>), so the routing tests give every affinity they write
// to a CPU. Aff0 > 15 needs range selectors (rss).
const std::vector<uint64_t> kRoutingMpidrs = {0x0,
                                              0x000000FF00FFFFFFull,
                                              0x0000000400030201ull,
                                              0x0000000000030201ull,
                                              0x0000000400000102ull,
                                              0x0000000100000203ull,
                                              0x0000000000000005ull,
                                              0x000000AA000D0B0Cull,
                                              0x00000001000D0B0Cull,
                                              0x1,
                                              0x2,
                                              0x102};
vgic_config routing_config(const std::function<void(vgic_config&)>& tweak = {}) {
  return make_config([&](vgic_config& c) {
    c.nr_cpus = unsigned(kRoutingMpidrs.size());
    c.mpidr = kRoutingMpidrs.data();
    c.rss = 1;
    if (tweak) tweak(c);
  });
}

uint64_t irouter(uint32_t intid) { return intid >= 4096 ? gicd::IROUTERE + (intid - 4096) * 8ull : gicd::IROUTER + intid * 8ull; }

// --- Reset values -------------------------------------------------------------------------------

TEST(GicdReset, ControlAndIdentification) {
  Guest g(make_config());
  EXPECT_EQ(g.gicd_read(gicd::CTLR), 0x50u);  // ARE (bit 4) and DS (bit 6) RAO, groups disabled
  EXPECT_EQ(g.gicd_read(gicd::IIDR) & 0xFFF, 0x43Bu);  // Implementer: Arm (JEP106 0x3B, bank 4)
  EXPECT_EQ(g.gicd_read(gicd::TYPER2), 0u);            // no virtual SGIs / vPE IDs
  EXPECT_EQ(g.gicd_read(gicd::STATUSR), 0u);
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(GicdReset, IidrComesFromTheConfiguration) {
  Guest g(make_config([](vgic_config& c) { c.gicd_iidr = 0x0102343B; }));
  EXPECT_EQ(g.gicd_read(gicd::IIDR), 0x0102343Bu);
}

TEST(GicdReset, IdentificationRegisters) {
  Guest g(make_config());
  auto id = [&](unsigned i) { return g.gicd_read(ID_BASE + 4 * i); };  // PIDR4..7, PIDR0..3, CIDR0..3
  EXPECT_EQ(id(6), 0x3Bu);            // PIDR2: ArchRev 3 (GICv3), JEDEC, JEP106 id[6:4] = 3
  EXPECT_EQ((id(6) >> 4) & 0xF, 3u);  // IHI0069, GICD_PIDR2.ArchRev
  EXPECT_EQ(id(5) >> 4, 0xBu);        // PIDR1.DES_0: JEP106 id[3:0] of Arm (0x3B)
  EXPECT_EQ(id(0) & 0xF, 0x4u);       // PIDR4.DES_2: JEP106 continuation code of Arm
  EXPECT_EQ(id(8), 0x0Du);            // CIDR0..3: the CoreSight component preamble
  EXPECT_EQ(id(9), 0xF0u);
  EXPECT_EQ(id(10), 0x05u);
  EXPECT_EQ(id(11), 0xB1u);
  for (unsigned i = 1; i <= 3; ++i) EXPECT_EQ(id(i), 0u) << "PIDR" << 4 + i;
}

TEST(GicdReset, PerInterruptRegistersAreZero) {
  // vgic's documented reset for SPIs: group 0, disabled, inactive, not pending, priority 0,
  // level-sensitive, routed to affinity 0.0.0.0 (architecturally UNKNOWN for several of these).
  Guest g(make_config([](vgic_config& c) { c.nr_espis = 64; }));
  struct Range {
    uint32_t off, bytes;
  };
  const Range ranges[] = {{gicd::IGROUPR, 0x80},    {gicd::ISENABLER, 0x80},   {gicd::ICENABLER, 0x80},
                          {gicd::ISPENDR, 0x80},    {gicd::ICPENDR, 0x80},     {gicd::ISACTIVER, 0x80},
                          {gicd::ICACTIVER, 0x80},  {gicd::IPRIORITYR, 0x3FC}, {gicd::ICFGR, 0x100},
                          {gicd::IGROUPRE, 0x80},   {gicd::ISENABLERE, 0x80},  {gicd::ISPENDRE, 0x80},
                          {gicd::ISACTIVERE, 0x80}, {gicd::IPRIORITYRE, 0x400}, {gicd::ICFGRE, 0x100},
                          {gicd::IROUTER + 0x100, 0x1EE0}, {gicd::IROUTERE, 0x2000}, {ITARGETSR, 0x3FC}};
  for (const Range& r : ranges)
    for (uint32_t o = r.off; o < r.off + r.bytes; o += 4) ASSERT_EQ(g.gicd_read(o), 0u) << std::hex << "0x" << o;
  EXPECT_EQ(g.guest_errors(), 0u);
}

// --- GICD_TYPER ---------------------------------------------------------------------------------

struct TyperCase {
  unsigned nr_spis, nr_espis;
  int mbis, no1n, rss;
};

class GicdTyper : public ::testing::TestWithParam<TyperCase> {};

TEST_P(GicdTyper, FieldsReflectTheConfiguration) {
  const TyperCase p = GetParam();
  Guest g(make_config([&](vgic_config& c) {
    c.nr_spis = p.nr_spis;
    c.nr_espis = p.nr_espis;
    c.mbis = p.mbis;
    c.no1n = p.no1n;
    c.rss = p.rss;
  }));
  const uint64_t t = g.gicd_read(gicd::TYPER);
  // ITLinesNumber = N: the highest SPI INTID is 32(N+1)-1 (IHI0069, GICD_TYPER).
  EXPECT_EQ(t & 0x1F, p.nr_spis / 32);
  EXPECT_EQ((t >> 8) & 1, p.nr_espis ? 1u : 0u);  // ESPI
  if (p.nr_espis) {
    EXPECT_EQ(t >> 27, p.nr_espis / 32 - 1);  // ESPI_range: max eSPI = 4096 + 32(N+1) - 1
  }
  EXPECT_EQ((t >> 9) & 1, 0u);                    // NMI: not supported
  EXPECT_EQ((t >> 10) & 1, 0u);                   // SecurityExtn: one Security state
  EXPECT_EQ((t >> 16) & 1, unsigned(p.mbis));     // MBIS
  EXPECT_EQ((t >> 18) & 1, 0u);                   // DVIS: no direct vLPI injection (GICv4)
  EXPECT_EQ((t >> 24) & 1, 1u);                   // A3V: Aff3 supported
  EXPECT_EQ((t >> 25) & 1, unsigned(p.no1n));     // No1N
  EXPECT_EQ((t >> 26) & 1, unsigned(p.rss));      // RSS
  EXPECT_EQ(g.guest_errors(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Configs, GicdTyper,
                         ::testing::Values(TyperCase{0, 0, 1, 0, 0}, TyperCase{256, 0, 1, 0, 0},
                                           TyperCase{960, 32, 0, 1, 1}, TyperCase{32, 1024, 1, 0, 1},
                                           TyperCase{64, 96, 0, 0, 0}));

// --- GICD_CTLR ----------------------------------------------------------------------------------

TEST(GicdCtlr, OnlyTheGroupEnablesAreWritable) {
  Guest g(make_config());
  g.gicd_write(gicd::CTLR, 0);
  EXPECT_EQ(g.gicd_read(gicd::CTLR), 0x50u);  // ARE and DS cannot be cleared
  g.gicd_write(gicd::CTLR, 0x1);
  EXPECT_EQ(g.gicd_read(gicd::CTLR), 0x51u);  // EnableGrp0
  g.gicd_write(gicd::CTLR, 0x2);
  EXPECT_EQ(g.gicd_read(gicd::CTLR), 0x52u);  // EnableGrp1
  // All ones: E1NWF (bit 7) is RAZ/WI without 1-of-N wakeup; RWP (bit 31) reads 0 because writes
  // take effect at once (IHI0069, GICD_CTLR).
  g.gicd_write(gicd::CTLR, 0xFFFFFFFF);
  EXPECT_EQ(g.gicd_read(gicd::CTLR), 0x53u);
  EXPECT_EQ(g.guest_errors(), 0u);
  g.gicd_write(gicd::CTLR, 0x3, 1);  // GICD_CTLR is word-accessible only: RAZ/WI
  EXPECT_EQ(g.gicd_read(gicd::CTLR, 1), 0u);
  EXPECT_EQ(g.guest_errors(), 2u);
  g.gicd_write(gicd::CTLR, 0);
  EXPECT_EQ(g.gicd_read(gicd::CTLR), 0x50u);
}

TEST(GicdReadOnly, WritesAreIgnoredAndCounted) {
  Guest g(make_config());
  const uint32_t offs[] = {gicd::TYPER, gicd::IIDR, gicd::TYPER2, gicd::PIDR2, ID_BASE, 0xFFFC};
  for (uint32_t off : offs) {
    const uint64_t before = g.gicd_read(off);
    const uint64_t errors = g.guest_errors();
    g.gicd_write(off, ~before & 0xFFFFFFFF);
    EXPECT_EQ(g.gicd_read(off), before) << std::hex << off;
    EXPECT_EQ(g.guest_errors(), errors + 1) << std::hex << off;
  }
  EXPECT_EQ(g.gicd_read(gicd::PIDR2), 0x3Bu);
}

// --- One-bit-per-interrupt registers ------------------------------------------------------------

// Write-1-to-set / write-1-to-clear pair (IHI0069, GICD_IS/ICENABLER, IS/ICPENDR, IS/ICACTIVER). word: register index.
void check_set_clear(Guest& g, uint32_t set, uint32_t clr, uint32_t word, bool implemented) {
  SCOPED_TRACE(::testing::Message() << std::hex << "set 0x" << set << " clr 0x" << clr << " word " << word);
  const uint32_t s = set + 4 * word, c = clr + 4 * word;
  const uint64_t on = implemented ? 0xF00Fu : 0u;
  g.gicd_write(s, 0xF00F);
  EXPECT_EQ(g.gicd_read(s), on);
  EXPECT_EQ(g.gicd_read(c), on);  // both registers read the same state
  g.gicd_write(s, 0);             // writing 0 has no effect
  g.gicd_write(c, 0);
  EXPECT_EQ(g.gicd_read(s), on);
  g.gicd_write(c, 0x3);
  EXPECT_EQ(g.gicd_read(s), implemented ? 0xF00Cu : 0u);
  g.gicd_write(s, 0xFFFFFFFF);
  EXPECT_EQ(g.gicd_read(c), implemented ? 0xFFFFFFFFu : 0u);
  g.gicd_write(c, 0xFFFFFFFF);
  EXPECT_EQ(g.gicd_read(s), 0u);
}

// A plain read/write bit per interrupt (IGROUPR).
void check_rw_bits(Guest& g, uint32_t base, uint32_t word, bool implemented) {
  const uint32_t off = base + 4 * word;
  for (uint32_t v : {0xA5A5A5A5u, 0x5A5A5A5Au, 0xFFFFFFFFu, 0u}) {
    g.gicd_write(off, v);
    EXPECT_EQ(g.gicd_read(off), implemented ? v : 0u) << std::hex << "0x" << off;
  }
}

struct Pair {
  uint32_t set, clr;
};
const Pair kPairs[] = {{gicd::ISENABLER, gicd::ICENABLER}, {gicd::ISPENDR, gicd::ICPENDR},
                       {gicd::ISACTIVER, gicd::ICACTIVER}};
const Pair kPairsE[] = {{gicd::ISENABLERE, gicd::ICENABLERE}, {gicd::ISPENDRE, gicd::ICPENDRE},
                        {gicd::ISACTIVERE, gicd::ICACTIVERE}};

TEST(GicdBits, SetClearSemanticsForSpis) {
  Guest g(make_config([](vgic_config& c) { c.nr_spis = 64; }));  // SPIs 32..95
  for (const Pair& p : kPairs) {
    check_set_clear(g, p.set, p.clr, 0, false);   // SGIs/PPIs live in the GICR with ARE == 1
    check_set_clear(g, p.set, p.clr, 1, true);
    check_set_clear(g, p.set, p.clr, 2, true);
    check_set_clear(g, p.set, p.clr, 3, false);   // unimplemented SPIs are RAZ/WI
    check_set_clear(g, p.set, p.clr, 31, false);
  }
  for (uint32_t w : {0u, 3u, 31u}) check_rw_bits(g, gicd::IGROUPR, w, false);
  for (uint32_t w : {1u, 2u}) check_rw_bits(g, gicd::IGROUPR, w, true);
  EXPECT_EQ(g.guest_errors(), 0u);  // RAZ/WI bits are architectural, not misuse
}

TEST(GicdBits, ExtendedSpiRegisters) {
  Guest g(make_config([](vgic_config& c) { c.nr_espis = 64; }));  // 4096..4159
  for (const Pair& p : kPairsE) {
    check_set_clear(g, p.set, p.clr, 0, true);
    check_set_clear(g, p.set, p.clr, 1, true);
    check_set_clear(g, p.set, p.clr, 2, false);
    check_set_clear(g, p.set, p.clr, 31, false);
  }
  check_rw_bits(g, gicd::IGROUPRE, 1, true);
  check_rw_bits(g, gicd::IGROUPRE, 2, false);
  // The register bit maps to the right INTID: raise eSPI 4100's line.
  g.line(4100, true);
  EXPECT_EQ(g.gicd_read(gicd::ISPENDRE), 1u << 4);
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(GicdBits, ExtendedSpiRegistersAreRazWiWithoutExtendedSpis) {
  Guest g(make_config());  // nr_espis = 0: GICD_TYPER.ESPI == 0, the E registers are RES0
  for (const Pair& p : kPairsE) check_set_clear(g, p.set, p.clr, 0, false);
  check_rw_bits(g, gicd::IGROUPRE, 0, false);
  g.gicd_write(gicd::IPRIORITYRE, 0xFFFFFFFF);
  EXPECT_EQ(g.gicd_read(gicd::IPRIORITYRE), 0u);
  g.gicd_write(gicd::ICFGRE, 0xFFFFFFFF);
  EXPECT_EQ(g.gicd_read(gicd::ICFGRE), 0u);
  g.gicd_write(gicd::IROUTERE, ~0ull, 8);
  EXPECT_EQ(g.gicd_read(gicd::IROUTERE, 8), 0u);
  EXPECT_EQ(g.guest_errors(), 0u);
}

// --- GICD_IPRIORITYR ----------------------------------------------------------------------------

class GicdPriority : public ::testing::TestWithParam<unsigned> {};

TEST_P(GicdPriority, ByteAndWordAccessKeepOnlyImplementedBits) {
  const unsigned bits = GetParam();
  Guest g(make_config([&](vgic_config& c) {
    c.priority_bits = bits;
    c.nr_spis = 64;
    c.nr_espis = 32;
  }));
  // Unimplemented low-order priority bits are RAZ/WI (IHI0069, GICD_IPRIORITYR<n> and 4.8).
  const uint32_t m = uint8_t(0xFF << (8 - bits));
  const uint32_t m4 = m * 0x01010101u;
  for (uint32_t base : {uint32_t(gicd::IPRIORITYR + 32), uint32_t(gicd::IPRIORITYRE)}) {
    SCOPED_TRACE(::testing::Message() << std::hex << "0x" << base);
    g.gicd_write(base, 0xFFFFFFFF);
    EXPECT_EQ(g.gicd_read(base), m4);
    g.gicd_write(base, 0x12345678);
    EXPECT_EQ(g.gicd_read(base), 0x12345678u & m4);
    g.gicd_write(base, 0);
    g.gicd_write(base + 1, 0xFF, 1);  // one byte: its neighbours are untouched
    EXPECT_EQ(g.gicd_read(base), m << 8);
    g.gicd_write(base + 3, 0x9C, 1);
    EXPECT_EQ(g.gicd_read(base + 3, 1), 0x9Cu & m);
    EXPECT_EQ(g.gicd_read(base + 1, 1), m);
    EXPECT_EQ(g.gicd_read(base), (m << 8) | ((0x9Cu & m) << 24));
  }
  EXPECT_EQ(g.guest_errors(), 0u);
  // INTIDs 0..31 (banked in the GICR) and unimplemented SPIs: RAZ/WI.
  for (uint32_t off : {uint32_t(gicd::IPRIORITYR), uint32_t(gicd::IPRIORITYR + 28), uint32_t(gicd::IPRIORITYR + 96),
                       uint32_t(gicd::IPRIORITYRE + 32)}) {
    g.gicd_write(off, 0xFFFFFFFF);
    g.gicd_write(off + 2, 0xFF, 1);
    EXPECT_EQ(g.gicd_read(off), 0u) << std::hex << off;
  }
  EXPECT_EQ(g.guest_errors(), 0u);
  g.gicd_write(gicd::IPRIORITYR + 32, 0xFFFF, 2);  // halfword: not a supported width
  EXPECT_EQ(g.gicd_read(gicd::IPRIORITYR + 32, 2), 0u);
  EXPECT_EQ(g.gicd_read(gicd::IPRIORITYR + 32), (0x9Cu & m) << 24 | m << 8);
  EXPECT_EQ(g.guest_errors(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Bits, GicdPriority, ::testing::Values(5u, 6u, 7u, 8u));

// --- GICD_ICFGR ---------------------------------------------------------------------------------

TEST(GicdIcfgr, OnlyTheOddBitsAreWritable) {
  Guest g(make_config([](vgic_config& c) { c.nr_spis = 64; c.nr_espis = 32; }));
  // Int_config<x>[0] (bit 2x) is RES0 in GICv3; bit 2x+1 is 1 for edge-triggered (IHI0069, GICD_ICFGR<n>).
  for (uint32_t off : {gicd::ICFGR + 8, gicd::ICFGR + 20, gicd::ICFGRE, gicd::ICFGRE + 4}) {
    g.gicd_write(off, 0xFFFFFFFF);
    EXPECT_EQ(g.gicd_read(off), 0xAAAAAAAAu) << std::hex << off;
    g.gicd_write(off, 0x55555555);
    EXPECT_EQ(g.gicd_read(off), 0u);
    g.gicd_write(off, 0x8000000A);
    EXPECT_EQ(g.gicd_read(off), 0x8000000Au);
  }
  // SGIs/PPIs (ICFGR0/1) and unimplemented interrupts: RAZ/WI.
  for (uint32_t off : {gicd::ICFGR, gicd::ICFGR + 4, gicd::ICFGR + 24, gicd::ICFGRE + 8}) {
    g.gicd_write(off, 0xFFFFFFFF);
    EXPECT_EQ(g.gicd_read(off), 0u) << std::hex << off;
  }
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(GicdIcfgr, EdgeBitSelectsTheTrigger) {
  Guest g(make_config());
  g.set_edge(40, true);
  EXPECT_EQ(g.gicd_read(gicd::ICFGR + 8) >> 17 & 1, 1u);  // INTID 40: field 8 of ICFGR2
  // Edge: the rising edge latches pending; lowering the line does not clear it (IHI0069 4.1, the interrupt life cycle).
  g.line(40, true);
  EXPECT_TRUE(g.is_pending(40));
  g.line(40, false);
  EXPECT_TRUE(g.is_pending(40));
  g.clear_pending(40);
  EXPECT_FALSE(g.is_pending(40));
  // Level: pending exactly while the line is high.
  g.line(41, true);
  EXPECT_TRUE(g.is_pending(41));
  g.line(41, false);
  EXPECT_FALSE(g.is_pending(41));
  // A software set-pending of a level interrupt holds until cleared.
  g.set_pending(41);
  EXPECT_TRUE(g.is_pending(41));
  g.clear_pending(41);
  EXPECT_FALSE(g.is_pending(41));
}

// --- GICD_IROUTER -------------------------------------------------------------------------------

TEST(GicdIrouter, SixtyFourBitAndHalves) {
  Guest g(routing_config());  // SPIs 32..287
  const uint32_t r = uint32_t(irouter(40));
  // Writable: Aff3 [39:32], IRM [31], Aff2..Aff0 [23:0]; the rest is RES0 (IHI0069, GICD_IROUTER<n>).
  // With IRM == 1 the Aff fields read UNKNOWN, so only IRM and the RES0 bits are checked then.
  g.gicd_write(r, ~0ull, 8);
  EXPECT_EQ(g.gicd_read(r, 8) & ~0x000000FF00FFFFFFull, 0x80000000u);
  g.gicd_write(r, 0xFFFFFFFF7FFFFFFFull, 8);
  EXPECT_EQ(g.gicd_read(r, 8), 0x000000FF00FFFFFFull);
  g.gicd_write(r, 0, 8);
  g.gicd_write(r, 0x7F030201, 4);
  EXPECT_EQ(g.gicd_read(r, 8), 0x00030201ull);
  g.gicd_write(r + 4, 0xFFFFFF04, 4);  // high half; low half kept
  EXPECT_EQ(g.gicd_read(r, 8), 0x0000000400030201ull);
  EXPECT_EQ(g.gicd_read(r, 4), 0x00030201u);
  EXPECT_EQ(g.gicd_read(r + 4, 4), 0x04u);
  g.gicd_write(r, 0x00000102, 4);  // low half; high half kept
  EXPECT_EQ(g.gicd_read(r, 8), 0x0000000400000102ull);
  EXPECT_EQ(g.gicd_read(uint32_t(irouter(39)), 8), 0u);  // neighbours untouched
  EXPECT_EQ(g.gicd_read(uint32_t(irouter(41)), 8), 0u);
  // First and last implemented SPI; the next one is RAZ/WI.
  g.gicd_write(uint32_t(irouter(32)), 0x0000000100000203ull, 8);
  EXPECT_EQ(g.gicd_read(uint32_t(irouter(32)), 8), 0x0000000100000203ull);
  g.gicd_write(uint32_t(irouter(287)), 0x5, 8);
  EXPECT_EQ(g.gicd_read(uint32_t(irouter(287)), 8), 0x5u);
  g.gicd_write(uint32_t(irouter(288)), 0x5, 8);
  EXPECT_EQ(g.gicd_read(uint32_t(irouter(288)), 8), 0u);
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(GicdIrouter, BadAccessesAndReservedSlots) {
  Guest g(routing_config());
  const uint32_t r = uint32_t(irouter(40));
  g.gicd_write(r, 0x0102, 8);
  g.gicd_write(r, 0xFF, 1);      // byte: RAZ/WI
  g.gicd_write(r + 4, 0xFF, 8);  // misaligned doubleword
  g.gicd_write(r + 2, 0xFF, 4);  // misaligned word
  EXPECT_EQ(g.gicd_read(r, 2), 0u);
  EXPECT_EQ(g.gicd_read(r, 8), 0x0102u);
  EXPECT_EQ(g.guest_errors(), 4u);
  // GICD_IROUTER<n> for n < 32 and n >= 1020 are reserved (IHI0069 Table 12-25): RAZ/WI, counted.
  for (uint32_t off : {uint32_t(gicd::IROUTER), uint32_t(irouter(31)), uint32_t(irouter(1020)), uint32_t(irouter(1023))}) {
    g.gicd_write(off, ~0ull, 8);
    EXPECT_EQ(g.gicd_read(off, 8), 0u) << std::hex << off;
  }
  EXPECT_EQ(g.guest_errors(), 4u + 8u);
}

// IHI0069, GICD_IROUTER<n>: with GICD_TYPER.No1N == 1, setting IRM is CONSTRAINED UNPREDICTABLE; vgic takes
// the RAZ/WI option (and so IRM = 1 routing never happens).
TEST(GicdIrouter, IrmIsRazWiWithoutOneOfN) {
  Guest g(routing_config([](vgic_config& c) { c.no1n = 1; }));
  const uint32_t r = uint32_t(irouter(33));
  g.gicd_write(r, 0x80000001, 8);
  EXPECT_EQ(g.gicd_read(r, 8), 0x1u);
  g.gicd_write(r, 0x80000002, 4);
  EXPECT_EQ(g.gicd_read(r, 4), 0x2u);
}

TEST(GicdIrouter, ExtendedSpiRouting) {
  Guest g(routing_config([](vgic_config& c) { c.nr_espis = 64; }));
  for (uint32_t intid : {4096u, 4159u}) {
    g.gicd_write(uint32_t(irouter(intid)), 0x000000AA000D0B0Cull, 8);
    EXPECT_EQ(g.gicd_read(uint32_t(irouter(intid)), 8), 0x000000AA000D0B0Cull);
    g.gicd_write(uint32_t(irouter(intid)) + 4, 0x1, 4);
    EXPECT_EQ(g.gicd_read(uint32_t(irouter(intid)), 8), 0x00000001000D0B0Cull);
  }
  g.gicd_write(uint32_t(irouter(4160)), 0x1, 8);
  EXPECT_EQ(g.gicd_read(uint32_t(irouter(4160)), 8), 0u);
  EXPECT_EQ(g.guest_errors(), 0u);
}

// --- Message-based SPIs -------------------------------------------------------------------------

TEST(GicdSetSpi, LevelSpiIsAssertedUntilClrSpi) {
  Guest g(make_config());
  // IHI0069, GICD_SETSPI_NSR / GICD_CLRSPI_NSR: SETSPI asserts a level-sensitive SPI, CLRSPI de-asserts it.
  g.gicd_write(gicd::SETSPI_NSR, 40);
  EXPECT_TRUE(g.is_pending(40));
  EXPECT_TRUE(g.is_pending(40));  // reading does not consume it
  g.gicd_write(gicd::CLRSPI_NSR, 40);
  EXPECT_FALSE(g.is_pending(40));
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(GicdSetSpi, ClrSpiClearsAnEdgeSpiAndAnIspendrLatch) {
  // IHI0069, GICD_CLRSPI_NSR: a write changes a pending SPI to inactive, edge-triggered or not.
  Guest g(make_config());
  g.set_edge(41, true);
  g.gicd_write(gicd::SETSPI_NSR, 41);
  EXPECT_TRUE(g.is_pending(41));
  g.gicd_write(gicd::CLRSPI_NSR, 41);
  EXPECT_FALSE(g.is_pending(41));
  g.set_pending(40);  // level SPI, latched by ISPENDR
  g.gicd_write(gicd::CLRSPI_NSR, 40);
  EXPECT_FALSE(g.is_pending(40));
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(GicdSetSpi, SixteenBitWritesCarryTheIntid) {
  // IHI0069 GICD_SETSPI_NSR / GICD_CLRSPI_NSR (and the _SR forms): "16-bit accesses to bits [15:0]
  // of this register must be supported". The _SR forms are WI with DS == 1, errors or not.
  Guest g(make_config());
  g.gicd_write(gicd::SETSPI_NSR, 40, 2);
  EXPECT_TRUE(g.is_pending(40));
  g.gicd_write(gicd::CLRSPI_NSR, 40, 2);
  EXPECT_FALSE(g.is_pending(40));
  g.gicd_write(gicd::SETSPI_NSR + 0x10, 40, 2);  // GICD_SETSPI_SR
  EXPECT_FALSE(g.is_pending(40));
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(GicdSetSpi, ExtendedSpisAndInvalidIntids) {
  Guest g(make_config([](vgic_config& c) { c.nr_spis = 32; c.nr_espis = 32; }));
  g.gicd_write(gicd::SETSPI_NSR, 4100);  // INTID field is 13 bits: reaches the eSPI range
  EXPECT_TRUE(g.is_pending(4100));
  g.gicd_write(gicd::CLRSPI_NSR, 4100);
  EXPECT_FALSE(g.is_pending(4100));
  // INTIDs that are no implemented SPI: the write has no effect.
  for (uint32_t bad : {5u, 27u, 64u, 1020u, 4128u}) g.gicd_write(gicd::SETSPI_NSR, bad);
  for (uint32_t w = 0; w < 32; ++w) EXPECT_EQ(g.gicd_read(gicd::ISPENDR + 4 * w), 0u);
  EXPECT_EQ(g.gicd_read(gicd::ISPENDRE), 0u);
  EXPECT_EQ(g.gicd_read(gicd::ISPENDRE + 4), 0u);
  EXPECT_EQ(g.gicr_read(0, gicr::ISPENDR0), 0u);
}

TEST(GicdSetSpi, WriteOnlyRegistersReadZeroAndAreCounted) {
  Guest g(make_config());
  g.gicd_write(gicd::SETSPI_NSR, 40);
  EXPECT_EQ(g.gicd_read(gicd::SETSPI_NSR), 0u);
  EXPECT_EQ(g.gicd_read(gicd::CLRSPI_NSR), 0u);
  EXPECT_EQ(g.guest_errors(), 2u);
}

TEST(GicdSetSpi, WithoutMbisTheWritesAreIgnoredAndCounted) {
  Guest g(make_config([](vgic_config& c) { c.mbis = 0; }));
  g.gicd_write(gicd::SETSPI_NSR, 40);
  EXPECT_FALSE(g.is_pending(40));
  EXPECT_EQ(g.guest_errors(), 1u);
  g.set_pending(40);
  g.gicd_write(gicd::CLRSPI_NSR, 40);  // ignored: the pending state is unchanged
  EXPECT_TRUE(g.is_pending(40));
  EXPECT_EQ(g.guest_errors(), 2u);
  EXPECT_EQ(g.gicd_read(gicd::TYPER) >> 16 & 1, 0u);
}

// --- Registers that are RAZ/WI by the architecture in this configuration ------------------------

TEST(GicdRazWi, ArchitecturalRazWiIsNotAGuestError) {
  Guest g(make_config());
  struct R {
    const char* name;
    uint32_t off, bytes;
    bool byte_access;
  };
  const R regs[] = {
      {"ITARGETSR (affinity routing)", ITARGETSR, 0x3FC, true}, {"IGRPMODR (DS == 1)", IGRPMODR, 0x80, false},
      {"NSACR (DS == 1)", NSACR, 0x100, false},                 {"SGIR (affinity routing)", SGIR, 4, false},
      {"CPENDSGIR", CPENDSGIR, 0x10, true},                     {"SPENDSGIR", SPENDSGIR, 0x10, true},
      {"INMIR (no NMI)", INMIR, 0x80, false},                   {"STATUSR", gicd::STATUSR, 4, false},
      {"SETSPI_SR (DS == 1)", SETSPI_SR, 4, false},             {"CLRSPI_SR (DS == 1)", CLRSPI_SR, 4, false},
      {"IGRPMODRE", IGRPMODRE, 0x80, false},                    {"NSACRE", NSACRE, 0x100, false},
      {"INMIRE", INMIRE, 0x80, false},
  };
  for (const R& r : regs) {
    SCOPED_TRACE(r.name);
    for (uint32_t o = r.off; o < r.off + r.bytes; o += 4) {
      g.gicd_write(o, 0xFFFFFFFF);
      if (r.byte_access) g.gicd_write(o + 3, 0xFF, 1);
      ASSERT_EQ(g.gicd_read(o), 0u) << std::hex << o;
      if (r.byte_access) {
        ASSERT_EQ(g.gicd_read(o + 3, 1), 0u);
      }
    }
  }
  EXPECT_EQ(g.guest_errors(), 0u);
  // SGIR must not have generated an SGI.
  EXPECT_EQ(g.gicr_read(0, gicr::ISPENDR0), 0u);
}

}  // namespace

// GICD_TYPER.ITLinesNumber = 31 announces INTIDs up to 1023, of which 1020..1023 are special
// (IHI0069 2.2): SPI 1019 is the last one.
TEST(GicdTyper, MaximumSpiRangeEndsAt1019) {
  Guest g(make_config([](vgic_config& c) { c.nr_spis = 992; }));
  EXPECT_EQ(g.gicd_read(gicd::TYPER) & 0x1F, 31u);
  g.bring_up_all();
  g.set_group(1019, true);
  g.set_priority(1019, 0x10);
  g.route_to_cpu(1019, 0);
  g.enable(1019);
  g.line(1019, true);
  EXPECT_EQ(g.ack1(0), 1019u);
  for (uint32_t special = 1020; special < 1024; ++special)
    EXPECT_EQ(vgic_set_irq_level(g.gic(), 0, special, 1), VGIC_EINVAL) << special;
}
