// Item 6: save and restore of 1 K, 64 K and 1 M mapped LPIs (half of them pending), one vCPU.
//
// What exists now is the KVM ITS table ABI (revision 0): save = KVM_DEV_ARM_ITS_SAVE_TABLES (every
// translation into the guest's device table, ITTs and collection table) + SAVE_PENDING_TABLES
// (every pending bit into the redistributors' pending tables); restore = ITS_RESTORE_TABLES on a
// fresh vgic that already has the guest RAM, the GIC and the ITS registers (seed-003 order), which
// also consumes the pending bits of every LPI it recreates. Only the ABI calls are timed.
//
// Each way of snapshotting is one Method row. The second is vgic's full snapshot (vgic_save /
// vgic_restore, docs/snapshot-format.md): every piece of GIC state in one host buffer, restored
// into a fresh vgic that has the guest RAM; its bytes are the snapshot's size.
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>

#include "harness.hpp"
#include "rig.hpp"
#include "support/its_migration.hpp"

namespace gicv3::bench {

namespace {

struct Method {
  const char* name;
  // Saves rig's state; returns the bytes written (guest RAM or a host buffer).
  std::function<uint64_t(Rig&)> save;
  // Builds a destination from rig's saved state, timing only the restore itself (ns).
  std::function<double(Rig&)> restore;
};

uint64_t kvm_abi_save(Rig& r) {
  test::migration::save_tables(*r.g);
  vgic_set_attr(r.gic(), VGIC_DEV_GRP_CTRL, VGIC_CTRL_SAVE_PENDING_TABLES, nullptr);
  // Bytes of guest tables the ABI describes the state with: a DTE per device, an ITE per event,
  // a CTE per collection, and each redistributor's pending table.
  const uint64_t events = uint64_t(r.opt.devices) * r.opt.events;
  return 8 * (r.opt.devices + events + r.opt.cpus) + uint64_t(r.opt.cpus) * ((1ull << r.opt.lpi_id_bits) / 8);
}

double kvm_abi_restore(Rig& r) {
  test::migration::Destination d(r.g->cfg(), *r.ram);
  test::migration::restore_gic(*r.g, d.g);
  test::migration::restore_its_registers(*r.g, d.g);
  double ns = time_once_ns([&] { test::migration::restore_tables(d.g); });
  // The restored guest must see every translation: one MSI through the last one.
  const uint32_t dev = r.opt.devices - 1, ev = r.opt.events - 1;
  test::kvm_attr::its_set(d.g, test::migration::GITS_CTLR, 1);
  if (d.msi(dev, ev) != 1) ns = -1;
  return ns;
}

std::vector<uint8_t>& snapshot_buffer() {
  static std::vector<uint8_t> buf;
  return buf;
}

uint64_t snapshot_save(Rig& r) {
  std::vector<uint8_t>& buf = snapshot_buffer();
  size_t len = buf.size();
  if (vgic_save(r.gic(), buf.data(), &len) == VGIC_ENOSPC) {
    buf.resize(len);
    if (vgic_save(r.gic(), buf.data(), &len) != 0) return 0;
  }
  return len;
}

double snapshot_restore(Rig& r) {
  const std::vector<uint8_t>& buf = snapshot_buffer();
  size_t len = buf.size();
  if (vgic_save(r.gic(), nullptr, &len) != VGIC_ENOSPC || len > buf.size()) return -1;
  test::migration::Destination d(r.g->cfg(), *r.ram);
  int rc = 0;
  double ns = time_once_ns([&] { rc = vgic_restore(d.g.gic(), buf.data(), len); });
  // The restored guest must see every translation: one MSI through the last one.
  if (rc != 0 || d.msi(r.opt.devices - 1, r.opt.events - 1) != 1) ns = -1;
  return ns;
}

const Method kMethods[] = {
    {"kvm_its_abi", kvm_abi_save, kvm_abi_restore},
    {"vgic_snapshot", snapshot_save, snapshot_restore},
};

uint32_t scaled(uint32_t lpis) { return smoke() ? std::min<uint32_t>(lpis, 65536) : lpis; }

std::unique_ptr<Rig> make_rig(uint32_t lpis) {
  RigOptions o;
  o.events = std::min<uint32_t>(lpis, 1024);
  o.devices = lpis / o.events;
  o.lpis_enabled = false;  // disabled LPIs stay pending
  o.lpi_id_bits = 21;
  o.ram_bytes = 48ull << 20;
  auto r = std::make_unique<Rig>(o);
  for (uint32_t d = 0; d < o.devices; ++d)
    for (uint32_t e = 0; e < o.events; e += 2) r->msi(d, e);
  return r;
}

const uint32_t kSizes[] = {1024, 65536, 1u << 20};

struct Result {
  double save_ms, restore_ms, bytes;
};

Result measure_method(const Method& m, Rig& r, int reps) {
  std::vector<double> s, l;
  uint64_t bytes = 0;
  for (int i = 0; i < reps; ++i) {
    s.push_back(time_once_ns([&] { bytes = m.save(r); }) / 1e6);
    l.push_back(m.restore(r) / 1e6);
  }
  return {median(s), median(l), double(bytes)};
}

}  // namespace

void register_save_restore() {
  // Profile cases (callgrind): <prefix><size>, the KVM ABI as save/restore, the snapshot as
  // snapsave/snaprestore; size 64k or 1m LPIs. Read the inclusive Ir of the timed call
  // (Its::save_tables / Its::restore_tables, vgic_save / vgic_restore): the restore cases also
  // build the destination and check it with an MSI, the snapshot's also sizes the blob (vgic_save).
  for (const auto& [size, lpis] : {std::pair<const char*, uint32_t>{"64k", 65536}, {"1m", 1u << 20}})
    for (const Method& m : kMethods) {
      const std::string prefix = &m == &kMethods[0] ? "" : "snap";
      add_profile(prefix + "save" + size, [&m, lpis = lpis] {
        std::shared_ptr<Rig> r = make_rig(lpis);
        m.save(*r);  // the snapshot's buffer sized once, as in the timed runs
        return Runner([r, &m](uint64_t n) {
          for (uint64_t i = 0; i < n; ++i) m.save(*r);
        });
      });
      add_profile(prefix + "restore" + size, [&m, lpis = lpis] {
        std::shared_ptr<Rig> r = make_rig(lpis);
        m.save(*r);
        return Runner([r, &m](uint64_t n) {
          for (uint64_t i = 0; i < n; ++i)
            if (m.restore(*r) < 0) std::abort();
        });
      });
    }
  for (const Method& m : kMethods)
    for (uint32_t n : kSizes) {
      const uint32_t lpis = scaled(n);
      if (lpis != n) continue;  // smoke: the scaled-down size is already in the list
      add(std::string("save/") + m.name + "/" + std::to_string(lpis) + "_lpis", [&m, lpis](benchmark::State& st) {
        auto r = make_rig(lpis);
        uint64_t bytes = 0;
        for (auto _ : st) bytes = m.save(*r);
        st.counters["bytes"] = double(bytes);
        st.counters["LPIs"] = lpis;
      })->Unit(benchmark::kMillisecond);
      add(std::string("restore/") + m.name + "/" + std::to_string(lpis) + "_lpis", [&m, lpis](benchmark::State& st) {
        auto r = make_rig(lpis);
        m.save(*r);
        for (auto _ : st) {
          const double ns = m.restore(*r);
          if (ns < 0) st.SkipWithError("restored guest lost a translation");
          st.SetIterationTime(ns / 1e9);
        }
        st.counters["LPIs"] = lpis;
      })->UseManualTime()->Unit(benchmark::kMillisecond);
    }
}

void figures_save_restore(Figures& f) {
  for (const Method& m : kMethods) {
    double per_lpi_small = 0;
    for (uint32_t n : kSizes) {
      const uint32_t lpis = scaled(n);
      if (lpis != n) continue;  // smoke: the scaled-down size is already in the list
      auto r = make_rig(lpis);
      const Result res = measure_method(m, *r, lpis >= (1u << 20) ? 3 : 5);
      const bool full = lpis == (1u << 20);
      const std::string tag = std::string(m.name) + ", " + std::to_string(lpis) + " LPIs";
      f.push_back({"6", "save " + tag, res.save_ms, "ms", 30.0, false,
                   std::to_string(uint64_t(res.bytes)) + " B"});
      f.push_back({"6", "restore " + tag, res.restore_ms, "ms", 60.0, false,
                   res.restore_ms < 0 ? "RESTORE LOST A TRANSLATION" : ""});
      if (lpis == 65536) per_lpi_small = res.save_ms / lpis;
      if (full && per_lpi_small > 0)
        f.push_back({"6", "save ns/LPI 1M vs 64K (linear)", (res.save_ms / lpis) / per_lpi_small, "x", 1.5, false, ""});
    }
  }
}

}  // namespace gicv3::bench
