// `vgic bench [--quick] [--json FILE] [--threads N]`: the benchmark summary of issue 7 (the suite
// in bench/, docs/performance.md): every figure measured in this run beside its goal. Timing needs
// a quiet machine; --quick runs smoke sizes to check that everything works.
#include <iostream>
#include <string>

#include "bench_summary.hpp"
#include "commands.hpp"

namespace vgic_cli {

void add_bench_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<gicv3::bench::SummaryOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Run the benchmark suite and print its figures beside the goals");
  cmd->add_flag("--quick", opt->quick, "smoke sizes, one iteration per figure (seconds; not for quoting)");
  cmd->add_option("--json", opt->json_path, "also write the figures to this file as JSON");
  cmd->add_option("--threads", opt->threads, "injection threads for the stress matrix (0: hardware threads)")
      ->check(CLI::Range(0u, 1024u));
  cmd->callback([opt, &exit_code] {
    exit_code = gicv3::bench::run_summary(*opt, std::cout);
    std::cout.flush();
    if (exit_code != 0) std::cerr << "vgic bench: cannot write " << opt->json_path << "\n";
  });
}

}  // namespace vgic_cli
