#include "src/cli/commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "snowflake/id.h"
#include "snowflake/layout.h"
#include "src/cli/cli.h"
#include "src/cli/internal/run_cli.h"
#include "testing/simulated_clock.h"

namespace snowflake::cli {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr uint64_t kTwitterId = 1541815603606036480;

using internal::Result;
using internal::RunWith;
using internal::Snowflake;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// Checks that `result` failed with `code` and one error line that starts
// with `prefix`.
void ExpectFailure(const Result& result, int code, const std::string& prefix) {
  EXPECT_EQ(result.code, code);
  EXPECT_THAT(result.err, StartsWith(prefix));
  EXPECT_THAT(result.err, EndsWith("\n"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
      << result.err;
}

// Checks that `args` fail as a usage error whose one line names `culprit`.
void ExpectUsageError(const std::vector<std::string>& args,
                      const std::string& prefix, const std::string& culprit) {
  const Result r = Snowflake(args);
  ExpectFailure(r, kExitUsage, prefix);
  EXPECT_THAT(r.err, HasSubstr(culprit));
}

// --- decode -----------------------------------------------------------------

TEST(DecodeTest, TwitterIdByHand) {
  // 1541815603606036480 >> 22 = 367597485448; + epoch 1288834974657.
  const Result r =
      Snowflake({"decode", "--preset", "twitter", "1541815603606036480"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out,
            "id=1541815603606036480 time_ms=1656432460105 "
            "time=2022-06-28T16:07:40.105Z worker=378 sequence=0 "
            "tick=367597485448\n");
  EXPECT_THAT(r.err, IsEmpty());
}

TEST(DecodeTest, DiscordIdByHand) {
  // Discord's documented example: worker 1, process 0, increment 7.
  const Result r =
      Snowflake({"decode", "--preset", "discord", "175928847299117063"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out,
            "id=175928847299117063 time_ms=1462015105796 "
            "time=2016-04-30T11:18:25.796Z worker=32 sequence=7 "
            "tick=41944705796\n");
}

TEST(DecodeTest, DefaultLayout) {
  // (1000 << 22) | (5 << 12) | 7.
  const Result r = Snowflake({"decode", "4194324487"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out,
            "id=4194324487 time_ms=1735689601000 "
            "time=2025-01-01T00:00:01.000Z worker=5 sequence=7 tick=1000\n");
}

TEST(DecodeTest, CustomLayoutEpochAndUnit) {
  // 39/8/16, 10 ms ticks, Unix epoch: (165643246010 << 24) | (200 << 16) |
  // 65535.
  const Result r = Snowflake({"decode", "--layout", "39/8/16", "--unit", "10",
                              "--epoch", "0", "2779032517264080895"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out,
            "id=2779032517264080895 time_ms=1656432460100 "
            "time=2022-06-28T16:07:40.100Z worker=200 sequence=65535 "
            "tick=165643246010\n");
}

TEST(DecodeTest, JsonParsesBack) {
  const Result r = Snowflake({"decode", "--json", "--preset", "twitter",
                              "1541815603606036480", "4194324487"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  const nlohmann::json json = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(json["id"], "1541815603606036480");  // A string, not a number.
  EXPECT_EQ(json["time_ms"], 1656432460105);
  EXPECT_EQ(json["time"], "2022-06-28T16:07:40.105Z");
  EXPECT_EQ(json["worker"], 378);
  EXPECT_EQ(json["sequence"], 0);
  EXPECT_EQ(json["tick"], 367597485448);
  EXPECT_FALSE(json.contains("input"));
  EXPECT_EQ(nlohmann::json::parse(lines[1])["id"], "4194324487");
}

TEST(DecodeTest, ReadsStdinWithoutArgs) {
  const Result r = Snowflake({"decode", "--preset", "twitter", "--json"},
                             "1541815603606036480\n\n  4194324487 \r\n");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["worker"], 378);
  EXPECT_EQ(nlohmann::json::parse(lines[1])["id"], "4194324487");
}

TEST(DecodeTest, DashReadsStdinInPlace) {
  const Result r = Snowflake({"decode", "1", "-", "3"}, "2\n");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], StartsWith("id=1 "));
  EXPECT_THAT(lines[1], StartsWith("id=2 "));
  EXPECT_THAT(lines[2], StartsWith("id=3 "));
}

TEST(DecodeTest, OtherInputEncoding) {
  const Result r = Snowflake({"decode", "--preset", "twitter", "--encoding",
                              "hex", "0x1565a11f6217a000"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, StartsWith("id=1541815603606036480 "
                                "input=0x1565a11f6217a000 "
                                "time_ms=1656432460105 "));
}

TEST(DecodeTest, BadIdIsOneLineAndStops) {
  const Result r = Snowflake({"decode", "1", "12x", "3"});
  ExpectFailure(r, kExitBadData, "snowflake: decode: invalid ID \"12x\": ");
  EXPECT_THAT(r.err, HasSubstr("'x'"));
  EXPECT_EQ(Lines(r.out).size(), 1u);  // "1" was decoded, "3" was not.
}

TEST(DecodeTest, BadIdOnStdinNamesTheLine) {
  const Result r = Snowflake({"decode"}, "1\nabc\n");
  ExpectFailure(r, kExitBadData,
                "snowflake: decode: invalid ID \"abc\" (stdin line 2): ");
}

TEST(DecodeTest, EmptyArgumentIsBadData) {
  ExpectFailure(Snowflake({"decode", ""}), kExitBadData,
                "snowflake: decode: invalid ID \"\": ");
}

TEST(DecodeTest, SignBitIsBadData) {
  ExpectFailure(Snowflake({"decode", "9223372036854775808"}), kExitBadData,
                "snowflake: decode: invalid ID \"9223372036854775808\": ");
  ExpectFailure(Snowflake({"decode", "--encoding", "hex", "8000000000000000"}),
                kExitBadData, "snowflake: decode: invalid ID ");
}

TEST(DecodeTest, BitsAboveANarrowLayoutAreBadData) {
  // 40/10/12 uses 62 bits; 2^62 sets bit 62.
  const Result r =
      Snowflake({"decode", "--layout", "40/10/12", "4611686018427387904"});
  ExpectFailure(r, kExitBadData,
                "snowflake: decode: invalid ID \"4611686018427387904\": ");
  // The same ID is fine where the time field is wide enough.
  EXPECT_EQ(Snowflake({"decode", "4611686018427387904"}).code, kExitOk);
}

TEST(DecodeTest, LayoutPastYear9999IsUsageError) {
  // 62 bits of 1000 ms ticks do not even fit in int64 ms; 62 bits of 1 ms
  // do, but still run far past the year 9999.
  ExpectUsageError({"decode", "--layout", "62/0/1", "--unit", "1000", "1"},
                   "snowflake: decode: ", "year 9999");
  ExpectUsageError({"decode", "--layout", "62/0/1", "1"},
                   "snowflake: decode: ", "year 9999");
}

TEST(DecodeTest, EscapesAndShortensEchoedInput) {
  const Result r = Snowflake({"decode", "1\x01\"2"});
  ExpectFailure(r, kExitBadData, R"(snowflake: decode: invalid ID "1\x01\"2")");
  const Result long_input = Snowflake({"decode", std::string(1000, '7') + "x"});
  ExpectFailure(long_input, kExitBadData, "snowflake: decode: invalid ID ");
  EXPECT_THAT(long_input.err, HasSubstr("(first 64 of 1001 bytes)"));
  EXPECT_LT(long_input.err.size(), 400u);
}

TEST(DecodeTest, BadEncodingNameIsUsageError) {
  ExpectFailure(Snowflake({"decode", "--encoding", "base64", "1"}), kExitUsage,
                "snowflake: decode: --encoding: ");
}

TEST(DecodeTest, BadLayoutIsUsageError) {
  const std::string prefix = "snowflake: decode: ";
  ExpectUsageError({"decode", "--layout", "41/10", "1"}, prefix, "\"41/10\"");
  ExpectUsageError({"decode", "--layout", "42/10/12", "1"}, prefix, "64");
  ExpectUsageError({"decode", "--layout", "a/b/c", "1"}, prefix, "a/b/c");
  ExpectUsageError({"decode", "--unit", "0", "1"}, prefix, "unit");
  ExpectUsageError({"decode", "--epoch", "-1", "1"}, prefix, "epoch");
  ExpectUsageError({"decode", "--preset", "sonyflake", "1"}, prefix,
                   "\"sonyflake\"");
}

TEST(DecodeTest, BadFlagValueIsUsageError) {
  ExpectFailure(Snowflake({"decode", "--epoch", "soon", "1"}), kExitUsage,
                "snowflake: decode: ");
  ExpectFailure(Snowflake({"decode", "--no-such-flag", "1"}), kExitUsage,
                "snowflake: ");
}

// --- gen --------------------------------------------------------------------

TEST(GenTest, ExactIdsOnSimulatedClock) {
  // The clock stands 1000 ms past the default epoch: tick 1000.
  const Result r = Snowflake({"gen", "-n", "3", "--worker", "5"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  // (1000 << 22) | (5 << 12) | 0, 1, 2.
  EXPECT_EQ(r.out, "4194324480\n4194324481\n4194324482\n");
  EXPECT_THAT(r.err, IsEmpty());
}

TEST(GenTest, LayoutOptionsApply) {
  // 43/8/12 with 10 ms ticks: 1000 ms past the epoch is tick 100, so the
  // first ID is (100 << 20) | (3 << 12).
  const Result r = Snowflake(
      {"gen", "--layout", "43/8/12", "--unit", "10", "-w", "3", "-n", "2"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "104869888\n104869889\n");
}

// Checks that `out` holds `n` strictly increasing decimal IDs of `worker`
// in the default layout.
void ExpectDistinctIncreasing(const std::string& out, size_t n,
                              int64_t worker) {
  const std::vector<std::string> lines = Lines(out);
  ASSERT_EQ(lines.size(), n);
  uint64_t previous = 0;
  for (const std::string& line : lines) {
    const uint64_t id = std::stoull(line);
    EXPECT_GT(id, previous);
    EXPECT_EQ(static_cast<int64_t>((id >> 12) & 1023), worker) << id;
    previous = id;
  }
}

TEST(GenTest, ManyIdsAcrossTicks) {
  // More than one tick's 4096 sequence numbers: the generator waits, which
  // advances the simulated clock.
  const Result r = Snowflake({"gen", "-n", "10000", "-w", "1023"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ExpectDistinctIncreasing(r.out, 10000, 1023);
}

TEST(GenTest, WallClock) {
  const Result r =
      RunWith(SystemClock(), {"gen", "-n", "500", "--worker", "7"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ExpectDistinctIncreasing(r.out, 500, 7);
}

TEST(GenTest, OutputEncoding) {
  const Result r = Snowflake({"gen", "-n", "2", "--encoding", "base62"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  // 4194304000 = 1000 << 22 and 4194304001, in base62.
  EXPECT_EQ(lines[0], EncodeId(4194304000, Encoding::kBase62));
  EXPECT_EQ(lines[1], EncodeId(4194304001, Encoding::kBase62));
  EXPECT_EQ(lines[0], "4Zqs4W");
}

TEST(GenTest, BadWorkerIsUsageError) {
  ExpectFailure(Snowflake({"gen", "--worker", "1024"}), kExitUsage,
                "snowflake: gen: --worker: 1024 is out of range [0, 1023]");
  ExpectFailure(Snowflake({"gen", "--worker=-1"}), kExitUsage,
                "snowflake: gen: --worker: -1 is out of range");
  ExpectFailure(Snowflake({"gen", "--worker", "seven"}), kExitUsage,
                "snowflake: gen: ");
  // A layout with fewer worker bits has a smaller range.
  ExpectFailure(Snowflake({"gen", "--layout", "43/8/12", "--worker", "256"}),
                kExitUsage, "snowflake: gen: --worker: 256 is out of range");
}

TEST(GenTest, CountMustBePositive) {
  ExpectFailure(Snowflake({"gen", "-n", "0"}), kExitUsage,
                "snowflake: gen: -n: 0 is out of range [1, ");
  ExpectFailure(Snowflake({"gen", "-n", "-3"}), kExitUsage,
                "snowflake: gen: -n: -3 is out of range");
  ExpectFailure(Snowflake({"gen", "-n", "1000000000000"}), kExitUsage,
                "snowflake: gen: -n: 1000000000000 is out of range");
}

TEST(GenTest, ClockBeforeEpochIsAnError) {
  const Result r = Snowflake(
      {"gen", "--epoch", std::to_string(kDefaultEpochMillis + 60'000)});
  ExpectFailure(r, kExitBadData, "snowflake: gen: cannot generate: ");
  EXPECT_THAT(r.out, IsEmpty());
}

TEST(GenTest, HelpSaysNotCoordinated) {
  const Result r = Snowflake({"gen", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("for testing; not coordinated"));
  EXPECT_THAT(r.out, HasSubstr("high-water mark"));
}

// --- layout -----------------------------------------------------------------

TEST(LayoutTest, DefaultLimitsByHand) {
  const Result r = Snowflake({"layout"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  const std::vector<std::string> expected = {
      "layout            41/10/12 (time/worker/sequence bits)",
      "unit              1 ms",
      "epoch             2025-01-01T00:00:00.000Z (1735689600000 ms)",
      "ids per tick      4096",
      "workers           1024",
      "ids/s per worker  4096000",
      "ids/s cluster     4194304000",
      "range             69.7 years",
      // 1735689600000 + 2^41.
      "time runs out     2094-09-07T15:47:35.552Z (3934712855552 ms)",
      // 1735689600000 + 2^31: the tick whose IDs first reach 2^53.
      "over 2^53         from 2025-01-25T20:31:23.648Z (1737837083648 ms)",
  };
  EXPECT_EQ(lines, expected);
  // The warning names the date, on stderr, exactly one line.
  EXPECT_EQ(r.err,
            "snowflake: layout: WARNING: IDs exceed 2^53 (JavaScript's safe "
            "integer limit) from 2025-01-25T20:31:23.648Z; send them to "
            "JavaScript as strings\n");
}

TEST(LayoutTest, JsonParsesBack) {
  const Result r = Snowflake({"layout", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["time_bits"], 41);
  EXPECT_EQ(json["worker_bits"], 10);
  EXPECT_EQ(json["sequence_bits"], 12);
  EXPECT_EQ(json["unit_ms"], 1);
  EXPECT_EQ(json["epoch_ms"], 1735689600000);
  EXPECT_EQ(json["epoch"], "2025-01-01T00:00:00.000Z");
  EXPECT_EQ(json["ids_per_tick"], 4096);
  EXPECT_EQ(json["workers"], 1024);
  EXPECT_EQ(json["ids_per_second_per_worker"], 4096000);
  EXPECT_EQ(json["ids_per_second_cluster"], 4194304000);
  EXPECT_NEAR(json["years"].get<double>(), 69.68, 0.01);
  EXPECT_EQ(json["runs_out_ms"], 3934712855552);
  EXPECT_EQ(json["runs_out"], "2094-09-07T15:47:35.552Z");
  EXPECT_EQ(json["js_unsafe_from_ms"], 1737837083648);
  EXPECT_EQ(json["js_unsafe_from"], "2025-01-25T20:31:23.648Z");
  EXPECT_THAT(r.err, HasSubstr("WARNING"));
}

TEST(LayoutTest, Js53HasNoWarning) {
  const Result text = Snowflake({"layout", "--preset", "js53"});
  ASSERT_EQ(text.code, kExitOk) << text.err;
  EXPECT_THAT(text.err, IsEmpty());
  EXPECT_THAT(text.out, HasSubstr("over 2^53         never\n"));
  const Result json = Snowflake({"layout", "--preset", "js53", "--json"});
  ASSERT_EQ(json.code, kExitOk) << json.err;
  EXPECT_THAT(json.err, IsEmpty());
  const nlohmann::json parsed = nlohmann::json::parse(json.out);
  EXPECT_TRUE(parsed["js_unsafe_from_ms"].is_null());
  EXPECT_TRUE(parsed["js_unsafe_from"].is_null());
}

TEST(LayoutTest, CustomLayoutRates) {
  // 39/8/16 with 10 ms ticks: 65536 per tick, 6553600/s per worker, 256
  // workers; 2^39 * 10 ms = 174.2 years.
  const Result r = Snowflake({"layout", "--layout", "39/8/16", "--unit", "10",
                              "--epoch", "0", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["ids_per_tick"], 65536);
  EXPECT_EQ(json["workers"], 256);
  EXPECT_EQ(json["ids_per_second_per_worker"], 6553600);
  EXPECT_EQ(json["ids_per_second_cluster"], 1677721600);
  EXPECT_NEAR(json["years"].get<double>(), 174.2, 0.05);
  EXPECT_EQ(json["runs_out_ms"], 5497558138880);  // 2^39 * 10.
  // 2^53 >> 24 = 2^29 ticks of 10 ms.
  EXPECT_EQ(json["js_unsafe_from_ms"], 5368709120);
}

// Issue 9 point 18: `snowflaked --layout js53` works, so `snowflake
// --layout js53` must too: --layout takes a preset name in both tools, and
// means what --preset means.
TEST(LayoutTest, LayoutFlagTakesPresetNamesAsSnowflakedDoes) {
  for (const std::string& name : Layout::PresetNames()) {
    const Result by_layout = Snowflake({"layout", "--layout", name, "--json"});
    ASSERT_EQ(by_layout.code, kExitOk) << name << ": " << by_layout.err;
    const Result by_preset = Snowflake({"layout", "--preset", name, "--json"});
    ASSERT_EQ(by_preset.code, kExitOk) << name << ": " << by_preset.err;
    EXPECT_EQ(by_layout.out, by_preset.out) << name;
  }
  // Decoding with --layout twitter reads Twitter's IDs.
  const Result decoded = Snowflake(
      {"decode", "--layout", "twitter", "--json", std::to_string(kTwitterId)});
  ASSERT_EQ(decoded.code, kExitOk) << decoded.err;
  EXPECT_EQ(decoded.out, Snowflake({"decode", "--preset", "twitter", "--json",
                                    std::to_string(kTwitterId)})
                             .out);
  // The preset's own epoch, unless --epoch is given.
  const Result epoch =
      Snowflake({"layout", "--layout", "twitter", "--epoch", "0", "--json"});
  ASSERT_EQ(epoch.code, kExitOk) << epoch.err;
  EXPECT_EQ(nlohmann::json::parse(epoch.out)["epoch_ms"], 0);
  // Two different presets are refused; a name that is neither is named.
  ExpectUsageError({"layout", "--preset", "discord", "--layout", "twitter"},
                   "snowflake: layout: ", "name two layouts");
  ExpectUsageError({"layout", "--layout", "sonyflake"},
                   "snowflake: layout: ", "\"sonyflake\" is neither");
}

TEST(LayoutTest, BadLayoutIsUsageError) {
  ExpectUsageError({"layout", "--layout", "41/10/13"},
                   "snowflake: layout: ", "64");
  ExpectUsageError({"layout", "--unit", "1001"}, "snowflake: layout: ", "1001");
}

// --- encode and parse
// ---------------------------------------------------------

TEST(EncodeTest, AllEncodingsByHand) {
  const std::string id = std::to_string(kTwitterId);
  const auto encode = [&](const std::string& to) {
    return Snowflake({"encode", "--to", to, id});
  };
  EXPECT_EQ(encode("hex").out, "1565a11f6217a000\n");
  EXPECT_EQ(encode("base62").out, "1ptWyK4WgZU\n");
  EXPECT_EQ(encode("base58").out, "4aaW4SzAyQK\n");
  EXPECT_EQ(encode("base32").out, "1ASD13XH1F800\n");
  EXPECT_EQ(encode("decimal").out, id + "\n");
}

TEST(EncodeTest, FromOtherEncodingAndStdin) {
  const Result r = Snowflake({"encode", "--from", "hex", "--to", "base62"},
                             "1565a11f6217a000\n");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "1ptWyK4WgZU\n");
}

TEST(EncodeTest, Errors) {
  ExpectFailure(Snowflake({"encode", "--to", "base64", "1"}), kExitUsage,
                "snowflake: encode: --to: ");
  ExpectFailure(Snowflake({"encode", "--from", "octal", "--to", "hex", "1"}),
                kExitUsage, "snowflake: encode: --from: ");
  ExpectFailure(Snowflake({"encode", "1"}), kExitUsage, "snowflake: encode: ");
  ExpectFailure(Snowflake({"encode", "--to", "hex", "12x"}), kExitBadData,
                "snowflake: encode: invalid ID \"12x\": ");
}

TEST(ParseTest, ToDecimal) {
  const Result r = Snowflake({"parse", "--from", "base58", "4aaW4SzAyQK", "-"},
                             "4aaW4SzAyQK\n");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "1541815603606036480\n1541815603606036480\n");
  EXPECT_EQ(Snowflake({"parse", "--from", "hex", "0x1565A11F6217A000"}).out,
            "1541815603606036480\n");
}

TEST(ParseTest, Errors) {
  ExpectFailure(Snowflake({"parse", "abc"}), kExitUsage, "snowflake: parse: ");
  ExpectFailure(Snowflake({"parse", "--from", "base58", "0OIl"}), kExitBadData,
                "snowflake: parse: invalid ID \"0OIl\": ");
  ExpectFailure(Snowflake({"parse", "--from", "base62", "zzzzzzzzzzzzzzz"}),
                kExitBadData, "snowflake: parse: invalid ID ");
}

// --- the command line as a whole
// ----------------------------------------------

TEST(CliTest, HelpAndVersion) {
  const Result help = Snowflake({"--help"});
  EXPECT_EQ(help.code, kExitOk);
  for (const char* command : {"decode", "gen", "layout", "encode", "parse"}) {
    EXPECT_THAT(help.out, HasSubstr(command));
  }
  EXPECT_THAT(help.err, IsEmpty());
  for (const char* command : {"decode", "gen", "layout", "encode", "parse"}) {
    const Result sub = Snowflake({command, "--help"});
    EXPECT_EQ(sub.code, kExitOk) << command;
    EXPECT_THAT(sub.out, HasSubstr("--help")) << command;
  }
  const Result version = Snowflake({"--version"});
  EXPECT_EQ(version.code, kExitOk);
  EXPECT_THAT(version.out, StartsWith("snowflake "));
}

TEST(CliTest, UsageErrorsAreOneLine) {
  ExpectFailure(Snowflake({}), kExitUsage, "snowflake: ");
  ExpectFailure(Snowflake({"frobnicate"}), kExitUsage, "snowflake: ");
  ExpectFailure(Snowflake({"layout", "extra"}), kExitUsage,
                "snowflake: layout: ");
  ExpectFailure(Snowflake({"decode", "--preset"}), kExitUsage,
                "snowflake: decode: ");
}

TEST(CliTest, WriteFailureIsReported) {
  snowflake::testing::SimulatedClock clock(0);
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  out.setstate(std::ios::badbit);
  Io io{in, out, err};
  EXPECT_EQ(RunCli({std::vector<std::string>{"decode", "1"}}, clock, io),
            kExitBadData);
  EXPECT_EQ(err.str(), "snowflake: cannot write the output\n");
}

}  // namespace
}  // namespace snowflake::cli
