// ITS commands (IHI0069 5.3): the layout of the four 64-bit command words, declared once, and a
// decoded value type per command with decode() and encode() (round-trip tested).
#pragma once

#include <array>
#include <cstdint>

#include "core/bitfield.hpp"
#include "core/types.hpp"

namespace gicv3 {

using RawCommand = std::array<uint64_t, 4>;  // DW0..DW3, little-endian in the queue

namespace its_cmd {
// DW0
using Opcode = Field<0, 8>;
using DeviceID = Field<32, 32>;
// DW1
using EventID = Field<0, 32>;
using Size = Field<0, 5>;       // MAPD: EventID bits - 1
using pINTID = Field<32, 32>;   // MAPTI
// DW2
using ICID = Field<0, 16>;
using ITT_addr = Field<8, 44>;  // MAPD: ITT address bits [51:8]
using RDbase = Field<16, 36>;   // MAPC, SYNC, MOVALL: processor number (PTA = 0) or PA[51:16]
using V = Bit<63>;
// DW3
using RDbase2 = Field<16, 36>;  // MOVALL target

constexpr uint8_t MOVI = 0x01, INT = 0x03, CLEAR = 0x04, SYNC = 0x05, MAPD = 0x08, MAPC = 0x09;
constexpr uint8_t MAPTI = 0x0A, MAPI = 0x0B, INV = 0x0C, INVALL = 0x0D, MOVALL = 0x0E, DISCARD = 0x0F;
}  // namespace its_cmd

struct DeviceId : StrongId<struct DeviceIdTag> {
  using StrongId::StrongId;
};
struct EventId : StrongId<struct EventIdTag> {
  using StrongId::StrongId;
};
struct CollectionId : StrongId<struct CollectionIdTag> {
  using StrongId::StrongId;
};

// Commands that name one event of one device: INT, CLEAR, INV, DISCARD (and MAPI/MAPTI/MOVI add
// fields to it).
struct EventCommand {
  uint8_t opcode;
  DeviceId device;
  EventId event;
  static EventCommand decode(const RawCommand& c) {
    return {uint8_t(its_cmd::Opcode::get(c[0])), DeviceId(uint32_t(its_cmd::DeviceID::get(c[0]))),
            EventId(uint32_t(its_cmd::EventID::get(c[1])))};
  }
  RawCommand encode() const {
    return {its_cmd::Opcode::make(opcode) | its_cmd::DeviceID::make(device.value), its_cmd::EventID::make(event.value), 0, 0};
  }
};

struct MapdCommand {
  DeviceId device;
  uint8_t size;       // EventID bits - 1
  uint64_t itt_addr;  // full address (bits [7:0] zero)
  bool valid;
  static MapdCommand decode(const RawCommand& c) {
    return {DeviceId(uint32_t(its_cmd::DeviceID::get(c[0]))), uint8_t(its_cmd::Size::get(c[1])),
            its_cmd::ITT_addr::get(c[2]) << 8, bool(its_cmd::V::get(c[2]))};
  }
  RawCommand encode() const {
    return {its_cmd::Opcode::make(its_cmd::MAPD) | its_cmd::DeviceID::make(device.value), its_cmd::Size::make(size),
            its_cmd::ITT_addr::make(itt_addr >> 8) | its_cmd::V::make(valid), 0};
  }
};

struct MapcCommand {
  CollectionId collection;
  uint64_t rdbase;  // raw field
  bool valid;
  static MapcCommand decode(const RawCommand& c) {
    return {CollectionId(uint32_t(its_cmd::ICID::get(c[2]))), its_cmd::RDbase::get(c[2]), bool(its_cmd::V::get(c[2]))};
  }
  RawCommand encode() const {
    return {its_cmd::Opcode::make(its_cmd::MAPC), 0,
            its_cmd::ICID::make(collection.value) | its_cmd::RDbase::make(rdbase) | its_cmd::V::make(valid), 0};
  }
};

// MAPTI, and MAPI (pINTID = EventID).
struct MaptiCommand {
  uint8_t opcode;
  DeviceId device;
  EventId event;
  uint32_t pintid;
  CollectionId collection;
  static MaptiCommand decode(const RawCommand& c) {
    const uint8_t op = uint8_t(its_cmd::Opcode::get(c[0]));
    const uint32_t ev = uint32_t(its_cmd::EventID::get(c[1]));
    return {op, DeviceId(uint32_t(its_cmd::DeviceID::get(c[0]))), EventId(ev),
            op == its_cmd::MAPI ? ev : uint32_t(its_cmd::pINTID::get(c[1])),
            CollectionId(uint32_t(its_cmd::ICID::get(c[2])))};
  }
  RawCommand encode() const {
    return {its_cmd::Opcode::make(opcode) | its_cmd::DeviceID::make(device.value),
            its_cmd::EventID::make(event.value) | (opcode == its_cmd::MAPTI ? its_cmd::pINTID::make(pintid) : 0),
            its_cmd::ICID::make(collection.value), 0};
  }
};

struct MoviCommand {
  DeviceId device;
  EventId event;
  CollectionId collection;
  static MoviCommand decode(const RawCommand& c) {
    return {DeviceId(uint32_t(its_cmd::DeviceID::get(c[0]))), EventId(uint32_t(its_cmd::EventID::get(c[1]))),
            CollectionId(uint32_t(its_cmd::ICID::get(c[2])))};
  }
  RawCommand encode() const {
    return {its_cmd::Opcode::make(its_cmd::MOVI) | its_cmd::DeviceID::make(device.value),
            its_cmd::EventID::make(event.value), its_cmd::ICID::make(collection.value), 0};
  }
};

struct InvallCommand {
  CollectionId collection;
  static InvallCommand decode(const RawCommand& c) { return {CollectionId(uint32_t(its_cmd::ICID::get(c[2])))}; }
  RawCommand encode() const { return {its_cmd::Opcode::make(its_cmd::INVALL), 0, its_cmd::ICID::make(collection.value), 0}; }
};

struct SyncCommand {
  uint64_t rdbase;
  static SyncCommand decode(const RawCommand& c) { return {its_cmd::RDbase::get(c[2])}; }
  RawCommand encode() const { return {its_cmd::Opcode::make(its_cmd::SYNC), 0, its_cmd::RDbase::make(rdbase), 0}; }
};

struct MovallCommand {
  uint64_t rdbase1, rdbase2;
  static MovallCommand decode(const RawCommand& c) { return {its_cmd::RDbase::get(c[2]), its_cmd::RDbase2::get(c[3])}; }
  RawCommand encode() const {
    return {its_cmd::Opcode::make(its_cmd::MOVALL), 0, its_cmd::RDbase::make(rdbase1), its_cmd::RDbase2::make(rdbase2)};
  }
};

// Command error encodings (IHI0069, ITS command error encodings): 0x01 << 16 | command << 8 | kind,
// the values that Linux/KVM use. The command field is the opcode, except for CLEAR (0x04), whose
// errors are 0x0105xx (Linux E_ITS_CLEAR_UNMAPPED_INTERRUPT = 0x010507, Arm GIC-600 CLEAR_* = 0x105xx).
namespace its_err {
constexpr uint8_t kDeviceOor = 0x01;       // DeviceID out of range
constexpr uint8_t kSizeOor = 0x02;         // MAPD ITT size / MAPC, MOVALL, SYNC processor out of range
constexpr uint8_t kCollectionOor = 0x03;   // ICID out of range
constexpr uint8_t kUnmappedDevice = 0x04;
constexpr uint8_t kIdOor = 0x05;           // EventID out of range
constexpr uint8_t kPhysicalIdOor = 0x06;   // pINTID not an LPI in range
constexpr uint8_t kUnmappedInterrupt = 0x07;
constexpr uint8_t kUnmappedCollection = 0x09;
constexpr uint8_t kRdbaseOor = 0x01;       // MOVALL/SYNC: RDbase names no redistributor
// vgic's own kinds (IMPLEMENTATION DEFINED; see docs/spec-deviations.md):
constexpr uint8_t kTableUnreadable = 0xE0;  // a level-1 table entry or the queue could not be read
constexpr uint8_t kNoResources = 0xE1;      // the host memory budget is exhausted
constexpr uint8_t kSyncRdbaseOor = 0xE2;    // SYNC: RDbase names no redistributor (no architected code)
constexpr uint8_t kUnknownCommand = 0xFF;
constexpr uint32_t code(uint8_t opcode, uint8_t kind) {
  return 0x010000u | uint32_t(opcode == its_cmd::CLEAR ? 0x05 : opcode) << 8 | kind;
}
}  // namespace its_err

}  // namespace gicv3
