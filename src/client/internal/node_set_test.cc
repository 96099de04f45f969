#include "src/client/internal/node_set.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/client/internal/fake_transport.h"

namespace snowflake::client::internal {
namespace {

using ::testing::ElementsAre;

std::vector<Endpoint> Endpoints(const std::vector<std::string>& hosts) {
  std::vector<Endpoint> endpoints;
  endpoints.reserve(hosts.size());
  for (const std::string& host : hosts) endpoints.push_back({host, 80});
  return endpoints;
}

std::string Url(const std::shared_ptr<Node>& node) {
  return node == nullptr ? "none" : node->url;
}

TEST(NodeSetTest, RoundRobinOverAvailableNodes) {
  FakeTransports fakes;
  NodeSet nodes(fakes.Factory());
  EXPECT_EQ(nodes.Pick(0), nullptr);
  EXPECT_FALSE(nodes.EarliestRetry().has_value());
  nodes.Set(Endpoints({"c", "a", "b", "a"}));
  EXPECT_THAT(nodes.Urls(),
              ElementsAre("http://a:80", "http://b:80", "http://c:80"));
  std::vector<std::string> picked;
  picked.reserve(4);
  for (int i = 0; i < 4; ++i) picked.push_back(Url(nodes.Pick(0)));
  EXPECT_THAT(picked, ElementsAre("http://a:80", "http://b:80", "http://c:80",
                                  "http://a:80"));
}

TEST(NodeSetTest, FailedNodeIsSkippedForItsBackoffOnly) {
  FakeTransports fakes;
  NodeSet nodes(fakes.Factory());
  nodes.Set(Endpoints({"a", "b"}));
  std::shared_ptr<Node> a = nodes.Pick(1000);
  ASSERT_EQ(Url(a), "http://a:80");
  nodes.Fail(*a, 1000, 500, "x");  // Skipped in [1000, 1500).
  EXPECT_EQ(Url(nodes.Pick(1000)), "http://b:80");
  EXPECT_EQ(Url(nodes.Pick(1499)), "http://b:80");
  EXPECT_EQ(nodes.EarliestRetry(), 0);  // b is available.

  std::shared_ptr<Node> b = nodes.Pick(1499);
  nodes.Fail(*b, 1499, 2000, "x");
  EXPECT_EQ(nodes.Pick(1499), nullptr);
  EXPECT_EQ(nodes.EarliestRetry(), 1500);
  EXPECT_EQ(Url(nodes.Pick(1500)), "http://a:80");
  EXPECT_EQ(Url(nodes.Pick(1500)), "http://a:80");  // b still backs off.

  // A shorter back-off never shortens a longer one; success ends it.
  nodes.Fail(*b, 1600, 10, "x");  // b stays skipped until 3499.
  EXPECT_EQ(nodes.EarliestRetry(), 1500);
  EXPECT_EQ(Url(nodes.Pick(3498)), "http://a:80");
  EXPECT_EQ(Url(nodes.Pick(3498)), "http://a:80");
  EXPECT_EQ(Url(nodes.Pick(3499)), "http://b:80");
  nodes.Fail(*a, 3499, 1'000'000, "x");
  nodes.Succeed(*a);
  EXPECT_EQ(Url(nodes.Pick(3499)), "http://a:80");
}

TEST(NodeSetTest, ErrorsAreTheLastOfEachNodeUntilItAnswers) {
  FakeTransports fakes;
  NodeSet nodes(fakes.Factory());
  nodes.Set(Endpoints({"a", "b"}));
  std::shared_ptr<Node> a = nodes.Pick(0);
  std::shared_ptr<Node> b = nodes.Pick(0);
  EXPECT_EQ(nodes.Errors(), "");
  nodes.Fail(*b, 0, 1, "b: refused");
  nodes.Fail(*a, 0, 1, "a: timeout");
  nodes.Fail(*a, 5, 1, "a: reset");
  EXPECT_EQ(nodes.Errors(), "a: reset; b: refused");
  nodes.Succeed(*a);
  EXPECT_EQ(nodes.Errors(), "b: refused");
}

TEST(NodeSetTest, SetKeepsTheStateOfNodesThatStay) {
  FakeTransports fakes;
  NodeSet nodes(fakes.Factory());
  nodes.Set(Endpoints({"a", "b"}));
  const uint64_t version = nodes.version();
  std::shared_ptr<Node> a = nodes.Pick(0);
  nodes.Fail(*a, 0, 1000, "x");
  nodes.Set(Endpoints({"a", "c"}));
  EXPECT_GT(nodes.version(), version);
  EXPECT_EQ(fakes.made(), 3);  // a's transport kept, c's new.
  EXPECT_THAT(nodes.Urls(), ElementsAre("http://a:80", "http://c:80"));
  std::set<std::string> picked;
  for (int i = 0; i < 4; ++i) picked.insert(Url(nodes.Pick(10)));
  EXPECT_THAT(picked, ElementsAre("http://c:80"));  // a still backs off.
  // A node dropped meanwhile is ignored when its call reports back.
  std::shared_ptr<Node> c = nodes.Pick(10);
  nodes.Set(Endpoints({"a"}));
  nodes.Fail(*c, 10, 5, "x");
  nodes.Succeed(*c);
  EXPECT_EQ(nodes.Pick(10), nullptr);
  EXPECT_EQ(Url(nodes.Pick(1000)), "http://a:80");
}

TEST(NodeSetTest, WaitForChangeEndsOnSet) {
  FakeTransports fakes;
  NodeSet nodes(fakes.Factory());
  const uint64_t version = nodes.version();
  std::thread setter([&] { nodes.Set(Endpoints({"a"})); });
  nodes.WaitForChange(version, std::chrono::seconds(30));  // Not 30 s.
  setter.join();
  EXPECT_EQ(nodes.size(), 1u);
  nodes.WaitForChange(version, std::chrono::seconds(30));  // Already changed.
}

}  // namespace
}  // namespace snowflake::client::internal
