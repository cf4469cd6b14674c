// The GICR frames (RD_base and SGI_base): register tables and MMIO entry points.
#pragma once

#include <cstdint>
#include <span>

#include "mmio/register_table.hpp"

namespace gicv3 {

class GicCore;
struct CpuContext;
struct Irq;

// Context of one access to a redistributor's frames; that CPU's lock is held while it lives.
struct GicrCtx {
  GicCore& gic;
  CpuContext& c;
  bool rejected = false;  // set by a restore handler that refuses the VMM's value

  Irq* find(uint32_t intid);
  void changed(Irq&) {}  // outputs are recomputed when the CPU lock is released
  uint8_t priority_mask() const;
  bool config_writable(uint32_t intid) const { return intid >= 16; }  // GICR_ICFGR0 (SGIs) is RO
};

std::span<const mmio::RegisterDesc<GicrCtx>> gicr_rd_register_table();
std::span<const mmio::RegisterDesc<GicrCtx>> gicr_sgi_register_table();

// offset is from the redistributor's RD_base; SGI_base follows at +64 KiB.
uint64_t gicr_read(GicCore& gic, unsigned cpu, uint32_t offset, unsigned size);
void gicr_write(GicCore& gic, unsigned cpu, uint32_t offset, unsigned size, uint64_t value);
// The VMM's access (KVM_DEV_ARM_VGIC_GRP_REDIST_REGS): 32-bit, offset from RD_base.
mmio::UAccess gicr_uaccess(GicCore& gic, unsigned cpu, uint32_t offset, uint64_t& value, bool is_write);

}  // namespace gicv3
