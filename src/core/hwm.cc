#include "src/core/hwm.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "snowflake/status.h"
#include "src/base/strings.h"

namespace snowflake {
namespace {

using base::AbslView;

constexpr absl::string_view kKey = "hwm_unix_ms";
// The keeper looks at the headroom at least this often.
constexpr int64_t kMaxPollMillis = 100;

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  const int err = errno;
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == EACCES || err == EPERM || err == EROFS) {
    return absl::PermissionDeniedError(message);
  }
  return absl::InternalError(message);
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Marks are Unix ms before 10000-01-01T00:00:00Z: far beyond any layout's
// range (Layout::Create ends every layout before then) and far below where
// ms -> us overflows int64 (9.2e15 ms).
constexpr int64_t kMarkLimitMillis = 253'402'300'800'000;
constexpr int kMarkMaxDigits = 15;
constexpr size_t kMaxFileBytes = 4096;

bool IsMark(int64_t unix_millis) {
  return unix_millis >= 0 && unix_millis < kMarkLimitMillis;
}

// "hwm_unix_ms=<digits>" exactly, as Store writes it: no sign, spaces or
// carriage return; nullopt otherwise or if it is not IsMark.
std::optional<int64_t> ParseMarkLine(absl::string_view line) {
  if (!absl::ConsumePrefix(&line, kKey) || !absl::ConsumePrefix(&line, "=")) {
    return std::nullopt;
  }
  if (line.empty() || line.size() > kMarkMaxDigits) return std::nullopt;
  int64_t value = 0;
  for (const char c : line) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (!IsMark(value)) return std::nullopt;
  return value;
}

// A line of a file, safe to quote in a message: escaped and short.
std::string Excerpt(absl::string_view line) {
  constexpr size_t kMaxChars = 80;
  std::string escaped = absl::CHexEscape(line.substr(0, kMaxChars));
  if (line.size() > kMaxChars) absl::StrAppend(&escaped, "...");
  return escaped;
}

// First tick whose start is at or after `unix_millis`.
int64_t FirstTickFrom(const Layout& layout, int64_t unix_millis) {
  const int64_t since = unix_millis - layout.epoch_millis();
  if (since <= 0) return 0;
  return (since + layout.unit_millis() - 1) / layout.unit_millis();
}

}  // namespace

absl::StatusOr<int64_t> ParseHwmFile(std::string_view text,
                                     std::string_view name) {
  const auto refuse = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(
        "high-water mark file ", AbslView(name), " ", what,
        "; it is not what snowflaked writes, so the mark it held is unknown. "
        "Restore it from a backup, or replace it with the single line \"",
        kKey,
        "=<unix ms>\" holding a time safely after the last ID this worker "
        "issued (and after any reading of this machine's clock)"));
  };
  if (text.empty()) return refuse("is empty");
  if (text.size() > kMaxFileBytes) {
    return refuse(absl::StrCat("is longer than ", kMaxFileBytes, " bytes"));
  }
  std::optional<int64_t> mark;
  int mark_line = 0;
  int line_number = 0;
  absl::string_view rest = AbslView(text);
  while (!rest.empty()) {
    ++line_number;
    const size_t end = rest.find('\n');
    if (end == absl::string_view::npos) {
      return refuse(absl::StrCat("line ", line_number, " (\"", Excerpt(rest),
                                 "\") ends without a newline: the file was "
                                 "cut short"));
    }
    const absl::string_view line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    if (absl::StartsWith(line, "#")) continue;
    std::optional<int64_t> value = ParseMarkLine(line);
    if (!value.has_value()) {
      return refuse(absl::StrCat("line ", line_number, " is not \"", kKey,
                                 "=<unix ms>\" with a time before the year "
                                 "10000: \"",
                                 Excerpt(line), "\""));
    }
    if (mark.has_value()) {
      return refuse(absl::StrCat("line ", line_number, " holds a second mark (",
                                 "line ", mark_line, " has one)"));
    }
    mark = value;
    mark_line = line_number;
  }
  if (!mark.has_value()) {
    return refuse(absl::StrCat("has no \"", kKey, "=\" line"));
  }
  return *mark;
}

absl::StatusOr<std::unique_ptr<FileHwmStore>> FileHwmStore::Open(
    std::string path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("high-water mark file path is empty");
  }
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot create state directory ", dir.string(), ": ", ec.message()));
    }
  }
  return std::unique_ptr<FileHwmStore>(new FileHwmStore(std::move(path)));
}

absl::StatusOr<std::optional<int64_t>> FileHwmStore::Load() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    std::error_code ec;
    const std::filesystem::file_status link =
        std::filesystem::symlink_status(path_, ec);
    if (std::filesystem::is_symlink(link)) {
      // A mark moved elsewhere and lost is not a first start.
      return absl::DataLossError(absl::StrCat(
          "high-water mark file ", path_, " is a symlink to ",
          std::filesystem::read_symlink(path_, ec).string(),
          ", which cannot be read; restore its target, or replace the link "
          "with a file holding the single line \"",
          kKey,
          "=<unix ms>\" (a time safely after the last ID this worker "
          "issued)"));
    }
    if (!std::filesystem::exists(link)) return std::optional<int64_t>();
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read high-water mark file ", path_));
  }
  // Store writes about 200 bytes; anything much longer is not its file.
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    return absl::InternalError(
        absl::StrCat("cannot read high-water mark file ", path_));
  }
  text.resize(static_cast<size_t>(in.gcount()));
  absl::StatusOr<int64_t> mark = ParseHwmFile(text, path_);
  if (!mark.ok()) return mark.status();
  return std::optional<int64_t>(*mark);
}

absl::Status FileHwmStore::Store(int64_t unix_millis) {
  if (!IsMark(unix_millis)) {
    // Load would refuse it: never write a file the next start cannot read.
    return absl::InvalidArgumentError(
        absl::StrCat("high-water mark ", unix_millis,
                     " ms is not a Unix time from 1970 to the year 9999"));
  }
  MutexLock lock(&mu_);
  const std::string tmp = path_ + ".tmp";
  const std::string text = absl::StrCat(
      "# snowflake high-water mark: no ID of this worker has a time at or\n"
      "# above this Unix time (ms). Written by snowflaked; do not edit while "
      "it runs.\n",
      kKey, "=", unix_millis, "\n");
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  absl::Status status = WriteAll(fd, text, tmp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("cannot sync", tmp);
  if (::close(fd) != 0 && status.ok()) status = ErrnoError("cannot close", tmp);
  if (!status.ok()) return status;
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    return ErrnoError("cannot rename into place", path_);
  }
  // Make the rename itself durable.
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return ErrnoError("cannot open directory", dir);
  if (::fsync(dir_fd) != 0) status = ErrnoError("cannot sync directory", dir);
  ::close(dir_fd);
  return status;
}

std::string FileHwmStore::Describe() const {
  return absl::StrCat("file ", path_);
}

absl::StatusOr<int64_t> AwaitHighWaterMark(HwmStore& store,
                                           const Layout& layout, Clock& clock,
                                           int64_t max_wait_millis) {
  absl::StatusOr<std::optional<int64_t>> mark = store.Load();
  if (!mark.ok()) return mark.status();
  if (!mark->has_value()) return 0;
  const int64_t mark_millis = **mark;
  if (!IsMark(mark_millis)) {
    // Checked before the ms -> us multiply below, which would overflow.
    return absl::DataLossError(absl::StrCat(
        "the high-water mark in ", store.Describe(), " (", mark_millis,
        " ms) is not a Unix time from 1970 to the year 9999; restore it, or "
        "replace it with a time safely after the last ID this worker "
        "issued"));
  }
  for (;;) {
    const int64_t gap_micros = mark_millis * 1000 - clock.NowMicros();
    if (gap_micros <= 0) break;
    if (gap_micros > max_wait_millis * 1000) {
      const int64_t gap_ms = (gap_micros + 999) / 1000;
      return MakeError(
          absl::StatusCode::kUnavailable, ErrorKind::kClockBackwards,
          absl::StrCat("the clock is ", gap_ms,
                       " ms behind the high-water mark in ", store.Describe(),
                       " (", FormatRfc3339Millis(mark_millis),
                       "): IDs up to then may already exist. Waiting up to ",
                       max_wait_millis,
                       " ms is allowed; fix the clock, or start again once it "
                       "has passed that time"),
          gap_ms);
    }
    clock.SleepForMicros(gap_micros);
  }
  return FirstTickFrom(layout, mark_millis);
}

HwmKeeper::HwmKeeper(Generator& generator, HwmStore& store, Clock& clock,
                     const HwmKeeperOptions& options)
    : generator_(generator), store_(store), clock_(clock), options_(options) {}

absl::StatusOr<std::unique_ptr<HwmKeeper>> HwmKeeper::Start(
    Generator& generator, HwmStore& store, Clock& clock,
    const HwmKeeperOptions& options) {
  const int64_t unit = generator.layout().unit_millis();
  if (options.reserve_millis < 2 * unit) {
    return absl::InvalidArgumentError(
        absl::StrCat("high-water mark reserve must be at least two ticks (",
                     2 * unit, " ms), got ", options.reserve_millis, " ms"));
  }
  HwmKeeperOptions effective = options;
  if (effective.write_interval_millis == 0) {
    effective.write_interval_millis = options.reserve_millis / 2;
  }
  if (effective.write_interval_millis < 1 ||
      effective.write_interval_millis >= options.reserve_millis) {
    return absl::InvalidArgumentError(absl::StrCat(
        "high-water mark write interval (", effective.write_interval_millis,
        " ms) must be positive and below the reserve (", options.reserve_millis,
        " ms)"));
  }
  std::unique_ptr<HwmKeeper> keeper(
      new HwmKeeper(generator, store, clock, effective));
  absl::Status status = keeper->Extend();
  if (!status.ok()) return status;
  keeper->thread_ = std::thread([k = keeper.get()] { k->Run(); });
  return keeper;
}

HwmKeeper::~HwmKeeper() { StopThread(); }

void HwmKeeper::StopThread() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    wake_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status HwmKeeper::Extend() {
  const Layout& layout = generator_.layout();
  // One clock read decides the new mark, and the mark never comes down: a
  // clock stepped back between two stores, or read twice, cannot store a
  // mark below one the generator already runs under.
  const int64_t now = layout.TickAtMicros(clock_.NowMicros());
  // Before the epoch (an epoch set in the future by mistake) nothing can be
  // issued, and a mark at the epoch or later, stored now, would hold the
  // node back until then once the epoch is fixed: store nothing, keep the
  // bound where it is.
  if (now < 0) return absl::OkStatus();
  const int64_t base = std::max(now, generator_.NextFreeTick());
  const int64_t reserve_ticks =
      (options_.reserve_millis + layout.unit_millis() - 1) /
      layout.unit_millis();
  int64_t floor = generator_.high_water_mark();
  {
    MutexLock lock(&mu_);
    floor = std::max(floor, stored_tick_);
  }
  const int64_t tick = std::max(base + reserve_ticks, floor);
  const int64_t millis = layout.MillisOfTick(tick);
  absl::Status status = store_.Store(millis);
  MutexLock lock(&mu_);
  if (!status.ok()) {
    ++stats_.store_failures;
    stats_.last_error = std::string(status.message());
    return status;
  }
  // Raised only after the store is durable: the generator can never issue a
  // tick that a crash right now would leave unrecorded.
  generator_.SetHighWaterMark(tick);
  ++stats_.stores;
  stats_.stored_unix_millis = millis;
  stored_tick_ = std::max(stored_tick_, tick);
  stats_.last_error.clear();
  return absl::OkStatus();
}

void HwmKeeper::Run() {
  const Layout& layout = generator_.layout();
  const int64_t poll_millis = std::clamp<int64_t>(
      options_.write_interval_millis / 4, 1, kMaxPollMillis);
  // Store again once the headroom is down by one write interval.
  const int64_t low_water_millis =
      options_.reserve_millis - options_.write_interval_millis;
  MutexLock lock(&mu_);
  while (!stopping_) {
    wake_.WaitFor(&mu_, std::chrono::milliseconds(poll_millis));
    if (stopping_) break;
    mu_.Unlock();
    const int64_t now = layout.TickAtMicros(clock_.NowMicros());
    const int64_t used = std::max(now, generator_.NextFreeTick());
    const int64_t headroom_millis =
        (generator_.high_water_mark() - used) * layout.unit_millis();
    if (headroom_millis < low_water_millis) {
      (void)Extend();  // A failure is counted; the next poll retries.
    }
    mu_.Lock();
  }
}

void HwmKeeper::Abandon() {
  {
    MutexLock lock(&mu_);
    shut_down_ = true;
  }
  StopThread();
}

absl::Status HwmKeeper::Shutdown() {
  {
    MutexLock lock(&mu_);
    if (shut_down_) return absl::OkStatus();
    shut_down_ = true;
  }
  StopThread();
  // After Stop() no ID can be issued, so the mark may come down to just
  // above the last one, and the next run need not wait out the reserve.
  const int64_t tick = generator_.Stop();
  const Layout& layout = generator_.layout();
  // Before the epoch the mark in the store already covers every ID issued,
  // and a new one (the epoch or later) could only hold the next run back.
  if (layout.TickAtMicros(clock_.NowMicros()) < 0) return absl::OkStatus();
  const int64_t millis = layout.MillisOfTick(tick);
  absl::Status status = store_.Store(millis);
  MutexLock lock(&mu_);
  if (!status.ok()) {
    ++stats_.store_failures;
    stats_.last_error = std::string(status.message());
    return status;
  }
  ++stats_.stores;
  stats_.stored_unix_millis = millis;
  return absl::OkStatus();
}

HwmKeeperStats HwmKeeper::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

}  // namespace snowflake
