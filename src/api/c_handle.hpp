// The C API's handle (api/c_api.cpp), here so that in-tree tools (the benchmarks) can reach the
// C++ object behind a vgic*. Not installed.
#pragma once

#include <memory>

#include "vgic/vgic.h"
#include "vgic/vgic.hpp"

struct vgic {
  std::unique_ptr<gicv3::Gic> gic;
};
