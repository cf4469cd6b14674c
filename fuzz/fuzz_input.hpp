// A front-to-back reader of fuzzer bytes (little-endian); reads past the end give zeros.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fuzz {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  bool empty() const { return n_ == 0; }
  size_t left() const { return n_; }
  const uint8_t* take(size_t len) {  // len bytes (fewer at the end: see left())
    const uint8_t* r = p_;
    const size_t k = len < n_ ? len : n_;
    p_ += k;
    n_ -= k;
    return r;
  }
  uint64_t u(unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && n_ > 0; ++i, ++p_, --n_) v |= uint64_t(*p_) << (8 * i);
    return v;
  }
  uint8_t u8() { return uint8_t(u(1)); }
  uint16_t u16() { return uint16_t(u(2)); }
  uint32_t u32() { return uint32_t(u(4)); }
  uint64_t u64() { return u(8); }

 private:
  const uint8_t* p_;
  size_t n_;
};

}  // namespace fuzz
