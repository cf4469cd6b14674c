// The benchmark suite of issue 7 as a library, for `vgic bench`: runs every topic, prints one
// summary table (figure | measured | goal | met?) and optionally writes the figures as JSON.
#pragma once

#include <ostream>
#include <string>

namespace gicv3::bench {

struct SummaryOptions {
  bool quick = false;      // smoke sizes and one iteration per figure (seconds, not minutes)
  std::string json_path;   // also write the figures there as JSON
  unsigned threads = 0;    // injection threads for the stress matrix (0: hardware threads)
};

// Runs the suite, prints one summary table (figure | measured | goal | met?) to out; writes JSON
// if json_path is set. Returns 0, or 1 if the JSON file could not be written.
int run_summary(const SummaryOptions& opt, std::ostream& out);

}  // namespace gicv3::bench
