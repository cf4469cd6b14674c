// The reference machine's physical layout: QEMU's `virt` board (hw/arm/virt.c memmap) so the same
// bare-metal images run on both. Values are facts of that board, not choices of ours, except where
// marked.
#pragma once

#include <cstdint>

namespace vgic_machine {

inline constexpr uint64_t kGicdBase = 0x08000000;    // GICD, 64 KiB
inline constexpr uint64_t kGicdSize = 0x10000;
inline constexpr uint64_t kItsBase = 0x08080000;     // ITS control + translation frames, 128 KiB
inline constexpr uint64_t kItsSize = 0x20000;
inline constexpr uint64_t kGicrBase = 0x080A0000;    // GICR: RD_base + SGI_base (2 x 64 KiB) per CPU
inline constexpr uint64_t kGicrStride = 0x20000;
inline constexpr uint64_t kGicrRegionSize = 0xF60000;  // virt's redistributor region (123 CPUs)
inline constexpr uint64_t kUartBase = 0x09000000;    // PL011, 4 KiB, SPI 1 (INTID 33)
inline constexpr uint64_t kUartSize = 0x1000;
inline constexpr uint32_t kUartSpi = 1;
inline constexpr uint64_t kRamBase = 0x40000000;
inline constexpr uint64_t kImageOffset = 0x80000;    // flat images: as the arm64 Linux boot protocol
inline constexpr uint64_t kDtbOffset = 0;            // the DTB at the start of RAM, as QEMU for
                                                     // bare-metal (non-Linux) images
inline constexpr uint64_t kDtbMaxSize = 0x10000;     // our choice: the tree we build is ~2 KiB
inline constexpr uint64_t kDefaultRamSize = 128ull << 20;
inline constexpr uint64_t kMaxRamSize = 4ull << 30;

// Generic timer PPIs (Arm DEN0094 / QEMU virt): EL1 virtual timer PPI 11 = INTID 27, EL1 physical
// timer PPI 14 = INTID 30. Bits of the device_irq_level bitmap (seed 002, KVM_CAP_ARM_USER_IRQ).
inline constexpr uint32_t kVtimerIntid = 27;
inline constexpr uint32_t kPtimerIntid = 30;
inline constexpr unsigned kVtimerBit = 0;
inline constexpr unsigned kPtimerBit = 1;

// The counter frequency the guest reads from CNTFRQ_EL0 (QEMU's 62.5 MHz for these CPU models).
// Our counter advances one tick per guest instruction executed machine-wide (see
// docs/reference-machine.md): deterministic, so guest output never depends on host timing.
inline constexpr uint64_t kCounterFrequency = 62500000;

// MPIDR affinity of vCPU i as on QEMU virt with GICv3 (and vgic's default): Aff0 = i % 16,
// Aff1 = i / 16.
inline constexpr uint64_t mpidr_affinity(unsigned i) { return (uint64_t{i / 16} << 8) | (i % 16); }

}  // namespace vgic_machine
