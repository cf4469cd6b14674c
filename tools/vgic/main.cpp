// vgic: the command-line front end of the vgic project (issue 6).
#include <cstdio>
#include <exception>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"vgic: GICv3/ITS emulation tools (reference machine, trace replay, snapshot inspection, benchmarks)", "vgic"};
  app.require_subcommand(1);
  int exit_code = 0;
  vgic_cli::add_run_command(app, exit_code);
  vgic_cli::add_replay_command(app, exit_code);
  vgic_cli::add_inspect_command(app, exit_code);
#ifdef VGIC_CLI_HAVE_BENCH
  vgic_cli::add_bench_command(app, exit_code);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "vgic: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
