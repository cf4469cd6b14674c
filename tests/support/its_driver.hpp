// A small guest ITS driver for tests, doing what Linux's irq-gic-v3-its does: allocate the device
// and collection tables (flat or two-level, any page size), the command queue and the LPI tables,
// then issue commands by name. Commands are built with the same value types the ITS decodes
// (its/its_command_words.hpp), whose encode/decode round trip is tested separately.
#pragma once

#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "its/its_command_words.hpp"
#include "support/guest.hpp"
#include "support/guest_ram.hpp"

namespace test {

struct ItsOptions {
  unsigned its = 0;               // which ITS of the GIC
  uint64_t page_size = 65536;     // GITS_BASER page size for both tables
  bool indirect_devices = false;  // two-level device table
  bool indirect_collections = false;
  unsigned table_pages = 1;       // GITS_BASER.Size + 1
  unsigned queue_pages = 1;       // GITS_CBASER.Size + 1
  bool enable = true;             // GITS_CTLR.Enabled at the end of init()
};

class ItsDriver {
 public:
  ItsDriver(Guest& g, GuestRam& ram, ItsOptions opt = {});

  // Probe + program BASERs, CBASER, CWRITER = 0, enable.
  void init();
  // Per CPU: PROPBASER (table filled with 0xa2: priority 0xa0, disabled), PENDBASER, EnableLPIs.
  void enable_lpis(unsigned cpu);
  void enable_lpis_all();

  // Commands (each written to the next queue slot, CWRITER advanced: runs synchronously).
  void mapd(uint32_t dev, unsigned event_bits, bool valid = true);
  void mapc(uint32_t icid, unsigned cpu, bool valid = true);
  void mapti(uint32_t dev, uint32_t event, uint32_t intid, uint32_t icid);
  void mapi(uint32_t dev, uint32_t event, uint32_t icid);
  void movi(uint32_t dev, uint32_t event, uint32_t icid);
  void movall(unsigned from_cpu, unsigned to_cpu);
  void discard(uint32_t dev, uint32_t event);
  void inv(uint32_t dev, uint32_t event);
  void invall(uint32_t icid);
  void int_(uint32_t dev, uint32_t event);
  void clear(uint32_t dev, uint32_t event);
  void sync(unsigned cpu);
  void send(const gicv3::RawCommand& cmd);  // any raw command (malformed ones too)

  // Configuration table entry of an LPI (takes effect after INV/INVALL).
  void lpi_config(uint32_t intid, uint8_t priority, bool enabled);
  // An MSI from a device (the VMM's vgic_signal_msi): 1 pending, 0 blocked.
  int msi(uint32_t dev, uint32_t event);

  uint64_t creadr();
  bool stalled() { return creadr() & 1; }
  uint64_t its_base() const;
  uint64_t rdbase(unsigned cpu) const;  // PTA-dependent RDbase field value
  uint64_t prop_table() const { return prop_; }
  uint64_t pend_table(unsigned cpu) const { return pend_[cpu]; }
  uint64_t device_table() const { return dev_table_; }
  uint64_t queue() const { return queue_; }
  uint64_t itt(uint32_t dev) const;
  uint64_t gits_read(uint32_t off, unsigned size = 8);
  void gits_write(uint32_t off, uint64_t v, unsigned size = 8);

  // Queue control beyond send(): enqueue() writes a command into the next slot without writing
  // GITS_CWRITER; flush() then publishes everything enqueued with one GITS_CWRITER write, and
  // retry() does the same with GITS_CWRITER.Retry = 1 (restarts a stalled queue).
  void enqueue(const gicv3::RawCommand& cmd);
  void flush();
  void retry();
  uint64_t cwriter() const { return cwriter_; }  // queue offset of the next command slot
  uint64_t queue_bytes() const { return uint64_t(opt_.queue_pages) * 4096; }
  uint64_t collection_table() const { return coll_table_; }

 private:
  uint64_t alloc_table(uint64_t baser_type_bits, bool indirect, uint64_t& baser);
  void ensure_l2(uint64_t table, bool indirect, uint64_t id);
  Guest& g_;
  GuestRam& ram_;
  ItsOptions opt_;
  uint64_t dev_table_ = 0, coll_table_ = 0, queue_ = 0, prop_ = 0;
  std::vector<uint64_t> pend_;
  uint64_t cwriter_ = 0;
  std::vector<std::pair<uint32_t, uint64_t>> itts_;
  bool pta_ = false;
};

// A GIC with guest RAM at 0x40000000, the distributor and every CPU interface up, one ITS
// initialised (opt) and LPIs enabled on every CPU. System Errors reported through
// vgic_set_system_error_notifier are recorded.
class ItsHarness {
 public:
  explicit ItsHarness(const vgic_config& cfg, ItsOptions opt = {}, uint64_t ram_bytes = 4ull << 20);
  ~ItsHarness();
  std::vector<uint32_t> sei_codes();                      // error codes, in order
  std::vector<std::pair<unsigned, uint32_t>> seis();      // (ITS index, error code), in order

  Guest g;
  GuestRam ram;
  ItsDriver its;

 private:
  static void on_sei(void* self, unsigned index, uint32_t code);
  std::mutex sei_lock_;
  std::vector<std::pair<unsigned, uint32_t>> sei_;
};

}  // namespace test
