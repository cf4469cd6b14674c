// Concurrency stress with accounting (issue 8): MSI injectors (vgic_signal_msi and irqfd eventfds
// routed through vgic_set_gsi_routing to MSI routes), vCPU threads acknowledging through
// ICC_IAR1_EL1 / ICC_EOIR1_EL1, and a churn thread issuing MAPTI, MOVI, INV, DISCARD and routing
// updates through the guest's command queue, all at once. Every MSI is accounted for.
//
// Count: VGIC_STRESS_MSIS injections (default 10^7; `make stress` runs more, the sanitizer runs
// fewer). Nothing here asserts on timing: the deadlines only turn a hang into a failure.
//
// Time order is one global atomic sequence counter `seq` (seq_cst fetch_add). Epochs:
//   inj_start(i)   seq taken just BEFORE injection i is attempted (signal_msi call or eventfd write);
//                  the pending bit it sets is set after inj_start(i).
//   iar_start(a)   seq taken just BEFORE the ICC_IAR1_EL1 read of acknowledge a;
//   iar_end(a)     seq taken just AFTER it returned; the pending state it consumed was set before.
//   discarded(L)   seq taken after the DISCARD of churned LPI L completed: the command was
//                  published with GITS_CWRITER and GITS_CREADR was read back past it (IHI0069 5.3:
//                  a command's effects are visible once CREADR has moved past it).
// Properties checked:
//   (A) liveness, coalescing allowed: every injection i of an LPI L that was deliverable at
//       injection time (signal_msi returned 1; for irqfd: the GSI's MSI route was always valid) is
//       followed by an acknowledge a of L with iar_end(a) > inj_start(i). An acknowledge that
//       overlaps the injection may linearise after it (the MSI coalesced into the pending state it
//       consumed), so this is exactly "pending coalescing allowed". Checked for the stable events
//       and the irqfd events after every burst, once every injection returned, the irqfd event loop
//       is drained, the churn thread is paused and each vCPU then read IAR = 1023 (spurious).
//   (B) nothing is invented: the n-th acknowledge of L (counted over all vCPUs) ends after at least
//       n injections that could target L began (each acknowledge consumes a pending state that a
//       distinct injection set). For churned slots the count is per (device, event) slot; for an
//       irqfd GSI, a write counts for both LPIs its route alternates between.
//   (C) DISCARD: no acknowledge of a churned LPI L starts after discarded(L):
//       iar_start(a) < discarded(L). An acknowledge already in flight when the DISCARD completed is
//       allowed. Each churned generation uses a fresh LPI, so acknowledges are never ambiguous.
// Churned events (device 2) are only checked by (B) and (C): an MSI that made one pending may be
// legitimately dropped by its DISCARD.
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "support/its_driver.hpp"

using namespace test;

namespace {

constexpr uint32_t kStableDev = 1, kChurnDev = 2, kIrqfdDev = 3;
constexpr uint32_t kStableEvents = 32, kSlots = 8, kGsis = 8;
constexpr uint32_t kStableLpi = 8192;                    // 8192..8223: device 1 events 0..31
constexpr uint32_t kIrqfdLpi = 8256;                     // 8256..8271: device 3 events 0..15
constexpr uint32_t kGenLpi = 9000, kGenerations = 50000;  // churn generation g: LPI 9000 + g
constexpr uint32_t kLpis = 1u << 16;
constexpr uint64_t kNever = ~0ull;

uint64_t configured_msis() {
  if (const char* e = std::getenv("VGIC_STRESS_MSIS")) {
    const unsigned long long n = std::strtoull(e, nullptr, 10);
    if (n > 0) return n;
  }
  return 10'000'000;
}

void atomic_max(std::atomic<uint64_t>& a, uint64_t v) {
  uint64_t cur = a.load(std::memory_order_relaxed);
  while (cur < v && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

template <class Pred>
bool wait_for(Pred pred, int seconds = 60) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

struct Accounting {
  std::atomic<uint64_t> seq{1};
  // Per LPI.
  std::unique_ptr<std::atomic<uint64_t>[]> inj_start_max{new std::atomic<uint64_t>[kLpis]()};  // deliverable only
  std::unique_ptr<std::atomic<uint64_t>[]> iar_end_max{new std::atomic<uint64_t>[kLpis]()};
  std::unique_ptr<std::atomic<uint64_t>[]> iar_start_max{new std::atomic<uint64_t>[kLpis]()};
  std::unique_ptr<std::atomic<uint64_t>[]> discarded{new std::atomic<uint64_t>[kLpis]};
  // Counters for (B): injections begun and acknowledges, per "key" (stable/irqfd LPI or churn slot).
  std::unique_ptr<std::atomic<uint64_t>[]> injected{new std::atomic<uint64_t>[kLpis]()};
  std::unique_ptr<std::atomic<uint64_t>[]> acked{new std::atomic<uint64_t>[kLpis]()};
  std::atomic<uint64_t> invented{0}, unknown_acks{0}, late_acks{0}, stable_blocked{0};
  std::atomic<uint32_t> first_bad{0};
  Accounting() {
    for (uint32_t i = 0; i < kLpis; ++i) discarded[i].store(kNever, std::memory_order_relaxed);
  }
  uint64_t now() { return seq.fetch_add(1, std::memory_order_seq_cst); }
  // (B) key of an LPI: itself, or for a churned generation the slot it occupies.
  static uint32_t key(uint32_t lpi) {
    if (lpi >= kGenLpi && lpi < kGenLpi + kGenerations) return kGenLpi + (lpi - kGenLpi) % kSlots;
    return lpi;
  }
  static bool known(uint32_t lpi) {
    return (lpi >= kStableLpi && lpi < kStableLpi + kStableEvents) || (lpi >= kIrqfdLpi && lpi < kIrqfdLpi + 2 * kGsis) ||
           (lpi >= kGenLpi && lpi < kGenLpi + kGenerations);
  }
};

// GSI g routes to device 3 event g (variant 0) or event g + kGsis (variant 1).
void set_routes(vgic* g, uint64_t doorbell, unsigned variant) {
  std::vector<vgic_gsi_route> r(kGsis);
  for (uint32_t i = 0; i < kGsis; ++i)
    r[i] = vgic_gsi_route{i, VGIC_ROUTE_MSI, VGIC_MSI_VALID_DEVID, 0, doorbell, i + variant * kGsis, kIrqfdDev};
  ASSERT_EQ(vgic_set_gsi_routing(g, r.data(), kGsis), 0) << vgic_last_error();
}

}  // namespace

TEST(StressMsiAccounting, InjectorsIrqfdsVcpusAndCommandChurnLoseAndInventNothing) {
  const uint64_t total = configured_msis();
  vgic_config cfg = Guest::config(2);
  cfg.its[0].seis = 1;
  ItsHarness h(cfg);
  vgic* const g = h.g.gic();
  const uint64_t doorbell = h.its.its_base() + 0x10040;
  Accounting acc;

  h.its.mapc(0, 0);
  h.its.mapc(1, 1);
  h.its.mapd(kStableDev, 5);
  h.its.mapd(kChurnDev, 3);
  h.its.mapd(kIrqfdDev, 4);
  for (uint32_t e = 0; e < kStableEvents; ++e) h.its.mapti(kStableDev, e, kStableLpi + e, e % 2);
  for (uint32_t e = 0; e < 2 * kGsis; ++e) h.its.mapti(kIrqfdDev, e, kIrqfdLpi + e, e % 2);
  for (uint32_t l = kStableLpi; l < kGenLpi + kGenerations; ++l) h.its.lpi_config(l, 0xa0, true);
  h.its.invall(0);
  h.its.invall(1);

  std::array<int, kGsis> efd{};
  for (uint32_t i = 0; i < kGsis; ++i) {
    efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_GE(efd[i], 0);
    ASSERT_EQ(vgic_irqfd_assign(g, efd[i], i, -1), 0) << vgic_last_error();
  }
  set_routes(g, doorbell, 0);

  std::atomic<bool> stop{false};
  std::atomic<unsigned> drain_request{0}, pause_request{0}, paused{0};
  std::array<std::atomic<unsigned>, 2> drained{};
  std::atomic<uint64_t> acks_total{0};

  // vCPUs: acknowledge while the IRQ line is up, and when asked to drain, until IAR reads 1023.
  std::vector<std::thread> vcpus;
  for (unsigned cpu = 0; cpu < 2; ++cpu)
    vcpus.emplace_back([&, cpu] {
      while (!stop.load(std::memory_order_acquire)) {
        const unsigned request = drain_request.load(std::memory_order_acquire);
        const bool irq = vgic_cpu_lines(g, cpu) & VGIC_LINE_IRQ;
        if (!irq && drained[cpu].load(std::memory_order_relaxed) >= request) {
          std::this_thread::yield();
          continue;
        }
        const uint64_t start = acc.now();
        uint64_t v = 0;
        if (vgic_sysreg_read(g, cpu, icc::IAR1, &v) != 0) {
          acc.unknown_acks++;
          continue;
        }
        const uint64_t end = acc.now();
        const uint32_t id = uint32_t(v);
        if (id == kSpurious) {
          drained[cpu].store(request, std::memory_order_release);
          continue;
        }
        if (id < kLpis && Accounting::known(id)) {
          atomic_max(acc.iar_end_max[id], end);
          atomic_max(acc.iar_start_max[id], start);
          const uint32_t k = Accounting::key(id);
          const uint64_t n = acc.acked[k].fetch_add(1, std::memory_order_seq_cst) + 1;
          if (n > acc.injected[k].load(std::memory_order_seq_cst)) {
            acc.invented++;
            acc.first_bad.store(id);
          }
        } else {
          acc.unknown_acks++;
          acc.first_bad.store(id);
        }
        acks_total.fetch_add(1, std::memory_order_relaxed);
        vgic_sysreg_write(g, cpu, icc::EOIR1, id);
      }
    });

  // Churn: generation g maps a fresh LPI on a churn slot, INVs it, moves it, DISCARDs it; stable
  // events are moved between the collections (their pending state moves with them) and
  // invalidated; the irqfd routes alternate. Pauses on request (see the drain below).
  std::atomic<uint32_t> generations{0};
  std::atomic<uint64_t> churn_commands{0};
  std::thread churn([&] {
    std::mt19937 rng(7);
    unsigned variant = 0;
    for (uint32_t gen = 0; !stop.load(std::memory_order_acquire); ++gen) {
      const unsigned p = pause_request.load(std::memory_order_acquire);
      if (p != 0) {
        paused.store(p, std::memory_order_release);
        while (pause_request.load(std::memory_order_acquire) == p && !stop.load()) std::this_thread::yield();
        paused.store(0, std::memory_order_release);
        continue;
      }
      if (gen < kGenerations) {
        const uint32_t slot = gen % kSlots, lpi = kGenLpi + gen;
        h.its.mapti(kChurnDev, slot, lpi, gen % 2);
        h.its.inv(kChurnDev, slot);
        h.its.movi(kChurnDev, slot, (gen + 1) % 2);
        std::this_thread::yield();
        h.its.discard(kChurnDev, slot);
        EXPECT_EQ(h.its.creadr() & ~1ull, h.its.cwriter()) << "the DISCARD completed";
        acc.discarded[lpi].store(acc.now(), std::memory_order_seq_cst);
        generations.store(gen + 1);
        churn_commands += 4;
      }
      const uint32_t e = rng() % kStableEvents;
      h.its.movi(kStableDev, e, rng() % 2);
      h.its.inv(kStableDev, e);
      churn_commands += 2;
      if (gen % 4 == 0) {
        variant ^= 1;
        set_routes(g, doorbell, variant);
      }
      std::this_thread::yield();
    }
  });

  // Bursts: injectors run, then the burst is drained and (A) checked.
  constexpr unsigned kBursts = 40;
  const uint64_t per_burst = std::max<uint64_t>((total + kBursts - 1) / kBursts, 1000);
  const uint64_t irqfd_share = per_burst / 16, msi_share = (per_burst - irqfd_share + 1) / 2;
  std::atomic<uint64_t> injections{0}, deliverable{0};
  const auto t0 = std::chrono::steady_clock::now();
  for (unsigned burst = 1; burst <= kBursts && !::testing::Test::HasFailure(); ++burst) {
    std::vector<std::thread> inj;
    for (unsigned s = 0; s < 2; ++s)
      inj.emplace_back([&, s] {
        std::mt19937 rng(burst * 131 + s);
        uint64_t n = 0, ok = 0;
        for (uint64_t i = 0; i < msi_share; ++i) {
          const uint32_t r = uint32_t(rng());
          const bool churned = (r & 3) == 0;
          const uint32_t ev = churned ? (r >> 2) % kSlots : (r >> 2) % kStableEvents;
          const uint32_t k = churned ? kGenLpi + ev : kStableLpi + ev;
          acc.injected[k].fetch_add(1, std::memory_order_seq_cst);
          const uint64_t start = acc.now();
          const int res = vgic_signal_msi(g, doorbell, ev, churned ? kChurnDev : kStableDev);
          ++n;
          if (res == 1) {
            ++ok;
            if (!churned) atomic_max(acc.inj_start_max[k], start);
          } else if (!churned || res != 0) {
            acc.stable_blocked++;  // a mapped stable event on an enabled ITS is always deliverable
          }
        }
        injections += n;
        deliverable += ok;
      });
    inj.emplace_back([&] {
      // The VMM's event loop: eventfd writes, then vgic_irqfd_dispatch; the last dispatch after the
      // last write drains every eventfd (this thread is the only dispatcher).
      std::mt19937 rng(burst * 977);
      for (uint64_t i = 0; i < irqfd_share; ++i) {
        const uint32_t gsi = rng() % kGsis;
        acc.injected[kIrqfdLpi + gsi].fetch_add(1, std::memory_order_seq_cst);
        acc.injected[kIrqfdLpi + gsi + kGsis].fetch_add(1, std::memory_order_seq_cst);
        const uint64_t start = acc.now();
        atomic_max(acc.inj_start_max[kIrqfdLpi + gsi], start);  // (A) per GSI: on the variant-0 slot
        const uint64_t one = 1;
        EXPECT_EQ(write(efd[gsi], &one, 8), 8);
        if (i % 8 == 7) vgic_irqfd_dispatch(g);
      }
      while (vgic_irqfd_dispatch(g) > 0) {
      }
      injections += irqfd_share;
    });
    for (auto& t : inj) t.join();

    // Drain: pause the churn (a MOVI moving a pending LPI between two IAR reads could hide it from
    // both), then every vCPU reads IAR until 1023 after the request.
    pause_request.store(burst, std::memory_order_release);
    if (!wait_for([&] { return paused.load(std::memory_order_acquire) == burst; })) {
      ADD_FAILURE() << "churn thread stuck";
      break;
    }
    drain_request.store(burst, std::memory_order_release);
    if (!wait_for([&] { return drained[0].load() >= burst && drained[1].load() >= burst; })) {
      ADD_FAILURE() << "burst " << burst << " not drained: an interrupt stays pending or a deadlock";
      break;
    }
    // (A) for the stable events ...
    for (uint32_t l = kStableLpi; l < kStableLpi + kStableEvents; ++l) {
      const uint64_t inj_max = acc.inj_start_max[l].load();
      if (inj_max) {
        EXPECT_GT(acc.iar_end_max[l].load(), inj_max) << "burst " << burst << ": LPI " << l << " lost";
      }
    }
    // ... and per irqfd GSI: one of the two LPIs its route alternates between.
    for (uint32_t i = 0; i < kGsis; ++i) {
      const uint64_t w = acc.inj_start_max[kIrqfdLpi + i].load();
      if (w) {
        EXPECT_GT(std::max(acc.iar_end_max[kIrqfdLpi + i].load(), acc.iar_end_max[kIrqfdLpi + kGsis + i].load()), w)
            << "burst " << burst << ": irqfd GSI " << i << " lost";
      }
    }
    pause_request.store(0, std::memory_order_release);  // resume the churn
    if (!wait_for([&] { return paused.load(std::memory_order_acquire) == 0; })) {
      ADD_FAILURE() << "churn thread did not resume";
      break;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stop = true;
  churn.join();
  for (auto& t : vcpus) t.join();
  for (uint32_t i = 0; i < kGsis; ++i) {
    EXPECT_EQ(vgic_irqfd_deassign(g, efd[i], i), 0);
    close(efd[i]);
  }

  EXPECT_EQ(acc.invented.load(), 0u) << "an LPI acknowledged more often than injected (first: " << acc.first_bad.load() << ")";
  EXPECT_EQ(acc.unknown_acks.load(), 0u) << "an INTID that was never injected (first: " << acc.first_bad.load() << ")";
  EXPECT_EQ(acc.stable_blocked.load(), 0u) << "a deliverable MSI was refused";
  // (C)
  uint64_t late = 0;
  for (uint32_t gen = 0; gen < generations.load(); ++gen) {
    const uint32_t lpi = kGenLpi + gen;
    if (acc.iar_start_max[lpi].load() && acc.iar_start_max[lpi].load() > acc.discarded[lpi].load()) ++late;
  }
  EXPECT_EQ(late, 0u) << "LPIs acknowledged by an IAR read that began after their DISCARD completed";
  EXPECT_TRUE(h.sei_codes().empty()) << "every churn command was valid";
  EXPECT_GE(injections.load(), total) << "fewer MSIs than VGIC_STRESS_MSIS: the run was cut short";
  std::printf("[ stress ] %llu MSIs (%llu deliverable signal_msi), %llu acknowledges, %u churn generations, "
              "%llu churn commands, %.1f s\n",
              (unsigned long long)injections.load(), (unsigned long long)deliverable.load(),
              (unsigned long long)acks_total.load(), generations.load(), (unsigned long long)churn_commands.load(), secs);
}
