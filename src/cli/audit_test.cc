#include "src/cli/audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "snowflake/layout.h"
#include "src/cli/internal/run_cli.h"

namespace snowflake::cli {
namespace {

using internal::Result;
using internal::Snowflake;
using ::testing::HasSubstr;

// An ID of the default layout; the tests' clock is 1 s past its epoch
// (tick 1000).
uint64_t Id(int64_t tick, int64_t worker, int64_t sequence) {
  return Layout().Compose({tick, worker, sequence});
}

std::string Lines(const std::vector<uint64_t>& ids) {
  std::string text;
  for (uint64_t id : ids) text += std::to_string(id) + "\n";
  return text;
}

std::string TempFile(const std::string& name, const std::string& content) {
  std::string path =
      (std::filesystem::temp_directory_path() / ("audit_test_" + name))
          .string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

nlohmann::json Json(const Result& r) {
  nlohmann::json json = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_TRUE(json.is_object()) << r.out << r.err;
  return json;
}

TEST(AuditTest, CleanInputPassesWithASummaryPerWorker) {
  const Result r = Snowflake(
      {"audit"}, Lines({Id(100, 1, 0), Id(100, 1, 1), Id(900, 2, 0)}));
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("audit: 3 IDs (3 distinct) from 1 input"));
  EXPECT_THAT(r.out, HasSubstr("verdict: OK"));
  EXPECT_THAT(r.out,
              HasSubstr("       1             2  2025-01-01T00:00:00.100Z"));
  EXPECT_THAT(r.out,
              HasSubstr("       2             1  2025-01-01T00:00:00.900Z"));
}

TEST(AuditTest, DuplicatesAcrossInputsAndSpilledRunsAreExact) {
  const uint64_t twice = Id(10, 3, 7);
  const uint64_t thrice = Id(20, 4, 0);
  const std::string a = TempFile("a", Lines({twice, thrice, Id(11, 3, 0)}));
  const std::string b = TempFile("b", Lines({thrice, twice, thrice}));
  const Result r = Snowflake(
      {"audit", a, b, "--json", "--buffer-ids", "2"});  // 3 runs merged.
  EXPECT_EQ(r.code, kExitBadData) << r.err;
  const nlohmann::json json = Json(r);
  EXPECT_EQ(json["ok"], false);
  EXPECT_EQ(json["ids"], 6);
  EXPECT_EQ(json["distinct"], 3);
  EXPECT_EQ(json["sorted_runs"], 3);
  EXPECT_EQ(json["duplicates"]["count"], 2);
  EXPECT_EQ(json["duplicates"]["extra_copies"], 3);
  const nlohmann::json& first = json["duplicates"]["examples"][0];
  EXPECT_EQ(first["id"], std::to_string(twice));
  EXPECT_EQ(first["count"], 2);
  EXPECT_EQ(first["worker"], 3);
  EXPECT_EQ(first["sequence"], 7);
  EXPECT_EQ(first["time"], "2025-01-01T00:00:00.010Z");
  EXPECT_EQ(json["duplicates"]["examples"][1]["count"], 3);
  std::filesystem::remove(a);
  std::filesystem::remove(b);
}

TEST(AuditTest, BinaryInputIsBigEndianAndATornTailIsInvalid) {
  std::string bytes;
  for (uint64_t id : {Id(5, 1, 0), Id(5, 1, 0)}) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      bytes += static_cast<char>((id >> shift) & 0xff);
    }
  }
  Result r = Snowflake({"audit", "--format", "binary", "--json"}, bytes);
  EXPECT_EQ(Json(r)["duplicates"]["count"], 1);
  EXPECT_EQ(Json(r)["invalid"]["count"], 0);
  r = Snowflake({"audit", "--format", "binary", "--json"},
                bytes.substr(0, 8) + "abc");
  EXPECT_EQ(r.code, kExitBadData);
  EXPECT_EQ(Json(r)["invalid"]["count"], 1);
  EXPECT_EQ(Json(r)["invalid"]["examples"][0]["error"],
            "3 trailing bytes, not a whole 8-byte ID");
}

TEST(AuditTest, WorkersOutsideTheRegionAndIdsInTheFuture) {
  const std::string input =
      Lines({Id(100, 2, 0), Id(100, 1, 0), Id(2000, 3, 0), Id(2001, 3, 0)});
  Result r = Snowflake(
      {"audit", "--regions", "us=0-1,eu=2-3", "--region", "eu", "--json"},
      input);
  EXPECT_EQ(r.code, kExitBadData);
  nlohmann::json json = Json(r);
  EXPECT_EQ(json["expected_workers"], "2-3");
  EXPECT_EQ(json["outside_range"]["count"], 1);
  EXPECT_EQ(json["outside_range"]["examples"][0]["worker"], 1);
  EXPECT_EQ(json["outside_range"]["examples"][0]["where"], "stdin:2");
  // Now is tick 1000: tick 2000 is 1,000 ms ahead (allowed), 2001 is not.
  EXPECT_EQ(json["future"]["count"], 1);
  EXPECT_EQ(json["future"]["examples"][0]["where"], "stdin:4");
  r = Snowflake(
      {"audit", "--regions", "us=0-1,eu=2-3", "--max-future-ms", "2000"},
      input);
  EXPECT_EQ(r.code, kExitOk) << r.out;  // Both regions, 2 s allowed.
}

// A clock one second later at every reading: IDs read from a stream still
// being written are compared with the time they are read, not the start.
class SteppingClock : public Clock {
 public:
  int64_t NowMicros() override { return now_ += 1'000'000; }
  void SleepForMicros(int64_t) override {}

 private:
  int64_t now_ = kDefaultEpochMillis * 1000;  // First reading: tick 1000.
};

TEST(AuditTest, NowIsReadAsTheInputIsRead) {
  std::vector<uint64_t> ids;
  ids.reserve(4097);
  for (int i = 0; i < 4096; ++i) ids.push_back(Id(1000, 1, i));
  ids.push_back(Id(2500, 1, 0));  // Read when the clock says tick 2000.
  SteppingClock clock;
  const internal::Result r =
      internal::RunWith(clock, {"audit", "--json"}, Lines(ids));
  EXPECT_EQ(r.code, kExitOk) << r.out;
  EXPECT_EQ(Json(r)["future"]["count"], 0);
}

TEST(AuditTest, OrderIsCheckedPerSourceAndWorkerWhenAsked) {
  // Worker 1 goes back within a.txt; b.txt's lower ID is another source.
  const std::string a =
      TempFile("ordered_a", Lines({Id(50, 1, 0), Id(60, 2, 0), Id(40, 1, 1)}));
  const std::string b = TempFile("ordered_b", Lines({Id(45, 1, 0)}));
  Result r = Snowflake({"audit", a, b, "--json"});
  EXPECT_EQ(r.code, kExitOk) << r.out;
  EXPECT_EQ(Json(r)["out_of_order"]["checked"], false);
  r = Snowflake({"audit", a, b, "--ordered", "--json"});
  EXPECT_EQ(r.code, kExitBadData);
  const nlohmann::json json = Json(r);
  EXPECT_EQ(json["out_of_order"]["count"], 1);
  EXPECT_EQ(json["out_of_order"]["examples"][0]["where"], a + ":3");
  EXPECT_EQ(json["out_of_order"]["examples"][0]["after"],
            std::to_string(Id(50, 1, 0)));
  std::filesystem::remove(a);
  std::filesystem::remove(b);
}

TEST(AuditTest, InvalidLinesAreCountedAndNamed) {
  const Result r = Snowflake({"audit", "--encoding", "base62"},
                             "1ptWyK4WgZU\n\n  not*base62  \n");
  EXPECT_EQ(r.code, kExitBadData);
  EXPECT_THAT(r.out, HasSubstr("invalid                      1"));
  EXPECT_THAT(r.out, HasSubstr("\"where\":\"stdin:3\""));
  EXPECT_THAT(r.out, HasSubstr("verdict: FAIL"));
}

TEST(AuditTest, BadFlagsAreUsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"audit", "--format", "yaml"},
           {"audit", "--region", "eu"},
           {"audit", "--regions", "eu=0-5000"},
           {"audit", "--buffer-ids", "0"},
           {"audit", "--max-future-ms", "-1"},
       }) {
    const Result r = Snowflake(args, "1\n");
    EXPECT_EQ(r.code, kExitUsage) << args[1] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("snowflake: audit: ")) << args[1];
  }
  const Result missing = Snowflake({"audit", "/nonexistent/ids.txt"});
  EXPECT_EQ(missing.code, kExitBadData);
  EXPECT_THAT(missing.err, HasSubstr("cannot open /nonexistent/ids.txt"));
}

}  // namespace
}  // namespace snowflake::cli
