// A tiny "guest driver" for tests: the accesses a GICv3 driver makes, by their spec names, on top of
// the public C API. Scenario tests use only this (MMIO and system registers), like a real guest.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vgic/vgic.h"

namespace test {

// System-register encodings (op0, op1, CRn, CRm, op2), KVM layout.
namespace icc {
constexpr uint32_t PMR = VGIC_SYSREG(3, 0, 4, 6, 0);
constexpr uint32_t IAR0 = VGIC_SYSREG(3, 0, 12, 8, 0), EOIR0 = VGIC_SYSREG(3, 0, 12, 8, 1);
constexpr uint32_t HPPIR0 = VGIC_SYSREG(3, 0, 12, 8, 2), BPR0 = VGIC_SYSREG(3, 0, 12, 8, 3);
constexpr uint32_t AP0R0 = VGIC_SYSREG(3, 0, 12, 8, 4), AP1R0 = VGIC_SYSREG(3, 0, 12, 9, 0);
constexpr uint32_t DIR = VGIC_SYSREG(3, 0, 12, 11, 1), RPR = VGIC_SYSREG(3, 0, 12, 11, 3);
constexpr uint32_t SGI1R = VGIC_SYSREG(3, 0, 12, 11, 5), ASGI1R = VGIC_SYSREG(3, 0, 12, 11, 6);
constexpr uint32_t SGI0R = VGIC_SYSREG(3, 0, 12, 11, 7);
constexpr uint32_t IAR1 = VGIC_SYSREG(3, 0, 12, 12, 0), EOIR1 = VGIC_SYSREG(3, 0, 12, 12, 1);
constexpr uint32_t HPPIR1 = VGIC_SYSREG(3, 0, 12, 12, 2), BPR1 = VGIC_SYSREG(3, 0, 12, 12, 3);
constexpr uint32_t CTLR = VGIC_SYSREG(3, 0, 12, 12, 4), SRE = VGIC_SYSREG(3, 0, 12, 12, 5);
constexpr uint32_t IGRPEN0 = VGIC_SYSREG(3, 0, 12, 12, 6), IGRPEN1 = VGIC_SYSREG(3, 0, 12, 12, 7);
}  // namespace icc

// GICD offsets used by tests.
namespace gicd {
constexpr uint32_t CTLR = 0x0, TYPER = 0x4, IIDR = 0x8, TYPER2 = 0xC, STATUSR = 0x10;
constexpr uint32_t SETSPI_NSR = 0x40, CLRSPI_NSR = 0x48;
constexpr uint32_t IGROUPR = 0x80, ISENABLER = 0x100, ICENABLER = 0x180, ISPENDR = 0x200, ICPENDR = 0x280;
constexpr uint32_t ISACTIVER = 0x300, ICACTIVER = 0x380, IPRIORITYR = 0x400, ICFGR = 0xC00;
constexpr uint32_t IGROUPRE = 0x1000, ISENABLERE = 0x1200, ICENABLERE = 0x1400, ISPENDRE = 0x1600;
constexpr uint32_t ICPENDRE = 0x1800, ISACTIVERE = 0x1A00, ICACTIVERE = 0x1C00, IPRIORITYRE = 0x2000;
constexpr uint32_t ICFGRE = 0x3000, IROUTER = 0x6000, IROUTERE = 0x8000, PIDR2 = 0xFFE8;
}  // namespace gicd
// GICR offsets from RD_base; SGI_base registers include the +0x10000.
namespace gicr {
constexpr uint32_t CTLR = 0x0, IIDR = 0x4, TYPER = 0x8, WAKER = 0x14, PIDR2 = 0xFFE8;
constexpr uint32_t SGI = 0x10000;
constexpr uint32_t IGROUPR0 = SGI + 0x80, ISENABLER0 = SGI + 0x100, ICENABLER0 = SGI + 0x180;
constexpr uint32_t ISPENDR0 = SGI + 0x200, ICPENDR0 = SGI + 0x280, ISACTIVER0 = SGI + 0x300;
constexpr uint32_t ICACTIVER0 = SGI + 0x380, IPRIORITYR = SGI + 0x400, ICFGR0 = SGI + 0xC00, ICFGR1 = SGI + 0xC04;
}  // namespace gicr

constexpr uint32_t kSpurious = 1023;

// Owns a vgic instance; every call asserts (with gtest) that the host-level call succeeded.
class Guest {
 public:
  explicit Guest(const vgic_config& cfg);
  // Defaults from vgic_config_init with nr_cpus set.
  static vgic_config config(unsigned nr_cpus);
  ~Guest();

  vgic* gic() const { return g_; }
  const vgic_config& cfg() const { return cfg_; }

  // Raw MMIO relative to the frames.
  uint64_t gicd_read(uint32_t off, unsigned size = 4);
  void gicd_write(uint32_t off, uint64_t v, unsigned size = 4);
  uint64_t gicr_read(unsigned cpu, uint32_t off, unsigned size = 4);
  void gicr_write(unsigned cpu, uint32_t off, uint64_t v, unsigned size = 4);
  uint64_t icc_read(unsigned cpu, uint32_t enc);
  void icc_write(unsigned cpu, uint32_t enc, uint64_t v);

  // Driver-level steps, as Linux's irq-gic-v3 does them.
  void enable_distributor(bool grp0 = true, bool grp1 = true);
  void wake(unsigned cpu);                   // GICR_WAKER.ProcessorSleep = 0
  void enable_cpu_interface(unsigned cpu, uint8_t pmr = 0xff, bool grp0 = true, bool grp1 = true);
  void bring_up_all();                       // distributor + every CPU awake and enabled

  // Per-interrupt configuration; routes to GICD or to cpu's GICR by INTID.
  void set_group(uint32_t intid, bool group1, unsigned cpu = 0);
  void set_priority(uint32_t intid, uint8_t prio, unsigned cpu = 0);
  void set_edge(uint32_t intid, bool edge, unsigned cpu = 0);
  void enable(uint32_t intid, unsigned cpu = 0);
  void disable(uint32_t intid, unsigned cpu = 0);
  void set_pending(uint32_t intid, unsigned cpu = 0);
  void clear_pending(uint32_t intid, unsigned cpu = 0);
  bool is_pending(uint32_t intid, unsigned cpu = 0);
  bool is_active(uint32_t intid, unsigned cpu = 0);
  void clear_active(uint32_t intid, unsigned cpu = 0);
  void route(uint32_t spi, uint64_t irouter);
  void route_to_cpu(uint32_t spi, unsigned cpu);  // IROUTER = MPIDR affinity of cpu

  // Device side.
  void line(uint32_t intid, bool level, unsigned cpu = 0);
  // An edge on the line: high then low (an edge-triggered interrupt latches pending).
  void pulse(uint32_t intid, unsigned cpu = 0) {
    line(intid, true, cpu);
    line(intid, false, cpu);
  }

  // CPU side.
  uint32_t ack1(unsigned cpu) { return uint32_t(icc_read(cpu, icc::IAR1)); }
  uint32_t ack0(unsigned cpu) { return uint32_t(icc_read(cpu, icc::IAR0)); }
  void eoi1(unsigned cpu, uint32_t intid) { icc_write(cpu, icc::EOIR1, intid); }
  void eoi0(unsigned cpu, uint32_t intid) { icc_write(cpu, icc::EOIR0, intid); }
  void dir(unsigned cpu, uint32_t intid) { icc_write(cpu, icc::DIR, intid); }
  int lines(unsigned cpu) { return vgic_cpu_lines(g_, cpu); }
  bool irq(unsigned cpu) { return lines(cpu) & VGIC_LINE_IRQ; }
  bool fiq(unsigned cpu) { return lines(cpu) & VGIC_LINE_FIQ; }
  // ICC_SGI1R value for one target CPU (by its default affinity).
  uint64_t sgi1r_to(unsigned cpu, uint32_t sgi) const;
  void send_sgi1(unsigned from, unsigned to, uint32_t sgi) { icc_write(from, icc::SGI1R, sgi1r_to(to, sgi)); }

  uint64_t mpidr(unsigned cpu) const;
  uint64_t guest_errors();

  // --- CPU interface steps and shorthands used by the scenario tests.
  uint8_t rpr(unsigned cpu) { return uint8_t(icc_read(cpu, icc::RPR)); }
  uint32_t hppir0(unsigned cpu) { return uint32_t(icc_read(cpu, icc::HPPIR0)); }
  uint32_t hppir1(unsigned cpu) { return uint32_t(icc_read(cpu, icc::HPPIR1)); }
  void set_pmr(unsigned cpu, uint8_t pmr) { icc_write(cpu, icc::PMR, pmr); }
  void set_eoimode(unsigned cpu, bool eoimode);  // ICC_CTLR_EL1.EOImode, other fields kept
  // Configures one interrupt the way a driver does before enabling it: group, priority, trigger,
  // for an SPI the route to cpu (IROUTER), then the enable. Private INTIDs use cpu's redistributor.
  void setup(uint32_t intid, bool group1, uint8_t prio, bool edge, unsigned cpu = 0);
  // Sleep state of a redistributor (GICR_WAKER.ProcessorSleep).
  void sleep(unsigned cpu) { gicr_write(cpu, gicr::WAKER, 2); }

 private:
  vgic_config cfg_;
  std::vector<uint64_t> mpidr_;
  vgic* g_ = nullptr;
};

}  // namespace test
