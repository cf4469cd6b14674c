// The one declaration of every section body of the snapshot format, version 1
// (docs/snapshot-format.md): field order, width, name and validation rules. Each function is
// visited by the Encoder (snapshot_writer.cpp, with a const model) and the Decoder
// (snapshot_reader.cpp); see snapshot_archive.hpp for the archive members. Changing anything here
// changes the format: bump kVersion and keep a decoder for the old one (docs "Versioning rules").
#pragma once

#include <algorithm>
#include <iterator>
#include <set>
#include <string>

#include "gic/doorbell.hpp"
#include "gicd/gicd_regs.hpp"
#include "gicr/gicr_regs.hpp"
#include "its/its_command_words.hpp"
#include "its/its_regs.hpp"
#include "snapshot/snapshot_archive.hpp"
#include "snapshot/snapshot_format.hpp"

namespace gicv3::snapshot::fields {

// A rule: lo <= value <= hi.
template <class U, class W>
auto in(U lo, U hi, W why) {
  return expect([=](auto v) { return v >= lo && v <= hi; }, std::move(why));
}

// CONF: the configuration, compared with the target's on restore in this order and with these
// names (compare_config, snapshot_config.cpp).
template <class Ar, class C>
void config(Ar& a, C& c) {
  a.u32(c.nr_cpus, "nr_cpus",
        in(1u, unsigned(VGIC_MAX_CPUS), [](uint32_t) { return "must be 1.." + std::to_string(VGIC_MAX_CPUS); }));
  a.sized(c.mpidr, c.nr_cpus, "mpidr", 8);
  std::set<uint64_t> seen;
  for (auto& m : c.mpidr)
    a.u64(m, "mpidr", expect([&](uint64_t v) { return seen.insert(v).second; }, "repeats another CPU's affinity"));
  a.u32(c.nr_spis, "nr_spis", expect([](uint32_t v) { return v % 32 == 0 && v <= 992; }, "must be a multiple of 32 in 0..992"));
  a.u32(c.nr_espis, "nr_espis",
        expect([](uint32_t v) { return v % 32 == 0 && v <= 1024; }, "must be a multiple of 32 in 0..1024"));
  a.u32(c.nr_eppis, "nr_eppis", expect([](uint32_t v) { return v == 0 || v == 32 || v == 64; }, "must be 0, 32 or 64"));
  a.u32(c.priority_bits, "priority_bits", in(5u, 8u, "must be 5..8"));
  a.flag(c.mbis, "mbis");
  a.flag(c.no1n, "no1n");
  a.flag(c.rss, "rss");
  a.u64(c.gicd_base, "gicd_base");
  a.u64(c.gicr_base, "gicr_base");
  a.u32(c.gicd_iidr, "gicd_iidr");
  a.u32(c.lpi_id_bits, "lpi_id_bits", expect([](uint32_t v) { return v == 0 || (v >= 14 && v <= 24); }, "must be 0 or 14..24"));
  a.flag(c.direct_lpi, "direct_lpi");
  a.u32(c.common_lpi_aff, "common_lpi_aff");
  a.u64(c.max_host_memory, "max_host_memory", host_tuning);
  a.count(c.its, "nr_its", 8 + 4 * 5 + 3 + 8, VGIC_MAX_ITS);
  for (auto& t : c.its) {
    a.u64(t.base, "its.base");
    a.u32(t.device_id_bits, "its.device_id_bits", in(1u, 32u, "must be 1..32"));
    a.u32(t.event_id_bits, "its.event_id_bits", in(1u, 32u, "must be 1..32"));
    a.u32(t.collection_id_bits, "its.collection_id_bits", in(1u, 16u, "must be 1..16"));
    a.u32(t.hcc, "its.hcc");
    a.u32(t.itt_entry_size, "its.itt_entry_size");
    a.flag(t.stall_on_error, "its.stall_on_error");
    a.flag(t.seis, "its.seis");
    a.flag(t.pta, "its.pta");
    a.u32(t.iidr, "its.iidr");
    a.u32(t.cache_entries, "its.cache_entries", host_tuning);
  }
  a.check("lpi_id_bits", [&] { return !(c.lpi_id_bits == 0 && (c.direct_lpi || !c.its.empty())); },
          "ITSes and DirectLPI need LPIs");
  a.check("direct_lpi", [&] { return !(c.lpi_id_bits != 0 && c.its.empty() && !c.direct_lpi); },
          "LPIs without an ITS need DirectLPI");
}

// The irq record: u8 priority, u8 flags, and for SPIs u64 GICD_IROUTER.
// mbis: GICD_SETSPI_NSR exists for this interrupt (an SPI of a GIC with message-based SPIs): only
// then can its message-signalled level be set, and only GICD_CLRSPI_NSR clears it.
template <class Ar, class S>
void irq(Ar& a, S& s, bool spi, bool mbis, uint8_t pri_mask, uint64_t route_mask) {
  a.u8(s.priority, "priority", expect([=](uint8_t v) { return (v & ~pri_mask) == 0; }, "sets unimplemented priority bits"));
  uint8_t f = s.flags();
  const uint8_t known = mbis ? IrqState::kKnownFlags : uint8_t(IrqState::kKnownFlags & ~IrqState::kMsgLevel);
  a.u8(f, "flags", expect([=](uint8_t v) { return (v & ~known) == 0; }, [=](uint8_t v) {
         return "unknown bits " + hex(v & ~known) + ((v & ~known) == IrqState::kMsgLevel ? " (a SETSPI level without GICD_SETSPI_NSR)" : "");
       }));
  if constexpr (Ar::kDecoding) s.set_flags(f);
  if (spi)
    a.u64(s.route, "irouter",
          expect([=](uint64_t v) { return (v & ~route_mask) == 0; }, "sets bits GICD_IROUTER does not hold"));
}

inline uint8_t priority_mask(const Config& c) { return uint8_t(0xff << (8 - c.priority_bits)); }

// The section's position in its sequence (CPU or ITS order): written, and checked on decode.
template <class Ar>
void index(Ar& a, uint32_t want, const char* order) {
  uint32_t i = want;
  a.u32(i, "index", expect([=](uint32_t v) { return v == want; },
                           [=](uint32_t) { return "must be " + std::to_string(want) + " (sections in " + order + " order)"; }));
}

// GICD: GICD_CTLR, then every SPI and extended SPI.
template <class Ar, class M>
void dist(Ar& a, M& m) {
  const Config& c = m.config;
  a.u32(m.gicd_ctlr, "gicd_ctlr",
        expect([](uint32_t v) { return (v & ~uint32_t(mask_of<GICD_CTLR::EnableGrp0, GICD_CTLR::EnableGrp1>())) == 0; },
               "only EnableGrp0/EnableGrp1 are state"));
  const uint32_t spis = Intid::implemented_spis(c.nr_spis), total = spis + c.nr_espis;
  a.length(m.spis, "nr_spis", expect([=](uint32_t v) { return v == total; }, [=](uint32_t) {
             return "must be the implemented SPIs + nr_espis = " + std::to_string(total);
           }));
  uint64_t route_mask = GICD_IROUTER::Aff0::mask | GICD_IROUTER::Aff1::mask | GICD_IROUTER::Aff2::mask | GICD_IROUTER::Aff3::mask;
  if (!c.no1n) route_mask |= GICD_IROUTER::IRM::mask;
  for (uint32_t i = 0; i < m.spis.size() && a.ok(); ++i) {
    a.where([&] { return "GICD.irq[" + std::to_string(i < spis ? 32 + i : Intid::kEspiBase + i - spis) + "]"; });
    irq(a, m.spis[i], true, c.mbis, priority_mask(c), route_mask);
  }
}

// Which pending LPIs the acknowledge order has named so far (decode only; built on first use, so
// encoding pays nothing): each entry must be a pending LPI, at most once, O(log chunks) per entry.
class OrderCheck {
 public:
  explicit OrderCheck(const std::vector<LpiChunk>& chunks) : chunks_(chunks) {}
  bool pending(uint32_t id) {
    chunk_ = std::upper_bound(chunks_.begin(), chunks_.end(), id, [](uint32_t v, const LpiChunk& k) { return v < k.base; });
    if (chunk_ == chunks_.begin() || id - std::prev(chunk_)->base >= LpiChunk::kSize) return false;
    return std::prev(chunk_)->is_pending(id);
  }
  // After pending(id) held: false if id was named before.
  bool first_time(uint32_t id) {
    if (unseen_.empty())
      for (const LpiChunk& k : chunks_) unseen_.push_back(k.pending);
    const uint32_t bit = id - std::prev(chunk_)->base;
    uint64_t& w = unseen_[size_t(std::prev(chunk_) - chunks_.begin())][bit / 64];
    const bool first = (w >> (bit % 64)) & 1;
    w &= ~(uint64_t(1) << (bit % 64));
    return first;
  }

 private:
  const std::vector<LpiChunk>& chunks_;
  std::vector<LpiChunk>::const_iterator chunk_;
  std::vector<std::array<uint64_t, LpiChunk::kSize / 64>> unseen_;
};

inline size_t pending_lpis(const std::vector<LpiChunk>& chunks) {
  size_t n = 0;
  for (const LpiChunk& k : chunks)
    for (uint64_t p : k.pending) n += size_t(__builtin_popcountll(p));
  return n;
}

// CPU: one redistributor and CPU interface.
template <class Ar, class S>
void cpu(Ar& a, const Config& c, uint32_t idx, S& s) {
  const uint8_t pri_mask = priority_mask(c);
  index(a, idx, "CPU");
  a.flag(s.processor_sleep, "gicr_waker.processor_sleep");
  // What a guest write can leave in them: the implemented fields, and nothing without LPIs (the
  // registers are RAZ/WI then); PTZ is not kept in PENDBASER (it reads 0).
  a.u64(s.propbaser, "gicr_propbaser", expect([&](uint64_t v) { return (v & ~(c.lpi_id_bits ? GICR_PROPBASER::kWritable : 0)) == 0; },
                                              "sets bits GICR_PROPBASER does not hold"));
  a.u64(s.pendbaser, "gicr_pendbaser", expect([&](uint64_t v) { return (v & ~(c.lpi_id_bits ? GICR_PENDBASER::kStored : 0)) == 0; },
                                              "sets bits GICR_PENDBASER does not hold"));
  a.flag(s.ptz, "gicr_pendbaser.ptz");
  a.flag(s.enable_lpis, "gicr_ctlr.enable_lpis");
  a.check("gicr_ctlr.enable_lpis", [&] { return !s.enable_lpis || c.lpi_id_bits; }, "set on a GIC without LPIs");
  a.flag(s.lpis_on, "lpis_on");
  a.check("lpis_on", [&] { return s.lpis_on == s.enable_lpis; }, "must equal EnableLPIs in a stopped GIC");
  a.u32(s.lpi_limit, "lpi_limit",
        expect([&](uint32_t v) { return v == 0 || (v >= (1u << 14) && (v & (v - 1)) == 0 && v <= (1u << c.lpi_id_bits)); },
               "must be 0 or a power of two in 2^14..2^lpi_id_bits"));
  a.u64(s.prop_pa, "prop_pa");
  // While EnableLPIs is 1 both were taken from PROPBASER (gic/lpi_delivery.cpp enable_lpis_locked)
  // and PROPBASER cannot change: a blob that differs would accept LPIs beyond PROPBASER.IDbits or
  // read configuration the guest never pointed to. (While it is 0 they are stale and unused.)
  a.check("lpi_limit", [&] { return !s.enable_lpis || s.lpi_limit == GICR_PROPBASER::lpi_limit(s.propbaser, c.lpi_id_bits); },
          "differs from the range GICR_PROPBASER.IDbits gives while EnableLPIs is 1");
  a.check("prop_pa", [&] { return !s.enable_lpis || s.prop_pa == GICR_PROPBASER::table_address(s.propbaser); },
          "differs from GICR_PROPBASER's address while EnableLPIs is 1");
  a.u8(s.pmr, "icc_pmr", expect([=](uint8_t v) { return (v & ~pri_mask) == 0; }, "sets unimplemented priority bits"));
  const unsigned pre_bits = std::min(c.priority_bits, 7u);
  const unsigned min_bpr0 = 7 - pre_bits;
  a.u8(s.bpr[0], "icc_bpr0", in(min_bpr0, 7u, "out of range"));
  a.u8(s.bpr[1], "icc_bpr1", in(min_bpr0 + 1, 7u, "out of range"));
  const unsigned nr_apr = 1u << (pre_bits - 5);
  for (unsigned g = 0; g < 2; ++g)
    for (unsigned n = 0; n < 4; ++n)
      a.u32(s.apr[g][n], g ? "icc_ap1r" : "icc_ap0r", expect([=](uint32_t v) { return n < nr_apr || v == 0; }, [&](uint32_t) {
              return "register " + std::to_string(n) + " is not implemented with " + std::to_string(c.priority_bits) +
                     " priority bits";
            }));
  a.flag(s.eoimode, "icc_ctlr.eoimode");
  a.flag(s.cbpr, "icc_ctlr.cbpr");
  a.flag(s.igrpen[0], "icc_igrpen0");
  a.flag(s.igrpen[1], "icc_igrpen1");
  a.length(s.private_irqs, "nr_private_irqs", expect([&](uint32_t v) { return v == 32 + c.nr_eppis; }, [&](uint32_t) {
             return "must be 32 + nr_eppis = " + std::to_string(32 + c.nr_eppis);
           }));
  for (uint32_t i = 0; i < s.private_irqs.size() && a.ok(); ++i) {
    a.where([&] { return "CPU" + std::to_string(idx) + ".irq[" + std::to_string(i < 32 ? i : Intid::kEppiBase + i - 32) + "]"; });
    irq(a, s.private_irqs[i], false, false, pri_mask, 0);
    a.check("flags", [&] { return i >= Intid::kSgiEnd || s.private_irqs[i].edge; }, "SGIs are always edge-triggered");
  }
  a.where([&] { return "CPU" + std::to_string(idx) + ".lpis"; });
  const uint64_t max_chunks = c.lpi_id_bits ? ((uint64_t(1) << c.lpi_id_bits) - Intid::kLpiBase) / LpiChunk::kSize : 0;
  a.count(s.lpi_chunks, "nr_chunks", 4 + LpiChunk::kSize + LpiChunk::kSize / 8, max_chunks);
  uint32_t prev = 0;
  for (auto& k : s.lpi_chunks) {
    a.u32(k.base, "chunk.base",
          expect([&](uint32_t v) { return v % LpiChunk::kSize == 0 && v >= Intid::kLpiBase && (v >> c.lpi_id_bits) == 0; },
                 [](uint32_t v) { return hex(v) + " is no 1024-aligned LPI range below 2^lpi_id_bits"; }),
          expect([&](uint32_t v) { return v > prev || prev == 0; }, "chunks must be in ascending order, without repeats"));
    prev = k.base;
    a.bytes(k.config, "chunk.config");
    for (auto& p : k.pending) a.u64(p, "chunk.pending");
    // Only LPIs in the range EnableLPIs and GICR_PROPBASER.IDbits give can be pending (every path
    // that sets a bit checks it, and EnableLPIs 1 -> 0 writes them all back to the table): one
    // beyond would be offered to the CPU, then dropped by the next write-back.
    a.check("chunk.pending", [&] { return k.pending == decltype(k.pending){} || (s.enable_lpis && k.base < s.lpi_limit); },
            "LPIs pending while EnableLPIs is 0 or beyond GICR_PROPBASER.IDbits");
  }
  a.count(s.lpi_order, "nr_order", 4, pending_lpis(s.lpi_chunks));
  OrderCheck order(s.lpi_chunks);
  for (auto& id : s.lpi_order)
    a.u32(id, "order",
          expect([&](uint32_t v) { return order.pending(v); },
                 [](uint32_t v) { return "LPI " + std::to_string(v) + " is not pending"; }),
          expect([&](uint32_t v) { return order.first_time(v); },
                 [](uint32_t v) { return "LPI " + std::to_string(v) + " repeated"; }));
}

// ITS: registers, collections, devices and their ITEs.
template <class Ar, class S>
void its(Ar& a, const Config& c, uint32_t idx, S& s) {
  const ItsConfig& k = c.its[idx];
  constexpr uint64_t off_mask = GITS_CQ::Offset::mask;
  index(a, idx, "ITS");
  a.flag(s.enabled, "gits_ctlr.enabled");
  a.u64(s.cbaser, "gits_cbaser");
  a.u64(s.cwriter, "gits_cwriter", expect([](uint64_t v) { return (v & ~off_mask) == 0; }, "not a queue offset"));
  // CREADR is always inside the queue (a CBASER write resets it, the queue wraps): one beyond would
  // never reach CWRITER again. (CWRITER is whatever the guest wrote; the queue stops at it.)
  a.u64(s.creadr, "gits_creadr", expect([](uint64_t v) { return (v & ~off_mask) == 0; }, "not a queue offset"),
        expect([&](uint64_t v) { return v < (GITS_CBASER::Size::get(s.cbaser) + 1) * 4096; }, "beyond the command queue GITS_CBASER gives"));
  a.flag(s.stalled, "gits_creadr.stalled");
  constexpr uint64_t ro = GITS_BASER::Type::mask | GITS_BASER::Entry_Size::mask;
  for (unsigned i = 0; i < 8; ++i) {
    const uint64_t want_ro = i == 0   ? GITS_BASER::Type::make(GITS_BASER::kTypeDevice) | GITS_BASER::Entry_Size::make(7)
                             : i == 1 ? GITS_BASER::Type::make(GITS_BASER::kTypeCollection) | GITS_BASER::Entry_Size::make(7)
                                      : 0;
    a.u64(s.baser[i], "gits_baser", expect([=](uint64_t v) { return i < 2 ? (v & ro) == want_ro : v == 0; }, [=](uint64_t) {
            return "GITS_BASER" + std::to_string(i) + " does not match the implemented table";
          }));
  }
  a.count(s.collections, "nr_collections", 8, 1u << k.collection_id_bits);
  for (uint32_t i = 0; i < s.collections.size() && a.ok(); ++i) {
    auto& [icid, target] = s.collections[i];
    a.u32(icid, "collection.icid",
          expect([&](uint32_t v) { return (v >> k.collection_id_bits) == 0; }, "beyond collection_id_bits"),
          expect([&](uint32_t v) { return i == 0 || v > s.collections[i - 1].first; }, "not in ascending order"));
    a.u32(target, "collection.cpu", expect([&](uint32_t v) { return v < c.nr_cpus; }, "no such CPU"));
  }
  const uint64_t max_dev = k.device_id_bits >= 32 ? UINT32_MAX : (uint64_t(1) << k.device_id_bits);
  a.count(s.devices, "nr_devices", 4 + 1 + 8 + 4, max_dev);
  for (uint32_t i = 0; i < s.devices.size() && a.ok(); ++i) {
    auto& d = s.devices[i];
    a.u32(d.devid, "device.devid",
          expect([&](uint32_t v) { return k.device_id_bits >= 32 || (v >> k.device_id_bits) == 0; }, "beyond device_id_bits"),
          expect([&](uint32_t v) { return i == 0 || v > s.devices[i - 1].devid; }, "not in ascending order"));
    a.u8(d.event_bits, "device.event_bits", in(uint8_t(1), uint8_t(k.event_id_bits), "must be 1..event_id_bits"));
    // MAPD carries ITT_addr[51:8] (IHI0069 5.3 MAPD): a save re-encodes it that way (its_abi.hpp).
    a.u64(d.itt_addr, "device.itt_addr",
          expect([](uint64_t v) { return its_cmd::ITT_addr::get(v) << 8 == v; }, "not 256-byte aligned below 2^52"));
    const uint64_t max_ev = d.event_bits >= 32 ? UINT32_MAX : (uint64_t(1) << d.event_bits);
    a.count(d.ites, "device.nr_ites", 10, max_ev);
    for (uint32_t j = 0; j < d.ites.size() && a.ok(); ++j) {
      auto& e = d.ites[j];
      a.u32(e.eventid, "ite.eventid",
            expect([&](uint32_t v) { return d.event_bits >= 32 || (v >> d.event_bits) == 0; }, "beyond the device's event_bits"),
            expect([&](uint32_t v) { return j == 0 || v > d.ites[j - 1].eventid; }, "not in ascending order"));
      a.u32(e.intid, "ite.intid",
            expect([&](uint32_t v) { return v >= Intid::kLpiBase && (v >> c.lpi_id_bits) == 0; }, "not an LPI of this GIC"));
      a.u16(e.icid, "ite.icid",
            expect([&](uint16_t v) { return (uint32_t(v) >> k.collection_id_bits) == 0; }, "beyond collection_id_bits"));
    }
  }
}

// GSIR: the GSI routing table, checked with vgic_set_gsi_routing's rules
// (routing/gsi_routing.cpp) so that applying cannot fail.
template <class Ar, class R>
void gsi(Ar& a, const Config& c, R& routes) {
  a.count(routes, "nr_routes", 26, 4096);
  for (uint32_t i = 0; i < routes.size() && a.ok(); ++i) {
    auto& g = routes[i];
    a.u32(g.gsi, "route.gsi", expect([&](uint32_t v) { return v < 4096 && (i == 0 || v >= routes[i - 1].gsi); },
                                     "not below 4096 (KVM_MAX_IRQ_ROUTES) and in ascending order"));
    uint8_t type = uint8_t(g.type);
    a.u8(type, "route.type", expect([](uint8_t v) { return v <= 1; }, "must be 0 (irqchip) or 1 (msi)"));
    if constexpr (Ar::kDecoding) g.type = GsiRoute::Type(type);
    a.u32(g.intid, "route.intid");
    a.u64(g.address, "route.address");
    a.u32(g.data, "route.data");
    a.u32(g.devid, "route.devid");
    a.flag(g.devid_valid, "route.devid_valid");
    if (g.type == GsiRoute::Type::irqchip) {
      a.check("route.intid", [&] {
        const Intid id{g.intid};
        return (id.is_spi() && g.intid < Intid::kPpiEnd + c.nr_spis) || (id.is_espi() && g.intid < Intid::kEspiBase + c.nr_espis);
      }, "names no implemented SPI");
    } else {
      const Doorbell::Kind kind = doorbell_at(c, g.address).kind;
      const bool to_its = kind == Doorbell::its;
      a.check("route.address", [&] { return kind != Doorbell::none; }, "no doorbell of this GIC");
      a.check("route.devid_valid", [&] { return !to_its || g.devid_valid; }, "an MSI to an ITS needs a DeviceID");
    }
  }
}

// UIRQ: the user-IRQ map and each CPU's last synced device levels.
template <class Ar, class U>
void user_irq(Ar& a, const Config& c, U& u) {
  for (auto& m : u.map) {
    a.u32(m.ppi, "map.ppi", expect([&](uint32_t v) {
            const Intid id{v};
            return v == 0 || id.is_ppi() || (id.is_eppi() && v < Intid::kEppiBase + c.nr_eppis);
          }, [](uint32_t v) { return std::to_string(v) + " is not a PPI"; }));
    a.flag(m.edge, "map.edge");
  }
  a.sized(u.last, c.nr_cpus);
  for (auto& b : u.last) a.u64(b, "last_levels");
}

}  // namespace gicv3::snapshot::fields
