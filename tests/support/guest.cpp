#include "support/guest.hpp"

#include <gtest/gtest.h>

namespace test {

vgic_config Guest::config(unsigned nr_cpus) {
  vgic_config c;
  vgic_config_init(&c);
  c.nr_cpus = nr_cpus;
  return c;
}

Guest::Guest(const vgic_config& cfg) : cfg_(cfg) {
  if (cfg.mpidr) mpidr_.assign(cfg.mpidr, cfg.mpidr + cfg.nr_cpus);
  cfg_.mpidr = mpidr_.empty() ? nullptr : mpidr_.data();
  char err[256];
  g_ = vgic_create(&cfg_, err, sizeof err);
  if (!g_) ADD_FAILURE() << "vgic_create failed: " << err;
}

Guest::~Guest() { vgic_destroy(g_); }

uint64_t Guest::gicd_read(uint32_t off, unsigned size) {
  uint64_t v = 0;
  EXPECT_EQ(vgic_mmio_read(g_, cfg_.gicd_base + off, size, &v), 0) << vgic_last_error();
  return v;
}
void Guest::gicd_write(uint32_t off, uint64_t v, unsigned size) {
  EXPECT_EQ(vgic_mmio_write(g_, cfg_.gicd_base + off, size, v), 0) << vgic_last_error();
}
uint64_t Guest::gicr_read(unsigned cpu, uint32_t off, unsigned size) {
  uint64_t v = 0;
  EXPECT_EQ(vgic_mmio_read(g_, cfg_.gicr_base + uint64_t(cpu) * 0x20000 + off, size, &v), 0) << vgic_last_error();
  return v;
}
void Guest::gicr_write(unsigned cpu, uint32_t off, uint64_t v, unsigned size) {
  EXPECT_EQ(vgic_mmio_write(g_, cfg_.gicr_base + uint64_t(cpu) * 0x20000 + off, size, v), 0) << vgic_last_error();
}
uint64_t Guest::icc_read(unsigned cpu, uint32_t enc) {
  uint64_t v = 0;
  EXPECT_EQ(vgic_sysreg_read(g_, cpu, enc, &v), 0) << vgic_last_error();
  return v;
}
void Guest::icc_write(unsigned cpu, uint32_t enc, uint64_t v) {
  EXPECT_EQ(vgic_sysreg_write(g_, cpu, enc, v), 0) << vgic_last_error();
}

void Guest::enable_distributor(bool grp0, bool grp1) { gicd_write(gicd::CTLR, (grp0 ? 1u : 0u) | (grp1 ? 2u : 0u)); }
void Guest::wake(unsigned cpu) { gicr_write(cpu, gicr::WAKER, 0); }
void Guest::enable_cpu_interface(unsigned cpu, uint8_t pmr, bool grp0, bool grp1) {
  icc_write(cpu, icc::PMR, pmr);
  icc_write(cpu, icc::IGRPEN0, grp0);
  icc_write(cpu, icc::IGRPEN1, grp1);
}
void Guest::bring_up_all() {
  enable_distributor();
  for (unsigned c = 0; c < cfg_.nr_cpus; ++c) {
    wake(c);
    enable_cpu_interface(c);
  }
}

namespace {
bool is_private(uint32_t intid) { return intid < 32 || (intid >= 1056 && intid < 1120); }
// Offset of the bit-per-IRQ register word and bit for intid, in GICD or GICR SGI_base terms.
struct Loc {
  bool redist;
  uint32_t word_off;  // offset of the 32-bit register relative to the base of the array
  uint32_t bit;
  uint32_t array_base_shift;  // for E ranges
};
}  // namespace

// base_d: GICD array base for INTIDs 0..1023; base_de: GICD extended array base; base_r: GICR SGI_base array base.
static uint32_t bit_reg_offset(uint32_t intid, uint32_t base_d, uint32_t base_de, uint32_t base_r, bool& redist) {
  redist = is_private(intid);
  if (intid < 32) return base_r;
  if (intid >= 1056 && intid < 1120) return base_r + 4 + (intid - 1056) / 32 * 4;
  if (intid >= 4096) return base_de + (intid - 4096) / 32 * 4;
  return base_d + intid / 32 * 4;
}
static uint32_t bit_of(uint32_t intid) { return intid % 32; }

#define BIT_REG(name) bit_reg_offset(intid, gicd::name, gicd::name##E, gicr::name##0, redist)

void Guest::set_group(uint32_t intid, bool group1, unsigned cpu) {
  bool redist;
  const uint32_t off = BIT_REG(IGROUPR);
  uint64_t v = redist ? gicr_read(cpu, off) : gicd_read(off);
  v = group1 ? (v | 1ull << bit_of(intid)) : (v & ~(1ull << bit_of(intid)));
  redist ? gicr_write(cpu, off, v) : gicd_write(off, v);
}
void Guest::enable(uint32_t intid, unsigned cpu) {
  bool redist;
  const uint32_t off = BIT_REG(ISENABLER);
  redist ? gicr_write(cpu, off, 1ull << bit_of(intid)) : gicd_write(off, 1ull << bit_of(intid));
}
void Guest::disable(uint32_t intid, unsigned cpu) {
  bool redist;
  const uint32_t off = BIT_REG(ICENABLER);
  redist ? gicr_write(cpu, off, 1ull << bit_of(intid)) : gicd_write(off, 1ull << bit_of(intid));
}
void Guest::set_pending(uint32_t intid, unsigned cpu) {
  bool redist;
  const uint32_t off = BIT_REG(ISPENDR);
  redist ? gicr_write(cpu, off, 1ull << bit_of(intid)) : gicd_write(off, 1ull << bit_of(intid));
}
void Guest::clear_pending(uint32_t intid, unsigned cpu) {
  bool redist;
  const uint32_t off = BIT_REG(ICPENDR);
  redist ? gicr_write(cpu, off, 1ull << bit_of(intid)) : gicd_write(off, 1ull << bit_of(intid));
}
bool Guest::is_pending(uint32_t intid, unsigned cpu) {
  bool redist;
  const uint32_t off = BIT_REG(ISPENDR);
  return ((redist ? gicr_read(cpu, off) : gicd_read(off)) >> bit_of(intid)) & 1;
}
bool Guest::is_active(uint32_t intid, unsigned cpu) {
  bool redist;
  const uint32_t off = BIT_REG(ISACTIVER);
  return ((redist ? gicr_read(cpu, off) : gicd_read(off)) >> bit_of(intid)) & 1;
}
void Guest::clear_active(uint32_t intid, unsigned cpu) {
  bool redist;
  const uint32_t off = BIT_REG(ICACTIVER);
  redist ? gicr_write(cpu, off, 1ull << bit_of(intid)) : gicd_write(off, 1ull << bit_of(intid));
}

void Guest::set_priority(uint32_t intid, uint8_t prio, unsigned cpu) {
  // Byte access, as Linux does.
  if (intid < 32) return gicr_write(cpu, gicr::IPRIORITYR + intid, prio, 1);
  if (intid >= 1056 && intid < 1120) return gicr_write(cpu, gicr::IPRIORITYR + 32 + (intid - 1056), prio, 1);
  if (intid >= 4096) return gicd_write(gicd::IPRIORITYRE + (intid - 4096), prio, 1);
  gicd_write(gicd::IPRIORITYR + intid, prio, 1);
}

void Guest::set_edge(uint32_t intid, bool edge, unsigned cpu) {
  uint32_t off;
  bool redist = is_private(intid);
  if (intid < 32) off = gicr::ICFGR0 + intid / 16 * 4;
  else if (intid >= 1056 && intid < 1120) off = gicr::ICFGR0 + 8 + (intid - 1056) / 16 * 4;
  else if (intid >= 4096) off = gicd::ICFGRE + (intid - 4096) / 16 * 4;
  else off = gicd::ICFGR + intid / 16 * 4;
  uint64_t v = redist ? gicr_read(cpu, off) : gicd_read(off);
  const unsigned b = 2 * (intid % 16) + 1;
  v = edge ? (v | 1ull << b) : (v & ~(1ull << b));
  redist ? gicr_write(cpu, off, v) : gicd_write(off, v);
}

void Guest::route(uint32_t spi, uint64_t irouter) {
  const uint32_t off = spi >= 4096 ? gicd::IROUTERE + (spi - 4096) * 8 : gicd::IROUTER + spi * 8;
  gicd_write(off, irouter, 8);
}

uint64_t Guest::mpidr(unsigned cpu) const {
  if (!mpidr_.empty()) return mpidr_[cpu];
  return (cpu % 16) | uint64_t(cpu / 16) << 8;
}

void Guest::route_to_cpu(uint32_t spi, unsigned cpu) {
  const uint64_t m = mpidr(cpu);
  route(spi, (m & 0xffffff) | ((m >> 32) & 0xff) << 32);
}

void Guest::line(uint32_t intid, bool level, unsigned cpu) {
  EXPECT_EQ(vgic_set_irq_level(g_, cpu, intid, level), 0) << vgic_last_error();
}

uint64_t Guest::sgi1r_to(unsigned cpu, uint32_t sgi) const {
  const uint64_t m = mpidr(cpu);
  const uint64_t aff0 = m & 0xff, aff1 = (m >> 8) & 0xff, aff2 = (m >> 16) & 0xff, aff3 = (m >> 32) & 0xff;
  return (1ull << (aff0 % 16)) | aff1 << 16 | uint64_t(sgi) << 24 | aff2 << 32 | (aff0 / 16) << 44 | aff3 << 48;
}

uint64_t Guest::guest_errors() {
  vgic_stats s{};
  EXPECT_EQ(vgic_get_stats(g_, &s), 0);
  return s.guest_errors;
}

void Guest::set_eoimode(unsigned cpu, bool eoimode) {
  const uint64_t ctlr = icc_read(cpu, icc::CTLR);
  icc_write(cpu, icc::CTLR, eoimode ? (ctlr | 2) : (ctlr & ~uint64_t(2)));
}

void Guest::setup(uint32_t intid, bool group1, uint8_t prio, bool edge, unsigned cpu) {
  set_group(intid, group1, cpu);
  set_priority(intid, prio, cpu);
  if (intid >= 16) set_edge(intid, edge, cpu);  // SGIs are always edge-triggered
  if (!is_private(intid)) route_to_cpu(intid, cpu);
  enable(intid, cpu);
}

}  // namespace test
