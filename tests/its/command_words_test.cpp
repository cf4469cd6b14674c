// ITS command words (IHI0069 5.3, "ITS commands"): the decoded value types round-trip through
// encode()/decode(), decode() reads each field from the position the architecture gives it (the
// layouts below are written out here, independently of its/its_command_words.hpp), and the
// command error encodings (IHI0069 5.5 / Linux E_ITS_*) have the values KVM uses.
#include <gtest/gtest.h>

#include <random>
#include <tuple>

#include "its/its_command_words.hpp"

using namespace gicv3;

namespace {

// Field values used for the round trips: all zero, every field at its maximum, then random values.
struct Values {
  enum Mode { zero, max, random } mode;
  std::mt19937_64& rng;
  uint64_t operator()(unsigned bits) const {
    const uint64_t m = bits >= 64 ? ~0ull : (1ull << bits) - 1;
    return mode == zero ? 0 : mode == max ? m : rng() & m;
  }
};

template <class F>
void for_each_value_set(F&& f) {
  std::mt19937_64 rng(0x175e9b1d);
  f(Values{Values::zero, rng});
  f(Values{Values::max, rng});
  for (int i = 0; i < 200; ++i) f(Values{Values::random, rng});
}

// Round trip: decode(encode(c)) == c, and encode(decode(raw)) == raw for the canonical raw words.
template <class Cmd, class Fields>
void round_trip(const Cmd& c, Fields fields) {
  const RawCommand raw = c.encode();
  EXPECT_EQ(fields(Cmd::decode(raw)), fields(c));
  EXPECT_EQ(Cmd::decode(raw).encode(), raw);
}

auto event_fields = [](const EventCommand& c) { return std::tuple(c.opcode, c.device.value, c.event.value); };
auto mapd_fields = [](const MapdCommand& c) { return std::tuple(c.device.value, c.size, c.itt_addr, c.valid); };
auto mapc_fields = [](const MapcCommand& c) { return std::tuple(c.collection.value, c.rdbase, c.valid); };
auto mapti_fields = [](const MaptiCommand& c) {
  return std::tuple(c.opcode, c.device.value, c.event.value, c.pintid, c.collection.value);
};
auto movi_fields = [](const MoviCommand& c) { return std::tuple(c.device.value, c.event.value, c.collection.value); };

}  // namespace

TEST(ItsCommandWords, EventCommandsRoundTrip) {
  for (uint8_t op : {its_cmd::INT, its_cmd::CLEAR, its_cmd::INV, its_cmd::DISCARD})
    for_each_value_set([&](const Values& v) {
      round_trip(EventCommand{op, DeviceId(uint32_t(v(32))), EventId(uint32_t(v(32)))}, event_fields);
    });
}

TEST(ItsCommandWords, MapdRoundTrip) {
  for_each_value_set([&](const Values& v) {
    // Size is 5 bits; ITT_addr holds address bits [51:8] (the ITT is 256-byte aligned).
    round_trip(MapdCommand{DeviceId(uint32_t(v(32))), uint8_t(v(5)), v(44) << 8, v(1) != 0}, mapd_fields);
  });
}

TEST(ItsCommandWords, MapcRoundTrip) {
  for_each_value_set([&](const Values& v) {
    round_trip(MapcCommand{CollectionId(uint32_t(v(16))), v(36), v(1) != 0}, mapc_fields);
  });
}

TEST(ItsCommandWords, MaptiAndMapiRoundTrip) {
  for_each_value_set([&](const Values& v) {
    const uint32_t dev = uint32_t(v(32)), ev = uint32_t(v(32)), pintid = uint32_t(v(32)), icid = uint32_t(v(16));
    round_trip(MaptiCommand{its_cmd::MAPTI, DeviceId(dev), EventId(ev), pintid, CollectionId(icid)}, mapti_fields);
    // MAPI has no pINTID field: the LPI is the EventID.
    round_trip(MaptiCommand{its_cmd::MAPI, DeviceId(dev), EventId(ev), ev, CollectionId(icid)}, mapti_fields);
  });
}

TEST(ItsCommandWords, MoviInvallSyncMovallRoundTrip) {
  for_each_value_set([&](const Values& v) {
    round_trip(MoviCommand{DeviceId(uint32_t(v(32))), EventId(uint32_t(v(32))), CollectionId(uint32_t(v(16)))},
               movi_fields);
    round_trip(InvallCommand{CollectionId(uint32_t(v(16)))},
               [](const InvallCommand& c) { return std::tuple(c.collection.value); });
    round_trip(SyncCommand{v(36)}, [](const SyncCommand& c) { return std::tuple(c.rdbase); });
    round_trip(MovallCommand{v(36), v(36)}, [](const MovallCommand& c) { return std::tuple(c.rdbase1, c.rdbase2); });
  });
}

// --- Decoding hand-built words (IHI0069 5.3, the command descriptions). DW0 [7:0] is the command
// number in every command.

namespace {
constexpr uint64_t kJunk = 0xA5A5A5A5A5A5A5A5ull;  // fills RES0 bits: decode() must not look at them
uint64_t dw0(uint8_t op, uint32_t dev, bool junk = false) {
  return op | uint64_t(dev) << 32 | (junk ? kJunk & 0xFFFFFF00ull : 0);  // DeviceID: DW0 [63:32]
}
}  // namespace

TEST(ItsCommandWords, DecodeEventCommandsFromArchitecturalLayout) {
  // INT 0x03, CLEAR 0x04, INV 0x0C, DISCARD 0x0F: DeviceID DW0 [63:32], EventID DW1 [31:0].
  for (uint8_t op : {uint8_t(0x03), uint8_t(0x04), uint8_t(0x0C), uint8_t(0x0F)}) {
    const RawCommand raw{dw0(op, 0xDEADBEEF), 0x12345678, 0, 0};
    EXPECT_EQ(event_fields(EventCommand::decode(raw)), std::tuple(op, 0xDEADBEEFu, 0x12345678u));
    EXPECT_EQ((EventCommand{op, DeviceId(0xDEADBEEF), EventId(0x12345678)}.encode()), raw) << "RES0 bits are 0";
    const RawCommand junk{dw0(op, 0xDEADBEEF, true), 0x12345678 | (kJunk << 32), kJunk, kJunk};
    EXPECT_EQ(event_fields(EventCommand::decode(junk)), std::tuple(op, 0xDEADBEEFu, 0x12345678u));
  }
}

TEST(ItsCommandWords, DecodeMapdFromArchitecturalLayout) {
  // MAPD 0x08: Size DW1 [4:0], ITT_addr DW2 [51:8], V DW2 [63].
  const uint64_t itt = 0x000F'EDCB'A987'6500ull;  // 52-bit address, 256-byte aligned
  const RawCommand raw{dw0(0x08, 77), 17, itt | 1ull << 63, 0};
  EXPECT_EQ(mapd_fields(MapdCommand::decode(raw)), std::tuple(77u, uint8_t(17), itt, true));
  EXPECT_EQ((MapdCommand{DeviceId(77), 17, itt, true}.encode()), raw);
  const RawCommand junk{dw0(0x08, 77, true), 17 | (kJunk & ~0x1Full), itt | (kJunk & 0x7FF00000000000FFull), kJunk};
  EXPECT_EQ(mapd_fields(MapdCommand::decode(junk)), std::tuple(77u, uint8_t(17), itt, false));
}

TEST(ItsCommandWords, DecodeMapcFromArchitecturalLayout) {
  // MAPC 0x09: ICID DW2 [15:0], RDbase DW2 [51:16], V DW2 [63].
  const uint64_t rd = 0xF'1234'5678ull;  // 36 bits
  const RawCommand raw{0x09, 0, 0xBEEF | rd << 16 | 1ull << 63, 0};
  EXPECT_EQ(mapc_fields(MapcCommand::decode(raw)), std::tuple(0xBEEFu, rd, true));
  EXPECT_EQ((MapcCommand{CollectionId(0xBEEF), rd, true}.encode()), raw);
  const RawCommand junk{0x09 | (kJunk & ~0xFFull), kJunk, 0xBEEF | rd << 16 | (kJunk & 0x7FF0000000000000ull), kJunk};
  EXPECT_EQ(mapc_fields(MapcCommand::decode(junk)), std::tuple(0xBEEFu, rd, false));
}

TEST(ItsCommandWords, DecodeMaptiAndMapiFromArchitecturalLayout) {
  // MAPTI 0x0A: EventID DW1 [31:0], pINTID DW1 [63:32], ICID DW2 [15:0].
  const RawCommand mapti{dw0(0x0A, 5), 0x00010000ull << 32 | 0xABCD, 0x1234, 0};
  EXPECT_EQ(mapti_fields(MaptiCommand::decode(mapti)), std::tuple(uint8_t(0x0A), 5u, 0xABCDu, 0x10000u, 0x1234u));
  EXPECT_EQ((MaptiCommand{its_cmd::MAPTI, DeviceId(5), EventId(0xABCD), 0x10000, CollectionId(0x1234)}.encode()),
            mapti);
  // MAPI 0x0B: no pINTID field (DW1 [63:32] RES0); the LPI is the EventID.
  const RawCommand mapi{dw0(0x0B, 5), kJunk << 32 | 0x2345, 0x1234 | (kJunk & ~0xFFFFull), kJunk};
  EXPECT_EQ(mapti_fields(MaptiCommand::decode(mapi)), std::tuple(uint8_t(0x0B), 5u, 0x2345u, 0x2345u, 0x1234u));
  EXPECT_EQ((MaptiCommand{its_cmd::MAPI, DeviceId(5), EventId(0x2345), 0x2345, CollectionId(0x1234)}.encode()),
            (RawCommand{dw0(0x0B, 5), 0x2345, 0x1234, 0}));
}

TEST(ItsCommandWords, DecodeMoviInvallSyncMovallFromArchitecturalLayout) {
  // MOVI 0x01: DeviceID, EventID DW1 [31:0], ICID DW2 [15:0].
  const RawCommand movi{dw0(0x01, 0xFFFFFFFF), 0xFFFFFFFF, 0xFFFF, 0};
  EXPECT_EQ(movi_fields(MoviCommand::decode(movi)), std::tuple(0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFu));
  EXPECT_EQ((MoviCommand{DeviceId(0xFFFFFFFF), EventId(0xFFFFFFFF), CollectionId(0xFFFF)}.encode()), movi);
  // INVALL 0x0D: ICID DW2 [15:0].
  EXPECT_EQ(InvallCommand::decode({0x0D, kJunk, 0x4321 | (kJunk & ~0xFFFFull), kJunk}).collection.value, 0x4321u);
  EXPECT_EQ((InvallCommand{CollectionId(0x4321)}.encode()), (RawCommand{0x0D, 0, 0x4321, 0}));
  // SYNC 0x05: RDbase DW2 [51:16].
  EXPECT_EQ(SyncCommand::decode({0x05, 0, 0xFFFF'FFFF'FFFF'FFFFull, 0}).rdbase, 0xF'FFFF'FFFFull);
  EXPECT_EQ((SyncCommand{0xF'FFFF'FFFFull}.encode()), (RawCommand{0x05, 0, 0x000F'FFFF'FFFF'0000ull, 0}));
  // MOVALL 0x0E: RDbase1 DW2 [51:16], RDbase2 DW3 [51:16].
  const MovallCommand m =
      MovallCommand::decode({0x0E, kJunk, 3ull << 16 | 0xFFFF, 0xFFF0'0000'0000'0000ull | 7ull << 16 | 0xFFFF});
  EXPECT_EQ(std::tuple(m.rdbase1, m.rdbase2), std::tuple(3ull, 7ull));
  EXPECT_EQ((MovallCommand{3, 7}.encode()), (RawCommand{0x0E, 0, 3ull << 16, 7ull << 16}));
}

TEST(ItsCommandWords, OpcodeIsTheLowByteOfDw0) {
  for (unsigned op = 0; op < 256; ++op) {
    const RawCommand raw{uint64_t(op) | 0xFFFFFFFF00ull, 0, 0, 0};
    EXPECT_EQ(EventCommand::decode(raw).opcode, op);
  }
}

// --- Command error encodings: 0x01 in [23:16], the command in [15:8], the error in [7:0]. The
// expected values are the E_ITS_* constants of Linux's include/linux/irqchip/arm-gic-v3.h (KVM
// reports them), plus the other architectural kinds following the same scheme.

TEST(ItsCommandErrors, CodesEqualTheLinuxConstants) {
  struct Case {
    const char* linux_name;
    uint8_t opcode, kind;
    uint32_t expect;
  };
  const Case cases[] = {
      {"E_ITS_MOVI_UNMAPPED_INTERRUPT", its_cmd::MOVI, its_err::kUnmappedInterrupt, 0x010107},
      {"E_ITS_MOVI_UNMAPPED_COLLECTION", its_cmd::MOVI, its_err::kUnmappedCollection, 0x010109},
      {"E_ITS_INT_UNMAPPED_INTERRUPT", its_cmd::INT, its_err::kUnmappedInterrupt, 0x010307},
      // CLEAR's opcode is 0x04, but its errors are 0x0105xx.
      {"E_ITS_CLEAR_UNMAPPED_INTERRUPT", its_cmd::CLEAR, its_err::kUnmappedInterrupt, 0x010507},
      {"E_ITS_MAPD_DEVICE_OOR", its_cmd::MAPD, its_err::kDeviceOor, 0x010801},
      {"E_ITS_MAPD_ITTSIZE_OOR", its_cmd::MAPD, its_err::kSizeOor, 0x010802},
      {"E_ITS_MAPC_PROCNUM_OOR", its_cmd::MAPC, its_err::kSizeOor, 0x010902},
      {"E_ITS_MAPC_COLLECTION_OOR", its_cmd::MAPC, its_err::kCollectionOor, 0x010903},
      {"E_ITS_MAPTI_UNMAPPED_DEVICE", its_cmd::MAPTI, its_err::kUnmappedDevice, 0x010a04},
      {"E_ITS_MAPTI_ID_OOR", its_cmd::MAPTI, its_err::kIdOor, 0x010a05},
      {"E_ITS_MAPTI_PHYSICALID_OOR", its_cmd::MAPTI, its_err::kPhysicalIdOor, 0x010a06},
      {"E_ITS_INV_UNMAPPED_INTERRUPT", its_cmd::INV, its_err::kUnmappedInterrupt, 0x010c07},
      {"E_ITS_INVALL_UNMAPPED_COLLECTION", its_cmd::INVALL, its_err::kUnmappedCollection, 0x010d09},
      {"E_ITS_MOVALL_PROCNUM_OOR", its_cmd::MOVALL, its_err::kRdbaseOor, 0x010e01},
      {"E_ITS_DISCARD_UNMAPPED_INTERRUPT", its_cmd::DISCARD, its_err::kUnmappedInterrupt, 0x010f07},
      // Same scheme, not in Linux's list.
      {"MAPI unmapped device", its_cmd::MAPI, its_err::kUnmappedDevice, 0x010b04},
      {"MAPTI collection OOR", its_cmd::MAPTI, its_err::kCollectionOor, 0x010a03},
      {"CLEAR unmapped device", its_cmd::CLEAR, its_err::kUnmappedDevice, 0x010504},
      {"CLEAR ID OOR", its_cmd::CLEAR, its_err::kIdOor, 0x010505},
      {"INT unmapped collection", its_cmd::INT, its_err::kUnmappedCollection, 0x010309},
      {"INVALL collection OOR", its_cmd::INVALL, its_err::kCollectionOor, 0x010d03},
      {"DISCARD unmapped device", its_cmd::DISCARD, its_err::kUnmappedDevice, 0x010f04},
  };
  for (const Case& c : cases) EXPECT_EQ(its_err::code(c.opcode, c.kind), c.expect) << c.linux_name;
}

TEST(ItsCommandErrors, VgicKindsUseTheSameScheme) {
  // vgic's IMPLEMENTATION DEFINED kinds (docs/spec-deviations.md): 0xE0 unreadable table/queue,
  // 0xE1 host budget exhausted, 0xFF not a command.
  EXPECT_EQ(its_err::code(its_cmd::MAPD, its_err::kTableUnreadable), 0x0108E0u);
  EXPECT_EQ(its_err::code(its_cmd::MAPD, its_err::kNoResources), 0x0108E1u);
  EXPECT_EQ(its_err::code(its_cmd::MAPTI, its_err::kNoResources), 0x010AE1u);
  EXPECT_EQ(its_err::code(0x20, its_err::kUnknownCommand), 0x0120FFu);
  EXPECT_EQ(its_err::code(0x00, its_err::kTableUnreadable), 0x0100E0u);
}
