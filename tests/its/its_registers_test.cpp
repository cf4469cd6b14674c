// The GITS control and translation frames through MMIO (IHI0069 12.19): reset values, the fields
// GITS_TYPER derives from vgic_its_config, which bits of GITS_BASER<n> and GITS_CBASER are
// writable and when, the command-queue registers, GITS_TRANSLATER and reserved offsets.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <vector>

#include "support/its_driver.hpp"

using namespace test;

namespace {

constexpr uint32_t CTLR = 0x0, IIDR = 0x4, TYPER = 0x8, CBASER = 0x80, CWRITER = 0x88, CREADR = 0x90;
constexpr uint32_t BASER = 0x100, PIDR2 = 0xFFE8, TRANSLATER = 0x10040;
// GITS_BASER<n>: Entry_Size [52:48] and Type [58:56] are read-only.
constexpr uint64_t kBaserRo = 0x1Full << 48 | 0x7ull << 56;

vgic_config its_cfg(const std::function<void(vgic_its_config&)>& tweak = {}) {
  vgic_config c = Guest::config(2);
  if (tweak) tweak(c.its[0]);
  return c;
}

// The ITS frame of a Guest, accessed the way a guest does.
struct Gits {
  explicit Gits(const vgic_config& c) : g(c) {}
  uint64_t rd(uint32_t off, unsigned size = 8) {
    uint64_t v = ~0ull;
    EXPECT_EQ(vgic_mmio_read(g.gic(), g.cfg().its[0].base + off, size, &v), 0);
    return v;
  }
  void wr(uint32_t off, uint64_t v, unsigned size = 8) {
    EXPECT_EQ(vgic_mmio_write(g.gic(), g.cfg().its[0].base + off, size, v), 0);
  }
  std::vector<uint64_t> snapshot() {  // every implemented register
    std::vector<uint64_t> s = {rd(CTLR, 4), rd(IIDR, 4), rd(TYPER), rd(CBASER), rd(CWRITER), rd(CREADR)};
    for (uint32_t n = 0; n < 8; ++n) s.push_back(rd(BASER + 8 * n));
    return s;
  }
  Guest g;
};

}  // namespace

TEST(GitsCtlr, ResetsQuiescentAndDisabledThenTracksEnabled) {
  Gits t(its_cfg());
  EXPECT_EQ(t.rd(CTLR, 4), 0x80000000u) << "Quiescent = 1, Enabled = 0";
  t.wr(CTLR, 0xFFFFFFFF, 4);  // only Enabled is writable; Quiescent is read-only
  EXPECT_EQ(t.rd(CTLR, 4), 0x1u) << "Enabled, and not quiescent while enabled";
  t.wr(CTLR, 0, 4);
  EXPECT_EQ(t.rd(CTLR, 4), 0x80000000u);
  EXPECT_EQ(t.g.guest_errors(), 0u);
}

TEST(GitsCommandQueue, QueueRegistersResetToZero) {
  // The architecture leaves GITS_CBASER UNKNOWN at reset; vgic, like KVM, starts with no queue
  // (Valid = 0) and an empty one (GITS_CREADR = GITS_CWRITER = 0, not stalled).
  Gits t(its_cfg());
  EXPECT_EQ(t.rd(CBASER), 0u);
  EXPECT_EQ(t.rd(CWRITER), 0u);
  EXPECT_EQ(t.rd(CREADR), 0u);
}

TEST(GitsIidr, DefaultAndConfigured) {
  Gits d(its_cfg());
  // vgic's default: Implementer 0x43B (Arm) [11:0], Revision 0 [15:12] (KVM table ABI rev. 0),
  // ProductID 'V' [31:24].
  EXPECT_EQ(d.rd(IIDR, 4), 0x5600043Bu);
  Gits c(its_cfg([](vgic_its_config& i) { i.iidr = 0x0102143B; }));
  EXPECT_EQ(c.rd(IIDR, 4), 0x0102143Bu);
  c.wr(IIDR, 0, 4);  // read-only
  EXPECT_EQ(c.rd(IIDR, 4), 0x0102143Bu);
}

TEST(GitsTyper, FieldsFollowTheConfiguration) {
  struct Case {
    unsigned dev_bits, event_bits, cid_bits, itt_size;
    int seis, pta;
  };
  const Case cases[] = {{16, 16, 16, 8, 0, 0}, {1, 1, 1, 16, 1, 1}, {32, 32, 16, 12, 0, 1}, {24, 20, 8, 9, 1, 0}};
  for (const Case& k : cases) {
    SCOPED_TRACE(testing::Message() << k.dev_bits << "/" << k.event_bits << "/" << k.cid_bits << "/" << k.itt_size);
    Gits t(its_cfg([&](vgic_its_config& i) {
      i.device_id_bits = k.dev_bits;
      i.event_id_bits = k.event_bits;
      i.collection_id_bits = k.cid_bits;
      i.itt_entry_size = k.itt_size;
      i.seis = k.seis;
      i.pta = k.pta;
    }));
    // Physical [0] = 1, Virtual [1] = CCT [2] = 0, ITT_entry_size [7:4], ID_bits [12:8], Devbits
    // [17:13], SEIS [18], PTA [19], HCC [31:24] = 0, CIDbits [35:32], CIL [36] = 1; the rest 0.
    const uint64_t expect = 1 | uint64_t(k.itt_size - 1) << 4 | uint64_t(k.event_bits - 1) << 8 |
                            uint64_t(k.dev_bits - 1) << 13 | uint64_t(k.seis) << 18 | uint64_t(k.pta) << 19 |
                            uint64_t(k.cid_bits - 1) << 32 | 1ull << 36;
    EXPECT_EQ(t.rd(TYPER), expect);
    EXPECT_EQ(t.rd(TYPER, 4), expect & 0xFFFFFFFF) << "low half";
    EXPECT_EQ(t.rd(TYPER + 4, 4), expect >> 32) << "high half";
    t.wr(TYPER, 0);  // read-only
    EXPECT_EQ(t.rd(TYPER), expect);
  }
}

TEST(GitsBaser, ResetValues) {
  Gits t(its_cfg());
  // Type [58:56]: 1 = Device, 4 = Collection; Entry_Size [52:48] = bytes - 1 (8-byte entries).
  EXPECT_EQ(t.rd(BASER + 0), 1ull << 56 | 7ull << 48);
  EXPECT_EQ(t.rd(BASER + 8), 4ull << 56 | 7ull << 48);
  for (uint32_t n = 2; n < 8; ++n) {
    EXPECT_EQ(t.rd(BASER + 8 * n), 0u) << n;
    t.wr(BASER + 8 * n, ~0ull);  // Type 0: unimplemented, RAZ/WI
    EXPECT_EQ(t.rd(BASER + 8 * n), 0u) << n;
  }
}

TEST(GitsBaser, FieldsReadBackAsWrittenExceptTypeAndEntrySize) {
  Gits t(its_cfg());
  const uint64_t reset[2] = {t.rd(BASER), t.rd(BASER + 8)};
  // Every page size (Page_Size [9:8]: 4K, 16K, 64K), flat and Indirect [62], with the other fields
  // (Valid [63], InnerCache [61:59], OuterCache [55:53], Physical_Address [47:12] (with 64 KiB pages
  // [15:12] hold PA[51:48]), Shareability [11:10], Size [7:0]) set to distinct values.
  for (uint32_t n = 0; n < 2; ++n)
    for (uint64_t ps = 0; ps < 3; ++ps)
      for (uint64_t indirect = 0; indirect < 2; ++indirect) {
        const uint64_t v = 1ull << 63 | indirect << 62 | 5ull << 59 | 3ull << 53 | 0x0000'8765'4321'0000ull |
                           (ps == 2 ? 0xAull << 12 : 0) | 1ull << 10 | ps << 8 | 0x7F | kBaserRo;
        t.wr(BASER + 8 * n, v);
        EXPECT_EQ(t.rd(BASER + 8 * n), (v & ~kBaserRo) | reset[n]) << n << " page size " << ps;
      }
  // Random values, written whole and as two 32-bit halves.
  std::mt19937_64 rng(42);
  for (int i = 0; i < 64; ++i) {
    const uint32_t off = BASER + 8 * uint32_t(i & 1);
    const uint64_t v = rng();
    if (i & 2) {
      t.wr(off, v & 0xFFFFFFFF, 4);
      t.wr(off + 4, v >> 32, 4);
    } else {
      t.wr(off, v);
    }
    EXPECT_EQ(t.rd(off), (v & ~kBaserRo) | reset[i & 1]);
    EXPECT_EQ(t.rd(off + 4, 4), ((v & ~kBaserRo) | reset[i & 1]) >> 32);
  }
  EXPECT_EQ(t.g.guest_errors(), 0u);
}

TEST(GitsBaser, BaserAndCbaserAreLockedWhileEnabled) {
  Gits t(its_cfg());
  const uint64_t baser = 1ull << 63 | 0x40010000 | 2ull << 8, cbaser = 1ull << 63 | 0x40020000;
  t.wr(BASER, baser);
  t.wr(CBASER, cbaser);
  t.wr(CTLR, 1, 4);
  const uint64_t errors = t.g.guest_errors();
  // IHI0069 12.19: writing GITS_BASER<n> or GITS_CBASER while GITS_CTLR.Enabled == 1 is
  // UNPREDICTABLE; vgic ignores the write and counts a guest error.
  t.wr(BASER, 0);
  t.wr(BASER + 4, 0, 4);
  t.wr(CBASER, 0);
  EXPECT_EQ(t.rd(BASER), baser | (1ull << 56 | 7ull << 48));
  EXPECT_EQ(t.rd(CBASER), cbaser);
  EXPECT_EQ(t.g.guest_errors(), errors + 3);
  t.wr(CTLR, 0, 4);  // disabled: writable again
  t.wr(BASER, 0);
  t.wr(CBASER, 0);
  EXPECT_EQ(t.rd(BASER), 1ull << 56 | 7ull << 48);
  EXPECT_EQ(t.rd(CBASER), 0u);
  EXPECT_EQ(t.g.guest_errors(), errors + 3);
}

TEST(GitsCommandQueue, CbaserReadsBackAndWritingItResetsCreadr) {
  ItsHarness h(its_cfg());
  for (int i = 0; i < 3; ++i) h.its.sync(0);
  EXPECT_EQ(h.its.creadr(), 96u);
  EXPECT_EQ(h.its.gits_read(CWRITER), 96u) << "GITS_CWRITER reads back";
  h.its.gits_write(CTLR, 0, 4);
  // Valid [63], InnerCache [61:59], OuterCache [55:53], Physical_Address [51:12], Shareability
  // [11:10], Size [7:0].
  const uint64_t cbaser = 1ull << 63 | 7ull << 59 | 1ull << 53 | h.its.queue() | 2ull << 10 | 0;
  h.its.gits_write(CBASER, cbaser);
  EXPECT_EQ(h.its.gits_read(CBASER), cbaser);
  EXPECT_EQ(h.its.creadr(), 0u) << "IHI0069 12.19 GITS_CBASER: a write resets GITS_CREADR to 0";
  h.its.gits_write(CBASER, cbaser & 0xFFFFFFFF, 4);  // a 32-bit half counts as a write too
  EXPECT_EQ(h.its.gits_read(CBASER), cbaser);
  h.its.gits_write(CWRITER, 0x20E0);
  EXPECT_EQ(h.its.gits_read(CWRITER), 0x20E0u) << "Offset [19:5] reads back while disabled";
  EXPECT_EQ(h.its.gits_read(CWRITER, 4), 0x20E0u);
}

TEST(GitsCommandQueue, CwriterHalvesAndCreadrIsReadOnly) {
  ItsHarness h(its_cfg());
  h.its.enqueue(gicv3::SyncCommand{0}.encode());
  h.its.enqueue(gicv3::SyncCommand{1}.encode());
  h.its.gits_write(CWRITER + 4, 0, 4);  // high half: the offset is still 0, nothing to do
  EXPECT_EQ(h.its.creadr(), 0u);
  h.its.gits_write(CWRITER, h.its.cwriter(), 4);  // low half: both commands run
  EXPECT_EQ(h.its.creadr(), 64u);
  EXPECT_EQ(h.its.gits_read(CREADR, 4), 64u);
  EXPECT_EQ(h.its.gits_read(CREADR + 4, 4), 0u);
  const uint64_t errors = h.g.guest_errors();
  h.its.gits_write(CREADR, 0);
  h.its.gits_write(CREADR, 32, 4);
  EXPECT_EQ(h.its.creadr(), 64u) << "GITS_CREADR is read-only";
  EXPECT_EQ(h.g.guest_errors(), errors + 2);
  EXPECT_TRUE(h.sei_codes().empty());
}

TEST(GitsTranslater, ReadsAsZeroAndTakesOnly16Or32BitWrites) {
  ItsHarness h(its_cfg());
  h.its.mapc(0, 0);
  h.its.mapd(0, 2);  // a CPU write to GITS_TRANSLATER carries DeviceID 0
  h.its.mapti(0, 1, 8200, 0);
  h.its.lpi_config(8200, 0xa0, true);
  h.its.inv(0, 1);
  uint64_t errors = h.g.guest_errors();
  uint64_t v = ~0ull;
  EXPECT_EQ(vgic_mmio_read(h.g.gic(), h.its.its_base() + TRANSLATER, 4, &v), 0);
  EXPECT_EQ(v, 0u) << "GITS_TRANSLATER is write-only";
  EXPECT_EQ(h.g.guest_errors(), ++errors);
  EXPECT_EQ(vgic_mmio_write(h.g.gic(), h.its.its_base() + TRANSLATER, 8, 1), 0);
  EXPECT_FALSE(h.g.irq(0)) << "an 8-byte write is not an MSI";
  EXPECT_EQ(h.g.guest_errors(), ++errors);
  EXPECT_EQ(vgic_mmio_write(h.g.gic(), h.its.its_base() + TRANSLATER, 2, 1), 0);
  EXPECT_EQ(h.g.ack1(0), 8200u) << "a 16-bit write is";
  h.g.eoi1(0, 8200);
  // A 16-bit write writes bits [31:16] as zero (IHI0069 12.19): whatever else the VMM passes in
  // the store's register is not part of the EventID.
  EXPECT_EQ(vgic_mmio_write(h.g.gic(), h.its.its_base() + TRANSLATER, 2, 0xABCD0001), 0);
  EXPECT_EQ(h.g.ack1(0), 8200u);
  h.g.eoi1(0, 8200);
  EXPECT_EQ(h.g.guest_errors(), errors);
}

// IHI0069 12.19 GITS_BASER<n>.Valid == 0: the ITS discards writes to GITS_TRANSLATER when it is the
// Device table, or the Collection table with GITS_TYPER.HCC == 0; no memory is allocated for the
// table, so its mappings are gone when it becomes Valid again.
class GitsBaserValid : public ::testing::TestWithParam<unsigned> {};

TEST_P(GitsBaserValid, AnInvalidTableStopsTranslationAndForgetsItsMappings) {
  const unsigned n = GetParam();  // 0: Device table, 1: Collection table
  ItsHarness h(its_cfg());
  ASSERT_EQ((h.its.gits_read(TYPER) >> 24) & 0xff, 0u) << "HCC";
  h.its.mapc(0, 0);
  h.its.mapd(1, 4);
  h.its.mapti(1, 0, 8200, 0);
  h.its.lpi_config(8200, 0xa0, true);
  h.its.inv(1, 0);
  ASSERT_EQ(h.its.msi(1, 0), 1);
  ASSERT_EQ(h.g.ack1(0), 8200u);
  h.g.eoi1(0, 8200);

  const uint64_t baser = h.its.gits_read(BASER + 8 * n);
  h.its.gits_write(CTLR, 0, 4);
  h.its.gits_write(BASER + 8 * n, baser & ~(1ull << 63));
  h.its.gits_write(CTLR, 1, 4);
  EXPECT_EQ(h.its.msi(1, 0), 0);
  EXPECT_FALSE(h.g.irq(0));

  h.its.gits_write(CTLR, 0, 4);
  h.its.gits_write(BASER + 8 * n, baser);
  h.its.gits_write(CTLR, 1, 4);
  EXPECT_EQ(h.its.msi(1, 0), 0) << "the mappings went with the table";
  EXPECT_FALSE(h.g.irq(0));
  if (n == 1) h.its.mapc(0, 0);
  else h.its.mapd(1, 4), h.its.mapti(1, 0, 8200, 0);
  EXPECT_EQ(h.its.msi(1, 0), 1);
  EXPECT_EQ(h.g.ack1(0), 8200u);
  h.g.eoi1(0, 8200);
  EXPECT_TRUE(h.sei_codes().empty());
}

INSTANTIATE_TEST_SUITE_P(DeviceAndCollectionTables, GitsBaserValid, ::testing::Values(0u, 1u));

TEST(GitsBaserValid, CollectionsHeldByTheItsNeedNoCollectionTable) {
  // With GITS_TYPER.HCC > 0 the ITS holds ICIDs below HCC itself: an invalid Collection table
  // neither stops translation nor forgets those collections.
  ItsHarness h(its_cfg([](vgic_its_config& c) { c.hcc = 4; }));
  h.its.mapc(2, 0);
  h.its.mapd(1, 4);
  h.its.mapti(1, 0, 8200, 2);
  h.its.lpi_config(8200, 0xa0, true);
  h.its.inv(1, 0);
  const uint64_t baser = h.its.gits_read(BASER + 8);
  h.its.gits_write(CTLR, 0, 4);
  h.its.gits_write(BASER + 8, baser & ~(1ull << 63));
  h.its.gits_write(CTLR, 1, 4);
  EXPECT_EQ(h.its.msi(1, 0), 1);
  EXPECT_EQ(h.g.ack1(0), 8200u);
  h.g.eoi1(0, 8200);
}

TEST(GitsReserved, ReservedOffsetsAndBadWidthsAreRazWiAndCounted) {
  Gits t(its_cfg());
  t.wr(BASER, 1ull << 63 | 0x40010000);
  const std::vector<uint64_t> before = t.snapshot();
  // Reserved in IHI0069 12.19 (Table "ITS register map"), and in the translation frame.
  const uint32_t reserved[] = {0x0020, 0x003C, 0x0050, 0x00A0, 0x00FC, 0x0140,
                               0x8000, 0xBFFC, 0x10000, 0x10048, 0x1FFFC};
  uint64_t errors = t.g.guest_errors();
  for (uint32_t off : reserved) {
    EXPECT_EQ(t.rd(off, 4), 0u) << std::hex << off;
    EXPECT_EQ(t.g.guest_errors(), ++errors) << std::hex << off;
    t.wr(off, 0xFFFFFFFF, 4);
    EXPECT_EQ(t.g.guest_errors(), ++errors) << std::hex << off;
  }
  // Widths the registers do not support: 64-bit GITS_CTLR, 16-bit GITS_TYPER, 8-bit GITS_BASER0.
  const std::pair<uint32_t, unsigned> bad[] = {{CTLR, 8}, {TYPER, 2}, {BASER, 1}, {CBASER + 2, 4}};
  for (auto [off, size] : bad) {
    EXPECT_EQ(t.rd(off, size), 0u) << std::hex << off << " size " << size;
    t.wr(off, ~0ull, size);
    errors += 2;
    EXPECT_EQ(t.g.guest_errors(), errors) << std::hex << off << " size " << size;
  }
  EXPECT_EQ(t.snapshot(), before) << "no register changed";
}

TEST(GitsIdRegisters, Pidr2ArchRevIsGicv3) {
  Gits t(its_cfg());
  EXPECT_EQ(t.rd(PIDR2, 4), 0x3Bu);
  EXPECT_EQ((t.rd(PIDR2, 4) >> 4) & 0xF, 3u) << "ArchRev [7:4] = GICv3";
}
