// vgic — C++ facade. The primary API; <vgic/vgic.h> is a thin C layer over it.
// Threading contract: see <vgic/vgic.h>; it is the same for every member function here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vgic/vgic.h"

namespace gicv3 {

// Host-error codes (negative, equal to Linux errno values; see vgic.h).
enum class Errc : int {
  ok = VGIC_OK,
  not_permitted = VGIC_EPERM,
  no_entry = VGIC_ENOENT,
  no_such_address = VGIC_ENXIO,
  no_memory = VGIC_ENOMEM,
  fault = VGIC_EFAULT,
  busy = VGIC_EBUSY,
  exists = VGIC_EEXIST,
  no_device = VGIC_ENODEV,
  invalid_argument = VGIC_EINVAL,
  no_space = VGIC_ENOSPC,
  out_of_range = VGIC_ERANGE,
  not_implemented = VGIC_ENOSYS,
  // Not an error: the guest's system-register access is UNDEFINED (the VMM injects an exception).
  undefined_instruction = VGIC_SYSREG_UNDEFINED,
};

// The outcome of a host-facing call: a code and, on error, a precise message.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  // Non-negative codes are successes (the call did what the architecture says).
  bool ok() const { return static_cast<int>(code_) >= 0; }
  bool undefined_instruction() const { return code_ == Errc::undefined_instruction; }
  explicit operator bool() const { return ok(); }
  Errc code() const { return code_; }
  int raw() const { return static_cast<int>(code_); }
  const std::string& message() const { return message_; }

 private:
  Errc code_ = Errc::ok;
  std::string message_;
};

struct ItsConfig {
  uint64_t base = 0x08080000;
  unsigned device_id_bits = 16;
  unsigned event_id_bits = 16;
  unsigned collection_id_bits = 16;
  unsigned hcc = 0;
  unsigned itt_entry_size = 8;
  bool stall_on_error = false;
  bool seis = false;
  bool pta = false;
  uint32_t iidr = 0;  // 0: vgic's default
  unsigned cache_entries = 1024;
};

struct Config {
  unsigned nr_cpus = 1;
  std::vector<uint64_t> mpidr;  // empty: default affinities (Aff0 = i % 16, Aff1 = i / 16)
  unsigned nr_spis = 256;
  unsigned nr_espis = 0;
  unsigned nr_eppis = 0;
  unsigned priority_bits = 5;
  bool mbis = true;
  bool no1n = false;
  bool rss = false;
  uint64_t gicd_base = 0x08000000;
  uint64_t gicr_base = 0x080A0000;
  uint32_t gicd_iidr = 0;  // 0: vgic's default
  unsigned lpi_id_bits = 16;  // 0: no LPIs
  bool direct_lpi = false;
  unsigned common_lpi_aff = 0;
  std::vector<ItsConfig> its = {ItsConfig{}};
  uint64_t max_host_memory = 256ull << 20;

  static Config from_c(const vgic_config& c);
  vgic_config to_c() const;  // mpidr points into this Config
};

struct Stats {
  uint64_t guest_errors = 0;
  uint64_t trace_dropped = 0;
  uint64_t spurious_acks = 0;
};

struct TraceEvent {
  const char* kind;
  const char* frame;
  unsigned cpu;
  uint64_t offset;
  uint64_t value;
  std::string detail;
};

// One route of the GSI routing table (KVM_SET_GSI_ROUTING).
struct GsiRoute {
  enum class Type : uint8_t { irqchip, msi };
  uint32_t gsi = 0;
  Type type = Type::irqchip;
  uint32_t intid = 0;     // irqchip: the SPI (KVM's pin + 32)
  uint64_t address = 0;   // msi: doorbell (GITS_TRANSLATER or GICD_SETSPI_NSR)
  uint32_t data = 0;
  uint32_t devid = 0;
  bool devid_valid = false;
};

using LineNotifier = std::function<void(unsigned cpu, int lines)>;
using AckNotifier = std::function<void(unsigned cpu, uint32_t intid)>;
using SystemErrorNotifier = std::function<void(unsigned its, uint32_t error_code)>;
using TraceSink = std::function<void(const TraceEvent&)>;

class Gic {
 public:
  // Returns nullptr and fills *error on an invalid configuration.
  static std::unique_ptr<Gic> create(const Config& config, Status* error = nullptr);
  ~Gic();
  Gic(const Gic&) = delete;
  Gic& operator=(const Gic&) = delete;

  const Config& config() const;

  Status map_ram(uint64_t gpa, uint64_t size, void* host);
  Status unmap_ram(uint64_t gpa);

  Status mmio_read(uint64_t gpa, unsigned size, uint64_t& value);
  Status mmio_write(uint64_t gpa, unsigned size, uint64_t value);

  Status sysreg_read(unsigned cpu, uint32_t encoding, uint64_t& value);
  Status sysreg_write(unsigned cpu, uint32_t encoding, uint64_t value);

  Status set_irq_level(unsigned cpu, uint32_t intid, bool level);

  // KVM_SIGNAL_MSI with a DeviceID. Returns 1 (made pending), 0 (blocked by the guest's
  // configuration), or a negative Errc value (no doorbell at that address). See vgic.h.
  int signal_msi(uint64_t doorbell_gpa, uint32_t data, uint32_t devid);
  void set_system_error_notifier(SystemErrorNotifier fn);

  // --- VMM integration (see vgic.h for the semantics).
  Status set_gsi_routing(std::vector<GsiRoute> routes);
  int set_gsi_level(uint32_t gsi, bool level);  // routes delivered, or negative Errc
  Status irqfd_assign(int eventfd, uint32_t gsi, int resamplefd = -1);
  Status irqfd_deassign(int eventfd, uint32_t gsi);
  Status irqfd_start_thread();
  int irqfd_poll_fd() const;
  int irqfd_dispatch();
  int register_ack_notifier(unsigned cpu, uint32_t intid, AckNotifier fn);  // id > 0, or negative Errc
  Status unregister_ack_notifier(int id);
  Status sync_device_irq_level(unsigned cpu, uint64_t bits);
  Status set_device_irq_map(unsigned bit, uint32_t ppi, bool edge);

  // KVM device-attribute API (see vgic.h). Return 0 or a negative VGIC_E* value, as KVM.
  enum class AttrOp { get, set, has };
  int device_attr(AttrOp op, uint32_t group, uint64_t attr, void* addr);
  int its_attr(unsigned its, AttrOp op, uint32_t group, uint64_t attr, void* addr);
  Status vcpu_running(unsigned cpu, bool running);

  // Full snapshot (see vgic_save / vgic_restore in vgic.h for the contract and what is stored).
  Status save(std::vector<uint8_t>& out);
  Status save(std::ostream& out);
  // Into buf, as vgic_save: len is the bytes written, or on Errc::no_space the bytes needed.
  Status save(std::span<uint8_t> buf, size_t& len);
  Status restore(std::span<const uint8_t> blob);
  Status restore(std::istream& in);

  // Bit 0 IRQ, bit 1 FIQ; -1 for an invalid cpu. Lock-free.
  int cpu_lines(unsigned cpu) const;
  void set_line_notifier(LineNotifier fn);

  Stats stats() const;
  void set_trace_sink(TraceSink sink, unsigned max_per_second = 100);

  struct Impl;
  Impl& impl() { return *impl_; }  // for in-tree tools and tests; not part of the stable API

 private:
  explicit Gic(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gicv3
