// The KVM device-attribute API (Linux arch/arm64/kvm/vgic/vgic-kvm-device.c's vocabulary) over
// vgic: groups, attribute encodings and error meanings as KVM's, on top of the VMM (userspace)
// access paths of the register tables.
#include <cstring>
#include <string>

#include "api/gic_impl.hpp"
#include "gicd/gicd_registers.hpp"
#include "gicr/gicr_registers.hpp"
#include "its/its_regs.hpp"

namespace gicv3 {

void set_last_error(const Status& s);

namespace {

using Op = Gic::AttrOp;

int fail(int code, const std::string& msg) {
  set_last_error(Status(static_cast<Errc>(code), msg));
  return code;
}

int from_uaccess(mmio::UAccess r, const char* what) {
  switch (r) {
    case mmio::UAccess::ok: return 0;
    case mmio::UAccess::no_register: return fail(VGIC_ENXIO, std::string(what) + ": no such register");
    case mmio::UAccess::invalid_value: return fail(VGIC_EINVAL, std::string(what) + ": value not accepted");
  }
  return VGIC_EINVAL;
}

template <class T>
T load(const void* addr) {
  T v;
  std::memcpy(&v, addr, sizeof v);
  return v;
}
template <class T>
void store(void* addr, T v) {
  std::memcpy(addr, &v, sizeof v);
}

// A 64-bit address attribute: get, or set to the value vgic was created with.
int address_attr(Op op, uint64_t current, void* addr, const char* what) {
  if (op == Op::has) return 0;
  if (op == Op::get) {
    store<uint64_t>(addr, current);
    return 0;
  }
  // vgic's frames are placed at creation; setting the same address again is harmless (a VMM
  // ported from KVM does it), another one is refused as KVM refuses a second, different one.
  return load<uint64_t>(addr) == current ? 0 : fail(VGIC_EEXIST, std::string(what) + ": already placed elsewhere");
}

bool cpu_of(GicCore& core, uint64_t attr, unsigned& cpu) {
  const auto c = core.topology().cpu_for_affinity(uint32_t(attr >> VGIC_ATTR_MPIDR_SHIFT));
  if (!c) return false;
  cpu = *c;
  return true;
}

// A register access through a frame's uaccess path, with a 32- or 64-bit value at addr.
template <class T, class F>
int reg_attr(Op op, void* addr, const char* what, F&& access) {
  uint64_t v = 0;
  if (op == Op::set) v = load<T>(addr);
  const int r = from_uaccess(access(v, op == Op::set), what);
  if (r == 0 && op == Op::get) store<T>(addr, T(v));
  return r;
}

}  // namespace

int Gic::device_attr(AttrOp op, uint32_t group, uint64_t attr, void* addr) {
  GicCore& core = impl_->core;
  const Config& cfg = core.config();
  const bool needs_value = group != VGIC_DEV_GRP_CTRL;
  if (op != Op::has && needs_value && !addr) return fail(VGIC_EFAULT, "vgic_*_attr: addr is NULL");
  const bool state = group == VGIC_DEV_GRP_DIST_REGS || group == VGIC_DEV_GRP_REDIST_REGS ||
                     group == VGIC_DEV_GRP_CPU_SYSREGS || group == VGIC_DEV_GRP_LEVEL_INFO;
  if (op != Op::has && state && core.any_vcpu_running()) return fail(VGIC_EBUSY, "vgic_*_attr: a vCPU is running");
  unsigned cpu = 0;
  switch (group) {
    case VGIC_DEV_GRP_ADDR:
      switch (attr) {
        case VGIC_ADDR_TYPE_DIST: return address_attr(op, cfg.gicd_base, addr, "GICD address");
        case VGIC_ADDR_TYPE_REDIST: return address_attr(op, cfg.gicr_base, addr, "GICR address");
        case VGIC_ADDR_TYPE_REDIST_REGION: {
          // KVM layout: count [63:52], base [51:16], flags [15:12], index [11:0]; one region here.
          const uint64_t region = uint64_t(cfg.nr_cpus) << 52 | cfg.gicr_base;
          if (op == Op::get && (load<uint64_t>(addr) & 0xfff) != 0) return fail(VGIC_ENOENT, "redistributor region index");
          return address_attr(op, region, addr, "GICR region");
        }
      }
      return fail(VGIC_ENXIO, "GRP_ADDR: unknown address type");
    case VGIC_DEV_GRP_DIST_REGS: {
      const uint32_t off = uint32_t(attr);
      if (op == Op::has) {
        uint64_t v;
        return gicd_uaccess(core, off, v, false) == mmio::UAccess::ok ? 0 : fail(VGIC_ENXIO, "GRP_DIST_REGS: no register at that offset");
      }
      return reg_attr<uint32_t>(op, addr, "GRP_DIST_REGS", [&](uint64_t& v, bool w) { return gicd_uaccess(core, off, v, w); });
    }
    case VGIC_DEV_GRP_REDIST_REGS: {
      if (!cpu_of(core, attr, cpu)) return fail(VGIC_EINVAL, "GRP_REDIST_REGS: no CPU with that MPIDR");
      const uint32_t off = uint32_t(attr);
      if (op == Op::has) {
        uint64_t v;
        return gicr_uaccess(core, cpu, off, v, false) == mmio::UAccess::ok ? 0 : fail(VGIC_ENXIO, "GRP_REDIST_REGS: no register at that offset");
      }
      return reg_attr<uint32_t>(op, addr, "GRP_REDIST_REGS", [&](uint64_t& v, bool w) { return gicr_uaccess(core, cpu, off, v, w); });
    }
    case VGIC_DEV_GRP_CPU_SYSREGS: {
      if (!cpu_of(core, attr, cpu)) return fail(VGIC_EINVAL, "GRP_CPU_SYSREGS: no CPU with that MPIDR");
      const uint32_t enc = uint32_t(attr & 0xffff);
      uint64_t v = 0;
      if (op == Op::has) return core.sysreg_uaccess(cpu, enc, v, false) == 0 ? 0 : fail(VGIC_ENXIO, "GRP_CPU_SYSREGS: no such register");
      if (op == Op::set) v = load<uint64_t>(addr);
      const int r = core.sysreg_uaccess(cpu, enc, v, op == Op::set);
      if (r) return fail(r, "GRP_CPU_SYSREGS: " + std::string(r == VGIC_ENXIO ? "no such register" : "value not accepted"));
      if (op == Op::get) store<uint64_t>(addr, v);
      return 0;
    }
    case VGIC_DEV_GRP_NR_IRQS: {
      const uint32_t n = core.dist().nr_spis() + 32;
      if (op == Op::has) return 0;
      if (op == Op::get) {
        store<uint32_t>(addr, n);
        return 0;
      }
      return load<uint32_t>(addr) == n ? 0 : fail(VGIC_EBUSY, "GRP_NR_IRQS: fixed when vgic was created");
    }
    case VGIC_DEV_GRP_CTRL:
      switch (attr) {
        case VGIC_CTRL_INIT: return op == Op::get ? fail(VGIC_ENXIO, "GRP_CTRL is write-only") : 0;
        case VGIC_CTRL_SAVE_PENDING_TABLES:
          if (op == Op::has) return 0;
          if (op == Op::get) return fail(VGIC_ENXIO, "GRP_CTRL is write-only");
          if (core.any_vcpu_running()) return fail(VGIC_EBUSY, "SAVE_PENDING_TABLES: a vCPU is running");
          return core.save_pending_tables() ? 0 : fail(VGIC_EFAULT, "SAVE_PENDING_TABLES: a pending table is not in guest RAM");
      }
      return fail(VGIC_ENXIO, "GRP_CTRL: unknown attribute");
    case VGIC_DEV_GRP_LEVEL_INFO: {
      if (!cpu_of(core, attr, cpu)) return fail(VGIC_EINVAL, "GRP_LEVEL_INFO: no CPU with that MPIDR");
      const uint32_t info = uint32_t(attr >> 10) & 0x3fffff, intid = uint32_t(attr & 0x3ff);
      if (info != VGIC_LEVEL_INFO_LINE_LEVEL) return fail(VGIC_EINVAL, "GRP_LEVEL_INFO: unknown info type");
      if (intid % 32) return fail(VGIC_EINVAL, "GRP_LEVEL_INFO: INTID must be a multiple of 32");
      if (op == Op::has) return 0;
      if (op == Op::get)
        store<uint32_t>(addr, core.line_levels(cpu, intid));
      else
        core.restore_line_levels(cpu, intid, load<uint32_t>(addr));
      return 0;
    }
  }
  return fail(VGIC_ENXIO, "unknown attribute group " + std::to_string(group));
}

int Gic::its_attr(unsigned index, AttrOp op, uint32_t group, uint64_t attr, void* addr) {
  GicCore& core = impl_->core;
  if (index >= core.nr_its()) return fail(VGIC_ENODEV, "vgic_its_*_attr: no ITS " + std::to_string(index));
  Its& its = core.its(index);
  if (op != Op::has && group != VGIC_DEV_GRP_CTRL && !addr) return fail(VGIC_EFAULT, "vgic_its_*_attr: addr is NULL");
  switch (group) {
    case VGIC_DEV_GRP_ADDR:
      if (attr != VGIC_ADDR_TYPE_ITS) return fail(VGIC_ENXIO, "GRP_ADDR: an ITS has only the ITS address");
      return address_attr(op, its.config().base, addr, "ITS address");
    case VGIC_DEV_GRP_ITS_REGS: {
      // As KVM (vgic_its_has_attr_regs, vgic_its_attr_regs_access): the attribute is the whole
      // offset, and a 64-bit register (GITS_TYPER up to the ID registers) is named by its 8-byte
      // aligned offset only, a 32-bit one by a 4-byte aligned offset; any other offset is EINVAL.
      if (attr >= gits_off::kFrameSize) return fail(VGIC_ENXIO, "GRP_ITS_REGS: offset beyond the ITS control frame");
      const uint32_t off = uint32_t(attr);
      const uint32_t align = off < gits_off::TYPER || off >= gits_off::ID_REGS ? 3 : 7;
      if (off & align)
        return fail(VGIC_EINVAL, "GRP_ITS_REGS: offset not aligned to a register (8 bytes from GITS_TYPER to the ID "
                                 "registers, else 4)");
      if (op == Op::has) {
        uint64_t v;
        return its.uaccess(off, v, false) == mmio::UAccess::ok ? 0 : fail(VGIC_ENXIO, "GRP_ITS_REGS: no register at that offset");
      }
      if (core.any_vcpu_running()) return fail(VGIC_EBUSY, "GRP_ITS_REGS: a vCPU is running");
      return reg_attr<uint64_t>(op, addr, "GRP_ITS_REGS", [&](uint64_t& v, bool w) { return its.uaccess(off, v, w); });
    }
    case VGIC_DEV_GRP_CTRL:
      if (op == Op::get) return fail(VGIC_ENXIO, "GRP_CTRL is write-only");
      switch (attr) {
        case VGIC_CTRL_INIT: return 0;
        case VGIC_CTRL_ITS_RESET:
          if (op == Op::has) return 0;
          if (core.any_vcpu_running()) return fail(VGIC_EBUSY, "ITS_CTRL_RESET: a vCPU is running");
          its.reset();
          return 0;
        case VGIC_CTRL_ITS_SAVE_TABLES:
        case VGIC_CTRL_ITS_RESTORE_TABLES: {
          // The KVM ITS table ABI revision 0 (arm-vgic-its.rst; its/its_save_restore.cpp). An ITS
          // configured outside it (GITS_IIDR.Revision != 0, ITT entries of 9..16 bytes) does not
          // offer the attributes: -ENXIO, "ITS not properly configured".
          const bool save = attr == VGIC_CTRL_ITS_SAVE_TABLES;
          if (!its.implements_table_abi())
            return fail(VGIC_ENXIO, save ? "ITS_SAVE_TABLES: ITS outside the table ABI" : "ITS_RESTORE_TABLES: ITS outside the table ABI");
          if (op == Op::has) return 0;
          if (core.any_vcpu_running()) return fail(VGIC_EBUSY, save ? "ITS_SAVE_TABLES: a vCPU is running" : "ITS_RESTORE_TABLES: a vCPU is running");
          const Status s = save ? its.save_tables() : its.restore_tables();
          if (!s.ok()) set_last_error(s);
          return s.raw();
        }
      }
      return fail(VGIC_ENXIO, "GRP_CTRL: unknown attribute");
  }
  return fail(VGIC_ENXIO, "unknown ITS attribute group " + std::to_string(group));
}

Status Gic::vcpu_running(unsigned cpu, bool running) {
  if (cpu >= impl_->core.nr_cpus()) return {Errc::invalid_argument, "vgic_vcpu_running: cpu out of range"};
  impl_->core.set_vcpu_running(cpu, running);
  return {};
}

}  // namespace gicv3
