// CpuLock (gic/cpu_lock.hpp): the per-CPU lock with update requests. Checked directly, with threads:
// mutual exclusion, no lost wake-up of a sleeping locker (the WAITERS bit), and no lost update
// request (an update requested while the lock is held runs before the holder releases it). A broken
// protocol shows up as a wrong count or as a thread that never finishes (bounded by a deadline, so
// it fails instead of hanging). Nothing here asserts on timing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "gic/cpu_lock.hpp"

using gicv3::CpuLock;

namespace {

// Joins the threads, failing (and detaching them, so the process can report) if they do not finish
// within the deadline: a locker asleep forever is a lost wake-up.
bool join_within(std::vector<std::thread>& ts, std::atomic<unsigned>& done, unsigned expect, int seconds = 60) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (done.load() < expect) {
    if (std::chrono::steady_clock::now() > deadline) {
      for (auto& t : ts) t.detach();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& t : ts) t.join();
  return true;
}

}  // namespace

TEST(CpuLockConcurrency, MutualExclusionAndEverySleeperWoken) {
  // More threads than this machine has cores, and a critical section long enough to be preempted
  // in: lockers exhaust their spins and sleep, so every unlock that finds WAITERS must wake one.
  static CpuLock lock;  // static: detached threads of a failed run must not outlive it
  static uint64_t counter = 0;
  counter = 0;
  constexpr unsigned kThreads = 6, kIters = 5000;
  std::atomic<unsigned> done{0};
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < kThreads; ++t)
    ts.emplace_back([&done] {
      for (unsigned i = 0; i < kIters; ++i) {
        lock.lock();
        const uint64_t v = counter;
        if (i % 64 == 0) std::this_thread::yield();  // hold it across a reschedule now and then
        counter = v + 1;
        lock.unlock([] {});
      }
      done.fetch_add(1);
    });
  ASSERT_TRUE(join_within(ts, done, kThreads)) << "a locker was never woken";
  EXPECT_EQ(counter, uint64_t(kThreads) * kIters);
}

TEST(CpuLockConcurrency, EveryRequestedUpdateRunsAfterTheRequest) {
  // Requesters bump a generation and request an update; the update records the generation it saw
  // (under the lock). Lockers hold the lock meanwhile, so requests land on a held lock and must be
  // run by the holder before it releases. Once every thread is done, the last update must have
  // seen the last generation: a request dropped between a holder's last check and its release
  // would leave `applied` behind.
  static CpuLock lock;
  static uint64_t applied = 0;
  static uint64_t updates = 0;
  static std::atomic<uint64_t> gen{0};
  applied = 0;
  updates = 0;
  gen.store(0);
  auto update = [] {
    applied = gen.load(std::memory_order_seq_cst);
    ++updates;
  };
  constexpr unsigned kRequesters = 3, kLockers = 3, kIters = 10000;
  std::atomic<unsigned> done{0};
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < kRequesters; ++t)
    ts.emplace_back([&done, update] {
      for (unsigned i = 0; i < kIters; ++i) {
        gen.fetch_add(1, std::memory_order_seq_cst);
        lock.request_update(update);
      }
      done.fetch_add(1);
    });
  for (unsigned t = 0; t < kLockers; ++t)
    ts.emplace_back([&done, update] {
      for (unsigned i = 0; i < kIters; ++i) {
        lock.lock();
        if (i % 128 == 0) std::this_thread::yield();
        lock.unlock(update);
      }
      done.fetch_add(1);
    });
  ASSERT_TRUE(join_within(ts, done, kRequesters + kLockers)) << "a thread never finished";
  lock.lock();
  const uint64_t seen = applied, n = updates;
  lock.unlock([] {});
  EXPECT_EQ(seen, uint64_t(kRequesters) * kIters) << "an update request was lost";
  EXPECT_GT(n, 0u);
}
