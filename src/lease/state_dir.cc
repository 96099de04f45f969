#include "src/lease/state_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace snowflake {
namespace {

constexpr char kFloorPrefix[] = "hwm-worker-";
constexpr char kIdentityPrefix[] = "identity-";

absl::Status SystemError(const std::string& what, const std::string& path) {
  const int err = errno;
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == EACCES || err == EPERM || err == EROFS) {
    return absl::PermissionDeniedError(message);
  }
  return absl::InternalError(message);
}

bool HasState(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kFloorPrefix, 0) == 0 ||
        name.rfind(kIdentityPrefix, 0) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<int64_t> WorkersWithHwm(const std::string& state_dir) {
  std::vector<int64_t> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(
           state_dir.empty() ? "." : state_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kFloorPrefix, 0) != 0) continue;
    // Only what StaticHwmPath names: "hwm-worker-12", not "...-12.tmp".
    const std::string digits = name.substr(sizeof(kFloorPrefix) - 1);
    if (digits.empty() || digits.size() > 9 ||
        (digits.size() > 1 && digits[0] == '0') ||
        !std::all_of(digits.begin(), digits.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    ids.push_back(std::stoll(digits));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

absl::StatusOr<std::unique_ptr<StateDir>> StateDir::Open(std::string path) {
  if (path.empty()) path = ".";
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create state directory ", path, ": ", ec.message()));
  }
  const std::string lock_path = path + "/lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return SystemError("cannot open", lock_path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    std::ifstream in(lock_path);
    std::getline(in, holder);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "state directory ", path, " is in use by another snowflaked (pid ",
          holder.empty() ? "unknown" : holder,
          "); two nodes must never share one: give each its own "
          "--state-dir"));
    }
    errno = err;
    return SystemError("cannot lock", lock_path);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
    const absl::Status status = SystemError("cannot write", lock_path);
    ::close(fd);
    return status;
  }
  const bool fresh = !HasState(path);
  return std::unique_ptr<StateDir>(new StateDir(std::move(path), fd, fresh));
}

StateDir::~StateDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // Releases the lock.
}

absl::StatusOr<std::optional<int64_t>> FlooredHwmStore::Load() {
  auto local = local_->Load();
  if (!local.ok()) return local.status();
  auto remote = remote_.Load();
  if (!remote.ok()) return remote.status();
  if (!local->has_value()) return *remote;
  if (!remote->has_value()) return *local;
  return std::optional<int64_t>(std::max(**local, **remote));
}

absl::Status FlooredHwmStore::Store(int64_t unix_millis) {
  if (absl::Status s = local_->Store(unix_millis); !s.ok()) return s;
  return remote_.Store(unix_millis);
}

std::string FlooredHwmStore::Describe() const {
  return absl::StrCat(remote_.Describe(), " (local floor ", local_->Describe(),
                      ")");
}

}  // namespace snowflake
