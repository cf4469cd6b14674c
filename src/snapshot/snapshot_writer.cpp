// Encodes a snapshot Model into the version-1 byte format: the framing (header, section headers,
// trailer) here, every section body from its declaration in snapshot_fields.hpp.
#include "snapshot/snapshot_fields.hpp"

namespace gicv3::snapshot {

namespace {

template <class F>
void section(Encoder& e, uint32_t t, F&& body) {
  e.le(t, 4);
  e.le(0, 4);  // reserved
  const size_t len_at = e.size();
  e.le(0, 8);  // body length, patched below
  const size_t start = e.size();
  body();
  e.patch_u64(len_at, e.size() - start);
}

}  // namespace

std::vector<uint8_t> encode(const Model& m) {
  Encoder e;
  e.raw(reinterpret_cast<const uint8_t*>(kMagic), sizeof kMagic);
  e.le(kVersion, 4);
  e.le(0, 4);  // flags
  e.le(0, 8);  // payload length, patched below
  section(e, kTagConfig, [&] { fields::config(e, m.config); });
  section(e, kTagDist, [&] { fields::dist(e, m); });
  for (uint32_t i = 0; i < m.cpus.size(); ++i) section(e, kTagCpu, [&] { fields::cpu(e, m.config, i, m.cpus[i]); });
  for (uint32_t i = 0; i < m.its.size(); ++i) section(e, kTagIts, [&] { fields::its(e, m.config, i, m.its[i]); });
  section(e, kTagGsi, [&] { fields::gsi(e, m.config, m.gsi_routes); });
  section(e, kTagUserIrq, [&] { fields::user_irq(e, m.config, m.user_irq); });
  e.patch_u64(16, e.size() - kHeaderSize);
  e.le(crc32(e.buf()), 4);
  return std::move(e.buf());
}

}  // namespace gicv3::snapshot
