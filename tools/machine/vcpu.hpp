// One vCPU: a Unicorn engine sharing the machine's RAM, its power state (PSCI), its host-modelled
// generic timers, and the architectural exception entry the host performs for it (Unicorn 2.0.1
// has no way to raise an interrupt, and swallows synchronous exceptions into UC_HOOK_INTR).
#pragma once

#include <unicorn/unicorn.h>

#include <cstdint>
#include <string>
#include <vector>

#include "generic_timer.hpp"

namespace vgic_machine {

// System registers as (op0, op1, CRn, CRm, op2).
struct SysregId {
  uint32_t op0, op1, crn, crm, op2;
};
namespace sr {
inline constexpr SysregId SCTLR_EL1{3, 0, 1, 0, 0};
inline constexpr SysregId CPACR_EL1{3, 0, 1, 0, 2};
inline constexpr SysregId TTBR0_EL1{3, 0, 2, 0, 0};
inline constexpr SysregId TTBR1_EL1{3, 0, 2, 0, 1};
inline constexpr SysregId TCR_EL1{3, 0, 2, 0, 2};
inline constexpr SysregId SPSR_EL1{3, 0, 4, 0, 0};
inline constexpr SysregId ELR_EL1{3, 0, 4, 0, 1};
inline constexpr SysregId ESR_EL1{3, 0, 5, 2, 0};
inline constexpr SysregId FAR_EL1{3, 0, 6, 0, 0};
inline constexpr SysregId PAR_EL1{3, 0, 7, 4, 0};
inline constexpr SysregId MAIR_EL1{3, 0, 10, 2, 0};
inline constexpr SysregId AMAIR_EL1{3, 0, 10, 3, 0};
inline constexpr SysregId VBAR_EL1{3, 0, 12, 0, 0};
inline constexpr SysregId CONTEXTIDR_EL1{3, 0, 13, 0, 1};
inline constexpr SysregId TPIDR_EL1{3, 0, 13, 0, 4};
inline constexpr SysregId CNTKCTL_EL1{3, 0, 14, 1, 0};
inline constexpr SysregId TPIDR_EL0{3, 3, 13, 0, 2};
inline constexpr SysregId TPIDRRO_EL0{3, 3, 13, 0, 3};
}  // namespace sr

enum class Power : uint8_t { off, on };

// What a slice of execution stopped on, recorded by the hooks and handled by the machine after
// uc_emu_start returns (hooks only record: register writes from inside them are not reliable).
struct StopEvent {
  bool intr = false;
  uint32_t intno = 0;
  bool irq_check = false;  // the block hook saw an interrupt to take
};

class Vcpu {
 public:
  Vcpu(unsigned index, uint64_t mpidr) : index_(index), mpidr_(mpidr) {}
  ~Vcpu();
  Vcpu(const Vcpu&) = delete;
  Vcpu& operator=(const Vcpu&) = delete;

  // Creates the engine; empty string on success.
  std::string open();
  uc_engine* uc() const { return uc_; }
  unsigned index() const { return index_; }
  uint64_t mpidr() const { return mpidr_; }

  uint64_t x(unsigned n) const;  // n = 31 reads XZR (0)
  void set_x(unsigned n, uint64_t v);
  uint64_t pc() const { return reg(UC_ARM64_REG_PC); }
  void set_pc(uint64_t v) { set_reg(UC_ARM64_REG_PC, v); }
  uint64_t pstate() const { return reg(UC_ARM64_REG_PSTATE); }
  uint64_t reg(int r) const;
  void set_reg(int r, uint64_t v);
  uint64_t sysreg(SysregId id) const;
  void set_sysreg(SysregId id, uint64_t v);

  // Puts the vCPU into its reset state for PSCI CPU_ON: EL1h, DAIF masked, MMU and caches off,
  // PC = entry, x0 = context_id (DEN0022 5.6).
  void power_on(uint64_t entry, uint64_t context_id);

  // Architectural exception entry to EL1 (Arm ARM D1.10): SPSR_EL1 = PSTATE, ELR_EL1 = elr,
  // PSTATE = EL1h with DAIF masked, PC = VBAR_EL1 + the vector for the current EL/SP and `kind`
  // (0 synchronous, 0x80 IRQ, 0x100 FIQ). esr is written for synchronous exceptions. Returns an
  // empty string, or why it cannot be delivered (VBAR_EL1 = 0: the guest installed no vectors).
  std::string take_exception(unsigned kind, uint64_t elr, bool write_esr, uint64_t esr);

  // The registers a migration carries (general, FP/SIMD, the EL0/EL1 system registers a bare-metal
  // or Linux-like guest uses) appended to / read from out.
  void save(std::vector<uint8_t>& out) const;
  bool restore(const uint8_t*& p, const uint8_t* end);

  Power power = Power::off;
  bool wfi = false;
  VcpuTimers timers;
  uint64_t timer_bits = ~uint64_t{0};  // the level last synced to the GIC (~0: never)
  uint64_t last_pc = 0;                // the last instruction the code hook saw
  StopEvent stop;
  std::string fault;                   // what the unmapped-access hook saw, for the message

 private:
  unsigned index_;
  uint64_t mpidr_;
  uc_engine* uc_ = nullptr;
  uint64_t reset_sctlr_ = 0;
};

}  // namespace vgic_machine
