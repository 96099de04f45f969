// The table from ZooKeeper result codes to absl codes, without a server.
#include "src/zookeeper/internal/status.h"

#include <zookeeper/zookeeper.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/zookeeper/zookeeper_client.h"

namespace snowflake::zookeeper::internal {
namespace {

using ::testing::HasSubstr;

TEST(FromResultCodeTest, MapsCodesTheRetryGuideWay) {
  struct Case {
    int rc;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {ZOK, absl::StatusCode::kOk},
      {ZCONNECTIONLOSS, absl::StatusCode::kUnavailable},
      {ZOPERATIONTIMEOUT, absl::StatusCode::kUnavailable},
      {ZSESSIONMOVED, absl::StatusCode::kUnavailable},
      {ZSESSIONEXPIRED, absl::StatusCode::kUnavailable},
      {ZNONODE, absl::StatusCode::kNotFound},
      {ZNODEEXISTS, absl::StatusCode::kAlreadyExists},
      {ZBADVERSION, absl::StatusCode::kFailedPrecondition},
      {ZNOTEMPTY, absl::StatusCode::kFailedPrecondition},
      {ZNOAUTH, absl::StatusCode::kPermissionDenied},
      {ZAUTHFAILED, absl::StatusCode::kPermissionDenied},
      {ZBADARGUMENTS, absl::StatusCode::kInvalidArgument},
      {ZMARSHALLINGERROR, absl::StatusCode::kInternal},
      {-12345, absl::StatusCode::kUnknown},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FromResultCode(c.rc, "op").code(), c.code) << zerror(c.rc);
  }
}

TEST(FromResultCodeTest, MessageNamesTheCallAndZooKeepersText) {
  absl::Status status = FromResultCode(ZBADVERSION, "ZooKeeper set /a at h:1");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("ZooKeeper set /a at h:1: bad version"));
}

TEST(FromResultCodeTest, ExpiryAndBadVersionAreDistinguishable) {
  const absl::Status expired = FromResultCode(ZSESSIONEXPIRED, "op");
  const absl::Status lost = FromResultCode(ZCONNECTIONLOSS, "op");
  EXPECT_TRUE(IsSessionExpired(expired));
  EXPECT_FALSE(IsSessionExpired(lost));
  EXPECT_EQ(expired.code(), lost.code());

  const absl::Status bad_version = FromResultCode(ZBADVERSION, "op");
  const absl::Status not_empty = FromResultCode(ZNOTEMPTY, "op");
  EXPECT_TRUE(IsBadVersion(bad_version));
  EXPECT_FALSE(IsBadVersion(not_empty));
  EXPECT_EQ(bad_version.code(), not_empty.code());

  EXPECT_FALSE(IsSessionExpired(absl::UnavailableError("session expired")));
  EXPECT_FALSE(IsBadVersion(absl::OkStatus()));
  EXPECT_EQ(ResultCode(lost), ZCONNECTIONLOSS);
}

TEST(InvalidStateCodeTest, TellsWhyTheHandleIsUnusable) {
  EXPECT_EQ(InvalidStateCode(ZOO_EXPIRED_SESSION_STATE), ZSESSIONEXPIRED);
  EXPECT_EQ(InvalidStateCode(ZOO_AUTH_FAILED_STATE), ZAUTHFAILED);
  EXPECT_EQ(InvalidStateCode(0), ZCONNECTIONLOSS);
}

TEST(IsServerReplyTest, OnlyTheServersAnswersCount) {
  for (int rc : {ZOK, ZNONODE, ZNODEEXISTS, ZBADVERSION, ZNOAUTH}) {
    EXPECT_TRUE(IsServerReply(rc)) << zerror(rc);
  }
  for (int rc : {ZCONNECTIONLOSS, ZOPERATIONTIMEOUT, ZSESSIONEXPIRED, ZCLOSING,
                 ZSESSIONMOVED, ZAUTHFAILED}) {
    EXPECT_FALSE(IsServerReply(rc)) << zerror(rc);
  }
}

}  // namespace
}  // namespace snowflake::zookeeper::internal
