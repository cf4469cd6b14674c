// The C API contract of <vgic/vgic.h>: configuration validation, host-error codes and messages,
// NULL handling, and the boundary between host errors and guest errors.
#include "vgic/vgic.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/guest.hpp"

using namespace test;

namespace {

// Runs f on a new thread, where vgic_last_error() starts empty (it is per thread).
void in_fresh_thread(const std::function<void()>& f) {
  std::thread t([&] {
    EXPECT_STREQ(vgic_last_error(), "");
    f();
  });
  t.join();
}

struct ConfigCase {
  const char* what;
  std::function<void(vgic_config&)> tweak;
  std::vector<uint64_t> mpidr = {};
};

vgic_config build(const ConfigCase& c) {
  vgic_config cfg;
  vgic_config_init(&cfg);
  c.tweak(cfg);
  if (!c.mpidr.empty()) cfg.mpidr = c.mpidr.data();
  return cfg;
}

const std::vector<ConfigCase>& bad_configs() {
  static const std::vector<ConfigCase> cases = {
      {"nr_cpus 0", [](vgic_config& c) { c.nr_cpus = 0; }},
      {"nr_cpus 513", [](vgic_config& c) { c.nr_cpus = VGIC_MAX_CPUS + 1; }},
      {"nr_spis 33", [](vgic_config& c) { c.nr_spis = 33; }},
      {"nr_spis 988 (not a multiple of 32)", [](vgic_config& c) { c.nr_spis = 988; }},
      {"nr_spis 1024", [](vgic_config& c) { c.nr_spis = 1024; }},
      {"nr_spis 1024", [](vgic_config& c) { c.nr_spis = 1024; }},
      {"nr_espis 16", [](vgic_config& c) { c.nr_espis = 16; }},
      {"nr_espis 1056", [](vgic_config& c) { c.nr_espis = 1056; }},
      {"nr_eppis 16", [](vgic_config& c) { c.nr_eppis = 16; }},
      {"nr_eppis 48", [](vgic_config& c) { c.nr_eppis = 48; }},
      {"nr_eppis 96", [](vgic_config& c) { c.nr_eppis = 96; }},
      {"priority_bits 4", [](vgic_config& c) { c.priority_bits = 4; }},
      {"priority_bits 9", [](vgic_config& c) { c.priority_bits = 9; }},
      {"duplicate MPIDRs", [](vgic_config& c) { c.nr_cpus = 3; }, {0x0, 0x100, 0x0}},
      // Bits 31 (RES1), 30 (U) and 24 (MT) are not affinity: these two CPUs have the same affinity.
      {"same affinity, other bits differ", [](vgic_config& c) { c.nr_cpus = 2; }, {0x1, 0xC1000001}},
      {"Aff0 > 15 without rss", [](vgic_config& c) { c.nr_cpus = 2; }, {0x0, 0x10}},
      {"misaligned gicd_base", [](vgic_config& c) { c.gicd_base = 0x08001000; }},
      {"misaligned gicr_base", [](vgic_config& c) { c.gicr_base = 0x080A8000; }},
      {"gicd_base == gicr_base", [](vgic_config& c) { c.gicd_base = c.gicr_base; }},
      {"gicd inside the redistributor region",
       [](vgic_config& c) {
         c.nr_cpus = 4;
         c.gicd_base = c.gicr_base + 0x30000;
       }},
      {"redistributor region runs into gicd", [](vgic_config& c) { c.gicr_base = c.gicd_base - 0x10000; }},
      {"redistributor region wraps", [](vgic_config& c) { c.gicr_base = 0xFFFFFFFFFFFF0000ull; }},
      {"lpi_id_bits 13", [](vgic_config& c) { c.lpi_id_bits = 13; }},
      {"lpi_id_bits 25", [](vgic_config& c) { c.lpi_id_bits = 25; }},
      {"common_lpi_aff 4", [](vgic_config& c) { c.common_lpi_aff = 4; }},
      {"nr_its 9", [](vgic_config& c) { c.nr_its = VGIC_MAX_ITS + 1; }},
      {"misaligned ITS base", [](vgic_config& c) { c.its[0].base += 0x1000; }},
      {"ITS overlapping gicd", [](vgic_config& c) { c.its[0].base = c.gicd_base; }},
      {"device_id_bits 0", [](vgic_config& c) { c.its[0].device_id_bits = 0; }},
      {"event_id_bits 33", [](vgic_config& c) { c.its[0].event_id_bits = 33; }},
      {"itt_entry_size 7", [](vgic_config& c) { c.its[0].itt_entry_size = 7; }},
      {"cache_entries 3", [](vgic_config& c) { c.its[0].cache_entries = 3; }},
      {"max_host_memory below 1 MiB", [](vgic_config& c) { c.max_host_memory = 4096; }},
      {"error_policy 2", [](vgic_config& c) { c.its[0].error_policy = 2; }},
  };
  return cases;
}

TEST(CApiCreate, RejectsEveryBadConfigurationWithAMessage) {
  for (const ConfigCase& c : bad_configs()) {
    SCOPED_TRACE(c.what);
    const vgic_config cfg = build(c);
    char err[256];
    std::memset(err, 'X', sizeof err);
    vgic* g = vgic_create(&cfg, err, sizeof err);
    EXPECT_EQ(g, nullptr);
    vgic_destroy(g);
    EXPECT_NE(std::memchr(err, '\0', sizeof err), nullptr);
    EXPECT_GT(std::strlen(err), 0u);
    EXPECT_GT(std::strlen(vgic_last_error()), 0u);
  }
}

// Counts are checked before vgic reads or allocates anything from them: an nr_cpus beyond the
// limit with a short mpidr array is not read past its end (ASan would report it), an absurd
// nr_its is not allocated; the message names the field.
TEST(CApiCreate, CountsAreCheckedBeforeUse) {
  const uint64_t mpidr[2] = {0, 1};
  struct Case {
    const char* field;
    std::function<void(vgic_config&)> tweak;
  } cases[] = {{"nr_cpus", [&](vgic_config& c) { c.nr_cpus = 600; c.mpidr = mpidr; }},
               {"nr_cpus", [&](vgic_config& c) { c.nr_cpus = 0xFFFFFFFFu; c.mpidr = mpidr; }},
               {"nr_its", [](vgic_config& c) { c.nr_its = 0xFFFFFFFFu; }},
               {"error_policy", [](vgic_config& c) { c.its[0].error_policy = -1; }}};
  for (const Case& k : cases) {
    SCOPED_TRACE(k.field);
    vgic_config cfg;
    vgic_config_init(&cfg);
    k.tweak(cfg);
    char err[256];
    std::memset(err, 'X', sizeof err);
    EXPECT_EQ(vgic_create(&cfg, err, sizeof err), nullptr);
    ASSERT_NE(std::memchr(err, '\0', sizeof err), nullptr);
    EXPECT_NE(std::string(err).find(k.field), std::string::npos) << err;
  }
}

TEST(CApiCreate, ErrorBufferHandling) {
  ConfigCase c{"", [](vgic_config& k) { k.nr_cpus = 0; }};
  const vgic_config cfg = build(c);
  char small[8];
  std::memset(small, 'X', sizeof small);
  EXPECT_EQ(vgic_create(&cfg, small, sizeof small), nullptr);
  EXPECT_EQ(std::strlen(small), sizeof small - 1);  // truncated, NUL-terminated
  char untouched[4] = {'X', 'X', 'X', 'X'};
  EXPECT_EQ(vgic_create(&cfg, untouched, 0), nullptr);  // err_len 0: nothing written
  EXPECT_EQ(untouched[0], 'X');
  EXPECT_EQ(vgic_create(&cfg, nullptr, 100), nullptr);
  char err[64];
  EXPECT_EQ(vgic_create(nullptr, err, sizeof err), nullptr);
  EXPECT_GT(std::strlen(err), 0u);
}

TEST(CApiCreate, AcceptsTheBoundaries) {
  const std::vector<ConfigCase> good = {
      {"defaults", [](vgic_config&) {}},
      {"nr_cpus 512", [](vgic_config& c) { c.nr_cpus = VGIC_MAX_CPUS; }},
      {"nr_spis 0", [](vgic_config& c) { c.nr_spis = 0; }},
      {"nr_spis 960, nr_espis 1024, nr_eppis 64", [](vgic_config& c) { c.nr_spis = 960; c.nr_espis = 1024; c.nr_eppis = 64; }},
      {"priority_bits 8", [](vgic_config& c) { c.priority_bits = 8; }},
      {"Aff0 > 15 with rss", [](vgic_config& c) { c.nr_cpus = 2; c.rss = 1; }, {0x0, 0x10}},
      {"gicd right after the redistributors", [](vgic_config& c) { c.gicd_base = c.gicr_base + 0x20000; }},
      {"redistributors right after gicd", [](vgic_config& c) { c.gicr_base = c.gicd_base + 0x10000; }},
  };
  for (const ConfigCase& c : good) {
    SCOPED_TRACE(c.what);
    const vgic_config cfg = build(c);
    char err[256] = "";
    vgic* g = vgic_create(&cfg, err, sizeof err);
    EXPECT_NE(g, nullptr) << err;
    vgic_destroy(g);
  }
}

TEST(CApiConfig, DefaultsAreTheDocumentedOnes) {
  vgic_config c;
  std::memset(&c, 0xA5, sizeof c);
  vgic_config_init(&c);
  EXPECT_EQ(c.nr_cpus, 1u);
  EXPECT_EQ(c.mpidr, nullptr);
  EXPECT_EQ(c.nr_spis, 256u);
  EXPECT_EQ(c.nr_espis, 0u);
  EXPECT_EQ(c.nr_eppis, 0u);
  EXPECT_EQ(c.priority_bits, 5u);
  EXPECT_EQ(c.mbis, 1);
  EXPECT_EQ(c.no1n, 0);
  EXPECT_EQ(c.rss, 0);
  EXPECT_EQ(c.gicd_base, 0x08000000u);
  EXPECT_EQ(c.gicr_base, 0x080A0000u);
  vgic_config_init(nullptr);  // no crash
}

// --- MMIO host errors ---------------------------------------------------------------------------

TEST(CApiMmio, BadSizesAreHostErrors) {
  Guest g(Guest::config(1));
  const uint64_t gpa = g.cfg().gicd_base + gicd::CTLR;
  for (unsigned size : {0u, 3u, 5u, 6u, 7u, 16u}) {
    in_fresh_thread([&] {
      uint64_t v = 0x1234;
      EXPECT_EQ(vgic_mmio_read(g.gic(), gpa, size, &v), VGIC_EINVAL) << size;
      EXPECT_GT(std::strlen(vgic_last_error()), 0u);
    });
    in_fresh_thread([&] {
      EXPECT_EQ(vgic_mmio_write(g.gic(), gpa, size, 0x3), VGIC_EINVAL) << size;
      EXPECT_GT(std::strlen(vgic_last_error()), 0u);
    });
  }
  EXPECT_EQ(g.gicd_read(gicd::CTLR), 0x50u);  // nothing written
  EXPECT_EQ(g.guest_errors(), 0u);            // a host error is not the guest's
}

// No exception unwinds into a C caller: one thrown inside a call (here by a C++ trace sink that
// runs out of memory) becomes VGIC_ENOMEM with a message, and the GIC stays usable.
TEST(CApiMmio, AnExceptionInsideACallBecomesEnomem) {
  Guest g(Guest::config(1));
  const uint64_t reserved = g.cfg().gicd_base + 0x14;
  vgic_set_trace_sink(g.gic(), [](void*, const vgic_trace_event*) { throw std::bad_alloc(); }, nullptr, 100);
  in_fresh_thread([&] {
    uint64_t v = 0;
    EXPECT_EQ(vgic_mmio_read(g.gic(), reserved, 4, &v), VGIC_ENOMEM);
    EXPECT_STREQ(vgic_last_error(), "vgic_mmio_read: host out of memory");
  });
  vgic_set_trace_sink(g.gic(), nullptr, nullptr, 0);
  uint64_t v = 1;
  EXPECT_EQ(vgic_mmio_read(g.gic(), reserved, 4, &v), 0) << "the locks the call held were released";
  EXPECT_EQ(v, 0u);
  EXPECT_EQ(vgic_mmio_write(g.gic(), g.cfg().gicd_base + gicd::CTLR, 4, 0x2), 0);
  EXPECT_EQ(g.gicd_read(gicd::CTLR) & 0x2, 0x2u);
}

TEST(CApiMmio, AddressesOutsideEveryFrame) {
  vgic_config cfg = Guest::config(2);
  cfg.gicr_base = 0x10000000;  // away from every other frame, so that gicr_base - 4 is in none
  Guest g(cfg);
  const vgic_config& c = g.cfg();
  const uint64_t outside[] = {0,
                              c.gicd_base - 4,
                              c.gicd_base + 0x10000,
                              c.gicr_base - 4,
                              c.gicr_base + 2 * 0x20000,
                              ~0ull - 3};
  for (uint64_t gpa : outside) {
    uint64_t v = 0;
    EXPECT_EQ(vgic_mmio_read(g.gic(), gpa, 4, &v), VGIC_ENXIO) << std::hex << gpa;
    EXPECT_EQ(vgic_mmio_write(g.gic(), gpa, 4, 0), VGIC_ENXIO) << std::hex << gpa;
  }
  // The last word of each frame is ours.
  uint64_t v = 0;
  EXPECT_EQ(vgic_mmio_read(g.gic(), c.gicd_base + 0xFFFC, 4, &v), 0);
  EXPECT_EQ(v, 0xB1u);  // GICD_CIDR3
  EXPECT_EQ(vgic_mmio_read(g.gic(), c.gicr_base + 2 * 0x20000 - 4, 4, &v), 0);
  EXPECT_EQ(g.guest_errors(), 0u);
}

// --- System registers ---------------------------------------------------------------------------

TEST(CApiSysreg, CpuOutOfRangeAndUnknownEncodings) {
  Guest g(Guest::config(2));
  uint64_t v = 0;
  for (unsigned cpu : {2u, 100u, ~0u}) {
    EXPECT_EQ(vgic_sysreg_read(g.gic(), cpu, icc::PMR, &v), VGIC_EINVAL);
    EXPECT_EQ(vgic_sysreg_write(g.gic(), cpu, icc::PMR, 0xFF), VGIC_EINVAL);
  }
  const uint32_t not_gic[] = {VGIC_SYSREG(3, 0, 0, 0, 0) /* MIDR_EL1 */, VGIC_SYSREG(3, 0, 1, 0, 0) /* SCTLR_EL1 */,
                              0xFFFFFFFFu, 0};
  for (uint32_t enc : not_gic) {
    EXPECT_EQ(vgic_sysreg_read(g.gic(), 0, enc, &v), VGIC_ENXIO) << std::hex << enc;
    EXPECT_EQ(vgic_sysreg_write(g.gic(), 0, enc, 0), VGIC_ENXIO) << std::hex << enc;
    EXPECT_GT(std::strlen(vgic_last_error()), 0u);
  }
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(CApiSysreg, WrongDirectionIsUndefined) {
  Guest g(Guest::config(1));
  uint64_t v = 0;
  // Read-only registers written and write-only registers read (IHI0069 12.2): UNDEFINED, which is
  // reported as VGIC_SYSREG_UNDEFINED (not a host error) and counted as a guest error.
  for (uint32_t ro : {icc::IAR1, icc::IAR0, icc::HPPIR1, icc::HPPIR0, icc::RPR})
    EXPECT_EQ(vgic_sysreg_write(g.gic(), 0, ro, 0), VGIC_SYSREG_UNDEFINED) << std::hex << ro;
  for (uint32_t wo : {icc::EOIR1, icc::EOIR0, icc::DIR, icc::SGI1R, icc::SGI0R, icc::ASGI1R})
    EXPECT_EQ(vgic_sysreg_read(g.gic(), 0, wo, &v), VGIC_SYSREG_UNDEFINED) << std::hex << wo;
  EXPECT_EQ(g.guest_errors(), 11u);
  EXPECT_EQ(vgic_sysreg_read(g.gic(), 0, icc::PMR, &v), 0);
}

// --- NULL handles and pointers ------------------------------------------------------------------

TEST(CApiNull, NullHandle) {
  uint64_t v = 0;
  vgic_stats s{};
  uint8_t ram[16];
  EXPECT_EQ(vgic_mmio_read(nullptr, 0, 4, &v), VGIC_EINVAL);
  EXPECT_EQ(vgic_mmio_write(nullptr, 0, 4, 0), VGIC_EINVAL);
  EXPECT_EQ(vgic_sysreg_read(nullptr, 0, icc::PMR, &v), VGIC_EINVAL);
  EXPECT_EQ(vgic_sysreg_write(nullptr, 0, icc::PMR, 0), VGIC_EINVAL);
  EXPECT_EQ(vgic_set_irq_level(nullptr, 0, 40, 1), VGIC_EINVAL);
  EXPECT_EQ(vgic_cpu_lines(nullptr, 0), VGIC_EINVAL);
  EXPECT_EQ(vgic_get_stats(nullptr, &s), VGIC_EINVAL);
  EXPECT_EQ(vgic_map_ram(nullptr, 0, sizeof ram, ram), VGIC_EINVAL);
  EXPECT_EQ(vgic_unmap_ram(nullptr, 0), VGIC_EINVAL);
  EXPECT_GT(std::strlen(vgic_last_error()), 0u);
  // Every other entry point that takes the handle.
  size_t len = 0;
  uint32_t u = 0;
  const vgic_ack_fn ack = [](void*, unsigned, uint32_t) {};
  const std::vector<std::pair<const char*, std::function<int()>>> calls = {
      {"signal_msi", [] { return vgic_signal_msi(nullptr, 0, 0, 0); }},
      {"set_gsi_routing", [] { return vgic_set_gsi_routing(nullptr, nullptr, 0); }},
      {"set_gsi_level", [] { return vgic_set_gsi_level(nullptr, 0, 1); }},
      {"irqfd_assign", [] { return vgic_irqfd_assign(nullptr, -1, 0, -1); }},
      {"irqfd_deassign", [] { return vgic_irqfd_deassign(nullptr, -1, 0); }},
      {"irqfd_start_thread", [] { return vgic_irqfd_start_thread(nullptr); }},
      {"irqfd_poll_fd", [] { return vgic_irqfd_poll_fd(nullptr); }},
      {"irqfd_dispatch", [] { return vgic_irqfd_dispatch(nullptr); }},
      {"register_ack_notifier", [&] { return vgic_register_ack_notifier(nullptr, 0, 40, ack, nullptr); }},
      {"unregister_ack_notifier", [] { return vgic_unregister_ack_notifier(nullptr, 1); }},
      {"sync_device_irq_level", [] { return vgic_sync_device_irq_level(nullptr, 0, 1); }},
      {"set_device_irq_map", [] { return vgic_set_device_irq_map(nullptr, 0, 27, 0); }},
      {"get_attr", [&] { return vgic_get_attr(nullptr, VGIC_DEV_GRP_DIST_REGS, 0, &u); }},
      {"set_attr", [&] { return vgic_set_attr(nullptr, VGIC_DEV_GRP_DIST_REGS, 0, &u); }},
      {"has_attr", [] { return vgic_has_attr(nullptr, VGIC_DEV_GRP_DIST_REGS, 0, nullptr); }},
      {"its_get_attr", [&] { return vgic_its_get_attr(nullptr, 0, VGIC_DEV_GRP_ITS_REGS, 0, &v); }},
      {"its_set_attr", [&] { return vgic_its_set_attr(nullptr, 0, VGIC_DEV_GRP_ITS_REGS, 0, &v); }},
      {"its_has_attr", [] { return vgic_its_has_attr(nullptr, 0, VGIC_DEV_GRP_ITS_REGS, 0, nullptr); }},
      {"vcpu_running", [] { return vgic_vcpu_running(nullptr, 0, 1); }},
      {"save", [&] { return vgic_save(nullptr, nullptr, &len); }},
      {"restore", [&] { return vgic_restore(nullptr, ram, sizeof ram); }},
  };
  for (const auto& [name, call] : calls) {
    SCOPED_TRACE(name);
    in_fresh_thread([&] {
      EXPECT_EQ(call(), VGIC_EINVAL) << name;
      EXPECT_NE(std::string(vgic_last_error()).find("NULL"), std::string::npos) << name << ": " << vgic_last_error();
    });
  }
  vgic_set_line_notifier(nullptr, nullptr, nullptr);
  vgic_set_trace_sink(nullptr, nullptr, nullptr, 0);
  vgic_destroy(nullptr);
}

// A "has" query that finds nothing sets the message too (every host error does).
TEST(CApiAttr, HasQueriesThatFailExplainWhy) {
  Guest g(Guest::config(1));
  const std::vector<std::pair<const char*, std::function<int()>>> calls = {
      {"dist", [&] { return vgic_has_attr(g.gic(), VGIC_DEV_GRP_DIST_REGS, 0xE000, nullptr); }},
      {"redist", [&] { return vgic_has_attr(g.gic(), VGIC_DEV_GRP_REDIST_REGS, 0x100, nullptr); }},
      {"sysregs", [&] { return vgic_has_attr(g.gic(), VGIC_DEV_GRP_CPU_SYSREGS, 0x1234, nullptr); }},
      {"its regs", [&] { return vgic_its_has_attr(g.gic(), 0, VGIC_DEV_GRP_ITS_REGS, 0x1000, nullptr); }},
  };
  for (const auto& [name, call] : calls) {
    SCOPED_TRACE(name);
    in_fresh_thread([&] {
      EXPECT_EQ(call(), VGIC_ENXIO) << name;
      EXPECT_GT(std::strlen(vgic_last_error()), 0u) << name;
    });
  }
}

TEST(CApiNull, NullOutputPointers) {
  Guest g(Guest::config(1));
  EXPECT_EQ(vgic_mmio_read(g.gic(), g.cfg().gicd_base, 4, nullptr), VGIC_EFAULT);
  EXPECT_EQ(vgic_sysreg_read(g.gic(), 0, icc::PMR, nullptr), VGIC_EFAULT);
  EXPECT_EQ(vgic_get_stats(g.gic(), nullptr), VGIC_EFAULT);
  EXPECT_EQ(vgic_map_ram(g.gic(), 0x40000000, 0x1000, nullptr), VGIC_EINVAL);
  // Removing callbacks that were never installed is fine.
  vgic_set_line_notifier(g.gic(), nullptr, nullptr);
  vgic_set_trace_sink(g.gic(), nullptr, nullptr, 0);
  EXPECT_EQ(g.guest_errors(), 0u);
}

TEST(CApiRam, MapAndUnmapErrors) {
  Guest g(Guest::config(1));
  static uint8_t ram[0x2000];
  EXPECT_EQ(vgic_map_ram(g.gic(), 0x40000000, 0, ram), VGIC_EINVAL);
  EXPECT_EQ(vgic_map_ram(g.gic(), ~0ull - 0xFFF, 0x2000, ram), VGIC_EINVAL);
  ASSERT_EQ(vgic_map_ram(g.gic(), 0x40000000, 0x1000, ram), 0);
  EXPECT_EQ(vgic_map_ram(g.gic(), 0x40000800, 0x1000, ram + 0x1000), VGIC_EEXIST);
  EXPECT_EQ(vgic_map_ram(g.gic(), 0x40001000, 0x1000, ram + 0x1000), 0);
  EXPECT_EQ(vgic_unmap_ram(g.gic(), 0x40000800), VGIC_ENOENT);
  EXPECT_EQ(vgic_unmap_ram(g.gic(), 0x40000000), 0);
  EXPECT_EQ(vgic_unmap_ram(g.gic(), 0x40000000), VGIC_ENOENT);
  EXPECT_GT(std::strlen(vgic_last_error()), 0u);
}

// --- Input lines --------------------------------------------------------------------------------

TEST(CApiLines, OnlyConfiguredPpisAndSpisHaveLines) {
  vgic_config cfg = Guest::config(2);
  cfg.nr_spis = 64;  // SPIs 32..95; no extended SPIs or PPIs
  Guest g(cfg);
  const uint32_t no_line[] = {0, 15, 96, 1019, 1020, 1023, 1024, 1055, 1056, 1120, 4096, 5119, 8192, 0xFFFFFFFF};
  for (uint32_t intid : no_line) {
    in_fresh_thread([&] {
      EXPECT_EQ(vgic_set_irq_level(g.gic(), 0, intid, 1), VGIC_EINVAL) << intid;
      EXPECT_GT(std::strlen(vgic_last_error()), 0u);
    });
  }
  EXPECT_EQ(vgic_set_irq_level(g.gic(), 2, 16, 1), VGIC_EINVAL);  // PPI of a CPU that does not exist
  EXPECT_EQ(vgic_set_irq_level(g.gic(), 1, 16, 1), 0);
  EXPECT_EQ(vgic_set_irq_level(g.gic(), 1, 31, 0), 0);
  EXPECT_EQ(vgic_set_irq_level(g.gic(), 0, 32, 1), 0);
  EXPECT_EQ(vgic_set_irq_level(g.gic(), 0, 95, 1), 0);
  EXPECT_EQ(vgic_set_irq_level(g.gic(), 12345, 40, 1), 0);  // cpu is ignored for SPIs
  EXPECT_TRUE(g.is_pending(40));
  EXPECT_EQ(g.guest_errors(), 0u);
  EXPECT_EQ(vgic_cpu_lines(g.gic(), 2), VGIC_EINVAL);
  EXPECT_GE(vgic_cpu_lines(g.gic(), 1), 0);
}

// --- Error strings ------------------------------------------------------------------------------

TEST(CApiStrerror, EveryCodeHasItsOwnMessage) {
  const int codes[] = {VGIC_OK,     VGIC_SYSREG_UNDEFINED, VGIC_EPERM,  VGIC_ENOENT, VGIC_ENXIO,
                       VGIC_ENOMEM, VGIC_EFAULT,           VGIC_EBUSY,  VGIC_EEXIST, VGIC_ENODEV,
                       VGIC_EINVAL, VGIC_ENOSPC,           VGIC_ERANGE, VGIC_ENOSYS};
  const std::string unknown = vgic_strerror(-9999);
  EXPECT_FALSE(unknown.empty());
  std::set<std::string> seen;
  for (int c : codes) {
    const char* s = vgic_strerror(c);
    ASSERT_NE(s, nullptr) << c;
    EXPECT_GT(std::strlen(s), 0u) << c;
    EXPECT_NE(s, unknown) << c;
    EXPECT_TRUE(seen.insert(s).second) << "duplicate message for " << c;
  }
  EXPECT_EQ(std::string(vgic_strerror(12345)), unknown);
}

TEST(CApiLastError, IsPerThread) {
  Guest g(Guest::config(1));
  uint64_t v;
  ASSERT_EQ(vgic_mmio_read(g.gic(), 0, 4, &v), VGIC_ENXIO);
  const std::string here = vgic_last_error();
  EXPECT_FALSE(here.empty());
  in_fresh_thread([&] { EXPECT_EQ(vgic_cpu_lines(g.gic(), 9), VGIC_EINVAL); });
  EXPECT_EQ(std::string(vgic_last_error()), here);  // the other thread's error did not replace ours
}

}  // namespace
