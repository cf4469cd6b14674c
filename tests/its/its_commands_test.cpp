// ITS commands (IHI0069 5.3) and their errors (IHI0069 5.5, "ITS command error encodings"), under
// both error policies of vgic_its_config:
//  - VGIC_ITS_ERRORS_SKIP: the failing command is dropped, GITS_CREADR reaches GITS_CWRITER, the
//    error is counted;
//  - VGIC_ITS_ERRORS_STALL: GITS_CREADR.Stalled = 1 with GITS_CREADR.Offset on the failing
//    command; nothing after it runs until GITS_CWRITER is written with Retry = 1 (IHI0069 12.19
//    GITS_CWRITER.Retry, GITS_CREADR.Stalled).
// With GITS_TYPER.SEIS = 1 each error is reported as a System Error carrying its encoding.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "support/its_driver.hpp"

using namespace test;
using namespace gicv3;

namespace {

constexpr uint32_t CTLR = 0x0, CBASER = 0x80, CWRITER = 0x88, BASER = 0x100;
constexpr uint64_t kPaMask = 0x0000'FFFF'FFFF'F000ull;  // GITS_BASER.Physical_Address [47:12]
constexpr uint32_t kDev = 1, kMarkerDev = 2, kUnmappedDev = 9;
constexpr uint32_t kLpi = 8192;        // (kDev, 0) -> kLpi, collection 0 (CPU 0)
constexpr uint32_t kOrphanIcid = 5;    // (kDev, 1) -> kLpi + 1, collection 5: never mapped
constexpr uint32_t kMarkerLpi = 8300;  // (kMarkerDev, 0), mapped by the marker command
const char* policy_name(int p) { return p == VGIC_ITS_ERRORS_SKIP ? "Skip" : "Stall"; }

using Tweak = std::function<void(vgic_its_config&)>;

vgic_config make_cfg(int policy, const Tweak& tweak, unsigned cpus = 2) {
  vgic_config c = Guest::config(cpus);
  c.its[0].error_policy = policy;
  c.its[0].seis = 1;
  if (tweak) tweak(c.its[0]);
  return c;
}

struct Fixture : ItsHarness {
  Fixture(int policy, const Tweak& tweak = {}, ItsOptions opt = {}) : ItsHarness(make_cfg(policy, tweak), opt) {}
  // Collections 0 -> CPU 0 and 1 -> CPU 1; device kDev (4 EventID bits) with event 0 on LPI
  // kLpi (enabled) and event 1 on the unmapped collection kOrphanIcid; device kMarkerDev.
  void base() {
    its.mapc(0, 0);
    its.mapc(1, 1);
    its.mapd(kDev, 4);
    its.mapti(kDev, 0, kLpi, 0);
    its.mapti(kDev, 1, kLpi + 1, kOrphanIcid);
    its.lpi_config(kLpi, 0xa0, true);
    its.inv(kDev, 0);
    its.mapd(kMarkerDev, 4);
  }
  static RawCommand marker() {
    return MaptiCommand{its_cmd::MAPTI, DeviceId(kMarkerDev), EventId(0), kMarkerLpi, CollectionId(0)}.encode();
  }
  bool marker_ran() { return its.msi(kMarkerDev, 0) == 1; }
  void rewrite(uint64_t slot, const RawCommand& c) {
    for (unsigned i = 0; i < 4; ++i) ram.write64(its.queue() + slot + 8 * i, c[i]);
  }
  void set_baser0(uint64_t v) {
    its.gits_write(CTLR, 0, 4);
    its.gits_write(BASER, v);
    its.gits_write(CTLR, 1, 4);
  }
};

// --- Error table -----------------------------------------------------------------------------

struct ErrorCase {
  std::string name;
  uint32_t code;                                     // the error's encoding
  std::function<RawCommand(Fixture&)> bad;           // runs after base(); returns the failing command
  std::function<void(Fixture&, uint64_t slot)> fix;  // the guest removes the cause (else: SYNC over it)
  Tweak tweak = {};
  ItsOptions opt = {};
};

ItsOptions pages4k(bool indirect = false) {
  ItsOptions o;
  o.page_size = 4096;  // 512 eight-byte entries per page
  o.indirect_devices = indirect;
  return o;
}
Tweak cid_bits4 = [](vgic_its_config& c) { c.collection_id_bits = 4; };
Tweak pta1 = [](vgic_its_config& c) { c.pta = 1; };
std::function<void(Fixture&, uint64_t)> rewrite(std::function<RawCommand(Fixture&)> good) {
  return [good](Fixture& f, uint64_t slot) { f.rewrite(slot, good(f)); };
}
template <class C>
std::function<RawCommand(Fixture&)> cmd(C c) {
  return [c](Fixture&) { return c.encode(); };
}
RawCommand mapd(Fixture& f, uint32_t dev, uint8_t size, bool valid = true) {
  return MapdCommand{DeviceId(dev), size, f.ram.alloc(4096, 256), valid}.encode();
}
MaptiCommand mapti(uint8_t op, uint32_t dev, uint32_t ev, uint32_t lpi, uint32_t icid) {
  return {op, DeviceId(dev), EventId(ev), lpi, CollectionId(icid)};
}
RawCommand event_cmd(uint8_t op, uint32_t dev, uint32_t ev) {
  if (op == its_cmd::MOVI) return MoviCommand{DeviceId(dev), EventId(ev), CollectionId(1)}.encode();
  return EventCommand{op, DeviceId(dev), EventId(ev)}.encode();
}
uint64_t gicr_rdbase(unsigned frame64k) { return (0x080A0000ull >> 16) + frame64k; }  // PTA = 1: PA[51:16]

std::vector<ErrorCase> build_error_cases() {
  using its_cmd::MAPI;
  using its_cmd::MAPTI;
  std::vector<ErrorCase> v = {
      // MAPD: DeviceID out of range (GITS_TYPER.Devbits, GITS_BASER0 coverage), ITT size.
      {"MapdDeviceIdBeyondDevbits", 0x010801, [](Fixture& f) { return mapd(f, 0x100, 3); },
       rewrite([](Fixture& f) { return mapd(f, 0xFF, 3); }), [](vgic_its_config& c) { c.device_id_bits = 8; }},
      {"MapdUnmapDeviceIdBeyondDevbits", 0x010801, [](Fixture& f) { return mapd(f, 0x100, 3, false); },
       rewrite([](Fixture& f) { return mapd(f, 0xFF, 3, false); }), [](vgic_its_config& c) { c.device_id_bits = 8; }},
      {"MapdDeviceIdAllOnes", 0x010801, [](Fixture& f) { return mapd(f, 0xFFFFFFFF, 3); },
       rewrite([](Fixture& f) { return mapd(f, 8191, 3); })},  // 64 KiB flat table: 8192 DeviceIDs
      {"MapdDeviceIdBeyondFlatTable", 0x010801, [](Fixture& f) { return mapd(f, 512, 3); },
       [](Fixture& f, uint64_t) {  // the guest gives the device table a second page
         const uint64_t table = f.ram.alloc(8192, 4096);
         f.set_baser0((f.its.gits_read(BASER) & ~kPaMask & ~0xFFull) | table | 1);
       },
       {}, pages4k()},
      {"MapdInvalidLevel1Entry", 0x010801,  // DeviceIDs 512..1023: level-1 entry 1, Valid = 0
       [](Fixture& f) { return mapd(f, 600, 3); },
       [](Fixture& f, uint64_t) { f.ram.write64(f.its.device_table() + 8, f.ram.alloc(4096, 4096) | 1ull << 63); },
       {}, pages4k(true)},
      {"MapdLevel1TableNotInRam", 0x0108E0,  // vgic's kind for memory that is not guest RAM
       [](Fixture& f) {
         f.set_baser0((f.its.gits_read(BASER) & ~kPaMask) | 0x20000000);
         return mapd(f, 5, 3);
       },
       [](Fixture& f, uint64_t) { f.set_baser0((f.its.gits_read(BASER) & ~kPaMask) | f.its.device_table()); },
       {}, pages4k(true)},
      {"MapdIttSizeBeyondIdBits", 0x010802, [](Fixture& f) { return mapd(f, 3, 8); },
       rewrite([](Fixture& f) { return mapd(f, 3, 7); }), [](vgic_its_config& c) { c.event_id_bits = 8; }},
      // MAPC: ICID out of range (CIDbits, GITS_BASER1 coverage), RDbase names no redistributor.
      {"MapcIcidBeyondCidbits", 0x010903, cmd(MapcCommand{CollectionId(16), 0, true}),
       rewrite(cmd(MapcCommand{CollectionId(15), 0, true})), cid_bits4},
      {"MapcUnmapIcidBeyondCidbits", 0x010903, cmd(MapcCommand{CollectionId(16), 0, false}),
       rewrite(cmd(MapcCommand{CollectionId(15), 0, false})), cid_bits4},
      {"MapcIcidBeyondCollectionTable", 0x010903, cmd(MapcCommand{CollectionId(512), 0, true}),
       rewrite(cmd(MapcCommand{CollectionId(511), 0, true})), {}, pages4k()},
      {"MapcRdbaseBeyondCpus", 0x010902, cmd(MapcCommand{CollectionId(2), 2, true}),
       rewrite(cmd(MapcCommand{CollectionId(2), 1, true}))},
      {"MapcRdbaseAllOnes", 0x010902, cmd(MapcCommand{CollectionId(2), 0xF'FFFF'FFFF, true}),
       rewrite(cmd(MapcCommand{CollectionId(2), 0, true}))},
      {"MapcPta1ProcessorNumber", 0x010902, cmd(MapcCommand{CollectionId(2), 1, true}),
       rewrite(cmd(MapcCommand{CollectionId(2), gicr_rdbase(2), true})), pta1},
      {"MapcPta1BeyondLastRedistributor", 0x010902, cmd(MapcCommand{CollectionId(2), gicr_rdbase(4), true}),
       rewrite(cmd(MapcCommand{CollectionId(2), gicr_rdbase(2), true})), pta1},
      {"MapcPta1SgiFrame", 0x010902, cmd(MapcCommand{CollectionId(2), gicr_rdbase(1), true}),
       rewrite(cmd(MapcCommand{CollectionId(2), gicr_rdbase(0), true})), pta1},
      // MAPTI / MAPI.
      {"MaptiUnmappedDevice", 0x010a04, cmd(mapti(MAPTI, kUnmappedDev, 0, 8400, 0)),
       rewrite(cmd(mapti(MAPTI, kDev, 2, 8400, 0)))},
      {"MaptiEventIdBeyondIttSize", 0x010a05, cmd(mapti(MAPTI, kDev, 16, 8400, 0)),
       rewrite(cmd(mapti(MAPTI, kDev, 15, 8400, 0)))},
      {"MaptiIcidBeyondCidbits", 0x010a03, cmd(mapti(MAPTI, kDev, 2, 8400, 16)),
       rewrite(cmd(mapti(MAPTI, kDev, 2, 8400, 0))), cid_bits4},
      {"MaptiIcidBeyondCollectionTable", 0x010a03, cmd(mapti(MAPTI, kDev, 2, 8400, 600)),
       rewrite(cmd(mapti(MAPTI, kDev, 2, 8400, 0))), {}, pages4k()},
      {"MapiUnmappedDevice", 0x010b04, cmd(mapti(MAPI, kUnmappedDev, 8400, 8400, 0)), {}},
      {"MapiEventIdBeyondIttSize", 0x010b05, cmd(mapti(MAPI, kDev, 8400, 8400, 0)), {}},
      {"MapiEventIdIsNoLpi", 0x010b06, cmd(mapti(MAPI, kDev, 5, 5, 0)), {}},
      // MOVI target collection, INVALL, MOVALL.
      {"MoviTargetIcidBeyondCidbits", 0x010103, cmd(MoviCommand{DeviceId(kDev), EventId(0), CollectionId(16)}),
       rewrite(cmd(MoviCommand{DeviceId(kDev), EventId(0), CollectionId(1)})), cid_bits4},
      {"MoviTargetCollectionUnmapped", 0x010109, cmd(MoviCommand{DeviceId(kDev), EventId(0), CollectionId(6)}),
       rewrite(cmd(MoviCommand{DeviceId(kDev), EventId(0), CollectionId(1)}))},
      {"InvallIcidBeyondCidbits", 0x010d03, cmd(InvallCommand{CollectionId(16)}),
       rewrite(cmd(InvallCommand{CollectionId(0)})), cid_bits4},
      {"InvallUnmappedCollection", 0x010d09, cmd(InvallCommand{CollectionId(6)}),
       rewrite(cmd(InvallCommand{CollectionId(0)}))},
      {"MovallRdbase1BeyondCpus", 0x010e01, cmd(MovallCommand{2, 0}), rewrite(cmd(MovallCommand{1, 0}))},
      {"MovallRdbase2BeyondCpus", 0x010e01, cmd(MovallCommand{0, 7}), rewrite(cmd(MovallCommand{0, 1}))},
      {"MovallPta1ProcessorNumber", 0x010e01, cmd(MovallCommand{gicr_rdbase(0), 1}),
       rewrite(cmd(MovallCommand{gicr_rdbase(0), gicr_rdbase(2)})), pta1},
  };
  // pINTID not an LPI of this GIC (lpi_id_bits = 16): below 8192, or at/after 2^16.
  for (uint32_t lpi : {0u, 1023u, 8191u, 65536u, 0xFFFFFFFFu})
    v.push_back({"MaptiPintid" + std::to_string(lpi), 0x010a06, cmd(mapti(MAPTI, kDev, 2, lpi, 0)),
                 rewrite(cmd(mapti(MAPTI, kDev, 2, 8400, 0)))});
  // INT, CLEAR, INV, DISCARD, MOVI on an unmapped device / EventID beyond the ITT / unmapped event /
  // event whose collection is unmapped. Bits [15:8] name the command (CLEAR: 0x05).
  struct Op {
    const char* name;
    uint8_t opcode, field;
  };
  for (Op op : {Op{"Int", its_cmd::INT, 0x03}, Op{"Clear", its_cmd::CLEAR, 0x05}, Op{"Inv", its_cmd::INV, 0x0C},
                Op{"Discard", its_cmd::DISCARD, 0x0F}, Op{"Movi", its_cmd::MOVI, 0x01}}) {
    const uint32_t base = 0x010000 | uint32_t(op.field) << 8;
    const RawCommand good = event_cmd(op.opcode, kDev, 0);
    auto fix = rewrite([good](Fixture&) { return good; });
    auto bad = [&](uint32_t dev, uint32_t ev) { return [c = event_cmd(op.opcode, dev, ev)](Fixture&) { return c; }; };
    v.push_back({std::string(op.name) + "UnmappedDevice", base | 0x04, bad(kUnmappedDev, 0), fix});
    v.push_back({std::string(op.name) + "EventIdBeyondIttSize", base | 0x05, bad(kDev, 16), fix});
    v.push_back({std::string(op.name) + "UnmappedEvent", base | 0x07, bad(kDev, 3), fix});
    if (op.opcode != its_cmd::DISCARD)
      v.push_back({std::string(op.name) + "UnmappedCollection", base | 0x09, bad(kDev, 1), fix});
  }
  // Not physical GICv3 commands (0x20.. are GICv4 commands): vgic's kind 0xFF.
  for (int op : {0x00, 0x02, 0x06, 0x07, 0x10, 0x20, 0x21, 0x2A, 0xFF})
    v.push_back({"UnknownOpcode" + std::to_string(op), 0x0100FFu | uint32_t(op) << 8,
                 cmd(EventCommand{uint8_t(op), DeviceId(kDev), EventId(0)}), {}});
  return v;
}

const std::vector<ErrorCase>& error_cases() {
  static const std::vector<ErrorCase> cases = build_error_cases();
  return cases;
}

class ItsCommandError : public ::testing::TestWithParam<std::tuple<size_t, int>> {};

}  // namespace

TEST_P(ItsCommandError, IsReportedThenSkippedOrStalledUntilRetry) {
  const ErrorCase& c = error_cases()[std::get<0>(GetParam())];
  const int policy = std::get<1>(GetParam());
  Fixture f(policy, c.tweak, c.opt);
  f.base();
  const RawCommand bad = c.bad(f);
  ASSERT_TRUE(f.sei_codes().empty()) << "the base state is error-free";
  ASSERT_FALSE(f.marker_ran());
  const uint64_t errors = f.g.guest_errors();
  const uint64_t slot = f.its.cwriter();
  f.its.enqueue(bad);
  f.its.enqueue(Fixture::marker());
  f.its.flush();
  EXPECT_EQ(f.sei_codes(), std::vector<uint32_t>{c.code});
  EXPECT_EQ(f.g.guest_errors(), errors + 1);
  if (policy == VGIC_ITS_ERRORS_SKIP) {
    EXPECT_EQ(f.its.creadr(), f.its.cwriter()) << "the queue went on";
    EXPECT_TRUE(f.marker_ran());
    return;
  }
  EXPECT_EQ(f.its.creadr(), slot | 1) << "Stalled, Offset on the failing command";
  EXPECT_FALSE(f.marker_ran()) << "the command after it has not run";
  f.its.flush();  // GITS_CWRITER written again, Retry = 0: still stalled
  EXPECT_EQ(f.its.creadr(), slot | 1);
  EXPECT_FALSE(f.marker_ran());
  f.its.retry();  // Retry without removing the cause: the command fails again
  EXPECT_EQ(f.its.creadr(), slot | 1);
  EXPECT_EQ(f.sei_codes(), (std::vector<uint32_t>{c.code, c.code}));
  if (c.fix)
    c.fix(f, slot);
  else
    f.rewrite(slot, SyncCommand{0}.encode());  // the guest replaces the command with a harmless one
  f.its.retry();
  EXPECT_EQ(f.its.creadr(), f.its.cwriter()) << "not stalled; every command done";
  EXPECT_EQ(f.sei_codes().size(), 2u) << "the corrected command succeeded";
  EXPECT_TRUE(f.marker_ran());
}

INSTANTIATE_TEST_SUITE_P(AllErrors, ItsCommandError,
                         ::testing::Combine(::testing::Range<size_t>(0, error_cases().size()),
                                            ::testing::Values(VGIC_ITS_ERRORS_SKIP, VGIC_ITS_ERRORS_STALL)),
                         [](const ::testing::TestParamInfo<std::tuple<size_t, int>>& i) {
                           return error_cases()[std::get<0>(i.param)].name + "_" + policy_name(std::get<1>(i.param));
                         });

// --- The command queue ----------------------------------------------------------------------

class ItsQueue : public ::testing::TestWithParam<int> {};

TEST_P(ItsQueue, QueueMemoryNotInGuestRam) {
  const bool skip = GetParam() == VGIC_ITS_ERRORS_SKIP;
  Fixture f(GetParam());
  const uint64_t errors = f.g.guest_errors();
  // Entirely outside RAM: every command is unreadable (vgic: 0x0100E0, no field of it is used).
  f.its.gits_write(CTLR, 0, 4);
  f.its.gits_write(CBASER, 1ull << 63 | 0x20000000);
  f.its.gits_write(CTLR, 1, 4);
  f.its.gits_write(CWRITER, 64);
  EXPECT_EQ(f.sei_codes(), std::vector<uint32_t>(skip ? 2 : 1, 0x0100E0));
  EXPECT_EQ(f.its.creadr(), skip ? 64u : 1u);
  EXPECT_EQ(f.g.guest_errors(), errors + (skip ? 2 : 1));
  // Two pages, the second beyond the end of RAM (0x40000000 + 4 MiB): the first page runs.
  const uint64_t last_page = 0x40000000 + (4 << 20) - 4096;
  for (uint64_t a = last_page; a < last_page + 4096; a += 32) f.rewrite(a - f.its.queue(), SyncCommand{0}.encode());
  f.its.gits_write(CTLR, 0, 4);
  f.its.gits_write(CBASER, 1ull << 63 | last_page | 1);
  f.its.gits_write(CTLR, 1, 4);
  f.its.gits_write(CWRITER, 4096 + 32);
  EXPECT_EQ(f.sei_codes().size(), skip ? 3u : 2u);
  EXPECT_EQ(f.sei_codes().back(), 0x0100E0u);
  EXPECT_EQ(f.its.creadr(), skip ? 4096u + 32 : 4096u | 1);
}

TEST_P(ItsQueue, CwriterBeyondTheQueueProcessesNothing) {
  Fixture f(GetParam());
  f.base();
  const uint64_t errors = f.g.guest_errors(), creadr = f.its.creadr();
  f.its.enqueue(Fixture::marker());
  f.its.gits_write(CWRITER, f.its.queue_bytes());  // IHI0069 12.19: UNPREDICTABLE; vgic ignores it
  EXPECT_EQ(f.its.creadr(), creadr);
  EXPECT_FALSE(f.marker_ran());
  EXPECT_EQ(f.g.guest_errors(), errors + 1);
  EXPECT_TRUE(f.sei_codes().empty()) << "not a command error";
  f.its.flush();
  EXPECT_TRUE(f.marker_ran());
}

TEST_P(ItsQueue, ABatchStraddlingTheEndOfTheQueueRunsInOrder) {
  Fixture f(GetParam());
  for (int i = 0; i < 120; ++i) f.its.enqueue(SyncCommand{0}.encode());
  f.its.flush();
  ASSERT_EQ(f.its.creadr(), 120u * 32);
  // 16 commands in slots 120..127 then 0..7, published by one GITS_CWRITER write.
  f.its.enqueue(MapcCommand{CollectionId(0), 0, true}.encode());
  f.its.enqueue(mapd(f, 3, 3));
  for (uint32_t e = 0; e < 13; ++e) f.its.enqueue(mapti(its_cmd::MAPTI, 3, e, 8400 + e, 0).encode());
  f.its.enqueue(SyncCommand{0}.encode());
  EXPECT_EQ(f.its.cwriter(), 8u * 32);
  f.its.flush();
  EXPECT_EQ(f.its.creadr(), 8u * 32);
  EXPECT_TRUE(f.sei_codes().empty());
  for (uint32_t e = 0; e < 13; ++e) EXPECT_EQ(f.its.msi(3, e), 1) << e;
}

// Every command in its valid form is no error under either policy, with its effect (IHI0069 5.3).
TEST_P(ItsQueue, EveryCommandOnItsHappyPath) {
  Fixture f(GetParam());
  f.base();
  f.its.mapd(3, 2);
  f.its.mapti(3, 0, 8400, 0);  // MAPTI
  f.its.lpi_config(8400, 0xa0, true);
  f.its.inv(3, 0);  // INV: the configuration is now enabled
  f.its.int_(3, 0);  // INT: pending on CPU 0
  EXPECT_TRUE(f.g.irq(0));
  f.its.clear(3, 0);  // CLEAR: no longer pending
  EXPECT_FALSE(f.g.irq(0));
  f.its.int_(3, 0);
  f.its.movi(3, 0, 1);  // MOVI: the pending state follows to CPU 1
  f.its.sync(1);  // SYNC
  EXPECT_FALSE(f.g.irq(0));
  f.g.set_pmr(1, 0);  // keep it pending on CPU 1
  f.its.movall(1, 0);  // MOVALL: everything pending on CPU 1 moves to CPU 0
  EXPECT_EQ(f.g.ack1(0), 8400u);
  f.g.eoi1(0, 8400);
  f.g.set_pmr(1, 0xff);
  f.its.mapd(4, 14);
  f.its.mapi(4, 9000, 1);  // MAPI: LPI 9000 on collection 1
  f.its.lpi_config(9000, 0x80, true);
  f.its.invall(1);  // INVALL: CPU 1 rereads every configuration
  EXPECT_EQ(f.its.msi(4, 9000), 1);
  EXPECT_EQ(f.g.ack1(1), 9000u);
  f.g.eoi1(1, 9000);
  f.its.discard(3, 0);  // DISCARD: the translation is gone
  EXPECT_EQ(f.its.msi(3, 0), 0);
  f.its.mapc(1, 0);  // MAPC: collection 1 now on CPU 0 (whose cached configuration is older)
  f.its.invall(1);
  EXPECT_EQ(f.its.msi(4, 9000), 1);
  EXPECT_EQ(f.g.ack1(0), 9000u);
  f.g.eoi1(0, 9000);
  EXPECT_TRUE(f.sei_codes().empty());
  EXPECT_EQ(f.its.creadr(), f.its.cwriter());
}

INSTANTIATE_TEST_SUITE_P(Policies, ItsQueue, ::testing::Values(VGIC_ITS_ERRORS_SKIP, VGIC_ITS_ERRORS_STALL),
                         [](const ::testing::TestParamInfo<int>& i) { return std::string(policy_name(i.param)); });

// --- Mapping changes -------------------------------------------------------------------------

TEST(ItsMapping, MapdV0RemovesEveryTranslationAndRemapStartsEmpty) {
  Fixture f(VGIC_ITS_ERRORS_SKIP);
  f.base();
  f.its.mapd(3, 3);
  for (uint32_t e = 0; e < 4; ++e) {
    f.its.mapti(3, e, 8400 + e, 0);
    EXPECT_EQ(f.its.msi(3, e), 1) << "translated (and cached)";
  }
  f.its.mapd(3, 3, false);  // MAPD V = 0
  for (uint32_t e = 0; e < 4; ++e) EXPECT_EQ(f.its.msi(3, e), 0) << e;
  f.its.int_(3, 0);
  EXPECT_EQ(f.sei_codes(), std::vector<uint32_t>{0x010304}) << "INT: unmapped device";
  f.its.mapd(3, 3);  // mapped again with a new (empty) ITT
  EXPECT_EQ(f.its.msi(3, 0), 0);
  f.its.int_(3, 0);
  EXPECT_EQ(f.sei_codes().back(), 0x010307u) << "INT: unmapped interrupt";
  // Remapping a device that is mapped (V = 1 over V = 1) also starts from an empty ITT.
  f.its.mapti(3, 1, 8401, 0);
  EXPECT_EQ(f.its.msi(3, 1), 1);
  f.its.mapd(3, 3);
  EXPECT_EQ(f.its.msi(3, 1), 0);
  EXPECT_EQ(f.its.msi(kDev, 0), 1) << "other devices keep their translations";
}

TEST(ItsMapping, MapcV0UnmapsTheCollectionAndMapcRetargetsIt) {
  Fixture f(VGIC_ITS_ERRORS_SKIP);
  f.base();
  EXPECT_EQ(f.its.msi(kDev, 0), 1);
  EXPECT_EQ(f.g.ack1(0), kLpi);
  f.g.eoi1(0, kLpi);
  f.its.mapc(0, 0, false);  // MAPC V = 0
  EXPECT_EQ(f.its.msi(kDev, 0), 0);
  f.its.int_(kDev, 0);
  EXPECT_EQ(f.sei_codes(), std::vector<uint32_t>{0x010309}) << "INT: unmapped collection";
  f.its.mapc(0, 1);  // the ITE survived; its collection is now on CPU 1
  EXPECT_EQ(f.its.msi(kDev, 0), 1);
  EXPECT_FALSE(f.g.irq(0));
  EXPECT_EQ(f.g.ack1(1), kLpi);
  f.g.eoi1(1, kLpi);
}

TEST(ItsMapping, MaptiRemapsAnExistingEvent) {
  Fixture f(VGIC_ITS_ERRORS_SKIP);
  f.base();
  EXPECT_EQ(f.its.msi(kDev, 0), 1);  // the old translation is cached
  f.g.eoi1(0, f.g.ack1(0));
  f.its.mapti(kDev, 0, 8500, 1);
  f.its.lpi_config(8500, 0xa0, true);
  f.its.inv(kDev, 0);
  EXPECT_EQ(f.its.msi(kDev, 0), 1);
  EXPECT_FALSE(f.g.irq(0)) << "the old LPI is not made pending";
  EXPECT_EQ(f.g.ack1(1), 8500u);
  f.g.eoi1(1, 8500);
  EXPECT_TRUE(f.sei_codes().empty());
}

TEST(ItsSystemErrors, WithoutSeisErrorsAreCountedButNotReported) {
  Fixture f(VGIC_ITS_ERRORS_SKIP, [](vgic_its_config& c) { c.seis = 0; });
  f.base();
  const uint64_t errors = f.g.guest_errors();
  f.its.int_(kUnmappedDev, 0);
  EXPECT_EQ(f.g.guest_errors(), errors + 1);
  EXPECT_TRUE(f.sei_codes().empty());
  EXPECT_EQ((f.its.gits_read(0x8) >> 18) & 1, 0u) << "GITS_TYPER.SEIS";
}

// INT to a Redistributor with EnableLPIs == 0 is no command error (no SEI, no stall) but makes
// nothing pending; vgic counts it as an ignored command.
TEST(ItsSystemErrors, IntToARedistributorWithLpisDisabledIsCountedNotReported) {
  Fixture f(VGIC_ITS_ERRORS_STALL);
  f.base();
  f.g.gicr_write(0, gicr::CTLR, 0);
  const uint64_t errors = f.g.guest_errors();
  f.its.int_(kDev, 0);
  EXPECT_EQ(f.g.guest_errors(), errors + 1);
  EXPECT_TRUE(f.sei_codes().empty());
  EXPECT_EQ(f.its.creadr(), f.its.cwriter()) << "not stalled";
}

// The trace event of a command error names the ITS, the command and its error encoding, and says
// what the queue did; its message is built only for an event the sink receives.
TEST(ItsSystemErrors, ACommandErrorIsTracedWithTheCommandAndItsEncoding) {
  Fixture f(VGIC_ITS_ERRORS_SKIP);
  f.base();
  std::vector<std::string> details;
  vgic_set_trace_sink(
      f.g.gic(),
      [](void* o, const vgic_trace_event* ev) {
        if (std::string(ev->kind) == "its-command") static_cast<std::vector<std::string>*>(o)->push_back(ev->detail);
      },
      &details, 1000);
  f.its.int_(kUnmappedDev, 0);
  ASSERT_EQ(details.size(), 1u);
  EXPECT_EQ(details[0].rfind("ITS0 INT: error 0x010304 (", 0), 0u) << details[0];
  EXPECT_NE(details[0].find("command skipped"), std::string::npos) << details[0];
}

TEST(ItsTwoItses, EachHasItsOwnQueuePolicyAndSystemErrors) {
  vgic_config cfg = make_cfg(VGIC_ITS_ERRORS_STALL, {});
  cfg.nr_its = 2;
  cfg.its[1] = cfg.its[0];
  cfg.its[1].base = 0x08100000;
  cfg.its[1].error_policy = VGIC_ITS_ERRORS_SKIP;
  ItsHarness h(cfg);
  ItsOptions o1;
  o1.its = 1;
  ItsDriver its1(h.g, h.ram, o1);
  its1.init();
  h.its.lpi_config(8192, 0xa0, true);
  h.its.lpi_config(8193, 0xa0, true);
  h.its.mapc(0, 0);
  h.its.mapd(1, 1);  // the same DeviceID on each ITS
  h.its.mapti(1, 0, 8192, 0);
  h.its.inv(1, 0);
  its1.mapc(0, 1);
  its1.mapd(1, 1);
  its1.mapti(1, 0, 8193, 0);
  its1.inv(1, 0);
  h.its.int_(7, 0);  // ITS 0 stalls
  EXPECT_TRUE(h.its.stalled());
  its1.int_(7, 0);  // ITS 1 skips
  its1.sync(1);
  EXPECT_FALSE(its1.stalled());
  EXPECT_EQ(its1.creadr(), its1.cwriter());
  EXPECT_EQ(h.seis(), (std::vector<std::pair<unsigned, uint32_t>>{{0, 0x010304}, {1, 0x010304}}));
  // A stalled queue does not stop translation: ITS 0's existing mapping still works.
  EXPECT_EQ(h.its.msi(1, 0), 1);
  EXPECT_EQ(h.g.ack1(0), 8192u);
  h.g.eoi1(0, 8192);
  EXPECT_EQ(its1.msi(1, 0), 1);
  EXPECT_EQ(h.g.ack1(1), 8193u);
  h.g.eoi1(1, 8193);
}

TEST(ItsPta, RedistributorAddressesInMapcSyncAndMovall) {
  ItsHarness h(make_cfg(VGIC_ITS_ERRORS_SKIP, pta1, 3));
  EXPECT_EQ((h.its.gits_read(0x8) >> 19) & 1, 1u) << "GITS_TYPER.PTA";
  h.its.mapc(0, 2);  // RDbase = PA[51:16] of CPU 2's redistributor
  h.its.mapd(1, 2);
  h.its.mapti(1, 0, 8192, 0);
  h.its.lpi_config(8192, 0xa0, true);
  h.its.inv(1, 0);
  h.its.sync(2);
  h.g.set_pmr(2, 0);
  EXPECT_EQ(h.its.msi(1, 0), 1);
  h.its.movall(2, 1);
  h.its.mapc(0, 1);
  EXPECT_EQ(h.g.ack1(1), 8192u);
  h.g.eoi1(1, 8192);
  h.g.set_pmr(2, 0xff);
  EXPECT_EQ(h.g.ack1(2), kSpurious);
  EXPECT_TRUE(h.sei_codes().empty());
}
