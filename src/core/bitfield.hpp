// One declaration per register field; every access to a field goes through it.
// Example: using EnableGrp1 = Field<1, 1>;  EnableGrp1::get(ctlr), EnableGrp1::set(ctlr, 1).
#pragma once

#include <cstdint>

namespace gicv3 {

template <unsigned Lsb, unsigned Width>
struct Field {
  static_assert(Width >= 1 && Lsb + Width <= 64, "field outside a 64-bit word");
  static constexpr unsigned lsb = Lsb;
  static constexpr unsigned width = Width;
  static constexpr uint64_t max = Width == 64 ? ~0ull : ((1ull << Width) - 1);
  static constexpr uint64_t mask = max << Lsb;

  static constexpr uint64_t get(uint64_t word) { return (word >> Lsb) & max; }
  // The word with this field replaced by v (v truncated to the field's width).
  static constexpr uint64_t set(uint64_t word, uint64_t v) {
    return (word & ~mask) | ((v & max) << Lsb);
  }
  static constexpr uint64_t make(uint64_t v) { return (v & max) << Lsb; }
  static constexpr bool fits(uint64_t v) { return v <= max; }
};

template <unsigned Lsb>
using Bit = Field<Lsb, 1>;

// Mask of several fields: writable_mask<A, B, C>().
template <class... Fs>
constexpr uint64_t mask_of() {
  return (Fs::mask | ... | 0ull);
}

}  // namespace gicv3
