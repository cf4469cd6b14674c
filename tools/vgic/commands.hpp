// `vgic` subcommands. Each is one function that adds its CLI11 subcommand to the app and sets
// `exit_code` when it runs; main() lists them. Adding a subcommand = one file + one line in main.
#pragma once

#include <CLI/CLI.hpp>

namespace vgic_cli {

void add_run_command(CLI::App& app, int& exit_code);
void add_replay_command(CLI::App& app, int& exit_code);
void add_inspect_command(CLI::App& app, int& exit_code);
#ifdef VGIC_CLI_HAVE_BENCH
void add_bench_command(CLI::App& app, int& exit_code);
#endif

}  // namespace vgic_cli
