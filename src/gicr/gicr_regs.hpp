// GICR register offsets and fields (IHI0069 12.11), declared once.
#pragma once

#include "core/bitfield.hpp"

namespace gicv3 {

namespace GICR_CTLR {
using EnableLPIs = Bit<0>;
using CES = Bit<1>;   // clearing EnableLPIs is supported
using IR = Bit<2>;    // LPI invalidate registers are implemented
using RWP = Bit<3>;
using DPG0 = Bit<24>;
using DPG1NS = Bit<25>;
using DPG1S = Bit<26>;
using UWP = Bit<31>;
}  // namespace GICR_CTLR

namespace GICR_TYPER {
using PLPIS = Bit<0>;
using VLPIS = Bit<1>;
using Dirty = Bit<2>;
using DirectLPI = Bit<3>;
using Last = Bit<4>;
using DPGS = Bit<5>;
using MPAM = Bit<6>;
using RVPEID = Bit<7>;
using Processor_Number = Field<8, 16>;
using CommonLPIAff = Field<24, 2>;
using VSGI = Bit<26>;
using PPInum = Field<27, 5>;
using Affinity = Field<32, 32>;
}  // namespace GICR_TYPER

namespace GICR_WAKER {
using ProcessorSleep = Bit<1>;
using ChildrenAsleep = Bit<2>;
}  // namespace GICR_WAKER

namespace GICR_PROPBASER {
using IDbits = Field<0, 5>;
using InnerCache = Field<7, 3>;
using Shareability = Field<10, 2>;
using Physical_Address = Field<12, 40>;  // PA[51:12]
using OuterCache = Field<56, 3>;

// What a Redistributor takes from GICR_PROPBASER at EnableLPIs 0 -> 1 (IHI0069 12.11): the table
// address, and the end of the LPI INTID range, limited by both IDbits and the GIC's lpi_id_bits
// (GICD_TYPER.IDbits); fewer than 14 bits leave no LPI in range (limit 0).
constexpr uint64_t table_address(uint64_t propbaser) { return Physical_Address::get(propbaser) << 12; }
constexpr uint32_t lpi_limit(uint64_t propbaser, unsigned lpi_id_bits) {
  const uint64_t idbits = IDbits::get(propbaser) + 1;
  const unsigned bits = idbits < lpi_id_bits ? unsigned(idbits) : lpi_id_bits;
  return bits >= 14 ? uint32_t(1u << bits) : 0;
}
// The fields vgic implements (a guest write keeps these; the rest is RES0 here).
constexpr uint64_t kWritable = mask_of<IDbits, InnerCache, Shareability, Physical_Address, OuterCache>();
}  // namespace GICR_PROPBASER

namespace GICR_PENDBASER {
using InnerCache = Field<7, 3>;
using Shareability = Field<10, 2>;
using Physical_Address = Field<16, 36>;  // PA[51:16]
using OuterCache = Field<56, 3>;
using PTZ = Bit<62>;
// The fields vgic implements; PTZ is write-only (it reads 0, so it is not kept in the register).
constexpr uint64_t kWritable = mask_of<InnerCache, Shareability, Physical_Address, OuterCache, PTZ>();
constexpr uint64_t kStored = kWritable & ~PTZ::mask;
}  // namespace GICR_PENDBASER

// GICR_SETLPIR / CLRLPIR / INVLPIR (IHI0069 12.11: DirectLPI registers)
namespace GICR_LPIR {
using pINTID = Field<0, 32>;
using V = Bit<63>;  // INVLPIR: virtual LPI (GICv4.1); not supported here
}  // namespace GICR_LPIR

namespace gicr_off {
// RD_base frame
constexpr uint32_t CTLR = 0x0000, IIDR = 0x0004, TYPER = 0x0008, STATUSR = 0x0010, WAKER = 0x0014;
constexpr uint32_t MPAMIDR = 0x0018, PARTIDR = 0x001C, SETLPIR = 0x0040, CLRLPIR = 0x0048;
constexpr uint32_t PROPBASER = 0x0070, PENDBASER = 0x0078, INVLPIR = 0x00A0, INVALLR = 0x00B0;
constexpr uint32_t SYNCR = 0x00C0, ID_REGS = 0xFFD0;
// SGI_base frame (offsets within that frame)
constexpr uint32_t IGROUPR0 = 0x0080, ISENABLER0 = 0x0100, ICENABLER0 = 0x0180, ISPENDR0 = 0x0200;
constexpr uint32_t ICPENDR0 = 0x0280, ISACTIVER0 = 0x0300, ICACTIVER0 = 0x0380, IPRIORITYR = 0x0400;
constexpr uint32_t ICFGR0 = 0x0C00, ICFGR1 = 0x0C04, IGRPMODR0 = 0x0D00, NSACR = 0x0E00, INMIR0 = 0x0F80;
constexpr uint32_t kFrameSize = 0x10000;
constexpr uint32_t kStride = 2 * kFrameSize;  // RD_base + SGI_base (no VLPI frames: GICv3)
}  // namespace gicr_off

}  // namespace gicv3
