// The MSI doorbells of a GIC configuration: the addresses whose 32-bit write a device's MSI is
// (IHI0069): an ITS's GITS_TRANSLATER (5.2), GICD_SETSPI_NSR with message-based SPIs (2.3.2), and,
// with DirectLPI, a Redistributor's GICR_SETLPIR (12.11; without an ITS, seed 004). One
// classification for vgic_signal_msi, the GSI routes and the snapshot's route check.
#pragma once

#include <cstdint>

#include "gicd/gicd_regs.hpp"
#include "gicr/gicr_regs.hpp"
#include "its/its_regs.hpp"
#include "vgic/vgic.hpp"

namespace gicv3 {

struct Doorbell {
  enum Kind { none, its, setspi, setlpir } kind = none;
  unsigned index = 0;  // the ITS, or the Redistributor's CPU
};

inline Doorbell doorbell_at(const Config& c, uint64_t gpa) {
  for (unsigned i = 0; i < c.its.size(); ++i)
    if (gpa == c.its[i].base + gits_off::kFrameSize + gits_off::TRANSLATER) return {Doorbell::its, i};
  if (c.mbis && gpa == c.gicd_base + gicd_off::SETSPI_NSR) return {Doorbell::setspi, 0};
  const uint64_t rel = gpa - c.gicr_base;
  if (c.direct_lpi && rel < uint64_t(c.nr_cpus) * gicr_off::kStride && rel % gicr_off::kStride == gicr_off::SETLPIR)
    return {Doorbell::setlpir, unsigned(rel / gicr_off::kStride)};
  return {};
}

}  // namespace gicv3
