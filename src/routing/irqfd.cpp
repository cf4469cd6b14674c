#include "routing/irqfd.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "gic/gic_core.hpp"

namespace gicv3 {

namespace {
Status sys_error(const std::string& what) { return {Errc::invalid_argument, what + ": " + std::strerror(errno)}; }
}  // namespace

IrqfdManager::IrqfdManager(GicCore& gic, GsiRouting& routing) : gic_(gic), routing_(routing) {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  stop_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  gic_.set_ack_listener([this](unsigned cpu, uint32_t intid) { on_deactivated(cpu, intid); });
}

IrqfdManager::~IrqfdManager() {
  gic_.set_ack_listener(nullptr);
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!write(stop_, &one, sizeof one);
    thread_.join();
  }
  if (epoll_ >= 0) close(epoll_);
  if (stop_ >= 0) close(stop_);
}

int IrqfdManager::drain(int fd) {
  uint64_t count = 0;
  return read(fd, &count, sizeof count) == sizeof count && count > 0;
}

void IrqfdManager::inject(Irqfd& f) {
  if (f.resamplefd < 0) {
    // Edge: MSI routes fire; irqchip routes get a pulse (KVM's irqfd does kvm_set_irq 1 then 0).
    routing_.set_level(f.gsi, true);
    routing_.set_level(f.gsi, false);
    return;
  }
  // Level with resample: watch the routed SPIs for deactivation, then raise the line.
  routing_.for_each(f.gsi, [&](const GsiRoute& r) {
    if (r.type == GsiRoute::Type::irqchip) gic_.set_ack_notify(0, r.intid, true, true);
  });
  f.asserted = true;
  routing_.set_level(f.gsi, true);
}

void IrqfdManager::lower(Irqfd& f) {
  f.asserted = false;
  routing_.set_level(f.gsi, false);
}

Status IrqfdManager::assign(int eventfd_, uint32_t gsi, int resamplefd) {
  if (epoll_ < 0) return {Errc::no_memory, "vgic_irqfd_assign: epoll unavailable"};
  if (eventfd_ < 0) return {Errc::invalid_argument, "vgic_irqfd_assign: eventfd is negative"};
  std::lock_guard l(lock_);
  for (auto& [id, f] : irqfds_)
    if (f.eventfd == eventfd_) return {Errc::busy, "vgic_irqfd_assign: this eventfd is already assigned"};
  if (resamplefd >= 0) {
    bool irqchip = false, msi = false;
    routing_.for_each(gsi, [&](const GsiRoute& r) { (r.type == GsiRoute::Type::irqchip ? irqchip : msi) = true; });
    // Resampling needs a level line: only irqchip routes (as KVM requires).
    if (!irqchip || msi) return {Errc::invalid_argument, "vgic_irqfd_assign: a resamplefd needs a GSI routed to SPIs only"};
  }
  const uint64_t id = next_id_++;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = id;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, eventfd_, &ev) != 0) return sys_error("vgic_irqfd_assign: epoll_ctl");
  irqfds_.emplace(id, Irqfd{eventfd_, gsi, resamplefd});
  return {};
}

Status IrqfdManager::deassign(int eventfd_, uint32_t gsi) {
  std::lock_guard l(lock_);
  for (auto it = irqfds_.begin(); it != irqfds_.end(); ++it) {
    Irqfd& f = it->second;
    if (f.eventfd != eventfd_ || f.gsi != gsi) continue;
    (void)epoll_ctl(epoll_, EPOLL_CTL_DEL, f.eventfd, nullptr);
    // A signal that arrived before deassign is delivered, not lost; none can follow it.
    if (drain(f.eventfd)) inject(f);
    if (f.asserted) lower(f);
    irqfds_.erase(it);
    return {};
  }
  return {Errc::no_entry, "vgic_irqfd_deassign: no irqfd with that eventfd and GSI"};
}

int IrqfdManager::dispatch() {
  epoll_event events[64];
  const int n = epoll_wait(epoll_, events, 64, 0);
  int injected = 0;
  for (int i = 0; i < n; ++i) {
    std::lock_guard l(lock_);
    auto it = irqfds_.find(events[i].data.u64);
    if (it == irqfds_.end()) continue;  // deassigned meanwhile
    if (!drain(it->second.eventfd)) continue;
    inject(it->second);
    ++injected;
  }
  return injected;
}

Status IrqfdManager::start_thread() {
  if (thread_.joinable()) return {Errc::busy, "vgic_irqfd_start_thread: already running"};
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // id 0: the stop eventfd
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, stop_, &ev) != 0) return sys_error("vgic_irqfd_start_thread: epoll_ctl");
  thread_ = std::thread([this] {
    for (;;) {
      epoll_event e;
      const int n = epoll_wait(epoll_, &e, 1, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;
      if (n == 1 && e.data.u64 == 0) return;  // stop requested
      dispatch();
    }
  });
  return {};
}

int IrqfdManager::add_ack_notifier(unsigned cpu, uint32_t intid, AckFn fn) {
  std::lock_guard l(notifier_lock_);
  const int id = next_notifier_++;
  notifiers_.emplace(id, Notifier{cpu, intid, std::move(fn)});
  gic_.set_ack_notify(cpu, intid, true);
  return id;
}

Status IrqfdManager::remove_ack_notifier(int id) {
  std::lock_guard l(notifier_lock_);
  if (!notifiers_.erase(id)) return {Errc::no_entry, "vgic_unregister_ack_notifier: unknown id"};
  return {};
}

void IrqfdManager::on_deactivated(unsigned cpu, uint32_t intid) {
  {
    std::lock_guard l(lock_);
    for (auto& [id, f] : irqfds_) {
      if (f.resamplefd < 0 || !f.asserted) continue;
      bool routed = false;
      routing_.for_each(f.gsi, [&](const GsiRoute& r) {
        routed |= r.type == GsiRoute::Type::irqchip && r.intid == intid;
      });
      if (!routed) continue;
      lower(f);
      const uint64_t one = 1;
      (void)!write(f.resamplefd, &one, sizeof one);
    }
  }
  std::vector<AckFn> fns;
  {
    std::lock_guard l(notifier_lock_);
    for (auto& [id, n] : notifiers_)
      if (n.intid == intid && (!Intid{intid}.is_private() || n.cpu == cpu)) fns.push_back(n.fn);
  }
  for (auto& fn : fns) fn(cpu, intid);
}

}  // namespace gicv3
