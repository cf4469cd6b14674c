#include "gicr/redistributor.hpp"

namespace gicv3 {

Redistributor::Redistributor(const Config& cfg, unsigned /*cpu*/)
    : nr_eppis_(cfg.nr_eppis), irqs_(Intid::kPpiEnd + cfg.nr_eppis) {
  // SGIs are always edge-triggered (GICR_ICFGR0 is read-only 0xAAAAAAAA, IHI0069 12.11.8); PPIs
  // reset level-sensitive.
  for (uint32_t i = 0; i < Intid::kSgiEnd; ++i) irqs_[i].edge = true;
}

}  // namespace gicv3
