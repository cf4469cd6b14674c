// Replays a recorded GICv3/ITS trace (format: tests/data/traces/FORMAT.md, from ../shared/traces)
// into a fresh vgic and checks every expectation: register reads, MSI translations, executed ITS
// commands and LPI acknowledgements. Used by the tests now and by `vgic replay` later.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <vector>

namespace gicv3::replay {

struct Mismatch {
  uint64_t record = 0;  // the record's "n"
  uint64_t line = 0;    // 1-based line in the file
  std::string kind;     // record kind: mmio, msi, ack, cmd ...
  std::string detail;   // expected vs got
};

struct Report {
  std::map<std::string, uint64_t> records_by_kind;
  uint64_t reads_checked = 0, msis_checked = 0, acks_checked = 0, commands_checked = 0;
  uint64_t mismatch_count = 0;
  std::vector<Mismatch> mismatches;  // the first max_mismatches of them
  std::string error;                 // malformed input: message with the line number
  bool ok() const { return error.empty() && mismatch_count == 0; }
};

struct Options {
  size_t max_mismatches = 20;
};

Report replay(std::istream& in, const Options& opt = {});
// path may end in .gz (gzip-compressed JSON lines).
Report replay_file(const std::string& path, const Options& opt = {});

// A human-readable summary: counts by kind, checks, and the first mismatches.
std::string format_report(const Report& r);

}  // namespace gicv3::replay
