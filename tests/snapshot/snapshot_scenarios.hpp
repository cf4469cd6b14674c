// Deterministic guest scenarios for the full-snapshot tests (round trips, golden files, the
// inspector), and the guest-visible observations that compare a source with its restored copy.
// Everything is driven through the public API, as a guest (MMIO, system registers) and a VMM
// (line levels, MSIs) would.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "support/guest.hpp"
#include "support/guest_ram.hpp"
#include "support/its_driver.hpp"

namespace test::snap {

inline constexpr uint64_t kRamBase = 0x40000000;
inline constexpr uint64_t kRamSize = 4ull << 20;

// A target instance: a GIC with the source's configuration and guest RAM at the same address.
struct Target {
  explicit Target(const vgic_config& cfg) : g(cfg), ram(g.gic(), kRamBase, kRamSize) {}
  Guest g;
  GuestRam ram;
};

inline std::vector<uint8_t> save(vgic* g) {
  size_t len = 0;
  EXPECT_EQ(vgic_save(g, nullptr, &len), VGIC_ENOSPC);
  std::vector<uint8_t> blob(len);
  EXPECT_EQ(vgic_save(g, blob.data(), &len), 0) << vgic_last_error();
  EXPECT_EQ(len, blob.size());
  return blob;
}

// --- Scenario "irqs": SGIs, PPIs, SPIs, extended ranges in various states, active priorities.
inline vgic_config irqs_config() {
  vgic_config c = Guest::config(2);
  c.nr_spis = 64;
  c.nr_espis = 32;
  c.nr_eppis = 32;
  return c;
}

inline void build_irqs(Guest& g) {
  g.bring_up_all();
  g.setup(40, true, 0x80, false, 0);  // level SPI, line held high
  g.line(40, true);
  g.setup(41, true, 0x80, true, 0);   // edge SPI, latched by a pulse
  g.pulse(41);
  g.setup(42, true, 0x40, false, 0);  // level SPI asserted by GICD_SETSPI_NSR
  g.gicd_write(gicd::SETSPI_NSR, 42);
  g.setup(43, false, 0x20, true, 0);  // group 0 edge SPI, acknowledged: active at 0x20 on CPU 0
  g.pulse(43);
  EXPECT_EQ(g.ack0(0), 43u);
  g.setup(44, true, 0x90, true, 0);   // 1-of-N SPI, pending
  g.route(44, 1ull << 31);
  g.set_pending(44);
  g.setup(45, true, 0x70, false, 1);  // level SPI on CPU 1 with its line low: not pending
  g.setup(4100, true, 0x50, false, 1);  // extended SPI, routed to CPU 1 (line raised below)
  g.setup(27, true, 0x60, false, 1);  // PPI 27 on CPU 1, line high
  g.line(27, true, 1);
  g.setup(1060, true, 0x30, true, 0);  // extended PPI, edge, latched
  g.pulse(1060, 0);
  g.setup(3, true, 0x60, true, 1);    // SGIs to CPU 1
  g.setup(5, true, 0x60, true, 1);
  g.send_sgi1(0, 1, 5);
  g.send_sgi1(0, 1, 3);
  EXPECT_EQ(g.ack1(1), 3u);           // SGI 3 active on CPU 1, running priority 0x60
  g.line(4100, true);                 // 0x50: preempts SGI 3
  g.setup(7, false, 0x10, true, 0);   // SGI 7 pending on CPU 0, disabled afterwards
  g.send_sgi1(1, 0, 7);
  g.disable(7, 0);
  g.set_pmr(1, 0xf0);
  g.icc_write(1, icc::BPR1, 3);
  g.set_eoimode(1, true);
  g.sleep(1);                         // CPU 1 asleep: no 1-of-N SPIs for it
  g.line(1065, true, 1);              // a disabled extended PPI's line high
}

// --- Scenario "lpis": two CPUs, an ITS with devices, collections, pending LPIs whose FIFO order
// matters, a cached configuration that differs from guest RAM (no INV yet), a disabled pending LPI.
inline vgic_config lpis_config() { return Guest::config(2); }

inline void build_lpis(ItsHarness& h) {
  ItsDriver& its = h.its;
  its.mapd(1, 4);
  its.mapd(2, 8);
  its.mapd(7, 2);
  its.mapc(0, 0);
  its.mapc(1, 1);
  its.mapti(1, 0, 8192, 0);
  its.mapti(1, 1, 8193, 0);
  its.mapti(1, 2, 8194, 0);
  its.mapti(2, 0, 8300, 1);
  its.mapti(2, 5, 9000, 1);
  its.mapti(2, 200, 9500, 1);
  its.mapti(7, 3, 12000, 0);
  for (uint32_t id : {8192u, 8193u, 8194u}) its.lpi_config(id, 0xa0, true);
  its.lpi_config(8300, 0x80, true);
  its.lpi_config(9000, 0x80, true);
  its.lpi_config(9500, 0x40, false);  // disabled: stays pending outside the buckets
  its.lpi_config(12000, 0x20, true);
  its.invall(0);
  its.invall(1);
  // Equal priorities: taken in arrival order (8193 before 8192, 9000 before 8300).
  EXPECT_EQ(its.msi(1, 1), 1);
  EXPECT_EQ(its.msi(1, 0), 1);
  EXPECT_EQ(its.msi(2, 5), 1);
  EXPECT_EQ(its.msi(2, 0), 1);
  EXPECT_EQ(its.msi(2, 200), 1);
  // The guest changes 8194's priority in RAM but has not issued INV: the cached 0xa0 stays in
  // effect (IHI0069 5.1.1), and must after a restore too.
  its.lpi_config(8194, 0x00, true);
}

// --- Scenario "stalled": an ITS that stalls on a command error, with commands behind it.
inline vgic_config stalled_config() {
  vgic_config c = Guest::config(1);
  c.its[0].error_policy = VGIC_ITS_ERRORS_STALL;
  return c;
}

inline void build_stalled(ItsHarness& h) {
  ItsDriver& its = h.its;
  its.mapd(1, 4);
  its.mapc(0, 0);
  its.mapti(1, 0, 8200, 0);
  its.lpi_config(8200, 0x50, true);
  its.lpi_config(8201, 0x50, true);
  its.invall(0);
  using namespace gicv3;
  // An unmapped device: a command error, the queue stalls in front of the good MAPTI.
  its.enqueue(MaptiCommand{its_cmd::MAPTI, DeviceId(99), EventId(0), 8300, CollectionId(0)}.encode());
  its.enqueue(MaptiCommand{its_cmd::MAPTI, DeviceId(1), EventId(1), 8201, CollectionId(0)}.encode());
  its.flush();
  EXPECT_TRUE(its.stalled());
}

// --- Observations -----------------------------------------------------------------------------

// Guest-visible register values without side effects.
inline std::vector<uint64_t> registers(Guest& g) {
  std::vector<uint64_t> v;
  const vgic_config& c = g.cfg();
  v.push_back(g.gicd_read(gicd::CTLR));
  for (uint32_t n = 1; n <= c.nr_spis / 32; ++n)
    for (uint32_t reg : {gicd::IGROUPR, gicd::ISENABLER, gicd::ISPENDR, gicd::ISACTIVER})
      v.push_back(g.gicd_read(reg + 4 * n));
  for (uint32_t n = 8; n < 8 + c.nr_spis / 4; ++n) v.push_back(g.gicd_read(gicd::IPRIORITYR + 4 * n));
  for (uint32_t n = 2; n < 2 + c.nr_spis / 16; ++n) v.push_back(g.gicd_read(gicd::ICFGR + 4 * n));
  for (uint32_t spi = 32; spi < 32 + c.nr_spis; ++spi) v.push_back(g.gicd_read(gicd::IROUTER + 8 * spi, 8));
  for (uint32_t n = 0; n < c.nr_espis / 32; ++n)
    for (uint32_t reg : {gicd::IGROUPRE, gicd::ISENABLERE, gicd::ISPENDRE, gicd::ISACTIVERE})
      v.push_back(g.gicd_read(reg + 4 * n));
  for (unsigned cpu = 0; cpu < c.nr_cpus; ++cpu) {
    for (uint32_t reg : {gicr::CTLR, gicr::WAKER, gicr::IGROUPR0, gicr::ISENABLER0, gicr::ISPENDR0, gicr::ISACTIVER0,
                         gicr::ICFGR1})
      v.push_back(g.gicr_read(cpu, reg));
    if (c.nr_eppis)
      for (uint32_t reg : {gicr::ISENABLER0 + 4, gicr::ISPENDR0 + 4, gicr::ISACTIVER0 + 4}) v.push_back(g.gicr_read(cpu, reg));
    v.push_back(g.gicr_read(cpu, 0x70, 8));  // GICR_PROPBASER
    v.push_back(g.gicr_read(cpu, 0x78, 8));  // GICR_PENDBASER
    for (uint32_t n = 0; n < 8; ++n) v.push_back(g.gicr_read(cpu, gicr::IPRIORITYR + 4 * n));
    for (uint32_t enc : {icc::PMR, icc::BPR0, icc::BPR1, icc::CTLR, icc::SRE, icc::IGRPEN0, icc::IGRPEN1, icc::AP0R0,
                         icc::AP1R0, icc::RPR, icc::HPPIR0, icc::HPPIR1})
      v.push_back(g.icc_read(cpu, enc));
    v.push_back(uint64_t(g.lines(cpu)));
  }
  return v;
}

// What each CPU acknowledges, in order, as a guest handler would take them: acknowledge, then
// end (and deactivate under EOImode 1); interrupts active at the start (given) are ended after
// the first spurious read. Level interrupts whose line stays high come back: bounded.
inline std::vector<uint32_t> drain(Guest& g, const std::vector<std::vector<uint32_t>>& active_at_start = {}) {
  std::vector<uint32_t> seq;
  for (unsigned cpu = 0; cpu < g.cfg().nr_cpus; ++cpu) {
    const bool eoimode = g.icc_read(cpu, icc::CTLR) & 2;
    auto take = [&] {
      for (int n = 0; n < 24; ++n) {
        uint32_t id = g.ack0(cpu);
        bool grp0 = true;
        if (id == kSpurious) {
          id = g.ack1(cpu);
          grp0 = false;
        }
        if (id == kSpurious) break;
        seq.push_back(cpu << 16 | id);
        seq.push_back(uint32_t(g.rpr(cpu)));
        grp0 ? g.eoi0(cpu, id) : g.eoi1(cpu, id);
        if (eoimode) g.dir(cpu, id);
      }
    };
    take();
    if (cpu < active_at_start.size()) {
      for (uint32_t id : active_at_start[cpu]) {
        // Group of an interrupt active at the start: from the running priority's register.
        (g.icc_read(cpu, icc::AP0R0) ? g.eoi0(cpu, id) : g.eoi1(cpu, id));
        if (eoimode) g.dir(cpu, id);
        seq.push_back(0xeeee0000u | uint32_t(g.rpr(cpu)));
      }
      take();
    }
  }
  return seq;
}

}  // namespace test::snap
