// `vgic replay TRACE.jsonl[.gz]`: replays a recorded trace into a fresh vgic (tools/replay) and
// checks every expectation. Exit 0 when everything matched, 1 on a mismatch or malformed input.
#include <cstdio>
#include <string>

#include "commands.hpp"
#include "replay.hpp"

namespace vgic_cli {

void add_replay_command(CLI::App& app, int& exit_code) {
  struct Options {
    std::string path;
    size_t max_mismatches = 20;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("replay", "Replay a recorded GIC trace (JSON lines, optionally .gz) and check it");
  cmd->add_option("TRACE", opt->path, "trace file (tests/data/traces/FORMAT.md)")->required();
  cmd->add_option("--max-mismatches", opt->max_mismatches, "how many mismatches to show in detail")
      ->check(CLI::Range(1, 100000));
  cmd->callback([opt, &exit_code] {
    gicv3::replay::Options o;
    o.max_mismatches = opt->max_mismatches;
    const gicv3::replay::Report r = gicv3::replay::replay_file(opt->path, o);
    std::fputs(gicv3::replay::format_report(r).c_str(), stdout);
    std::fflush(stdout);
    if (!r.error.empty()) {
      std::fprintf(stderr, "vgic replay: %s: %s\n", opt->path.c_str(), r.error.c_str());
    } else if (!r.ok()) {
      std::fprintf(stderr, "vgic replay: %s: %llu mismatch(es)\n", opt->path.c_str(),
                   static_cast<unsigned long long>(r.mismatch_count));
    }
    exit_code = r.ok() ? 0 : 1;
  });
}

}  // namespace vgic_cli
