#include "vcpu.hpp"

#include <cstring>

namespace vgic_machine {

namespace {

constexpr uint64_t kPstateEl1h = 0x5;          // M[3:0] = EL1 with SP_EL1
constexpr uint64_t kPstateDaif = 0xFULL << 6;  // D, A, I, F
constexpr uint64_t kPstateNzcv = 0xFULL << 28;

int xreg(unsigned n) {
  if (n <= 28) return UC_ARM64_REG_X0 + static_cast<int>(n);
  return n == 29 ? UC_ARM64_REG_X29 : UC_ARM64_REG_X30;
}

const SysregId kSaved[] = {sr::SCTLR_EL1,  sr::CPACR_EL1,      sr::TTBR0_EL1, sr::TTBR1_EL1,   sr::TCR_EL1,
                           sr::SPSR_EL1,   sr::ELR_EL1,        sr::ESR_EL1,   sr::FAR_EL1,     sr::PAR_EL1,
                           sr::MAIR_EL1,   sr::AMAIR_EL1,      sr::VBAR_EL1,  sr::CONTEXTIDR_EL1, sr::TPIDR_EL1,
                           sr::CNTKCTL_EL1, sr::TPIDR_EL0,     sr::TPIDRRO_EL0};

void put(std::vector<uint8_t>& out, uint64_t v) {
  uint8_t b[8];
  std::memcpy(b, &v, 8);
  out.insert(out.end(), b, b + 8);
}
bool get(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  if (end - p < 8) return false;
  std::memcpy(&v, p, 8);
  p += 8;
  return true;
}

}  // namespace

Vcpu::~Vcpu() {
  if (uc_) uc_close(uc_);
}

std::string Vcpu::open() {
  uc_err e = uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc_);
  if (e != UC_ERR_OK) {
    uc_ = nullptr;
    return std::string("unicorn: ") + uc_strerror(e);
  }
  // EL1 is AArch64 as far as the (absent) higher ELs are concerned: Unicorn 2.0.1's MMU needs
  // SCR_EL3.RW and HCR_EL2.RW (Arm ARM D17.2.117, D17.2.48).
  set_sysreg(SysregId{3, 6, 1, 1, 0}, sysreg(SysregId{3, 6, 1, 1, 0}) | (uint64_t{1} << 10));
  set_sysreg(SysregId{3, 4, 1, 1, 0}, sysreg(SysregId{3, 4, 1, 1, 0}) | (uint64_t{1} << 31));
  reset_sctlr_ = sysreg(sr::SCTLR_EL1);
  return {};
}

uint64_t Vcpu::reg(int r) const {
  uint64_t v = 0;
  uc_reg_read(uc_, r, &v);
  return v;
}
void Vcpu::set_reg(int r, uint64_t v) { uc_reg_write(uc_, r, &v); }

uint64_t Vcpu::x(unsigned n) const { return n >= 31 ? 0 : reg(xreg(n)); }
void Vcpu::set_x(unsigned n, uint64_t v) {
  if (n < 31) set_reg(xreg(n), v);
}

uint64_t Vcpu::sysreg(SysregId id) const {
  uc_arm64_cp_reg r{id.crn, id.crm, id.op0, id.op1, id.op2, 0};
  uc_reg_read(uc_, UC_ARM64_REG_CP_REG, &r);
  return r.val;
}
void Vcpu::set_sysreg(SysregId id, uint64_t v) {
  uc_arm64_cp_reg r{id.crn, id.crm, id.op0, id.op1, id.op2, v};
  uc_reg_write(uc_, UC_ARM64_REG_CP_REG, &r);
}

void Vcpu::power_on(uint64_t entry, uint64_t context_id) {
  set_sysreg(sr::SCTLR_EL1, reset_sctlr_);
  // Enter EL1h from whatever state a previous life left: bank the live SP as set_pstate expects.
  set_reg(UC_ARM64_REG_PSTATE, kPstateDaif | kPstateEl1h);
  for (unsigned i = 0; i < 31; ++i) set_x(i, 0);
  set_reg(UC_ARM64_REG_SP, 0);
  set_x(0, context_id);
  set_pc(entry);
  timers = {};
  timer_bits = ~uint64_t{0};
  wfi = false;
  power = Power::on;
}

std::string Vcpu::take_exception(unsigned kind, uint64_t elr, bool write_esr, uint64_t esr) {
  const uint64_t ps = pstate();
  const unsigned el = (ps >> 2) & 3;
  const bool spx = ps & 1;
  if (el > 1) return "exception at EL" + std::to_string(el) + " (the machine runs guests at EL1/EL0 only)";
  const uint64_t vbar = sysreg(sr::VBAR_EL1);
  if (vbar == 0) return "the guest has no exception vectors (VBAR_EL1 = 0)";
  // D1.10.2: the vector offset from the exception's origin: current EL with SP_EL0 0x000, current
  // EL with SP_ELx 0x200, lower EL using AArch64 0x400; plus 0x80 IRQ / 0x100 FIQ.
  const uint64_t origin = el == 0 ? 0x400 : (spx ? 0x200 : 0x000);
  set_sysreg(sr::SPSR_EL1, ps);
  set_sysreg(sr::ELR_EL1, elr);
  if (write_esr) set_sysreg(sr::ESR_EL1, esr);
  // Unicorn keeps the live stack pointer in SP and the banked ones in SP_EL0/SP_EL1 (QEMU's
  // model); a PSTATE write does not re-bank, so switch banks by hand when leaving SP_EL0.
  const uint64_t live_sp = reg(UC_ARM64_REG_SP);
  uint64_t new_sp = live_sp;
  if (el == 0 || !spx) {
    set_reg(UC_ARM64_REG_SP_EL0, live_sp);
    new_sp = reg(UC_ARM64_REG_SP_EL1);
  }
  set_reg(UC_ARM64_REG_PSTATE, (ps & kPstateNzcv) | kPstateDaif | kPstateEl1h);
  set_reg(UC_ARM64_REG_SP, new_sp);
  set_pc(vbar + origin + kind);
  wfi = false;
  return {};
}

void Vcpu::save(std::vector<uint8_t>& out) const {
  put(out, static_cast<uint64_t>(power));
  put(out, wfi);
  put(out, timers.virt.ctl);
  put(out, timers.virt.cval);
  put(out, timers.phys.ctl);
  put(out, timers.phys.cval);
  for (SysregId id : kSaved) put(out, sysreg(id));
  put(out, reg(UC_ARM64_REG_SP_EL0));
  put(out, reg(UC_ARM64_REG_SP_EL1));
  put(out, pstate());
  put(out, reg(UC_ARM64_REG_SP));
  for (unsigned i = 0; i < 31; ++i) put(out, x(i));
  put(out, pc());
  put(out, reg(UC_ARM64_REG_FPCR));
  put(out, reg(UC_ARM64_REG_FPSR));
  for (int q = 0; q < 32; ++q) {
    uint64_t v[2] = {0, 0};
    uc_reg_read(uc_, UC_ARM64_REG_Q0 + q, v);
    put(out, v[0]);
    put(out, v[1]);
  }
}

bool Vcpu::restore(const uint8_t*& p, const uint8_t* end) {
  uint64_t v = 0;
  auto next = [&](uint64_t& dst) { return get(p, end, dst); };
  if (!next(v) || v > 1) return false;
  power = static_cast<Power>(v);
  if (!next(v)) return false;
  wfi = v != 0;
  if (!next(timers.virt.ctl) || !next(timers.virt.cval) || !next(timers.phys.ctl) || !next(timers.phys.cval))
    return false;
  for (SysregId id : kSaved) {
    if (!next(v)) return false;
    set_sysreg(id, v);
  }
  uint64_t sp0 = 0, sp1 = 0, ps = 0, sp = 0;
  if (!next(sp0) || !next(sp1) || !next(ps) || !next(sp)) return false;
  set_reg(UC_ARM64_REG_SP_EL0, sp0);
  set_reg(UC_ARM64_REG_SP_EL1, sp1);
  set_reg(UC_ARM64_REG_PSTATE, ps);
  set_reg(UC_ARM64_REG_SP, sp);
  for (unsigned i = 0; i < 31; ++i) {
    if (!next(v)) return false;
    set_x(i, v);
  }
  if (!next(v)) return false;
  set_pc(v);
  if (!next(v)) return false;
  set_reg(UC_ARM64_REG_FPCR, v);
  if (!next(v)) return false;
  set_reg(UC_ARM64_REG_FPSR, v);
  for (int q = 0; q < 32; ++q) {
    uint64_t qv[2];
    if (!next(qv[0]) || !next(qv[1])) return false;
    uc_reg_write(uc_, UC_ARM64_REG_Q0 + q, qv);
  }
  timer_bits = ~uint64_t{0};
  return true;
}

}  // namespace vgic_machine
