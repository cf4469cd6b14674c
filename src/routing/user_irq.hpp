// Output levels of in-kernel devices (seed 002, KVM_CAP_ARM_USER_IRQ): the bitmap a VMM reads from
// run->s.regs.device_irq_level after every exit, fed to the GIC. Bit 0 EL1 virtual timer -> PPI 27,
// bit 1 EL1 physical timer -> PPI 30, bit 2 PMU overflow -> PPI 23 (configurable). A level device
// drives its PPI's line. An edge device's bit is set on exactly one exit per edge (the seed's
// "set exactly once per edge signal"), so every sync with the bit set is one edge, even on
// consecutive exits: the VMM syncs once per exit. One thread per CPU syncs (its vCPU thread).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "vgic/vgic.hpp"

namespace gicv3 {

class GicCore;

class UserIrqLevels {
 public:
  explicit UserIrqLevels(GicCore& gic);
  Status set_map(unsigned bit, uint32_t ppi, bool edge);
  Status sync(unsigned cpu, uint64_t bits);
  // Derived: edge_bits_ from map_. Recomputed by whoever writes map_ (set_map, snapshot restore).
  void recompute_edge_bits();

 private:
  friend struct SnapshotAccess;  // snapshot/: full save/restore
  struct Device {
    uint32_t ppi = 0;  // 0: unmapped bit
    bool edge = false;
  };
  GicCore& gic_;
  std::mutex map_lock_;
  std::array<Device, 64> map_{};
  std::atomic<uint64_t> edge_bits_{0};  // derived from map_ (the bits of mapped edge devices)
  std::unique_ptr<std::atomic<uint64_t>[]> last_;  // per CPU: the bits of the previous sync
};

}  // namespace gicv3
