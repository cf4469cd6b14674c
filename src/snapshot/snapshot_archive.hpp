// The two archives that visit the one field declaration of the snapshot format
// (snapshot_fields.hpp): Encoder writes each field little-endian, Decoder reads it back with bounds
// checks and applies the field's validation rules. A field is named once; the name only matters to
// the Decoder, whose errors give section, field and byte offset. (A third visitor, over the CONF
// fields only, flattens a configuration for restore's comparison: snapshot_config.cpp.)
//
// Both archives have the same members, so a fields() template compiles against either:
//   u8/u16/u32/u64/flag(value, name, rules...)  one fixed-width field
//   bytes(array, name)                          a fixed-size byte block
//   count(vector, name, elem_bytes, max)        u32 element count of a variable-length list, bounded
//                                               by max and by the bytes left (elem_bytes at least
//                                               per element): a hostile count cannot make the
//                                               decoder allocate more than the blob can hold
//   length(vector, name, rules...)              u32 element count fixed by the configuration
//   sized(vector, n[, name, elem_bytes])        a list whose length an earlier field gave (no count
//                                               stored); with elem_bytes, bounded by the bytes left
//   check(name, pred, why)                      a rule between fields (pred and why are callables or,
//                                               for why, a string), reported at the field read last
//   where(make_name)                            names the part of the section that follows
// Rules (expect(pred, why)) and names are evaluated only by the Decoder, and only while no error
// is pending; encoding costs nothing for them. host_tuning marks a field restore does not compare.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace gicv3::snapshot {

// A validation rule: pred(value) must hold; otherwise the Decoder reports why (a string, or a
// callable that makes one from the value, built only on failure).
template <class P, class W>
struct Rule {
  P pred;
  W why;
};
template <class P, class W>
Rule<P, W> expect(P pred, W why) {
  return {std::move(pred), std::move(why)};
}

// Marks a field as host tuning, not guest-visible: restore does not compare it with the target's
// configuration (snapshot_config.cpp).
struct HostTuning {};
inline constexpr HostTuning host_tuning{};

std::string hex(uint64_t v);

// Fixed-width little-endian integers in a byte stream, whatever the host's byte order.
template <class T>
inline void store_le(uint8_t* p, T v) {
  static_assert(std::is_unsigned_v<T>);
  if constexpr (std::endian::native != std::endian::little)
    for (unsigned i = 0; i < sizeof(T); ++i) p[i] = uint8_t(uint64_t(v) >> (8 * i));
  else
    std::memcpy(p, &v, sizeof(T));
}
template <class T>
inline T load_le(const uint8_t* p) {
  static_assert(std::is_unsigned_v<T>);
  T v = 0;
  if constexpr (std::endian::native != std::endian::little)
    for (unsigned i = 0; i < sizeof(T); ++i) v = T(v | T(p[i]) << (8 * i));
  else
    std::memcpy(&v, p, sizeof(T));
  return v;
}

// Writes into a buffer grown ahead of the fields (issue 7: a push_back per byte was a third of
// saving 1 M LPIs); reserve() takes the caller's size estimate so that a large blob is not copied
// while it grows.
class Encoder {
 public:
  static constexpr bool kDecoding = false;
  Encoder() = default;
  // Writes into `external` (vgic_save's caller buffer: no copy) while the blob fits there; if it
  // outgrows it, the bytes so far move to an owned buffer and take() returns the blob.
  explicit Encoder(std::span<uint8_t> external)
      : base_(external.data()), cur_(base_), end_(base_ ? base_ + external.size() : nullptr) {}
  Encoder(const Encoder&) = delete;  // holds pointers into its own buffer
  Encoder& operator=(const Encoder&) = delete;

  template <class... R> void u8(uint8_t v, const char*, const R&...) { put(v); }
  template <class... R> void u16(uint16_t v, const char*, const R&...) { put(v); }
  template <class... R> void u32(uint32_t v, const char*, const R&...) { put(v); }
  template <class... R> void u64(uint64_t v, const char*, const R&...) { put(v); }
  void flag(bool v, const char*) { put(uint8_t(v ? 1 : 0)); }
  template <size_t N> void bytes(const std::array<uint8_t, N>& v, const char*) { raw(v.data(), N); }
  template <class V> void count(const V& v, const char*, size_t, uint64_t) { put(uint32_t(v.size())); }
  template <class V, class... R> void length(const V& v, const char*, const R&...) { put(uint32_t(v.size())); }
  template <class V> void sized(const V&, size_t, const char* = nullptr, size_t = 0) {}
  template <class P, class W> void check(const char*, const P&, const W&) {}
  template <class F> void where(const F&) {}
  static constexpr bool ok() { return true; }

  // Framing (snapshot_writer.cpp).
  void reserve(size_t bytes) {
    if (bytes > room_size()) rebuffer(bytes);
  }
  void raw(const uint8_t* p, size_t n) {
    if (n) std::memcpy(grow(n), p, n);
  }
  void le(uint64_t v, unsigned n) {
    uint8_t* p = grow(n);
    for (unsigned i = 0; i < n; ++i) p[i] = uint8_t(v >> (8 * i));
  }
  void patch_u64(size_t at, uint64_t v) { store_le(base_ + at, v); }
  size_t size() const { return size_t(cur_ - base_); }
  std::span<const uint8_t> bytes_so_far() const { return {base_, size()}; }
  // Whether every byte so far is in the external buffer given at construction.
  bool in_external() const { return base_ && base_ != buf_.data(); }
  // The blob in the owned buffer; the Encoder is empty afterwards.
  std::vector<uint8_t> take() {
    buf_.resize(size());
    base_ = cur_ = end_ = nullptr;
    return std::move(buf_);
  }

 private:
  template <class T> void put(T v) { store_le(grow(sizeof(T)), v); }
  // Two pointers, not the vector's size, on the per-field path: every byte store may alias the
  // vector's members, which the compiler would then reload on each field.
  uint8_t* grow(size_t n) {
    if (size_t(end_ - cur_) < n) [[unlikely]]
      rebuffer(std::max(size() + n, 2 * room_size() + 4096));
    uint8_t* p = cur_;
    cur_ += n;
    return p;
  }
  size_t room_size() const { return size_t(end_ - base_); }
  void rebuffer(size_t bytes) {
    const size_t used = size();
    const bool external = in_external();
    buf_.resize(bytes);
    if (external && used) std::memcpy(buf_.data(), base_, used);
    base_ = buf_.data();
    cur_ = base_ + used;
    end_ = base_ + buf_.size();
  }

  std::vector<uint8_t> buf_;  // owned storage, once the external buffer (if any) is outgrown
  uint8_t* base_ = nullptr;   // [base_, cur_) written; [cur_, end_) room to grow
  uint8_t* cur_ = nullptr;
  uint8_t* end_ = nullptr;
};

// A bounds-checked little-endian cursor over one part of a blob. The first failure is kept, with
// the field and its offset; afterwards every read is a no-op that leaves its value alone.
class Decoder {
 public:
  static constexpr bool kDecoding = true;

  Decoder(std::span<const uint8_t> data, size_t base) : d_(data), base_(base) {}

  template <class... R> void u8(uint8_t& v, const char* f, const R&... r) { field(v, f, r...); }
  template <class... R> void u16(uint16_t& v, const char* f, const R&... r) { field(v, f, r...); }
  template <class... R> void u32(uint32_t& v, const char* f, const R&... r) { field(v, f, r...); }
  template <class... R> void u64(uint64_t& v, const char* f, const R&... r) { field(v, f, r...); }
  void flag(bool& v, const char* f) {
    uint8_t b = 0;
    u8(b, f, expect([](uint8_t x) { return x <= 1; }, [](uint8_t x) { return "must be 0 or 1, is " + std::to_string(x); }));
    v = b == 1;
  }
  template <size_t N> void bytes(std::array<uint8_t, N>& v, const char* f) {
    if (!ok()) return;
    if (left() < N) return fail(f, "truncated");
    std::memcpy(v.data(), d_.data() + pos_, N);
    field_at_ = offset();
    pos_ += N;
  }
  template <class V> void count(V& v, const char* f, size_t elem, uint64_t max) {
    uint32_t n = 0;
    u32(n, f, expect([&](uint32_t x) { return x <= max; },
                     [&](uint32_t x) { return std::to_string(x) + " exceeds the maximum " + std::to_string(max); }),
        expect([&](uint32_t x) { return uint64_t(x) * elem <= left(); },
               [&](uint32_t x) {
                 return std::to_string(x) + " entries do not fit in the " + std::to_string(left()) + " bytes left";
               }));
    if (ok()) v.resize(n);
  }
  template <class V, class... R> void length(V& v, const char* f, const R&... r) {
    uint32_t n = 0;
    u32(n, f, r...);
    if (ok()) v.resize(n);
  }
  template <class V> void sized(V& v, size_t n) {
    if (ok()) v.resize(n);
  }
  template <class V> void sized(V& v, size_t n, const char* f, size_t elem) {
    if (!ok()) return;
    if (left() < uint64_t(n) * elem) return fail(f, "truncated");
    v.resize(n);
  }
  template <class P, class W> void check(const char* f, const P& pred, const W& why) {
    if (!ok() || pred()) return;
    if constexpr (std::is_invocable_v<const W&>)
      fail_last(f, why());
    else
      fail_last(f, why);
  }
  template <class F> void where(const F& make) {
    if (ok()) where_ = make();
  }

  // Framing (snapshot_reader.cpp).
  void set_where(std::string w) { where_ = std::move(w); }
  bool ok() const { return err_.empty(); }
  const std::string& error() const { return err_; }
  size_t offset() const { return base_ + pos_; }
  bool at_end() const { return pos_ == d_.size(); }
  size_t left() const { return d_.size() - pos_; }
  void skip(size_t n) { pos_ += std::min(n, left()); }
  void adopt_error(const Decoder& o) {
    if (ok()) err_ = o.err_;
  }
  // Reports a check of the field read last.
  void fail_last(const std::string& f, const std::string& why) {
    if (ok()) err_ = where_ + "." + f + " at offset " + std::to_string(field_at_) + ": " + why;
  }
  // Reports a problem at the current position.
  void fail(const std::string& f, const std::string& why) {
    if (ok()) err_ = where_ + "." + f + " at offset " + std::to_string(offset()) + ": " + why;
  }

 private:
  template <class T, class... R> void field(T& v, const char* f, const R&... rules) {
    if (!ok()) [[unlikely]]
      return;
    constexpr unsigned n = sizeof(T);
    if (left() < n) [[unlikely]]
      return truncated(f, n);
    v = load_le<T>(d_.data() + pos_);
    field_at_ = offset();
    pos_ += n;
    (apply(v, f, rules), ...);
  }
  // Error paths out of line: the fields' fast path stays small enough to inline (issue 7).
  [[gnu::cold, gnu::noinline]] void truncated(const char* f, unsigned n) {
    fail(f, "truncated (needs " + std::to_string(n) + " bytes, " + std::to_string(left()) + " left)");
  }
  template <class T> void apply(const T&, const char*, HostTuning) {}
  template <class T, class P, class W> void apply(const T& v, const char* f, const Rule<P, W>& r) {
    if (!ok() || r.pred(v)) [[likely]]
      return;
    broken(v, f, r);
  }
  template <class T, class P, class W> [[gnu::cold, gnu::noinline]] void broken(const T& v, const char* f, const Rule<P, W>& r) {
    if constexpr (std::is_invocable_v<const W&, T>)
      fail_last(f, r.why(v));
    else
      fail_last(f, r.why);
  }

  std::span<const uint8_t> d_;
  size_t base_;
  size_t pos_ = 0;
  size_t field_at_ = 0;
  std::string where_;
  std::string err_;
};

}  // namespace gicv3::snapshot
