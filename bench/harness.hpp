// What every benchmark topic shares: the smoke switch, the timing loop the summary uses, the
// figures the summary prints, and the registration of each topic's Google Benchmark cases.
//
// Each topic (msi, stress, cycle, selection, commands, save/restore, memory) defines its cases
// once, as objects with a run(n) that does n units of work. Google Benchmark drives them through
// KeepRunningBatch; `vgic bench` (bench_summary.cpp) drives the same objects through measure()
// and compares the medians with the goals of issue 7.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gicv3::bench {

// Smoke mode (ctest bench.smoke): one iteration of everything, large sizes scaled down, so the
// suite cannot rot. It asserts nothing about speed.
bool smoke();
void set_smoke(bool on);
// Injection threads for the multi-threaded cases (0: the hardware threads).
unsigned threads();
void set_threads(unsigned n);

// Median over reps of the time per unit of run(n), n calibrated so one rep lasts >= min_s.
struct Timing {
  double ns_per_op = 0;  // median
  double min_ns = 0, max_ns = 0;
  uint64_t ops_per_rep = 0;
};
Timing measure(const std::function<void(uint64_t)>& run, double min_s = 0.05, int reps = 5);
// One timed call of f (for operations that are whole events: a save, a restore).
double time_once_ns(const std::function<void()>& f);
double median(std::vector<double> v);

// One row of the summary: the figure, what was measured, and the goal.
struct Figure {
  std::string item;    // issue 7 item: "1", "2", ...
  std::string name;
  double value = 0;
  std::string unit;
  double goal = 0;
  bool higher_is_better = true;
  std::string note;
  bool met() const { return higher_is_better ? value >= goal : value <= goal; }
};
using Figures = std::vector<Figure>;

// Per topic: register the Google Benchmark cases; add the summary figures.
void register_msi();
void register_stress();
void register_cycle();
void register_selection();
void register_commands();
void register_save_restore();
void register_memory();
void figures_msi(Figures&);
void figures_stress(Figures&);
void figures_cycle(Figures&);
void figures_selection(Figures&);
void figures_commands(Figures&);
void figures_save_restore(Figures&);
void figures_memory(Figures&);

// Profiling (valgrind --tool=callgrind, docs/performance.md): `vgic_bench --profile=NAME:N` builds
// the case NAME and runs N units of it, nothing else, so instructions per unit = Ir / N once the
// setup is subtracted (--toggle-collect='*run_profiled*' collects only the N units).
using Runner = std::function<void(uint64_t)>;
void add_profile(const std::string& name, std::function<Runner()> make);
int run_profiled(const std::string& name, uint64_t n);

// Registers fn as benchmark name; in smoke mode with one iteration.
benchmark::internal::Benchmark* add(const std::string& name, std::function<void(benchmark::State&)> fn);
// Runs case.run() in batches of `batch` units inside a Google Benchmark loop.
template <class Case>
void run_batched(benchmark::State& st, Case& c, uint64_t batch) {
  if (smoke()) batch = 1;
  while (st.KeepRunningBatch(int64_t(batch))) c.run(batch);
  st.SetItemsProcessed(int64_t(st.iterations()));
}

}  // namespace gicv3::bench
