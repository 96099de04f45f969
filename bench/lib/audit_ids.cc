// audit_ids: the input of bench/run's audit section. Writes N IDs of the
// default layout, as a fleet would have issued them: WORKERS workers taking
// turns within each millisecond, each issuing 1 to 4 IDs in it (a fixed
// pseudo-random sequence), times increasing and ending a minute before now
// (so that `snowflake audit` finds none in the future). DUPLICATES of the N
// are second copies of IDs issued about a thousand IDs earlier, spread
// evenly over the input: what `snowflake audit` and `sort -n | uniq -d`
// must each find, exactly.
//
//   audit_ids N DUPLICATES BINARY_FILE DECIMAL_FILE
//
// BINARY_FILE gets big-endian u64s (8 bytes an ID), DECIMAL_FILE one ID a
// line. Prints "ids=N duplicates=D workers=W first=ID last=ID".
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "snowflake/layout.h"

namespace {

constexpr int64_t kWorkers[] = {3, 200, 513, 1000};
constexpr size_t kBufferBytes = size_t{1} << 20;
constexpr uint64_t kDuplicateDistance = 1000;

// A file written through a large buffer; exits on any error.
class Out {
 public:
  explicit Out(const char* path) : path_(path), file_(std::fopen(path, "wb")) {
    if (file_ == nullptr) Die("cannot create");
    buffer_.reserve(kBufferBytes + 64);
  }
  ~Out() {
    Flush();
    if (std::fclose(file_) != 0) Die("cannot close");
  }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;

  void Binary(uint64_t id) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      buffer_.push_back(static_cast<char>((id >> shift) & 0xff));
    }
    if (buffer_.size() >= kBufferBytes) Flush();
  }
  void Decimal(uint64_t id) {
    char text[24];
    char* end = std::to_chars(text, text + sizeof(text), id).ptr;
    *end++ = '\n';
    buffer_.append(text, end);
    if (buffer_.size() >= kBufferBytes) Flush();
  }

 private:
  void Flush() {
    if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(),
                                        file_) != buffer_.size()) {
      Die("cannot write");
    }
    buffer_.clear();
  }
  [[noreturn]] void Die(const char* what) {
    std::perror((std::string("audit_ids: ") + what + " " + path_).c_str());
    std::exit(1);
  }

  std::string path_;
  std::FILE* file_;
  std::string buffer_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr,
                 "usage: audit_ids N DUPLICATES BINARY_FILE DECIMAL_FILE\n");
    return 2;
  }
  const uint64_t n = std::strtoull(argv[1], nullptr, 10);
  const uint64_t duplicates = std::strtoull(argv[2], nullptr, 10);
  if (n < 2 * kDuplicateDistance || duplicates > n / (2 * kDuplicateDistance)) {
    std::fprintf(stderr, "audit_ids: N too small for %llu duplicates\n",
                 static_cast<unsigned long long>(duplicates));
    return 2;
  }
  const snowflake::Layout layout;  // The default layout.
  const int64_t now_millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  // At least one ID per worker per millisecond: N IDs span at most N / W
  // milliseconds, and end a minute before now at the latest.
  const int64_t workers = std::size(kWorkers);
  int64_t tick = (now_millis - layout.spec().epoch_millis) -
                 static_cast<int64_t>(n) / workers - 60'000;

  Out binary(argv[3]);
  Out decimal(argv[4]);
  std::vector<uint64_t> recent(kDuplicateDistance);  // A ring of past IDs.
  // Positions (0-based, in the output) of the second copies.
  const uint64_t every = duplicates ? n / (duplicates + 1) : n + 1;
  uint64_t written = 0;
  uint64_t issued = 0;
  uint64_t duplicated = 0;
  uint64_t first = 0;
  uint64_t last = 0;
  uint32_t random = 12345;
  auto emit = [&](uint64_t id) {
    binary.Binary(id);
    decimal.Decimal(id);
    if (written == 0) first = id;
    last = id;
    ++written;
  };
  while (written < n) {
    for (int64_t worker : kWorkers) {
      random = random * 1664525u + 1013904223u;
      const int64_t count = 1 + ((random >> 16) & 3);
      for (int64_t sequence = 0; sequence < count && written < n; ++sequence) {
        if (duplicated < duplicates && written == every * (duplicated + 1) &&
            issued >= kDuplicateDistance) {
          emit(recent[issued % kDuplicateDistance]);  // The oldest kept.
          ++duplicated;
          if (written == n) break;
        }
        const uint64_t id = layout.Compose({tick, worker, sequence});
        recent[issued++ % kDuplicateDistance] = id;
        emit(id);
      }
    }
    ++tick;
  }
  if (duplicated != duplicates) {
    std::fprintf(stderr, "audit_ids: wrote %llu duplicates, not %llu\n",
                 static_cast<unsigned long long>(duplicated),
                 static_cast<unsigned long long>(duplicates));
    return 1;
  }
  std::printf("ids=%llu duplicates=%llu workers=%lld first=%llu last=%llu\n",
              static_cast<unsigned long long>(written),
              static_cast<unsigned long long>(duplicated),
              static_cast<long long>(workers),
              static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(last));
  return 0;
}
