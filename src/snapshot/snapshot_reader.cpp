// Decodes a version-1 snapshot blob into a Model and checks every field (snapshot_format.hpp).
// Nothing here touches a GIC: restore applies the Model only after decode() and the
// configuration comparison succeeded, so a bad blob never leaves a half-restored target.
#include <algorithm>
#include <cstring>
#include <set>

#include "its/its_regs.hpp"
#include "gicd/gicd_regs.hpp"
#include "snapshot/snapshot_format.hpp"

namespace gicv3::snapshot {

namespace {

std::string hex(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

Status bad(const std::string& m) { return {Errc::invalid_argument, "vgic_restore: " + m}; }

// A bounds-checked little-endian cursor. The first failure is kept, with the field and offset.
class Reader {
 public:
  Reader(std::span<const uint8_t> data, size_t base) : d_(data), base_(base) {}
  void set_where(std::string w) { where_ = std::move(w); }
  bool ok() const { return err_.empty(); }
  const std::string& error() const { return err_; }
  size_t offset() const { return base_ + pos_; }
  bool at_end() const { return pos_ == d_.size(); }
  size_t left() const { return d_.size() - pos_; }

  uint64_t uint(const char* field, unsigned n) {
    if (!ok()) return 0;
    if (left() < n) {
      fail(field, "truncated (needs " + std::to_string(n) + " bytes, " + std::to_string(left()) + " left)");
      return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v |= uint64_t(d_[pos_ + i]) << (8 * i);
    field_at_ = offset();
    pos_ += n;
    return v;
  }
  uint8_t u8(const char* f) { return uint8_t(uint(f, 1)); }
  uint16_t u16(const char* f) { return uint16_t(uint(f, 2)); }
  uint32_t u32(const char* f) { return uint32_t(uint(f, 4)); }
  uint64_t u64(const char* f) { return uint(f, 8); }
  bool flag(const char* f) {
    const uint8_t v = u8(f);
    if (v > 1) fail_last(f, "must be 0 or 1, is " + std::to_string(v));
    return v == 1;
  }
  void bytes(const char* f, uint8_t* out, size_t n) {
    if (!ok()) return;
    if (left() < n) return fail(f, "truncated");
    std::memcpy(out, d_.data() + pos_, n);
    field_at_ = offset();
    pos_ += n;
  }
  // A count whose elements take at least elem bytes each: refuses counts the data cannot hold
  // before anything is allocated for them.
  uint32_t count(const char* f, size_t elem, uint64_t max) {
    const uint32_t n = u32(f);
    if (!ok()) return 0;
    if (n > max) {
      fail_last(f, std::to_string(n) + " exceeds the maximum " + std::to_string(max));
      return 0;
    }
    if (uint64_t(n) * elem > left()) {
      fail_last(f, std::to_string(n) + " entries do not fit in the " + std::to_string(left()) + " bytes left");
      return 0;
    }
    return n;
  }
  void skip(size_t n) { pos_ += std::min(n, left()); }
  void adopt_error(const Reader& o) {
    if (ok()) err_ = o.err_;
  }
  // Reports a check of the field read last.
  void fail_last(const std::string& field, const std::string& why) {
    if (!ok()) return;
    err_ = where_ + "." + field + " at offset " + std::to_string(field_at_) + ": " + why;
  }
  void fail(const std::string& field, const std::string& why) {
    if (!ok()) return;
    err_ = where_ + "." + field + " at offset " + std::to_string(offset()) + ": " + why;
  }
  void check(bool cond, const std::string& field, const std::string& why) {
    if (!cond) fail_last(field, why);
  }

 private:
  std::span<const uint8_t> d_;
  size_t base_;
  size_t pos_ = 0;
  size_t field_at_ = 0;
  std::string where_;
  std::string err_;
};

void read_config(Reader& r, Config& c) {
  c.nr_cpus = r.u32("nr_cpus");
  r.check(c.nr_cpus >= 1 && c.nr_cpus <= VGIC_MAX_CPUS, "nr_cpus", "must be 1.." + std::to_string(VGIC_MAX_CPUS));
  if (!r.ok()) return;
  if (r.left() < uint64_t(c.nr_cpus) * 8) return r.fail("mpidr", "truncated");
  c.mpidr.resize(c.nr_cpus);
  std::set<uint64_t> seen;
  for (auto& m : c.mpidr) {
    m = r.u64("mpidr");
    r.check(seen.insert(m).second, "mpidr", "repeats another CPU's affinity");
  }
  c.nr_spis = r.u32("nr_spis");
  r.check(c.nr_spis % 32 == 0 && c.nr_spis <= 992, "nr_spis", "must be a multiple of 32 in 0..992");
  c.nr_espis = r.u32("nr_espis");
  r.check(c.nr_espis % 32 == 0 && c.nr_espis <= 1024, "nr_espis", "must be a multiple of 32 in 0..1024");
  c.nr_eppis = r.u32("nr_eppis");
  r.check(c.nr_eppis == 0 || c.nr_eppis == 32 || c.nr_eppis == 64, "nr_eppis", "must be 0, 32 or 64");
  c.priority_bits = r.u32("priority_bits");
  r.check(c.priority_bits >= 5 && c.priority_bits <= 8, "priority_bits", "must be 5..8");
  c.mbis = r.flag("mbis");
  c.no1n = r.flag("no1n");
  c.rss = r.flag("rss");
  c.gicd_base = r.u64("gicd_base");
  c.gicr_base = r.u64("gicr_base");
  c.gicd_iidr = r.u32("gicd_iidr");
  c.lpi_id_bits = r.u32("lpi_id_bits");
  r.check(c.lpi_id_bits == 0 || (c.lpi_id_bits >= 14 && c.lpi_id_bits <= 24), "lpi_id_bits", "must be 0 or 14..24");
  c.direct_lpi = r.flag("direct_lpi");
  c.common_lpi_aff = r.u32("common_lpi_aff");
  c.max_host_memory = r.u64("max_host_memory");
  const uint32_t n = r.count("nr_its", 8 + 4 * 5 + 3 + 8, VGIC_MAX_ITS);
  c.its.resize(n);
  for (ItsConfig& t : c.its) {
    t.base = r.u64("its.base");
    t.device_id_bits = r.u32("its.device_id_bits");
    r.check(t.device_id_bits >= 1 && t.device_id_bits <= 32, "its.device_id_bits", "must be 1..32");
    t.event_id_bits = r.u32("its.event_id_bits");
    r.check(t.event_id_bits >= 1 && t.event_id_bits <= 32, "its.event_id_bits", "must be 1..32");
    t.collection_id_bits = r.u32("its.collection_id_bits");
    r.check(t.collection_id_bits >= 1 && t.collection_id_bits <= 16, "its.collection_id_bits", "must be 1..16");
    t.hcc = r.u32("its.hcc");
    t.itt_entry_size = r.u32("its.itt_entry_size");
    t.stall_on_error = r.flag("its.stall_on_error");
    t.seis = r.flag("its.seis");
    t.pta = r.flag("its.pta");
    t.iidr = r.u32("its.iidr");
    t.cache_entries = r.u32("its.cache_entries");
  }
  r.check(!(c.lpi_id_bits == 0 && (c.direct_lpi || !c.its.empty())), "lpi_id_bits", "ITSes and DirectLPI need LPIs");
}

void read_irq(Reader& r, IrqState& s, bool spi, uint8_t pri_mask, uint64_t route_mask) {
  s.priority = r.u8("priority");
  r.check((s.priority & ~pri_mask) == 0, "priority", "sets unimplemented priority bits");
  const uint8_t f = r.u8("flags");
  r.check((f & ~IrqState::kKnownFlags) == 0, "flags", "unknown bits " + hex(f & ~IrqState::kKnownFlags));
  s.set_flags(f);
  if (spi) {
    s.route = r.u64("irouter");
    r.check((s.route & ~route_mask) == 0, "irouter", "sets bits GICD_IROUTER does not hold");
  }
}

void read_cpu(Reader& r, const Config& c, uint32_t index, CpuState& s) {
  const uint8_t pri_mask = uint8_t(0xff << (8 - c.priority_bits));
  r.check(r.u32("index") == index, "index", "must be " + std::to_string(index) + " (sections in CPU order)");
  s.processor_sleep = r.flag("gicr_waker.processor_sleep");
  s.propbaser = r.u64("gicr_propbaser");
  s.pendbaser = r.u64("gicr_pendbaser");
  s.ptz = r.flag("gicr_pendbaser.ptz");
  s.enable_lpis = r.flag("gicr_ctlr.enable_lpis");
  r.check(!s.enable_lpis || c.lpi_id_bits, "gicr_ctlr.enable_lpis", "set on a GIC without LPIs");
  s.lpis_on = r.flag("lpis_on");
  r.check(s.lpis_on == s.enable_lpis, "lpis_on", "must equal EnableLPIs in a stopped GIC");
  s.lpi_limit = r.u32("lpi_limit");
  r.check(s.lpi_limit == 0 || (s.lpi_limit >= (1u << 14) && (s.lpi_limit & (s.lpi_limit - 1)) == 0 &&
                               s.lpi_limit <= (1u << c.lpi_id_bits)),
          "lpi_limit", "must be 0 or a power of two in 2^14..2^lpi_id_bits");
  s.prop_pa = r.u64("prop_pa");
  s.pmr = r.u8("icc_pmr");
  r.check((s.pmr & ~pri_mask) == 0, "icc_pmr", "sets unimplemented priority bits");
  const unsigned pre_bits = std::min(c.priority_bits, 7u);
  const uint8_t min_bpr0 = uint8_t(7 - pre_bits);
  s.bpr[0] = r.u8("icc_bpr0");
  r.check(s.bpr[0] >= min_bpr0 && s.bpr[0] <= 7, "icc_bpr0", "out of range");
  s.bpr[1] = r.u8("icc_bpr1");
  r.check(s.bpr[1] >= min_bpr0 + 1 && s.bpr[1] <= 7, "icc_bpr1", "out of range");
  const unsigned nr_apr = 1u << (pre_bits - 5);
  for (unsigned g = 0; g < 2; ++g)
    for (unsigned n = 0; n < 4; ++n) {
      s.apr[g][n] = r.u32(g ? "icc_ap1r" : "icc_ap0r");
      r.check(n < nr_apr || s.apr[g][n] == 0, g ? "icc_ap1r" : "icc_ap0r",
              "register " + std::to_string(n) + " is not implemented with " + std::to_string(c.priority_bits) +
                  " priority bits");
    }
  s.eoimode = r.flag("icc_ctlr.eoimode");
  s.cbpr = r.flag("icc_ctlr.cbpr");
  s.igrpen[0] = r.flag("icc_igrpen0");
  s.igrpen[1] = r.flag("icc_igrpen1");
  const uint32_t n = r.u32("nr_private_irqs");
  r.check(n == 32 + c.nr_eppis, "nr_private_irqs", "must be 32 + nr_eppis = " + std::to_string(32 + c.nr_eppis));
  if (!r.ok()) return;
  s.private_irqs.resize(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    r.set_where("CPU" + std::to_string(index) + ".irq[" + std::to_string(i < 32 ? i : Intid::kEppiBase + i - 32) + "]");
    read_irq(r, s.private_irqs[i], false, pri_mask, 0);
    if (i < Intid::kSgiEnd) r.check(s.private_irqs[i].edge, "flags", "SGIs are always edge-triggered");
  }
  r.set_where("CPU" + std::to_string(index) + ".lpis");
  const uint64_t max_chunks = c.lpi_id_bits ? ((uint64_t(1) << c.lpi_id_bits) - Intid::kLpiBase) / LpiChunk::kSize : 0;
  const uint32_t nc = r.count("nr_chunks", 4 + LpiChunk::kSize + LpiChunk::kSize / 8, max_chunks);
  s.lpi_chunks.resize(nc);
  uint32_t prev = 0;
  size_t total_pending = 0;
  for (LpiChunk& k : s.lpi_chunks) {
    k.base = r.u32("chunk.base");
    r.check(k.base % LpiChunk::kSize == 0 && k.base >= Intid::kLpiBase && (k.base >> c.lpi_id_bits) == 0,
            "chunk.base", hex(k.base) + " is no 1024-aligned LPI range below 2^lpi_id_bits");
    r.check(k.base > prev || prev == 0, "chunk.base", "chunks must be in ascending order, without repeats");
    prev = k.base;
    r.bytes("chunk.config", k.config.data(), k.config.size());
    for (uint64_t& p : k.pending) {
      p = r.u64("chunk.pending");
      total_pending += size_t(__builtin_popcountll(p));
    }
    if (!r.ok()) return;
  }
  const uint32_t no = r.count("nr_order", 4, total_pending);
  s.lpi_order.resize(no);
  std::set<uint32_t> seen;
  for (uint32_t& id : s.lpi_order) {
    id = r.u32("order");
    const auto it = std::find_if(s.lpi_chunks.begin(), s.lpi_chunks.end(),
                                 [&](const LpiChunk& k) { return id >= k.base && id < k.base + LpiChunk::kSize; });
    r.check(it != s.lpi_chunks.end() && it->is_pending(id), "order", "LPI " + std::to_string(id) + " is not pending");
    r.check(seen.insert(id).second, "order", "LPI " + std::to_string(id) + " repeated");
    if (!r.ok()) return;
  }
}

void read_its(Reader& r, const Config& c, uint32_t index, ItsState& s) {
  const ItsConfig& k = c.its[index];
  r.check(r.u32("index") == index, "index", "must be " + std::to_string(index) + " (sections in ITS order)");
  s.enabled = r.flag("gits_ctlr.enabled");
  s.cbaser = r.u64("gits_cbaser");
  constexpr uint64_t off_mask = GITS_CQ::Offset::mask;
  s.cwriter = r.u64("gits_cwriter");
  r.check((s.cwriter & ~off_mask) == 0, "gits_cwriter", "not a queue offset");
  s.creadr = r.u64("gits_creadr");
  r.check((s.creadr & ~off_mask) == 0, "gits_creadr", "not a queue offset");
  s.stalled = r.flag("gits_creadr.stalled");
  constexpr uint64_t ro = GITS_BASER::Type::mask | GITS_BASER::Entry_Size::mask;
  for (unsigned i = 0; i < 8; ++i) {
    s.baser[i] = r.u64("gits_baser");
    const uint64_t want_ro = i == 0   ? GITS_BASER::Type::make(GITS_BASER::kTypeDevice) | GITS_BASER::Entry_Size::make(7)
                             : i == 1 ? GITS_BASER::Type::make(GITS_BASER::kTypeCollection) | GITS_BASER::Entry_Size::make(7)
                                      : 0;
    r.check(i < 2 ? (s.baser[i] & ro) == want_ro : s.baser[i] == 0, "gits_baser",
            "GITS_BASER" + std::to_string(i) + " does not match the implemented table");
  }
  const uint32_t ncol = r.count("nr_collections", 8, 1u << k.collection_id_bits);
  s.collections.resize(ncol);
  for (uint32_t i = 0; i < ncol && r.ok(); ++i) {
    auto& [icid, cpu] = s.collections[i];
    icid = r.u32("collection.icid");
    r.check((icid >> k.collection_id_bits) == 0, "collection.icid", "beyond collection_id_bits");
    r.check(i == 0 || icid > s.collections[i - 1].first, "collection.icid", "not in ascending order");
    cpu = r.u32("collection.cpu");
    r.check(cpu < c.nr_cpus, "collection.cpu", "no such CPU");
  }
  const uint64_t max_dev = k.device_id_bits >= 32 ? UINT32_MAX : (uint64_t(1) << k.device_id_bits);
  const uint32_t nd = r.count("nr_devices", 4 + 1 + 8 + 4, max_dev);
  s.devices.resize(nd);
  for (uint32_t i = 0; i < nd && r.ok(); ++i) {
    ItsDevice& d = s.devices[i];
    d.devid = r.u32("device.devid");
    r.check(k.device_id_bits >= 32 || (d.devid >> k.device_id_bits) == 0, "device.devid", "beyond device_id_bits");
    r.check(i == 0 || d.devid > s.devices[i - 1].devid, "device.devid", "not in ascending order");
    d.event_bits = r.u8("device.event_bits");
    r.check(d.event_bits >= 1 && d.event_bits <= k.event_id_bits, "device.event_bits", "must be 1..event_id_bits");
    d.itt_addr = r.u64("device.itt_addr");
    const uint64_t max_ev = d.event_bits >= 32 ? UINT32_MAX : (uint64_t(1) << d.event_bits);
    const uint32_t ne = r.count("device.nr_ites", 10, max_ev);
    d.ites.resize(ne);
    for (uint32_t j = 0; j < ne && r.ok(); ++j) {
      ItsIte& e = d.ites[j];
      e.eventid = r.u32("ite.eventid");
      r.check(d.event_bits >= 32 || (e.eventid >> d.event_bits) == 0, "ite.eventid", "beyond the device's event_bits");
      r.check(j == 0 || e.eventid > d.ites[j - 1].eventid, "ite.eventid", "not in ascending order");
      e.intid = r.u32("ite.intid");
      r.check(e.intid >= Intid::kLpiBase && (e.intid >> c.lpi_id_bits) == 0, "ite.intid", "not an LPI of this GIC");
      e.icid = r.u16("ite.icid");
      r.check((uint32_t(e.icid) >> k.collection_id_bits) == 0, "ite.icid", "beyond collection_id_bits");
    }
  }
}

void read_gsi(Reader& r, const Config& c, std::vector<GsiRoute>& routes) {
  const uint32_t n = r.count("nr_routes", 26, 4096);
  routes.resize(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    GsiRoute& g = routes[i];
    g.gsi = r.u32("route.gsi");
    r.check(i == 0 || g.gsi >= routes[i - 1].gsi, "route.gsi", "not in ascending order");
    const uint8_t t = r.u8("route.type");
    r.check(t <= 1, "route.type", "must be 0 (irqchip) or 1 (msi)");
    g.type = GsiRoute::Type(t);
    g.intid = r.u32("route.intid");
    g.address = r.u64("route.address");
    g.data = r.u32("route.data");
    g.devid = r.u32("route.devid");
    g.devid_valid = r.flag("route.devid_valid");
    if (!r.ok()) return;
    // The rules of vgic_set_gsi_routing (routing/gsi_routing.cpp), so that applying cannot fail.
    if (g.type == GsiRoute::Type::irqchip) {
      const Intid id{g.intid};
      r.check((id.is_spi() && g.intid < Intid::kPpiEnd + c.nr_spis) || (id.is_espi() && g.intid < Intid::kEspiBase + c.nr_espis),
              "route.intid", "names no implemented SPI");
    } else {
      bool its = false;
      for (const ItsConfig& k : c.its) its |= g.address == k.base + gits_off::kFrameSize + gits_off::TRANSLATER;
      const bool setspi = c.mbis && g.address == c.gicd_base + gicd_off::SETSPI_NSR;
      r.check(its || setspi, "route.address", "no doorbell of this GIC");
      r.check(!its || g.devid_valid, "route.devid_valid", "an MSI to an ITS needs a DeviceID");
    }
  }
}

void read_user_irq(Reader& r, const Config& c, UserIrqState& u) {
  for (auto& m : u.map) {
    m.ppi = r.u32("map.ppi");
    const Intid id{m.ppi};
    r.check(m.ppi == 0 || id.is_ppi() || (id.is_eppi() && m.ppi < Intid::kEppiBase + c.nr_eppis), "map.ppi",
            std::to_string(m.ppi) + " is not a PPI");
    m.edge = r.flag("map.edge");
  }
  u.last.resize(c.nr_cpus);
  for (uint64_t& b : u.last) b = r.u64("last_levels");
}

}  // namespace

Status decode(std::span<const uint8_t> blob, Model& m) {
  m = Model{};
  if (blob.size() < kHeaderSize + kTrailerSize)
    return bad("truncated: " + std::to_string(blob.size()) + " bytes, a snapshot has at least " +
               std::to_string(kHeaderSize + kTrailerSize));
  if (std::memcmp(blob.data(), kMagic, sizeof kMagic) != 0) return bad("not a vgic snapshot (magic at offset 0)");
  Reader h(blob.subspan(8, kHeaderSize - 8), 8);
  h.set_where("header");
  const uint32_t version = h.u32("version");
  const uint32_t flags = h.u32("flags");
  const uint64_t len = h.u64("payload_length");
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

  Reader p(blob.subspan(kHeaderSize, len), kHeaderSize);
  // Walks the sections in their fixed order; body() decodes one section's body.
  auto section = [&](uint32_t want, const std::string& name, auto&& body) -> bool {
    p.set_where(name);
    const uint32_t t = p.u32("tag");
    if (!p.ok()) return false;
    if (t != want) {
      p.fail_last("tag", "found section '" + tag_name(t) + "', expected '" + tag_name(want) + "'");
      return false;
    }
    p.check(p.u32("reserved") == 0, "reserved", "must be 0");
    const uint64_t blen = p.u64("length");
    if (!p.ok()) return false;
    if (blen > p.left()) {
      p.fail_last("length", std::to_string(blen) + " bytes, only " + std::to_string(p.left()) + " left");
      return false;
    }
    const size_t start = p.offset();
    Reader b(blob.subspan(start, blen), start);
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

  bool ok = section(kTagConfig, "CONF", [&](Reader& r) { read_config(r, m.config); });
  const Config& c = m.config;
  ok = ok && section(kTagDist, "GICD", [&](Reader& r) {
    m.gicd_ctlr = r.u32("gicd_ctlr");
    r.check((m.gicd_ctlr & ~uint32_t(mask_of<GICD_CTLR::EnableGrp0, GICD_CTLR::EnableGrp1>())) == 0, "gicd_ctlr",
            "only EnableGrp0/EnableGrp1 are state");
    const uint32_t n = r.u32("nr_spis");
    r.check(n == c.nr_spis + c.nr_espis, "nr_spis", "must be nr_spis + nr_espis = " + std::to_string(c.nr_spis + c.nr_espis));
    if (!r.ok()) return;
    uint64_t route_mask = GICD_IROUTER::Aff0::mask | GICD_IROUTER::Aff1::mask | GICD_IROUTER::Aff2::mask | GICD_IROUTER::Aff3::mask;
    if (!c.no1n) route_mask |= GICD_IROUTER::IRM::mask;
    m.spis.resize(n);
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
      r.set_where("GICD.irq[" + std::to_string(i < c.nr_spis ? 32 + i : Intid::kEspiBase + i - c.nr_spis) + "]");
      read_irq(r, m.spis[i], true, uint8_t(0xff << (8 - c.priority_bits)), route_mask);
    }
  });
  m.cpus.resize(ok ? c.nr_cpus : 0);
  for (uint32_t i = 0; ok && i < c.nr_cpus; ++i)
    ok = section(kTagCpu, "CPU" + std::to_string(i), [&](Reader& r) { read_cpu(r, c, i, m.cpus[i]); });
  m.its.resize(ok ? c.its.size() : 0);
  for (uint32_t i = 0; ok && i < c.its.size(); ++i)
    ok = section(kTagIts, "ITS" + std::to_string(i), [&](Reader& r) { read_its(r, c, i, m.its[i]); });
  ok = ok && section(kTagGsi, "GSIR", [&](Reader& r) { read_gsi(r, c, m.gsi_routes); });
  ok = ok && section(kTagUserIrq, "UIRQ", [&](Reader& r) { read_user_irq(r, c, m.user_irq); });
  if (ok && !p.at_end()) {
    p.set_where("payload");
    const uint32_t t = p.u32("tag");
    p.fail_last("tag", "unexpected section '" + tag_name(t) + "' after the last section of version 1");
  }
  if (!p.ok()) {
    Status s = bad(p.error());
    m = Model{};
    return s;
  }
  return {};
}

Status compare_config(const Config& s, const Config& t) {
  auto mismatch = [](const std::string& field, auto a, auto b) {
    return Status(Errc::invalid_argument, "vgic_restore: configuration mismatch: " + field + " is " + std::to_string(a) +
                                              " in the snapshot, " + std::to_string(b) + " in this GIC");
  };
#define VGIC_CMP(f) \
  if (s.f != t.f) return mismatch(#f, s.f, t.f)
  VGIC_CMP(nr_cpus);
  for (size_t i = 0; i < s.mpidr.size(); ++i)
    if (s.mpidr[i] != t.mpidr[i]) return mismatch("mpidr[" + std::to_string(i) + "]", s.mpidr[i], t.mpidr[i]);
  VGIC_CMP(nr_spis);
  VGIC_CMP(nr_espis);
  VGIC_CMP(nr_eppis);
  VGIC_CMP(priority_bits);
  VGIC_CMP(mbis);
  VGIC_CMP(no1n);
  VGIC_CMP(rss);
  VGIC_CMP(gicd_base);
  VGIC_CMP(gicr_base);
  VGIC_CMP(gicd_iidr);
  VGIC_CMP(lpi_id_bits);
  VGIC_CMP(direct_lpi);
  VGIC_CMP(common_lpi_aff);
#undef VGIC_CMP
  if (s.its.size() != t.its.size()) return mismatch("nr_its", s.its.size(), t.its.size());
  for (size_t i = 0; i < s.its.size(); ++i) {
    const ItsConfig &a = s.its[i], &b = t.its[i];
    const std::string w = "its[" + std::to_string(i) + "].";
#define VGIC_CMP(f) \
  if (a.f != b.f) return mismatch(w + #f, a.f, b.f)
    VGIC_CMP(base);
    VGIC_CMP(device_id_bits);
    VGIC_CMP(event_id_bits);
    VGIC_CMP(collection_id_bits);
    VGIC_CMP(hcc);
    VGIC_CMP(itt_entry_size);
    VGIC_CMP(stall_on_error);
    VGIC_CMP(seis);
    VGIC_CMP(pta);
    VGIC_CMP(iidr);
#undef VGIC_CMP
    // cache_entries and max_host_memory are host tuning, not guest-visible: not compared.
  }
  return {};
}

Config effective_config(const Config& c, const std::vector<uint64_t>& mpidrs) {
  Config e = c;
  e.mpidr = mpidrs;
  return e;
}

}  // namespace gicv3::snapshot
