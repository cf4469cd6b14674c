// vgic_bench: the Google Benchmark executable of issue 7's suite.
//   vgic_bench [--smoke] [--threads=N] [--summary[=file.json]] [--profile=CASE:N] [Google Benchmark flags]
// --smoke: every benchmark once, large sizes scaled down (ctest bench.smoke; not a timing).
// --summary: the `vgic bench` table (bench_summary.hpp) instead of Google Benchmark's output.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "bench_summary.hpp"
#include "harness.hpp"

int main(int argc, char** argv) {
  using namespace gicv3::bench;
  std::vector<char*> rest{argv[0]};
  bool summary = false;
  std::string profile;
  SummaryOptions so;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--smoke") {
      set_smoke(true);
      so.quick = true;
    } else if (a.rfind("--threads=", 0) == 0) {
      so.threads = unsigned(std::stoul(a.substr(10)));
      set_threads(so.threads);
    } else if (a.rfind("--profile=", 0) == 0) {
      profile = a.substr(10);
    } else if (a == "--summary") {
      summary = true;
    } else if (a.rfind("--summary=", 0) == 0) {
      summary = true;
      so.json_path = a.substr(10);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (summary) return run_summary(so, std::cout);
  register_msi();
  register_stress();
  register_cycle();
  register_selection();
  register_commands();
  register_save_restore();
  register_memory();
  if (!profile.empty()) {
    const size_t colon = profile.find(':');
    const uint64_t units = colon == std::string::npos ? 1000 : std::stoull(profile.substr(colon + 1));
    return run_profiled(profile.substr(0, colon), units);
  }
  int n = int(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
