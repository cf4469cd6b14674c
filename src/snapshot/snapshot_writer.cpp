// Encodes a snapshot Model into the version-1 byte format (snapshot_format.hpp).
#include "snapshot/snapshot_format.hpp"

namespace gicv3::snapshot {

namespace {

void irq(Writer& w, const IrqState& s, bool spi) {
  w.u8(s.priority);
  w.u8(s.flags());
  if (spi) w.u64(s.route);
}

void config(Writer& w, const Config& c) {
  w.u32(c.nr_cpus);
  for (uint64_t m : c.mpidr) w.u64(m);
  w.u32(c.nr_spis);
  w.u32(c.nr_espis);
  w.u32(c.nr_eppis);
  w.u32(c.priority_bits);
  w.flag(c.mbis);
  w.flag(c.no1n);
  w.flag(c.rss);
  w.u64(c.gicd_base);
  w.u64(c.gicr_base);
  w.u32(c.gicd_iidr);
  w.u32(c.lpi_id_bits);
  w.flag(c.direct_lpi);
  w.u32(c.common_lpi_aff);
  w.u64(c.max_host_memory);
  w.u32(uint32_t(c.its.size()));
  for (const ItsConfig& t : c.its) {
    w.u64(t.base);
    w.u32(t.device_id_bits);
    w.u32(t.event_id_bits);
    w.u32(t.collection_id_bits);
    w.u32(t.hcc);
    w.u32(t.itt_entry_size);
    w.flag(t.stall_on_error);
    w.flag(t.seis);
    w.flag(t.pta);
    w.u32(t.iidr);
    w.u32(t.cache_entries);
  }
}

void cpu(Writer& w, uint32_t index, const CpuState& c) {
  w.u32(index);
  w.flag(c.processor_sleep);
  w.u64(c.propbaser);
  w.u64(c.pendbaser);
  w.flag(c.ptz);
  w.flag(c.enable_lpis);
  w.flag(c.lpis_on);
  w.u32(c.lpi_limit);
  w.u64(c.prop_pa);
  w.u8(c.pmr);
  w.u8(c.bpr[0]);
  w.u8(c.bpr[1]);
  for (const auto& g : c.apr)
    for (uint32_t v : g) w.u32(v);
  w.flag(c.eoimode);
  w.flag(c.cbpr);
  w.flag(c.igrpen[0]);
  w.flag(c.igrpen[1]);
  w.u32(uint32_t(c.private_irqs.size()));
  for (const IrqState& s : c.private_irqs) irq(w, s, false);
  w.u32(uint32_t(c.lpi_chunks.size()));
  for (const LpiChunk& k : c.lpi_chunks) {
    w.u32(k.base);
    w.bytes(k.config.data(), k.config.size());
    for (uint64_t p : k.pending) w.u64(p);
  }
  w.u32(uint32_t(c.lpi_order.size()));
  for (uint32_t id : c.lpi_order) w.u32(id);
}

void its(Writer& w, uint32_t index, const ItsState& s) {
  w.u32(index);
  w.flag(s.enabled);
  w.u64(s.cbaser);
  w.u64(s.cwriter);
  w.u64(s.creadr);
  w.flag(s.stalled);
  for (uint64_t b : s.baser) w.u64(b);
  w.u32(uint32_t(s.collections.size()));
  for (auto [icid, cpu] : s.collections) {
    w.u32(icid);
    w.u32(cpu);
  }
  w.u32(uint32_t(s.devices.size()));
  for (const ItsDevice& d : s.devices) {
    w.u32(d.devid);
    w.u8(d.event_bits);
    w.u64(d.itt_addr);
    w.u32(uint32_t(d.ites.size()));
    for (const ItsIte& e : d.ites) {
      w.u32(e.eventid);
      w.u32(e.intid);
      w.u16(e.icid);
    }
  }
}

void gsi(Writer& w, const std::vector<GsiRoute>& routes) {
  w.u32(uint32_t(routes.size()));
  for (const GsiRoute& r : routes) {
    w.u32(r.gsi);
    w.u8(uint8_t(r.type));
    w.u32(r.intid);
    w.u64(r.address);
    w.u32(r.data);
    w.u32(r.devid);
    w.flag(r.devid_valid);
  }
}

void user_irq(Writer& w, const UserIrqState& u) {
  for (const auto& m : u.map) {
    w.u32(m.ppi);
    w.flag(m.edge);
  }
  for (uint64_t b : u.last) w.u64(b);
}

template <class F>
void section(Writer& w, uint32_t t, F&& body) {
  w.u32(t);
  w.u32(0);
  const size_t len_at = w.size();
  w.u64(0);
  const size_t start = w.size();
  body();
  w.patch_u64(len_at, w.size() - start);
}

}  // namespace

std::vector<uint8_t> encode(const Model& m) {
  Writer w;
  w.bytes(reinterpret_cast<const uint8_t*>(kMagic), sizeof kMagic);
  w.u32(kVersion);
  w.u32(0);
  w.u64(0);  // payload length, patched below
  section(w, kTagConfig, [&] { config(w, m.config); });
  section(w, kTagDist, [&] {
    w.u32(m.gicd_ctlr);
    w.u32(uint32_t(m.spis.size()));
    for (const IrqState& s : m.spis) irq(w, s, true);
  });
  for (size_t i = 0; i < m.cpus.size(); ++i) section(w, kTagCpu, [&] { cpu(w, uint32_t(i), m.cpus[i]); });
  for (size_t i = 0; i < m.its.size(); ++i) section(w, kTagIts, [&] { its(w, uint32_t(i), m.its[i]); });
  section(w, kTagGsi, [&] { gsi(w, m.gsi_routes); });
  section(w, kTagUserIrq, [&] { user_irq(w, m.user_irq); });
  w.patch_u64(16, w.size() - kHeaderSize);
  w.u32(crc32(w.buf()));
  return std::move(w.buf());
}

}  // namespace gicv3::snapshot
