#include "src/etcd/internal/request_util.h"

#include <string>

#include "gtest/gtest.h"

namespace snowflake::etcd::internal {
namespace {

TEST(ParseEndpointTest, AcceptsSchemesAndBareHostPort) {
  absl::StatusOr<EndpointAddress> plain =
      ParseEndpoint("http://127.0.0.1:2379/", false);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->url, "http://127.0.0.1:2379");
  EXPECT_EQ(plain->target, "127.0.0.1:2379");
  EXPECT_FALSE(plain->tls);

  absl::StatusOr<EndpointAddress> secure =
      ParseEndpoint("https://etcd.example:2379", false);
  ASSERT_TRUE(secure.ok()) << secure.status();
  EXPECT_TRUE(secure->tls);
  EXPECT_EQ(secure->target, "etcd.example:2379");

  absl::StatusOr<EndpointAddress> bare = ParseEndpoint("localhost:2379", true);
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->url, "https://localhost:2379");
}

TEST(ParseEndpointTest, RejectsMalformedEndpointsNamingThem) {
  for (const char* bad :
       {"", "http://", "http://host", "http://host:", "http://host:99999",
        "http://host:0", "http://host:2379/v3", "unix://sock", ":2379",
        "http://host:23a9"}) {
    absl::StatusOr<EndpointAddress> parsed = ParseEndpoint(bad, false);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_NE(parsed.status().message().find(bad), std::string::npos) << bad;
  }
  EXPECT_EQ(ParseEndpoint("http://h:1", true).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PrefixEndTest, IncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(PrefixEnd("a/b/"), "a/b0");
  EXPECT_EQ(PrefixEnd("ab"), "ac");
  EXPECT_EQ(PrefixEnd(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff", 1)), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
}

TEST(CallErrorTest, NamesTheCallEndpointsAndCodeOfTheLastAttempt) {
  absl::Status one =
      CallError("Put", {{"http://a:1", absl::NotFoundError("lease gone")}});
  EXPECT_EQ(one.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(one.message(), "etcd Put at http://a:1: not found: lease gone");

  absl::Status two =
      CallError("Range", {{"http://a:1", absl::UnavailableError("refused")},
                          {"http://b:2", absl::DeadlineExceededError("slow")}});
  EXPECT_EQ(two.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(two.message(),
            "etcd Range at http://a:1, http://b:2: deadline exceeded: "
            "http://a:1: unavailable: refused; http://b:2: deadline "
            "exceeded: slow");
}

TEST(WithTlsHintTest, HintsAtCertificatesOrSchemeOnlyForConnectFailures) {
  const absl::Status handshake = absl::UnavailableError(
      "failed to connect to all addresses; last error: Ssl handshake failed");
  EXPECT_NE(WithTlsHint(true, handshake).message().find("check the CA file"),
            std::string::npos);
  const absl::Status closed = absl::UnavailableError("x: Socket closed");
  EXPECT_NE(WithTlsHint(false, closed).message().find("https://"),
            std::string::npos);
  const absl::Status refused = absl::UnavailableError("Connection refused");
  EXPECT_EQ(WithTlsHint(true, refused), refused);
  EXPECT_EQ(WithTlsHint(false, refused), refused);
  const absl::Status not_found = absl::NotFoundError("Socket closed");
  EXPECT_EQ(WithTlsHint(false, not_found), not_found);
}

TEST(ShouldFailOverTest, OnlyForUnavailableAndDeadline) {
  EXPECT_TRUE(ShouldFailOver(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(ShouldFailOver(absl::StatusCode::kDeadlineExceeded));
  EXPECT_FALSE(ShouldFailOver(absl::StatusCode::kNotFound));
  EXPECT_FALSE(ShouldFailOver(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(ShouldFailOver(absl::StatusCode::kOk));
}

}  // namespace
}  // namespace snowflake::etcd::internal
