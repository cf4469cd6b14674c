// The ITS driven the way Linux's driver drives it (IHI0069 chapter 5): tables, commands, MSIs
// with DeviceIDs, and what the vCPUs acknowledge.
#include <gtest/gtest.h>

#include <set>

#include "support/its_driver.hpp"

using namespace test;

namespace {

struct ItsGuest {
  explicit ItsGuest(unsigned cpus = 2, ItsOptions opt = {}, void (*tweak)(vgic_config&) = nullptr)
      : cfg([&] {
          vgic_config c = Guest::config(cpus);
          if (tweak) tweak(c);
          return c;
        }()),
        g(cfg),
        ram(g.gic(), 0x40000000, 24 << 20),
        its(g, ram, opt) {
    g.bring_up_all();
    its.init();
    its.enable_lpis_all();
  }
  // Acknowledges and EOIs n interrupts on cpu; returns their INTIDs.
  std::set<uint32_t> ack_all(unsigned cpu, int n) {
    std::set<uint32_t> got;
    for (int i = 0; i < n; ++i) {
      const uint32_t id = g.ack1(cpu);
      got.insert(id);
      g.eoi1(cpu, id);
    }
    return got;
  }
  // Linux's per-device sequence: MAPD, then per vector MAPTI + unmask (config + INV).
  void map_vector(uint32_t dev, uint32_t event, uint32_t lpi, uint32_t icid, uint8_t prio = 0xa0) {
    its.mapti(dev, event, lpi, icid);
    its.lpi_config(lpi, prio, true);
    its.inv(dev, event);
    its.sync(0);
  }
  vgic_config cfg;
  Guest g;
  GuestRam ram;
  ItsDriver its;
};

}  // namespace

TEST(Its, MsiBecomesTheMappedLpiOnTheMappedCpu) {
  ItsGuest t(2);
  t.its.mapc(0, 0);
  t.its.mapc(1, 1);
  t.its.mapd(0x8, 2);
  t.map_vector(0x8, 0, 8192, 0);
  t.map_vector(0x8, 1, 8193, 1);
  EXPECT_EQ(t.its.msi(0x8, 1), 1);
  EXPECT_TRUE(t.g.irq(1));
  EXPECT_FALSE(t.g.irq(0));
  EXPECT_EQ(t.g.ack1(1), 8193u);
  t.g.eoi1(1, 8193);
  EXPECT_EQ(t.its.msi(0x8, 0), 1);
  EXPECT_EQ(t.g.ack1(0), 8192u);
  t.g.eoi1(0, 8192);
  EXPECT_EQ(t.g.ack1(0), kSpurious);
  EXPECT_EQ(t.its.creadr() & ~1ull, t.its.gits_read(0x88));
}

TEST(Its, RepeatedMsisCoalesceWhilePending) {
  ItsGuest t(1);
  t.its.mapc(0, 0);
  t.its.mapd(1, 1);
  t.map_vector(1, 0, 8200, 0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t.its.msi(1, 0), 1);
  EXPECT_EQ(t.g.ack1(0), 8200u);
  t.g.eoi1(0, 8200);
  EXPECT_EQ(t.g.ack1(0), kSpurious);
}

TEST(Its, DisabledInConfigThenInvIsNotDeliveredUntilReenabled) {
  ItsGuest t(1);
  t.its.mapc(0, 0);
  t.its.mapd(2, 1);
  t.map_vector(2, 0, 8300, 0);
  t.its.lpi_config(8300, 0xa0, false);
  t.its.inv(2, 0);
  EXPECT_EQ(t.its.msi(2, 0), 1) << "a disabled LPI still becomes pending";
  EXPECT_FALSE(t.g.irq(0));
  EXPECT_EQ(t.g.ack1(0), kSpurious);
  t.its.lpi_config(8300, 0xa0, true);
  EXPECT_FALSE(t.g.irq(0)) << "no effect before the INV";
  t.its.inv(2, 0);
  EXPECT_TRUE(t.g.irq(0));
  EXPECT_EQ(t.g.ack1(0), 8300u);
  t.g.eoi1(0, 8300);
}

TEST(Its, MoviMovesThePendingState) {
  ItsGuest t(2);
  t.its.mapc(0, 0);
  t.its.mapc(1, 1);
  t.its.mapd(3, 1);
  t.map_vector(3, 0, 8400, 0);
  t.its.lpi_config(8400, 0xa0, true);
  // Keep it pending on CPU 0 without delivering: mask CPU 0.
  t.g.icc_write(0, icc::PMR, 0);
  EXPECT_EQ(t.its.msi(3, 0), 1);
  t.its.movi(3, 0, 1);
  t.its.sync(1);
  EXPECT_TRUE(t.g.irq(1));
  EXPECT_EQ(t.g.ack1(1), 8400u);
  t.g.eoi1(1, 8400);
  t.g.icc_write(0, icc::PMR, 0xff);
  EXPECT_EQ(t.g.ack1(0), kSpurious) << "nothing left behind on the old CPU";
  // Later MSIs follow the new collection.
  EXPECT_EQ(t.its.msi(3, 0), 1);
  EXPECT_EQ(t.g.ack1(1), 8400u);
  t.g.eoi1(1, 8400);
}

// Linux unmasks a vector (configuration byte + INV) while it targets one redistributor and later
// moves it with MOVI alone (its_set_affinity), or maps it with MAPTI after writing the byte. A
// redistributor that already caches other LPIs of the same block must not keep a stale "disabled"
// byte for the moved LPI: vgic loads the configuration at MAPTI/MAPI/MOVI/MOVALL (IHI0069 5.1.1
// lets a cache be filled at any time; docs/spec-deviations.md).
TEST(Its, MoviCarriesTheLpiConfigurationToTheNewRedistributor) {
  ItsGuest t(2);
  t.its.mapc(0, 0);
  t.its.mapc(1, 1);
  t.its.mapd(3, 1);
  t.map_vector(3, 1, 8401, 1);  // CPU 1 now caches the configuration block of 8400
  EXPECT_EQ(t.its.msi(3, 1), 1);
  EXPECT_EQ(t.g.ack1(1), 8401u);
  t.g.eoi1(1, 8401);
  t.map_vector(3, 0, 8400, 0);  // enabled, INV through CPU 0's redistributor only
  t.its.movi(3, 0, 1);
  t.its.sync(1);
  EXPECT_EQ(t.its.msi(3, 0), 1);
  EXPECT_TRUE(t.g.irq(1));
  EXPECT_EQ(t.g.ack1(1), 8400u);
  t.g.eoi1(1, 8400);
}

TEST(Its, MaptiLoadsTheConfigurationWrittenBeforeIt) {
  ItsGuest t(2);
  t.its.mapc(1, 1);
  t.its.mapd(3, 1);
  t.map_vector(3, 1, 8401, 1);
  EXPECT_EQ(t.its.msi(3, 1), 1);
  EXPECT_EQ(t.g.ack1(1), 8401u);
  t.g.eoi1(1, 8401);
  t.its.lpi_config(8400, 0xa0, true);
  t.its.mapti(3, 0, 8400, 1);  // no INV after it
  t.its.sync(1);
  EXPECT_EQ(t.its.msi(3, 0), 1);
  EXPECT_EQ(t.g.ack1(1), 8400u);
  t.g.eoi1(1, 8400);
}

TEST(Its, MovallCarriesTheConfigurationOfTheMovedLpis) {
  ItsGuest t(2);
  t.its.mapc(0, 0);
  t.its.mapc(1, 1);
  t.its.mapd(4, 3);
  t.map_vector(4, 1, 8501, 1);
  EXPECT_EQ(t.its.msi(4, 1), 1);  // CPU 1 now caches the configuration block of 8500
  EXPECT_EQ(t.g.ack1(1), 8501u);
  t.g.eoi1(1, 8501);
  t.map_vector(4, 0, 8500, 0);
  t.g.icc_write(0, icc::PMR, 0);
  EXPECT_EQ(t.its.msi(4, 0), 1);
  t.its.movall(0, 1);
  t.its.sync(1);
  EXPECT_EQ(t.g.ack1(1), 8500u);
  t.g.eoi1(1, 8500);
}

TEST(Its, MovallMovesEveryPendingLpi) {
  ItsGuest t(2);
  t.its.mapc(0, 0);
  t.its.mapd(4, 3);
  for (uint32_t e = 0; e < 5; ++e) t.map_vector(4, e, 8500 + e, 0);
  t.g.icc_write(0, icc::PMR, 0);
  for (uint32_t e = 0; e < 5; ++e) EXPECT_EQ(t.its.msi(4, e), 1);
  t.its.movall(0, 1);
  t.its.mapc(0, 1);  // Linux retargets the collection too
  EXPECT_EQ(t.ack_all(1, 5), (std::set<uint32_t>{8500, 8501, 8502, 8503, 8504}));
  t.g.icc_write(0, icc::PMR, 0xff);
  EXPECT_EQ(t.g.ack1(0), kSpurious);
}

// A move to a redistributor that cannot hold the LPI (here EnableLPIs = 0; IHI0069 5.3 defines
// no outcome) keeps it pending on the old one and counts a guest error: vgic drops no pending
// interrupt (docs/spec-deviations.md rows 88, 89).
TEST(Its, MoviToARedistributorWithLpisDisabledKeepsTheLpiPending) {
  ItsGuest t(2);
  t.its.mapc(0, 0);
  t.its.mapc(1, 1);
  t.its.mapd(3, 1);
  t.map_vector(3, 0, 8400, 0);
  t.g.icc_write(0, icc::PMR, 0);
  EXPECT_EQ(t.its.msi(3, 0), 1);
  t.g.gicr_write(1, gicr::CTLR, 0);  // EnableLPIs = 0 on CPU 1
  const uint64_t errors = t.g.guest_errors();
  t.its.movi(3, 0, 1);
  t.its.sync(1);
  EXPECT_EQ(t.g.guest_errors(), errors + 1) << "the refused move is counted";
  t.g.icc_write(0, icc::PMR, 0xff);
  EXPECT_EQ(t.g.ack1(0), 8400u) << "still pending where it was";
  t.g.eoi1(0, 8400);
  EXPECT_EQ(t.g.ack1(1), kSpurious);
}

TEST(Its, MovallToARedistributorWithLpisDisabledKeepsEveryLpiPending) {
  ItsGuest t(2);
  t.its.mapc(0, 0);
  t.its.mapd(4, 3);
  for (uint32_t e = 0; e < 3; ++e) t.map_vector(4, e, 8500 + e, 0);
  t.g.icc_write(0, icc::PMR, 0);
  for (uint32_t e = 0; e < 3; ++e) EXPECT_EQ(t.its.msi(4, e), 1);
  t.g.gicr_write(1, gicr::CTLR, 0);
  const uint64_t errors = t.g.guest_errors();
  t.its.movall(0, 1);
  t.its.sync(0);
  EXPECT_EQ(t.g.guest_errors(), errors + 3);
  t.g.icc_write(0, icc::PMR, 0xff);
  EXPECT_EQ(t.ack_all(0, 3), (std::set<uint32_t>{8500, 8501, 8502}));
  EXPECT_EQ(t.g.ack1(0), kSpurious);
}

// MOVI within one redistributor (another collection, same target) leaves the pending LPI alone.
TEST(Its, MoviToAnotherCollectionOnTheSameRedistributorKeepsItPending) {
  ItsGuest t(2);
  t.its.mapc(0, 0);
  t.its.mapc(2, 0);
  t.its.mapd(3, 1);
  t.map_vector(3, 0, 8400, 0);
  t.g.icc_write(0, icc::PMR, 0);
  EXPECT_EQ(t.its.msi(3, 0), 1);
  t.its.movi(3, 0, 2);
  t.its.sync(0);
  t.g.icc_write(0, icc::PMR, 0xff);
  EXPECT_EQ(t.g.ack1(0), 8400u);
  t.g.eoi1(0, 8400);
  EXPECT_EQ(t.its.msi(3, 0), 1) << "the translation now goes through collection 2";
  EXPECT_EQ(t.g.ack1(0), 8400u);
  t.g.eoi1(0, 8400);
}

TEST(Its, DiscardRemovesTranslationAndPendingState) {
  ItsGuest t(1);
  t.its.mapc(0, 0);
  t.its.mapd(5, 1);
  t.map_vector(5, 1, 8600, 0);
  t.g.icc_write(0, icc::PMR, 0);
  EXPECT_EQ(t.its.msi(5, 1), 1);
  t.its.discard(5, 1);
  t.g.icc_write(0, icc::PMR, 0xff);
  EXPECT_EQ(t.g.ack1(0), kSpurious) << "DISCARD clears the pending state";
  EXPECT_EQ(t.its.msi(5, 1), 0) << "no translation after DISCARD";
}

TEST(Its, MapdV0ThenIntDoesNothingAndTheQueueGoesOn) {
  ItsGuest t(1);
  t.its.mapc(0, 0);
  t.its.mapd(6, 1);
  t.map_vector(6, 0, 8700, 0);
  t.its.mapd(6, 1, false);
  const uint64_t errors = t.g.guest_errors();
  t.its.int_(6, 0);  // kvm-unit-tests does exactly this and expects the queue to continue
  t.its.sync(0);
  EXPECT_FALSE(t.its.stalled());
  EXPECT_EQ(t.its.creadr(), t.its.gits_read(0x88));
  EXPECT_EQ(t.g.ack1(0), kSpurious);
  EXPECT_EQ(t.its.msi(6, 0), 0);
  EXPECT_EQ(t.g.guest_errors(), errors + 1) << "the INT on an unmapped device is a counted command error";
}

TEST(Its, IntAndClearCommands) {
  ItsGuest t(1);
  t.its.mapc(0, 0);
  t.its.mapd(7, 1);
  t.map_vector(7, 0, 8800, 0);
  t.its.int_(7, 0);
  EXPECT_TRUE(t.g.irq(0));
  t.its.clear(7, 0);
  EXPECT_FALSE(t.g.irq(0));
  t.its.int_(7, 0);
  EXPECT_EQ(t.g.ack1(0), 8800u);
  t.g.eoi1(0, 8800);
}

TEST(Its, MapiUsesTheEventIdAsLpi) {
  ItsGuest t(1);
  t.its.mapc(0, 0);
  t.its.mapd(9, 14);
  t.its.mapi(9, 8999, 0);
  t.its.lpi_config(8999, 0x80, true);
  t.its.invall(0);
  EXPECT_EQ(t.its.msi(9, 8999), 1);
  EXPECT_EQ(t.g.ack1(0), 8999u);
  t.g.eoi1(0, 8999);
}

TEST(Its, EnableLpisClearedAndSetAgainPicksUpPendingBitsFromRam) {
  ItsGuest t(1);
  t.its.mapc(0, 0);
  t.its.mapd(10, 2);
  t.map_vector(10, 0, 9000, 0);
  t.map_vector(10, 1, 9001, 0);
  t.g.icc_write(0, icc::PMR, 0);
  EXPECT_EQ(t.its.msi(10, 0), 1);
  t.g.gicr_write(0, gicr::CTLR, 0);
  EXPECT_EQ(t.its.msi(10, 1), 0) << "dropped: EnableLPIs is 0 on the target";
  const uint64_t pend = t.its.pend_table(0);
  EXPECT_EQ((t.ram.read8(pend + 9000 / 8) >> (9000 % 8)) & 1, 1) << "pending state written back";
  t.ram.write8(pend + 9001 / 8, uint8_t(t.ram.read8(pend + 9001 / 8) | 1 << (9001 % 8)));
  t.g.gicr_write(0, gicr::CTLR, 1);
  t.g.icc_write(0, icc::PMR, 0xff);
  std::set<uint32_t> got;
  for (int i = 0; i < 2; ++i) {
    const uint32_t id = t.g.ack1(0);
    got.insert(id);
    t.g.eoi1(0, id);
  }
  EXPECT_EQ(got, (std::set<uint32_t>{9000, 9001}));
}

TEST(Its, DisablingTheItsStopsTranslation) {
  ItsGuest t(1);
  t.its.mapc(0, 0);
  t.its.mapd(11, 1);
  t.map_vector(11, 0, 9100, 0);
  EXPECT_EQ(t.its.msi(11, 0), 1);  // fills the translation cache
  t.g.eoi1(0, t.g.ack1(0));
  t.its.gits_write(0x0, 0, 4);
  EXPECT_EQ(t.its.gits_read(0x0, 4), 0x80000000u) << "disabled and quiescent";
  EXPECT_EQ(t.its.msi(11, 0), 0);
  EXPECT_FALSE(t.g.irq(0));
}

TEST(Its, CpuWriteToTranslaterIsAnMsiFromDevice0) {
  ItsGuest t(1);
  t.its.mapc(0, 0);
  t.its.mapd(0, 1);
  t.map_vector(0, 1, 9200, 0);
  EXPECT_EQ(vgic_mmio_write(t.g.gic(), t.its.its_base() + 0x10040, 4, 1), 0);
  EXPECT_EQ(t.g.ack1(0), 9200u);
  t.g.eoi1(0, 9200);
}

TEST(Its, QueueWrapsAround) {
  ItsOptions o;
  o.queue_pages = 1;  // 128 slots
  ItsGuest t(1, o);
  t.its.mapc(0, 0);
  t.its.mapd(12, 1);
  t.map_vector(12, 0, 9300, 0);
  for (int i = 0; i < 300; ++i) t.its.sync(0);  // goes round more than twice
  EXPECT_FALSE(t.its.stalled());
  EXPECT_EQ(t.its.creadr(), t.its.gits_read(0x88));
  EXPECT_EQ(t.its.msi(12, 0), 1);
  EXPECT_EQ(t.g.ack1(0), 9300u);
}

TEST(Its, TwoItsesShareTheLpiSpace) {
  auto two = [](vgic_config& c) {
    c.nr_its = 2;
    c.its[1].base = 0x08100000;
  };
  ItsGuest t(2, {}, two);
  ItsOptions o1;
  o1.its = 1;
  ItsDriver its1(t.g, t.ram, o1);
  its1.init();
  t.its.mapc(0, 0);
  its1.mapc(0, 1);
  t.its.mapd(1, 1);
  its1.mapd(1, 1);  // the same DeviceID on another ITS is another device
  t.map_vector(1, 0, 9400, 0);
  its1.mapti(1, 0, 9401, 0);
  t.its.lpi_config(9401, 0xa0, true);  // one configuration table, shared by both ITSes
  its1.inv(1, 0);
  EXPECT_EQ(its1.msi(1, 0), 1);
  EXPECT_EQ(t.g.ack1(1), 9401u);
  t.g.eoi1(1, 9401);
  EXPECT_EQ(t.its.msi(1, 0), 1);
  EXPECT_EQ(t.g.ack1(0), 9400u);
  t.g.eoi1(0, 9400);
}

TEST(Its, PtaOneUsesRedistributorAddresses) {
  auto pta = [](vgic_config& c) { c.its[0].pta = 1; };
  ItsGuest t(3, {}, pta);
  EXPECT_EQ((t.its.gits_read(0x8) >> 19) & 1, 1u);
  t.its.mapc(0, 2);  // RDbase = GICR address of CPU 2 >> 16
  t.its.mapd(1, 1);
  t.map_vector(1, 0, 9500, 0);
  EXPECT_EQ(t.its.msi(1, 0), 1);
  EXPECT_EQ(t.g.ack1(2), 9500u);
  // A processor number is not a redistributor address: MAPC fails.
  const uint64_t errors = t.g.guest_errors();
  t.its.send(gicv3::MapcCommand{gicv3::CollectionId(1), 1, true}.encode());
  EXPECT_EQ(t.g.guest_errors(), errors + 1);
}

class ItsTables : public ::testing::TestWithParam<std::tuple<uint64_t, bool>> {};

TEST_P(ItsTables, FlatAndIndirectTablesAtEveryPageSize) {
  ItsOptions o;
  o.page_size = std::get<0>(GetParam());
  o.indirect_devices = std::get<1>(GetParam());
  o.indirect_collections = std::get<1>(GetParam());
  ItsGuest t(1, o);
  // The highest DeviceID the table covers works; the next one is out of range.
  const uint64_t per_page = o.page_size / 8;
  const uint64_t covered = o.indirect_devices ? (o.page_size / 8) * per_page : per_page;
  const uint32_t last = uint32_t(std::min<uint64_t>(covered - 1, 0xffff));
  t.its.mapc(0, 0);
  t.its.mapd(last, 1);
  t.map_vector(last, 0, 9600, 0);
  EXPECT_EQ(t.its.msi(last, 0), 1);
  EXPECT_EQ(t.g.ack1(0), 9600u);
  if (covered <= 0xffff) {
    const uint64_t errors = t.g.guest_errors();
    t.its.mapd(uint32_t(covered), 1);
    EXPECT_EQ(t.g.guest_errors(), errors + 1) << "DeviceID beyond the device table";
  }
}

INSTANTIATE_TEST_SUITE_P(PageSizes, ItsTables,
                         ::testing::Combine(::testing::Values(4096u, 16384u, 65536u), ::testing::Bool()));

TEST(Its, InvalidLevel1EntryMakesMapdFail) {
  ItsOptions o;
  o.page_size = 4096;
  o.indirect_devices = true;
  ItsGuest t(1, o);
  // DeviceIDs 512..1023 live behind level-1 entry 1 (4 KiB pages, 8-byte entries), which the
  // guest never made valid. MAPD is sent raw so that the helper does not back it.
  const uint64_t errors = t.g.guest_errors();
  t.its.send(gicv3::MapdCommand{gicv3::DeviceId(600), 0, t.ram.alloc(256, 256), true}.encode());
  EXPECT_EQ(t.g.guest_errors(), errors + 1);
  t.its.mapd(100, 1);  // backs level-1 entry 0 first, as Linux does
  EXPECT_EQ(t.g.guest_errors(), errors + 1);
  t.its.mapd(700, 1);  // now backs entry 1
  EXPECT_EQ(t.g.guest_errors(), errors + 1);
}

TEST(Its, CollectionsBelowHccNeedNoCollectionTable) {
  auto hcc = [](vgic_config& c) { c.its[0].hcc = 4; };
  ItsOptions o;
  o.enable = false;
  ItsGuest t(1, o, hcc);
  EXPECT_EQ((t.its.gits_read(0x8) >> 24) & 0xff, 4u) << "GITS_TYPER.HCC";
  t.its.gits_write(0x108, t.its.gits_read(0x108) & ~(1ull << 63));  // GITS_BASER1 not valid
  t.its.gits_write(0x0, 1, 4);
  const uint64_t errors = t.g.guest_errors();
  t.its.mapc(3, 0);  // held in the ITS
  EXPECT_EQ(t.g.guest_errors(), errors);
  t.its.mapc(4, 0);  // would need the (invalid) collection table
  EXPECT_EQ(t.g.guest_errors(), errors + 1);
  t.its.mapd(1, 1);
  t.map_vector(1, 0, 9700, 3);
  EXPECT_EQ(t.its.msi(1, 0), 1);
  EXPECT_EQ(t.g.ack1(0), 9700u);
}
