// Issue 9, points 1 and 2, end to end against a real snowflaked: a request
// body that never ends (an endless chunk extension or trailer) is refused
// after a bounded number of bytes with the node's memory unchanged, and a
// node whose name, region and state dir are not UTF-8 answers /v1/info.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/node_fixture.h"

namespace snowflake::testing {
namespace {

using Json = nlohmann::json;

constexpr int64_t kMiB = int64_t{1024} * 1024;
// What each attack tries to send: with no limit, the node buffers it all.
constexpr int64_t kFloodBytes = 50 * kMiB;

// A line of /proc/<pid>/status in bytes ("VmRSS", "VmHWM"); -1 if absent.
int64_t ProcStatusBytes(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      return std::stoll(line.substr(key.size() + 1)) * 1024;  // In kB.
    }
  }
  return -1;
}

struct FloodResult {
  int64_t sent = 0;     // Bytes of filler the node accepted.
  int status = 0;       // The status of an answer, 0 if none was read.
  bool closed = false;  // The node closed (or reset) the connection.
};

// Sends `head`, then up to kFloodBytes of 'a' in 64 KiB writes; stops when
// a write fails or stays blocked for 2 s (the node stopped reading). Then
// reads what the node answered, for up to 2 s.
FloodResult Flood(int port, const std::string& head) {
  FloodResult result;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return result;
  timeval timeout = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return result;
  }
  bool ok = send(fd, head.data(), head.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(head.size());
  const std::string filler(size_t{64} * 1024, 'a');
  while (ok && result.sent < kFloodBytes) {
    const ssize_t n = send(fd, filler.data(), filler.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    result.sent += n;
  }
  std::string reply;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      result.closed = true;
      break;
    }
    reply.append(buf, static_cast<size_t>(n));
  }
  if (reply.rfind("HTTP/1.", 0) == 0 && reply.size() >= 12) {
    result.status = std::stoi(reply.substr(9, 3));
  }
  close(fd);
  return result;
}

class HttpBodyTest : public ::testing::Test {
 protected:
  // Default timeouts: the flood must be stopped by a byte limit, not by the
  // 10 s header timeout.
  void SetUp() override {
    node_ = StartNode(dir_.path());
    ASSERT_TRUE(node_->ready()) << node_->Log();
  }
  void TearDown() override {
    node_->Signal(SIGTERM);
    EXPECT_EQ(node_->Wait(std::chrono::seconds(15)), 0) << node_->Log();
  }

  // Floods the node after `head` and checks that it stopped reading early,
  // kept its memory and still serves.
  void ExpectFloodRefused(const std::string& head) {
    auto r = HttpGet(node_->port(), "/v1/id");  // Warm up.
    ASSERT_TRUE(r.has_value());
    const int64_t rss_before = ProcStatusBytes(node_->pid(), "VmRSS");
    const int64_t hwm_before = ProcStatusBytes(node_->pid(), "VmHWM");
    ASSERT_GT(rss_before, 0);
    const FloodResult flood = Flood(node_->port(), head);
    const int64_t rss_after = ProcStatusBytes(node_->pid(), "VmRSS");
    const int64_t hwm_after = ProcStatusBytes(node_->pid(), "VmHWM");
    EXPECT_LT(flood.sent, kFloodBytes / 2)
        << "the node kept reading an endless request";
    EXPECT_TRUE(flood.closed || (flood.status >= 400 && flood.status < 500))
        << "status " << flood.status;
    EXPECT_LT(rss_after - rss_before, 20 * kMiB)
        << "VmRSS " << rss_before << " -> " << rss_after;
    EXPECT_LT(hwm_after - hwm_before, 20 * kMiB)
        << "VmHWM " << hwm_before << " -> " << hwm_after;
    ASSERT_TRUE(node_->running()) << node_->Log();
    r = HttpGet(node_->port(), "/v1/id");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> node_;
};

TEST_F(HttpBodyTest, EndlessChunkExtensionIsRefused) {
  ExpectFloodRefused(
      "GET /v1/id HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0;");
}

TEST_F(HttpBodyTest, EndlessTrailerIsRefused) {
  ExpectFloodRefused(
      "GET /v1/id HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\nX-Trailer: ");
}

TEST_F(HttpBodyTest, EndlessContentLengthBodyIsRefused) {
  ExpectFloodRefused(
      "POST /v1/id HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n");
}

// Issue 9 point 2: the node name, region and state dir are any bytes the
// operator gave; /v1/info must still answer valid JSON and the node live.
TEST(HttpInvalidUtf8Test, InfoAnswersWithInvalidUtf8NodeName) {
  TempDir dir;
  const std::string state_dir = dir.path() + "/state-\xff\xfe";
  ASSERT_EQ(mkdir(state_dir.c_str(), 0755), 0);
  auto node =
      StartNode(state_dir, {"--node-name", "\xff", "--region", "eu-\xc3\x28"});
  ASSERT_TRUE(node->ready()) << node->Log();
  for (int i = 0; i < 3; ++i) {
    auto r = HttpGet(node->port(), "/v1/info");
    ASSERT_TRUE(r.has_value()) << node->Log();
    EXPECT_EQ(r->status, 200) << r->body;
    Json info;
    ASSERT_NO_THROW(info = Json::parse(r->body)) << r->body;
    EXPECT_EQ(info["node"], "\xef\xbf\xbd");  // U+FFFD for the bad byte.
  }
  ASSERT_TRUE(node->running()) << node->Log();
  auto id = HttpGet(node->port(), "/v1/id");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->status, 200);
  node->Signal(SIGTERM);
  EXPECT_EQ(node->Wait(std::chrono::seconds(15)), 0) << node->Log();
}

}  // namespace
}  // namespace snowflake::testing
