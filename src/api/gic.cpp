// The C++ facade: validates every host argument and forwards to GicCore.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include <istream>
#include <iterator>
#include <ostream>

#include "api/gic_impl.hpp"
#include "snapshot/snapshot_access.hpp"

namespace gicv3 {

namespace {

std::string hex(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

Status validate(const Config& c) {
  auto bad = [](std::string m) { return Status(Errc::invalid_argument, "vgic_create: " + std::move(m)); };
  if (c.nr_cpus < 1 || c.nr_cpus > VGIC_MAX_CPUS)
    return bad("nr_cpus must be 1.." + std::to_string(VGIC_MAX_CPUS) + ", got " + std::to_string(c.nr_cpus));
  if (c.nr_spis % 32 || c.nr_spis > 992)
    return bad("nr_spis must be a multiple of 32 in 0..992 (992: INTIDs 32..1019), got " + std::to_string(c.nr_spis));
  if (c.nr_espis % 32 || c.nr_espis > 1024)
    return bad("nr_espis must be a multiple of 32 in 0..1024, got " + std::to_string(c.nr_espis));
  if (c.nr_eppis != 0 && c.nr_eppis != 32 && c.nr_eppis != 64)
    return bad("nr_eppis must be 0, 32 or 64, got " + std::to_string(c.nr_eppis));
  if (c.priority_bits < 5 || c.priority_bits > 8)
    return bad("priority_bits must be 5..8, got " + std::to_string(c.priority_bits));
  if (!c.mpidr.empty()) {
    if (c.mpidr.size() != c.nr_cpus) return bad("mpidr[] must have nr_cpus entries");
    std::set<uint32_t> seen;
    for (size_t i = 0; i < c.mpidr.size(); ++i) {
      const uint32_t aff = affinity_of_mpidr(c.mpidr[i]);
      if (!seen.insert(aff).second) return bad("mpidr[" + std::to_string(i) + "] repeats the affinity of another CPU");
      if (!c.rss && MPIDR::Aff0::get(c.mpidr[i]) > 15)
        return bad("mpidr[" + std::to_string(i) + "] has Aff0 > 15, which SGIs can only reach with rss = 1");
    }
  } else if (c.nr_cpus > 16 * 256) {
    return bad("too many CPUs for the default affinity layout");
  }
  if (c.gicd_base % 0x10000) return bad("gicd_base " + hex(c.gicd_base) + " is not 64 KiB aligned");
  if (c.gicr_base % 0x10000) return bad("gicr_base " + hex(c.gicr_base) + " is not 64 KiB aligned");
  const uint64_t gicr_size = uint64_t(c.nr_cpus) * 0x20000;
  if (c.gicd_base + 0x10000 < c.gicd_base || c.gicr_base + gicr_size < c.gicr_base)
    return bad("a GIC frame wraps around the address space");
  if (c.gicd_base < c.gicr_base + gicr_size && c.gicr_base < c.gicd_base + 0x10000)
    return bad("the distributor overlaps the redistributors");
  if (c.lpi_id_bits != 0 && (c.lpi_id_bits < 14 || c.lpi_id_bits > 24))
    return bad("lpi_id_bits must be 0 (no LPIs) or 14..24, got " + std::to_string(c.lpi_id_bits));
  if (c.common_lpi_aff > 3) return bad("common_lpi_aff must be 0..3");
  if (c.lpi_id_bits == 0 && (c.direct_lpi || !c.its.empty()))
    return bad("direct_lpi and ITSes need LPIs (lpi_id_bits >= 14)");
  // "This register is mandatory in an implementation that supports LPIs and does not include an
  // ITS" (IHI0069 12.11, GICR_SETLPIR and the other DirectLPI registers): else nothing could make
  // an LPI pending.
  if (c.lpi_id_bits != 0 && c.its.empty() && !c.direct_lpi)
    return bad("LPIs without an ITS need direct_lpi = 1 (IHI0069 12.11: the DirectLPI registers are mandatory then), "
               "or lpi_id_bits = 0");
  if (c.its.size() > VGIC_MAX_ITS) return bad("nr_its must be 0.." + std::to_string(VGIC_MAX_ITS));
  struct Range {
    uint64_t base, size;
    std::string what;
  };
  std::vector<Range> frames = {{c.gicd_base, 0x10000, "the distributor"}, {c.gicr_base, gicr_size, "the redistributors"}};
  for (size_t i = 0; i < c.its.size(); ++i) {
    const ItsConfig& t = c.its[i];
    const std::string w = "its[" + std::to_string(i) + "]";
    if (t.base % 0x10000) return bad(w + ".base " + hex(t.base) + " is not 64 KiB aligned");
    if (t.base + 0x20000 < t.base) return bad(w + " wraps around the address space");
    if (t.device_id_bits < 1 || t.device_id_bits > 32) return bad(w + ".device_id_bits must be 1..32");
    if (t.event_id_bits < 1 || t.event_id_bits > 32) return bad(w + ".event_id_bits must be 1..32");
    if (t.collection_id_bits < 1 || t.collection_id_bits > 16) return bad(w + ".collection_id_bits must be 1..16");
    if (t.itt_entry_size < 8 || t.itt_entry_size > 16) return bad(w + ".itt_entry_size must be 8..16 bytes");
    if (t.hcc > 255 || t.hcc > (1u << t.collection_id_bits)) return bad(w + ".hcc must be 0..255 and within collection_id_bits");
    if (t.cache_entries & (t.cache_entries - 1)) return bad(w + ".cache_entries must be 0 or a power of 2");
    if (t.cache_entries > (1u << 20)) return bad(w + ".cache_entries must be at most 2^20");
    frames.push_back({t.base, 0x20000, w});
  }
  for (size_t i = 0; i < frames.size(); ++i)
    for (size_t j = i + 1; j < frames.size(); ++j)
      if (frames[i].base < frames[j].base + frames[j].size && frames[j].base < frames[i].base + frames[i].size)
        return bad(frames[i].what + " overlaps " + frames[j].what);
  if (c.max_host_memory < (1u << 20)) return bad("max_host_memory must be at least 1 MiB");
  return {};
}

thread_local std::string t_last_error;

}  // namespace

void set_last_error(const Status& s);

Config Config::from_c(const vgic_config& c) {
  Config k;
  k.nr_cpus = c.nr_cpus;
  // Counts are checked by validate(), after this copy: read no more than a valid count allows.
  if (c.mpidr && c.nr_cpus <= VGIC_MAX_CPUS) k.mpidr.assign(c.mpidr, c.mpidr + c.nr_cpus);
  k.nr_spis = c.nr_spis;
  k.nr_espis = c.nr_espis;
  k.nr_eppis = c.nr_eppis;
  k.priority_bits = c.priority_bits;
  k.mbis = c.mbis != 0;
  k.no1n = c.no1n != 0;
  k.rss = c.rss != 0;
  k.gicd_base = c.gicd_base;
  k.gicr_base = c.gicr_base;
  k.gicd_iidr = c.gicd_iidr;
  k.lpi_id_bits = c.lpi_id_bits;
  k.direct_lpi = c.direct_lpi != 0;
  k.common_lpi_aff = c.common_lpi_aff;
  k.max_host_memory = c.max_host_memory;
  k.its.clear();
  for (unsigned i = 0; i < c.nr_its && i < VGIC_MAX_ITS; ++i) {
    const vgic_its_config& ci = c.its[i];
    ItsConfig ki;
    ki.base = ci.base;
    ki.device_id_bits = ci.device_id_bits;
    ki.event_id_bits = ci.event_id_bits;
    ki.collection_id_bits = ci.collection_id_bits;
    ki.hcc = ci.hcc;
    ki.itt_entry_size = ci.itt_entry_size;
    ki.stall_on_error = ci.error_policy == VGIC_ITS_ERRORS_STALL;
    ki.seis = ci.seis != 0;
    ki.pta = ci.pta != 0;
    ki.iidr = ci.iidr;
    ki.cache_entries = ci.cache_entries;
    k.its.push_back(ki);
  }
  if (c.nr_its > VGIC_MAX_ITS) k.its.resize(VGIC_MAX_ITS + 1);  // rejected by validate()
  return k;
}

vgic_config Config::to_c() const {
  vgic_config c;
  std::memset(&c, 0, sizeof c);
  c.nr_cpus = nr_cpus;
  c.mpidr = mpidr.empty() ? nullptr : mpidr.data();
  c.nr_spis = nr_spis;
  c.nr_espis = nr_espis;
  c.nr_eppis = nr_eppis;
  c.priority_bits = priority_bits;
  c.mbis = mbis;
  c.no1n = no1n;
  c.rss = rss;
  c.gicd_base = gicd_base;
  c.gicr_base = gicr_base;
  c.gicd_iidr = gicd_iidr;
  c.lpi_id_bits = lpi_id_bits;
  c.direct_lpi = direct_lpi;
  c.common_lpi_aff = common_lpi_aff;
  c.max_host_memory = max_host_memory;
  c.nr_its = unsigned(its.size());
  for (size_t i = 0; i < its.size() && i < VGIC_MAX_ITS; ++i) {
    vgic_its_config& ci = c.its[i];
    ci.base = its[i].base;
    ci.device_id_bits = its[i].device_id_bits;
    ci.event_id_bits = its[i].event_id_bits;
    ci.collection_id_bits = its[i].collection_id_bits;
    ci.hcc = its[i].hcc;
    ci.itt_entry_size = its[i].itt_entry_size;
    ci.error_policy = its[i].stall_on_error ? VGIC_ITS_ERRORS_STALL : VGIC_ITS_ERRORS_SKIP;
    ci.seis = its[i].seis;
    ci.pta = its[i].pta;
    ci.iidr = its[i].iidr;
    ci.cache_entries = its[i].cache_entries;
  }
  return c;
}

std::unique_ptr<Gic> Gic::create(const Config& config, Status* error) {
  Status s = validate(config);
  if (!s.ok()) {
    if (error) *error = std::move(s);
    return nullptr;
  }
  Config c = config;
  if (!c.gicd_iidr) c.gicd_iidr = 0x5600043B;  // Implementer Arm, ProductID 'V' (see gicd_regs.hpp)
  if (error) *error = Status::Ok();
  return std::unique_ptr<Gic>(new Gic(std::make_unique<Impl>(c)));
}

Gic::Gic(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gic::~Gic() = default;

const Config& Gic::config() const { return impl_->core.config(); }

Status Gic::map_ram(uint64_t gpa, uint64_t size, void* host) { return impl_->core.memory().map(gpa, size, host); }
Status Gic::unmap_ram(uint64_t gpa) { return impl_->core.memory().unmap(gpa); }

namespace {
Status check_size(const char* fn, unsigned size) {
  if (size == 1 || size == 2 || size == 4 || size == 8) return {};
  return {Errc::invalid_argument, std::string(fn) + ": access size must be 1, 2, 4 or 8, got " + std::to_string(size)};
}
Status not_ours(const char* fn, uint64_t gpa) {
  return {Errc::no_such_address, std::string(fn) + ": " + hex(gpa) + " is in no frame of this GIC"};
}
Status check_cpu(const char* fn, unsigned cpu, unsigned n) {
  if (cpu < n) return {};
  return {Errc::invalid_argument, std::string(fn) + ": cpu " + std::to_string(cpu) + " out of range (nr_cpus " +
                                      std::to_string(n) + ")"};
}
Status sysreg_status(const char* fn, SysregResult r, uint32_t enc) {
  switch (r) {
    case SysregResult::ok: return {};
    case SysregResult::undefined: return {Errc::undefined_instruction, "the guest's access is UNDEFINED"};
    case SysregResult::no_such_register: break;
  }
  return {Errc::no_such_address, std::string(fn) + ": encoding " + hex(enc) + " is not a GIC CPU interface register"};
}
}  // namespace

Status Gic::mmio_read(uint64_t gpa, unsigned size, uint64_t& value) {
  value = 0;
  if (Status s = check_size("vgic_mmio_read", size); !s.ok()) return s;
  if (!impl_->core.mmio_read(gpa, size, value)) return not_ours("vgic_mmio_read", gpa);
  return {};
}

Status Gic::mmio_write(uint64_t gpa, unsigned size, uint64_t value) {
  if (Status s = check_size("vgic_mmio_write", size); !s.ok()) return s;
  if (!impl_->core.mmio_write(gpa, size, value)) return not_ours("vgic_mmio_write", gpa);
  return {};
}

// IAR and EOIR are on every interrupt (issue 7): the success path builds no message and calls
// nothing out of line; the checks and their messages are unchanged.
Status Gic::sysreg_read(unsigned cpu, uint32_t enc, uint64_t& value) {
  value = 0;
  GicCore& core = impl_->core;
  if (cpu >= core.nr_cpus()) [[unlikely]]
    return check_cpu("vgic_sysreg_read", cpu, core.nr_cpus());
  const SysregResult r = core.sysreg_read(cpu, enc, value);
  if (r == SysregResult::ok) [[likely]]
    return {};
  return sysreg_status("vgic_sysreg_read", r, enc);
}

Status Gic::sysreg_write(unsigned cpu, uint32_t enc, uint64_t value) {
  GicCore& core = impl_->core;
  if (cpu >= core.nr_cpus()) [[unlikely]]
    return check_cpu("vgic_sysreg_write", cpu, core.nr_cpus());
  const SysregResult r = core.sysreg_write(cpu, enc, value);
  if (r == SysregResult::ok) [[likely]]
    return {};
  return sysreg_status("vgic_sysreg_write", r, enc);
}

Status Gic::set_irq_level(unsigned cpu, uint32_t intid, bool level) {
  GicCore& core = impl_->core;
  const Intid id{intid};
  if (id.is_private() && !id.is_sgi()) {
    if (Status s = check_cpu("vgic_set_irq_level", cpu, core.nr_cpus()); !s.ok()) return s;
    if (id.is_eppi() && intid >= Intid::kEppiBase + core.config().nr_eppis)
      return {Errc::invalid_argument, "vgic_set_irq_level: extended PPI " + std::to_string(intid) + " not configured"};
  } else if (id.is_shared()) {
    const Config& c = core.config();
    const bool ok = id.is_spi() ? intid < Intid::kPpiEnd + c.nr_spis : intid < Intid::kEspiBase + c.nr_espis;  // is_spi() excludes 1020..1023
    if (!ok) return {Errc::invalid_argument, "vgic_set_irq_level: SPI " + std::to_string(intid) + " not configured"};
  } else {
    return {Errc::invalid_argument, "vgic_set_irq_level: INTID " + std::to_string(intid) +
                                        " has no input line (only PPIs and SPIs do)"};
  }
  core.set_irq_level(cpu, intid, level);
  return {};
}

int Gic::signal_msi(uint64_t doorbell_gpa, uint32_t data, uint32_t devid) {
  const int r = impl_->core.signal_msi(doorbell_gpa, data, devid);
  if (r < 0) {
    set_last_error(Status(Errc::no_such_address, "vgic_signal_msi: no doorbell (GITS_TRANSLATER; GICD_SETSPI_NSR with mbis; GICR_SETLPIR with direct_lpi) at " + hex(doorbell_gpa)));
    return VGIC_ENXIO;
  }
  return r;
}

void Gic::set_system_error_notifier(SystemErrorNotifier fn) { impl_->core.set_system_error_notifier(std::move(fn)); }

Status Gic::set_gsi_routing(std::vector<GsiRoute> routes) {
  Status st = impl_->routing.set(std::move(routes));
  if (st.ok()) impl_->irqfds.routing_changed();  // resample marks follow the new routes
  return st;
}

int Gic::set_gsi_level(uint32_t gsi, bool level) {
  const int n = impl_->routing.set_level(gsi, level);
  if (n < 0) {
    set_last_error(Status(Errc::no_entry, "vgic_set_gsi_level: GSI " + std::to_string(gsi) + " has no route"));
    return VGIC_ENOENT;
  }
  return n;
}

Status Gic::irqfd_assign(int eventfd, uint32_t gsi, int resamplefd) { return impl_->irqfds.assign(eventfd, gsi, resamplefd); }
Status Gic::irqfd_deassign(int eventfd, uint32_t gsi) { return impl_->irqfds.deassign(eventfd, gsi); }
Status Gic::irqfd_start_thread() { return impl_->irqfds.start_thread(); }
int Gic::irqfd_poll_fd() const { return impl_->irqfds.poll_fd(); }
int Gic::irqfd_dispatch() { return impl_->irqfds.dispatch(); }

int Gic::register_ack_notifier(unsigned cpu, uint32_t intid, AckNotifier fn) {
  const Config& c = config();
  const Intid id{intid};
  const bool spi = (id.is_spi() && intid < Intid::kPpiEnd + c.nr_spis) || (id.is_espi() && intid < Intid::kEspiBase + c.nr_espis);
  const bool ppi = (id.is_ppi() || (id.is_eppi() && intid < Intid::kEppiBase + c.nr_eppis)) && cpu < c.nr_cpus;
  if ((!spi && !ppi) || !fn) {
    set_last_error(Status(Errc::invalid_argument, "vgic_register_ack_notifier: INTID " + std::to_string(intid) +
                                                      " is no implemented SPI or PPI of that cpu, or fn is NULL"));
    return VGIC_EINVAL;
  }
  return impl_->irqfds.add_ack_notifier(spi ? 0 : cpu, intid, std::move(fn));
}

Status Gic::unregister_ack_notifier(int id) { return impl_->irqfds.remove_ack_notifier(id); }
Status Gic::sync_device_irq_level(unsigned cpu, uint64_t bits) { return impl_->user_irq.sync(cpu, bits); }
Status Gic::set_device_irq_map(unsigned bit, uint32_t ppi, bool edge) { return impl_->user_irq.set_map(bit, ppi, edge); }

int Gic::cpu_lines(unsigned cpu) const {
  if (cpu >= impl_->core.nr_cpus()) return -1;
  return impl_->core.cpu(cpu).lines.load(std::memory_order_acquire);
}

void Gic::set_line_notifier(LineNotifier fn) { impl_->core.set_line_notifier(std::move(fn)); }

Stats Gic::stats() const { return impl_->core.log().stats(); }

void Gic::set_trace_sink(TraceSink sink, unsigned max_per_second) {
  impl_->core.log().set_sink(std::move(sink), max_per_second);
}

// --- Full snapshot (src/snapshot/, docs/snapshot-format.md).

Status Gic::save(std::vector<uint8_t>& out) {
  if (impl_->core.any_vcpu_running())
    return {Errc::busy, "vgic_save: a vCPU is declared running (vgic_vcpu_running); stop every vCPU first"};
  snapshot::Model m;
  SnapshotAccess::capture(*impl_, m);
  out = snapshot::encode(m);
  return {};
}

Status Gic::save(std::span<uint8_t> buf, size_t& len) {
  if (impl_->core.any_vcpu_running())
    return {Errc::busy, "vgic_save: a vCPU is declared running (vgic_vcpu_running); stop every vCPU first"};
  snapshot::Model m;
  SnapshotAccess::capture(*impl_, m);
  std::vector<uint8_t> blob;  // only when the buffer is smaller than the blob's upper bound
  if ((len = snapshot::encode_into(m, buf, blob))) return {};
  len = blob.size();
  if (blob.size() > buf.size())
    return {Errc::no_space, "vgic_save: the snapshot needs " + std::to_string(blob.size()) + " bytes, the buffer holds " +
                                std::to_string(buf.size())};
  std::copy(blob.begin(), blob.end(), buf.begin());
  return {};
}

Status Gic::save(std::ostream& out) {
  std::vector<uint8_t> blob;
  if (Status s = save(blob); !s.ok()) return s;
  out.write(reinterpret_cast<const char*>(blob.data()), std::streamsize(blob.size()));
  if (!out) return {Errc::fault, "vgic_save: writing " + std::to_string(blob.size()) + " bytes to the stream failed"};
  return {};
}

Status Gic::restore(std::span<const uint8_t> blob) {
  if (impl_->core.any_vcpu_running())
    return {Errc::busy, "vgic_restore: a vCPU is declared running (vgic_vcpu_running); stop every vCPU first"};
  // Decode and check everything first: nothing changes unless the whole blob is acceptable.
  snapshot::Model m;
  if (Status s = snapshot::decode(blob, m); !s.ok()) return s;
  std::vector<uint64_t> mpidrs;
  for (unsigned i = 0; i < impl_->core.nr_cpus(); ++i) mpidrs.push_back(impl_->core.topology().mpidr(i));
  if (Status s = snapshot::compare_config(m.config, snapshot::effective_config(config(), mpidrs)); !s.ok()) return s;
  if (Status s = SnapshotAccess::check_budget(*impl_, m); !s.ok()) return s;
  SnapshotAccess::apply(*impl_, m);
  return {};
}

Status Gic::restore(std::istream& in) {
  std::vector<uint8_t> blob{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return {Errc::fault, "vgic_restore: reading the stream failed"};
  return restore(std::span<const uint8_t>(blob));
}

// Shared with the C layer.
void set_last_error(const Status& s) { t_last_error = s.message(); }
const char* last_error() { return t_last_error.c_str(); }

}  // namespace gicv3
