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

// An upper bound of the blob's size, from the lists' lengths (field widths as in
// snapshot_fields.hpp, fixed parts rounded up): the buffer is allocated once.
size_t size_bound(const Model& m) {
  size_t n = 4096 + 64 * m.config.its.size() + 10 * m.spis.size() + 26 * m.gsi_routes.size() + 8 * m.cpus.size();
  for (const CpuState& c : m.cpus)
    n += 256 + 2 * c.private_irqs.size() + (4 + LpiChunk::kSize + LpiChunk::kSize / 8) * c.lpi_chunks.size() +
         4 * c.lpi_order.size();
  for (const ItsState& s : m.its) {
    n += 256 + 8 * s.collections.size();
    for (const ItsDevice& d : s.devices) n += 4 + 1 + 8 + 4 + 10 * d.ites.size();
  }
  return n;
}

}  // namespace

namespace {

void encode(Encoder& e, const Model& m) {
  e.reserve(size_bound(m));
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
  e.le(crc32(e.bytes_so_far()), 4);
}

}  // namespace

std::vector<uint8_t> encode(const Model& m) {
  Encoder e;
  encode(e, m);
  return e.take();
}

size_t encode_into(const Model& m, std::span<uint8_t> out, std::vector<uint8_t>& overflow) {
  Encoder e(out);
  encode(e, m);  // reserve(size_bound) leaves `out` at once when the bound exceeds it
  if (e.in_external()) return e.size();
  overflow = e.take();
  return 0;
}

}  // namespace gicv3::snapshot
