// A64 instruction decoding the host needs (Arm ARM C6): HVC/SMC/SVC/BRK immediates, MRS/MSR
// (register) system-register accesses, WFI/WFE.
#pragma once

#include <cstdint>
#include <optional>

namespace vgic_machine::insn {

inline constexpr uint32_t kWfi = 0xD503207F;
inline constexpr uint32_t kWfe = 0xD503205F;

inline bool is_hvc(uint32_t i) { return (i & 0xFFE0001F) == 0xD4000002; }
inline bool is_smc(uint32_t i) { return (i & 0xFFE0001F) == 0xD4000003; }
inline bool is_svc(uint32_t i) { return (i & 0xFFE0001F) == 0xD4000001; }
inline bool is_brk(uint32_t i) { return (i & 0xFFE0001F) == 0xD4200000; }
inline uint32_t imm16(uint32_t i) { return (i >> 5) & 0xFFFF; }

struct SysregAccess {
  bool read = false;  // MRS
  uint32_t op0 = 0, op1 = 0, crn = 0, crm = 0, op2 = 0;
  unsigned rt = 0;
  // KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS encoding: op0<<14 | op1<<11 | CRn<<7 | CRm<<3 | op2.
  uint32_t encoding() const { return op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2; }
};

// MRS / MSR (register): 1101 0101 00 L 1 o0 op1 CRn CRm op2 Rt (C5.2, C6.2.229/231).
inline std::optional<SysregAccess> decode_sysreg(uint32_t i) {
  if ((i & 0xFFD00000) != 0xD5100000) return std::nullopt;
  SysregAccess a;
  a.read = (i >> 21) & 1;
  a.op0 = 2 + ((i >> 19) & 1);
  a.op1 = (i >> 16) & 7;
  a.crn = (i >> 12) & 0xF;
  a.crm = (i >> 8) & 0xF;
  a.op2 = (i >> 5) & 7;
  a.rt = i & 0x1F;
  return a;
}

// GIC CPU interface registers at EL1 (IHI0069 12.2): op0 = 3, op1 = 0, CRn = 12 with CRm 8
// (Group 0: IAR0, EOIR0, HPPIR0, BPR0, AP0R<n>), 9 (AP1R<n>), 11 (DIR, RPR, SGI0R/SGI1R/ASGI1R)
// or 12 (Group 1 and control); and ICC_PMR_EL1 (CRn 4, CRm 6). CRn 12 with CRm 0/1 is VBAR_EL1,
// RVBAR_EL1, RMR_EL1 and ISR_EL1, which are not the GIC's.
inline bool is_icc(const SysregAccess& a) {
  if (a.op0 != 3 || a.op1 != 0) return false;
  if (a.crn == 4) return a.crm == 6 && a.op2 == 0;
  return a.crn == 12 && (a.crm == 8 || a.crm == 9 || a.crm == 11 || a.crm == 12);
}

}  // namespace vgic_machine::insn
