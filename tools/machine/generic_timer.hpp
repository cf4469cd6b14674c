// The EL1 generic timers of one vCPU (Arm ARM D11, "The Generic Timer"): the virtual timer
// (CNTV_*, PPI 27) and the physical timer (CNTP_*, PPI 30), modelled by the host rather than by
// Unicorn so that the counter is deterministic: it advances one tick per guest instruction executed
// machine-wide. The outputs reach the GIC as device_irq_level bits (seed 002).
#pragma once

#include <cstdint>

namespace vgic_machine {

struct TimerRegs {
  static constexpr uint64_t kEnable = 1u << 0, kImask = 1u << 1, kIstatus = 1u << 2;
  uint64_t ctl = 0;   // ENABLE, IMASK (ISTATUS computed)
  uint64_t cval = 0;

  bool condition(uint64_t count) const { return (ctl & kEnable) && count >= cval; }
  // The timer's output line: condition met and not masked (D11.2.4).
  bool output(uint64_t count) const { return condition(count) && !(ctl & kImask); }
  uint64_t read_ctl(uint64_t count) const { return (ctl & (kEnable | kImask)) | (condition(count) ? kIstatus : 0); }
  void write_ctl(uint64_t v) { ctl = v & (kEnable | kImask); }
  // TVAL is a signed 32-bit view of CVAL - count (D11.2.4).
  uint64_t read_tval(uint64_t count) const {
    return static_cast<uint64_t>(static_cast<uint32_t>(cval - count));
  }
  void write_tval(uint64_t count, uint64_t v) {
    cval = count + static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(v))));
  }
  // The count at which an enabled, unmasked timer will fire; UINT64_MAX if it never will.
  uint64_t deadline() const { return (ctl & kEnable) && !(ctl & kImask) ? cval : UINT64_MAX; }
};

struct VcpuTimers {
  TimerRegs virt, phys;
  uint64_t bits(uint64_t count) const {
    return (virt.output(count) ? 1u : 0u) | (phys.output(count) ? 2u : 0u);
  }
  uint64_t deadline() const { return virt.deadline() < phys.deadline() ? virt.deadline() : phys.deadline(); }
};

}  // namespace vgic_machine
