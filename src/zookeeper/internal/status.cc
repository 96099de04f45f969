#include "src/zookeeper/internal/status.h"

#include <zookeeper/zookeeper.h>

#include <string>

#include "absl/strings/cord.h"
#include "src/base/strings.h"
#include "src/zookeeper/zookeeper_client.h"

namespace snowflake::zookeeper {
namespace internal {
namespace {

// The payload's type URL; its value is the result code in decimal.
constexpr char kResultCodeUrl[] = "snowflake.zookeeper/result-code";

absl::StatusCode CodeOf(int rc) {
  switch (rc) {
    case ZOK:
      return absl::StatusCode::kOk;
    // The connection, not the request, failed: the same call may work on
    // the reconnected session. ZSESSIONEXPIRED too, but only on a new
    // session (IsSessionExpired tells it apart).
    case ZCONNECTIONLOSS:
    case ZOPERATIONTIMEOUT:
    case ZSESSIONMOVED:
    case ZSESSIONEXPIRED:
    case ZCLOSING:
    case ZTHROTTLEDOP:
    case ZNOTREADONLY:
    case ZINVALIDSTATE:
    case ZSSLCONNECTIONERROR:
      return absl::StatusCode::kUnavailable;
    case ZNONODE:
      return absl::StatusCode::kNotFound;
    case ZNODEEXISTS:
      return absl::StatusCode::kAlreadyExists;
    // The node is not as the caller thought: no retry of the same request
    // fixes it.
    case ZBADVERSION:
    case ZNOTEMPTY:
    case ZNOCHILDRENFOREPHEMERALS:
    case ZEPHEMERALONLOCALSESSION:
      return absl::StatusCode::kFailedPrecondition;
    case ZNOAUTH:
    case ZAUTHFAILED:
    case ZSESSIONCLOSEDREQUIRESASLAUTH:
      return absl::StatusCode::kPermissionDenied;
    case ZBADARGUMENTS:
    case ZINVALIDACL:
    case ZINVALIDCALLBACK:
      return absl::StatusCode::kInvalidArgument;
    case ZUNIMPLEMENTED:
    case ZRECONFIGDISABLED:
      return absl::StatusCode::kUnimplemented;
    case ZSYSTEMERROR:
    case ZRUNTIMEINCONSISTENCY:
    case ZDATAINCONSISTENCY:
    case ZMARSHALLINGERROR:
      return absl::StatusCode::kInternal;
    default:
      return absl::StatusCode::kUnknown;
  }
}

}  // namespace

absl::Status FromResultCode(int rc, std::string_view what) {
  const absl::StatusCode code = CodeOf(rc);
  if (code == absl::StatusCode::kOk) return absl::OkStatus();
  std::string message = base::Cat(what, ": ", zerror(rc));
  if (rc == ZSESSIONEXPIRED) {
    base::Append(message, " (start a new session)");
  }
  absl::Status status(code, message);
  status.SetPayload(kResultCodeUrl, absl::Cord(base::Cat(rc)));
  return status;
}

std::optional<int> ResultCode(const absl::Status& status) {
  const auto payload = status.GetPayload(kResultCodeUrl);
  if (!payload.has_value()) return std::nullopt;
  int64_t rc = 0;
  if (!base::ParseInt(std::string(*payload), rc)) return std::nullopt;
  return static_cast<int>(rc);
}

int InvalidStateCode(int zoo_state) {
  if (zoo_state == ZOO_EXPIRED_SESSION_STATE) return ZSESSIONEXPIRED;
  if (zoo_state == ZOO_AUTH_FAILED_STATE) return ZAUTHFAILED;
  return ZCONNECTIONLOSS;
}

bool IsServerReply(int rc) {
  switch (rc) {
    case ZOK:
    case ZNONODE:
    case ZNODEEXISTS:
    case ZBADVERSION:
    case ZNOTEMPTY:
    case ZNOCHILDRENFOREPHEMERALS:
    case ZNOAUTH:
    case ZINVALIDACL:
      return true;
    default:
      return false;
  }
}

}  // namespace internal

bool IsSessionExpired(const absl::Status& status) {
  return internal::ResultCode(status) == ZSESSIONEXPIRED;
}

bool IsBadVersion(const absl::Status& status) {
  return internal::ResultCode(status) == ZBADVERSION;
}

}  // namespace snowflake::zookeeper
