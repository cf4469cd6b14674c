#include "fdt.hpp"

#include <libfdt.h>

#include <cstdio>
#include <cstring>

#include "layout.hpp"

namespace vgic_machine {

namespace {

// Properties of 64-bit address/size pairs (#address-cells = #size-cells = 2).
int prop_regs(void* fdt, const char* name, std::initializer_list<uint64_t> v) {
  std::vector<fdt64_t> be;
  for (uint64_t x : v) be.push_back(cpu_to_fdt64(x));
  return fdt_property(fdt, name, be.data(), static_cast<int>(be.size() * sizeof(fdt64_t)));
}

int prop_cells(void* fdt, const char* name, std::initializer_list<uint32_t> v) {
  std::vector<fdt32_t> be;
  for (uint32_t x : v) be.push_back(cpu_to_fdt32(x));
  return fdt_property(fdt, name, be.data(), static_cast<int>(be.size() * sizeof(fdt32_t)));
}

int prop_str(void* fdt, const char* name, const char* value) {
  return fdt_property(fdt, name, value, static_cast<int>(std::strlen(value) + 1));
}

std::string hex_name(const char* base, uint64_t addr) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s@%llx", base, static_cast<unsigned long long>(addr));
  return buf;
}

constexpr uint32_t kGicPhandle = 1, kItsPhandle = 2, kClkPhandle = 3;
// GIC interrupt specifier: <type number flags>; type 0 SPI, 1 PPI; flags 4 = level high.
constexpr uint32_t kPpi = 1, kSpi = 0, kLevelHigh = 4;

}  // namespace

std::string build_fdt(const FdtParams& p, std::vector<uint8_t>& blob) {
  blob.assign(kDtbMaxSize, 0);
  void* fdt = blob.data();
  int err = 0;
  auto chk = [&err](int r) {
    if (r < 0 && err == 0) err = r;
  };
  chk(fdt_create(fdt, static_cast<int>(blob.size())));
  chk(fdt_finish_reservemap(fdt));
  chk(fdt_begin_node(fdt, ""));
  chk(prop_str(fdt, "compatible", "linux,dummy-virt"));
  chk(prop_str(fdt, "model", "vgic reference machine (QEMU virt layout)"));
  chk(prop_cells(fdt, "#address-cells", {2}));
  chk(prop_cells(fdt, "#size-cells", {2}));
  chk(prop_cells(fdt, "interrupt-parent", {kGicPhandle}));

  chk(fdt_begin_node(fdt, "chosen"));
  chk(prop_str(fdt, "stdout-path", hex_name("/pl011", kUartBase).c_str()));
  chk(fdt_end_node(fdt));

  chk(fdt_begin_node(fdt, hex_name("memory", p.ram_base).c_str()));
  chk(prop_str(fdt, "device_type", "memory"));
  chk(prop_regs(fdt, "reg", {p.ram_base, p.ram_size}));
  chk(fdt_end_node(fdt));

  chk(fdt_begin_node(fdt, "psci"));
  const char compat[] = "arm,psci-1.0\0arm,psci-0.2";
  chk(fdt_property(fdt, "compatible", compat, static_cast<int>(sizeof compat)));
  chk(prop_str(fdt, "method", p.psci_method.c_str()));
  chk(fdt_end_node(fdt));

  chk(fdt_begin_node(fdt, "cpus"));
  chk(prop_cells(fdt, "#address-cells", {1}));
  chk(prop_cells(fdt, "#size-cells", {0}));
  for (unsigned i = 0; i < p.nr_cpus; ++i) {
    const uint64_t aff = mpidr_affinity(i);
    chk(fdt_begin_node(fdt, hex_name("cpu", aff).c_str()));
    chk(prop_str(fdt, "device_type", "cpu"));
    chk(prop_str(fdt, "compatible", "arm,cortex-a72"));
    chk(prop_cells(fdt, "reg", {static_cast<uint32_t>(aff)}));
    if (p.nr_cpus > 1) chk(prop_str(fdt, "enable-method", "psci"));
    chk(fdt_end_node(fdt));
  }
  chk(fdt_end_node(fdt));

  chk(fdt_begin_node(fdt, "timer"));
  chk(prop_str(fdt, "compatible", "arm,armv8-timer"));
  // Secure phys (PPI 13), non-secure phys (PPI 14), virt (PPI 11), hyp (PPI 10).
  chk(prop_cells(fdt, "interrupts", {kPpi, 13, kLevelHigh, kPpi, 14, kLevelHigh, kPpi, 11, kLevelHigh, kPpi, 10,
                                     kLevelHigh}));
  chk(fdt_property(fdt, "always-on", nullptr, 0));
  chk(fdt_end_node(fdt));

  chk(fdt_begin_node(fdt, "apb-pclk"));
  chk(prop_str(fdt, "compatible", "fixed-clock"));
  chk(prop_cells(fdt, "#clock-cells", {0}));
  chk(prop_cells(fdt, "clock-frequency", {24000000}));
  chk(prop_cells(fdt, "phandle", {kClkPhandle}));
  chk(fdt_end_node(fdt));

  chk(fdt_begin_node(fdt, hex_name("pl011", kUartBase).c_str()));
  const char uart_compat[] = "arm,pl011\0arm,primecell";
  chk(fdt_property(fdt, "compatible", uart_compat, static_cast<int>(sizeof uart_compat)));
  chk(prop_regs(fdt, "reg", {kUartBase, kUartSize}));
  chk(prop_cells(fdt, "interrupts", {kSpi, kUartSpi, kLevelHigh}));
  chk(prop_cells(fdt, "clocks", {kClkPhandle, kClkPhandle}));
  const char clk_names[] = "uartclk\0apb_pclk";
  chk(fdt_property(fdt, "clock-names", clk_names, static_cast<int>(sizeof clk_names)));
  chk(fdt_end_node(fdt));

  chk(fdt_begin_node(fdt, hex_name("intc", kGicdBase).c_str()));
  chk(prop_str(fdt, "compatible", "arm,gic-v3"));
  chk(prop_cells(fdt, "#interrupt-cells", {3}));
  chk(prop_cells(fdt, "#address-cells", {2}));
  chk(prop_cells(fdt, "#size-cells", {2}));
  chk(fdt_property(fdt, "ranges", nullptr, 0));
  chk(fdt_property(fdt, "interrupt-controller", nullptr, 0));
  chk(prop_regs(fdt, "reg", {kGicdBase, kGicdSize, kGicrBase, uint64_t{p.nr_cpus} * kGicrStride}));
  chk(prop_cells(fdt, "#redistributor-regions", {1}));
  chk(prop_cells(fdt, "phandle", {kGicPhandle}));
  chk(fdt_begin_node(fdt, hex_name("its", kItsBase).c_str()));
  chk(prop_str(fdt, "compatible", "arm,gic-v3-its"));
  chk(fdt_property(fdt, "msi-controller", nullptr, 0));
  chk(prop_cells(fdt, "#msi-cells", {1}));
  chk(prop_regs(fdt, "reg", {kItsBase, kItsSize}));
  chk(prop_cells(fdt, "phandle", {kItsPhandle}));
  chk(fdt_end_node(fdt));
  chk(fdt_end_node(fdt));

  chk(fdt_end_node(fdt));
  chk(fdt_finish(fdt));
  if (err == 0) chk(fdt_pack(fdt));
  if (err < 0) return std::string("device tree: ") + fdt_strerror(err);
  blob.resize(fdt_totalsize(fdt));
  return {};
}

}  // namespace vgic_machine
