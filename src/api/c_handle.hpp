// The object behind the C API's opaque `vgic *`: the C++ facade. Shared with in-tree code that
// needs the C++ object behind a C handle (benchmarks; tests reading the host-memory counter).
// Not installed.
#pragma once

#include <memory>

#include "vgic/vgic.h"
#include "vgic/vgic.hpp"

struct vgic {
  std::unique_ptr<gicv3::Gic> gic;
};
