// The KVM device-attribute API (vgic_{get,set,has}_attr, vgic_its_*_attr) against Linux KVM's
// contract (Documentation/virt/kvm/devices/arm-vgic-v3.rst and arm-vgic-its.rst): groups, value
// sizes, error codes, and a full save of a configured guest restored into a fresh vgic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "support/guest.hpp"
#include "support/guest_ram.hpp"
#include "support/its_driver.hpp"
#include "support/kvm_attr.hpp"

using namespace test;
using namespace test::kvm_attr;

namespace {

constexpr uint32_t DIST = VGIC_DEV_GRP_DIST_REGS, REDIST = VGIC_DEV_GRP_REDIST_REGS, SYSREGS = VGIC_DEV_GRP_CPU_SYSREGS;
constexpr uint32_t LEVEL = VGIC_DEV_GRP_LEVEL_INFO, CTRL = VGIC_DEV_GRP_CTRL, ITS_REGS = VGIC_DEV_GRP_ITS_REGS;
constexpr uint32_t ADDR = VGIC_DEV_GRP_ADDR, NR_IRQS = VGIC_DEV_GRP_NR_IRQS;
constexpr uint32_t SGI = gicr::SGI;
constexpr uint64_t kRam = 0x40000000, kRamSize = 4ull << 20;
constexpr uint32_t GITS_CTLR = 0x0, GITS_IIDR = 0x4, GITS_TYPER = 0x8, GITS_CBASER = 0x80, GITS_CWRITER = 0x88;
constexpr uint32_t GITS_CREADR = 0x90, GITS_BASER = 0x100;

// Two CPUs, 64 SPIs, extended SPI/PPI ranges, 6 priority bits (AP<n>R0..1), DirectLPI, one ITS.
vgic_config config(unsigned nr_cpus = 2) {
  vgic_config c = Guest::config(nr_cpus);
  c.nr_spis = 64;
  c.nr_espis = 32;
  c.nr_eppis = 32;
  c.priority_bits = 6;
  c.direct_lpi = 1;
  return c;
}

uint64_t mp(const Guest& g, unsigned cpu) { return mpidr_attr(g, cpu); }  // shorthand

struct Lcg {  // deterministic register patterns
  uint64_t s;
  uint32_t next() { return uint32_t((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 32); }
};

// A run of 32-bit attributes: DIST/REDIST registers (off + 4 * i), or LEVEL_INFO blocks
// (INTID off + 32 * i).
struct Range { const char* name; uint32_t group, off, words; };
uint64_t range_attr(const Guest& g, unsigned cpu, const Range& r, uint32_t i) {
  if (r.group == LEVEL) return level_attr(g, cpu, r.off + 32 * i);
  return (r.group == REDIST ? mp(g, cpu) : 0) | (r.off + 4 * i);
}

// Restore order (QEMU's kvm_arm_gicv3_put, the KVM order): GICD_CTLR, then every redistributor
// (configuration, line levels, pending, active, priorities, enables; GICR_CTLR last as it may
// enable LPIs), then the rest of the distributor in the same order.
constexpr Range kDistCtlr{"GICD_CTLR", DIST, 0x0, 1};
constexpr Range kRedistState[] = {
    {"GICR_IGROUPR0/E", REDIST, SGI + 0x80, 3},       {"GICR_ICFGR0/1/E", REDIST, SGI + 0xC00, 6},
    {"LEVEL_INFO PPIs", LEVEL, 0, 1},                 {"GICR_ISPENDR0/E", REDIST, SGI + 0x200, 3},
    {"GICR_ISACTIVER0/E", REDIST, SGI + 0x300, 3},    {"GICR_IPRIORITYR/E", REDIST, SGI + 0x400, 24},
    {"GICR_ISENABLER0/E", REDIST, SGI + 0x100, 3},    {"GICR_WAKER", REDIST, 0x14, 1},
    {"GICR_PROPBASER (lo, hi)", REDIST, 0x70, 2},     {"GICR_PENDBASER (lo, hi)", REDIST, 0x78, 2},
    {"GICR_CTLR", REDIST, 0x0, 1},
};
constexpr Range kDistState[] = {
    {"GICD_IGROUPR", DIST, 0x80, 32},           {"GICD_IGROUPRE", DIST, 0x1000, 32},
    {"GICD_IROUTER (lo, hi)", DIST, 0x6100, 988 * 2}, {"GICD_IROUTERE (lo, hi)", DIST, 0x8000, 1024 * 2},
    {"GICD_ICFGR", DIST, 0xC00, 64},            {"GICD_ICFGRE", DIST, 0x3000, 64},
    {"LEVEL_INFO SPIs", LEVEL, 32, 2},          {"GICD_ISPENDR", DIST, 0x200, 32},
    {"GICD_ISPENDRE", DIST, 0x1600, 32},        {"GICD_ISACTIVER", DIST, 0x300, 32},
    {"GICD_ISACTIVERE", DIST, 0x1A00, 32},      {"GICD_IPRIORITYR", DIST, 0x400, 255},
    {"GICD_IPRIORITYRE", DIST, 0x2000, 256},    {"GICD_ISENABLER", DIST, 0x100, 32},
    {"GICD_ISENABLERE", DIST, 0x1200, 32},
};
struct Sysreg { const char* name; uint32_t enc; };
// The CPU interface state, in QEMU's restore order. AP<n>R1 exist with 6 priority bits.
constexpr Sysreg kSysState[] = {
    {"ICC_SRE_EL1", icc::SRE},         {"ICC_CTLR_EL1", icc::CTLR},       {"ICC_IGRPEN0_EL1", icc::IGRPEN0},
    {"ICC_IGRPEN1_EL1", icc::IGRPEN1}, {"ICC_PMR_EL1", icc::PMR},         {"ICC_BPR0_EL1", icc::BPR0},
    {"ICC_BPR1_EL1", icc::BPR1},       {"ICC_AP0R0_EL1", icc::AP0R0},     {"ICC_AP0R1_EL1", icc::AP0R0 + 1},
    {"ICC_AP1R0_EL1", icc::AP1R0},     {"ICC_AP1R1_EL1", icc::AP1R0 + 1},
};
// Device lines held high in the saved guest: (cpu, INTID), all level-sensitive.
constexpr std::pair<unsigned, uint32_t> kLines[] = {{0, 33}, {0, 47}, {0, 63}, {0, 70}, {0, 95},
                                                    {0, 20}, {0, 23}, {1, 27}, {1, 30}};
constexpr uint32_t kLpi = 8197;

// Non-default state in every register, written the way a guest (and its devices) would.
void configure(Guest& g, GuestRam& ram, ItsDriver& its) {
  Lcg r{1};
  g.gicd_write(gicd::CTLR, 2);  // Group 1 only
  for (const Range& s : kDistState) {
    if (s.group != DIST) continue;
    const bool irouter = s.off == 0x6100 || s.off == 0x8000;
    for (uint32_t i = 0; i < s.words; ++i)  // IROUTER: Aff0 0/1, IRM random; Aff3 = 1 (no CPU) now and then
      g.gicd_write(s.off + 4 * i, !irouter ? r.next() : i % 2 ? uint32_t(r.next() % 8 == 0) : r.next() & 0x80000001);
  }
  for (unsigned cpu = 0; cpu < 2; ++cpu)
    for (const Range& s : kRedistState)
      if (s.group == REDIST && s.off >= SGI)
        for (uint32_t i = 0; i < s.words; ++i) g.gicr_write(cpu, s.off + 4 * i, r.next());
  for (auto [cpu, intid] : kLines) {  // level, latch clear: pending only through the line
    g.set_edge(intid, false, cpu);
    g.clear_pending(intid, cpu);
    g.line(intid, true, cpu);
  }
  g.wake(0);
  g.wake(1);
  g.icc_write(0, icc::CTLR, g.icc_read(0, icc::CTLR) | 2);  // EOImode 1
  g.icc_write(1, icc::CTLR, g.icc_read(1, icc::CTLR) | 1);  // CBPR
  const uint64_t sys[2][9] = {{0xa8, 3, 5, 1, 1, 0, 0x80000000, 0, 1},  // PMR BPR0 BPR1 IGRPEN0/1 AP0R0/1 AP1R0/1
                               {0xf0, 4, 0, 0, 1, 0x80000000, 0, 0x40000000, 0}};
  for (unsigned cpu = 0; cpu < 2; ++cpu) {
    const uint32_t enc[] = {icc::PMR, icc::BPR0, icc::BPR1, icc::IGRPEN0, icc::IGRPEN1,
                            icc::AP0R0, icc::AP0R0 + 1, icc::AP1R0, icc::AP1R0 + 1};
    for (unsigned i = 0; i < 9; ++i)
      if (!(cpu == 1 && enc[i] == icc::BPR1)) g.icc_write(cpu, enc[i], sys[cpu][i]);
  }
  // LPIs on CPU 0 (one pending through the ITS); CPU 1 has its tables programmed but LPIs off.
  its.init();
  its.enable_lpis(0);
  g.gicr_write(1, 0x70, its.prop_table() | 1ull << 56 | 7u << 7 | 1u << 10 | 15, 8);
  g.gicr_write(1, 0x78, ram.alloc(8192, 65536) | 2ull << 56 | 1u << 10, 8);
  its.mapd(1, 4);
  its.mapc(0, 0);
  its.mapti(1, 0, kLpi, 0);
  its.lpi_config(kLpi, 0x20, true);
  its.inv(1, 0);
  ASSERT_EQ(its.msi(1, 0), 1);
}

// Copies one range from a to b; counts the words that differ from b's value before (reset values).
void copy(const Guest& a, const Guest& b, unsigned cpu, const Range& r, unsigned& changed) {
  for (uint32_t i = 0; i < r.words; ++i) {
    const uint64_t attr = range_attr(a, cpu, r, i);
    uint32_t v = 0, old = 0;
    ASSERT_EQ(get32(a, r.group, attr, v), 0) << r.name << " " << i;
    ASSERT_EQ(get32(b, r.group, attr, old), 0) << r.name << " " << i;
    changed += v != old;
    ASSERT_EQ(set32(b, r.group, attr, v), 0) << r.name << " " << i << ": " << vgic_last_error();
  }
}

// Every 32-bit offset of a frame (DIST, cpu's REDIST, or ITS 0): served by both or neither; the
// same value through get_attr and through a guest read.
void expect_same_frame(Guest& a, Guest& b, uint32_t grp, unsigned cpu = 0) {
  const uint32_t bytes = grp == REDIST ? 0x20000 : 0x10000;
  unsigned served = 0;
  for (uint32_t off = 0; off < bytes; off += 4) {
    SCOPED_TRACE(testing::Message() << "group " << grp << " cpu " << cpu << " offset 0x" << std::hex << off);
    const uint64_t attr = (grp == REDIST ? mp(a, cpu) : 0) | off;
    auto has = [&](Guest& g) {
      return grp == ITS_REGS ? vgic_its_has_attr(g.gic(), 0, grp, attr, nullptr) : vgic_has_attr(g.gic(), grp, attr, nullptr);
    };
    auto get = [&](Guest& g) { return grp == ITS_REGS ? its_val(g, off) : val32(g, grp, attr); };
    auto mmio = [&](Guest& g) {
      uint64_t v = 0;
      const uint64_t base = grp == DIST       ? g.cfg().gicd_base
                            : grp == ITS_REGS ? g.cfg().its[0].base
                                              : g.cfg().gicr_base + cpu * 0x20000ull;
      EXPECT_EQ(vgic_mmio_read(g.gic(), base + off, 4, &v), 0);
      return v;
    };
    const int h = has(b);
    ASSERT_EQ(h, has(a));
    if (h != 0) {
      // KVM's ITS group: an offset inside a 64-bit register is EINVAL, not ENXIO.
      const bool inside_64 = grp == ITS_REGS && off % 8 != 0 && off >= GITS_TYPER && off < 0xFFD0;
      ASSERT_EQ(h, inside_64 ? VGIC_EINVAL : VGIC_ENXIO);
      continue;
    }
    ++served;
    EXPECT_EQ(get(a), get(b));
    EXPECT_EQ(mmio(a), mmio(b));
  }
  EXPECT_GT(served, grp == ITS_REGS ? 20u : 80u);
}

// Acknowledges and completes everything deliverable on cpu, as a guest would.
std::vector<uint32_t> drain(Guest& g, unsigned cpu) {
  std::vector<uint32_t> seq;
  const bool eoimode = g.icc_read(cpu, icc::CTLR) & 2;
  for (int n = 0; n < 512; ++n) {
    uint32_t id = g.ack1(cpu);
    if (id != kSpurious) {
      g.eoi1(cpu, id);
    } else if ((id = g.ack0(cpu)) != kSpurious) {
      g.eoi0(cpu, id);
    } else {
      break;
    }
    if (eoimode) g.dir(cpu, id);
    seq.push_back(id);
  }
  return seq;
}

uint8_t pending_bit(GuestRam& ram, uint64_t table, uint32_t intid) { return (ram.read8(table + intid / 8) >> (intid % 8)) & 1; }

// --- Save a configured guest, restore it into a fresh vgic, compare everything ---------------------

TEST(KvmDeviceSaveRestore, EveryGicdGicrAndCpuInterfaceRegisterRoundTrips) {
  Guest a(config()), b(config());
  GuestRam ram_a(a.gic(), kRam, kRamSize), ram_b(b.gic(), kRam, kRamSize);
  ItsDriver its(a, ram_a);
  ASSERT_NO_FATAL_FAILURE(configure(a, ram_a, its));
  ASSERT_EQ(vgic_set_attr(a.gic(), CTRL, VGIC_CTRL_SAVE_PENDING_TABLES, nullptr), 0) << vgic_last_error();
  std::memcpy(ram_b.host(kRam), ram_a.host(kRam), kRamSize);  // guest RAM travels with the VM

  unsigned changed = 0;
  ASSERT_NO_FATAL_FAILURE(copy(a, b, 0, kDistCtlr, changed));
  EXPECT_EQ(changed, 1u);
  std::vector<unsigned> redist_changed(std::size(kRedistState));
  for (unsigned cpu = 0; cpu < 2; ++cpu)
    for (size_t i = 0; i < std::size(kRedistState); ++i)
      ASSERT_NO_FATAL_FAILURE(copy(a, b, cpu, kRedistState[i], redist_changed[i]));
  for (const Range& r : kDistState) {
    unsigned n = 0;
    ASSERT_NO_FATAL_FAILURE(copy(a, b, 0, r, n));
    EXPECT_GT(n, 0u) << r.name << " kept its reset value: the test does not exercise it";
  }
  for (size_t i = 0; i < std::size(kRedistState); ++i)
    EXPECT_GT(redist_changed[i], 0u) << kRedistState[i].name << " kept its reset value on both CPUs";
  for (const Sysreg& s : kSysState) {
    unsigned n = 0;
    for (unsigned cpu = 0; cpu < 2; ++cpu) {
      const uint64_t v = val64(a, SYSREGS, mp(a, cpu) | s.enc);
      n += v != val64(b, SYSREGS, mp(b, cpu) | s.enc);
      EXPECT_EQ(set64(b, SYSREGS, mp(b, cpu) | s.enc, v), 0) << s.name << " cpu " << cpu << ": " << vgic_last_error();
    }
    EXPECT_TRUE(n > 0 || s.enc == icc::SRE) << s.name << " kept its reset value on both CPUs";
  }

  // Every register of both, through the attribute API and through guest MMIO.
  expect_same_frame(a, b, DIST);
  for (unsigned cpu = 0; cpu < 2; ++cpu) {
    SCOPED_TRACE(cpu);
    expect_same_frame(a, b, REDIST, cpu);
    for (uint32_t base : {0u, 32u, 64u})
      EXPECT_EQ(val32(a, LEVEL, level_attr(a, cpu, base)), val32(b, LEVEL, level_attr(b, cpu, base))) << base;
    for (const Sysreg& s : kSysState) {
      EXPECT_EQ(val64(a, SYSREGS, mp(a, cpu) | s.enc), val64(b, SYSREGS, mp(b, cpu) | s.enc)) << s.name;
      EXPECT_EQ(a.icc_read(cpu, s.enc), b.icc_read(cpu, s.enc)) << s.name;
    }
    for (uint32_t enc : {icc::RPR, icc::HPPIR0, icc::HPPIR1}) EXPECT_EQ(a.icc_read(cpu, enc), b.icc_read(cpu, enc));
    EXPECT_EQ(a.lines(cpu), b.lines(cpu));
  }

  // The LPI pending in a is pending in b: b's own SAVE_PENDING_TABLES writes it back.
  ram_b.write8(its.pend_table(0) + kLpi / 8, 0);
  ASSERT_EQ(vgic_set_attr(b.gic(), CTRL, VGIC_CTRL_SAVE_PENDING_TABLES, nullptr), 0);
  EXPECT_EQ(pending_bit(ram_b, its.pend_table(0), kLpi), 1);

  // Devices lower their lines: what was pending only through a line is no longer pending in either
  // (ISPENDR carried the latch, not the line: arm-vgic-v3.rst).
  for (auto [cpu, intid] : kLines) {
    a.line(intid, false, cpu);
    b.line(intid, false, cpu);
    EXPECT_EQ(a.is_pending(intid, cpu), b.is_pending(intid, cpu)) << intid;
    EXPECT_FALSE(b.is_pending(intid, cpu)) << intid;
  }
  // The guest then takes the same interrupts in the same order on both.
  for (unsigned cpu = 0; cpu < 2; ++cpu) {
    const std::vector<uint32_t> sa = drain(a, cpu), sb = drain(b, cpu);
    EXPECT_EQ(sa, sb) << "cpu " << cpu;
    EXPECT_FALSE(sb.empty()) << "cpu " << cpu;
    EXPECT_EQ(std::count(sb.begin(), sb.end(), kLpi), cpu == 0 ? 1 : 0) << "cpu " << cpu;
  }
}

// --- CPU_SYSREGS -------------------------------------------------------------------------------------

TEST(KvmDeviceSysregs, OnlyStateRegistersAreServed) {
  Guest g(config());
  g.bring_up_all();
  g.setup(40, true, 0x40, true, 0);
  g.set_pending(40);
  const uint32_t not_state[] = {icc::IAR0,   icc::IAR1,      icc::EOIR0,     icc::EOIR1,     icc::HPPIR0,
                                icc::HPPIR1, icc::DIR,       icc::RPR,       icc::SGI0R,     icc::SGI1R,
                                icc::ASGI1R, icc::AP0R0 + 2, icc::AP0R0 + 3, icc::AP1R0 + 2, icc::AP1R0 + 3,
                                VGIC_SYSREG(3, 6, 12, 12, 7) /* ICC_IGRPEN1_EL3 */};
  for (uint32_t enc : not_state) {
    SCOPED_TRACE(enc);
    uint64_t v = 0;
    EXPECT_EQ(get64(g, SYSREGS, mp(g, 0) | enc, v), VGIC_ENXIO);
    EXPECT_EQ(set64(g, SYSREGS, mp(g, 0) | enc, 40), VGIC_ENXIO);
    EXPECT_EQ(vgic_has_attr(g.gic(), SYSREGS, mp(g, 0) | enc, nullptr), VGIC_ENXIO);
  }
  EXPECT_TRUE(g.is_pending(40));  // the IAR "reads" acknowledged nothing
  EXPECT_FALSE(g.is_active(40));
  for (const Sysreg& s : kSysState) EXPECT_EQ(vgic_has_attr(g.gic(), SYSREGS, mp(g, 1) | s.enc, nullptr), 0) << s.name;

  Guest five(Guest::config(1));  // 5 priority bits: AP<n>R0 only
  uint64_t v = 0;
  EXPECT_EQ(get64(five, SYSREGS, mp(five, 0) | icc::AP0R0, v), 0);
  EXPECT_EQ(get64(five, SYSREGS, mp(five, 0) | (icc::AP0R0 + 1), v), VGIC_ENXIO);
  EXPECT_EQ(set64(five, SYSREGS, mp(five, 0) | (icc::AP1R0 + 1), 0), VGIC_ENXIO);
}

TEST(KvmDeviceSysregs, CtlrAcceptsOnlyTheImplementedReadOnlyFields) {
  Guest g(config());
  const uint64_t attr = mp(g, 1) | icc::CTLR, ctlr = val64(g, SYSREGS, attr);
  EXPECT_EQ(set64(g, SYSREGS, attr, ctlr), 0);
  const struct { const char* field; uint64_t bits; } bad[] = {{"PRIbits", 1u << 8}, {"IDbits", 1u << 11},
                                                               {"SEIS", 1u << 14},   {"A3V", 1u << 15},
                                                               {"RSS", 1u << 18},    {"ExtRange", 1u << 19}};
  for (const auto& f : bad) EXPECT_EQ(set64(g, SYSREGS, attr, ctlr ^ f.bits), VGIC_EINVAL) << f.field;
  EXPECT_EQ(val64(g, SYSREGS, attr), ctlr);
  EXPECT_EQ(set64(g, SYSREGS, attr, ctlr | 3), 0);  // CBPR, EOImode are state
  EXPECT_EQ(val64(g, SYSREGS, attr), ctlr | 3);
  EXPECT_EQ(g.icc_read(1, icc::CTLR), ctlr | 3);
  EXPECT_EQ(g.icc_read(0, icc::CTLR), ctlr);  // another CPU's interface
}

TEST(KvmDeviceRegs, UnknownMpidrIsInvalid) {
  vgic_config c = config();
  const uint64_t mpidr[] = {0x0, 1ull << 32 | 0x010203};  // CPU 1: Aff3 1, Aff2 1, Aff1 2, Aff0 3
  c.mpidr = mpidr;
  Guest g(c);
  EXPECT_EQ(mp(g, 1), 0x01010203ull << 32);
  EXPECT_EQ(val32(g, REDIST, mp(g, 1) | 0xC), 0x01010203u);  // GICR_TYPER.Affinity of that CPU
  for (uint64_t m : {0x1ull << 32, 0x00010203ull << 32, 0x02010203ull << 32}) {
    uint32_t v32 = 0;
    uint64_t v64 = 0;
    EXPECT_EQ(get32(g, REDIST, m | 0x8, v32), VGIC_EINVAL);
    EXPECT_EQ(set32(g, REDIST, m | 0x14, 0), VGIC_EINVAL);
    EXPECT_EQ(vgic_has_attr(g.gic(), REDIST, m | 0x8, nullptr), VGIC_EINVAL);
    EXPECT_EQ(get64(g, SYSREGS, m | icc::PMR, v64), VGIC_EINVAL);
    EXPECT_EQ(set64(g, SYSREGS, m | icc::PMR, 0), VGIC_EINVAL);
    EXPECT_EQ(get32(g, LEVEL, m | 0, v32), VGIC_EINVAL);
  }
  EXPECT_EQ(val32(g, DIST, 1ull << 32 | 0x4), val32(g, DIST, 0x4));  // the MPIDR is ignored for GICD
}

// --- DIST_REGS / REDIST_REGS: read-only, write-only, reserved --------------------------------------

TEST(KvmDeviceRegs, ReadOnlyRegistersAcceptOnlyTheirValue) {
  Guest g(config());
  const Range ro[] = {{"GICD_TYPER", DIST, 0x4, 1},          {"GICD_IIDR", DIST, 0x8, 1},
                      {"GICD_TYPER2", DIST, 0xC, 1},         {"GICD_PIDR2", DIST, 0xFFE8, 1},
                      {"GICR_IIDR", REDIST, 0x4, 1},         {"GICR_TYPER (lo, hi)", REDIST, 0x8, 2},
                      {"GICR_PIDR2", REDIST, 0xFFE8, 1}};
  for (const Range& r : ro) {
    for (unsigned cpu = 0; cpu < 2; ++cpu) {
      for (uint32_t i = 0; i < r.words; ++i) {
        SCOPED_TRACE(std::string(r.name) + " cpu " + std::to_string(cpu) + " word " + std::to_string(i));
        const uint64_t attr = range_attr(g, cpu, r, i);
        const uint32_t v = val32(g, r.group, attr);
        EXPECT_EQ(v, r.group == DIST ? g.gicd_read(r.off + 4 * i) : g.gicr_read(cpu, r.off + 4 * i));
        EXPECT_EQ(set32(g, r.group, attr, v), 0);
        EXPECT_EQ(set32(g, r.group, attr, v ^ 0x10), VGIC_EINVAL);
        EXPECT_EQ(val32(g, r.group, attr), v);
      }
    }
  }
}

TEST(KvmDeviceRegs, WriteOnlyAndReservedOffsetsAreNoRegister) {
  Guest g(config());
  g.bring_up_all();
  g.setup(40, true, 0x40, true, 0);
  const Range none[] = {
      {"GICD_SETSPI_NSR", DIST, 0x40, 1},      {"GICD_CLRSPI_NSR", DIST, 0x48, 1},
      {"GICR_SETLPIR (lo, hi)", REDIST, 0x40, 2}, {"GICR_CLRLPIR", REDIST, 0x48, 1},
      {"GICR_INVLPIR", REDIST, 0xA0, 1},       {"GICR_INVALLR", REDIST, 0xB0, 1},
      {"GICD reserved", DIST, 0x24, 1},        {"GICD IPRIORITYR255", DIST, 0x7FC, 1},
      {"GICD reserved", DIST, 0xE000, 1},      {"GICD misaligned", DIST, 0x102, 1},
      {"beyond GICD", DIST, 0x10000, 1},       {"GICR reserved", REDIST, 0x100, 1},
      {"GICR SGI reserved", REDIST, SGI + 0x10, 1}, {"GICR SGI reserved", REDIST, SGI + 0x500, 1},
      {"GICR misaligned", REDIST, 0x16, 1},    {"beyond GICR", REDIST, 0x20000, 1}};
  for (const Range& r : none) {
    for (uint32_t i = 0; i < r.words; ++i) {
      SCOPED_TRACE(std::string(r.name) + " word " + std::to_string(i));
      const uint64_t attr = range_attr(g, 0, r, i);
      uint32_t v = 0;
      EXPECT_EQ(get32(g, r.group, attr, v), VGIC_ENXIO);
      EXPECT_EQ(set32(g, r.group, attr, 40), VGIC_ENXIO);
      EXPECT_EQ(vgic_has_attr(g.gic(), r.group, attr, nullptr), VGIC_ENXIO);
    }
  }
  EXPECT_FALSE(g.is_pending(40));  // the GICD_SETSPI_NSR "write" did nothing
}

// The VMM's reads (has_attr, get_attr: what a save does) are no guest accesses: whatever offset
// they name, no guest error is counted. With and without DirectLPI: GICR_SYNCR is a reserved
// offset for a guest of a GIC without it, never for the VMM.
TEST(KvmDeviceRegs, VmmReadsOfEveryOffsetCountNoGuestError) {
  for (int direct : {0, 1}) {
    SCOPED_TRACE(direct ? "DirectLPI" : "no DirectLPI");
    vgic_config c = config();
    c.direct_lpi = direct;
    Guest g(c);
    g.bring_up_all();
    unsigned served = 0;
    for (uint32_t off = 0; off < 0x10000; off += 4) {
      uint32_t v = 0;
      served += vgic_has_attr(g.gic(), DIST, off, nullptr) == 0;
      (void)get32(g, DIST, off, v);
    }
    for (uint32_t off = 0; off < 0x20000; off += 4) {
      uint32_t v = 0;
      served += vgic_has_attr(g.gic(), REDIST, mp(g, 1) | off, nullptr) == 0;
      (void)get32(g, REDIST, mp(g, 1) | off, v);
    }
    for (uint32_t off = 0; off < 0x10000; off += 4) {
      uint64_t v = 0;
      served += vgic_its_has_attr(g.gic(), 0, ITS_REGS, off, nullptr) == 0;
      (void)its_get(g, off, v);
    }
    EXPECT_GT(served, 200u);
    uint32_t syncr = 1;
    EXPECT_EQ(get32(g, REDIST, mp(g, 0) | 0xC0, syncr), 0) << "GICR_SYNCR";
    EXPECT_EQ(syncr, 0u);
    EXPECT_EQ(g.guest_errors(), 0u);
  }
}

// A level SPI asserted by GICD_SETSPI_NSR has no field of its own in KVM's ABI (KVM has no MBIS);
// the VMM's ISPENDR reports it, so a save through the attributes does not lose it.
TEST(KvmDeviceSaveRestore, ASetspiAssertionIsSavedAsPending) {
  Guest a(config()), b(config());
  for (Guest* g : {&a, &b}) {
    g->bring_up_all();
    g->setup(40, true, 0x40, false, 0);
  }
  a.gicd_write(0x40, 40);  // GICD_SETSPI_NSR
  ASSERT_TRUE(a.is_pending(40));
  uint32_t v = 0;
  ASSERT_EQ(get32(a, DIST, 0x204, v), 0);  // GICD_ISPENDR1
  EXPECT_EQ(v, 1u << 8);
  ASSERT_EQ(set32(b, DIST, 0x204, v), 0);
  EXPECT_TRUE(b.is_pending(40));
  EXPECT_EQ(b.ack1(0), 40u);
  b.eoi1(0, 40);
  EXPECT_FALSE(b.is_pending(40));
}

void count_ack(void* n, unsigned, uint32_t) { ++*static_cast<int*>(n); }

// arm-vgic-v3.rst: userspace GICD_ISPENDR get/sets the pending latch alone (not the line level);
// GICD_ICPENDR is RAZ/WI. Neither is a deactivation nor touches the line.
TEST(KvmDeviceRegs, UserspacePendingIsTheLatchWithoutSideEffects) {
  Guest g(config(1));
  g.bring_up_all();
  constexpr uint32_t spi = 41, bit = 1u << (spi % 32), ispendr = 0x204, icpendr = 0x284;
  g.setup(spi, true, 0x80, false, 0);  // level-sensitive
  int acks = 0;
  const int id = vgic_register_ack_notifier(g.gic(), 0, spi, count_ack, &acks);
  ASSERT_GT(id, 0);
  g.line(spi, true);
  EXPECT_TRUE(g.is_pending(spi));
  EXPECT_EQ(val32(g, DIST, ispendr), 0u);  // pending through the line only: the latch is clear
  EXPECT_EQ(val32(g, DIST, icpendr), 0u);  // RAZ
  EXPECT_EQ(set32(g, DIST, ispendr, bit), 0);
  EXPECT_EQ(val32(g, DIST, ispendr), bit);
  EXPECT_EQ(val32(g, LEVEL, level_attr(g, 0, 32)), bit);  // the line is untouched
  g.line(spi, false);
  EXPECT_TRUE(g.is_pending(spi));  // latched
  EXPECT_EQ(set32(g, DIST, icpendr, ~0u), 0);  // WI
  EXPECT_TRUE(g.is_pending(spi));
  EXPECT_EQ(val32(g, DIST, ispendr), bit);
  g.line(spi, true);
  EXPECT_EQ(set32(g, DIST, ispendr, 0), 0);  // a 0 clears the latch; the line keeps it pending
  EXPECT_EQ(val32(g, DIST, ispendr), 0u);
  EXPECT_TRUE(g.is_pending(spi));
  EXPECT_EQ(val32(g, LEVEL, level_attr(g, 0, 32)), bit);
  g.line(spi, false);
  EXPECT_FALSE(g.is_pending(spi));
  // Same on the redistributor: SGI 3 made pending and cleared from userspace.
  EXPECT_EQ(set32(g, REDIST, mp(g, 0) | (SGI + 0x200), 1u << 3), 0);
  EXPECT_TRUE(g.is_pending(3));
  EXPECT_EQ(set32(g, REDIST, mp(g, 0) | (SGI + 0x200), 0), 0);
  EXPECT_FALSE(g.is_pending(3));
  EXPECT_EQ(acks, 0);
  // The notifier is live: a guest deactivation does call it.
  g.line(spi, true);
  EXPECT_EQ(g.ack1(0), spi);
  g.line(spi, false);
  g.eoi1(0, spi);
  EXPECT_EQ(acks, 1);
  EXPECT_EQ(vgic_unregister_ack_notifier(g.gic(), id), 0);
}

// --- LEVEL_INFO ----------------------------------------------------------------------------------

TEST(KvmDeviceLevelInfo, SpiAndPerCpuPpiLevelsRoundTrip) {
  Guest a(config()), b(config());
  for (auto [cpu, intid] : kLines) a.line(intid, true, cpu);
  const uint32_t spi32 = 1u << 1 | 1u << 15 | 1u << 31, spi64 = 1u << 6 | 1u << 31;
  EXPECT_EQ(val32(a, LEVEL, level_attr(a, 0, 32)), spi32);
  EXPECT_EQ(val32(a, LEVEL, level_attr(a, 1, 32)), spi32);  // SPIs: whatever the MPIDR
  EXPECT_EQ(val32(a, LEVEL, level_attr(a, 0, 64)), spi64);
  EXPECT_EQ(val32(a, LEVEL, level_attr(a, 0, 0)), 1u << 20 | 1u << 23);
  EXPECT_EQ(val32(a, LEVEL, level_attr(a, 1, 0)), 1u << 27 | 1u << 30);
  for (unsigned cpu = 0; cpu < 2; ++cpu) {
    for (uint32_t base : {0u, 32u, 64u}) {
      const uint32_t v = val32(a, LEVEL, level_attr(a, cpu, base));
      EXPECT_EQ(set32(b, LEVEL, level_attr(b, cpu, base), v), 0);
      EXPECT_EQ(val32(b, LEVEL, level_attr(b, cpu, base)), v);
    }
  }
  // SGIs and INTIDs beyond the implemented SPIs are RAZ/WI.
  EXPECT_EQ(set32(b, LEVEL, level_attr(b, 0, 0), 0xffffu | 1u << 20 | 1u << 23), 0);
  EXPECT_EQ(val32(b, LEVEL, level_attr(b, 0, 0)), 1u << 20 | 1u << 23);
  EXPECT_EQ(set32(b, LEVEL, level_attr(b, 0, 96), ~0u), 0);
  EXPECT_EQ(val32(b, LEVEL, level_attr(b, 0, 96)), 0u);
}

TEST(KvmDeviceLevelInfo, IntidMustBeAMultipleOf32AndInfoLineLevel) {
  Guest g(config());
  for (uint64_t attr : {level_attr(g, 0, 33), level_attr(g, 0, 16), level_attr(g, 1, 63), level_attr(g, 0, 32, 1),
                        level_attr(g, 0, 0, 0x3fffff)}) {
    uint32_t v = 0;
    EXPECT_EQ(get32(g, LEVEL, attr, v), VGIC_EINVAL) << std::hex << attr;
    EXPECT_EQ(set32(g, LEVEL, attr, 0), VGIC_EINVAL) << std::hex << attr;
    EXPECT_EQ(vgic_has_attr(g.gic(), LEVEL, attr, nullptr), VGIC_EINVAL) << std::hex << attr;
  }
  EXPECT_EQ(vgic_has_attr(g.gic(), LEVEL, level_attr(g, 1, 64), nullptr), 0);
}

TEST(KvmDeviceLevelInfo, RestoredLevelMakesALevelInterruptPending) {
  Guest g(config(1));
  g.bring_up_all();
  g.setup(40, true, 0x80, false);  // level
  g.setup(41, true, 0x70, true);   // edge: a restored level is no edge
  g.setup(22, true, 0x60, false);  // level PPI
  EXPECT_FALSE(g.irq(0));
  EXPECT_EQ(set32(g, LEVEL, level_attr(g, 0, 32), 1u << 8 | 1u << 9), 0);
  EXPECT_TRUE(g.is_pending(40));
  EXPECT_FALSE(g.is_pending(41));
  EXPECT_TRUE(g.irq(0));
  EXPECT_EQ(set32(g, LEVEL, level_attr(g, 0, 0), 1u << 22), 0);
  EXPECT_TRUE(g.is_pending(22));
  EXPECT_EQ(g.ack1(0), 22u);
  EXPECT_EQ(set32(g, LEVEL, level_attr(g, 0, 0), 0), 0);
  g.eoi1(0, 22);
  EXPECT_FALSE(g.is_pending(22));
  EXPECT_EQ(g.ack1(0), 40u);
}

// --- NR_IRQS, ADDR, CTRL -----------------------------------------------------------------------------

TEST(KvmDeviceNrIrqs, FixedAtCreation) {
  Guest g(config());
  EXPECT_EQ(val32(g, NR_IRQS, 0), 96u);
  EXPECT_EQ(set32(g, NR_IRQS, 0, 96), 0);
  EXPECT_EQ(set32(g, NR_IRQS, 0, 128), VGIC_EBUSY);
  EXPECT_EQ(set32(g, NR_IRQS, 0, 64), VGIC_EBUSY);
  EXPECT_EQ(vgic_has_attr(g.gic(), NR_IRQS, 0, nullptr), 0);
  EXPECT_EQ(val32(g, NR_IRQS, 0), 96u);
}

TEST(KvmDeviceAddr, FramesArePlacedAtCreation) {
  Guest g(config());
  const vgic_config& c = g.cfg();
  const struct { uint64_t type, value; } addrs[] = {{VGIC_ADDR_TYPE_DIST, c.gicd_base},
                                                     {VGIC_ADDR_TYPE_REDIST, c.gicr_base},
                                                     {VGIC_ADDR_TYPE_REDIST_REGION, 2ull << 52 | c.gicr_base}};
  for (const auto& a : addrs) {
    SCOPED_TRACE(a.type);
    EXPECT_EQ(val64(g, ADDR, a.type), a.value);  // REDIST_REGION: index 0 preset (the value is 0 before)
    EXPECT_EQ(vgic_has_attr(g.gic(), ADDR, a.type, nullptr), 0);
    EXPECT_EQ(set64(g, ADDR, a.type, a.value), 0);
    EXPECT_EQ(set64(g, ADDR, a.type, a.value + 0x10000), VGIC_EEXIST);
    EXPECT_EQ(val64(g, ADDR, a.type), a.value);
  }
  uint64_t region = 1;  // index 1: no such region
  EXPECT_EQ(vgic_get_attr(g.gic(), ADDR, VGIC_ADDR_TYPE_REDIST_REGION, &region), VGIC_ENOENT);
  for (uint64_t type : {uint64_t{0}, uint64_t{1}, uint64_t{VGIC_ADDR_TYPE_ITS}, uint64_t{6}}) {
    uint64_t v = 0;
    EXPECT_EQ(get64(g, ADDR, type, v), VGIC_ENXIO) << type;
    EXPECT_EQ(set64(g, ADDR, type, 0), VGIC_ENXIO) << type;
    EXPECT_EQ(vgic_has_attr(g.gic(), ADDR, type, nullptr), VGIC_ENXIO) << type;
  }
  uint64_t v = 0;
  EXPECT_EQ(vgic_its_get_attr(g.gic(), 0, ADDR, VGIC_ADDR_TYPE_ITS, &v), 0);
  EXPECT_EQ(v, c.its[0].base);
  EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, ADDR, VGIC_ADDR_TYPE_ITS, &v), 0);
  v += 0x20000;
  EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, ADDR, VGIC_ADDR_TYPE_ITS, &v), VGIC_EEXIST);
  EXPECT_EQ(vgic_its_get_attr(g.gic(), 0, ADDR, VGIC_ADDR_TYPE_DIST, &v), VGIC_ENXIO);
}

TEST(KvmDeviceCtrl, InitAndUnknownAttributes) {
  Guest g(config());
  EXPECT_EQ(vgic_set_attr(g.gic(), CTRL, VGIC_CTRL_INIT, nullptr), 0);
  EXPECT_EQ(vgic_has_attr(g.gic(), CTRL, VGIC_CTRL_INIT, nullptr), 0);
  EXPECT_EQ(vgic_has_attr(g.gic(), CTRL, VGIC_CTRL_SAVE_PENDING_TABLES, nullptr), 0);
  EXPECT_EQ(vgic_get_attr(g.gic(), CTRL, VGIC_CTRL_INIT, nullptr), VGIC_ENXIO);  // write-only group
  for (uint64_t attr : {uint64_t{VGIC_CTRL_ITS_RESET}, uint64_t{VGIC_CTRL_ITS_SAVE_TABLES},
                        uint64_t{VGIC_CTRL_ITS_RESTORE_TABLES}, uint64_t{99}}) {
    EXPECT_EQ(vgic_set_attr(g.gic(), CTRL, attr, nullptr), VGIC_ENXIO) << attr;  // ITS attributes: the ITS device's
    EXPECT_EQ(vgic_has_attr(g.gic(), CTRL, attr, nullptr), VGIC_ENXIO) << attr;
  }
  EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, VGIC_CTRL_INIT, nullptr), 0);
  EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, 99, nullptr), VGIC_ENXIO);
}

TEST(KvmDeviceCtrl, SavePendingTablesWritesPendingLpisAndKeepsThem) {
  Guest g(config(1));
  GuestRam ram(g.gic(), kRam, kRamSize);
  ItsDriver its(g, ram);
  g.bring_up_all();
  its.init();
  its.enable_lpis(0);
  its.mapd(7, 4);
  its.mapc(3, 0);
  its.mapti(7, 2, 8200, 3);
  its.lpi_config(8200, 0x40, true);
  its.lpi_config(8300, 0x50, true);
  its.invall(3);
  g.set_pmr(0, 0);  // masked: both LPIs stay pending
  ASSERT_EQ(its.msi(7, 2), 1);
  g.gicr_write(0, 0x40, 8300, 8);  // GICR_SETLPIR (DirectLPI)
  g.gicr_write(0, 0xB0, 0, 8);     // GICR_INVALLR
  const uint64_t pend = its.pend_table(0);
  std::memset(ram.host(pend), 0xA5, 1024);            // IMPLEMENTATION DEFINED first KiB
  std::memset(ram.host(pend + 1024), 0, 8192 - 1024);  // whatever vgic wrote so far
  ASSERT_EQ(vgic_set_attr(g.gic(), CTRL, VGIC_CTRL_SAVE_PENDING_TABLES, nullptr), 0) << vgic_last_error();
  EXPECT_EQ(pending_bit(ram, pend, 8200), 1);
  EXPECT_EQ(pending_bit(ram, pend, 8300), 1);
  EXPECT_EQ(pending_bit(ram, pend, 8201), 0);
  for (unsigned i = 0; i < 1024; ++i) ASSERT_EQ(ram.read8(pend + i), 0xA5) << i;  // "not altered"
  g.set_pmr(0, 0xff);  // still pending in vgic
  EXPECT_EQ(g.ack1(0), 8200u);
  g.eoi1(0, 8200);
  EXPECT_EQ(g.ack1(0), 8300u);
}

// --- The ITS device --------------------------------------------------------------------------------

TEST(KvmDeviceIts, EveryRegisterRoundTripsInTheSeed003Order) {
  Guest a(config()), b(config());
  GuestRam ram(a.gic(), kRam, kRamSize);
  ItsDriver its(a, ram, ItsOptions{.table_pages = 2, .queue_pages = 2});
  a.bring_up_all();
  its.init();
  its.enable_lpis_all();
  its.mapd(1, 4);
  its.mapc(0, 1);
  its.mapti(1, 3, kLpi, 0);
  ASSERT_NE(its_val(a, GITS_CREADR), 0u);
  const uint32_t order[] = {GITS_CBASER,     GITS_BASER,      GITS_BASER + 8,  GITS_BASER + 16,
                            GITS_BASER + 24, GITS_BASER + 32, GITS_BASER + 40, GITS_BASER + 48,
                            GITS_BASER + 56, GITS_CWRITER,    GITS_CREADR,     GITS_CTLR};  // seed 003
  unsigned changed = 0;
  for (uint32_t off : order) {
    const uint64_t v = its_val(a, off);
    changed += v != its_val(b, off);
    EXPECT_EQ(its_set(b, off, v), 0) << std::hex << off << ": " << vgic_last_error();
  }
  EXPECT_EQ(changed, 6u);  // CBASER, BASER0, BASER1, CWRITER, CREADR, CTLR
  expect_same_frame(a, b, ITS_REGS);
  for (uint32_t off : {GITS_IIDR, GITS_TYPER, 0xFFE8u}) EXPECT_EQ(its_set(b, off, its_val(a, off)), 0) << off;
}

TEST(KvmDeviceIts, CommandsRestoredBehindCwriterRunOnlyWhenCtlrEnables) {
  Guest g(config(1));
  GuestRam ram(g.gic(), kRam, kRamSize);
  ItsDriver its(g, ram, ItsOptions{.enable = false});
  g.bring_up_all();
  its.init();  // tables and queue programmed, ITS disabled
  its.enable_lpis(0);
  its.lpi_config(kLpi, 0x40, true);
  using namespace gicv3;
  const RawCommand cmds[] = {MapdCommand{DeviceId(5), 3, ram.alloc(256, 256), true}.encode(),
                             MapcCommand{CollectionId(2), its.rdbase(0), true}.encode(),
                             MaptiCommand{its_cmd::MAPTI, DeviceId(5), EventId(1), kLpi, CollectionId(2)}.encode(),
                             EventCommand{its_cmd::INV, DeviceId(5), EventId(1)}.encode()};
  for (unsigned c = 0; c < 4; ++c)
    for (unsigned w = 0; w < 4; ++w) ram.write64(its.queue() + 32 * c + 8 * w, cmds[c][w]);
  EXPECT_EQ(its_set(g, GITS_CWRITER, 4 * 32), 0);
  EXPECT_EQ(its_set(g, GITS_CREADR, 0), 0);
  EXPECT_EQ(its_val(g, GITS_CWRITER), 4u * 32);
  EXPECT_EQ(its_val(g, GITS_CREADR), 0u);  // nothing ran
  EXPECT_EQ(its.msi(5, 1), 0);
  EXPECT_EQ(its_set(g, GITS_CTLR, 1), 0);
  EXPECT_EQ(its_val(g, GITS_CREADR), 4u * 32);
  EXPECT_EQ(its.msi(5, 1), 1);
  EXPECT_EQ(g.ack1(0), kLpi);
  // Once enabled, CREADR can no longer be restored (KVM: -EBUSY; vgic refuses it too).
  EXPECT_LT(its_set(g, GITS_CREADR, 0), 0);
  EXPECT_EQ(its_val(g, GITS_CREADR), 4u * 32);
}

TEST(KvmDeviceIts, RejectedValuesOffsetsAndIndexes) {
  Guest g(config(1));
  EXPECT_EQ(its_set(g, GITS_CBASER, 1ull << 63 | kRam), 0);  // one 4 KiB page
  EXPECT_EQ(its_set(g, GITS_CREADR, 4096), VGIC_EINVAL);      // beyond the queue
  EXPECT_EQ(its_set(g, GITS_CWRITER, 4096), VGIC_EINVAL);
  EXPECT_EQ(its_set(g, GITS_CREADR, 4064), 0);
  EXPECT_EQ(its_val(g, GITS_CREADR), 4064u);
  const uint64_t iidr = its_val(g, GITS_IIDR), typer = its_val(g, GITS_TYPER);
  // GITS_IIDR: the VMM's write selects the ABI by Revision, as KVM's; Implementer and ProductID
  // are not the VMM's to choose (a stream from KVM carries KVM's 0x4B00043B).
  EXPECT_EQ(its_set(g, GITS_IIDR, iidr), 0);
  EXPECT_EQ(its_set(g, GITS_IIDR, iidr + 1), 0);
  EXPECT_EQ(its_set(g, GITS_IIDR, 0x4B00043Bu), 0);
  EXPECT_EQ(its_set(g, GITS_IIDR, iidr ^ 1u << 12), VGIC_EINVAL);  // another Revision
  EXPECT_EQ(its_set(g, GITS_TYPER, typer ^ 1), VGIC_EINVAL);
  EXPECT_EQ(its_val(g, GITS_IIDR), iidr);
  // Inside a 64-bit register (not its start), or not 4-byte aligned: EINVAL, as KVM
  // (vgic_its_has_attr_regs). Reserved, in the translation frame, beyond 32 bits: ENXIO.
  for (uint64_t off : {0x84ull, 0x8Cull, 0x104ull, 0x0Cull, 0x2ull, 0xFFD2ull}) {
    uint64_t v = 0;
    EXPECT_EQ(its_get(g, off, v), VGIC_EINVAL) << std::hex << off;
    EXPECT_EQ(its_set(g, off, 0), VGIC_EINVAL) << std::hex << off;
    EXPECT_EQ(vgic_its_has_attr(g.gic(), 0, ITS_REGS, off, nullptr), VGIC_EINVAL) << std::hex << off;
  }
  for (uint64_t off : {0x20ull, 0x10040ull, 0x100000000ull | GITS_CTLR}) {
    uint64_t v = 0;
    EXPECT_EQ(its_get(g, off, v), VGIC_ENXIO) << std::hex << off;
    EXPECT_EQ(its_set(g, off, 0), VGIC_ENXIO) << std::hex << off;
    EXPECT_EQ(vgic_its_has_attr(g.gic(), 0, ITS_REGS, off, nullptr), VGIC_ENXIO) << std::hex << off;
  }
  uint64_t v = 0;
  for (unsigned index : {1u, 8u}) {
    EXPECT_EQ(vgic_its_get_attr(g.gic(), index, ITS_REGS, GITS_CTLR, &v), VGIC_ENODEV);
    EXPECT_EQ(vgic_its_set_attr(g.gic(), index, ITS_REGS, GITS_CTLR, &v), VGIC_ENODEV);
    EXPECT_EQ(vgic_its_has_attr(g.gic(), index, ITS_REGS, GITS_CTLR, nullptr), VGIC_ENODEV);
  }
  EXPECT_EQ(vgic_its_get_attr(g.gic(), 0, DIST, 0, &v), VGIC_ENXIO);  // a GIC group on the ITS
  EXPECT_EQ(vgic_get_attr(g.gic(), ITS_REGS, GITS_CTLR, &v), VGIC_ENXIO);  // an ITS group on the GIC
}

TEST(KvmDeviceIts, ResetReturnsToResetValuesAndForgetsTranslations) {
  Guest g(config(1)), fresh(config(1));
  GuestRam ram(g.gic(), kRam, kRamSize);
  ItsDriver its(g, ram);
  g.bring_up_all();
  its.init();
  its.enable_lpis(0);
  its.lpi_config(kLpi, 0x40, true);
  its.mapd(2, 4);
  its.mapc(1, 0);
  its.mapti(2, 0, kLpi, 1);
  its.inv(2, 0);
  ASSERT_EQ(its.msi(2, 0), 1);
  EXPECT_EQ(vgic_its_has_attr(g.gic(), 0, CTRL, VGIC_CTRL_ITS_RESET, nullptr), 0);
  ASSERT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, VGIC_CTRL_ITS_RESET, nullptr), 0);
  EXPECT_EQ(its_val(g, GITS_CTLR), 0x80000000u);  // disabled, quiescent
  for (uint32_t off : {GITS_CBASER, GITS_CWRITER, GITS_CREADR}) EXPECT_EQ(its_val(g, off), 0u) << off;
  expect_same_frame(g, fresh, ITS_REGS);
  EXPECT_EQ(its.msi(2, 0), 0);
  its.init();  // the guest programs it again: the old mappings are gone
  EXPECT_EQ(its.msi(2, 0), 0);
  its.mapd(2, 4);
  its.mapc(1, 0);
  its.mapti(2, 0, kLpi, 1);
  EXPECT_EQ(its.msi(2, 0), 1);
}

TEST(KvmDeviceIts, SaveAndRestoreTablesFollowTheKvmTableAbi) {
  // The KVM ITS table ABI revision 0 (seed 003; tests/its/its_abi*_test.cpp for the tables):
  // offered by an ITS with GITS_IIDR.Revision 0 and 8-byte ITT entries (the defaults).
  Guest g(config(1));
  for (uint64_t attr : {uint64_t{VGIC_CTRL_ITS_SAVE_TABLES}, uint64_t{VGIC_CTRL_ITS_RESTORE_TABLES}}) {
    EXPECT_EQ(vgic_its_has_attr(g.gic(), 0, CTRL, attr, nullptr), 0) << attr;
    EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, attr, nullptr), 0) << attr << vgic_last_error();  // no table: nothing
    EXPECT_EQ(vgic_its_get_attr(g.gic(), 0, CTRL, attr, nullptr), VGIC_ENXIO) << attr;             // write-only group
  }
  // Restore happens before GITS_CTLR (arm-vgic-its.rst); an enabled ITS is translating.
  ASSERT_EQ(its_set(g, GITS_CTLR, 1), 0);
  EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, VGIC_CTRL_ITS_RESTORE_TABLES, nullptr), VGIC_EBUSY);
  EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, VGIC_CTRL_ITS_SAVE_TABLES, nullptr), 0);
  // An ITS outside the ABI does not offer it: -ENXIO ("ITS not properly configured").
  // HCC > 0: revision 0 has no place for the collections the ITS holds itself.
  vgic_config wide = config(1), rev1 = config(1), hcc = config(1);
  wide.its[0].itt_entry_size = 16;
  rev1.its[0].iidr = 0x5600143B;  // Revision 1
  hcc.its[0].hcc = 4;
  for (const vgic_config& c : {wide, rev1, hcc}) {
    Guest other(c);
    for (uint64_t attr : {uint64_t{VGIC_CTRL_ITS_SAVE_TABLES}, uint64_t{VGIC_CTRL_ITS_RESTORE_TABLES}}) {
      EXPECT_EQ(vgic_its_has_attr(other.gic(), 0, CTRL, attr, nullptr), VGIC_ENXIO) << attr;
      EXPECT_EQ(vgic_its_set_attr(other.gic(), 0, CTRL, attr, nullptr), VGIC_ENXIO) << attr;
    }
  }
}

// --- EBUSY, EFAULT, unknown groups -------------------------------------------------------------------

TEST(KvmDevice, StateGroupsAreBusyWhileAVcpuRuns) {
  Guest g(config());
  struct Probe { bool its; uint32_t group; uint64_t attr, value; };  // value: what a set writes
  const Probe state[] = {{false, DIST, gicd::CTLR, 3},           {false, REDIST, mp(g, 1) | 0x14, 0},
                         {false, SYSREGS, mp(g, 0) | icc::PMR, 0xf0}, {false, LEVEL, level_attr(g, 1, 32), 1},
                         {true, ITS_REGS, GITS_CBASER, 1ull << 63 | kRam}};
  uint64_t v = 0;
  auto call = [&](const Probe& p, int op) {  // 0 get (into v), 1 set, 2 has
    v = op == 1 ? p.value : 0;
    void* addr = op == 2 ? nullptr : &v;
    if (p.its)
      return (op == 0 ? vgic_its_get_attr : op == 1 ? vgic_its_set_attr : vgic_its_has_attr)(g.gic(), 0, p.group, p.attr, addr);
    return (op == 0 ? vgic_get_attr : op == 1 ? vgic_set_attr : vgic_has_attr)(g.gic(), p.group, p.attr, addr);
  };
  std::vector<uint64_t> before;
  for (const Probe& p : state) {
    EXPECT_EQ(call(p, 0), 0);
    before.push_back(v);
  }
  ASSERT_EQ(vgic_vcpu_running(g.gic(), 1, 1), 0);
  ASSERT_EQ(vgic_vcpu_running(g.gic(), 0, 1), 0);
  ASSERT_EQ(vgic_vcpu_running(g.gic(), 0, 1), 0);  // idempotent
  EXPECT_EQ(vgic_vcpu_running(g.gic(), 2, 1), VGIC_EINVAL);
  for (unsigned round = 0; round < 2; ++round) {  // 0: both CPUs run; 1: only CPU 1
    for (const Probe& p : state) {
      SCOPED_TRACE(std::to_string(round) + " group " + std::to_string(p.group));
      EXPECT_EQ(call(p, 0), VGIC_EBUSY);
      EXPECT_EQ(call(p, 1), VGIC_EBUSY);
      EXPECT_EQ(call(p, 2), 0);  // has_attr still answers
    }
    EXPECT_EQ(vgic_set_attr(g.gic(), CTRL, VGIC_CTRL_SAVE_PENDING_TABLES, nullptr), VGIC_EBUSY);
    EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, VGIC_CTRL_ITS_RESET, nullptr), VGIC_EBUSY);
    EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, VGIC_CTRL_ITS_SAVE_TABLES, nullptr), VGIC_EBUSY);
    EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, VGIC_CTRL_ITS_RESTORE_TABLES, nullptr), VGIC_EBUSY);
    EXPECT_EQ(vgic_its_has_attr(g.gic(), 0, CTRL, VGIC_CTRL_ITS_SAVE_TABLES, nullptr), 0);
    EXPECT_EQ(val32(g, NR_IRQS, 0), 96u);  // not state: served while running
    EXPECT_EQ(val64(g, ADDR, VGIC_ADDR_TYPE_DIST), g.cfg().gicd_base);
    ASSERT_EQ(vgic_vcpu_running(g.gic(), round, 0), 0);
  }
  // No vCPU runs: the refused sets changed nothing, and the same calls now succeed.
  for (size_t i = 0; i < std::size(state); ++i) {
    EXPECT_EQ(call(state[i], 0), 0) << i;
    EXPECT_EQ(v, before[i]) << i;
    EXPECT_EQ(call(state[i], 1), 0) << i;
    EXPECT_EQ(call(state[i], 0), 0) << i;
    EXPECT_NE(v, before[i]) << i;
  }
  EXPECT_EQ(vgic_set_attr(g.gic(), CTRL, VGIC_CTRL_SAVE_PENDING_TABLES, nullptr), 0);
  EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, VGIC_CTRL_ITS_RESET, nullptr), 0);
  EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, VGIC_CTRL_ITS_SAVE_TABLES, nullptr), 0);
  EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, CTRL, VGIC_CTRL_ITS_RESTORE_TABLES, nullptr), 0);
}

TEST(KvmDevice, NullAddressAndUnknownGroups) {
  Guest g(config());
  const std::pair<uint32_t, uint64_t> with_value[] = {{DIST, 0x4}, {REDIST, mp(g, 0) | 0x8}, {SYSREGS, mp(g, 0) | icc::PMR},
                                                      {LEVEL, level_attr(g, 0, 32)}, {NR_IRQS, 0}, {ADDR, VGIC_ADDR_TYPE_DIST}};
  for (auto [grp, attr] : with_value) {
    EXPECT_EQ(vgic_get_attr(g.gic(), grp, attr, nullptr), VGIC_EFAULT) << grp;
    EXPECT_EQ(vgic_set_attr(g.gic(), grp, attr, nullptr), VGIC_EFAULT) << grp;
    EXPECT_EQ(vgic_has_attr(g.gic(), grp, attr, nullptr), 0) << grp;
  }
  EXPECT_EQ(vgic_its_get_attr(g.gic(), 0, ITS_REGS, GITS_CTLR, nullptr), VGIC_EFAULT);
  EXPECT_EQ(vgic_its_set_attr(g.gic(), 0, ITS_REGS, GITS_CTLR, nullptr), VGIC_EFAULT);
  EXPECT_EQ(vgic_its_get_attr(g.gic(), 0, ADDR, VGIC_ADDR_TYPE_ITS, nullptr), VGIC_EFAULT);
  for (uint32_t grp : {2u /* KVM_DEV_ARM_VGIC_GRP_CPU_REGS: GICv2 only */, 9u, 1000u}) {
    uint64_t v = 0;
    EXPECT_EQ(vgic_get_attr(g.gic(), grp, 0, &v), VGIC_ENXIO) << grp;
    EXPECT_EQ(vgic_set_attr(g.gic(), grp, 0, &v), VGIC_ENXIO) << grp;
    EXPECT_EQ(vgic_has_attr(g.gic(), grp, 0, nullptr), VGIC_ENXIO) << grp;
    EXPECT_EQ(vgic_its_get_attr(g.gic(), 0, grp, 0, &v), VGIC_ENXIO) << grp;
    EXPECT_EQ(vgic_its_has_attr(g.gic(), 0, grp, 0, nullptr), VGIC_ENXIO) << grp;
  }
}

}  // namespace
