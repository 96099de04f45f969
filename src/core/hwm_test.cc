#include "src/core/hwm.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snowflake/status.h"
#include "testing/simulated_clock.h"

namespace snowflake {
namespace {

using ::snowflake::testing::SimulatedClock;
using ::testing::HasSubstr;

constexpr int64_t kStartMillis = 1'800'000'000'000;  // 2027-01-15.

class HwmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hwm_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "sub" / "hwm").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<FileHwmStore> OpenStore() {
    absl::StatusOr<std::unique_ptr<FileHwmStore>> store =
        FileHwmStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(*store);
  }

  // One "run" of a node: wait for the mark, generate `count` IDs, shut down.
  absl::StatusOr<std::vector<uint64_t>> Run(Clock& clock, int count,
                                            int64_t max_wait_ms = 1000) {
    auto store = OpenStore();
    const Layout layout;
    absl::StatusOr<int64_t> first =
        AwaitHighWaterMark(*store, layout, clock, max_wait_ms);
    if (!first.ok()) return first.status();
    GeneratorOptions options;
    options.worker_id = 3;
    options.first_tick = *first;
    options.high_water_mark = 0;  // Nothing until the keeper has stored one.
    absl::StatusOr<std::unique_ptr<Generator>> gen =
        Generator::Create(options, clock);
    if (!gen.ok()) return gen.status();
    absl::StatusOr<std::unique_ptr<HwmKeeper>> keeper =
        HwmKeeper::Start(**gen, *store, clock, {});
    if (!keeper.ok()) return keeper.status();
    std::vector<uint64_t> ids(count);
    absl::Status status = (*gen)->NextBatch(ids);
    if (!status.ok()) return status;
    status = (*keeper)->Shutdown();
    if (!status.ok()) return status;
    return ids;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(HwmTest, StoreAndLoadRoundTrip) {
  auto store = OpenStore();
  absl::StatusOr<std::optional<int64_t>> empty = store->Load();
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
  ASSERT_TRUE(store->Store(1234567).ok());
  ASSERT_TRUE(store->Store(7654321).ok());
  absl::StatusOr<std::optional<int64_t>> mark = store->Load();
  ASSERT_TRUE(mark.ok());
  EXPECT_EQ(mark->value(), 7654321);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
}

TEST_F(HwmTest, CorruptFileIsDataLossNamingTheFile) {
  auto store = OpenStore();
  std::ofstream(path_) << "hwm_unix_ms=12abc\n";
  absl::StatusOr<std::optional<int64_t>> mark = store->Load();
  ASSERT_FALSE(mark.ok());
  EXPECT_EQ(mark.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(mark.status().message(), HasSubstr(path_));
  EXPECT_THAT(mark.status().message(), HasSubstr("line 1"));
  std::ofstream(path_) << "# only a comment\n";
  EXPECT_EQ(store->Load().status().code(), absl::StatusCode::kDataLoss);
}

// Exactly what Store writes, and nothing else: a truncated number, a second
// mark, stray signs or spaces, or a time past the year 9999 is refused as
// data loss, naming the file and the line, never read as some other mark.
TEST_F(HwmTest, LoadIsStrictAndRefusesWhatStoreNeverWrites) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Store(1'800'000'000'123).ok());
  const std::string comments = [&] {
    std::ifstream in(path_);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    return text.substr(0, text.find("hwm_unix_ms="));
  }();
  ASSERT_FALSE(comments.empty());
  struct Case {
    std::string text;
    int line;  // The line the message names; 0: no particular line.
  };
  const std::vector<Case> cases = {
      {comments + "hwm_unix_ms=180000", 3},  // Cut short: no newline.
      {comments + "hwm_unix_ms=1800000000123\nhwm_unix_ms=1\n", 4},
      {comments + "hwm_unix_ms=9300000000000000\n", 3},  // Overflows us.
      {comments + "hwm_unix_ms=253402300800000\n", 3},   // Year 10000.
      {comments + "hwm_unix_ms=99999999999999999999\n", 3},
      {comments + "hwm_unix_ms=+1800000000123\n", 3},
      {comments + "hwm_unix_ms=-1\n", 3},
      {comments + "hwm_unix_ms=\n", 3},
      {comments + " hwm_unix_ms=1800000000123\n", 3},
      {comments + "hwm_unix_ms = 1800000000123\n", 3},
      {comments + "hwm_unix_ms=1800000000123\r\n", 3},
      {comments + "hwm_unix_ms=1800000000123 \n", 3},
      {comments + "\nhwm_unix_ms=1800000000123\n", 3},
      {comments + "hwm_unix_ms=0x1a\n", 3},
      {comments + "hwm_unix_ms=1800000000123\n# trailing comment", 4},
      {"", 0},
      {comments, 0},
  };
  for (const Case& c : cases) {
    std::ofstream(path_, std::ios::trunc) << c.text;
    absl::StatusOr<std::optional<int64_t>> mark = store->Load();
    if (mark.ok()) {
      ADD_FAILURE() << "accepted: \"" << absl::CHexEscape(c.text) << "\" as "
                    << mark->value_or(-1);
      continue;
    }
    const std::string message(mark.status().message());
    EXPECT_EQ(mark.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(message, HasSubstr(path_));
    EXPECT_THAT(message, HasSubstr("Restore it from a backup"));
    if (c.line > 0) {
      EXPECT_THAT(message, HasSubstr("line " + std::to_string(c.line)));
    }
  }
  // What Store writes, and the one line an operator writes by hand, load.
  ASSERT_TRUE(store->Store(253'402'300'799'999).ok());
  EXPECT_EQ(store->Load()->value_or(-1), 253'402'300'799'999);
  std::ofstream(path_, std::ios::trunc) << "hwm_unix_ms=1800000000123\n";
  EXPECT_EQ(store->Load()->value_or(-1), 1'800'000'000'123);
}

// A mark whose symlink points nowhere was lost, not never written: a silent
// fresh start could repeat IDs.
TEST_F(HwmTest, DanglingSymlinkIsDataLossNotAFreshStart) {
  auto store = OpenStore();
  std::filesystem::create_symlink(dir_ / "gone" / "hwm", path_);
  absl::StatusOr<std::optional<int64_t>> mark = store->Load();
  ASSERT_FALSE(mark.ok()) << "loaded as " << mark->value_or(-1);
  EXPECT_EQ(mark.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(mark.status().message(), HasSubstr(path_));
}

// A store that returns a fixed mark (a coordinator's, say).
class FixedStore final : public HwmStore {
 public:
  explicit FixedStore(int64_t mark) : mark_(mark) {}
  absl::StatusOr<std::optional<int64_t>> Load() override { return mark_; }
  absl::Status Store(int64_t) override { return absl::OkStatus(); }
  std::string Describe() const override { return "fixed store"; }

 private:
  const int64_t mark_;
};

// A mark of 9.3e15 ms overflows ms -> us into a negative gap: the wait
// must not be skipped, whatever store the mark came from.
TEST_F(HwmTest, AwaitRefusesAMarkTooLargeToBeATime) {
  for (int64_t mark :
       {int64_t{9'300'000'000'000'000}, std::numeric_limits<int64_t>::max(),
        int64_t{253'402'300'800'000}}) {
    FixedStore store(mark);
    SimulatedClock clock(kStartMillis * 1000);
    absl::StatusOr<int64_t> first =
        AwaitHighWaterMark(store, Layout(), clock, 1000);
    ASSERT_FALSE(first.ok()) << mark << " -> first tick " << *first;
    EXPECT_EQ(first.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(first.status().message(), HasSubstr("fixed store"));
    EXPECT_EQ(clock.sleeps(), 0);
  }
}

// With the clock before the layout's epoch (an epoch set in the future by
// mistake) nothing can be issued, and no mark may be stored at the epoch or
// beyond: once the epoch is fixed, such a mark would hold the node back
// until that far-off time.
TEST_F(HwmTest, KeeperStoresNoMarkAheadOfTheClockBeforeTheEpoch) {
  SimulatedClock clock(kStartMillis * 1000);
  auto store = OpenStore();
  ASSERT_TRUE(store->Store(kStartMillis - 60'000).ok());
  LayoutSpec spec;
  spec.epoch_millis = kStartMillis + 10LL * 365 * 86'400'000;
  GeneratorOptions options;
  options.layout = *Layout::Create(spec);
  options.high_water_mark = 0;
  auto gen = std::move(*Generator::Create(options, clock));
  HwmKeeperOptions keeper_options;
  keeper_options.reserve_millis = 1000;
  auto keeper =
      std::move(*HwmKeeper::Start(*gen, *store, clock, keeper_options));
  const auto no_later_than_clock_plus_reserve = [&] {
    absl::StatusOr<std::optional<int64_t>> mark = store->Load();
    ASSERT_TRUE(mark.ok()) << mark.status();
    if (mark->has_value()) {
      EXPECT_LE(**mark, clock.NowMicros() / 1000 + 1000);
    }
  };
  no_later_than_clock_plus_reserve();
  EXPECT_EQ(GetErrorKind(gen->Next().status()), ErrorKind::kClockBeforeEpoch);
  clock.AdvanceMillis(2000);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  no_later_than_clock_plus_reserve();
  ASSERT_TRUE(keeper->Shutdown().ok());
  no_later_than_clock_plus_reserve();
}

TEST_F(HwmTest, AwaitWaitsForAClockSlightlyBehind) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Store(kStartMillis + 300).ok());
  SimulatedClock clock(kStartMillis * 1000);
  absl::StatusOr<int64_t> first =
      AwaitHighWaterMark(*store, Layout(), clock, 1000);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GE(clock.NowMicros(), (kStartMillis + 300) * 1000);
  EXPECT_EQ(*first, kStartMillis + 300 - kDefaultEpochMillis);
}

TEST_F(HwmTest, AwaitRefusesAClockFarBehindAndSaysByHowMuch) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Store(kStartMillis + 60'000).ok());
  SimulatedClock clock(kStartMillis * 1000);
  absl::StatusOr<int64_t> first =
      AwaitHighWaterMark(*store, Layout(), clock, 1000);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(GetErrorKind(first.status()), ErrorKind::kClockBackwards);
  EXPECT_EQ(GetDriftMillis(first.status()).value_or(0), 60'000);
  EXPECT_THAT(first.status().message(), HasSubstr("60000 ms behind"));
  EXPECT_EQ(clock.sleeps(), 0);
}

TEST_F(HwmTest, KeeperStoresAheadBeforeTheGeneratorGetsThere) {
  SimulatedClock clock(kStartMillis * 1000);
  auto store = OpenStore();
  GeneratorOptions options;
  options.high_water_mark = 0;
  auto gen = std::move(*Generator::Create(options, clock));
  EXPECT_FALSE(gen->Next().ok());  // No mark stored yet: nothing issued.
  auto keeper = std::move(*HwmKeeper::Start(*gen, *store, clock, {}));
  const int64_t now_tick = Layout().TickAtMicros(clock.NowMicros());
  EXPECT_EQ(gen->high_water_mark(), now_tick + 5000);
  EXPECT_EQ(store->Load()->value(), Layout().MillisOfTick(now_tick + 5000));
  ASSERT_TRUE(gen->Next().ok());
  // Move the clock so that the headroom drops below half the reserve: the
  // keeper extends on its own, storing before raising the bound.
  clock.AdvanceMillis(3000);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (gen->high_water_mark() < now_tick + 8000 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(gen->high_water_mark(), now_tick + 8000);
  EXPECT_EQ(store->Load()->value(), Layout().MillisOfTick(now_tick + 8000));
  EXPECT_EQ(keeper->stats().stores, 2u);
  // Shutdown brings the stored mark down to just above the last ID.
  ASSERT_TRUE(keeper->Shutdown().ok());
  EXPECT_EQ(store->Load()->value(), Layout().MillisOfTick(now_tick + 1));
  EXPECT_EQ(GetErrorKind(gen->Next().status()), ErrorKind::kStopped);
}

TEST_F(HwmTest, KeeperWritesEveryIntervalKeepingTheReserveAhead) {
  SimulatedClock clock(kStartMillis * 1000);
  auto store = OpenStore();
  GeneratorOptions options;
  options.high_water_mark = 0;
  auto gen = std::move(*Generator::Create(options, clock));
  HwmKeeperOptions keeper_options;
  keeper_options.reserve_millis = 60'000;
  keeper_options.write_interval_millis = 2'000;
  auto keeper =
      std::move(*HwmKeeper::Start(*gen, *store, clock, keeper_options));
  const int64_t now_tick = Layout().TickAtMicros(clock.NowMicros());
  EXPECT_EQ(gen->high_water_mark(), now_tick + 60'000);
  // 1.5 s later the headroom (58.5 s) is above reserve - interval: no write.
  clock.AdvanceMillis(1'500);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(keeper->stats().stores, 1u);
  // One interval later it is below: a new mark, a full reserve ahead.
  clock.AdvanceMillis(1'000);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (keeper->stats().stores < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(gen->high_water_mark(), now_tick + 2'500 + 60'000);
  ASSERT_TRUE(keeper->Shutdown().ok());
}

TEST_F(HwmTest, KeeperNeverStoresALowerMarkAfterTheClockStepsBack) {
  SimulatedClock clock(kStartMillis * 1000);
  auto store = OpenStore();
  GeneratorOptions options;
  options.high_water_mark = 0;
  options.tolerance_millis = 0;
  auto gen = std::move(*Generator::Create(options, clock));
  HwmKeeperOptions keeper_options;
  keeper_options.reserve_millis = 10'000;
  keeper_options.write_interval_millis = 1'000;
  auto keeper =
      std::move(*HwmKeeper::Start(*gen, *store, clock, keeper_options));
  const int64_t first_mark = gen->high_water_mark();
  // The clock steps back a minute: the headroom looks huge, and a mark
  // computed from the clock alone would be lower than the one in force.
  clock.AdvanceMillis(-60'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(gen->high_water_mark(), first_mark);
  EXPECT_EQ(store->Load()->value(), Layout().MillisOfTick(first_mark));
  // Back to where it was and on: every stored mark is at or above the last.
  clock.AdvanceMillis(60'000 + 9'500);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (keeper->stats().stores < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(gen->high_water_mark(), first_mark);
  EXPECT_GE(store->Load()->value(), Layout().MillisOfTick(first_mark));
  keeper->Abandon();  // Stops without the final store.
  EXPECT_EQ(store->Load()->value(),
            Layout().MillisOfTick(gen->high_water_mark()));
}

TEST_F(HwmTest, KeeperStoreFailureStopsIssuingAtTheMark) {
  SimulatedClock clock(kStartMillis * 1000);
  auto store = OpenStore();
  GeneratorOptions options;
  options.high_water_mark = 0;
  auto gen = std::move(*Generator::Create(options, clock));
  auto keeper = std::move(*HwmKeeper::Start(*gen, *store, clock, {}));
  // Make the next store fail: a directory where the temp file must go.
  std::filesystem::create_directories(path_ + ".tmp");
  clock.AdvanceMillis(5000);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (keeper->stats().store_failures == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(keeper->stats().store_failures, 0u);
  EXPECT_THAT(keeper->stats().last_error, HasSubstr(".tmp"));
  absl::StatusOr<uint64_t> id = gen->Next();
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(GetErrorKind(id.status()), ErrorKind::kHighWaterMark);
  std::filesystem::remove_all(path_ + ".tmp");
  ASSERT_TRUE(keeper->Shutdown().ok());
}

TEST_F(HwmTest, RestartsNeverRepeatAnIdEvenWithTheClockSteppedBack) {
  std::set<uint64_t> seen;
  auto take = [&](const std::vector<uint64_t>& ids) {
    for (uint64_t id : ids) ASSERT_TRUE(seen.insert(id).second) << id;
  };
  SimulatedClock clock(kStartMillis * 1000);
  absl::StatusOr<std::vector<uint64_t>> run = Run(clock, 20000);
  ASSERT_TRUE(run.ok()) << run.status();
  take(*run);
  // Restart with the clock stepped back 200 ms: within the allowed wait, so
  // the node waits until it passes the mark.
  clock.AdvanceMillis(-200);
  const int64_t slept_before = clock.total_slept_micros();
  run = Run(clock, 20000);
  ASSERT_TRUE(run.ok()) << run.status();
  take(*run);
  EXPECT_GE(clock.total_slept_micros() - slept_before, 190'000);
  // Restart with the clock stepped back an hour: refused, nothing issued.
  clock.AdvanceMillis(-3'600'000);
  run = Run(clock, 20000);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(GetErrorKind(run.status()), ErrorKind::kClockBackwards);
  // The clock recovers: the next run goes on without a repeat.
  clock.AdvanceMillis(3'600'000);
  run = Run(clock, 20000);
  ASSERT_TRUE(run.ok()) << run.status();
  take(*run);
  EXPECT_EQ(seen.size(), 60000u);
}

TEST_F(HwmTest, CrashWithoutShutdownLeavesAMarkAheadOfEveryId) {
  SimulatedClock clock(kStartMillis * 1000);
  auto store = OpenStore();
  GeneratorOptions options;
  options.high_water_mark = 0;
  auto gen = std::move(*Generator::Create(options, clock));
  auto keeper = std::move(*HwmKeeper::Start(*gen, *store, clock, {}));
  uint64_t last = 0;
  for (int i = 0; i < 50000; ++i) {
    absl::StatusOr<uint64_t> id = gen->Next();
    ASSERT_TRUE(id.ok()) << id.status();
    last = *id;
  }
  keeper.reset();  // A crash: no Shutdown, no final store.
  const int64_t last_millis =
      Layout().MillisOfTick(Layout().Decompose(last)->tick);
  EXPECT_GT(store->Load()->value(), last_millis);
}

}  // namespace
}  // namespace snowflake
