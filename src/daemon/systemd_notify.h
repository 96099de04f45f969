// Tells systemd how the node is doing over $NOTIFY_SOCKET (a Type=notify
// unit): READY=1 once it may issue, STOPPING=1 when a stop begins, STATUS=
// for `systemctl status`. Outside systemd (no NOTIFY_SOCKET) every call is
// a no-op.
#ifndef SNOWFLAKE_SRC_DAEMON_SYSTEMD_NOTIFY_H_
#define SNOWFLAKE_SRC_DAEMON_SYSTEMD_NOTIFY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "src/server/node.h"

namespace snowflake {

// True if systemd asked for notifications ($NOTIFY_SOCKET is set).
bool SystemdNotifyEnabled();

// STATUS=<status>, e.g. while starting. Thread-safe.
void NotifyStatus(std::string_view status);

// READY=1 with STATUS=serving as worker <worker_id>. Call once, when the
// node has started and /readyz answers 200. Thread-safe.
void NotifyReady(int64_t worker_id);

// STOPPING=1: a graceful stop began (/readyz already fails). Thread-safe.
void NotifyStopping();

// Follows the node's readiness after READY=1 and reports each change as
// STATUS= (lease lost and re-acquiring, HWM run out, serving again, perhaps
// under another worker ID). Not thread-safe: one watching thread polls it.
class ReadinessReporter {
 public:
  explicit ReadinessReporter(const Node& node) : node_(node) {}
  ReadinessReporter(const ReadinessReporter&) = delete;
  ReadinessReporter& operator=(const ReadinessReporter&) = delete;

  // Reads the node's readiness; sends STATUS= if it changed since the last
  // call (the node is taken as ready at construction).
  void Poll();

 private:
  const Node& node_;
  std::string last_reason_;  // Empty while ready.
};

}  // namespace snowflake

#endif  // SNOWFLAKE_SRC_DAEMON_SYSTEMD_NOTIFY_H_
