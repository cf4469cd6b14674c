#include "gicr/redistributor.hpp"

namespace gicv3 {

Redistributor::Redistributor(const Config& cfg, unsigned /*cpu*/, HostBudget& budget)
    : nr_eppis_(cfg.nr_eppis), irqs_(Intid::kPpiEnd + cfg.nr_eppis) {
  if (cfg.lpi_id_bits)
    lpis = std::make_unique<LpiTable>(cfg.lpi_id_bits, uint8_t(0xff << (8 - cfg.priority_bits)), budget);
  // SGIs are always edge-triggered (GICR_ICFGR0 is read-only 0xAAAAAAAA, IHI0069 12.11.8); PPIs
  // reset level-sensitive.
  for (uint32_t i = 0; i < Intid::kSgiEnd; ++i) irqs_[i].edge = true;
}

}  // namespace gicv3
