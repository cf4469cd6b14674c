// Restore's configuration check (docs/snapshot-format.md, CONF): every guest-visible field is
// compared in declaration order and the first difference is named, list elements with their
// index; max_host_memory and the ITS cache_entries are host tuning and may differ.
#include <gtest/gtest.h>

#include <memory>

#include "vgic/vgic.hpp"

namespace test::snap {
namespace {

gicv3::Config two_cpus_two_its() {
  gicv3::Config c;
  c.nr_cpus = 2;
  c.nr_spis = 64;
  c.its.push_back(gicv3::ItsConfig{});
  c.its[1].base = 0x08040000;  // between the distributor and ITS 0
  return c;
}

std::vector<uint8_t> save_of(const gicv3::Config& c) {
  auto g = gicv3::Gic::create(c);
  EXPECT_TRUE(g);
  std::vector<uint8_t> blob;
  EXPECT_TRUE(g->save(blob).ok());
  return blob;
}

// Restores a blob saved with `source` into a GIC created with `target`.
gicv3::Status restore_into(const gicv3::Config& source, const gicv3::Config& target) {
  auto g = gicv3::Gic::create(target);
  EXPECT_TRUE(g);
  return g->restore(std::span<const uint8_t>(save_of(source)));
}

TEST(SnapshotConfig, HostTuningMayDifferButTheFirstGuestVisibleDifferenceIsNamedWithItsIndex) {
  const gicv3::Config base = two_cpus_two_its();
  gicv3::Config tuned = base;
  tuned.max_host_memory = base.max_host_memory / 2;
  tuned.its[1].cache_entries = base.its[1].cache_entries / 4;
  EXPECT_TRUE(restore_into(base, tuned).ok()) << restore_into(base, tuned).message();

  gicv3::Config aff = base;
  aff.mpidr = {0, 0x100};
  gicv3::Status s = restore_into(aff, base);
  EXPECT_EQ(s.code(), gicv3::Errc::invalid_argument);
  EXPECT_NE(s.message().find("configuration mismatch: mpidr[1] is 256 in the snapshot, 1 in this GIC"), std::string::npos)
      << s.message();

  gicv3::Config pta = base;
  pta.its[1].pta = true;
  pta.rss = true;  // declared before the ITSes: reported first
  s = restore_into(pta, base);
  EXPECT_NE(s.message().find("configuration mismatch: rss is 1 in the snapshot, 0"), std::string::npos) << s.message();
  pta.rss = false;
  s = restore_into(pta, base);
  EXPECT_NE(s.message().find("configuration mismatch: its[1].pta is 1 in the snapshot, 0"), std::string::npos) << s.message();

  gicv3::Config one_its = base;
  one_its.its.pop_back();
  s = restore_into(one_its, base);
  EXPECT_NE(s.message().find("configuration mismatch: nr_its is 1 in the snapshot, 2"), std::string::npos) << s.message();
}

// Two configurations that give the guest the same registers are the same configuration: an ITS
// iidr of 0 means vgic's default GITS_IIDR, as spelled out.
TEST(SnapshotConfig, TheDefaultIidrAndItsValueAreOneConfiguration) {
  const gicv3::Config zero = two_cpus_two_its();
  gicv3::Config spelled = zero;
  for (gicv3::ItsConfig& k : spelled.its) k.iidr = 0x5600043B;
  spelled.gicd_iidr = 0x5600043B;
  EXPECT_TRUE(restore_into(zero, spelled).ok()) << restore_into(zero, spelled).message();
  EXPECT_TRUE(restore_into(spelled, zero).ok()) << restore_into(spelled, zero).message();
  gicv3::Config other = zero;
  other.its[0].iidr = 0x5600143B;  // Revision 1
  const gicv3::Status s = restore_into(other, zero);
  EXPECT_NE(s.message().find("configuration mismatch: its[0].iidr"), std::string::npos) << s.message();
}

// nr_spis 992 (GICD_TYPER.ITLinesNumber 31) implements SPIs 32..1019: 988 of them, INTIDs
// 1020..1023 being special. A snapshot holds those 988, and restores.
TEST(SnapshotConfig, TheLargestSpiCountRoundTrips) {
  gicv3::Config c;
  c.nr_spis = 992;
  c.nr_espis = 64;
  EXPECT_TRUE(restore_into(c, c).ok()) << restore_into(c, c).message();
}

}  // namespace
}  // namespace test::snap
