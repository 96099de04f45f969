#include "src/client/internal/endpoint.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/lease/cluster_schema.h"

namespace snowflake::client::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(EndpointTest, ParsesHttpUrls) {
  absl::StatusOr<Endpoint> e = ParseEndpoint("http://127.0.0.1:8080");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 8080);
  EXPECT_EQ(e->Url(), "http://127.0.0.1:8080");

  e = ParseEndpoint("HTTP://node-1.example:1/");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "node-1.example");
  EXPECT_EQ(e->port, 1);

  e = ParseEndpoint("http://[::1]:65535");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->Url(), "http://[::1]:65535");
  EXPECT_EQ(e->HostPort(), "[::1]:65535");
  EXPECT_EQ(e->transport, ClientTransport::kHttp);
}

TEST(EndpointTest, GrpcSchemeSelectsTheGrpcTransport) {
  absl::StatusOr<Endpoint> e = ParseEndpoint("grpc://127.0.0.1:9100");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->transport, ClientTransport::kGrpc);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 9100);
  EXPECT_EQ(e->Url(), "grpc://127.0.0.1:9100");
  EXPECT_EQ(e->HostPort(), "127.0.0.1:9100");

  e = ParseEndpoint("GRPC://[::1]:9/");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->transport, ClientTransport::kGrpc);
  EXPECT_EQ(e->Url(), "grpc://[::1]:9");

  // The same host and port over two protocols are two nodes.
  EXPECT_NE(*ParseEndpoint("grpc://a:1"), *ParseEndpoint("http://a:1"));
}

TEST(EndpointTest, GarbageIsRefusedNamingTheValue) {
  struct Case {
    std::string text;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"garbage", "expected http://HOST:PORT or grpc://HOST:PORT"},
      {"127.0.0.1:8080", "expected http://HOST:PORT"},
      {"https://a:1", "scheme \"https\" is not supported"},
      {"grpcs://a:1", "scheme \"grpcs\" is not supported"},
      {"dns:///a:1", "scheme \"dns\" is not supported"},
      {"grpc://", "no port"},
      {"grpc://a", "no port"},
      {"grpc://a:0", "1-65535"},
      {"grpc://a:1/snowflake.v1.IdService", "a path is not allowed"},
      {"grpc://[::1", "without its \"]\""},
      {"http://", "no port"},
      {"http://:80", "no host"},
      {"http://a", "no port"},
      {"http://a:0", "1-65535"},
      {"http://a:65536", "1-65535"},
      {"http://a:80x", "1-65535"},
      {"http://a:-1", "1-65535"},
      {"http://a:80/v1/ids", "a path is not allowed"},
      {"http://::1:80", "in brackets"},
      {"http://[::1:80", "without its \"]\""},
      {"http://a b:80", "not allowed"},
      {"", "expected http://HOST:PORT"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Endpoint> e = ParseEndpoint(c.text);
    ASSERT_FALSE(e.ok()) << c.text;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(std::string(e.status().message()),
                HasSubstr("\"" + c.text + "\""));
    EXPECT_THAT(std::string(e.status().message()), HasSubstr(c.why)) << c.text;
  }
}

TEST(EndpointTest, ParseEndpointsStopsAtTheFirstBadOne) {
  absl::StatusOr<std::vector<Endpoint>> all =
      ParseEndpoints({"http://a:1", "http://b:2"});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 2u);
  all = ParseEndpoints({"http://a:1", "b:2"});
  ASSERT_FALSE(all.ok());
  EXPECT_THAT(std::string(all.status().message()), HasSubstr("\"b:2\""));
}

TEST(EndpointTest, AdvertisedAddressesAreHostPortOrUrls) {
  EXPECT_EQ(ParseAdvertised("10.0.0.1:8080")->Url(), "http://10.0.0.1:8080");
  EXPECT_EQ(ParseAdvertised("http://h:9")->Url(), "http://h:9");
  EXPECT_EQ(ParseAdvertised("[fe80::1]:80")->Url(), "http://[fe80::1]:80");
  EXPECT_EQ(ParseAdvertised("grpc://h:9")->Url(), "grpc://h:9");
  EXPECT_EQ(ParseAdvertised("grpc://h:9")->transport, ClientTransport::kGrpc);
  EXPECT_FALSE(ParseAdvertised("https://h:9").has_value());
  EXPECT_FALSE(ParseAdvertised("127.0.0.1:0").has_value());  // --listen :0
  EXPECT_FALSE(ParseAdvertised("grpc://127.0.0.1:0").has_value());
  EXPECT_FALSE(ParseAdvertised("h").has_value());
}

StoredEntry Claim(int64_t id, std::vector<std::string> addresses) {
  cluster_schema::Holder holder;
  holder.node = "node-" + std::to_string(id);
  holder.worker_id = id;
  holder.addresses = std::move(addresses);
  StoredEntry entry;
  entry.key = "/snowflake/c/workers/" + std::to_string(id);
  entry.value = cluster_schema::EncodeHolder(holder);
  return entry;
}

std::vector<std::string> UrlsOf(const std::vector<StoredEntry>& claims,
                                ClientTransport preferred) {
  std::vector<std::string> urls;
  for (const Endpoint& e : EndpointsOfClaims(claims, preferred)) {
    urls.push_back(e.Url());
  }
  return urls;
}

TEST(EndpointTest, ClaimsGiveEachNodeOnceByItsFirstUsableAddress) {
  std::vector<StoredEntry> claims = {
      Claim(3, {"https://b:9", "b:8080"}),
      Claim(1, {"a:8080"}),
      Claim(2, {"a:8080"}),  // The same node holding two worker IDs.
      Claim(4, {}),
      Claim(5, {"c:0"}),
  };
  claims.emplace_back();
  claims.back().value = "not json";
  EXPECT_THAT(UrlsOf(claims, ClientTransport::kHttp),
              ElementsAre("http://a:8080", "http://b:8080"));
}

TEST(EndpointTest, ClaimsGiveThePreferredTransportElseTheOther) {
  const std::vector<StoredEntry> claims = {
      // What snowflaked --grpc-listen writes: HTTP first, gRPC beside it.
      Claim(1, {"a:8080", "grpc://a:9090"}),
      Claim(2, {"a:8080", "grpc://a:9090"}),
      // gRPC first (--advertise grpc://...,...), two gRPC addresses.
      Claim(3, {"grpc://b:9090", "grpc://b2:9090", "http://b:8080"}),
      // A claim of a node without gRPC, or of a version before it.
      Claim(4, {"c:8080"}),
      // A node that advertises gRPC only.
      Claim(5, {"grpc://d:9090"}),
      // A gRPC port 0 (--grpc-listen HOST:0) is no address.
      Claim(6, {"grpc://e:0", "e:8080"}),
  };
  EXPECT_THAT(UrlsOf(claims, ClientTransport::kHttp),
              ElementsAre("grpc://d:9090", "http://a:8080", "http://b:8080",
                          "http://c:8080", "http://e:8080"));
  EXPECT_THAT(UrlsOf(claims, ClientTransport::kGrpc),
              ElementsAre("grpc://a:9090", "grpc://b:9090", "grpc://d:9090",
                          "http://c:8080", "http://e:8080"));
}

}  // namespace
}  // namespace snowflake::client::internal
