// The facade's implementation object, visible to in-tree tools (replay, the vgic CLI) that need
// the internal GicCore. Not installed.
#pragma once

#include "gic/gic_core.hpp"
#include "routing/gsi_routing.hpp"
#include "routing/irqfd.hpp"
#include "routing/user_irq.hpp"
#include "vgic/vgic.hpp"

namespace gicv3 {

// The GIC and the VMM-integration layers built on it (routing, irqfd, user IRQ levels).
struct Gic::Impl {
  explicit Impl(const Config& cfg) : core(cfg), routing(core), irqfds(core, routing), user_irq(core) {}
  GicCore core;
  GsiRouting routing;
  IrqfdManager irqfds;
  UserIrqLevels user_irq;
};

}  // namespace gicv3
