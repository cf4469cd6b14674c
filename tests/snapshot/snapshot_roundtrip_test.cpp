// Full snapshot round trips (issue 5): a fresh instance with the same configuration restored from
// a snapshot behaves as the source did, register by register and acknowledge by acknowledge.
#include <gtest/gtest.h>

#include <functional>
#include <sstream>

#include "gicr/gicr_regs.hpp"
#include "its/its_regs.hpp"
#include "snapshot/snapshot_format.hpp"
#include "snapshot/snapshot_scenarios.hpp"
#include "vgic/vgic.hpp"

namespace test::snap {
namespace {

void copy_ram(GuestRam& from, GuestRam& to) { std::memcpy(to.host(to.base()), from.host(from.base()), from.size()); }

std::vector<uint32_t> intids_of(const std::vector<uint32_t>& seq, unsigned cpu) {
  // drain() records (cpu << 16 | INTID, running priority) pairs and single end-of-active markers.
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < seq.size();) {
    if ((seq[i] >> 16) == 0xeeee) {
      ++i;
      continue;
    }
    if ((seq[i] >> 16) == cpu) ids.push_back(seq[i] & 0xffff);
    i += 2;
  }
  return ids;
}

TEST(SnapshotRoundTrip, SgiPpiSpiStatesAndActivePrioritiesBehaveTheSameAfterRestore) {
  Guest src(irqs_config());
  build_irqs(src);
  const std::vector<uint8_t> blob = save(src.gic());
  Target dst(irqs_config());
  ASSERT_EQ(vgic_restore(dst.g.gic(), blob.data(), blob.size()), 0) << vgic_last_error();
  EXPECT_EQ(registers(dst.g), registers(src));
  EXPECT_EQ(save(dst.g.gic()), blob) << "re-saving a restored instance gives the same bytes";
  // Active priorities: CPU 0 runs at 0x20 (SPI 43, group 0), CPU 1 at 0x60 (SGI 3, group 1).
  EXPECT_EQ(dst.g.rpr(0), 0x20);
  EXPECT_EQ(dst.g.rpr(1), 0x60);
  const auto seq = drain(dst.g, {{43}, {3}});
  EXPECT_EQ(seq, drain(src, {{43}, {3}}));
  // CPU 0 after ending SPI 43: extended PPI 1060 (0x30), then SPI 42 (0x40, held by SETSPI_NSR).
  const auto cpu0 = intids_of(seq, 0);
  ASSERT_GE(cpu0.size(), 2u);
  EXPECT_EQ(cpu0[0], 1060u);
  EXPECT_EQ(cpu0[1], 42u);
  // CPU 1: nothing preempts SGI 3; then extended SPI 4100 (0x50), then SGI 5 / PPI 27 (0x60).
  const auto cpu1 = intids_of(seq, 1);
  ASSERT_GE(cpu1.size(), 2u);
  EXPECT_EQ(cpu1[0], 4100u);
}

class SnapshotLpis : public ::testing::TestWithParam<bool> {};

TEST_P(SnapshotLpis, PendingLpisTheirOrderCachedConfigAndItsTranslationsSurvive) {
  ItsOptions opt;
  opt.indirect_devices = GetParam();
  ItsHarness src(lpis_config(), opt, kRamSize);
  build_lpis(src);
  const std::vector<uint8_t> blob = save(src.g.gic());
  Target dst(lpis_config());
  copy_ram(src.ram, dst.ram);
  ASSERT_EQ(vgic_restore(dst.g.gic(), blob.data(), blob.size()), 0) << vgic_last_error();
  EXPECT_EQ(registers(dst.g), registers(src.g));
  EXPECT_EQ(save(dst.g.gic()), blob);
  // The ITS still translates: a mapped event, an unmapped device, an event out of range.
  const uint64_t doorbell = src.its.its_base() + 0x10040;
  for (auto [dev, ev] : {std::pair{1u, 2u}, {7u, 3u}, {3u, 0u}, {1u, 99u}})
    EXPECT_EQ(vgic_signal_msi(dst.g.gic(), doorbell, ev, dev), vgic_signal_msi(src.g.gic(), doorbell, ev, dev)) << dev << "/" << ev;
  const auto seq = drain(dst.g);
  EXPECT_EQ(seq, drain(src.g));
  // 12000 (0x20) first; then the 0xa0 LPIs in arrival order; 8194 kept its cached 0xa0 although
  // RAM says 0x00 (no INV yet).
  EXPECT_EQ(intids_of(seq, 0), (std::vector<uint32_t>{12000, 8193, 8192, 8194}));
  EXPECT_EQ(intids_of(seq, 1), (std::vector<uint32_t>{9000, 8300}));
}

INSTANTIATE_TEST_SUITE_P(FlatAndIndirect, SnapshotLpis, ::testing::Bool());

TEST(SnapshotRoundTrip, AStalledItsStaysStalledAndResumesAsTheSourceDoes) {
  ItsHarness src(stalled_config(), {}, kRamSize);
  build_stalled(src);
  const std::vector<uint8_t> blob = save(src.g.gic());
  Target dst(stalled_config());
  copy_ram(src.ram, dst.ram);
  ASSERT_EQ(vgic_restore(dst.g.gic(), blob.data(), blob.size()), 0) << vgic_last_error();
  const uint64_t creadr = src.its.its_base() + 0x90;
  uint64_t a = 0, b = 0;
  ASSERT_EQ(vgic_mmio_read(dst.g.gic(), creadr, 8, &a), 0);
  ASSERT_EQ(vgic_mmio_read(src.g.gic(), creadr, 8, &b), 0);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a & 1, 1u) << "GITS_CREADR.Stalled survives";
  EXPECT_EQ(save(dst.g.gic()), blob);
  // The guest skips the bad command (CREADR past it is not writable: it retries as a driver does).
  for (vgic* g : {src.g.gic(), dst.g.gic()})
    ASSERT_EQ(vgic_mmio_write(g, src.its.its_base() + 0x88, 8, src.its.cwriter() | 1), 0);
  ASSERT_EQ(vgic_mmio_read(dst.g.gic(), creadr, 8, &a), 0);
  ASSERT_EQ(vgic_mmio_read(src.g.gic(), creadr, 8, &b), 0);
  EXPECT_EQ(a, b);
  const uint64_t doorbell = src.its.its_base() + 0x10040;
  EXPECT_EQ(vgic_signal_msi(dst.g.gic(), doorbell, 0, 1), 1);
  EXPECT_EQ(vgic_signal_msi(src.g.gic(), doorbell, 0, 1), 1);
  EXPECT_EQ(vgic_signal_msi(dst.g.gic(), doorbell, 1, 1), vgic_signal_msi(src.g.gic(), doorbell, 1, 1));
  EXPECT_EQ(drain(dst.g), drain(src.g));
}

TEST(SnapshotRoundTrip, UserIrqMapGsiRoutesAndLineLevelsSurvive) {
  vgic_config cfg = irqs_config();
  Guest src(cfg);
  src.bring_up_all();
  src.setup(27, true, 0x80, false, 0);
  ASSERT_EQ(vgic_set_device_irq_map(src.gic(), 5, 20, 1), 0);  // bit 5 -> PPI 20, edge
  ASSERT_EQ(vgic_sync_device_irq_level(src.gic(), 0, 1 | 1u << 5), 0);  // vtimer high, bit 5 high
  vgic_gsi_route routes[2] = {};
  routes[0].gsi = 3;
  routes[0].type = VGIC_ROUTE_IRQCHIP;
  routes[0].pin = 18;  // SPI 50
  routes[1].gsi = 4;
  routes[1].type = VGIC_ROUTE_MSI;
  routes[1].address = cfg.gicd_base + 0x40;
  routes[1].data = 51;
  ASSERT_EQ(vgic_set_gsi_routing(src.gic(), routes, 2), 0) << vgic_last_error();
  const std::vector<uint8_t> blob = save(src.gic());
  Target dst(cfg);
  ASSERT_EQ(vgic_restore(dst.g.gic(), blob.data(), blob.size()), 0) << vgic_last_error();
  EXPECT_EQ(registers(dst.g), registers(src));
  std::vector<int> results[2];
  int k = 0;
  for (Guest* g : {&src, &dst.g}) {
    // The same levels synced again produce no new edge; the routes still deliver.
    ASSERT_EQ(vgic_sync_device_irq_level(g->gic(), 0, 1 | 1u << 5), 0);
    results[k].push_back(vgic_set_gsi_level(g->gic(), 3, 1));
    results[k].push_back(vgic_set_gsi_level(g->gic(), 4, 1));
    results[k].push_back(vgic_set_gsi_level(g->gic(), 9, 1));
    ASSERT_EQ(vgic_sync_device_irq_level(g->gic(), 0, 0), 0);  // vtimer low: PPI 27 not pending
    ++k;
  }
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[1][0], 1) << "the irqchip route delivers";
  EXPECT_EQ(results[1][2], VGIC_ENOENT) << "GSI 9 has no route";
  EXPECT_EQ(registers(dst.g), registers(src));
  EXPECT_EQ(save(dst.g.gic()), save(src.gic()));
}

TEST(SnapshotRoundTrip, DefaultGsiTableRoundTripsAndReplacesTheTargetsTable) {
  // A GIC starts with KVM's default table (GSI i -> SPI 32 + i); saved and restored, it replaces
  // whatever table the target had.
  vgic_config cfg = irqs_config();
  Guest src(cfg);
  src.bring_up_all();
  const std::vector<uint8_t> blob = save(src.gic());
  Target dst(cfg);
  vgic_gsi_route r{100, VGIC_ROUTE_IRQCHIP, 0, 8, 0, 0, 0};
  ASSERT_EQ(vgic_set_gsi_routing(dst.g.gic(), &r, 1), 0) << vgic_last_error();
  ASSERT_EQ(vgic_restore(dst.g.gic(), blob.data(), blob.size()), 0) << vgic_last_error();
  EXPECT_EQ(vgic_set_gsi_level(dst.g.gic(), 100, 1), VGIC_ENOENT) << "the target's own table is gone";
  EXPECT_EQ(vgic_set_gsi_level(dst.g.gic(), 8, 1), 1) << "the default route GSI 8 -> SPI 40 came back";
  EXPECT_EQ(vgic_set_gsi_level(dst.g.gic(), 8, 0), 1);
  EXPECT_EQ(save(dst.g.gic()), save(src.gic()));
}

// --- Refusals: the target is left exactly as it was.

uint64_t get64(const std::vector<uint8_t>& b, size_t at) {
  uint64_t v = 0;
  for (unsigned i = 0; i < 8; ++i) v |= uint64_t(b[at + i]) << (8 * i);
  return v;
}
void fix_crc(std::vector<uint8_t>& b);

struct Refusal {
  std::string what;
  std::vector<uint8_t> blob;
  int code;
  std::string message;  // expected in vgic_last_error()
};

TEST(SnapshotRestore, CorruptTruncatedForeignNewerAndMismatchedBlobsAreRefusedPreciselyAndChangeNothing) {
  Guest src(irqs_config());
  build_irqs(src);
  const std::vector<uint8_t> good = save(src.gic());
  std::vector<Refusal> cases;
  cases.push_back({"empty", {}, VGIC_EINVAL, "truncated"});
  for (size_t cut : {size_t(1), size_t(5), good.size() / 2, good.size() - 30})
    cases.push_back({"cut " + std::to_string(cut), std::vector<uint8_t>(good.begin(), good.end() - long(cut)), VGIC_EINVAL, "payload_length"});
  for (size_t at = 24; at < good.size(); at += 97) {
    auto b = good;
    b[at] ^= 0x10;
    cases.push_back({"flip " + std::to_string(at), b, VGIC_EINVAL, "checksum mismatch"});
  }
  {
    auto b = good;
    b[0] = 'X';
    cases.push_back({"foreign", b, VGIC_EINVAL, "not a vgic snapshot"});
  }
  {
    auto b = good;
    b[8] = 2;
    fix_crc(b);
    cases.push_back({"newer", b, VGIC_ENOSYS, "version 2 is newer"});
  }
  {
    // A field out of range under a valid checksum: GICD_CTLR with RWP set.
    auto b = good;
    const size_t gicd = 24 + 16 + size_t(get64(b, 24 + 8)) + 16;
    b[gicd + 3] = 0x80;
    fix_crc(b);
    cases.push_back({"field", b, VGIC_EINVAL, "GICD.gicd_ctlr at offset " + std::to_string(gicd)});
  }
  {
    vgic_config other = irqs_config();
    other.nr_spis = 96;
    Guest o(other);
    cases.push_back({"config", save(o.gic()), VGIC_EINVAL, "configuration mismatch: nr_spis is 96 in the snapshot, 64"});
  }
  {
    vgic_config other = irqs_config();
    other.its[0].device_id_bits = 20;
    Guest o(other);
    cases.push_back({"its config", save(o.gic()), VGIC_EINVAL, "its[0].device_id_bits is 20"});
  }
  Guest dst(irqs_config());
  dst.bring_up_all();
  dst.setup(33, true, 0x10, true);
  dst.set_pending(33);
  const std::vector<uint8_t> before = save(dst.gic());
  for (const Refusal& c : cases) {
    EXPECT_EQ(vgic_restore(dst.gic(), c.blob.data(), c.blob.size()), c.code) << c.what;
    EXPECT_NE(std::string(vgic_last_error()).find(c.message), std::string::npos) << c.what << ": " << vgic_last_error();
    EXPECT_EQ(save(dst.gic()), before) << c.what << ": the target changed";
  }
}

// Fields a live GIC derives from guest-programmed registers must be what those registers give:
// the LPI range and table address a Redistributor took from GICR_PROPBASER at EnableLPIs, and
// an ITT address as MAPD carries it (ITT_addr[51:8], IHI0069 5.3). A blob that differs is
// refused, with a valid checksum, and the target is left as it was.
TEST(SnapshotRestore, DerivedLpiFieldsAndIttAddressesMustMatchWhatTheGuestProgrammed) {
  ItsHarness src(lpis_config());
  build_lpis(src);
  gicv3::snapshot::Model m;
  ASSERT_TRUE(gicv3::snapshot::decode(save(src.g.gic()), m).ok());
  ASSERT_TRUE(m.cpus[0].enable_lpis);
  ASSERT_FALSE(m.its[0].devices.empty());
  struct Case {
    const char* what;
    std::function<void(gicv3::snapshot::Model&)> mutate;
    const char* message;
  };
  const Case cases[] = {
      {"range", [](auto& x) { x.cpus[0].lpi_limit /= 2; }, "lpi_limit"},
      {"address", [](auto& x) { x.cpus[1].prop_pa += 0x10000; }, "prop_pa"},
      {"unaligned ITT", [](auto& x) { x.its[0].devices[0].itt_addr |= 0x80; }, "device.itt_addr"},
      {"ITT beyond 2^52", [](auto& x) { x.its[0].devices[0].itt_addr |= 1ull << 52; }, "device.itt_addr"},
  };
  ItsHarness dst(lpis_config());
  const std::vector<uint8_t> before = save(dst.g.gic());
  for (const Case& c : cases) {
    gicv3::snapshot::Model bad = m;
    c.mutate(bad);
    const std::vector<uint8_t> blob = gicv3::snapshot::encode(bad);
    EXPECT_EQ(vgic_restore(dst.g.gic(), blob.data(), blob.size()), VGIC_EINVAL) << c.what;
    EXPECT_NE(std::string(vgic_last_error()).find(c.message), std::string::npos) << c.what << ": " << vgic_last_error();
    EXPECT_EQ(save(dst.g.gic()), before) << c.what << ": the target changed";
  }
  const std::vector<uint8_t> same = gicv3::snapshot::encode(m);
  EXPECT_EQ(vgic_restore(dst.g.gic(), same.data(), same.size()), 0) << "the unmodified model: " << vgic_last_error();
}

// State that neither a guest nor the VMM's calls can put into a live GIC, which a restore would
// then believe: LPIs pending outside the range EnableLPIs and GICR_PROPBASER.IDbits give (every
// path that sets a bit checks that range; one beyond would be offered to the CPU), a
// GICD_SETSPI_NSR level on an interrupt that has no such register (nothing could clear it), bits
// GICR_PROPBASER/PENDBASER do not keep (PTZ reads 0), a GITS_CREADR outside the command queue
// (the queue would never run again). Refused, and the target is left as it was.
TEST(SnapshotRestore, StateNoLiveGicCanReachIsRefused) {
  using namespace gicv3;
  ItsHarness src(lpis_config());
  build_lpis(src);
  snapshot::Model m;
  ASSERT_TRUE(snapshot::decode(save(src.g.gic()), m).ok());
  ASSERT_TRUE(m.cpus[0].enable_lpis);
  ASSERT_EQ(m.cpus[0].lpi_limit, 1u << 16);
  ASSERT_FALSE(m.cpus[0].lpi_chunks.empty());
  struct Case {
    const char* what;
    std::function<void(snapshot::Model&)> mutate;
    const char* message;
  };
  const Case cases[] = {
      {"LPIs pending while EnableLPIs is 0", [](auto& x) { x.cpus[0].enable_lpis = x.cpus[0].lpis_on = false; },
       "CPU0.lpis.chunk.pending"},
      {"an LPI pending beyond GICR_PROPBASER.IDbits",
       [](auto& x) {
         snapshot::CpuState& c = x.cpus[0];
         c.propbaser = GICR_PROPBASER::IDbits::set(c.propbaser, 13);  // 14 bits: INTIDs below 16384
         c.lpi_limit = 1u << 14;
         snapshot::LpiChunk k;
         k.base = 1u << 14;
         k.config[0] = 0xa1;
         k.pending[0] = 1;
         ASSERT_LT(c.lpi_chunks.back().base, k.base);
         c.lpi_chunks.push_back(k);
       },
       "CPU0.lpis.chunk.pending"},
      {"a SETSPI level on a PPI", [](auto& x) { x.cpus[0].private_irqs[20].msg_level = true; }, "CPU0.irq[20].flags"},
      {"PTZ kept in GICR_PENDBASER", [](auto& x) { x.cpus[1].pendbaser |= GICR_PENDBASER::PTZ::mask; }, "gicr_pendbaser"},
      {"a RES0 bit of GICR_PROPBASER", [](auto& x) { x.cpus[0].propbaser |= 1ull << 6; }, "gicr_propbaser"},
      {"GITS_CREADR beyond the queue",
       [](auto& x) { x.its[0].creadr = (GITS_CBASER::Size::get(x.its[0].cbaser) + 1) * 4096; }, "ITS0.gits_creadr"},
  };
  ItsHarness dst(lpis_config());
  const std::vector<uint8_t> before = save(dst.g.gic());
  for (const Case& c : cases) {
    snapshot::Model bad = m;
    c.mutate(bad);
    const std::vector<uint8_t> blob = snapshot::encode(bad);
    EXPECT_EQ(vgic_restore(dst.g.gic(), blob.data(), blob.size()), VGIC_EINVAL) << c.what;
    EXPECT_NE(std::string(vgic_last_error()).find(c.message), std::string::npos) << c.what << ": " << vgic_last_error();
    EXPECT_EQ(save(dst.g.gic()), before) << c.what << ": the target changed";
  }
  // The last queue offset is inside; the unmodified model restores.
  snapshot::Model last = m;
  last.its[0].creadr = (GITS_CBASER::Size::get(last.its[0].cbaser) + 1) * 4096 - 32;
  last.its[0].cwriter = last.its[0].creadr;
  const std::vector<uint8_t> inside = snapshot::encode(last);
  EXPECT_EQ(vgic_restore(dst.g.gic(), inside.data(), inside.size()), 0) << vgic_last_error();
  const std::vector<uint8_t> same = snapshot::encode(m);
  EXPECT_EQ(vgic_restore(dst.g.gic(), same.data(), same.size()), 0) << vgic_last_error();
}

// Without message-based SPIs no interrupt has a GICD_SETSPI_NSR level.
TEST(SnapshotRestore, ASetspiLevelWithoutMbisIsRefused) {
  vgic_config c = irqs_config();
  c.mbis = 0;
  Guest src(c);
  src.bring_up_all();
  src.setup(40, true, 0x80, false, 0);
  gicv3::snapshot::Model m;
  ASSERT_TRUE(gicv3::snapshot::decode(save(src.gic()), m).ok());
  m.spis[8].msg_level = true;  // INTID 40, level-sensitive
  const std::vector<uint8_t> blob = gicv3::snapshot::encode(m);
  Guest dst(c);
  EXPECT_EQ(vgic_restore(dst.gic(), blob.data(), blob.size()), VGIC_EINVAL);
  EXPECT_NE(std::string(vgic_last_error()).find("GICD.irq[40].flags"), std::string::npos) << vgic_last_error();
}

TEST(SnapshotApi, SizeQueryTooSmallBufferRunningVcpusAndStreams) {
  Guest g(irqs_config());
  build_irqs(g);
  size_t len = 0;
  ASSERT_EQ(vgic_save(g.gic(), nullptr, &len), VGIC_ENOSPC);
  std::vector<uint8_t> small(len - 1);
  size_t cap = small.size();
  EXPECT_EQ(vgic_save(g.gic(), small.data(), &cap), VGIC_ENOSPC);
  EXPECT_EQ(cap, len) << "the size needed is reported";
  EXPECT_EQ(vgic_save(g.gic(), small.data(), nullptr), VGIC_EFAULT);
  const auto blob = save(g.gic());
  ASSERT_EQ(vgic_vcpu_running(g.gic(), 1, 1), 0);
  cap = len;
  std::vector<uint8_t> buf(len);
  EXPECT_EQ(vgic_save(g.gic(), buf.data(), &cap), VGIC_EBUSY);
  EXPECT_EQ(vgic_restore(g.gic(), blob.data(), blob.size()), VGIC_EBUSY);
  ASSERT_EQ(vgic_vcpu_running(g.gic(), 1, 0), 0);
  // C++ stream forms.
  auto a = gicv3::Gic::create(gicv3::Config::from_c(irqs_config()));
  ASSERT_TRUE(a);
  std::stringstream ss;
  ASSERT_TRUE(a->restore(std::span<const uint8_t>(blob)).ok());
  ASSERT_TRUE(a->save(ss).ok());
  auto b = gicv3::Gic::create(gicv3::Config::from_c(irqs_config()));
  ASSERT_TRUE(b->restore(ss).ok());
  std::vector<uint8_t> again;
  ASSERT_TRUE(b->save(again).ok());
  EXPECT_EQ(again, blob);
}

}  // namespace
}  // namespace test::snap

#include "snapshot/snapshot_format.hpp"

namespace test::snap {
namespace {
void fix_crc(std::vector<uint8_t>& b) {
  const size_t at = b.size() - 4;
  const uint32_t c = gicv3::snapshot::crc32(std::span<const uint8_t>(b.data(), at));
  for (unsigned i = 0; i < 4; ++i) b[at + i] = uint8_t(c >> (8 * i));
}
// vgic_save writes straight into a buffer that holds the blob's upper bound, and otherwise
// encodes aside and copies: every capacity from the exact size up gives the same bytes.
TEST(SnapshotApi, EveryBufferLargeEnoughGetsTheSameBlob) {
  Guest g(irqs_config());
  build_irqs(g);
  const std::vector<uint8_t> blob = save(g.gic());
  for (size_t extra : {size_t(0), size_t(1), blob.size(), size_t(1) << 20}) {
    std::vector<uint8_t> buf(blob.size() + extra, 0xee);
    size_t len = buf.size();
    ASSERT_EQ(vgic_save(g.gic(), buf.data(), &len), 0) << extra << ": " << vgic_last_error();
    ASSERT_EQ(len, blob.size()) << extra;
    EXPECT_TRUE(std::equal(blob.begin(), blob.end(), buf.begin())) << extra;
    EXPECT_TRUE(std::all_of(buf.begin() + ptrdiff_t(len), buf.end(), [](uint8_t b) { return b == 0xee; }))
        << extra << ": nothing written past the blob";
  }
}

}  // namespace
}  // namespace test::snap
