// The snapshot inspector: snapshot::decode() into the model, then one JSON document built from it;
// the text and DOT renderings are derived from that document so the three never disagree.
#include "inspect.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "snapshot/snapshot_format.hpp"

namespace gicv3::inspect {

namespace {

using nlohmann::json;
using namespace gicv3::snapshot;

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

uint32_t affinity(uint64_t mpidr) {
  return uint32_t((mpidr & 0xff) | ((mpidr >> 8) & 0xff) << 8 | ((mpidr >> 16) & 0xff) << 16 | ((mpidr >> 32) & 0xff) << 24);
}

json irq_json(uint32_t intid, const IrqState& s) {
  json j = {{"intid", intid},       {"priority", s.priority}, {"group", s.group1 ? 1 : 0},
            {"trigger", s.edge ? "edge" : "level"}, {"enabled", s.enabled}, {"pending", s.pending()},
            {"active", s.active}};
  if (s.line) j["line"] = true;
  if (s.msg_level) j["setspi_asserted"] = true;
  return j;
}

bool interesting(const IrqState& s) { return s.enabled || s.pending() || s.active; }

json build(const Model& m) {
  const Config& c = m.config;
  json conf = {{"nr_cpus", c.nr_cpus},   {"nr_spis", c.nr_spis},           {"nr_espis", c.nr_espis},
               {"nr_eppis", c.nr_eppis}, {"priority_bits", c.priority_bits}, {"lpi_id_bits", c.lpi_id_bits},
               {"mbis", c.mbis},         {"no1n", c.no1n},                 {"rss", c.rss},
               {"direct_lpi", c.direct_lpi}, {"gicd_base", hex(c.gicd_base)}, {"gicr_base", hex(c.gicr_base)},
               {"gicd_iidr", hex(c.gicd_iidr)}, {"max_host_memory", c.max_host_memory}};
  conf["mpidr"] = json::array();
  for (uint64_t mp : c.mpidr) conf["mpidr"].push_back(hex(mp));
  conf["its"] = json::array();
  for (const ItsConfig& t : c.its)
    conf["its"].push_back({{"base", hex(t.base)},
                           {"device_id_bits", t.device_id_bits},
                           {"event_id_bits", t.event_id_bits},
                           {"collection_id_bits", t.collection_id_bits},
                           {"error_policy", t.stall_on_error ? "stall" : "skip"},
                           {"pta", t.pta}});
  std::map<uint32_t, unsigned> cpu_of_aff;
  for (unsigned i = 0; i < c.mpidr.size(); ++i) cpu_of_aff[affinity(c.mpidr[i])] = i;

  json doc = {{"format_version", kVersion}, {"config", conf}};
  json dist = {{"enable_grp0", bool(m.gicd_ctlr & 1)}, {"enable_grp1", bool(m.gicd_ctlr & 2)}};
  dist["one_of_n_spis"] = json::array();
  json cpus = json::array();
  for (unsigned i = 0; i < c.nr_cpus; ++i) {
    const CpuState& s = m.cpus[i];
    const unsigned pre_bits = std::min(c.priority_bits, 7u);
    int rpr = 0xff;
    for (unsigned r = 0; r < 4 && rpr == 0xff; ++r)
      if (const uint32_t bits = s.apr[0][r] | s.apr[1][r]) rpr = int((r * 32 + unsigned(__builtin_ctz(bits))) << (8 - pre_bits));
    json cpu = {{"index", i}, {"mpidr", hex(c.mpidr[i])}};
    cpu["redistributor"] = {{"processor_sleep", s.processor_sleep}, {"enable_lpis", s.enable_lpis},
                            {"propbaser", hex(s.propbaser)},       {"pendbaser", hex(s.pendbaser)}};
    json ap0 = json::array(), ap1 = json::array();
    for (unsigned r = 0; r < 4; ++r) {
      ap0.push_back(hex(s.apr[0][r]));
      ap1.push_back(hex(s.apr[1][r]));
    }
    cpu["cpu_interface"] = {{"pmr", s.pmr},       {"bpr0", s.bpr[0]},        {"bpr1", s.bpr[1]},
                            {"igrpen0", s.igrpen[0]}, {"igrpen1", s.igrpen[1]}, {"eoimode", s.eoimode},
                            {"cbpr", s.cbpr},     {"ap0r", ap0},             {"ap1r", ap1},
                            {"running_priority", rpr}};
    json irqs = json::array();
    for (size_t k = 0; k < s.private_irqs.size(); ++k) {
      const uint32_t intid = k < 32 ? uint32_t(k) : Intid::kEppiBase + uint32_t(k - 32);
      if (interesting(s.private_irqs[k])) irqs.push_back(irq_json(intid, s.private_irqs[k]));
    }
    cpu["interrupts"] = irqs;
    json pending = json::array(), config = json::array();
    for (const LpiChunk& k : s.lpi_chunks)
      for (unsigned j = 0; j < LpiChunk::kSize; ++j) {
        const uint32_t id = k.base + j;
        const bool p = k.is_pending(id);
        if (p) pending.push_back(id);
        if (p || (k.config[j] & 1))
          config.push_back({{"intid", id}, {"priority", k.config[j] & 0xfc}, {"enabled", bool(k.config[j] & 1)}, {"pending", p}});
      }
    cpu["lpis"] = {{"pending", pending}, {"order", s.lpi_order}, {"cached_config", config}};
    cpus.push_back(cpu);
  }
  for (size_t k = 0; k < m.spis.size(); ++k) {
    const IrqState& s = m.spis[k];
    if (!interesting(s)) continue;
    const uint32_t spis = Intid::implemented_spis(c.nr_spis);
    const uint32_t intid = k < spis ? 32 + uint32_t(k) : Intid::kEspiBase + uint32_t(k - spis);
    json j = irq_json(intid, s);
    j["irouter"] = hex(s.route);
    if (s.route >> 31 & 1) {
      dist["one_of_n_spis"].push_back(j);
      continue;
    }
    const uint32_t aff = affinity(s.route);
    auto it = cpu_of_aff.find(aff);
    if (it == cpu_of_aff.end()) {
      j["target"] = "none";
      dist["one_of_n_spis"].push_back(j);
    } else {
      cpus[it->second]["interrupts"].push_back(j);
    }
  }
  doc["distributor"] = dist;
  doc["cpus"] = cpus;

  json itss = json::array();
  for (size_t i = 0; i < m.its.size(); ++i) {
    const ItsState& s = m.its[i];
    std::map<uint32_t, uint32_t> coll(s.collections.begin(), s.collections.end());
    json its = {{"index", i},         {"enabled", s.enabled},   {"cbaser", hex(s.cbaser)},
                {"cwriter", hex(s.cwriter)}, {"creadr", hex(s.creadr)}, {"stalled", s.stalled}};
    its["baser"] = json::array();
    for (uint64_t b : s.baser) its["baser"].push_back(hex(b));
    its["collections"] = json::array();
    for (auto [icid, cpu] : s.collections) its["collections"].push_back({{"icid", icid}, {"cpu", cpu}});
    its["devices"] = json::array();
    for (const ItsDevice& d : s.devices) {
      json dev = {{"devid", d.devid}, {"itt_addr", hex(d.itt_addr)}, {"event_bits", d.event_bits}};
      dev["events"] = json::array();
      for (const ItsIte& e : d.ites) {
        json ev = {{"eventid", e.eventid}, {"lpi", e.intid}, {"icid", e.icid}};
        auto ct = coll.find(e.icid);
        if (ct == coll.end()) {
          ev["cpu"] = nullptr;
        } else {
          ev["cpu"] = ct->second;
          if (ct->second < m.cpus.size())
            for (const LpiChunk& k : m.cpus[ct->second].lpi_chunks)
              if (e.intid >= k.base && e.intid < k.base + LpiChunk::kSize) {
                ev["lpi_priority"] = k.config[e.intid - k.base] & 0xfc;
                ev["lpi_enabled"] = bool(k.config[e.intid - k.base] & 1);
                ev["pending"] = k.is_pending(e.intid);
              }
        }
        dev["events"].push_back(ev);
      }
      its["devices"].push_back(dev);
    }
    itss.push_back(its);
  }
  doc["its"] = itss;
  doc["gsi_routes"] = json::array();
  for (const GsiRoute& r : m.gsi_routes) {
    json j = {{"gsi", r.gsi}, {"type", r.type == GsiRoute::Type::irqchip ? "irqchip" : "msi"}};
    if (r.type == GsiRoute::Type::irqchip) {
      j["intid"] = r.intid;
    } else {
      j["address"] = hex(r.address);
      j["data"] = r.data;
      if (r.devid_valid) j["devid"] = r.devid;
    }
    doc["gsi_routes"].push_back(j);
  }
  json uirq = json::array();
  for (size_t b = 0; b < 64; ++b)
    if (m.user_irq.map[b].ppi) uirq.push_back({{"bit", b}, {"ppi", m.user_irq.map[b].ppi}, {"edge", m.user_irq.map[b].edge}});
  doc["user_irq"] = {{"map", uirq}, {"levels", json::array()}};
  for (uint64_t l : m.user_irq.last) doc["user_irq"]["levels"].push_back(hex(l));
  return doc;
}

std::string flags(const json& i) {
  std::string s;
  if (i["enabled"]) s += " enabled";
  if (i["pending"]) s += " pending";
  if (i["active"]) s += " active";
  return s;
}

void text(const json& d, std::ostream& o) {
  const json& c = d["config"];
  o << "vgic snapshot, format version " << d["format_version"] << "\n";
  o << "configuration: " << c["nr_cpus"] << " CPUs, " << c["nr_spis"] << " SPIs, " << c["nr_espis"] << " extended SPIs, "
    << c["nr_eppis"] << " extended PPIs, " << c["priority_bits"] << " priority bits, LPI ID bits " << c["lpi_id_bits"]
    << ", " << c["its"].size() << " ITS\n";
  o << "distributor: Group 0 " << (d["distributor"]["enable_grp0"] ? "enabled" : "disabled") << ", Group 1 "
    << (d["distributor"]["enable_grp1"] ? "enabled" : "disabled") << "\n";
  for (const json& i : d["distributor"]["one_of_n_spis"])
    o << "  SPI " << i["intid"] << " (1 of N) prio " << hex(i["priority"]) << " group " << i["group"] << flags(i) << "\n";
  for (const json& cpu : d["cpus"]) {
    const json& ci = cpu["cpu_interface"];
    o << "CPU " << cpu["index"] << " (MPIDR " << cpu["mpidr"].get<std::string>() << ")"
      << (cpu["redistributor"]["processor_sleep"] ? " asleep" : "") << ": PMR " << hex(ci["pmr"]) << ", running priority "
      << hex(ci["running_priority"]) << ", Group 0 " << (ci["igrpen0"] ? "on" : "off") << ", Group 1 "
      << (ci["igrpen1"] ? "on" : "off") << (ci["eoimode"] ? ", EOImode 1" : "") << "\n";
    for (const json& i : cpu["interrupts"])
      o << "  INTID " << i["intid"] << " prio " << hex(i["priority"]) << " group " << i["group"] << " "
        << i["trigger"].get<std::string>() << flags(i) << "\n";
    if (!cpu["lpis"]["pending"].empty()) {
      o << "  LPIs pending:";
      for (const json& id : cpu["lpis"]["pending"]) o << " " << id;
      o << "\n";
    }
    for (const json& l : cpu["lpis"]["cached_config"])
      o << "  LPI " << l["intid"] << " prio " << hex(l["priority"]) << (l["enabled"] ? " enabled" : " disabled")
        << (l["pending"] ? " pending" : "") << "\n";
  }
  for (const json& its : d["its"]) {
    o << "ITS " << its["index"] << ": " << (its["enabled"] ? "enabled" : "disabled") << (its["stalled"] ? ", STALLED" : "")
      << ", CREADR " << its["creadr"].get<std::string>() << ", CWRITER " << its["cwriter"].get<std::string>() << "\n";
    for (const json& dev : its["devices"]) {
      o << "  device " << dev["devid"] << " (ITT " << dev["itt_addr"].get<std::string>() << ", " << dev["event_bits"]
        << " event bits)\n";
      for (const json& e : dev["events"]) {
        o << "    event " << e["eventid"] << " -> LPI " << e["lpi"] << " -> collection " << e["icid"] << " -> ";
        if (e["cpu"].is_null())
          o << "(unmapped collection)";
        else
          o << "CPU " << e["cpu"];
        if (e.contains("pending") && e["pending"]) o << " [pending]";
        o << "\n";
      }
    }
  }
  for (const json& r : d["gsi_routes"]) o << "GSI " << r["gsi"] << ": " << r.dump() << "\n";
}

void dot(const json& d, std::ostream& o) {
  o << "digraph vgic {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n";
  for (const json& cpu : d["cpus"]) o << "  cpu" << cpu["index"] << " [shape=box, style=bold, label=\"CPU " << cpu["index"] << "\"];\n";
  for (const json& its : d["its"]) {
    const std::string p = "its" + std::to_string(its["index"].get<unsigned>());
    o << "  subgraph cluster_" << p << " {\n    label=\"ITS " << its["index"] << (its["stalled"] ? " (stalled)" : "") << "\";\n";
    for (const json& dev : its["devices"]) {
      const std::string dn = p + "_dev" + std::to_string(dev["devid"].get<uint32_t>());
      o << "    " << dn << " [shape=component, label=\"device " << dev["devid"] << "\"];\n";
      for (const json& e : dev["events"]) {
        const std::string en = dn + "_ev" + std::to_string(e["eventid"].get<uint32_t>());
        o << "    " << en << " [shape=ellipse, label=\"event " << e["eventid"] << "\"];\n";
        o << "    " << dn << " -> " << en << ";\n";
      }
    }
    for (const json& col : its["collections"])
      o << "    " << p << "_col" << col["icid"] << " [shape=hexagon, label=\"collection " << col["icid"] << "\"];\n";
    o << "  }\n";
    for (const json& dev : its["devices"])
      for (const json& e : dev["events"]) {
        const std::string en = p + "_dev" + std::to_string(dev["devid"].get<uint32_t>()) + "_ev" + std::to_string(e["eventid"].get<uint32_t>());
        const bool pend = e.contains("pending") && e["pending"].get<bool>();
        o << "  lpi" << e["lpi"] << " [shape=diamond, label=\"LPI " << e["lpi"] << "\"" << (pend ? ", style=filled, fillcolor=orange" : "") << "];\n";
        o << "  " << en << " -> lpi" << e["lpi"] << ";\n";
        o << "  lpi" << e["lpi"] << " -> " << p << "_col" << e["icid"] << ";\n";
        if (e["cpu"].is_null()) o << "  " << p << "_col" << e["icid"] << " [shape=hexagon, style=dashed, label=\"collection " << e["icid"] << " (unmapped)\"];\n";
      }
    for (const json& col : its["collections"]) o << "  " << p << "_col" << col["icid"] << " -> cpu" << col["cpu"] << ";\n";
  }
  o << "}\n";
}

}  // namespace

bool render(std::span<const uint8_t> blob, Format fmt, std::ostream& out, std::string* error) {
  Model m;
  if (Status s = decode(blob, m); !s.ok()) {
    if (error) *error = s.message();
    return false;
  }
  const json doc = build(m);
  switch (fmt) {
    case Format::json: out << doc.dump(2) << "\n"; break;
    case Format::text: text(doc, out); break;
    case Format::dot: dot(doc, out); break;
  }
  return true;
}

}  // namespace gicv3::inspect
