// The KVM device-attribute API (vgic_{get,set,has}_attr, vgic_its_*_attr) for tests: KVM's MPIDR
// field of an attribute and typed accessors (u32 for DIST/REDIST_REGS, LEVEL_INFO, NR_IRQS; u64
// for ADDR, CPU_SYSREGS, ITS_REGS, as Documentation/virt/kvm/devices/arm-vgic-v3.rst).
#pragma once

#include <cstdint>

#include <gtest/gtest.h>

#include "support/guest.hpp"
#include "vgic/vgic.h"

namespace test::kvm_attr {

// Aff3 [63:56], Aff2 [55:48], Aff1 [47:40], Aff0 [39:32] of the attribute.
inline uint64_t mpidr_attr(const Guest& g, unsigned cpu) {
  const uint64_t m = g.mpidr(cpu);
  return ((m & 0xffffff) | ((m >> 32) & 0xff) << 24) << VGIC_ATTR_MPIDR_SHIFT;
}
// GRP_LEVEL_INFO: MPIDR | info << 10 | INTID.
inline uint64_t level_attr(const Guest& g, unsigned cpu, uint32_t intid, uint64_t info = VGIC_LEVEL_INFO_LINE_LEVEL) {
  return mpidr_attr(g, cpu) | info << 10 | intid;
}

inline int get32(const Guest& g, uint32_t grp, uint64_t a, uint32_t& v) { return vgic_get_attr(g.gic(), grp, a, &v); }
inline int set32(const Guest& g, uint32_t grp, uint64_t a, uint32_t v) { return vgic_set_attr(g.gic(), grp, a, &v); }
inline int get64(const Guest& g, uint32_t grp, uint64_t a, uint64_t& v) { return vgic_get_attr(g.gic(), grp, a, &v); }
inline int set64(const Guest& g, uint32_t grp, uint64_t a, uint64_t v) { return vgic_set_attr(g.gic(), grp, a, &v); }
inline int its_get(const Guest& g, uint64_t off, uint64_t& v, unsigned its = 0) {
  return vgic_its_get_attr(g.gic(), its, VGIC_DEV_GRP_ITS_REGS, off, &v);
}
inline int its_set(const Guest& g, uint64_t off, uint64_t v, unsigned its = 0) {
  return vgic_its_set_attr(g.gic(), its, VGIC_DEV_GRP_ITS_REGS, off, &v);
}
// Values of attributes that must be readable (a failure is reported).
inline uint32_t val32(const Guest& g, uint32_t grp, uint64_t a) {
  uint32_t v = 0;
  EXPECT_EQ(get32(g, grp, a, v), 0) << vgic_last_error();
  return v;
}
inline uint64_t val64(const Guest& g, uint32_t grp, uint64_t a) {
  uint64_t v = 0;
  EXPECT_EQ(get64(g, grp, a, v), 0) << vgic_last_error();
  return v;
}
inline uint64_t its_val(const Guest& g, uint32_t off, unsigned its = 0) {
  uint64_t v = 0;
  EXPECT_EQ(its_get(g, off, v, its), 0) << vgic_last_error();
  return v;
}

}  // namespace test::kvm_attr
