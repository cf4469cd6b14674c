// The C API: a thin layer over the C++ facade. No behaviour lives here.
#include <cstring>
#include <new>
#include <type_traits>
#include <vector>

#include "api/c_handle.hpp"
#include "routing/gsi_routing.hpp"
#include "vgic/vgic.h"
#include "vgic/vgic.hpp"

namespace gicv3 {
void set_last_error(const Status& s);
const char* last_error();
}  // namespace gicv3

namespace {
int ret(const gicv3::Status& s) {
  if (!s.ok()) gicv3::set_last_error(s);
  return s.raw();
}
int null_handle(const char* fn) {
  gicv3::set_last_error(gicv3::Status(gicv3::Errc::invalid_argument, std::string(fn) + ": the vgic handle is NULL"));
  return VGIC_EINVAL;
}

// No exception may unwind into C. vgic's guest-scaled allocations are charged to the host budget
// and made with nothrow new, so what can still throw is the host running out of resources (memory
// for a container, a map node or a message; a thread): the call then returns VGIC_ENOMEM (a
// handle-returning call NULL, a void call nothing). The GIC stays usable: locks are scoped, and an
// operation cut short leaves valid state, possibly not updated.
// The handler of guarded(), out of line so that the entry points keep their small frames (the MSI
// hit path is one of them): called inside a catch block, it names what was thrown.
[[gnu::cold, gnu::noinline]] void record_exception(const char* fn) noexcept {
  try {
    std::string what = "host out of memory";
    try {
      throw;
    } catch (const std::bad_alloc&) {
    } catch (const std::exception& e) {
      what = std::string("host resources exhausted (") + e.what() + ")";
    } catch (...) {
    }
    gicv3::set_last_error(gicv3::Status(gicv3::Errc::no_memory, std::string(fn) + ": " + what));
  } catch (...) {
  }
}

template <class F>
auto guarded(const char* fn, F&& f) noexcept -> decltype(f()) {
  using R = decltype(f());
  try {
    return f();
  } catch (...) {
    record_exception(fn);
    if constexpr (std::is_same_v<R, int>) return VGIC_ENOMEM;
    else if constexpr (std::is_pointer_v<R>) return nullptr;
    else return;
  }
}
}  // namespace

extern "C" {

void vgic_config_init(vgic_config* cfg) {
  if (!cfg) return;
  const gicv3::Config d;
  *cfg = d.to_c();
  // Every ITS slot gets the defaults, so that raising nr_its needs only a base address per ITS.
  for (unsigned i = 1; i < VGIC_MAX_ITS; ++i) {
    cfg->its[i] = cfg->its[0];
    cfg->its[i].base = 0;
  }
}

vgic* vgic_create(const vgic_config* cfg, char* err, size_t err_len) {
  vgic* const created = guarded("vgic_create", [&]() -> vgic* {
    auto fail = [&](const std::string& m) -> vgic* {
      gicv3::set_last_error(gicv3::Status(gicv3::Errc::invalid_argument, m));
      if (err && err_len) {
        std::strncpy(err, m.c_str(), err_len - 1);
        err[err_len - 1] = '\0';
      }
      return nullptr;
    };
    if (!cfg) return fail("vgic_create: cfg is NULL");
    // The C enum becomes a flag in Config: check its values here.
    for (unsigned i = 0; i < cfg->nr_its && i < VGIC_MAX_ITS; ++i)
      if (cfg->its[i].error_policy != VGIC_ITS_ERRORS_SKIP && cfg->its[i].error_policy != VGIC_ITS_ERRORS_STALL)
        return fail("vgic_create: its[" + std::to_string(i) + "].error_policy must be VGIC_ITS_ERRORS_SKIP or "
                    "VGIC_ITS_ERRORS_STALL, got " + std::to_string(cfg->its[i].error_policy));
    gicv3::Status st;
    auto gic = gicv3::Gic::create(gicv3::Config::from_c(*cfg), &st);
    if (!gic) return fail(st.message());
    auto* g = new (std::nothrow) vgic{std::move(gic)};
    if (!g) return fail("vgic_create: out of memory");
    if (err && err_len) err[0] = '\0';
    return g;
  });
  if (!created && err && err_len) {  // also when an exception ended the call (host out of memory)
    std::strncpy(err, gicv3::last_error(), err_len - 1);
    err[err_len - 1] = '\0';
  }
  return created;
}

void vgic_destroy(vgic* g) { delete g; }

int vgic_map_ram(vgic* g, uint64_t gpa, uint64_t size, void* host) {
  return guarded("vgic_map_ram", [&]() -> int {
    return g ? ret(g->gic->map_ram(gpa, size, host)) : null_handle("vgic_map_ram");
  });
}
int vgic_unmap_ram(vgic* g, uint64_t gpa) {
  return guarded("vgic_unmap_ram", [&] { return g ? ret(g->gic->unmap_ram(gpa)) : null_handle("vgic_unmap_ram"); });
}

int vgic_mmio_read(vgic* g, uint64_t gpa, unsigned size, uint64_t* val) {
  return guarded("vgic_mmio_read", [&]() -> int {
    if (!g) return null_handle("vgic_mmio_read");
    if (!val) return ret({gicv3::Errc::fault, "vgic_mmio_read: val is NULL"});
    return ret(g->gic->mmio_read(gpa, size, *val));
  });
}
int vgic_mmio_write(vgic* g, uint64_t gpa, unsigned size, uint64_t val) {
  return guarded("vgic_mmio_write", [&]() -> int {
    return g ? ret(g->gic->mmio_write(gpa, size, val)) : null_handle("vgic_mmio_write");
  });
}

int vgic_sysreg_read(vgic* g, unsigned cpu, uint32_t sysreg, uint64_t* val) {
  return guarded("vgic_sysreg_read", [&]() -> int {
    if (!g) return null_handle("vgic_sysreg_read");
    if (!val) return ret({gicv3::Errc::fault, "vgic_sysreg_read: val is NULL"});
    return ret(g->gic->sysreg_read(cpu, sysreg, *val));
  });
}
int vgic_sysreg_write(vgic* g, unsigned cpu, uint32_t sysreg, uint64_t val) {
  return guarded("vgic_sysreg_write", [&]() -> int {
    return g ? ret(g->gic->sysreg_write(cpu, sysreg, val)) : null_handle("vgic_sysreg_write");
  });
}

int vgic_set_irq_level(vgic* g, unsigned cpu, uint32_t intid, int level) {
  return guarded("vgic_set_irq_level", [&]() -> int {
    return g ? ret(g->gic->set_irq_level(cpu, intid, level != 0)) : null_handle("vgic_set_irq_level");
  });
}

int vgic_signal_msi(vgic* g, uint64_t doorbell_gpa, uint32_t data, uint32_t devid) {
  return guarded("vgic_signal_msi", [&]() -> int {
    return g ? g->gic->signal_msi(doorbell_gpa, data, devid) : null_handle("vgic_signal_msi");
  });
}

void vgic_set_system_error_notifier(vgic* g, vgic_sei_fn fn, void* opaque) {
  guarded("vgic_set_system_error_notifier", [&]() -> void {
    if (!g) return;
    if (!fn) {
      g->gic->set_system_error_notifier(nullptr);
      return;
    }
    g->gic->set_system_error_notifier([fn, opaque](unsigned its, uint32_t code) { fn(opaque, its, code); });
  });
}

int vgic_set_gsi_routing(vgic* g, const vgic_gsi_route* routes, unsigned nr) {
  return guarded("vgic_set_gsi_routing", [&]() -> int {
    if (!g) return null_handle("vgic_set_gsi_routing");
    if (nr && !routes) return ret({gicv3::Errc::fault, "vgic_set_gsi_routing: routes is NULL"});
    // As KVM_SET_GSI_ROUTING: at most KVM_MAX_IRQ_ROUTES entries (checked before anything is
    // allocated), and flags other than KVM_MSI_VALID_DEVID on an MSI route, or any flag on an
    // irqchip route, are EINVAL.
    if (nr > gicv3::GsiRouting::kMaxRoutes)
      return ret({gicv3::Errc::invalid_argument, "vgic_set_gsi_routing: more than " + std::to_string(gicv3::GsiRouting::kMaxRoutes) + " routes"});
    std::vector<gicv3::GsiRoute> v;
    v.reserve(nr);
    for (unsigned i = 0; i < nr; ++i) {
      const vgic_gsi_route& r = routes[i];
      const uint32_t allowed = r.type == VGIC_ROUTE_MSI ? VGIC_MSI_VALID_DEVID : 0;
      if (r.flags & ~allowed)
        return ret({gicv3::Errc::invalid_argument, "vgic_set_gsi_routing: route " + std::to_string(i) + " has unknown flags"});
      gicv3::GsiRoute k;
      k.gsi = r.gsi;
      if (r.type == VGIC_ROUTE_IRQCHIP) {
        k.type = gicv3::GsiRoute::Type::irqchip;
        k.intid = r.pin + 32;
        if (r.pin > 0xffffu) return ret({gicv3::Errc::invalid_argument, "vgic_set_gsi_routing: pin out of range"});
      } else if (r.type == VGIC_ROUTE_MSI) {
        k.type = gicv3::GsiRoute::Type::msi;
        k.address = r.address;
        k.data = r.data;
        k.devid = r.devid;
        k.devid_valid = r.flags & VGIC_MSI_VALID_DEVID;
      } else {
        return ret({gicv3::Errc::invalid_argument, "vgic_set_gsi_routing: route " + std::to_string(i) + " has an unknown type"});
      }
      v.push_back(k);
    }
    return ret(g->gic->set_gsi_routing(std::move(v)));
  });
}

int vgic_set_gsi_level(vgic* g, uint32_t gsi, int level) {
  return guarded("vgic_set_gsi_level", [&]() -> int {
    return g ? g->gic->set_gsi_level(gsi, level != 0) : null_handle("vgic_set_gsi_level");
  });
}
int vgic_irqfd_assign(vgic* g, int eventfd, uint32_t gsi, int resamplefd) {
  return guarded("vgic_irqfd_assign", [&]() -> int {
    return g ? ret(g->gic->irqfd_assign(eventfd, gsi, resamplefd)) : null_handle("vgic_irqfd_assign");
  });
}
int vgic_irqfd_deassign(vgic* g, int eventfd, uint32_t gsi) {
  return guarded("vgic_irqfd_deassign", [&]() -> int {
    return g ? ret(g->gic->irqfd_deassign(eventfd, gsi)) : null_handle("vgic_irqfd_deassign");
  });
}
int vgic_irqfd_start_thread(vgic* g) {
  return guarded("vgic_irqfd_start_thread", [&] { return g ? ret(g->gic->irqfd_start_thread()) : null_handle("vgic_irqfd_start_thread"); });
}
int vgic_irqfd_poll_fd(vgic* g) {
  return guarded("vgic_irqfd_poll_fd", [&] { return g ? g->gic->irqfd_poll_fd() : null_handle("vgic_irqfd_poll_fd"); });
}
int vgic_irqfd_dispatch(vgic* g) {
  return guarded("vgic_irqfd_dispatch", [&] { return g ? g->gic->irqfd_dispatch() : null_handle("vgic_irqfd_dispatch"); });
}

int vgic_register_ack_notifier(vgic* g, unsigned cpu, uint32_t intid, vgic_ack_fn fn, void* opaque) {
  return guarded("vgic_register_ack_notifier", [&]() -> int {
    if (!g) return null_handle("vgic_register_ack_notifier");
    if (!fn) return ret({gicv3::Errc::invalid_argument, "vgic_register_ack_notifier: fn is NULL"});
    return g->gic->register_ack_notifier(cpu, intid, [fn, opaque](unsigned c, uint32_t i) { fn(opaque, c, i); });
  });
}
int vgic_unregister_ack_notifier(vgic* g, int id) {
  return guarded("vgic_unregister_ack_notifier", [&]() -> int {
    return g ? ret(g->gic->unregister_ack_notifier(id)) : null_handle("vgic_unregister_ack_notifier");
  });
}
int vgic_sync_device_irq_level(vgic* g, unsigned cpu, uint64_t bits) {
  return guarded("vgic_sync_device_irq_level", [&]() -> int {
    return g ? ret(g->gic->sync_device_irq_level(cpu, bits)) : null_handle("vgic_sync_device_irq_level");
  });
}
int vgic_set_device_irq_map(vgic* g, unsigned bit, uint32_t ppi, int edge) {
  return guarded("vgic_set_device_irq_map", [&]() -> int {
    return g ? ret(g->gic->set_device_irq_map(bit, ppi, edge != 0)) : null_handle("vgic_set_device_irq_map");
  });
}

int vgic_get_attr(vgic* g, uint32_t group, uint64_t attr, void* addr) {
  return guarded("vgic_get_attr", [&]() -> int {
    return g ? g->gic->device_attr(gicv3::Gic::AttrOp::get, group, attr, addr) : null_handle("vgic_get_attr");
  });
}
int vgic_set_attr(vgic* g, uint32_t group, uint64_t attr, void* addr) {
  return guarded("vgic_set_attr", [&]() -> int {
    return g ? g->gic->device_attr(gicv3::Gic::AttrOp::set, group, attr, addr) : null_handle("vgic_set_attr");
  });
}
int vgic_has_attr(vgic* g, uint32_t group, uint64_t attr, void* addr) {
  return guarded("vgic_has_attr", [&]() -> int {
    return g ? g->gic->device_attr(gicv3::Gic::AttrOp::has, group, attr, addr) : null_handle("vgic_has_attr");
  });
}
int vgic_its_get_attr(vgic* g, unsigned its, uint32_t group, uint64_t attr, void* addr) {
  return guarded("vgic_its_get_attr", [&]() -> int {
    return g ? g->gic->its_attr(its, gicv3::Gic::AttrOp::get, group, attr, addr) : null_handle("vgic_its_get_attr");
  });
}
int vgic_its_set_attr(vgic* g, unsigned its, uint32_t group, uint64_t attr, void* addr) {
  return guarded("vgic_its_set_attr", [&]() -> int {
    return g ? g->gic->its_attr(its, gicv3::Gic::AttrOp::set, group, attr, addr) : null_handle("vgic_its_set_attr");
  });
}
int vgic_its_has_attr(vgic* g, unsigned its, uint32_t group, uint64_t attr, void* addr) {
  return guarded("vgic_its_has_attr", [&]() -> int {
    return g ? g->gic->its_attr(its, gicv3::Gic::AttrOp::has, group, attr, addr) : null_handle("vgic_its_has_attr");
  });
}
int vgic_vcpu_running(vgic* g, unsigned cpu, int running) {
  return guarded("vgic_vcpu_running", [&]() -> int {
    return g ? ret(g->gic->vcpu_running(cpu, running != 0)) : null_handle("vgic_vcpu_running");
  });
}

int vgic_save(vgic* g, void* buf, size_t* len) {
  return guarded("vgic_save", [&]() -> int {
    if (!g) return null_handle("vgic_save");
    if (!len) return ret({gicv3::Errc::fault, "vgic_save: len is NULL"});
    return ret(g->gic->save(std::span<uint8_t>(static_cast<uint8_t*>(buf), buf ? *len : 0), *len));
  });
}

int vgic_restore(vgic* g, const void* buf, size_t len) {
  return guarded("vgic_restore", [&]() -> int {
    if (!g) return null_handle("vgic_restore");
    if (!buf && len) return ret({gicv3::Errc::fault, "vgic_restore: buf is NULL"});
    return ret(g->gic->restore(std::span<const uint8_t>(static_cast<const uint8_t*>(buf), buf ? len : 0)));
  });
}

int vgic_cpu_lines(vgic* g, unsigned cpu) {
  return guarded("vgic_cpu_lines", [&]() -> int {
    if (!g) return null_handle("vgic_cpu_lines");
    const int l = g->gic->cpu_lines(cpu);
    if (l < 0) return ret({gicv3::Errc::invalid_argument, "vgic_cpu_lines: cpu " + std::to_string(cpu) + " out of range"});
    return l;
  });
}

void vgic_set_line_notifier(vgic* g, vgic_line_fn fn, void* opaque) {
  guarded("vgic_set_line_notifier", [&]() -> void {
    if (!g) return;
    if (!fn) {
      g->gic->set_line_notifier(nullptr);
      return;
    }
    g->gic->set_line_notifier([fn, opaque](unsigned cpu, int lines) { fn(opaque, cpu, lines); });
  });
}

int vgic_get_stats(vgic* g, vgic_stats* out) {
  return guarded("vgic_get_stats", [&]() -> int {
    if (!g) return null_handle("vgic_get_stats");
    if (!out) return ret({gicv3::Errc::fault, "vgic_get_stats: out is NULL"});
    const gicv3::Stats s = g->gic->stats();
    out->guest_errors = s.guest_errors;
    out->trace_dropped = s.trace_dropped;
    out->spurious_acks = s.spurious_acks;
    return 0;
  });
}

void vgic_set_trace_sink(vgic* g, vgic_trace_fn fn, void* opaque, unsigned max_per_second) {
  guarded("vgic_set_trace_sink", [&]() -> void {
    if (!g) return;
    if (!fn) {
      g->gic->set_trace_sink(nullptr, max_per_second);
      return;
    }
    g->gic->set_trace_sink(
        [fn, opaque](const gicv3::TraceEvent& e) {
          const vgic_trace_event ev{e.kind, e.frame, e.cpu, e.offset, e.value, e.detail.c_str()};
          fn(opaque, &ev);
        },
        max_per_second);
  });
}

const char* vgic_strerror(int err) {
  switch (err) {
    case VGIC_OK: return "success";
    case VGIC_SYSREG_UNDEFINED: return "the guest's system-register access is UNDEFINED";
    case VGIC_EPERM: return "operation not permitted";
    case VGIC_ENOENT: return "no such entry";
    case VGIC_ENXIO: return "no such register, frame or address";
    case VGIC_ENOMEM: return "out of memory";
    case VGIC_EFAULT: return "bad address";
    case VGIC_EBUSY: return "busy (vCPUs running)";
    case VGIC_EEXIST: return "already exists";
    case VGIC_ENODEV: return "no such device";
    case VGIC_EINVAL: return "invalid argument";
    case VGIC_ENOSPC: return "no space left";
    case VGIC_ERANGE: return "out of range";
    case VGIC_ENOSYS: return "not implemented";
    default: return "unknown error";
  }
}

const char* vgic_last_error(void) { return gicv3::last_error(); }

}  // extern "C"
