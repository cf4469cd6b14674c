// The GICD frame: its register table and MMIO entry points.
#pragma once

#include <cstdint>
#include <span>

#include "gic/topology.hpp"
#include "mmio/register_table.hpp"

namespace gicv3 {

class GicCore;
class Distributor;
struct Irq;

// Context of one GICD access; the Distributor lock is held while it lives.
struct GicdCtx {
  GicCore& gic;
  Distributor& d;
  CpuSet& kick;
  bool rejected = false;  // set by a restore handler that refuses the VMM's value

  Irq* find(uint32_t intid);
  void changed(Irq& irq);
  uint8_t priority_mask() const;
  bool config_writable(uint32_t) const { return true; }
};

std::span<const mmio::RegisterDesc<GicdCtx>> gicd_register_table();

uint64_t gicd_read(GicCore& gic, uint32_t offset, unsigned size);
// The VMM's access (KVM_DEV_ARM_VGIC_GRP_DIST_REGS): 32-bit, no guest-error accounting.
mmio::UAccess gicd_uaccess(GicCore& gic, uint32_t offset, uint64_t& value, bool is_write);
void gicd_write(GicCore& gic, uint32_t offset, unsigned size, uint64_t value);

}  // namespace gicv3
