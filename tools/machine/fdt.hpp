// The device tree handed to the guest in x0 (libfdt sequential-write API): memory, CPUs with their
// MPIDR affinities and PSCI enable method, the GICv3 with its ITS, the PL011, the generic timer.
// Node names and properties follow QEMU virt's tree so the same guest can parse both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vgic_machine {

struct FdtParams {
  unsigned nr_cpus = 1;
  uint64_t ram_base = 0, ram_size = 0;
  std::string psci_method = "hvc";
};

// Empty string on success (blob filled), else a message.
std::string build_fdt(const FdtParams& p, std::vector<uint8_t>& blob);

}  // namespace vgic_machine
