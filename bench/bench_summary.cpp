#include "bench_summary.hpp"

#include <fstream>
#include <iomanip>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.hpp"

namespace gicv3::bench {

namespace {
std::string num(double v) {
  std::ostringstream s;
  s << std::setprecision(v >= 100 ? 0 : v >= 10 ? 1 : 2) << std::fixed << v;
  return s.str();
}
}  // namespace

int run_summary(const SummaryOptions& opt, std::ostream& out) {
  set_smoke(opt.quick);
  set_threads(opt.threads);
  Figures f;
  figures_msi(f);
  figures_stress(f);
  figures_cycle(f);
  figures_selection(f);
  figures_commands(f);
  figures_save_restore(f);
  figures_memory(f);

  out << "vgic benchmark summary (issue 7)" << (opt.quick ? " -- quick mode: figures are NOT meaningful" : "")
      << "; " << threads() << " injection thread(s), " << std::thread::hardware_concurrency() << " hardware thread(s)\n";
  out << std::left << std::setw(5) << "item" << std::setw(46) << "figure" << std::right << std::setw(14) << "measured"
      << std::setw(14) << "goal" << "  met?  note\n";
  unsigned met = 0;
  for (const Figure& x : f) {
    met += x.met();
    out << std::left << std::setw(5) << x.item << std::setw(46) << x.name << std::right << std::setw(9)
        << num(x.value) << ' ' << std::left << std::setw(4) << x.unit << std::right << std::setw(9)
        << ((x.higher_is_better ? ">= " : "<= ") + num(x.goal)) << ' ' << std::left << std::setw(4) << x.unit
        << (x.met() ? " yes   " : " NO    ") << x.note << '\n';
  }
  out << met << " of " << f.size() << " figures meet their goal\n";

  if (!opt.json_path.empty()) {
    nlohmann::json j = nlohmann::json::array();
    for (const Figure& x : f)
      j.push_back({{"item", x.item}, {"figure", x.name}, {"value", x.value}, {"unit", x.unit}, {"goal", x.goal},
                   {"higher_is_better", x.higher_is_better}, {"met", x.met()}, {"note", x.note}});
    std::ofstream o(opt.json_path);
    o << nlohmann::json{{"quick", opt.quick}, {"threads", threads()}, {"figures", j}}.dump(2) << '\n';
    if (!o) return 1;
  }
  return 0;
}

}  // namespace gicv3::bench
