// The recorded Linux 6.1 ITS driver traces replay with every MSI landing as the same LPI on the same
// CPU, every command and every register read as recorded, and every acknowledge matching.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "replay.hpp"

using gicv3::replay::format_report;
using gicv3::replay::replay;
using gicv3::replay::replay_file;

namespace {
std::string trace(const char* name) { return std::string(VGIC_TRACE_DIR) + "/" + name + "/events.jsonl"; }
std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

class RecordedTraces : public ::testing::TestWithParam<const char*> {};

TEST_P(RecordedTraces, ReplayWithoutMismatch) {
  const auto r = replay_file(trace(GetParam()));
  EXPECT_TRUE(r.ok()) << format_report(r);
  EXPECT_GT(r.msis_checked, 80u);
  EXPECT_EQ(r.msis_checked, r.records_by_kind.at("msi"));
  EXPECT_EQ(r.acks_checked, r.records_by_kind.at("ack"));
  EXPECT_EQ(r.commands_checked, r.records_by_kind.at("cmd"));
}

INSTANTIATE_TEST_SUITE_P(Linux61, RecordedTraces, ::testing::Values("smp2-blk-rng", "smp4-multiqueue"));

TEST(Replay, CorruptedMsiExpectationIsReported) {
  std::string text = slurp(trace("smp2-blk-rng"));
  // Claim the first MSI landed on another LPI.
  const size_t at = text.find("\"k\":\"msi\"");
  ASSERT_NE(at, std::string::npos);
  const size_t intid = text.find("\"intid\":", at);
  text.replace(intid, 8, "\"intid\":1");
  std::istringstream in(text);
  const auto r = replay(in);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.error.empty()) << r.error;
  ASSERT_FALSE(r.mismatches.empty());
  EXPECT_EQ(r.mismatches[0].kind, "msi");
}

TEST(Replay, MalformedLineGivesItsNumber) {
  std::string text = slurp(trace("smp2-blk-rng"));
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) pos = text.find('\n', pos) + 1;  // start of line 5
  text.insert(pos, "{not json\n");
  std::istringstream in(text);
  const auto r = replay(in);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("line 5"), std::string::npos) << r.error;
}

TEST(Replay, MissingFileIsAnError) {
  const auto r = replay_file("/nonexistent/trace.jsonl");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("cannot open"), std::string::npos);
}

TEST(Replay, OversizedMemoryFillIsBadInputNotGigabytesOfWork) {
  std::string text = slurp(trace("smp2-blk-rng"));
  text = text.substr(0, text.find('\n') + 1);  // the config record alone
  text += "{\"n\":1,\"k\":\"memfill\",\"pa\":\"0x40000000\",\"size\":4294967296,\"byte\":\"0x1\"}\n";
  std::istringstream in(text);
  const auto r = replay(in);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("line 2"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("memfill"), std::string::npos) << r.error;
}
