// Strong types for the identifiers of the GIC architecture, so that an INTID can never be passed
// where a CPU index or a DeviceID is expected.
#pragma once

#include <compare>
#include <cstdint>

namespace gicv3 {

template <class Tag, class Rep = uint32_t>
struct StrongId {
  Rep value{};
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : value(v) {}
  constexpr auto operator<=>(const StrongId&) const = default;
};

struct CpuIndexTag {};
using CpuIndex = StrongId<CpuIndexTag>;  // vgic's processor number (GICR_TYPER.Processor_Number)

// INTID ranges (IHI0069 2.2, Table 2-1).
struct Intid : StrongId<struct IntidTag> {
  using StrongId::StrongId;
  static constexpr uint32_t kSgiEnd = 16;
  static constexpr uint32_t kPpiEnd = 32;
  static constexpr uint32_t kSpiEnd = 1020;     // exclusive; 1020..1023 are special
  static constexpr uint32_t kSpurious = 1023;
  static constexpr uint32_t kEppiBase = 1056;   // GICv3.1 extended PPIs 1056..1119
  static constexpr uint32_t kEppiEnd = 1120;
  static constexpr uint32_t kEspiBase = 4096;   // GICv3.1 extended SPIs 4096..5119
  static constexpr uint32_t kEspiEnd = 5120;
  static constexpr uint32_t kLpiBase = 8192;

  constexpr bool is_sgi() const { return value < kSgiEnd; }
  constexpr bool is_ppi() const { return value >= kSgiEnd && value < kPpiEnd; }
  constexpr bool is_eppi() const { return value >= kEppiBase && value < kEppiEnd; }
  constexpr bool is_spi() const { return value >= kPpiEnd && value < kSpiEnd; }
  constexpr bool is_espi() const { return value >= kEspiBase && value < kEspiEnd; }
  constexpr bool is_special() const { return value >= kSpiEnd && value <= kSpurious; }
  constexpr bool is_lpi() const { return value >= kLpiBase; }
  // Banked per redistributor: SGIs, PPIs and extended PPIs.
  constexpr bool is_private() const { return value < kPpiEnd || is_eppi(); }
  constexpr bool is_shared() const { return is_spi() || is_espi(); }

  // The SPIs a GIC configured with nr_spis (a multiple of 32, GICD_TYPER.ITLinesNumber) has:
  // 992 announces INTIDs up to 1023, but 1020..1023 are special (IHI0069 2.2.1), so at most 988.
  // Every count of SPI state (the Distributor, the snapshot, the default GSI table) is this one.
  static constexpr uint32_t implemented_spis(uint32_t nr_spis) { return nr_spis < kSpiEnd - kPpiEnd ? nr_spis : kSpiEnd - kPpiEnd; }
};

// Interrupt groups. The GIC runs with GICD_CTLR.DS == 1 (one Security state), so there are two.
enum class Group : uint8_t { g0 = 0, g1 = 1 };

}  // namespace gicv3
