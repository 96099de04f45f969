// snowflaked's side of src/daemon/grpc_module.h: finds and loads
// snowflaked-grpc.so.
#include "src/daemon/grpc_module.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace snowflake {
namespace {

// The directory snowflaked runs from ("" if /proc/self/exe cannot be read).
std::string ExecutableDir() {
  std::error_code error;
  const std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? "" : exe.parent_path().string();
}

}  // namespace

absl::StatusOr<const GrpcModule*> LoadGrpcModule() {
  const std::string dir = ExecutableDir();
  if (dir.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot load ", kGrpcModuleFile,
        ", which gRPC and etcd need: /proc/self/exe cannot be read, so "
        "where snowflaked is installed is unknown"));
  }
  const std::vector<std::string> candidates = {
      absl::StrCat(dir, "/", kGrpcModuleFile),
      absl::StrCat(dir, "/../lib/snowflake/", kGrpcModuleFile)};
  std::vector<std::string> tried;
  for (const std::string& path : candidates) {
    if (access(path.c_str(), F_OK) != 0) {
      tried.push_back(absl::StrCat(path, " (", std::strerror(errno), ")"));
      continue;
    }
    // RTLD_NOW: a library the module needs and lacks fails here, with its
    // name, not at the first call.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot load ", path, ", which gRPC and etcd need: ", dlerror(),
          "; install the libraries it names (ldd ", path, ")"));
    }
    using Entry = const GrpcModule* (*)();
    auto entry = reinterpret_cast<Entry>(dlsym(handle, kGrpcModuleEntry));
    if (entry == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is not snowflaked's gRPC module: it has no ",
                       kGrpcModuleEntry, "; install the one built with ",
                       "snowflaked ", SNOWFLAKE_VERSION));
    }
    const GrpcModule* module = entry();
    if (std::strcmp(module->version, SNOWFLAKE_VERSION) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is version ", module->version, " and snowflaked ",
          SNOWFLAKE_VERSION, ": install both from one build"));
    }
    spdlog::info("event=grpc_module_loaded path=\"{}\"", path);
    return module;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot find ", kGrpcModuleFile,
      ", which --grpc-listen and the etcd and ZooKeeper coordinators need; "
      "looked at ",
      absl::StrJoin(tried, ", "),
      ": install it with snowflaked (cmake --install puts it in "
      "lib/snowflake/), or run in static mode without --grpc-listen"));
}

}  // namespace snowflake
