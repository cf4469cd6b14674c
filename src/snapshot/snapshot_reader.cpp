// Decodes a version-1 snapshot blob into a Model and checks every field: the framing (header,
// checksum, section order and lengths) here, every section body from its declaration in
// snapshot_fields.hpp. Nothing here touches a GIC: restore applies the Model only after decode()
// and the configuration comparison succeeded, so a bad blob never leaves a half-restored target.
#include <cstdio>
#include <cstring>

#include "snapshot/snapshot_fields.hpp"

namespace gicv3::snapshot {

std::string hex(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

namespace {

Status bad(const std::string& m) { return {Errc::invalid_argument, "vgic_restore: " + m}; }

}  // namespace

Status decode(std::span<const uint8_t> blob, Model& m) {
  m = Model{};
  if (blob.size() < kHeaderSize + kTrailerSize)
    return bad("truncated: " + std::to_string(blob.size()) + " bytes, a snapshot has at least " +
               std::to_string(kHeaderSize + kTrailerSize));
  if (std::memcmp(blob.data(), kMagic, sizeof kMagic) != 0) return bad("not a vgic snapshot (magic at offset 0)");
  Decoder h(blob.subspan(8, kHeaderSize - 8), 8);
  h.set_where("header");
  uint32_t version = 0, flags = 0;
  uint64_t len = 0;
  h.u32(version, "version");
  h.u32(flags, "flags");
  h.u64(len, "payload_length");
  if (version > kVersion)
    return {Errc::not_implemented, "vgic_restore: snapshot format version " + std::to_string(version) +
                                       " is newer than the version this vgic reads (" + std::to_string(kVersion) + ")"};
  if (version != kVersion) return bad("header.version at offset 8: " + std::to_string(version) + " is not a valid version");
  if (flags != 0) return bad("header.flags at offset 12: unknown flags " + hex(flags));
  if (len != blob.size() - kHeaderSize - kTrailerSize)
    return bad("header.payload_length at offset 16: " + std::to_string(len) + " but the blob holds " +
               std::to_string(blob.size() - kHeaderSize - kTrailerSize) + " payload bytes (truncated or extended)");
  const size_t crc_at = blob.size() - kTrailerSize;
  uint32_t stored = 0;
  for (unsigned i = 0; i < 4; ++i) stored |= uint32_t(blob[crc_at + i]) << (8 * i);
  const uint32_t computed = crc32(blob.first(crc_at));
  if (stored != computed)
    return bad("checksum mismatch at offset " + std::to_string(crc_at) + ": stored " + hex(stored) + ", computed " +
               hex(computed) + " (corrupt blob)");

  Decoder p(blob.subspan(kHeaderSize, len), kHeaderSize);
  // Walks the sections in their fixed order; body() decodes one section's body.
  auto section = [&](uint32_t want, const std::string& name, auto&& body) -> bool {
    p.set_where(name);
    uint32_t t = 0, reserved = 0;
    uint64_t blen = 0;
    p.u32(t, "tag", expect([=](uint32_t v) { return v == want; }, [=](uint32_t v) {
            return "found section '" + tag_name(v) + "', expected '" + tag_name(want) + "'";
          }));
    p.u32(reserved, "reserved", expect([](uint32_t v) { return v == 0; }, "must be 0"));
    p.u64(blen, "length", expect([&](uint64_t v) { return v <= p.left(); }, [&](uint64_t v) {
            return std::to_string(v) + " bytes, only " + std::to_string(p.left()) + " left";
          }));
    if (!p.ok()) return false;
    const size_t start = p.offset();
    Decoder b(blob.subspan(start, blen), start);
    b.set_where(name);
    body(b);
    if (b.ok() && !b.at_end()) b.fail("end", std::to_string(b.left()) + " unexpected bytes at the end of the section");
    if (!b.ok()) {
      p.adopt_error(b);
      return false;
    }
    p.skip(size_t(blen));
    return true;
  };

  bool ok = section(kTagConfig, "CONF", [&](Decoder& d) { fields::config(d, m.config); });
  const Config& c = m.config;
  ok = ok && section(kTagDist, "GICD", [&](Decoder& d) { fields::dist(d, m); });
  m.cpus.resize(ok ? c.nr_cpus : 0);
  for (uint32_t i = 0; ok && i < c.nr_cpus; ++i)
    ok = section(kTagCpu, "CPU" + std::to_string(i), [&](Decoder& d) { fields::cpu(d, c, i, m.cpus[i]); });
  m.its.resize(ok ? c.its.size() : 0);
  for (uint32_t i = 0; ok && i < c.its.size(); ++i)
    ok = section(kTagIts, "ITS" + std::to_string(i), [&](Decoder& d) { fields::its(d, c, i, m.its[i]); });
  ok = ok && section(kTagGsi, "GSIR", [&](Decoder& d) { fields::gsi(d, c, m.gsi_routes); });
  ok = ok && section(kTagUserIrq, "UIRQ", [&](Decoder& d) { fields::user_irq(d, c, m.user_irq); });
  if (ok && !p.at_end()) {
    p.set_where("payload");
    uint32_t t = 0;
    p.u32(t, "tag");
    p.fail_last("tag", "unexpected section '" + tag_name(t) + "' after the last section of version 1");
  }
  if (!p.ok()) {
    Status s = bad(p.error());
    m = Model{};
    return s;
  }
  return {};
}

}  // namespace gicv3::snapshot
