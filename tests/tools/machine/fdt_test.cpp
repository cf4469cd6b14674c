// The device tree handed to guests: parsed back with libfdt, it describes QEMU virt's layout.
#include "fdt.hpp"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstring>
#include <string>

#include "layout.hpp"

namespace vgic_machine {
namespace {

uint64_t reg_cell64(const void* fdt, int node, int index) {
  int len = 0;
  auto* p = static_cast<const fdt64_t*>(fdt_getprop(fdt, node, "reg", &len));
  if (!p || len < (index + 1) * 8) return ~0ull;
  return fdt64_to_cpu(p[index]);
}

TEST(Fdt, DescribesMemoryGicItsUartAndCpus) {
  FdtParams p;
  p.nr_cpus = 20;
  p.ram_base = kRamBase;
  p.ram_size = 256ull << 20;
  std::vector<uint8_t> blob;
  ASSERT_EQ(build_fdt(p, blob), "");
  const void* fdt = blob.data();
  ASSERT_EQ(fdt_check_header(fdt), 0);
  EXPECT_LE(blob.size(), kDtbMaxSize);

  int mem = fdt_path_offset(fdt, "/memory@40000000");
  ASSERT_GE(mem, 0);
  EXPECT_EQ(reg_cell64(fdt, mem, 0), kRamBase);
  EXPECT_EQ(reg_cell64(fdt, mem, 1), 256ull << 20);

  int gic = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");
  ASSERT_GE(gic, 0);
  EXPECT_EQ(reg_cell64(fdt, gic, 0), kGicdBase);
  EXPECT_EQ(reg_cell64(fdt, gic, 2), kGicrBase);
  EXPECT_EQ(reg_cell64(fdt, gic, 3), 20 * kGicrStride);
  int its = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3-its");
  ASSERT_GE(its, 0);
  EXPECT_EQ(reg_cell64(fdt, its, 0), kItsBase);
  int uart = fdt_node_offset_by_compatible(fdt, -1, "arm,pl011");
  ASSERT_GE(uart, 0);
  EXPECT_EQ(reg_cell64(fdt, uart, 0), kUartBase);

  int psci = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-0.2");
  ASSERT_GE(psci, 0);
  EXPECT_STREQ(static_cast<const char*>(fdt_getprop(fdt, psci, "method", nullptr)), "hvc");

  // CPU 17: Aff1 = 1, Aff0 = 1 (QEMU virt with GICv3).
  int cpu = fdt_path_offset(fdt, "/cpus/cpu@101");
  ASSERT_GE(cpu, 0);
  int len = 0;
  auto* reg = static_cast<const fdt32_t*>(fdt_getprop(fdt, cpu, "reg", &len));
  ASSERT_EQ(len, 4);
  EXPECT_EQ(fdt32_to_cpu(*reg), 0x101u);
  EXPECT_STREQ(static_cast<const char*>(fdt_getprop(fdt, cpu, "enable-method", nullptr)), "psci");
}

TEST(Fdt, MpidrAffinityOfQemuVirt) {
  EXPECT_EQ(mpidr_affinity(0), 0u);
  EXPECT_EQ(mpidr_affinity(15), 15u);
  EXPECT_EQ(mpidr_affinity(16), 0x100u);
  EXPECT_EQ(mpidr_affinity(35), 0x203u);
}

}  // namespace
}  // namespace vgic_machine
