// --log-format json, end to end: a real node's every log line is one JSON
// object with "ts", "level", "event" and each key=value of the message as
// its own key, whatever the message holds (quotes, backslashes, spaces).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/node_fixture.h"

namespace snowflake::testing {
namespace {

using Json = nlohmann::json;

// A loopback port that was free a moment ago: the fixture finds the port a
// node chose only in text logs.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// A static node logging JSON (and every request) on `port`; waits until
// /readyz answers 200 or the node exits.
std::unique_ptr<DaemonProcess> StartJsonNode(const std::string& dir, int port) {
  DaemonOptions options;
  options.binary = SnowflakedBinary();
  options.args = {"--state-dir",  dir,
                  "--worker-id",  "3",
                  "--threads",    "2",
                  "--listen",     "127.0.0.1:" + std::to_string(port),
                  "--log-format", "json",
                  "--access-log"};
  options.log_path = dir + "/node.log";
  options.ready_timeout = std::chrono::milliseconds(0);
  auto node = DaemonProcess::Start(options);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (node->running() && std::chrono::steady_clock::now() < deadline) {
    auto ready = HttpGet(port, "/readyz");
    if (ready && ready->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return node;
}

TEST(JsonLogTest, EveryLineIsAJsonObjectWithItsFieldsAsKeys) {
  TempDir dir;
  const int port = FreePort();
  ASSERT_NE(port, 0);
  auto node = StartJsonNode(dir.path(), port);
  ASSERT_TRUE(node->running()) << node->Log();

  // Requests whose targets the access log quotes: a quote, a backslash and
  // a space-like escape inside the value.
  const std::string tricky = "/v1/id?x=%22a\"b\\c\"";
  {
    RawHttpConnection c(port);
    ASSERT_TRUE(c.connected());
    auto r = c.Get("/v1/id");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    ASSERT_TRUE(c.Get("/v1/ids?count=3"));
    ASSERT_TRUE(c.Get("/v1/decode/not-an-id"));
    ASSERT_TRUE(c.Get(tricky));
  }
  node->Signal(SIGTERM);
  EXPECT_EQ(node->Wait(std::chrono::seconds(15)), 0) << node->Log();

  std::istringstream log(node->Log());
  std::map<std::string, std::vector<Json>> by_event;
  int lines = 0;
  for (std::string line; std::getline(log, line);) {
    if (line.empty()) continue;
    ++lines;
    Json entry;
    try {
      entry = Json::parse(line);
    } catch (const Json::exception& e) {
      ADD_FAILURE() << "not JSON (" << e.what() << "): " << line;
      continue;
    }
    if (!entry.is_object()) {
      ADD_FAILURE() << "not an object: " << line;
      continue;
    }
    EXPECT_TRUE(entry.contains("ts")) << line;
    EXPECT_TRUE(entry.contains("level")) << line;
    if (!entry.contains("event") || !entry["event"].is_string()) {
      ADD_FAILURE() << "no \"event\" key: " << line;
      continue;
    }
    by_event[entry["event"].get<std::string>()].push_back(entry);
  }
  EXPECT_GE(lines, 8);

  // Each key=value is its own key, numbers as numbers.
  ASSERT_EQ(by_event["listening"].size(), 1u) << node->Log();
  EXPECT_EQ(by_event["listening"][0]["port"], port);
  EXPECT_EQ(by_event["listening"][0]["address"], "127.0.0.1");
  ASSERT_EQ(by_event["ready"].size(), 1u);
  EXPECT_EQ(by_event["ready"][0]["worker_id"], 3);
  ASSERT_EQ(by_event["starting"].size(), 1u);
  EXPECT_EQ(by_event["starting"][0]["layout"],
            "41/10/12 unit=1ms epoch=1735689600000");
  EXPECT_EQ(by_event["starting"][0]["state_dir"], dir.path());
  ASSERT_EQ(by_event["stopped"].size(), 1u);
  EXPECT_EQ(by_event["stopped"][0]["ids_issued"], 4);
  EXPECT_EQ(by_event["stopped"][0]["level"], "info");

  // The access log keeps the target byte for byte, quotes and all.
  std::vector<std::string> targets;
  for (const Json& access : by_event["access"]) {
    if (access.value("target", std::string()) == "/readyz") continue;
    targets.push_back(access.value("target", std::string("(none)")));
    EXPECT_TRUE(access["status"].is_number()) << access.dump();
  }
  EXPECT_THAT(targets, ::testing::ElementsAre("/v1/id", "/v1/ids?count=3",
                                              "/v1/decode/not-an-id", tricky));
}

}  // namespace
}  // namespace snowflake::testing
