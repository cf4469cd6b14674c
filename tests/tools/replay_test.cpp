// The recorded Linux 6.1 ITS driver traces replay with every MSI landing as the same LPI on the same
// CPU, every command and every register read as recorded, and every acknowledge matching.
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

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

namespace {
// The config record of a recorded trace (2 CPUs, one ITS) followed by `records`, numbered from 1.
std::string with_config(const std::vector<std::string>& records) {
  std::string text = slurp(trace("smp2-blk-rng"));
  text = text.substr(0, text.find('\n') + 1);
  for (size_t i = 0; i < records.size(); ++i) text += "{\"n\":" + std::to_string(i + 1) + "," + records[i] + "}\n";
  return text;
}
gicv3::replay::Report run(const std::vector<std::string>& records) {
  std::istringstream in(with_config(records));
  return replay(in);
}
}  // namespace

// Values that do not fit what they name are bad input, never truncated or sent elsewhere: an
// offset beyond its frame, a CPU or DeviceID out of range, an EOI group other than 0/1, hex that
// is not the format's, an MSI to another offset than GITS_TRANSLATER.
TEST(Replay, OutOfRangeFieldsAreBadInputNamingTheLine) {
  const struct {
    const char* what;
    std::string record;
    const char* error;
  } cases[] = {
      {"gicd off in the ITS", R"("k":"mmio","dev":"gicd","op":"r","off":"0x80008","size":8,"val":"0x0")", "outside the gicd frame"},
      {"gicr off in the next RD", R"("k":"mmio","dev":"gicr","rd":0,"op":"r","off":"0x20008","size":8,"val":"0x0")",
       "outside the gicr frame"},
      {"its off in the translation frame", R"("k":"mmio","dev":"its","op":"r","off":"0x10040","size":4,"val":"0x0")",
       "outside the its frame"},
      {"mmio size", R"("k":"mmio","dev":"gicd","op":"r","off":"0x0","size":4294967300,"val":"0x0")", "'size'"},
      {"sysreg cpu 2^32", R"("k":"sysreg","cpu":4294967296,"reg":"ICC_PMR","op":"w","val":"0xf0")", "'cpu'"},
      {"ack cpu", R"("k":"ack","cpu":2,"intid":8192)", "'cpu'"},
      {"eoi cpu", R"("k":"eoi","cpu":99,"intid":8192,"grp":1)", "'cpu'"},
      {"eoi grp", R"("k":"eoi","cpu":0,"intid":8192,"grp":7)", "'grp'"},
      {"msi devid 2^32", R"("k":"msi","devid":4294967296,"eventid":0,"off":"0x40","size":4,"ok":false)", "'devid'"},
      {"msi off", R"("k":"msi","devid":0,"eventid":0,"off":"0x44","size":4,"ok":false)", "GITS_TRANSLATER"},
      {"memw signs and spaces", R"("k":"memw","pa":"0x40000000","data":"-1 1","what":"prop")", "hex"},
      {"memw upper case", R"("k":"memw","pa":"0x40000000","data":"AB","what":"prop")", "hex"},
      {"memfill byte", R"("k":"memfill","pa":"0x40000000","size":16,"byte":"0x1ff","what":"itt")", "'byte'"},
  };
  for (const auto& c : cases) {
    const auto r = run({c.record});
    EXPECT_FALSE(r.ok()) << c.what;
    EXPECT_NE(r.error.find("line 2"), std::string::npos) << c.what << ": " << r.error;
    EXPECT_NE(r.error.find(c.error), std::string::npos) << c.what << ": " << r.error;
  }
}

// The memory records together may write at most 512 MiB of the replay's RAM model.
TEST(Replay, MemoryRecordsHaveATotalBound) {
  std::vector<std::string> records;
  for (unsigned i = 0; i < 9; ++i)
    records.push_back(R"("k":"memfill","size":67108864,"byte":"0x0","what":"itt","pa":")" +
                      std::string("0x") + (std::stringstream() << std::hex << (0x40000000ull + i * 0x4000000ull)).str() + "\"");
  const auto r = run(records);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("line 10"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("512 MiB"), std::string::npos) << r.error;
}

// A command must run from the slot the trace recorded (FORMAT.md 4.9 idx).
TEST(Replay, ACommandFromAnotherSlotIsAMismatch) {
  std::string text = slurp(trace("smp2-blk-rng"));
  const size_t at = text.find("\"k\":\"cmd\"");
  ASSERT_NE(at, std::string::npos);
  const size_t idx = text.find("\"idx\":", at);
  ASSERT_NE(idx, std::string::npos);
  const size_t end = text.find_first_of(",}", idx);
  text.replace(idx, end - idx, "\"idx\":77");
  std::istringstream in(text);
  const auto r = replay(in);
  EXPECT_FALSE(r.ok());
  ASSERT_FALSE(r.mismatches.empty()) << r.error;
  EXPECT_EQ(r.mismatches[0].kind, "cmd");
  EXPECT_NE(r.mismatches[0].detail.find("trace slot 77"), std::string::npos) << r.mismatches[0].detail;
}

namespace {
// Writes data gzip-compressed to path; with cut, only the deflate stream so far (no trailer), as a
// copy interrupted mid-file leaves it.
void write_gz(const std::string& path, const std::string& data, bool cut) {
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<unsigned char> out(deflateBound(&z, uLong(data.size())) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = uInt(data.size());
  z.next_out = out.data();
  z.avail_out = uInt(out.size());
  ASSERT_EQ(deflate(&z, cut ? Z_FULL_FLUSH : Z_FINISH), cut ? Z_OK : Z_STREAM_END);
  const size_t n = out.size() - z.avail_out;
  deflateEnd(&z);
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(out.data()), std::streamsize(n));
}
}  // namespace

// A .gz that ends inside its stream is a truncated trace: an error, not a PASS on the prefix.
TEST(Replay, ATruncatedGzipTraceIsAnError) {
  const std::string text = slurp(trace("smp2-blk-rng"));
  std::string prefix = text;
  size_t pos = 0;
  for (int i = 0; i < 300; ++i) pos = prefix.find('\n', pos) + 1;
  prefix.resize(pos);
  const std::string whole = testing::TempDir() + "/whole.jsonl.gz", cut = testing::TempDir() + "/cut.jsonl.gz";
  write_gz(whole, prefix, false);
  write_gz(cut, prefix, true);
  EXPECT_TRUE(replay_file(whole).error.empty()) << replay_file(whole).error;  // the prefix itself is well formed
  const auto r = replay_file(cut);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("truncated gzip"), std::string::npos) << r.error;
  std::remove(whole.c_str());
  std::remove(cut.c_str());
}

// A small .gz may not expand into gigabytes: at most 256 MiB, then an error.
TEST(Replay, AGzipBombIsRefusedAtTheBound) {
  const std::string path = testing::TempDir() + "/bomb.jsonl.gz";
  {
    gzFile f = gzopen(path.c_str(), "wb1");
    ASSERT_NE(f, nullptr);
    const std::string spaces(1 << 20, ' ');
    for (int i = 0; i < 257; ++i) ASSERT_EQ(gzwrite(f, spaces.data(), unsigned(spaces.size())), int(spaces.size()));
    gzclose(f);
  }
  const auto r = replay_file(path);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("more than 256 MiB"), std::string::npos) << r.error;
  std::remove(path.c_str());
}
