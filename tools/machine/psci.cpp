// PSCI (Arm DEN0022) over HVC and SMC: the calls a bare-metal or Linux guest needs to start, stop
// and query vCPUs and to power the machine off. Function IDs per DEN0022 5.1; results in x0.
#include <cinttypes>

#include "layout.hpp"
#include "machine.hpp"

namespace vgic_machine {

namespace {

constexpr uint32_t kVersion = 0x84000000;
constexpr uint32_t kCpuSuspend32 = 0x84000001, kCpuSuspend64 = 0xC4000001;
constexpr uint32_t kCpuOff = 0x84000002;
constexpr uint32_t kCpuOn32 = 0x84000003, kCpuOn64 = 0xC4000003;
constexpr uint32_t kAffinityInfo32 = 0x84000004, kAffinityInfo64 = 0xC4000004;
constexpr uint32_t kMigrateInfoType = 0x84000006;
constexpr uint32_t kSystemOff = 0x84000008;
constexpr uint32_t kSystemReset = 0x84000009;
constexpr uint32_t kFeatures = 0x8400000A;

constexpr int64_t kSuccess = 0, kNotSupported = -1, kInvalidParameters = -2, kAlreadyOn = -4,
                  kInvalidAddress = -9;
constexpr uint64_t kPsci11 = 0x10001;  // major 1, minor 1: what QEMU's virt reports
constexpr uint64_t kAffinityMask = 0xFF00FFFFFFull;  // Aff3..Aff0 of an MPIDR

bool implemented(uint32_t fn) {
  switch (fn) {
    case kVersion: case kCpuSuspend32: case kCpuSuspend64: case kCpuOff: case kCpuOn32: case kCpuOn64: case kAffinityInfo32: case kAffinityInfo64:
    case kMigrateInfoType: case kSystemOff: case kSystemReset: case kFeatures:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool Machine::psci(Vcpu& v) {
  const uint32_t fn = static_cast<uint32_t>(v.x(0));
  const bool smc32 = (fn & 0x40000000) == 0;  // SMC32 calling convention: arguments are 32-bit
  auto arg = [&](unsigned n) { return smc32 ? v.x(n) & 0xFFFFFFFF : v.x(n); };
  auto find = [&](uint64_t mpidr) -> Vcpu* {
    for (auto& c : cpus_)
      if (c->mpidr() == (mpidr & kAffinityMask)) return c.get();
    return nullptr;
  };
  auto result = [&](int64_t r) { v.set_x(0, static_cast<uint64_t>(r)); };
  if (cfg_.trace_psci)
    std::fprintf(cfg_.log, "[psci] cpu%u fn=0x%08x x1=0x%" PRIx64 " x2=0x%" PRIx64 " x3=0x%" PRIx64 "\n", v.index(),
                 fn, v.x(1), v.x(2), v.x(3));
  switch (fn) {
    case kVersion:
      result(kPsci11);
      return true;
    case kCpuSuspend32:
    case kCpuSuspend64:
      // Every power state is treated as standby: the call behaves as WFI and returns SUCCESS when
      // an interrupt wakes the vCPU (DEN0022 5.4: a powerdown request may return as standby).
      result(kSuccess);
      v.wfi = true;
      return true;
    case kCpuOff:  // does not return to the caller (DEN0022 5.5)
      v.power = Power::off;
      v.wfi = false;
      return true;
    case kCpuOn32:
    case kCpuOn64: {
      Vcpu* t = find(arg(1));
      const uint64_t entry = arg(2);
      if (!t) return result(kInvalidParameters), true;
      if (t->power == Power::on) return result(kAlreadyOn), true;
      if (entry < kRamBase || entry - kRamBase >= cfg_.ram_size || (entry & 3)) return result(kInvalidAddress), true;
      t->power_on(entry, arg(3));
      result(kSuccess);
      return true;
    }
    case kAffinityInfo32:
    case kAffinityInfo64: {
      Vcpu* t = find(arg(1));
      if (!t || arg(2) != 0) return result(kInvalidParameters), true;
      result(t->power == Power::on ? 0 : 1);  // ON 0, OFF 1 (DEN0022 5.7)
      return true;
    }
    case kMigrateInfoType:
      result(2);  // no Trusted OS: migration not required
      return true;
    case kSystemOff:
    case kSystemReset:
      ended_ = true;
      result_.exit_code = static_cast<int>(ExitCode::system_off);
      result_.message = fn == kSystemOff ? "SYSTEM_OFF" : "SYSTEM_RESET (the run ends: the machine does not reboot)";
      return false;
    case kFeatures:
      result(implemented(static_cast<uint32_t>(v.x(1))) ? kSuccess : kNotSupported);
      return true;
    default:
      result(kNotSupported);
      return true;
  }
}

}  // namespace vgic_machine
