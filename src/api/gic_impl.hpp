// The facade's implementation object, visible to in-tree tools (replay, the vgic CLI) that need
// the internal GicCore. Not installed.
#pragma once

#include "gic/gic_core.hpp"
#include "vgic/vgic.hpp"

namespace gicv3 {

struct Gic::Impl {
  explicit Impl(const Config& cfg) : core(cfg) {}
  GicCore core;
};

}  // namespace gicv3
