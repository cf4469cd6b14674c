// The GICR frames through the public C API (IHI0069 12.10, 12.11): RD_base identification and
// power registers, and the per-interrupt registers of SGI_base (SGIs, PPIs, GICv3.1 extended PPIs).
// LPI-related fields and registers (GICR_CTLR, PLPIS, DirectLPI, CommonLPIAff, 0x40..0xC0) are not
// checked here.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "support/guest.hpp"

using namespace test;

namespace {

vgic_config make_config(unsigned nr_cpus, const std::function<void(vgic_config&)>& tweak = {}) {
  vgic_config c = Guest::config(nr_cpus);
  if (tweak) tweak(c);
  return c;
}

constexpr uint32_t STATUSR = 0x10, ID_BASE = 0xFFD0;
constexpr uint32_t IGRPMODR0 = gicr::SGI + 0xD00, NSACR = gicr::SGI + 0xE00, INMIR0 = gicr::SGI + 0xF80;
constexpr uint32_t IPRIORITYRE = gicr::IPRIORITYR + 32, ICFGRE = gicr::ICFGR0 + 8;

// GICR_TYPER fields (IHI0069, GICR_TYPER).
uint64_t processor_number(uint64_t t) { return (t >> 8) & 0xFFFF; }
uint64_t last(uint64_t t) { return (t >> 4) & 1; }
uint64_t ppinum(uint64_t t) { return (t >> 27) & 0x1F; }
uint64_t affinity(uint64_t t) { return t >> 32; }

// --- GICR_TYPER ---------------------------------------------------------------------------------

TEST(GicrTyper, DefaultAffinitiesProcessorNumbersAndLast) {
  const unsigned n = 20;  // crosses into a second Aff1 cluster
  Guest g(make_config(n));
  for (unsigned i = 0; i < n; ++i) {
    SCOPED_TRACE(i);
    const uint64_t t = g.gicr_read(i, gicr::TYPER, 8);
    EXPECT_EQ(processor_number(t), i);
    EXPECT_EQ(affinity(t), uint64_t(i / 16) << 8 | (i % 16));  // Aff3.Aff2.Aff1.Aff0
    EXPECT_EQ(last(t), i == n - 1 ? 1u : 0u);  // the last Redistributor of the region
    EXPECT_EQ((t >> 1) & 1, 0u);               // VLPIS: no GICv4
  }
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(GicrTyper, CustomMpidrs) {
  // MPIDR_EL1: Aff0 [7:0], Aff1 [15:8], Aff2 [23:16], Aff3 [39:32]; MT (24), U (30) and the RES1 bit
  // 31 are not affinity and must not appear in GICR_TYPER.Affinity.
  const std::vector<uint64_t> mpidr = {0x0000000101020304ull, 0x00000000C1000A0Bull, 0x000000FF00FF0F0Full};
  const uint64_t expect[] = {0x01020304, 0x00000A0B, 0xFFFF0F0F};
  Guest g(make_config(3, [&](vgic_config& c) { c.mpidr = mpidr.data(); }));
  for (unsigned i = 0; i < 3; ++i) {
    const uint64_t t = g.gicr_read(i, gicr::TYPER, 8);
    EXPECT_EQ(affinity(t), expect[i]) << i;
    EXPECT_EQ(processor_number(t), i);
    EXPECT_EQ(last(t), i == 2 ? 1u : 0u);
  }
}

TEST(GicrTyper, Aff0AboveFifteenWithRangeSelectors) {
  const std::vector<uint64_t> mpidr = {0x00F0, 0x01F1};
  Guest g(make_config(2, [&](vgic_config& c) {
    c.mpidr = mpidr.data();
    c.rss = 1;
  }));
  EXPECT_EQ(affinity(g.gicr_read(0, gicr::TYPER, 8)), 0xF0u);
  EXPECT_EQ(affinity(g.gicr_read(1, gicr::TYPER, 8)), 0x1F1u);
}

class GicrPpinum : public ::testing::TestWithParam<unsigned> {};

TEST_P(GicrPpinum, ReflectsTheExtendedPpis) {
  const unsigned eppis = GetParam();
  Guest g(make_config(2, [&](vgic_config& c) { c.nr_eppis = eppis; }));
  // PPInum: 0 = PPIs 16..31 only, 1 = up to INTID 1087, 2 = up to INTID 1119.
  for (unsigned cpu = 0; cpu < 2; ++cpu) EXPECT_EQ(ppinum(g.gicr_read(cpu, gicr::TYPER, 8)), eppis / 32);
}

INSTANTIATE_TEST_SUITE_P(Eppis, GicrPpinum, ::testing::Values(0u, 32u, 64u));

TEST(GicrTyper, ThirtyTwoBitHalvesAndReadOnly) {
  const std::vector<uint64_t> mpidr = {0x0000000A00000000ull | 0x0B0C0D, 0x0000000A000B0C0Eull};
  Guest g(make_config(2, [&](vgic_config& c) { c.mpidr = mpidr.data(); }));
  for (unsigned cpu = 0; cpu < 2; ++cpu) {
    const uint64_t t = g.gicr_read(cpu, gicr::TYPER, 8);
    EXPECT_EQ(g.gicr_read(cpu, gicr::TYPER, 4), t & 0xFFFFFFFF);
    EXPECT_EQ(g.gicr_read(cpu, gicr::TYPER + 4, 4), t >> 32);
    EXPECT_EQ(t >> 32, cpu ? 0x0A0B0C0Eu : 0x0A0B0C0Du);
    g.gicr_write(cpu, gicr::TYPER, ~t, 8);
    g.gicr_write(cpu, gicr::TYPER + 4, 0, 4);
    g.gicr_write(cpu, gicr::TYPER, 0, 4);
    EXPECT_EQ(g.gicr_read(cpu, gicr::TYPER, 8), t);
  }
  EXPECT_EQ(g.guest_errors(), 6u);  // writes to a read-only register
  EXPECT_EQ(g.gicr_read(0, gicr::TYPER + 2, 4), 0u);  // misaligned
  EXPECT_EQ(g.gicr_read(0, gicr::TYPER, 1), 0u);      // byte
  EXPECT_EQ(g.gicr_read(0, gicr::TYPER + 4, 8), 0u);  // misaligned doubleword
  EXPECT_EQ(g.guest_errors(), 9u);
}

// --- GICR_WAKER, IIDR, ID registers -------------------------------------------------------------

TEST(GicrWaker, ProcessorSleepIsWritableChildrenAsleepFollows) {
  Guest g(make_config(2));
  // IHI0069, GICR_WAKER: reset ProcessorSleep = 1, ChildrenAsleep = 1.
  EXPECT_EQ(g.gicr_read(0, gicr::WAKER), 0x6u);
  EXPECT_EQ(g.gicr_read(1, gicr::WAKER), 0x6u);
  g.gicr_write(0, gicr::WAKER, 0);
  EXPECT_EQ(g.gicr_read(0, gicr::WAKER), 0x0u);
  EXPECT_EQ(g.gicr_read(1, gicr::WAKER), 0x6u);  // per Redistributor
  g.gicr_write(0, gicr::WAKER, 0x4);  // ChildrenAsleep is read-only
  EXPECT_EQ(g.gicr_read(0, gicr::WAKER), 0x0u);
  g.gicr_write(0, gicr::WAKER, 0x2);
  EXPECT_EQ(g.gicr_read(0, gicr::WAKER), 0x6u);
  g.gicr_write(1, gicr::WAKER, 0xFFFFFFF9);  // everything but the two architected bits
  EXPECT_EQ(g.gicr_read(1, gicr::WAKER) & 0x6, 0x0u);
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(GicrId, IidrAndIdentificationRegisters) {
  Guest g(make_config(2, [](vgic_config& c) { c.gicd_iidr = 0x0200143B; }));
  for (unsigned cpu = 0; cpu < 2; ++cpu) {
    EXPECT_EQ(g.gicr_read(cpu, gicr::IIDR), 0x0200143Bu);
    EXPECT_EQ(g.gicr_read(cpu, gicr::PIDR2), 0x3Bu);  // ArchRev 3
    const uint32_t cidr[] = {0x0D, 0xF0, 0x05, 0xB1};
    for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(g.gicr_read(cpu, ID_BASE + 0x20 + 4 * i), cidr[i]);
    for (uint32_t off : {uint32_t(gicr::IIDR), uint32_t(gicr::PIDR2)}) {
      const uint64_t before = g.gicr_read(cpu, off);
      g.gicr_write(cpu, off, 0);
      EXPECT_EQ(g.gicr_read(cpu, off), before);
    }
  }
  EXPECT_EQ(g.guest_errors(), 4u);  // writes to read-only registers
}

TEST(GicrRazWi, ArchitecturalRazWiIsNotAGuestError) {
  Guest g(make_config(1, [](vgic_config& c) { c.nr_eppis = 64; }));
  // STATUSR (optional), IGRPMODR0/<n>E and NSACR (DS == 1), INMIR0/<n>E (no NMI).
  for (uint32_t off : {STATUSR, IGRPMODR0, IGRPMODR0 + 4, IGRPMODR0 + 8, NSACR, INMIR0, INMIR0 + 4, INMIR0 + 8}) {
    g.gicr_write(0, off, 0xFFFFFFFF);
    EXPECT_EQ(g.gicr_read(0, off), 0u) << std::hex << off;
  }
  EXPECT_EQ(g.guest_errors(), 0u);
}

// --- SGI_base per-interrupt registers -----------------------------------------------------------

struct Frame {
  Guest& g;
  unsigned cpu;
  uint64_t rd(uint32_t off, unsigned size = 4) { return g.gicr_read(cpu, off, size); }
  void wr(uint32_t off, uint64_t v, unsigned size = 4) { g.gicr_write(cpu, off, v, size); }
};

// mask: the bits of the register that correspond to implemented interrupts.
void check_set_clear(Frame f, uint32_t set, uint32_t clr, uint32_t mask) {
  SCOPED_TRACE(::testing::Message() << std::hex << "set 0x" << set << " clr 0x" << clr);
  f.wr(set, 0xF00F000F);
  EXPECT_EQ(f.rd(set), 0xF00F000Fu & mask);
  EXPECT_EQ(f.rd(clr), 0xF00F000Fu & mask);
  f.wr(set, 0);
  f.wr(clr, 0);
  EXPECT_EQ(f.rd(set), 0xF00F000Fu & mask);
  f.wr(clr, 0x10000003);
  EXPECT_EQ(f.rd(set), 0xE00F000Cu & mask);
  f.wr(set, 0xFFFFFFFF);
  EXPECT_EQ(f.rd(set), mask);
  f.wr(clr, 0xFFFFFFFF);
  EXPECT_EQ(f.rd(clr), 0u);
}

void check_rw(Frame f, uint32_t off, uint32_t mask) {
  for (uint32_t v : {0xA5A5A5A5u, 0x5A5A5A5Au, 0xFFFFFFFFu, 0u}) {
    f.wr(off, v);
    EXPECT_EQ(f.rd(off), v & mask) << std::hex << "0x" << off;
  }
}

struct Pair {
  uint32_t set, clr;
};
const Pair kPairs[] = {{gicr::ISENABLER0, gicr::ICENABLER0}, {gicr::ISPENDR0, gicr::ICPENDR0},
                       {gicr::ISACTIVER0, gicr::ICACTIVER0}};

TEST(GicrSgiBase, SgiAndPpiBitRegisters) {
  Guest g(make_config(2));
  Frame f{g, 1};
  for (const Pair& p : kPairs) check_set_clear(f, p.set, p.clr, 0xFFFFFFFF);
  check_rw(f, gicr::IGROUPR0, 0xFFFFFFFF);
  // Banked: the other CPU's registers are untouched.
  g.gicr_write(1, gicr::ISENABLER0, 0x00010002);
  g.gicr_write(1, gicr::IGROUPR0, 0x00030004);
  EXPECT_EQ(g.gicr_read(0, gicr::ISENABLER0), 0u);
  EXPECT_EQ(g.gicr_read(0, gicr::IGROUPR0), 0u);
  EXPECT_EQ(g.gicr_read(1, gicr::ISENABLER0), 0x00010002u);
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(GicrSgiBase, ResetValues) {
  Guest g(make_config(1, [](vgic_config& c) { c.nr_eppis = 64; }));
  for (uint32_t off : {gicr::IGROUPR0, gicr::ISENABLER0, gicr::ISPENDR0, gicr::ISACTIVER0, gicr::ICFGR1})
    for (uint32_t w = 0; w < (off == gicr::ICFGR1 ? 1u : 3u); ++w) EXPECT_EQ(g.gicr_read(0, off + 4 * w), 0u);
  for (uint32_t o = 0; o < 0x60; o += 4) EXPECT_EQ(g.gicr_read(0, gicr::IPRIORITYR + o), 0u);
  for (uint32_t o = 0; o < 0x10; o += 4) EXPECT_EQ(g.gicr_read(0, ICFGRE + o), 0u);
  EXPECT_EQ(g.gicr_read(0, gicr::ICFGR0), 0xAAAAAAAAu);
  EXPECT_EQ(g.guest_errors(), 0u);
}

class GicrPriority : public ::testing::TestWithParam<unsigned> {};

TEST_P(GicrPriority, ByteAndWordAccess) {
  const unsigned bits = GetParam();
  Guest g(make_config(1, [&](vgic_config& c) { c.priority_bits = bits; }));
  Frame f{g, 0};
  const uint32_t m = uint8_t(0xFF << (8 - bits)), m4 = m * 0x01010101u;
  for (uint32_t o = 0; o < 32; o += 4) {
    f.wr(gicr::IPRIORITYR + o, 0xFFFFFFFF);
    EXPECT_EQ(f.rd(gicr::IPRIORITYR + o), m4);
  }
  f.wr(gicr::IPRIORITYR + 4, 0x12345678);
  EXPECT_EQ(f.rd(gicr::IPRIORITYR + 4), 0x12345678u & m4);
  f.wr(gicr::IPRIORITYR + 6, 0, 1);
  EXPECT_EQ(f.rd(gicr::IPRIORITYR + 4), 0x12005678u & m4);
  EXPECT_EQ(f.rd(gicr::IPRIORITYR + 7, 1), 0x12u & m);
  EXPECT_EQ(g.guest_errors(), 0u);
  f.wr(gicr::IPRIORITYR + 4, 0, 2);  // halfword: RAZ/WI
  EXPECT_EQ(f.rd(gicr::IPRIORITYR + 4, 2), 0u);
  EXPECT_EQ(f.rd(gicr::IPRIORITYR + 4), 0x12005678u & m4);
  EXPECT_EQ(g.guest_errors(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Bits, GicrPriority, ::testing::Values(5u, 8u));

TEST(GicrSgiBase, Icfgr0IsReadOnlyEdgeIcfgr1IsWritable) {
  Guest g(make_config(1));
  Frame f{g, 0};
  // SGIs are always edge-triggered: GICR_ICFGR0 reads 0xAAAAAAAA and ignores writes (IHI0069, GICR_ICFGR0).
  for (uint64_t v : {0x0ull, 0xFFFFFFFFull, 0x55555555ull}) {
    f.wr(gicr::ICFGR0, v);
    EXPECT_EQ(f.rd(gicr::ICFGR0), 0xAAAAAAAAu);
  }
  // GICR_ICFGR1 (PPIs): the odd bits select edge; the even bits are RES0.
  f.wr(gicr::ICFGR1, 0xFFFFFFFF);
  EXPECT_EQ(f.rd(gicr::ICFGR1), 0xAAAAAAAAu);
  f.wr(gicr::ICFGR1, 0x55555555);
  EXPECT_EQ(f.rd(gicr::ICFGR1), 0u);
  // PPI 20 edge-triggered: the rising edge latches pending.
  g.set_edge(20, true);
  EXPECT_EQ(f.rd(gicr::ICFGR1), 1u << 9);
  g.line(20, true);
  g.line(20, false);
  EXPECT_TRUE(g.is_pending(20));
  // PPI 21 level-sensitive: pending only while high.
  g.line(21, true);
  EXPECT_TRUE(g.is_pending(21));
  g.line(21, false);
  EXPECT_FALSE(g.is_pending(21));
}

// --- GICv3.1 extended PPIs ----------------------------------------------------------------------

class GicrEppi : public ::testing::TestWithParam<unsigned> {};

TEST_P(GicrEppi, ExtendedPpiRegisters) {
  const unsigned eppis = GetParam();
  Guest g(make_config(2, [&](vgic_config& c) { c.nr_eppis = eppis; }));
  Frame f{g, 1};
  for (uint32_t n = 0; n < 2; ++n) {  // GICR_<reg><n>E, n = 0 (INTIDs 1056..1087), 1 (1088..1119)
    const uint32_t mask = eppis > 32 * n ? 0xFFFFFFFFu : 0u;
    SCOPED_TRACE(n);
    for (const Pair& p : kPairs) check_set_clear(f, p.set + 4 + 4 * n, p.clr + 4 + 4 * n, mask);
    check_rw(f, gicr::IGROUPR0 + 4 + 4 * n, mask);
  }
  for (uint32_t k = 0; k < 16; ++k) {  // IPRIORITYR<n>E: 4 INTIDs per word
    const uint32_t off = IPRIORITYRE + 4 * k;
    f.wr(off, 0xFFFFFFFF);
    EXPECT_EQ(f.rd(off), 4 * k < eppis ? 0xF8F8F8F8u : 0u) << k;
  }
  for (uint32_t k = 0; k < 4; ++k) {  // ICFGR<n>E: 16 INTIDs per word
    const uint32_t off = ICFGRE + 4 * k;
    f.wr(off, 0xFFFFFFFF);
    EXPECT_EQ(f.rd(off), 16 * k < eppis ? 0xAAAAAAAAu : 0u) << k;
    f.wr(off, 0);
  }
  EXPECT_EQ(g.guest_errors(), 0u);
  if (eppis) {
    // The last extended PPI's line shows up in the right bit of the right register, on its CPU only.
    const uint32_t intid = 1056 + eppis - 1;
    g.line(intid, true, 1);
    const uint32_t word = gicr::ISPENDR0 + 4 + 4 * ((eppis - 1) / 32);
    EXPECT_EQ(g.gicr_read(1, word), 1u << 31);
    EXPECT_EQ(g.gicr_read(0, word), 0u);
  } else {
    EXPECT_EQ(vgic_set_irq_level(g.gic(), 1, 1056, 1), VGIC_EINVAL);
  }
}

INSTANTIATE_TEST_SUITE_P(Eppis, GicrEppi, ::testing::Values(0u, 32u, 64u));

}  // namespace
