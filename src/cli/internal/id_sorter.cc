#include "src/cli/internal/id_sorter.h"

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <queue>
#include <utility>

#include "absl/strings/str_cat.h"

namespace snowflake::cli::internal {
namespace {

// IDs read from a run file at a time.
constexpr size_t kReadIds = size_t{1} << 16;

absl::Status FileError(const char* what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno)));
}

// One sorted run, read back in blocks.
class RunReader {
 public:
  explicit RunReader(std::string path) : path_(std::move(path)) {}
  ~RunReader() {
    if (file_ != nullptr) std::fclose(file_);
  }
  RunReader(const RunReader&) = delete;
  RunReader& operator=(const RunReader&) = delete;

  absl::Status Open() {
    file_ = std::fopen(path_.c_str(), "rb");
    if (file_ == nullptr) return FileError("open", path_);
    return Refill();
  }
  bool done() const { return next_ == block_.size(); }
  uint64_t head() const { return block_[next_]; }
  absl::Status Pop() {
    ++next_;
    return next_ == block_.size() ? Refill() : absl::OkStatus();
  }

 private:
  absl::Status Refill() {
    block_.resize(kReadIds);
    const size_t got =
        std::fread(block_.data(), sizeof(uint64_t), kReadIds, file_);
    if (got < kReadIds && std::ferror(file_)) return FileError("read", path_);
    block_.resize(got);
    next_ = 0;
    return absl::OkStatus();
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<uint64_t> block_;
  size_t next_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<IdSorter>> IdSorter::Create(
    const std::string& temp_dir, int64_t buffer_ids) {
  if (buffer_ids < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the sort buffer must hold at least 1 ID, got ", buffer_ids));
  }
  std::string pattern = absl::StrCat(
      temp_dir.empty() ? std::filesystem::temp_directory_path().string()
                       : temp_dir,
      "/snowflake-audit.XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    return FileError("make a folder for sorted runs from", pattern);
  }
  return std::unique_ptr<IdSorter>(new IdSorter(pattern, buffer_ids));
}

IdSorter::IdSorter(std::string dir, int64_t buffer_ids)
    : dir_(std::move(dir)), buffer_ids_(static_cast<size_t>(buffer_ids)) {
  buffer_.reserve(std::min<size_t>(buffer_ids_, size_t{1} << 20));
}

IdSorter::~IdSorter() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Status IdSorter::Add(uint64_t id) {
  buffer_.push_back(id);
  return buffer_.size() >= buffer_ids_ ? Spill() : absl::OkStatus();
}

absl::Status IdSorter::Spill() {
  std::sort(buffer_.begin(), buffer_.end());
  const std::string path = absl::StrCat(dir_, "/run-", runs_.size());
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return FileError("create", path);
  const size_t wrote =
      std::fwrite(buffer_.data(), sizeof(uint64_t), buffer_.size(), file);
  const bool closed = std::fclose(file) == 0;
  if (wrote != buffer_.size() || !closed) return FileError("write", path);
  runs_.push_back(path);
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status IdSorter::Finish(
    const std::function<void(uint64_t, uint64_t)>& each) {
  // Equal IDs are adjacent in the merged order: count each run of them.
  uint64_t current = 0;
  uint64_t count = 0;
  auto take = [&](uint64_t id) {
    if (count > 0 && id == current) {
      ++count;
      return;
    }
    if (count > 0) each(current, count);
    current = id;
    count = 1;
  };
  if (runs_.empty()) {
    std::sort(buffer_.begin(), buffer_.end());
    for (uint64_t id : buffer_) take(id);
  } else {
    if (!buffer_.empty()) {
      if (absl::Status s = Spill(); !s.ok()) return s;
    }
    std::vector<std::unique_ptr<RunReader>> readers;
    using Entry = std::pair<uint64_t, size_t>;  // Head, reader.
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heads;
    for (const std::string& run : runs_) {
      readers.push_back(std::make_unique<RunReader>(run));
      if (absl::Status s = readers.back()->Open(); !s.ok()) return s;
      if (!readers.back()->done()) {
        heads.emplace(readers.back()->head(), readers.size() - 1);
      }
    }
    while (!heads.empty()) {
      const auto [id, index] = heads.top();
      heads.pop();
      take(id);
      RunReader& reader = *readers[index];
      if (absl::Status s = reader.Pop(); !s.ok()) return s;
      if (!reader.done()) heads.emplace(reader.head(), index);
    }
  }
  if (count > 0) each(current, count);
  return absl::OkStatus();
}

}  // namespace snowflake::cli::internal
