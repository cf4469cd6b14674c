#include "routing/irqfd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "gic/gic_core.hpp"

namespace gicv3 {

namespace {
Status sys_error(const std::string& what) { return {Errc::invalid_argument, what + ": " + std::strerror(errno)}; }

// Ack notifiers this thread is running now (a notifier that unregisters itself must not wait for
// its own call to end).
thread_local std::vector<int> t_running;
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
  // The VMM's eventfd may be blocking (eventfd(0, 0), as kvmtool creates them) and vgic must not
  // change the flags of a file it shares with the VMM: read only what poll() reports readable.
  // lock_ is held, so no other drain of this fd can come between the poll and the read.
  pollfd p{fd, POLLIN, 0};
  int r;
  do r = poll(&p, 1, 0);
  while (r < 0 && errno == EINTR);
  if (r != 1 || !(p.revents & POLLIN)) return 0;
  uint64_t count = 0;
  return read(fd, &count, sizeof count) == sizeof count && count > 0;
}

void IrqfdManager::inject(Irqfd& f) {
  if (f.resamplefd < 0) {
    // KVM's irqfd does kvm_set_irq 1 then 0: MSI routes fire; irqchip routes get a pulse.
    (void)routing_.pulse(f.gsi);
    return;
  }
  // Level with resample: raise the line. Marking the SPI first (usually already done by
  // sync_marks) within the same lookup means a raised line is always one a deactivation lowers,
  // even when the table was replaced and routing_changed() has not run yet.
  routing_.for_each(f.gsi, [&](const GsiRoute& r) {
    if (r.type == GsiRoute::Type::irqchip && marked_.insert(r.intid).second) gic_.set_resample(r.intid, true);
    (void)routing_.deliver(r, true);
  });
}

void IrqfdManager::sync_marks() {
  std::set<uint32_t> want;
  for (auto& [id, f] : irqfds_)
    if (f.resamplefd >= 0)
      routing_.for_each(f.gsi, [&](const GsiRoute& r) {
        if (r.type == GsiRoute::Type::irqchip) want.insert(r.intid);
      });
  for (uint32_t intid : marked_)
    if (!want.count(intid)) gic_.set_resample(intid, false);
  for (uint32_t intid : want)
    if (!marked_.count(intid)) gic_.set_resample(intid, true);
  marked_ = std::move(want);
}

void IrqfdManager::routing_changed() {
  std::lock_guard l(lock_);
  sync_marks();
}

Status IrqfdManager::assign(int eventfd_, uint32_t gsi, int resamplefd) {
  if (epoll_ < 0) return {Errc::no_memory, "vgic_irqfd_assign: epoll unavailable"};
  if (eventfd_ < 0) return {Errc::invalid_argument, "vgic_irqfd_assign: eventfd is negative"};
  // KVM fails KVM_IRQFD on a resamplefd that is no open descriptor; vgic would otherwise only
  // notice when a write to it fails at the first deactivation.
  if (resamplefd >= 0 && fcntl(resamplefd, F_GETFD) < 0)
    return {Errc::invalid_argument, "vgic_irqfd_assign: resamplefd is no open descriptor"};
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
  // KVM registers the resampler's ack notifier here, not at the first signal: from now on every
  // deactivation of the routed SPI lowers its line and signals resamplefd, whoever raised it.
  if (resamplefd >= 0) sync_marks();
  return {};
}

Status IrqfdManager::deassign(int eventfd_, uint32_t gsi) {
  std::lock_guard l(lock_);
  for (auto it = irqfds_.begin(); it != irqfds_.end(); ++it) {
    Irqfd& f = it->second;
    if (f.eventfd != eventfd_ || f.gsi != gsi) continue;
    (void)epoll_ctl(epoll_, EPOLL_CTL_DEL, f.eventfd, nullptr);
    // A signal that arrived before deassign is injected, not lost; none can follow it. (For a
    // resampling irqfd the line it raises is lowered again below, as KVM lowers the GSI when the
    // resampler goes away.)
    if (drain(f.eventfd)) inject(f);
    const bool resample = f.resamplefd >= 0;
    irqfds_.erase(it);
    if (resample) {
      // KVM's irqfd_resampler_shutdown: the last resampling irqfd of the GSI unregisters the ack
      // notifier and lowers the GSI. Clearing the marks keeps a later deactivation from lowering a
      // line the VMM drives itself (QEMU's VFIO falls back to vgic_set_irq_level).
      sync_marks();
      bool others = false;
      for (auto& [oid, o] : irqfds_) others |= o.resamplefd >= 0 && o.gsi == gsi;
      if (!others) (void)routing_.set_level(gsi, false);
    }
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
  if (thread_.joinable()) {
    if (!loop_ended_.load(std::memory_order_acquire)) return {Errc::busy, "vgic_irqfd_start_thread: already running"};
    thread_.join();  // it ended on an epoll error: start it again
    loop_ended_.store(false, std::memory_order_relaxed);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // id 0: the stop eventfd (still registered after a thread that ended)
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, stop_, &ev) != 0 && errno != EEXIST)
    return sys_error("vgic_irqfd_start_thread: epoll_ctl");
  thread_ = std::thread([this] {
    for (;;) {
      epoll_event e;
      const int n = epoll_wait(epoll_, &e, 1, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        loop_ended_.store(true, std::memory_order_release);
        return;
      }
      if (n == 1 && e.data.u64 == 0) return;  // stop requested
      // No exception may end the process from this thread (the C API turns them into VGIC_ENOMEM):
      // the host is out of memory; signals not yet read stay in their eventfds for the next wake-up.
      try {
        dispatch();
      } catch (...) {
      }
    }
  });
  return {};
}

int IrqfdManager::add_ack_notifier(unsigned cpu, uint32_t intid, AckFn fn) {
  std::lock_guard l(notifier_lock_);
  const int id = next_notifier_++;
  notifiers_.emplace(id, Notifier{cpu, intid, std::move(fn)});
  gic_.set_ack_notify(cpu, intid);
  return id;
}

Status IrqfdManager::remove_ack_notifier(int id) {
  std::unique_lock l(notifier_lock_);
  if (!notifiers_.erase(id)) return {Errc::no_entry, "vgic_unregister_ack_notifier: unknown id"};
  // Wait for the calls in flight on other threads (the VMM may free the callback's data once this
  // returns); a notifier that unregisters itself does not wait for its own call.
  const auto mine = std::count(t_running.begin(), t_running.end(), id);
  notifier_idle_.wait(l, [&] {
    const auto it = in_flight_.find(id);
    return it == in_flight_.end() || it->second <= mine;
  });
  return {};
}

void IrqfdManager::on_deactivated(unsigned cpu, uint32_t intid) {
  {
    std::lock_guard l(lock_);
    // Every resampling irqfd whose GSI routes to intid: the deactivation (of a marked SPI) has
    // already lowered the line; tell the device (KVM's irqfd_resampler_ack).
    for (auto& [id, f] : irqfds_) {
      if (f.resamplefd < 0) continue;
      bool routed = false;
      routing_.for_each(f.gsi, [&](const GsiRoute& r) {
        routed |= r.type == GsiRoute::Type::irqchip && r.intid == intid;
      });
      if (!routed) continue;
      const uint64_t one = 1;
      (void)!write(f.resamplefd, &one, sizeof one);
    }
  }
  std::vector<std::pair<int, AckFn>> fns;
  {
    std::lock_guard l(notifier_lock_);
    for (auto& [id, n] : notifiers_)
      if (n.intid == intid && (!Intid{intid}.is_private() || n.cpu == cpu)) fns.emplace_back(id, n.fn);
  }
  for (auto& [id, fn] : fns) {
    {
      // Counted in flight only while it runs: one notifier may unregister another that is later
      // in this list without waiting for this thread.
      std::lock_guard l(notifier_lock_);
      if (!notifiers_.count(id)) continue;  // unregistered meanwhile: not called any more
      ++in_flight_[id];
    }
    struct Done {
      IrqfdManager& m;
      int id;
      ~Done() {
        t_running.pop_back();
        {
          std::lock_guard l(m.notifier_lock_);
          if (--m.in_flight_[id] == 0) m.in_flight_.erase(id);
        }
        m.notifier_idle_.notify_all();
      }
    };
    t_running.push_back(id);
    Done done{*this, id};
    fn(cpu, intid);
  }
}

}  // namespace gicv3
