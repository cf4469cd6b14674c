// TraceLog (src/core/trace.hpp): every guest error is counted; a message is built only for an
// event the sink receives, so a guest repeating an error costs no formatting once the second's
// quota is spent, and none at all without a sink.
#include "core/trace.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using gicv3::TraceEvent;
using gicv3::TraceLog;

struct Recorder {
  std::vector<std::string> details;
  unsigned built = 0;  // calls of the describe callable

  void error(TraceLog& log, uint64_t offset) {
    log.guest_error("test", "frame", TraceLog::kNoCpu, offset, 0, [this, offset] {
      ++built;
      return "offset " + std::to_string(offset);
    });
  }
};

TEST(TraceLog, WithoutASinkErrorsAreCountedAndNothingIsFormatted) {
  TraceLog log;
  Recorder r;
  for (uint64_t i = 0; i < 10; ++i) r.error(log, i);
  EXPECT_EQ(r.built, 0u);
  EXPECT_EQ(log.stats().guest_errors, 10u);
  EXPECT_EQ(log.stats().trace_dropped, 0u);  // nobody listens: nothing was dropped
}

TEST(TraceLog, OnlyAdmittedEventsAreFormatted) {
  TraceLog log;
  Recorder r;
  log.set_sink([&](const TraceEvent& e) { r.details.push_back(e.detail); }, 3);
  for (uint64_t i = 0; i < 10; ++i) r.error(log, i);
  // Within one second (a slow machine may open a second window; then more are delivered).
  ASSERT_GE(r.details.size(), 3u);
  EXPECT_EQ(r.built, r.details.size());
  EXPECT_EQ(r.details[0], "offset 0");
  EXPECT_EQ(r.details[2], "offset 2");
  EXPECT_EQ(log.stats().guest_errors, 10u);
  EXPECT_EQ(log.stats().trace_dropped + r.details.size(), 10u);
}

TEST(TraceLog, AFixedTextIsDeliveredAsIs) {
  TraceLog log;
  std::vector<TraceEvent> seen;
  log.set_sink([&](const TraceEvent& e) { seen.push_back(e); }, 10);
  log.guest_error("kind", "gicd", 1, 0x14, 0x99, "read of a reserved offset returns 0");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_STREQ(seen[0].kind, "kind");
  EXPECT_STREQ(seen[0].frame, "gicd");
  EXPECT_EQ(seen[0].cpu, 1u);
  EXPECT_EQ(seen[0].offset, 0x14u);
  EXPECT_EQ(seen[0].value, 0x99u);
  EXPECT_EQ(seen[0].detail, "read of a reserved offset returns 0");
}

TEST(TraceLog, RemovingTheSinkStopsFormatting) {
  TraceLog log;
  Recorder r;
  log.set_sink([&](const TraceEvent& e) { r.details.push_back(e.detail); }, 100);
  r.error(log, 1);
  log.set_sink(nullptr, 0);
  r.error(log, 2);
  EXPECT_EQ(r.built, 1u);
  EXPECT_EQ(r.details.size(), 1u);
  EXPECT_EQ(log.stats().guest_errors, 2u);
}

}  // namespace
