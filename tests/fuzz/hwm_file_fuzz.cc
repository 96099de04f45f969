// Fuzzes the strict high-water mark file parser (ParseHwmFile, what
// FileHwmStore::Load reads). It must accept exactly the files an independent
// reading of the format accepts ('#' comment lines and one
// "hwm_unix_ms=<1 to 15 digits>" line, every line ending in a newline, a
// mark before the year 10000, at most 4096 bytes) with the same mark, and
// refuse the rest with kDataLoss and a one-line printable message. The same
// bytes, written to a real file, must load the same through FileHwmStore.
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "src/core/hwm.h"
#include "tests/fuzz/fuzz_check.h"

namespace snowflake {
namespace {

constexpr size_t kMaxFileBytes = 4096;
constexpr int64_t kMarkLimitMillis = 253'402'300'800'000;  // 10000-01-01.
constexpr std::string_view kKey = "hwm_unix_ms=";

FileHwmStore* store = nullptr;
std::string* store_path = nullptr;

void StartStore() {
  const std::string& dir = fuzz::ScratchDir("hwm");
  store_path = new std::string(dir + "/hwm");
  absl::StatusOr<std::unique_ptr<FileHwmStore>> opened =
      FileHwmStore::Open(*store_path);
  FUZZ_CHECK(opened.ok());
  store = opened->release();
}

// The format, read independently of hwm.cc.
std::optional<int64_t> Expected(std::string_view text) {
  if (text.empty() || text.size() > kMaxFileBytes || text.back() != '\n') {
    return std::nullopt;
  }
  std::optional<int64_t> mark;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    if (line.starts_with('#')) continue;
    if (!line.starts_with(kKey) || mark.has_value()) return std::nullopt;
    const std::string_view digits = line.substr(kKey.size());
    if (digits.empty() || digits.size() > 15) return std::nullopt;
    for (const char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    int64_t value = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (value >= kMarkLimitMillis) return std::nullopt;
    mark = value;
  }
  return mark;
}

void CheckRefusal(const absl::Status& status) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kDataLoss);
  FUZZ_CHECK(status.message().find(*store_path) != absl::string_view::npos);
  // Quoted input is escaped and cut short: safe for a one-line log.
  FUZZ_CHECK(status.message().size() < 1024);
  for (const char c : status.message()) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
}

void WriteFile(const std::string& path, std::string_view bytes) {
  FILE* file = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(file != nullptr);
  FUZZ_CHECK(std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size());
  FUZZ_CHECK(std::fclose(file) == 0);
}

}  // namespace
}  // namespace snowflake

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  snowflake::StartStore();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string& path = *snowflake::store_path;
  const absl::StatusOr<int64_t> mark = snowflake::ParseHwmFile(text, path);
  const std::optional<int64_t> expected = snowflake::Expected(text);
  FUZZ_CHECK(mark.ok() == expected.has_value());
  if (mark.ok()) {
    FUZZ_CHECK(*mark == *expected);
  } else {
    snowflake::CheckRefusal(mark.status());
  }

  // The store reads a real file the same way (an empty file too).
  snowflake::WriteFile(path, text);
  const absl::StatusOr<std::optional<int64_t>> loaded =
      snowflake::store->Load();
  FUZZ_CHECK(loaded.ok() == mark.ok());
  if (mark.ok()) {
    FUZZ_CHECK(loaded->has_value() && **loaded == *mark);
  } else {
    FUZZ_CHECK(loaded.status() == mark.status());
  }
  return 0;
}
