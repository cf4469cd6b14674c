// CRC-32 (IEEE 802.3, polynomial 0xEDB88320 reflected, initial and final XOR 0xFFFFFFFF): the
// checksum of snapshot blobs, equal to zlib's crc32(), without a zlib dependency.
//
// Issue 7: a table lookup per byte was 16 instructions a byte, a fifth of saving and restoring
// 1 M LPIs (11.7 MB). Two faster ways, same result (tests/snapshot/crc32_test.cpp checks both
// against the bitwise definition):
//  - tables, eight bytes per step ("slicing-by-8": table k maps a byte to its CRC after k more
//    zero bytes, so eight independent lookups replace eight dependent ones), ~3.5 instructions a
//    byte; used everywhere, and for the ends of long buffers;
//  - on x86-64 CPUs with carry-less multiply (PCLMULQDQ, checked at run time), folding: 64 bytes
//    per step are multiplied forward by x^(512+-32) mod P and added to the next 64, so that what
//    is left is a 16-byte remainder with the same CRC (Intel white paper "Fast CRC computation
//    for generic polynomials using PCLMULQDQ", 2009; the reduction of that remainder is done by
//    the tables here).
#include <array>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "snapshot/snapshot_format.hpp"

namespace gicv3::snapshot {

namespace {
using Tables = std::array<std::array<uint32_t, 256>, 8>;
constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (unsigned k = 1; k < 8; ++k)
    for (uint32_t i = 0; i < 256; ++i) t[k][i] = t[0][t[k - 1][i] & 0xff] ^ (t[k - 1][i] >> 8);
  return t;
}
constexpr Tables kTables = make_tables();

// state: the running register (the CRC before its final XOR).
uint32_t crc_tables(const uint8_t* p, size_t n, uint32_t state) {
  for (; n >= 8; p += 8, n -= 8) {
    // Bytes in stream order, whatever the host's: byte 0 is the low byte of lo.
    const uint32_t lo = (uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24) ^ state;
    const uint32_t hi = uint32_t(p[4]) | uint32_t(p[5]) << 8 | uint32_t(p[6]) << 16 | uint32_t(p[7]) << 24;
    state = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^ kTables[4][lo >> 24] ^
            kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^ kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
  }
  for (; n; ++p, --n) state = kTables[0][(state ^ *p) & 0xff] ^ (state >> 8);
  return state;
}

#if defined(__x86_64__)
// One folding step: x carried forward over a distance d and added to the data there. f holds the
// distance's two constants (x^(d+32) and x^(d-32) mod P, bit-reflected, as the white paper
// derives them), one per 64-bit half of x.
[[gnu::target("pclmul,sse2")]] inline __m128i fold(__m128i x, __m128i f, __m128i data) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, f, 0x00), _mm_clmulepi64_si128(x, f, 0x11)), data);
}

// n >= 64.
[[gnu::target("pclmul,sse2")]] uint32_t crc_clmul(const uint8_t* p, size_t n, uint32_t state) {
  const auto load = [](const uint8_t* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };
  // The running register is added to the first four bytes: then the CRC of what follows,
  // started from 0, is the CRC of the whole.
  __m128i x0 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(int(state)));
  __m128i x1 = load(p + 16), x2 = load(p + 32), x3 = load(p + 48);
  p += 64;
  n -= 64;
  const __m128i by512 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
  for (; n >= 64; p += 64, n -= 64) {
    x0 = fold(x0, by512, load(p));
    x1 = fold(x1, by512, load(p + 16));
    x2 = fold(x2, by512, load(p + 32));
    x3 = fold(x3, by512, load(p + 48));
  }
  const __m128i by128 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
  __m128i x = fold(fold(fold(x0, by128, x1), by128, x2), by128, x3);
  for (; n >= 16; p += 16, n -= 16) x = fold(x, by128, load(p));
  alignas(16) uint8_t rest[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(rest), x);
  return crc_tables(p, n, crc_tables(rest, sizeof rest, 0));
}

bool have_clmul() {
  static const bool yes = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
  return yes;
}
#endif

}  // namespace

uint32_t crc32(std::span<const uint8_t> data, uint32_t crc) {
#if defined(__x86_64__)
  if (data.size() >= 64 && have_clmul()) return ~crc_clmul(data.data(), data.size(), ~crc);
#endif
  return ~crc_tables(data.data(), data.size(), ~crc);
}

uint32_t crc32_portable(std::span<const uint8_t> data, uint32_t crc) { return ~crc_tables(data.data(), data.size(), ~crc); }

std::string tag_name(uint32_t t) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const char c = char((t >> (8 * i)) & 0xff);
    s += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

uint8_t IrqState::flags() const {
  return uint8_t((enabled ? kEnabled : 0) | (group1 ? kGroup1 : 0) | (edge ? kEdge : 0) | (latch ? kLatch : 0) |
                 (line ? kLine : 0) | (msg_level ? kMsgLevel : 0) | (active ? kActive : 0));
}

void IrqState::set_flags(uint8_t f) {
  enabled = f & kEnabled;
  group1 = f & kGroup1;
  edge = f & kEdge;
  latch = f & kLatch;
  line = f & kLine;
  msg_level = f & kMsgLevel;
  active = f & kActive;
}

}  // namespace gicv3::snapshot
