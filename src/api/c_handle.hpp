// The object behind the C API's opaque `vgic *`: the C++ facade. Shared with in-tree tests that
// need internal state behind a C handle (the host-memory counter); not installed.
#pragma once

#include <memory>

#include "vgic/vgic.hpp"

struct vgic {
  std::unique_ptr<gicv3::Gic> gic;
};
