// The snapshot inspector library (issue 6, `vgic inspect`), over the golden snapshots of
// tests/data/snapshots (scenarios in tests/snapshot/snapshot_scenarios.hpp).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

#include "inspect.hpp"

namespace {

using gicv3::inspect::Format;
using nlohmann::json;

std::vector<uint8_t> golden(const std::string& name) {
  std::ifstream in(std::string(VGIC_SNAPSHOT_DIR) + "/" + name + ".v1.bin", std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string render(const std::vector<uint8_t>& blob, Format f) {
  std::ostringstream out;
  std::string err;
  EXPECT_TRUE(gicv3::inspect::render(blob, f, out, &err)) << err;
  return out.str();
}

TEST(Inspect, JsonShowsTheItsRoutingGraphLpisAndTheirCachedConfiguration) {
  const json d = json::parse(render(golden("lpis_flat"), Format::json));
  EXPECT_EQ(d["format_version"], 1);
  EXPECT_EQ(d["config"]["nr_cpus"], 2);
  ASSERT_EQ(d["its"].size(), 1u);
  const json& its = d["its"][0];
  EXPECT_TRUE(its["enabled"].get<bool>());
  ASSERT_EQ(its["devices"].size(), 3u);
  const json& dev1 = its["devices"][0];
  EXPECT_EQ(dev1["devid"], 1);
  ASSERT_EQ(dev1["events"].size(), 3u);
  EXPECT_EQ(dev1["events"][1], (json{{"eventid", 1}, {"lpi", 8193}, {"icid", 0}, {"cpu", 0}, {"lpi_priority", 0xa0},
                                     {"lpi_enabled", true}, {"pending", true}}));
  // 8194: the cached priority (0xa0), not the RAM byte the guest has not invalidated.
  EXPECT_EQ(dev1["events"][2]["lpi_priority"], 0xa0);
  EXPECT_FALSE(dev1["events"][2]["pending"].get<bool>());
  const json& dev2 = its["devices"][1];
  EXPECT_EQ(dev2["events"][2]["lpi"], 9500);
  EXPECT_EQ(dev2["events"][2]["cpu"], 1);
  EXPECT_FALSE(dev2["events"][2]["lpi_enabled"].get<bool>());
  EXPECT_EQ(its["collections"], (json::array({{{"icid", 0}, {"cpu", 0}}, {{"icid", 1}, {"cpu", 1}}})));
  EXPECT_EQ(d["cpus"][0]["lpis"]["pending"], (json::array({8192, 8193})));
  EXPECT_EQ(d["cpus"][0]["lpis"]["order"], (json::array({8193, 8192})));
  EXPECT_EQ(d["cpus"][1]["lpis"]["pending"], (json::array({8300, 9000, 9500})));
}

TEST(Inspect, JsonShowsEnabledPendingActiveInterruptsPerCpuAndActivePriorities) {
  const json d = json::parse(render(golden("irqs"), Format::json));
  auto find = [&](unsigned cpu, uint32_t intid) {
    for (const json& i : d["cpus"][cpu]["interrupts"])
      if (i["intid"] == intid) return i;
    return json();
  };
  EXPECT_TRUE(find(0, 43)["active"].get<bool>());
  EXPECT_EQ(find(0, 43)["group"], 0);
  EXPECT_TRUE(find(0, 42)["pending"].get<bool>());
  EXPECT_TRUE(find(0, 42)["setspi_asserted"].get<bool>());
  EXPECT_TRUE(find(1, 3)["active"].get<bool>());
  EXPECT_TRUE(find(1, 4100)["line"].get<bool>());
  EXPECT_TRUE(find(0, 7)["pending"].get<bool>());
  EXPECT_FALSE(find(0, 7)["enabled"].get<bool>());
  EXPECT_EQ(d["cpus"][0]["cpu_interface"]["running_priority"], 0x20);
  EXPECT_EQ(d["cpus"][1]["cpu_interface"]["running_priority"], 0x60);
  EXPECT_TRUE(d["cpus"][1]["cpu_interface"]["eoimode"].get<bool>());
  ASSERT_EQ(d["distributor"]["one_of_n_spis"].size(), 1u);
  EXPECT_EQ(d["distributor"]["one_of_n_spis"][0]["intid"], 44);
}

TEST(Inspect, TextNamesTheRouteOfEveryEventAndAStall) {
  const std::string t = render(golden("lpis_indirect"), Format::text);
  EXPECT_NE(t.find("event 1 -> LPI 8193 -> collection 0 -> CPU 0 [pending]"), std::string::npos) << t;
  EXPECT_NE(t.find("event 5 -> LPI 9000 -> collection 1 -> CPU 1 [pending]"), std::string::npos) << t;
  EXPECT_NE(render(golden("stalled_its"), Format::text).find("STALLED"), std::string::npos);
}

TEST(Inspect, DotIsADigraphThatGraphvizRenders) {
  const std::string d = render(golden("lpis_flat"), Format::dot);
  EXPECT_EQ(d.rfind("digraph vgic {", 0), 0u);
  EXPECT_NE(d.find("its0_dev1_ev1 -> lpi8193;"), std::string::npos) << d;
  EXPECT_NE(d.find("lpi8193 -> its0_col0;"), std::string::npos);
  EXPECT_NE(d.find("its0_col1 -> cpu1;"), std::string::npos);
  if (access("/usr/bin/dot", X_OK) != 0) GTEST_SKIP() << "Graphviz not installed";
  char path[] = "/tmp/vgic_inspect_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, d.data(), d.size()), ssize_t(d.size()));
  close(fd);
  const std::string cmd = std::string("/usr/bin/dot -Tsvg ") + path + " -o " + path + ".svg 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream svg(std::string(path) + ".svg");
  const std::string s{std::istreambuf_iterator<char>(svg), std::istreambuf_iterator<char>()};
  EXPECT_NE(s.find("<svg"), std::string::npos);
  std::remove(path);
  std::remove((std::string(path) + ".svg").c_str());
}

TEST(Inspect, ACorruptOrForeignBlobIsRefusedWithThePreciseError) {
  auto blob = golden("irqs");
  blob[100] ^= 1;
  std::ostringstream out;
  std::string err;
  EXPECT_FALSE(gicv3::inspect::render(blob, Format::json, out, &err));
  EXPECT_NE(err.find("checksum mismatch"), std::string::npos) << err;
  const std::vector<uint8_t> foreign = {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(gicv3::inspect::render(foreign, Format::text, out, &err));
  EXPECT_NE(err.find("not a vgic snapshot"), std::string::npos) << err;
}

}  // namespace
