// The KVM ITS table ABI, revision 0 (Linux Documentation/virt/kvm/devices/arm-vgic-its.rst, "ITS
// Table ABI REV0"): the layout of the 8-byte little-endian entries KVM_DEV_ARM_ITS_SAVE_TABLES
// writes into the guest's tables and KVM_DEV_ARM_ITS_RESTORE_TABLES reads back. Each field is
// declared once; the decoded value types round-trip every 64-bit word (tests/its/its_abi_test.cpp).
//
//   Device Table Entry   | 63 V | 62..49 Next | 48..5 ITT_addr (ITT address bits [51:8]) | 4..0 Size |
//   Collection T. Entry  | 63 V | 62..52 RES0 | 51..16 RDBase (processor number) | 15..0 ICID |
//   Interrupt T. Entry   | 63..48 Next | 47..16 pINTID (0: entry invalid) | 15..0 ICID |
//
// The device table is indexed by DeviceID and an ITT by EventID; the collection table is a list in
// no particular order, ended by an invalid entry when it is not full (arm-vgic-its.rst).
#pragma once

#include <cstdint>

#include "core/bitfield.hpp"

namespace gicv3 {

namespace ITS_DTE {
using Valid = Bit<63>;
using Next = Field<49, 14>;      // DeviceID offset to the next valid DTE; 0: the last one
using ITT_addr = Field<5, 44>;   // ITT address bits [51:8] (the ITT is 256-byte aligned)
using Size = Field<0, 5>;        // EventID bits - 1
}  // namespace ITS_DTE

namespace ITS_CTE {
using Valid = Bit<63>;
using RES0 = Field<52, 11>;
using RDBase = Field<16, 36>;    // the target's processor number (GICR_TYPER.Processor_Number), as PTA = 0
using ICID = Field<0, 16>;
// KVM's COLLECTION_NOT_MAPPED: a collection an ITE names that no MAPC mapped. KVM saves it with
// this RDBase; vgic restores it as an unmapped collection.
constexpr uint64_t kNotMapped = 0xFFFFFFFF;
}  // namespace ITS_CTE

namespace ITS_ITE {
using Next = Field<48, 16>;      // EventID offset to the next valid ITE; 0: the last one
using pINTID = Field<16, 32>;    // 0: the entry is not valid
using ICID = Field<0, 16>;
}  // namespace ITS_ITE

namespace its_abi {
constexpr unsigned kEntrySize = 8;   // DTE, CTE, ITE (GITS_TYPER.ITT_entry_size = 8 - 1)
constexpr uint32_t kRevision = 0;    // GITS_IIDR.Revision selects the ABI (arm-vgic-its.rst)

// "Next" as KVM computes it (compute_next_devid_offset / compute_next_eventid_offset): the ID
// distance to the next valid entry, capped at the field's maximum; 0 for the last entry.
template <class NextField>
constexpr uint64_t next_offset(uint64_t id, uint64_t next_id, bool is_last) {
  if (is_last) return 0;
  const uint64_t d = next_id - id;
  return d < NextField::max ? d : NextField::max;
}
}  // namespace its_abi

struct DeviceTableEntry {
  bool valid = false;
  uint16_t next = 0;
  uint64_t itt_addr = 0;  // full address; bits [7:0] and [63:52] are zero
  uint8_t size = 0;       // EventID bits - 1
  static constexpr DeviceTableEntry decode(uint64_t w) {
    return {bool(ITS_DTE::Valid::get(w)), uint16_t(ITS_DTE::Next::get(w)), ITS_DTE::ITT_addr::get(w) << 8,
            uint8_t(ITS_DTE::Size::get(w))};
  }
  constexpr uint64_t encode() const {
    return ITS_DTE::Valid::make(valid) | ITS_DTE::Next::make(next) | ITS_DTE::ITT_addr::make(itt_addr >> 8) |
           ITS_DTE::Size::make(size);
  }
  constexpr bool operator==(const DeviceTableEntry&) const = default;
};

struct CollectionTableEntry {
  bool valid = false;
  uint64_t rdbase = 0;  // processor number, or ITS_CTE::kNotMapped
  uint16_t icid = 0;
  uint16_t res0 = 0;    // kept so that decode/encode round-trip; RESTORE refuses a non-zero value
  static constexpr CollectionTableEntry decode(uint64_t w) {
    return {bool(ITS_CTE::Valid::get(w)), ITS_CTE::RDBase::get(w), uint16_t(ITS_CTE::ICID::get(w)),
            uint16_t(ITS_CTE::RES0::get(w))};
  }
  constexpr uint64_t encode() const {
    return ITS_CTE::Valid::make(valid) | ITS_CTE::RES0::make(res0) | ITS_CTE::RDBase::make(rdbase) |
           ITS_CTE::ICID::make(icid);
  }
  constexpr bool operator==(const CollectionTableEntry&) const = default;
};

struct InterruptTableEntry {
  uint16_t next = 0;
  uint32_t pintid = 0;
  uint16_t icid = 0;
  constexpr bool valid() const { return pintid != 0; }
  static constexpr InterruptTableEntry decode(uint64_t w) {
    return {uint16_t(ITS_ITE::Next::get(w)), uint32_t(ITS_ITE::pINTID::get(w)), uint16_t(ITS_ITE::ICID::get(w))};
  }
  constexpr uint64_t encode() const {
    return ITS_ITE::Next::make(next) | ITS_ITE::pINTID::make(pintid) | ITS_ITE::ICID::make(icid);
  }
  constexpr bool operator==(const InterruptTableEntry&) const = default;
};

}  // namespace gicv3
