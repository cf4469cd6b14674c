// `vgic run IMAGE`: boots an aarch64 image on the reference machine (tools/machine). Exit status:
// the machine's ExitCode (docs/reference-machine.md); 1 for unusable options or images.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "loader.hpp"
#include "machine.hpp"

namespace vgic_cli {

namespace {

// "128M", "1G", "65536", "512K" -> bytes; false when malformed or overflowing.
bool parse_size(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < digits; ++i) {
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  const std::string suffix = s.substr(digits);
  unsigned shift = 0;
  if (suffix == "K" || suffix == "k" || suffix == "KiB") shift = 10;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB") shift = 20;
  else if (suffix == "G" || suffix == "g" || suffix == "GiB") shift = 30;
  else if (!suffix.empty()) return false;
  if (shift && v > (UINT64_MAX >> shift)) return false;
  out = v << shift;
  return true;
}

struct RunOptions {
  std::string image;
  unsigned cpus = 1;
  std::string mem = "128M";
  std::vector<std::string> trace;
  std::vector<uint64_t> migrate_at;
  uint64_t max_insns = 4'000'000'000ull;
  double timeout = 120;
  uint64_t quantum = 1000;
  bool direct_lpi = false;
  bool migrate_keep_gic = false;
  std::string save_gic;
};

int run(const RunOptions& o) {
  using namespace vgic_machine;
  MachineConfig cfg;
  cfg.nr_cpus = o.cpus;
  if (!parse_size(o.mem, cfg.ram_size)) {
    std::fprintf(stderr, "vgic run: --mem %s: expected a size such as 128M or 1G\n", o.mem.c_str());
    return 1;
  }
  for (const std::string& t : o.trace) {
    const bool all = t == "all";
    if (all || t == "gic") cfg.trace_gic = true;
    if (all || t == "psci") cfg.trace_psci = true;
    if (all || t == "irq") cfg.trace_irq = true;
  }
  cfg.max_instructions = o.max_insns;
  cfg.max_seconds = o.timeout;
  cfg.quantum = o.quantum;
  cfg.direct_lpi = o.direct_lpi;
  // Guest output line by line: what a guest printed before a fault or a kill is not lost.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  std::vector<uint8_t> image;
  if (auto e = read_file(o.image, cfg.ram_size, image); !e.empty()) {
    std::fprintf(stderr, "vgic run: %s\n", e.c_str());
    return 1;
  }
  std::string err;
  auto m = Machine::create(cfg, err);
  if (!m) {
    std::fprintf(stderr, "vgic run: %s\n", err.c_str());
    return 1;
  }
  if (auto e = m->load(image); !e.empty()) {
    std::fprintf(stderr, "vgic run: %s: %s\n", o.image.c_str(), e.c_str());
    return 1;
  }
  std::vector<uint64_t> points = o.migrate_at;
  std::sort(points.begin(), points.end());
  RunResult r;
  for (uint64_t at : points) {
    r = m->run(at);
    if (!r.migrate) break;
    // Migrate: the whole machine into bytes, then a fresh machine (new engines, new vgic) from them.
    std::vector<uint8_t> snap;
    const bool with_gic = !o.migrate_keep_gic;
    if (auto e = m->save(snap, with_gic); !e.empty()) {
      std::fflush(stdout);
      std::fprintf(stderr, "vgic run: --migrate-at %llu: cannot save the machine: %s\n",
                   static_cast<unsigned long long>(at), e.c_str());
      return 1;
    }
    std::unique_ptr<gicv3::Gic> kept = with_gic ? nullptr : m->release_gic();
    m.reset();
    m = Machine::create(cfg, err, std::move(kept));
    if (!m) {
      std::fprintf(stderr, "vgic run: migration target: %s\n", err.c_str());
      return 1;
    }
    if (auto e = m->restore(snap, with_gic); !e.empty()) {
      std::fflush(stdout);
      std::fprintf(stderr, "vgic run: --migrate-at %llu: cannot restore the machine: %s\n",
                   static_cast<unsigned long long>(at), e.c_str());
      return 1;
    }
    if (!o.trace.empty())
      std::fprintf(stderr, "vgic run: migrated at %llu instructions (%zu bytes)\n",
                   static_cast<unsigned long long>(m->instructions()), snap.size());
  }
  if (points.empty() || r.migrate) r = m->run(0);
  std::fflush(stdout);
  if (!o.save_gic.empty()) {
    // The GIC as the run left it (Gic::save), e.g. for `vgic inspect`.
    std::vector<uint8_t> blob;
    gicv3::Status s = m->gic().save(blob);
    std::FILE* f = s ? std::fopen(o.save_gic.c_str(), "wb") : nullptr;
    const bool written = f && std::fwrite(blob.data(), 1, blob.size(), f) == blob.size();
    if (f && std::fclose(f) != 0) f = nullptr;
    if (!s || !written || !f) {
      std::fprintf(stderr, "vgic run: --save-gic %s: %s\n", o.save_gic.c_str(),
                   !s ? s.message().c_str() : "cannot write the file");
      if (r.exit_code == 0) r.exit_code = 1;
    }
  }
  if (r.exit_code != 0) {
    std::fprintf(stderr, "vgic run: %s\n", r.message.c_str());
  } else if (!o.trace.empty()) {
    std::fprintf(stderr, "vgic run: %s after %llu instructions\n", r.message.c_str(),
                 static_cast<unsigned long long>(r.instructions));
  }
  return r.exit_code;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Boot an aarch64 image (ELF or flat binary) on the reference machine");
  cmd->add_option("IMAGE", o->image, "ELF executable (loaded at its addresses) or flat binary (at 0x40080000)")
      ->required();
  cmd->add_option("--cpus", o->cpus, "number of vCPUs")->check(CLI::Range(1, 64));
  cmd->add_option("--mem", o->mem, "RAM size at 0x40000000 (e.g. 128M, 1G)");
  cmd->add_option("--trace", o->trace, "trace to stderr: gic, psci, irq, all")
      ->check(CLI::IsMember({"gic", "psci", "irq", "all"}));
  cmd->add_option("--migrate-at", o->migrate_at,
                  "after N guest instructions, save the machine and continue in a fresh one (repeatable)")
      ->check(CLI::Range(uint64_t{1}, UINT64_MAX));  // 0 would mean "no stop" to the machine: no migration at all
  cmd->add_option("--max-insns", o->max_insns, "watchdog: end the run after this many guest instructions")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--timeout", o->timeout, "watchdog: end the run after this many host seconds")
      ->check(CLI::PositiveNumber)
      ->check(CLI::Validator(
          [](std::string& s) {
            // PositiveNumber lets "nan" through, and a NaN limit never expires.
            const double v = std::strtod(s.c_str(), nullptr);
            return std::isfinite(v) ? std::string() : std::string("must be a finite number of seconds");
          },
          "FINITE"));
  cmd->add_option("--quantum", o->quantum, "instructions a vCPU runs per turn (round-robin)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1000000}));
  cmd->add_flag("--migrate-keep-gic", o->migrate_keep_gic,
                 "--migrate-at moves only the vCPUs and RAM to fresh engines and hands the same GIC object over "
                 "(checks the machine side of migration without the GIC snapshot)");
  cmd->add_option("--save-gic", o->save_gic, "when the run ends, write the GIC's snapshot (Gic::save) to this file");
  cmd->add_flag("--direct-lpi", o->direct_lpi, "redistributors implement DirectLPI (GICR_TYPER.DirectLPI = 1)");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace vgic_cli
