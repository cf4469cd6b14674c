// The configuration check of restore: the snapshot's CONF section against the target's
// configuration, field by field, in the order and with the names of their one declaration
// (fields::config in snapshot_fields.hpp). Fields marked host_tuning (max_host_memory,
// cache_entries) are the embedder's and not guest-visible, so they may differ.
#include <algorithm>
#include <map>
#include <type_traits>

#include "its/its.hpp"
#include "snapshot/snapshot_fields.hpp"

namespace gicv3::snapshot {

namespace {

// A third archive: flattens a Config into (name, value) pairs in declaration order. The element
// of a list gets its index: "mpidr[1]", "its[0].device_id_bits".
class Flattener {
 public:
  struct Entry {
    std::string name;
    uint64_t value;
  };

  template <class... R> void u32(uint32_t v, const char* f, const R&... r) { add(f, v, r...); }
  template <class... R> void u64(uint64_t v, const char* f, const R&... r) { add(f, v, r...); }
  void flag(bool v, const char* f) { add(f, v); }
  template <class V> void count(const V& v, const char* f, size_t, uint64_t) { add(f, v.size()); }
  template <class V> void sized(const V&, size_t, const char* f, size_t) { lists_.push_back(f); }
  template <class P, class W> void check(const char*, const P&, const W&) {}
  static constexpr bool ok() { return true; }

  const std::vector<Entry>& entries() const { return entries_; }

 private:
  template <class... R> void add(const std::string& f, uint64_t v, const R&...) {
    if constexpr (!(std::is_same_v<R, HostTuning> || ...)) entries_.push_back({indexed(f), v});
  }
  std::string indexed(const std::string& f) {
    const size_t dot = f.find('.');
    const bool element = dot != std::string::npos || std::find(lists_.begin(), lists_.end(), f) != lists_.end();
    if (!element) return f;
    const std::string at = "[" + std::to_string(seen_[f]++) + "]";
    return dot == std::string::npos ? f + at : f.substr(0, dot) + at + f.substr(dot);
  }
  std::vector<Entry> entries_;
  std::vector<std::string> lists_;
  std::map<std::string, unsigned> seen_;
};

std::vector<Flattener::Entry> flatten(const Config& c) {
  Flattener f;
  fields::config(f, c);
  return f.entries();
}

// The configuration as the guest sees it: an ITS iidr of 0 is vgic's default GITS_IIDR. (A blob
// keeps the value as configured, so that format-1 blobs stay byte for byte what they were.)
Config as_seen(Config c) {
  for (ItsConfig& k : c.its)
    if (!k.iidr) k.iidr = Its::kDefaultIidr;
  return c;
}

}  // namespace

Status compare_config(const Config& snapshot, const Config& target) {
  const auto s = flatten(as_seen(snapshot)), t = flatten(as_seen(target));
  // Lists are compared after their counts, so the two agree up to the first difference.
  for (size_t i = 0; i < s.size() && i < t.size(); ++i)
    if (s[i].value != t[i].value)
      return {Errc::invalid_argument, "vgic_restore: configuration mismatch: " + s[i].name + " is " +
                                          std::to_string(s[i].value) + " in the snapshot, " + std::to_string(t[i].value) +
                                          " in this GIC"};
  return {};
}

Config effective_config(const Config& c, const std::vector<uint64_t>& mpidrs) {
  Config e = c;
  e.mpidr = mpidrs;
  return e;
}

}  // namespace gicv3::snapshot
