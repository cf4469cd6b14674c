// A transmit-only PL011 UART (Arm DDI0183): UARTDR writes go to the host's output stream;
// UARTFR reports an empty, never-full FIFO; the PrimeCell ID registers read as a PL011's; every
// other register reads as zero and ignores writes (no receive path, no UART interrupt).
#pragma once

#include <cstdint>
#include <cstdio>

namespace vgic_machine {

class Pl011 {
 public:
  explicit Pl011(std::FILE* out) : out_(out) {}
  uint64_t read(uint64_t offset) const {
    switch (offset) {
      case 0x018: return kFrTxfe | kFrRxfe;  // UARTFR
      case 0x030: return cr_;                // UARTCR
      case 0xFE0: return 0x11;               // UARTPeriphID0..3, UARTPCellID0..3
      case 0xFE4: return 0x10;
      case 0xFE8: return 0x14;
      case 0xFEC: return 0x00;
      case 0xFF0: return 0x0D;
      case 0xFF4: return 0xF0;
      case 0xFF8: return 0x05;
      case 0xFFC: return 0xB1;
      default: return 0;
    }
  }
  void write(uint64_t offset, uint64_t value) {
    if (offset == 0x000) {
      std::fputc(static_cast<int>(value & 0xFF), out_);
    } else if (offset == 0x030) {
      cr_ = static_cast<uint32_t>(value);
    }
  }

 private:
  static constexpr uint64_t kFrTxfe = 1u << 7, kFrRxfe = 1u << 4;
  std::FILE* out_;
  uint32_t cr_ = 0x300;  // TXE | RXE, as out of reset
};

}  // namespace vgic_machine
