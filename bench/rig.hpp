// The guest the benchmarks run against (issue 7): a vgic with one ITS, its tables in a block of
// guest RAM, LPIs enabled on every vCPU, one collection per vCPU, and `devices` devices of
// `events` events each, mapped round-robin over the collections as KVM's vgic_lpi_stress does.
// Everything is set up the way a guest driver does it (tests/support: MMIO and the command
// queue); commands are batched (many per GITS_CWRITER write), so a large rig builds quickly.
#pragma once

#include <cstdint>
#include <memory>

#include "support/its_driver.hpp"

namespace gicv3::bench {

struct RigOptions {
  unsigned cpus = 1;
  uint32_t devices = 1;
  uint32_t events = 1;          // mapped events per device
  unsigned event_bits = 0;      // MAPD size; 0: just enough for `events`
  bool lpis_enabled = true;     // LPI configuration Enable bit (disabled LPIs stay pending)
  uint8_t priority = 0x80;
  unsigned cache_entries = 1024;
  unsigned lpi_id_bits = 17;
  uint64_t ram_bytes = 64ull << 20;
  unsigned queue_pages = 256;   // 1 MiB command queue: 32 K commands per batch
};

class Rig {
 public:
  explicit Rig(const RigOptions& o);
  ~Rig();

  vgic* gic() const { return g->gic(); }
  uint64_t doorbell() const { return its->its_base() + 0x10040; }
  // LPI of (device, event) and the vCPU its collection targets.
  uint32_t lpi(uint32_t dev, uint32_t ev) const { return 8192 + dev * opt.events + ev; }
  unsigned cpu_of(uint32_t dev, uint32_t ev) const { return (dev * opt.events + ev) % opt.cpus; }
  int msi(uint32_t dev, uint32_t ev) const { return vgic_signal_msi(gic(), doorbell(), ev, dev); }
  // Queues a command and publishes the batch when the queue is nearly full.
  void command(const RawCommand& cmd);
  void flush();  // publishes what is queued (GITS_CWRITER), which runs it
  unsigned batch_capacity() const { return opt.queue_pages * 4096 / 32 - 1; }

  RigOptions opt;
  std::unique_ptr<test::Guest> g;
  std::unique_ptr<test::GuestRam> ram;
  std::unique_ptr<test::ItsDriver> its;

 private:
  unsigned queued_ = 0;
};

}  // namespace gicv3::bench
