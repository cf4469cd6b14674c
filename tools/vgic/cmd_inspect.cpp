// `vgic inspect SNAPSHOT [--json | --dot | --svg]`: the state held in a vgic_save blob (for
// example one written by `vgic run --save-gic`), rendered by tools/inspect without a GIC.
// --svg pipes the DOT graph through Graphviz's `dot`, which must be installed.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "commands.hpp"
#include "inspect.hpp"

namespace vgic_cli {
namespace {

// A snapshot is a few KiB to a few MiB; anything larger than this is not one of ours.
constexpr std::streamoff kMaxSnapshotBytes = std::streamoff{1} << 30;

bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& error) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
    error = "not a regular file";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return false;
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0 || size > kMaxSnapshotBytes) {
    error = size < 0 ? "cannot read (not a regular file?)" : "larger than 1 GiB: not a vgic snapshot";
    return false;
  }
  in.seekg(0);
  out.resize(static_cast<size_t>(size));
  if (!in.read(reinterpret_cast<char*>(out.data()), size)) {
    error = "read error";
    return false;
  }
  return true;
}

// Runs `dot -Tsvg` with the graph on its stdin; its SVG goes to our stdout.
int render_svg(const std::string& dot_text, const std::string& path) {
  std::fflush(stdout);
  // A `dot` that exits without reading all of the graph must not kill us with SIGPIPE (silently,
  // exit 141): the write then fails with EPIPE and its exit status is reported below.
  std::signal(SIGPIPE, SIG_IGN);
  FILE* p = popen("dot -Tsvg", "w");
  if (p == nullptr) {
    std::fprintf(stderr, "vgic inspect: cannot start Graphviz 'dot': %s\n", std::strerror(errno));
    return 1;
  }
  std::fwrite(dot_text.data(), 1, dot_text.size(), p);
  const int status = pclose(p);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const bool missing = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 127;
    std::fprintf(stderr, "vgic inspect: %s: %s\n", path.c_str(),
                 missing ? "--svg needs Graphviz's 'dot' (Debian package graphviz)" : "Graphviz 'dot' failed");
    return 1;
  }
  return 0;
}

}  // namespace

void add_inspect_command(CLI::App& app, int& exit_code) {
  struct Options {
    std::string path;
    bool json = false, dot = false, svg = false;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show the GIC state held in a snapshot (vgic_save / vgic run --save-gic)");
  cmd->add_option("SNAPSHOT", opt->path, "snapshot file (docs/snapshot-format.md)")->required();
  CLI::Option* json = cmd->add_flag("--json", opt->json, "JSON for tools (nlohmann-json)");
  CLI::Option* dot = cmd->add_flag("--dot", opt->dot, "Graphviz DOT of the routing graph: devices -> events -> LPIs -> collections -> CPUs");
  CLI::Option* svg = cmd->add_flag("--svg", opt->svg, "the routing graph as SVG (needs Graphviz's dot)");
  json->excludes(dot)->excludes(svg);
  dot->excludes(svg);
  cmd->callback([opt, &exit_code] {
    std::vector<uint8_t> blob;
    std::string error;
    if (!read_file(opt->path, blob, error)) {
      std::fprintf(stderr, "vgic inspect: %s: %s\n", opt->path.c_str(), error.c_str());
      exit_code = 1;
      return;
    }
    using gicv3::inspect::Format;
    const Format fmt = opt->json ? Format::json : (opt->dot || opt->svg) ? Format::dot : Format::text;
    std::ostringstream out;
    if (!gicv3::inspect::render(blob, fmt, out, &error)) {
      std::fprintf(stderr, "vgic inspect: %s: not a usable vgic snapshot: %s\n", opt->path.c_str(), error.c_str());
      exit_code = 1;
      return;
    }
    if (opt->svg) {
      exit_code = render_svg(out.str(), opt->path);
      return;
    }
    const std::string text = out.str();
    std::fwrite(text.data(), 1, text.size(), stdout);
    exit_code = 0;
  });
}

}  // namespace vgic_cli
