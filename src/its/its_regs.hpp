// GITS register offsets and fields (IHI0069 12.19), declared once.
#pragma once

#include "core/bitfield.hpp"

namespace gicv3 {

namespace GITS_CTLR {
using Enabled = Bit<0>;
using Quiescent = Bit<31>;
}  // namespace GITS_CTLR

namespace GITS_IIDR {
using Implementer = Field<0, 12>;
using Revision = Field<12, 4>;  // KVM: the ITS table ABI revision (arm-vgic-its.rst)
using Variant = Field<16, 4>;
using ProductID = Field<24, 8>;
}  // namespace GITS_IIDR

namespace GITS_TYPER {
using Physical = Bit<0>;
using Virtual = Bit<1>;
using CCT = Bit<2>;
using ITT_entry_size = Field<4, 4>;  // bytes - 1
using ID_bits = Field<8, 5>;         // EventID bits - 1
using Devbits = Field<13, 5>;        // DeviceID bits - 1
using SEIS = Bit<18>;
using PTA = Bit<19>;
using HCC = Field<24, 8>;
using CIDbits = Field<32, 4>;        // ICID bits - 1, when CIL == 1
using CIL = Bit<36>;
}  // namespace GITS_TYPER

namespace GITS_CBASER {
using Size = Field<0, 8>;  // 4 KiB pages - 1
using Shareability = Field<10, 2>;
using Physical_Address = Field<12, 40>;  // PA[51:12]
using OuterCache = Field<53, 3>;
using InnerCache = Field<59, 3>;
using Valid = Bit<63>;
}  // namespace GITS_CBASER

// GITS_CWRITER / GITS_CREADR
namespace GITS_CQ {
using Retry = Bit<0>;    // CWRITER
using Stalled = Bit<0>;  // CREADR
using Offset = Field<5, 15>;
}  // namespace GITS_CQ

namespace GITS_BASER {
using Size = Field<0, 8>;  // pages - 1
using Page_Size = Field<8, 2>;  // 0: 4 KiB, 1: 16 KiB, 2: 64 KiB
using Shareability = Field<10, 2>;
using Physical_Address = Field<12, 36>;  // PA[47:12]; with 64 KiB pages bits [15:12] hold PA[51:48]
using Entry_Size = Field<48, 5>;  // bytes - 1 (read-only)
using OuterCache = Field<53, 3>;
using Type = Field<56, 3>;        // read-only
using InnerCache = Field<59, 3>;
using Indirect = Bit<62>;
using Valid = Bit<63>;
constexpr uint64_t kTypeNone = 0, kTypeDevice = 1, kTypeVpe = 2, kTypeCollection = 4;
}  // namespace GITS_BASER

// Level-1 entry of an indirect (two-level) table (IHI0069 5.2.1).
namespace ITS_L1_ENTRY {
using Physical_Address = Field<12, 40>;  // PA[51:12] of the level-2 page
using Valid = Bit<63>;
}  // namespace ITS_L1_ENTRY

namespace gits_off {
constexpr uint32_t CTLR = 0x0000, IIDR = 0x0004, TYPER = 0x0008, MPAMIDR = 0x0010, PARTIDR = 0x0014;
constexpr uint32_t MPIDR = 0x0018, STATUSR = 0x0040, UMSIR = 0x0048, CBASER = 0x0080, CWRITER = 0x0088;
constexpr uint32_t CREADR = 0x0090, BASER = 0x0100, ID_REGS = 0xFFD0;
constexpr uint32_t TRANSLATER = 0x0040;  // in the translation frame (control frame + 64 KiB)
constexpr uint32_t kFrameSize = 0x10000;
}  // namespace gits_off

}  // namespace gicv3
