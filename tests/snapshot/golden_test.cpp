// Golden snapshots of format version 1 (tests/data/snapshots/): a later change that can no longer
// read them, or reads them differently, fails here. Each golden is restored into a fresh instance
// (guest RAM as the scenario's), which must behave as the live scenario does and save the same
// bytes again.
//
// Regeneration is explicit only: VGIC_REGEN_GOLDEN=1 ./scenario_tests --gtest_filter='SnapshotGolden*'
// rewrites the files from the live scenarios (do it only with a format version bump, keeping the
// old files as well, or when adding a scenario).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "snapshot/snapshot_scenarios.hpp"

namespace test::snap {
namespace {

std::string path_of(const std::string& name) { return std::string(VGIC_SNAPSHOT_DIR) + "/" + name + ".v1.bin"; }

// Returns the golden bytes (writing them first under VGIC_REGEN_GOLDEN=1).
std::vector<uint8_t> golden(const std::string& name, const std::vector<uint8_t>& live) {
  const char* regen = std::getenv("VGIC_REGEN_GOLDEN");
  if (regen && std::string(regen) == "1") {
    std::ofstream out(path_of(name), std::ios::binary);
    out.write(reinterpret_cast<const char*>(live.data()), std::streamsize(live.size()));
    EXPECT_TRUE(out.good()) << "cannot write " << path_of(name);
  }
  std::ifstream in(path_of(name), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing golden file " << path_of(name);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void check(const std::string& name, Guest& live, GuestRam* live_ram, const vgic_config& cfg,
           const std::vector<std::vector<uint32_t>>& active = {}) {
  const std::vector<uint8_t> g = golden(name, save(live.gic()));
  ASSERT_FALSE(g.empty());
  Target dst(cfg);
  if (live_ram) std::memcpy(dst.ram.host(dst.ram.base()), live_ram->host(live_ram->base()), live_ram->size());
  ASSERT_EQ(vgic_restore(dst.g.gic(), g.data(), g.size()), 0) << name << ": " << vgic_last_error();
  EXPECT_EQ(save(dst.g.gic()), g) << name << ": re-saving the restored golden gives other bytes";
  EXPECT_EQ(registers(dst.g), registers(live)) << name;
  EXPECT_EQ(drain(dst.g, active), drain(live, active)) << name;
}

TEST(SnapshotGolden, Irqs) {
  Guest live(irqs_config());
  build_irqs(live);
  check("irqs", live, nullptr, irqs_config(), {{43}, {3}});
}

TEST(SnapshotGolden, LpisFlat) {
  ItsHarness live(lpis_config(), {}, kRamSize);
  build_lpis(live);
  check("lpis_flat", live.g, &live.ram, lpis_config());
}

TEST(SnapshotGolden, LpisIndirect) {
  ItsOptions opt;
  opt.indirect_devices = true;
  ItsHarness live(lpis_config(), opt, kRamSize);
  build_lpis(live);
  check("lpis_indirect", live.g, &live.ram, lpis_config());
}

TEST(SnapshotGolden, StalledIts) {
  ItsHarness live(stalled_config(), {}, kRamSize);
  build_stalled(live);
  check("stalled_its", live.g, &live.ram, stalled_config());
}

}  // namespace
}  // namespace test::snap
