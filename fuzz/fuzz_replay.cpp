// libFuzzer harness: the trace replayer on arbitrary bytes. Malformed input must come back as
// Report::error, never as a crash, a hang or unbounded memory.
#include <cstdint>
#include <sstream>
#include <string>

#include "replay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  gicv3::replay::Options opt;
  opt.max_mismatches = 4;
  const gicv3::replay::Report r = gicv3::replay::replay(in, opt);
  (void)r.ok();
  return 0;
}
