#include "machine.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "fdt.hpp"
#include "insn.hpp"
#include "layout.hpp"
#include "loader.hpp"

namespace vgic_machine {

namespace {

constexpr uint64_t kPstateI = 1u << 7, kPstateF = 1u << 6;
constexpr uint64_t kNeverPc = 1;  // uc_emu_start's `until`: an A64 PC is never odd

// Unicorn 2.0.1 exception numbers (QEMU's EXCP_*) seen at UC_HOOK_INTR.
constexpr uint32_t kExcpUdef = 1;  // also HVC: EL2 is not enabled, so HVC is UNDEFINED to QEMU
constexpr uint32_t kExcpSwi = 2;
constexpr uint32_t kExcpBkpt = 7;
constexpr uint32_t kExcpSmc = 13;

// ESR_EL1 exception classes (Arm ARM D17.2.37); IL = 1 for 32-bit instructions.
constexpr uint64_t kEsrIl = 1u << 25;
constexpr uint64_t esr(uint64_t ec, uint64_t iss) { return ec << 26 | kEsrIl | iss; }
constexpr uint64_t kEcUnknown = 0x00, kEcSvc64 = 0x15, kEcBrk = 0x3C;

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

void hook_code(uc_engine*, uint64_t address, uint32_t, void* m) { static_cast<Machine*>(m)->on_code(address); }
void hook_block(uc_engine*, uint64_t, uint32_t, void* m) { static_cast<Machine*>(m)->on_block(); }
void hook_intr(uc_engine*, uint32_t intno, void* m) { static_cast<Machine*>(m)->on_intr(intno); }
uint32_t hook_mrs(uc_engine*, uc_arm64_reg reg, const uc_arm64_cp_reg* r, void* m) {
  return static_cast<Machine*>(m)->on_sysreg(reg, *r, false) ? 1 : 0;
}
uint32_t hook_msr(uc_engine*, uc_arm64_reg reg, const uc_arm64_cp_reg* r, void* m) {
  return static_cast<Machine*>(m)->on_sysreg(reg, *r, true) ? 1 : 0;
}
void hook_gic(uc_engine*, uc_mem_type type, uint64_t address, int size, int64_t value, void* m) {
  static_cast<Machine*>(m)->on_gic_access(type == UC_MEM_WRITE, address, size, value);
}
bool hook_unmapped(uc_engine*, uc_mem_type type, uint64_t address, int size, int64_t, void* m) {
  static_cast<Machine*>(m)->on_unmapped(type, address, size);
  return false;  // not handled: Unicorn ends the slice with UC_ERR_*_UNMAPPED
}
uint64_t uart_read(uc_engine*, uint64_t offset, unsigned, void* m) {
  return static_cast<Machine*>(m)->uart().read(offset);
}
void uart_write(uc_engine*, uint64_t offset, unsigned, uint64_t value, void* m) {
  static_cast<Machine*>(m)->uart().write(offset, value);
}

// The GIC snapshot API (Gic::save / Gic::restore) comes from the migration work on branch
// `snapshot`; until it is merged, migration reports that it cannot save the GIC.
template <class G>
gicv3::Status gic_save(G& g, std::vector<uint8_t>& out) {
  if constexpr (requires { g.save(out); }) {
    return g.save(out);
  } else {
    return {gicv3::Errc::not_implemented, "this vgic has no Gic::save yet (GIC snapshot API not merged)"};
  }
}
template <class G>
gicv3::Status gic_restore(G& g, std::span<const uint8_t> in) {
  if constexpr (requires { g.restore(in); }) {
    return g.restore(in);
  } else {
    return {gicv3::Errc::not_implemented, "this vgic has no Gic::restore yet (GIC snapshot API not merged)"};
  }
}

template <class G>
constexpr bool kHasGicSave = requires(G& g, std::vector<uint8_t>& v) { g.save(v); };

constexpr char kMagic[8] = {'V', 'G', 'I', 'C', 'M', 'C', 'H', '1'};

}  // namespace

Machine::Machine(const MachineConfig& cfg) : cfg_(cfg), uart_(cfg.out) {}

Machine::~Machine() {
  cpus_.clear();  // engines first: they map the RAM
  if (gic_) (void)gic_->unmap_ram(kRamBase);
  gic_.reset();
  if (ram_) munmap(ram_, cfg_.ram_size);
}

std::unique_ptr<Machine> Machine::create(const MachineConfig& cfg, std::string& error,
                                         std::unique_ptr<gicv3::Gic> adopt) {
  error.clear();
  if (cfg.nr_cpus == 0 || cfg.nr_cpus > 64) {
    error = "--cpus must be 1..64";
    return nullptr;
  }
  if (cfg.ram_size < (2u << 20) || cfg.ram_size > kMaxRamSize || cfg.ram_size % 4096) {
    error = "--mem must be a multiple of 4 KiB between 2 MiB and 4 GiB";
    return nullptr;
  }
  std::unique_ptr<Machine> m(new Machine(cfg));
  m->gic_ = std::move(adopt);
  error = m->setup();
  if (!error.empty()) return nullptr;
  return m;
}

std::string Machine::setup() {
  void* p = mmap(nullptr, cfg_.ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return "cannot allocate " + std::to_string(cfg_.ram_size) + " bytes of guest RAM";
  ram_ = static_cast<uint8_t*>(p);

  gicv3::Config gc;
  gc.nr_cpus = cfg_.nr_cpus;
  gc.gicd_base = kGicdBase;
  gc.gicr_base = kGicrBase;
  gc.direct_lpi = cfg_.direct_lpi;
  gc.its = {gicv3::ItsConfig{}};
  gc.its[0].base = kItsBase;
  gicv3::Status st;
  if (!gic_) gic_ = gicv3::Gic::create(gc, &st);
  if (!gic_) return "vgic: " + st.message();
  if (auto s = gic_->map_ram(kRamBase, cfg_.ram_size, ram_); !s) return "vgic map_ram: " + s.message();
  if (cfg_.trace_gic) {
    std::FILE* log = cfg_.log;
    gic_->set_trace_sink(
        [log](const gicv3::TraceEvent& e) {
          std::fprintf(log, "[gic] %s %s cpu=%u off=0x%" PRIx64 " val=0x%" PRIx64 " %s\n", e.kind, e.frame, e.cpu,
                       e.offset, e.value, e.detail.c_str());
        },
        1000);
  }
  for (unsigned i = 0; i < cfg_.nr_cpus; ++i) {
    auto v = std::make_unique<Vcpu>(i, mpidr_affinity(i));
    if (auto e = v->open(); !e.empty()) return e;
    if (auto e = map_into(*v); !e.empty()) return e;
    cpus_.push_back(std::move(v));
  }
  start_ = std::chrono::steady_clock::now();
  return {};
}

std::string Machine::map_into(Vcpu& v) {
  uc_engine* uc = v.uc();
  auto check = [](uc_err e, const char* what) -> std::string {
    return e == UC_ERR_OK ? std::string() : std::string("unicorn ") + what + ": " + uc_strerror(e);
  };
  const uint64_t gicr_size = uint64_t{cfg_.nr_cpus} * kGicrStride;
  std::string e;
  if (e = check(uc_mem_map_ptr(uc, kRamBase, cfg_.ram_size, UC_PROT_ALL, ram_), "map RAM"); !e.empty()) return e;
  // The GIC frames are engine-private RAM that a bounded UC_HOOK_MEM_READ|WRITE hook fills before
  // each load and forwards each store from: unlike uc_mmio_map it sees 8-byte accesses whole.
  if (e = check(uc_mem_map(uc, kGicdBase, kGicdSize, UC_PROT_READ | UC_PROT_WRITE), "map GICD"); !e.empty()) return e;
  if (e = check(uc_mem_map(uc, kItsBase, kItsSize, UC_PROT_READ | UC_PROT_WRITE), "map ITS"); !e.empty()) return e;
  if (e = check(uc_mem_map(uc, kGicrBase, gicr_size, UC_PROT_READ | UC_PROT_WRITE), "map GICR"); !e.empty()) return e;
  if (e = check(uc_mmio_map(uc, kUartBase, kUartSize, uart_read, this, uart_write, this), "map UART"); !e.empty())
    return e;
  uc_hook h;
  if (e = check(uc_hook_add(uc, &h, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, reinterpret_cast<void*>(hook_gic), this,
                            kGicdBase, kGicrBase + gicr_size - 1),
                "GIC hook");
      !e.empty())
    return e;
  if (e = check(uc_hook_add(uc, &h, UC_HOOK_MEM_UNMAPPED, reinterpret_cast<void*>(hook_unmapped), this, 1, 0),
                "unmapped-access hook");
      !e.empty())
    return e;
  if (e = check(uc_hook_add(uc, &h, UC_HOOK_CODE, reinterpret_cast<void*>(hook_code), this, 1, 0), "code hook");
      !e.empty())
    return e;
  if (e = check(uc_hook_add(uc, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(hook_block), this, 1, 0), "block hook");
      !e.empty())
    return e;
  if (e = check(uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(hook_intr), this, 1, 0), "intr hook");
      !e.empty())
    return e;
  if (e = check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(hook_mrs), this, 1, 0, UC_ARM64_INS_MRS),
                "MRS hook");
      !e.empty())
    return e;
  return check(uc_hook_add(uc, &h, UC_HOOK_INSN, reinterpret_cast<void*>(hook_msr), this, 1, 0, UC_ARM64_INS_MSR),
               "MSR hook");
}

std::string Machine::load(const std::vector<uint8_t>& image) {
  if (used_) return "load needs a fresh machine";
  used_ = true;
  LoadedImage li;
  if (auto e = load_image(image, kRamBase, {ram_, cfg_.ram_size}, li); !e.empty()) return e;
  std::vector<uint8_t> dtb;
  FdtParams fp;
  fp.nr_cpus = cfg_.nr_cpus;
  fp.ram_base = kRamBase;
  fp.ram_size = cfg_.ram_size;
  if (auto e = build_fdt(fp, dtb); !e.empty()) return e;
  const uint64_t dtb_addr = kRamBase + kDtbOffset;
  if (li.low < dtb_addr + kDtbMaxSize && li.high > dtb_addr)
    return "the image overlaps the device tree at " + hex(dtb_addr) + ".." + hex(dtb_addr + kDtbMaxSize);
  std::memcpy(ram_ + kDtbOffset, dtb.data(), dtb.size());
  cpus_[0]->power_on(li.entry, dtb_addr);  // x0 = DTB (arm64 boot protocol)
  return {};
}

// --- hooks

void Machine::on_code(uint64_t address) {
  ++icount_;
  cur_->last_pc = address;
}

void Machine::on_block() {
  Vcpu& v = *cur_;
  sync_timer(v);
  if (irq_deliverable(v)) {
    v.stop.irq_check = true;
    uc_emu_stop(v.uc());
  }
}

void Machine::on_unmapped(uc_mem_type type, uint64_t address, int size) {
  const char* what = type == UC_MEM_WRITE_UNMAPPED ? "writing" : type == UC_MEM_FETCH_UNMAPPED ? "fetching" : "reading";
  cur_->fault = std::string(what) + " " + std::to_string(size) + " bytes at " + hex(address) +
                ", where the machine has no memory or device";
}

void Machine::on_intr(uint32_t intno) {
  cur_->stop.intr = true;
  cur_->stop.intno = intno;
  uc_emu_stop(cur_->uc());
}

unsigned Machine::irq_deliverable(Vcpu& v) {
  const int lines = gic_->cpu_lines(v.index());
  if (!(lines & 3)) return 0;
  const uint64_t ps = v.pstate();
  if ((lines & 2) && !(ps & kPstateF)) return 0x100;  // FIQ (Group 0): vector offset 0x100
  if ((lines & 1) && !(ps & kPstateI)) return 0x80;   // IRQ (Group 1): vector offset 0x080
  return 0;
}

void Machine::sync_timer(Vcpu& v) {
  const uint64_t bits = v.timers.bits(icount_);
  if (bits != v.timer_bits) {
    v.timer_bits = bits;
    (void)gic_->sync_device_irq_level(v.index(), bits);
  }
}

bool Machine::on_sysreg(uc_arm64_reg reg, const uc_arm64_cp_reg& r, bool write) {
  Vcpu& v = *cur_;
  auto ret = [&](uint64_t val) {
    if (reg != UC_ARM64_REG_XZR && reg != UC_ARM64_REG_INVALID) v.set_reg(reg, val);
    return true;
  };
  // MPIDR_EL1: every Unicorn engine thinks it is CPU 0; give each vCPU its affinity (bit 31 RES1).
  if (!write && r.op0 == 3 && r.op1 == 0 && r.crn == 0 && r.crm == 0 && r.op2 == 5)
    return ret(uint64_t{1} << 31 | v.mpidr());
  if (r.op0 != 3 || r.op1 != 3 || r.crn != 14) return false;
  const uint64_t count = icount_;
  if (r.crm == 0) {  // CNTFRQ_EL0, CNTPCT_EL0, CNTVCT_EL0 (CNTVOFF is 0)
    if (write) return false;
    if (r.op2 == 0) return ret(kCounterFrequency);
    if (r.op2 == 1 || r.op2 == 2) return ret(count);
    return false;
  }
  if (r.crm != 2 && r.crm != 3) return false;
  TimerRegs& t = r.crm == 2 ? v.timers.phys : v.timers.virt;
  switch (r.op2) {
    case 0:  // CNTx_TVAL_EL0
      if (!write) return ret(t.read_tval(count));
      t.write_tval(count, r.val);
      break;
    case 1:  // CNTx_CTL_EL0
      if (!write) return ret(t.read_ctl(count));
      t.write_ctl(r.val);
      break;
    case 2:  // CNTx_CVAL_EL0
      if (!write) return ret(t.cval);
      t.cval = r.val;
      break;
    default:
      return false;
  }
  sync_timer(v);
  return true;
}

void Machine::on_gic_access(bool write, uint64_t address, int size, int64_t value) {
  // vgic takes 1-, 2-, 4- and 8-byte accesses. A wider one (a SIMD load/store: the hook gets no
  // more than 64 bits of its data) reads as zero and its write is dropped; vgic sees neither.
  const unsigned sz = static_cast<unsigned>(size);
  if (sz != 1 && sz != 2 && sz != 4 && sz != 8) {
    if (!write && sz > 0 && sz <= 64) {
      static const uint8_t zero[64] = {};
      uc_mem_write(cur_->uc(), address, zero, sz);
    }
    return;
  }
  if (write) {
    // A write to GITS_TRANSLATER is an MSI from DeviceID 0 (vgic's ITS does this, as QEMU virt).
    (void)gic_->mmio_write(address, sz, static_cast<uint64_t>(value));
    return;
  }
  uint64_t v = 0;
  if (!gic_->mmio_read(address, sz, v)) v = 0;  // a hole in the GIC window reads as zero
  uc_mem_write(cur_->uc(), address, &v, sz);
}

// --- the scheduler

void Machine::fail(ExitCode code, std::string message) {
  if (code == ExitCode::watchdog || code == ExitCode::deadlock) {
    // Where every vCPU was: what a stuck guest's author needs first.
    for (auto& c : cpus_) {
      message += "\n  vCPU " + std::to_string(c->index()) + ": ";
      if (c->power != Power::on) {
        message += "off";
        continue;
      }
      message += std::string(c->wfi ? "in WFI" : "running") + ", pc=" + hex(c->pc()) + ", PSTATE=" + hex(c->pstate()) +
                 ", IRQ line " + ((gic_->cpu_lines(c->index()) & 1) ? "up" : "down");
    }
  }
  ended_ = true;
  result_.exit_code = static_cast<int>(code);
  result_.message = std::move(message);
}

void Machine::log_irq(Vcpu& v, const char* what) {
  if (cfg_.trace_irq)
    std::fprintf(cfg_.log, "[irq] cpu%u %s elr=%s vbar=%s\n", v.index(), what, hex(v.sysreg(sr::ELR_EL1)).c_str(),
                 hex(v.sysreg(sr::VBAR_EL1)).c_str());
}

RunResult Machine::run(uint64_t stop_at) {
  used_ = true;
  result_ = {};
  while (!ended_) {
    for (; rr_ < cpus_.size() && !ended_; ++rr_, turn_left_ = 0) {
      Vcpu& v = *cpus_[rr_];
      if (turn_left_ == 0) {  // a new turn (turn_left_ > 0: resuming one cut by a migration)
        if (v.power != Power::on) continue;
        sync_timer(v);
        if (v.wfi) {
          // WFI wakes on a pending interrupt even when PSTATE masks it (Arm ARM D1.16.2).
          if (!(gic_->cpu_lines(v.index()) & 3)) continue;
          v.wfi = false;
        }
        turn_left_ = cfg_.quantum;
      }
      // The vCPU's turn: up to `quantum` instructions. Traps handled by the host (PSCI, GIC
      // system registers, exception entry) do not end the turn; WFI, CPU_OFF and the end do.
      while (turn_left_ > 0 && !ended_ && v.power == Power::on && !v.wfi) {
        if (stop_at && icount_ >= stop_at) {
          result_.migrate = true;
          result_.instructions = icount_;
          return result_;
        }
        if (icount_ >= cfg_.max_instructions) {
          fail(ExitCode::watchdog, "watchdog: the guest ran " + std::to_string(icount_) +
                                       " instructions without powering off (--max-insns)");
          break;
        }
        if (const unsigned kind = irq_deliverable(v)) {
          const char* what = kind == 0x80 ? "IRQ" : "FIQ";
          if (auto e = v.take_exception(kind, v.pc(), false, 0); !e.empty()) {
            fail(ExitCode::guest_fault, "vCPU " + std::to_string(v.index()) + ": cannot take an " + what +
                                            " at pc=" + hex(v.pc()) + ": " + e);
            break;
          }
          log_irq(v, what);
        }
        uint64_t budget = std::min(turn_left_, cfg_.max_instructions - icount_);
        if (stop_at) budget = std::min(budget, stop_at - icount_);
        cur_ = &v;
        v.stop = {};
        v.fault.clear();
        const uint64_t before = icount_;
        const uc_err err = uc_emu_start(v.uc(), v.pc(), kNeverPc, 0, budget);
        cur_ = nullptr;
        const uint64_t used = icount_ - before;
        if (used || v.stop.intr) progressed_ = true;
        turn_left_ -= std::min(used, turn_left_);
        if (!handle_stop(v, err)) break;
        if (used == 0 && !v.stop.intr) break;  // no progress possible in this turn
      }
    }
    if (ended_) break;
    rr_ = 0;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() > cfg_.max_seconds) {
      fail(ExitCode::watchdog, "watchdog: the guest ran longer than " + std::to_string(cfg_.max_seconds) +
                                   " s without powering off (--timeout)");
      break;
    }
    if (!progressed_) {
      // Every powered vCPU waits in WFI. Skip the counter to the next timer deadline (nothing else
      // can change while no vCPU runs); with none, nothing can ever wake them.
      bool any_on = false;
      uint64_t next = UINT64_MAX;
      for (auto& c : cpus_) {
        if (c->power != Power::on) continue;
        any_on = true;
        const uint64_t d = c->timers.deadline();
        if (d > icount_) next = std::min(next, d);
      }
      if (!any_on) {
        fail(ExitCode::deadlock, "every vCPU is off (PSCI CPU_OFF) and none called SYSTEM_OFF");
        break;
      }
      if (next == UINT64_MAX) {
        fail(ExitCode::deadlock, "deadlock: every vCPU waits in WFI and no interrupt or timer can wake one");
        break;
      }
      icount_ = next;
    }
    progressed_ = false;
  }
  result_.instructions = icount_;
  return result_;
}

bool Machine::handle_stop(Vcpu& v, uc_err err) {
  if (err != UC_ERR_OK) {
    fail(ExitCode::guest_fault, "vCPU " + std::to_string(v.index()) + ": " + uc_strerror(err) + " at pc=" +
                                    hex(v.pc()) + (v.fault.empty() ? "" : ": " + v.fault));
    return false;
  }
  auto insn_at = [&](uint64_t a) {
    uint32_t i = 0;
    if (uc_mem_read(v.uc(), a, &i, 4) != UC_ERR_OK) return uint32_t{0};
    return i;
  };
  if (v.stop.intr) {
    const uint64_t pc = v.pc();
    switch (v.stop.intno) {
      case kExcpUdef:
        return handle_undefined(v);
      case kExcpSmc:  // PC is past the SMC
        return psci(v);
      case kExcpSwi:  // PC is past the SVC: its preferred return address (D1.10.1)
        return deliver_sync(v, pc, esr(kEcSvc64, insn::imm16(insn_at(pc - 4))), "SVC");
      case kExcpBkpt:
        return deliver_sync(v, pc, esr(kEcBrk, insn::imm16(insn_at(pc))), "BRK");
      default:
        fail(ExitCode::guest_fault, "vCPU " + std::to_string(v.index()) + ": unhandled exception (Unicorn intno " +
                                        std::to_string(v.stop.intno) + ") at pc=" + hex(pc));
        return false;
    }
  }
  if (v.stop.irq_check) return true;  // taken at the vCPU's next turn
  if (v.last_pc + 4 == v.pc() && insn_at(v.last_pc) == insn::kWfi) v.wfi = true;
  return !ended_;
}

bool Machine::handle_undefined(Vcpu& v) {
  const uint64_t pc = v.pc();
  uint32_t i = 0;
  if (uc_mem_read(v.uc(), pc, &i, 4) != UC_ERR_OK) i = 0;
  if (insn::is_hvc(i)) {
    v.set_pc(pc + 4);
    return psci(v);
  }
  if (auto a = insn::decode_sysreg(i); a && insn::is_icc(*a)) {
    gicv3::Status s;
    uint64_t val = 0;
    if (a->read) {
      s = gic_->sysreg_read(v.index(), a->encoding(), val);
    } else {
      s = gic_->sysreg_write(v.index(), a->encoding(), v.x(a->rt));
    }
    if (s.ok() && !s.undefined_instruction()) {
      if (a->read) v.set_x(a->rt, val);
      v.set_pc(pc + 4);
      return true;
    }
    return deliver_sync(v, pc, esr(kEcUnknown, 0), "UNDEFINED GIC system register access");
  }
  return deliver_sync(v, pc, esr(kEcUnknown, 0), "undefined instruction");
}

bool Machine::deliver_sync(Vcpu& v, uint64_t elr, uint64_t esr_value, const char* what) {
  if (auto e = v.take_exception(0, elr, true, esr_value); !e.empty()) {
    fail(ExitCode::guest_fault, "vCPU " + std::to_string(v.index()) + ": " + what + " at pc=" + hex(elr) +
                                    " (ESR " + hex(esr_value) + ") and " + e);
    return false;
  }
  log_irq(v, what);
  return true;
}

// --- save / restore (--migrate-at)

bool Machine::gic_snapshot_supported() {
  return kHasGicSave<gicv3::Gic>;
}

std::unique_ptr<gicv3::Gic> Machine::release_gic() {
  if (gic_) (void)gic_->unmap_ram(kRamBase);
  return std::move(gic_);
}

std::string Machine::save(std::vector<uint8_t>& out, bool with_gic) {
  out.assign(kMagic, kMagic + sizeof kMagic);
  auto put = [&out](uint64_t v) {
    uint8_t b[8];
    std::memcpy(b, &v, 8);
    out.insert(out.end(), b, b + 8);
  };
  put(cfg_.nr_cpus);
  put(cfg_.ram_size);
  put(icount_);
  put(rr_);
  put(turn_left_);
  put(progressed_);
  for (auto& c : cpus_) c->save(out);
  std::vector<uint8_t> gic;
  if (with_gic) {
    if (auto s = gic_save(*gic_, gic); !s) return "GIC save: " + s.message();
  }
  put(gic.size());
  out.insert(out.end(), gic.begin(), gic.end());
  // RAM as (page number, page) for every page that is not all zeros: a fresh machine's RAM is
  // zero, and most of a small guest's RAM is untouched.
  constexpr size_t kPage = 4096;
  const uint64_t pages = cfg_.ram_size / kPage;
  static const uint8_t zero[kPage] = {};
  for (uint64_t i = 0; i < pages; ++i) {
    const uint8_t* pg = ram_ + i * kPage;
    if (std::memcmp(pg, zero, kPage) == 0) continue;
    put(i);
    out.insert(out.end(), pg, pg + kPage);
  }
  return {};
}

std::string Machine::restore(const std::vector<uint8_t>& in, bool with_gic) {
  if (used_) return "restore needs a fresh machine (nothing loaded or run)";
  used_ = true;
  const uint8_t* p = in.data();
  const uint8_t* end = in.data() + in.size();
  if (in.size() < sizeof kMagic || std::memcmp(p, kMagic, sizeof kMagic) != 0) return "not a machine snapshot";
  p += sizeof kMagic;
  auto get = [&](uint64_t& v) {
    if (end - p < 8) return false;
    std::memcpy(&v, p, 8);
    p += 8;
    return true;
  };
  uint64_t n = 0, ram = 0, rr = 0, prog = 0, gsize = 0;
  if (!get(n) || !get(ram) || !get(icount_) || !get(rr) || !get(turn_left_) || !get(prog)) return "truncated machine snapshot";
  if (n != cfg_.nr_cpus || ram != cfg_.ram_size) return "snapshot is of a different machine (CPUs or RAM size)";
  if (rr >= n || turn_left_ > cfg_.quantum) return "corrupt machine snapshot (scheduler state)";
  rr_ = static_cast<size_t>(rr);
  progressed_ = prog != 0;
  for (auto& c : cpus_)
    if (!c->restore(p, end)) return "truncated machine snapshot (vCPU " + std::to_string(c->index()) + ")";
  if (!get(gsize) || gsize > static_cast<uint64_t>(end - p)) return "truncated machine snapshot (GIC)";
  if (with_gic) {
    if (auto s = gic_restore(*gic_, std::span<const uint8_t>(p, gsize)); !s) return "GIC restore: " + s.message();
  } else if (gsize != 0) {
    return "snapshot has a GIC part but none was expected";
  }
  p += gsize;
  constexpr size_t kPage = 4096;
  while (p != end) {
    uint64_t page = 0;
    if (!get(page) || page >= cfg_.ram_size / kPage || static_cast<size_t>(end - p) < kPage)
      return "corrupt machine snapshot (RAM page)";
    std::memcpy(ram_ + page * kPage, p, kPage);
    p += kPage;
  }
  for (auto& c : cpus_) sync_timer(*c);
  return {};
}

}  // namespace vgic_machine
