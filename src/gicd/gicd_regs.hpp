// GICD register offsets and fields (IHI0069 12.9), declared once.
#pragma once

#include "core/bitfield.hpp"

namespace gicv3 {

namespace GICD_CTLR {
using EnableGrp0 = Bit<0>;
using EnableGrp1 = Bit<1>;  // EnableGrp1 in the single-Security-state view (DS == 1)
using ARE = Bit<4>;         // RAO/WI: vgic always uses affinity routing
using DS = Bit<6>;          // RAO/WI: one Security state
using E1NWF = Bit<7>;       // RAZ/WI: 1-of-N wakeup not supported
using RWP = Bit<31>;        // writes complete synchronously: always 0
}  // namespace GICD_CTLR

namespace GICD_TYPER {
using ITLinesNumber = Field<0, 5>;
using CPUNumber = Field<5, 3>;
using ESPI = Bit<8>;
using NMI = Bit<9>;
using SecurityExtn = Bit<10>;
using MBIS = Bit<16>;
using LPIS = Bit<17>;
using DVIS = Bit<18>;
using IDbits = Field<19, 5>;
using A3V = Bit<24>;
using No1N = Bit<25>;
using RSS = Bit<26>;
using ESPI_range = Field<27, 5>;
}  // namespace GICD_TYPER

namespace GICD_IROUTER {
using Aff0 = Field<0, 8>;
using Aff1 = Field<8, 8>;
using Aff2 = Field<16, 8>;
using IRM = Bit<31>;
using Aff3 = Field<32, 8>;
}  // namespace GICD_IROUTER

// GICD_SETSPI_NSR / GICD_CLRSPI_NSR
using SPI_INTID = Field<0, 13>;

// Identification registers shared by all GIC frames (IHI0069 12.1.1, 12.9.30): PIDR2.ArchRev = 3.
namespace GIC_PIDR2 {
using ArchRev = Field<4, 4>;
}

// GICD/GICR/GITS_IIDR
namespace GIC_IIDR {
using Implementer = Field<0, 12>;
using Revision = Field<12, 4>;
using Variant = Field<16, 4>;
using ProductID = Field<24, 8>;
}  // namespace GIC_IIDR

namespace gicd_off {
constexpr uint32_t CTLR = 0x0000, TYPER = 0x0004, IIDR = 0x0008, TYPER2 = 0x000C, STATUSR = 0x0010;
constexpr uint32_t SETSPI_NSR = 0x0040, CLRSPI_NSR = 0x0048, SETSPI_SR = 0x0050, CLRSPI_SR = 0x0058;
constexpr uint32_t IGROUPR = 0x0080, ISENABLER = 0x0100, ICENABLER = 0x0180, ISPENDR = 0x0200;
constexpr uint32_t ICPENDR = 0x0280, ISACTIVER = 0x0300, ICACTIVER = 0x0380, IPRIORITYR = 0x0400;
constexpr uint32_t ITARGETSR = 0x0800, ICFGR = 0x0C00, IGRPMODR = 0x0D00, NSACR = 0x0E00;
constexpr uint32_t SGIR = 0x0F00, CPENDSGIR = 0x0F10, SPENDSGIR = 0x0F20, INMIR = 0x0F80;
constexpr uint32_t IGROUPRE = 0x1000, ISENABLERE = 0x1200, ICENABLERE = 0x1400, ISPENDRE = 0x1600;
constexpr uint32_t ICPENDRE = 0x1800, ISACTIVERE = 0x1A00, ICACTIVERE = 0x1C00, IPRIORITYRE = 0x2000;
constexpr uint32_t ICFGRE = 0x3000, IGRPMODRE = 0x3400, NSACRE = 0x3600, INMIRE = 0x3B00;
constexpr uint32_t IROUTER = 0x6000, IROUTERE = 0x8000, ID_REGS = 0xFFD0;
constexpr uint32_t kFrameSize = 0x10000;
}  // namespace gicd_off

// ID register block 0xFFD0..0xFFFC (PIDR4..7, PIDR0..3, CIDR0..3): a GIC-500-like part number,
// Arm's JEP106 code, ArchRev 3.
constexpr uint8_t kGicIdRegs[12] = {0x44, 0x00, 0x00, 0x00, 0x92, 0xB4, 0x3B, 0x00, 0x0D, 0xF0, 0x05, 0xB1};

// vgic's default IIDR: Implementer Arm (0x43B), ProductID 0x56 ('V'), Revision 0.
constexpr uint32_t kDefaultIidr = 0x5600043B;

}  // namespace gicv3
