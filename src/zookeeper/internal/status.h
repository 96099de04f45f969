// ZooKeeper result codes (the ZOK, ZNONODE, ... of zookeeper.h) as
// absl::Status, chosen from the client's side as Abseil's retry guide
// says; see ZooKeeperClient for the table. Pure, so tested without a
// server.
#ifndef SNOWFLAKE_SRC_ZOOKEEPER_INTERNAL_STATUS_H_
#define SNOWFLAKE_SRC_ZOOKEEPER_INTERNAL_STATUS_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace snowflake::zookeeper::internal {

// `rc` as a status whose message is "`what`: <ZooKeeper's text>", e.g.
// "ZooKeeper set /a at h:1: bad version". OK for ZOK. The status carries
// `rc` as a payload (ResultCode), so that IsSessionExpired and IsBadVersion
// need not parse messages. ZINVALIDSTATE should first go through
// InvalidStateCode.
absl::Status FromResultCode(int rc, std::string_view what);

// The ZooKeeper result code a status from FromResultCode carries.
std::optional<int> ResultCode(const absl::Status& status);

// The C client refuses requests with ZINVALIDSTATE when its handle is
// unusable; `zoo_state` (zoo_state()) tells why: ZSESSIONEXPIRED,
// ZAUTHFAILED, or else ZCONNECTIONLOSS (between two connection attempts).
int InvalidStateCode(int zoo_state);

// True if a request's completion with `rc` carries the server's answer
// (the server received the request while the session was alive), false if
// the C client made `rc` up itself (connection loss, timeout, closing,
// expiry found at reconnection).
bool IsServerReply(int rc);

}  // namespace snowflake::zookeeper::internal

#endif  // SNOWFLAKE_SRC_ZOOKEEPER_INTERNAL_STATUS_H_
