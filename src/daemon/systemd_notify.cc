#include "src/daemon/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace snowflake {
namespace {

void Send(const std::string& message) {
  // Keeps NOTIFY_SOCKET (unset_environment=0): later calls, from any thread,
  // use it too. A failure to notify is logged and never stops the node.
  if (const int r = sd_notify(0, message.c_str()); r < 0) {
    spdlog::warn("event=sd_notify_failed message=\"{}\" error=\"{}\"", message,
                 std::strerror(-r));
  }
}

}  // namespace

bool SystemdNotifyEnabled() { return std::getenv("NOTIFY_SOCKET") != nullptr; }

void NotifyStatus(std::string_view status) {
  Send("STATUS=" + std::string(status));
}

void NotifyReady(int64_t worker_id) {
  Send(absl::StrCat("READY=1\nSTATUS=serving as worker ", worker_id));
}

void NotifyStopping() {
  Send(
      "STOPPING=1\nSTATUS=stopping: draining requests, storing the "
      "high-water mark, releasing the worker ID");
}

void ReadinessReporter::Poll() {
  const absl::Status ready = node_.CheckReady();
  std::string reason = ready.ok() ? "" : std::string(ready.message());
  if (!ready.ok() && reason.empty()) reason = ready.ToString();
  if (reason == last_reason_) return;
  last_reason_ = reason;
  if (ready.ok()) {
    NotifyStatus(
        absl::StrCat("serving as worker ", node_.Status().lease.worker_id));
  } else {
    NotifyStatus(absl::StrCat("not ready: ", reason));
  }
}

}  // namespace snowflake
