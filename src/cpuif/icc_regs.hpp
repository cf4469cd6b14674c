// CPU interface system registers (IHI0069 12.2): encodings and fields, declared once.
#pragma once

#include <cstdint>

#include "core/bitfield.hpp"

namespace gicv3 {

// KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS encoding: op0<<14 | op1<<11 | CRn<<7 | CRm<<3 | op2.
constexpr uint32_t sysreg_encoding(uint32_t op0, uint32_t op1, uint32_t crn, uint32_t crm, uint32_t op2) {
  return op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2;
}

namespace icc {
constexpr uint32_t PMR = sysreg_encoding(3, 0, 4, 6, 0);
constexpr uint32_t IAR0 = sysreg_encoding(3, 0, 12, 8, 0);
constexpr uint32_t EOIR0 = sysreg_encoding(3, 0, 12, 8, 1);
constexpr uint32_t HPPIR0 = sysreg_encoding(3, 0, 12, 8, 2);
constexpr uint32_t BPR0 = sysreg_encoding(3, 0, 12, 8, 3);
constexpr uint32_t AP0R0 = sysreg_encoding(3, 0, 12, 8, 4);  // AP0R<n>: op2 = 4 + n
constexpr uint32_t AP1R0 = sysreg_encoding(3, 0, 12, 9, 0);  // AP1R<n>: op2 = n
constexpr uint32_t DIR = sysreg_encoding(3, 0, 12, 11, 1);
constexpr uint32_t RPR = sysreg_encoding(3, 0, 12, 11, 3);
constexpr uint32_t SGI1R = sysreg_encoding(3, 0, 12, 11, 5);
constexpr uint32_t ASGI1R = sysreg_encoding(3, 0, 12, 11, 6);
constexpr uint32_t SGI0R = sysreg_encoding(3, 0, 12, 11, 7);
constexpr uint32_t IAR1 = sysreg_encoding(3, 0, 12, 12, 0);
constexpr uint32_t EOIR1 = sysreg_encoding(3, 0, 12, 12, 1);
constexpr uint32_t HPPIR1 = sysreg_encoding(3, 0, 12, 12, 2);
constexpr uint32_t BPR1 = sysreg_encoding(3, 0, 12, 12, 3);
constexpr uint32_t CTLR = sysreg_encoding(3, 0, 12, 12, 4);
constexpr uint32_t SRE = sysreg_encoding(3, 0, 12, 12, 5);
constexpr uint32_t IGRPEN0 = sysreg_encoding(3, 0, 12, 12, 6);
constexpr uint32_t IGRPEN1 = sysreg_encoding(3, 0, 12, 12, 7);
}  // namespace icc

namespace ICC_CTLR {
using CBPR = Bit<0>;
using EOImode = Bit<1>;
using PMHE = Bit<6>;
using PRIbits = Field<8, 3>;
using IDbits = Field<11, 3>;
using SEIS = Bit<14>;
using A3V = Bit<15>;
using RSS = Bit<18>;
using ExtRange = Bit<19>;
}  // namespace ICC_CTLR

namespace ICC_SRE {
using SRE = Bit<0>;
using DFB = Bit<1>;
using DIB = Bit<2>;
}  // namespace ICC_SRE

// ICC_SGI0R_EL1 / ICC_SGI1R_EL1 / ICC_ASGI1R_EL1 (IHI0069 12.2.21-23)
namespace ICC_SGIR {
using TargetList = Field<0, 16>;
using Aff1 = Field<16, 8>;
using INTID = Field<24, 4>;
using Aff2 = Field<32, 8>;
using IRM = Bit<40>;
using RS = Field<44, 4>;
using Aff3 = Field<48, 8>;
}  // namespace ICC_SGIR

using ICC_INTID = Field<0, 24>;  // IAR/EOIR/HPPIR/DIR INTID field
using ICC_BPR_BinaryPoint = Field<0, 3>;
using ICC_PMR_Priority = Field<0, 8>;
using ICC_IGRPEN_Enable = Bit<0>;

}  // namespace gicv3
