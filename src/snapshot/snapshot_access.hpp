// Capture and apply of the full snapshot (snapshot_capture.cpp, snapshot_apply.cpp). SnapshotAccess
// is the one friend of the blocks whose state is private (LpiTable, Its, GsiRouting,
// UserIrqLevels), so that no other code gains access to their internals.
#pragma once

#include "api/gic_impl.hpp"
#include "snapshot/snapshot_format.hpp"

namespace gicv3 {

struct SnapshotAccess {
  // Reads every piece of guest-visible state and host-set input into m. Takes, one at a time,
  // each CPU lock, the Distributor lock, each ITS lock (never two at once), so it may run while
  // MSIs and line changes arrive: each of those is in the snapshot if it completed before
  // capture() began.
  static void capture(Gic::Impl& g, snapshot::Model& m);
  // Whether applying m fits the host-memory budget (checked before anything changes).
  static Status check_budget(Gic::Impl& g, const snapshot::Model& m);
  // Replaces the GIC's state by m. m was decoded, checked and its configuration compared; the
  // caller guarantees that no vCPU runs (GicCore::any_vcpu_running).
  static void apply(Gic::Impl& g, const snapshot::Model& m);
};

}  // namespace gicv3
