// MSIs (vgic_signal_msi, lock-free on a translation-cache hit) racing ITS commands and vCPUs that
// acknowledge: no MSI that made an LPI pending is lost, no LPI is delivered after the DISCARD of
// its event completed (IHI0069 5.3 DISCARD: the command completes only once its effects are
// visible), nothing deadlocks. Time order is recorded with one atomic sequence counter; nothing
// here asserts on timing.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "support/its_driver.hpp"

using namespace test;

namespace {

vgic_config two_cpus(unsigned cache_entries = 1024) {
  vgic_config c = Guest::config(2);
  c.its[0].seis = 1;
  c.its[0].cache_entries = cache_entries;
  return c;
}

// Waits (bounded) for pred; a timeout is reported as a failure (a lost interrupt or a deadlock).
template <class Pred>
bool wait_for(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

void atomic_max(std::atomic<uint64_t>& a, uint64_t v) {
  uint64_t cur = a.load(std::memory_order_relaxed);
  while (cur < v && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

}  // namespace

TEST(ItsMsiConcurrency, MsisCommandsAndAcknowledgesRace) {
  ItsHarness h(two_cpus());
  // Stable events: device 1, events 0..15 -> LPIs 8192..8207 on CPU e % 2; never changed.
  constexpr unsigned kStable = 16, kSlots = 8, kGenerations = 1500, kBursts = 25, kSignallers = 2;
  constexpr uint32_t kStableLpi = 8192, kGenLpi = 9000;  // generation g of the other events: LPI 9000 + g
  h.its.mapc(0, 0);
  h.its.mapc(1, 1);
  h.its.mapd(1, 4);
  h.its.mapd(2, 3);  // the other events: device 2, slots 0..7, remapped by the command thread
  for (uint32_t e = 0; e < kStable; ++e) {
    h.its.mapti(1, e, kStableLpi + e, e % 2);
    h.its.lpi_config(kStableLpi + e, 0xa0, true);
  }
  for (uint32_t g = 0; g < kGenerations; ++g) h.its.lpi_config(kGenLpi + g, 0xa0, true);
  h.its.invall(0);
  h.its.invall(1);

  constexpr size_t kIds = 4096;  // LPIs 8192..12287
  std::atomic<uint64_t> seq{1};
  std::array<std::atomic<unsigned>, kIds> acks{};
  std::array<std::atomic<uint64_t>, kIds> last_ack_start{};  // seq taken just before the IAR read
  std::array<std::atomic<uint64_t>, kIds> discarded_at{};    // seq taken after DISCARD completed
  for (auto& d : discarded_at) d = ~0ull;
  std::atomic<bool> stop{false}, bursts_done{false};
  std::atomic<uint32_t> generations{0};
  std::atomic<unsigned> drain_request{0};
  std::array<std::atomic<unsigned>, 2> drained{};

  std::vector<std::thread> vcpus;
  for (unsigned cpu = 0; cpu < 2; ++cpu)
    vcpus.emplace_back([&, cpu] {
      while (!stop.load(std::memory_order_acquire)) {
        const unsigned request = drain_request.load(std::memory_order_acquire);
        const uint64_t start = seq.fetch_add(1, std::memory_order_seq_cst);
        const uint32_t id = h.g.ack1(cpu);
        if (id == kSpurious) {
          // Nothing deliverable after every MSI of `request` returned: the burst is drained.
          drained[cpu].store(request, std::memory_order_release);
          std::this_thread::yield();
          continue;
        }
        ASSERT_GE(id, kStableLpi);
        ASSERT_LT(id, kStableLpi + kIds);
        acks[id - kStableLpi].fetch_add(1, std::memory_order_relaxed);
        atomic_max(last_ack_start[id - kStableLpi], start);
        h.g.eoi1(cpu, id);
      }
    });

  // MAPTI / INV / MOVI / DISCARD on device 2 while the bursts run (bounded), each generation of
  // a slot with a fresh LPI.
  std::thread commands([&] {
    for (uint32_t g = 0; g < kGenerations && !bursts_done.load(); ++g) {
      const uint32_t slot = g % kSlots;
      h.its.mapti(2, slot, kGenLpi + g, g % 2);
      h.its.inv(2, slot);
      h.its.movi(2, slot, (g + 1) % 2);
      std::this_thread::yield();
      h.its.inv(2, slot);
      h.its.discard(2, slot);
      discarded_at[kGenLpi + g - kStableLpi].store(seq.fetch_add(1, std::memory_order_seq_cst));
      generations.store(g + 1);
    }
  });

  for (unsigned burst = 1; burst <= kBursts; ++burst) {
    for (unsigned e = 0; e < kStable; ++e) acks[e].store(0);  // nothing stable is pending now
    std::vector<std::thread> signallers;
    for (unsigned s = 0; s < kSignallers; ++s)
      signallers.emplace_back([&, s] {
        std::mt19937 rng(burst * 31 + s);
        for (int round = 0; round < 4; ++round)
          for (uint32_t e = 0; e < kStable; ++e) {
            EXPECT_EQ(h.its.msi(1, e), 1) << "a mapped event on an enabled ITS is always made pending";
            for (int k = 0; k < 2; ++k) {
              const int r = h.its.msi(2, uint32_t(rng() % kSlots));  // may race its DISCARD
              EXPECT_TRUE(r == 0 || r == 1);
            }
          }
      });
    for (auto& t : signallers) t.join();
    drain_request.store(burst, std::memory_order_release);
    const bool ok = wait_for([&] { return drained[0].load() >= burst && drained[1].load() >= burst; });
    EXPECT_TRUE(ok) << "burst " << burst << " not drained: lost interrupt or deadlock";
    if (!ok) break;
    // Pending state coalesces, so several MSIs may be one acknowledge, but never zero.
    for (unsigned e = 0; e < kStable; ++e) EXPECT_GE(acks[e].load(), 1u) << "burst " << burst << " event " << e;
  }
  bursts_done = true;
  commands.join();
  stop = true;
  for (auto& t : vcpus) t.join();

  for (uint32_t g = 0; g < generations.load(); ++g) {
    const size_t i = kGenLpi + g - kStableLpi;
    if (acks[i].load() == 0) continue;
    EXPECT_LT(last_ack_start[i].load(), discarded_at[i].load())
        << "LPI " << kGenLpi + g << " acknowledged by an IAR read that began after its DISCARD completed";
  }
  EXPECT_TRUE(h.sei_codes().empty()) << "every command was valid";
}

// More live translations than the translation cache has entries: evictions cost only slow-path
// walks, every MSI still lands on the right CPU as the right LPI, including after MOVI and remaps.
TEST(ItsMsiConcurrency, MoreEventsThanCacheEntries) {
  ItsHarness h(two_cpus(16));
  constexpr uint32_t kDevices = 4, kPerDevice = 250;
  h.its.mapc(0, 0);
  h.its.mapc(1, 1);
  struct Target {
    uint32_t lpi;
    unsigned cpu;
  };
  std::map<std::pair<uint32_t, uint32_t>, Target> expect;
  uint32_t next_lpi = 8192;
  for (uint32_t d = 1; d <= kDevices; ++d) {
    h.its.mapd(d, 8);
    for (uint32_t e = 0; e < kPerDevice; ++e) {
      const unsigned cpu = (d + e) % 2;
      h.its.mapti(d, e, next_lpi, cpu);
      h.its.lpi_config(next_lpi, 0xa0, true);
      expect[{d, e}] = {next_lpi++, cpu};
    }
  }
  h.its.invall(0);
  h.its.invall(1);
  std::vector<std::pair<uint32_t, uint32_t>> order;
  for (auto& [k, t] : expect) order.push_back(k);
  std::mt19937 rng(1000);
  auto check_all = [&](const char* when) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int pass = 0; pass < 2; ++pass)  // the second pass hits whatever the first one cached
      for (auto [d, e] : order) {
        const Target t = expect[{d, e}];
        ASSERT_EQ(h.its.msi(d, e), 1) << when << " " << d << "/" << e;
        ASSERT_EQ(h.g.ack1(t.cpu), t.lpi) << when << " " << d << "/" << e;
        h.g.eoi1(t.cpu, t.lpi);
        ASSERT_EQ(h.g.ack1(1 - t.cpu), kSpurious) << when << " " << d << "/" << e;
      }
  };
  check_all("initially");
  // Move every 10th event to the other CPU and remap every 7th to a new LPI.
  for (auto& [k, t] : expect) {
    if (k.second % 10 == 0) {
      t.cpu = 1 - t.cpu;
      h.its.movi(k.first, k.second, t.cpu);
    }
    if (k.second % 7 == 0) {
      t.lpi = next_lpi++;
      h.its.lpi_config(t.lpi, 0xa0, true);
      h.its.mapti(k.first, k.second, t.lpi, t.cpu);
    }
  }
  h.its.invall(0);
  h.its.invall(1);
  check_all("after MOVI and MAPTI");
  EXPECT_TRUE(h.sei_codes().empty());
}
