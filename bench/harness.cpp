#include "harness.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <thread>

namespace gicv3::bench {

namespace {
bool g_smoke = false;
unsigned g_threads = 0;
using Clock = std::chrono::steady_clock;
}  // namespace

bool smoke() { return g_smoke; }
void set_smoke(bool on) { g_smoke = on; }
unsigned threads() { return g_threads ? g_threads : std::max(1u, std::thread::hardware_concurrency()); }
void set_threads(unsigned n) { g_threads = n; }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double time_once_ns(const std::function<void()>& f) {
  const auto t0 = Clock::now();
  f();
  return double(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

Timing measure(const std::function<void(uint64_t)>& run, double min_s, int reps) {
  Timing t;
  if (smoke()) {
    run(1);
    t.ops_per_rep = 1;
    t.ns_per_op = t.min_ns = t.max_ns = time_once_ns([&] { run(1); });
    return t;
  }
  // Calibrate: grow n until one run takes min_s.
  uint64_t n = 1;
  for (;;) {
    const double ns = time_once_ns([&] { run(n); });
    if (ns >= min_s * 1e9 || n >= (uint64_t(1) << 34)) break;
    const double want = min_s * 1e9 / std::max(ns, 1.0) * double(n) * 1.2;
    n = std::max<uint64_t>(n * 2, std::min<uint64_t>(uint64_t(want), n * 100));
  }
  std::vector<double> per;
  for (int r = 0; r < reps; ++r) per.push_back(time_once_ns([&] { run(n); }) / double(n));
  t.ops_per_rep = n;
  t.ns_per_op = median(per);
  t.min_ns = *std::min_element(per.begin(), per.end());
  t.max_ns = *std::max_element(per.begin(), per.end());
  return t;
}

namespace {
std::map<std::string, std::function<Runner()>>& profiles() {
  static std::map<std::string, std::function<Runner()>> m;
  return m;
}
// Not inlined, so callgrind can toggle collection on it.
[[gnu::noinline]] void run_units(const Runner& r, uint64_t n) { r(n); }
}  // namespace

void add_profile(const std::string& name, std::function<Runner()> make) { profiles()[name] = std::move(make); }

int run_profiled(const std::string& name, uint64_t n) {
  auto it = profiles().find(name);
  if (it == profiles().end()) {
    std::cerr << "no profile case " << name << "; cases:";
    for (auto& [k, v] : profiles()) std::cerr << ' ' << k;
    std::cerr << '\n';
    return 2;
  }
  const Runner r = it->second();
  run_units(r, n);
  return 0;
}

benchmark::internal::Benchmark* add(const std::string& name, std::function<void(benchmark::State&)> fn) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), [fn](benchmark::State& st) { fn(st); });
  if (smoke()) b->Iterations(1);
  return b;
}

}  // namespace gicv3::bench
