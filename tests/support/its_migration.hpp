// Migration of a guest with an ITS through the KVM device-attribute API, for tests: the KVM ITS
// table ABI revision 0 entries encoded straight from Documentation/virt/kvm/devices/arm-vgic-its.rst
// (independently of src/its/its_abi.hpp), and a destination vgic restored in the seed-003 order:
// guest RAM, every redistributor, then the ITS (CTRL_INIT, GITS_CBASER, the other registers but
// GITS_CTLR, ITS_RESTORE_TABLES, GITS_CTLR last).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "support/guest.hpp"
#include "support/guest_ram.hpp"
#include "support/kvm_attr.hpp"
#include "vgic/vgic.h"

namespace test::migration {

// DTE: V [63], Next [62:49], ITT_addr [48:5] = ITT address bits [51:8], Size [4:0].
inline uint64_t dte(uint64_t next, uint64_t itt, uint64_t size) { return 1ull << 63 | next << 49 | (itt >> 8) << 5 | size; }
// CTE: V [63], RES0 [62:52], RDBase [51:16] (processor number), ICID [15:0].
inline uint64_t cte(uint64_t rdbase, uint64_t icid) { return 1ull << 63 | rdbase << 16 | icid; }
// ITE: Next [63:48], pINTID [47:16] (0: invalid), ICID [15:0].
inline uint64_t ite(uint64_t next, uint64_t pintid, uint64_t icid) { return next << 48 | pintid << 16 | icid; }

constexpr uint32_t GITS_CTLR = 0x0, GITS_CBASER = 0x80, GITS_CWRITER = 0x88, GITS_CREADR = 0x90, GITS_BASER = 0x100;

inline int its_ctrl(const Guest& g, uint64_t attr) { return vgic_its_set_attr(g.gic(), 0, VGIC_DEV_GRP_CTRL, attr, nullptr); }
inline int save_tables(const Guest& g) { return its_ctrl(g, VGIC_CTRL_ITS_SAVE_TABLES); }
inline int restore_tables(const Guest& g) { return its_ctrl(g, VGIC_CTRL_ITS_RESTORE_TABLES); }

// Guest memory at gpa, byte for byte, against 64-bit little-endian entries; reports the first
// entry that differs.
inline void expect_entries(GuestRam& ram, uint64_t gpa, const std::vector<uint64_t>& want, const char* what) {
  for (size_t i = 0; i < want.size(); ++i) {
    uint8_t bytes[8];
    for (unsigned b = 0; b < 8; ++b) bytes[b] = uint8_t(want[i] >> (8 * b));
    if (std::memcmp(ram.host(gpa + 8 * i), bytes, 8) != 0) {
      ADD_FAILURE() << what << ": entry " << i << " is 0x" << std::hex << ram.read64(gpa + 8 * i) << ", expected 0x" << want[i];
      return;
    }
  }
}

// A fresh vgic with the same configuration and a copy of the source's guest RAM.
struct Destination {
  Destination(const vgic_config& cfg, GuestRam& src) : g(cfg), ram(g.gic(), src.base(), src.size()) {
    std::memcpy(ram.host(ram.base()), src.host(src.base()), src.size());
  }
  Guest g;
  GuestRam ram;
  int msi(uint32_t dev, uint32_t event) { return vgic_signal_msi(g.gic(), g.cfg().its[0].base + 0x10040, event, dev); }
};

// The GIC without the ITS: GICD_CTLR, each CPU interface, each redistributor with GICR_CTLR
// (EnableLPIs) after PROPBASER/PENDBASER.
inline void restore_gic(const Guest& src, const Guest& dst) {
  using namespace kvm_attr;
  ASSERT_EQ(set32(dst, VGIC_DEV_GRP_DIST_REGS, 0, val32(src, VGIC_DEV_GRP_DIST_REGS, 0)), 0) << vgic_last_error();
  for (unsigned cpu = 0; cpu < src.cfg().nr_cpus; ++cpu) {
    const uint64_t mp = mpidr_attr(src, cpu);
    for (uint32_t enc : {icc::SRE, icc::CTLR, icc::PMR, icc::BPR0, icc::BPR1, icc::IGRPEN0, icc::IGRPEN1})
      ASSERT_EQ(set64(dst, VGIC_DEV_GRP_CPU_SYSREGS, mp | enc, val64(src, VGIC_DEV_GRP_CPU_SYSREGS, mp | enc)), 0) << vgic_last_error();
    for (uint32_t off : {0x14u, 0x70u, 0x74u, 0x78u, 0x7Cu, 0x0u})  // WAKER, PROPBASER, PENDBASER, CTLR
      ASSERT_EQ(set32(dst, VGIC_DEV_GRP_REDIST_REGS, mp | off, val32(src, VGIC_DEV_GRP_REDIST_REGS, mp | off)), 0) << vgic_last_error();
  }
}

// ITS steps 1-3 of seed 003: CTRL_INIT, GITS_CBASER, every other register except GITS_CTLR.
inline void restore_its_registers(const Guest& src, const Guest& dst) {
  using namespace kvm_attr;
  ASSERT_EQ(its_ctrl(dst, VGIC_CTRL_INIT), 0);
  ASSERT_EQ(its_set(dst, GITS_CBASER, its_val(src, GITS_CBASER)), 0) << vgic_last_error();
  for (uint32_t n = 0; n < 8; ++n) ASSERT_EQ(its_set(dst, GITS_BASER + 8 * n, its_val(src, GITS_BASER + 8 * n)), 0) << vgic_last_error();
  ASSERT_EQ(its_set(dst, GITS_CWRITER, its_val(src, GITS_CWRITER)), 0) << vgic_last_error();
  ASSERT_EQ(its_set(dst, GITS_CREADR, its_val(src, GITS_CREADR)), 0) << vgic_last_error();
}

// Step 5: GITS_CTLR last.
inline void restore_its_ctlr(const Guest& src, const Guest& dst) {
  using namespace kvm_attr;
  ASSERT_EQ(its_set(dst, GITS_CTLR, its_val(src, GITS_CTLR)), 0) << vgic_last_error();
}

// Acknowledges (and ends) every deliverable Group 1 interrupt of cpu.
inline std::vector<uint32_t> drain(Guest& g, unsigned cpu) {
  std::vector<uint32_t> seen;
  for (uint32_t id; seen.size() < 64 && (id = g.ack1(cpu)) != kSpurious;) {
    g.eoi1(cpu, id);
    seen.push_back(id);
  }
  return seen;
}

}  // namespace test::migration
