// Every route and format of a live node, over real sockets.
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "snowflake/id.h"
#include "snowflake/layout.h"
#include "tests/integration/node_fixture.h"

namespace snowflake::testing {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    node_ = StartNode(dir_->path(), {"--max-batch", "50000"}).release();
    ASSERT_TRUE(node_->ready()) << node_->Log();
  }
  static void TearDownTestSuite() {
    node_->Signal(SIGTERM);
    EXPECT_EQ(node_->Wait(std::chrono::seconds(15)), 0) << node_->Log();
    delete node_;
    delete dir_;
  }
  static int port() { return node_->port(); }

  static TempDir* dir_;
  static DaemonProcess* node_;
};
TempDir* ApiTest::dir_ = nullptr;
DaemonProcess* ApiTest::node_ = nullptr;

void ExpectError(const std::optional<HttpReply>& r, int status,
                 const std::string& code) {
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->Header("content-type"), "application/json");
  EXPECT_EQ(Json::parse(r->body)["error"]["code"], code) << r->body;
}

TEST_F(ApiTest, IdInEveryFormatAndEncoding) {
  RawHttpConnection c(port());
  auto json = c.Get("/v1/id");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 200);
  EXPECT_EQ(json->Header("content-type"), "application/json");
  const uint64_t first =
      std::stoull(Json::parse(json->body)["id"].get<std::string>());
  auto parts = Layout().Decompose(first);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->worker, 3);

  auto text = c.Get("/v1/id", "text/plain");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->Header("content-type"), "text/plain; charset=utf-8");
  EXPECT_GT(std::stoull(text->body), first);
  auto binary = c.Get("/v1/id?format=binary");
  ASSERT_TRUE(binary);
  ASSERT_EQ(binary->body.size(), 8u);
  EXPECT_GT(DecodeBinary(binary->body)[0], std::stoull(text->body));

  for (Encoding e : AllEncodings()) {
    const std::string name(EncodingName(e));
    auto r = c.Get("/v1/id?format=text&encoding=" + name);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << name;
    EXPECT_TRUE(ParseId(r->body.substr(0, r->body.size() - 1), e).ok());
  }
}

TEST_F(ApiTest, BatchesInEveryFormat) {
  RawHttpConnection c(port());
  auto json = c.Get("/v1/ids?count=1000");
  ASSERT_TRUE(json);
  ASSERT_EQ(json->status, 200);
  EXPECT_EQ(Json::parse(json->body)["ids"].size(), 1000u);
  auto text = c.Get("/v1/ids?count=10", "text/plain");
  ASSERT_TRUE(text);
  EXPECT_EQ(std::count(text->body.begin(), text->body.end(), '\n'), 10);
  auto binary = c.Get("/v1/ids?count=50000", "application/octet-stream");
  ASSERT_TRUE(binary);
  EXPECT_EQ(binary->Header("content-type"), "application/octet-stream");
  std::vector<uint64_t> ids = DecodeBinary(binary->body);
  ASSERT_EQ(ids.size(), 50000u);
  for (size_t i = 1; i < ids.size(); ++i) ASSERT_GT(ids[i], ids[i - 1]);
  auto encoded = c.Get("/v1/ids?count=3&encoding=base32");
  ASSERT_TRUE(encoded);
  const Json parsed = Json::parse(encoded->body);
  for (const Json& id : parsed["ids"]) {
    EXPECT_TRUE(ParseId(id.get<std::string>(), Encoding::kCrockford32).ok());
  }
}

// Answers the socket cannot take at once arrive whole and in order: the
// node writes what the socket takes and queues the rest. Six answers of
// about 1 MB each, pipelined to a client with a small receive window that
// reads nothing for a while, overfill the node's send buffer (4 MB at most,
// net.ipv4.tcp_wmem), so that some are cut, whatever the kernel's tuning.
TEST_F(ApiTest, AnswersLargerThanTheSocketTakesArriveWhole) {
  constexpr int kAnswers = 6;
  constexpr size_t kIds = 50000;
  RawHttpConnection c(port(), /*receive_buffer_bytes=*/4096);
  std::string requests;
  for (int i = 0; i < kAnswers; ++i) {
    requests += "GET /v1/ids?count=" + std::to_string(kIds) +
                "&format=text HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  ASSERT_TRUE(c.Send(requests));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  uint64_t last = 0;
  for (int answer = 0; answer < kAnswers; ++answer) {
    auto r = c.Read();
    ASSERT_TRUE(r) << "answer " << answer;
    ASSERT_EQ(r->status, 200) << r->body.substr(0, 200);
    std::istringstream lines(r->body);
    std::string line;
    size_t count = 0;
    while (std::getline(lines, line)) {
      uint64_t id = 0;
      const char* end = line.data() + line.size();
      const auto parsed = std::from_chars(line.data(), end, id);
      ASSERT_TRUE(parsed.ec == std::errc() && parsed.ptr == end)
          << "answer " << answer << ", line " << count << ": "
          << line.substr(0, 40);
      ASSERT_GT(id, last) << "answer " << answer << ", line " << count;
      last = id;
      ++count;
    }
    EXPECT_EQ(count, kIds) << "answer " << answer;
  }
  auto one = c.Get("/v1/id");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
}

// More pipelined requests than one connection is answered in a row (the
// rest wait their turn behind other connections) are all answered, in
// order, and another connection is answered meanwhile.
TEST_F(ApiTest, ManyPipelinedRequestsAreAnsweredInOrder) {
  constexpr int kRequests = 100;
  std::string requests;
  for (int i = 0; i < kRequests; ++i) {
    requests += "GET /v1/id?format=text HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  RawHttpConnection pipelined(port());
  RawHttpConnection other(port());
  ASSERT_TRUE(pipelined.Send(requests));
  auto health = other.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  uint64_t last = 0;
  for (int i = 0; i < kRequests; ++i) {
    auto r = pipelined.Read();
    ASSERT_TRUE(r) << "answer " << i;
    ASSERT_EQ(r->status, 200) << r->body;
    const uint64_t id = std::stoull(r->body);
    ASSERT_GT(id, last) << "answer " << i;
    last = id;
  }
}

// TCP_NODELAY of the node's end of the connection whose peer is our
// `local_port`, read from a copy of the node's socket (pidfd_getfd: the test
// started the node, so it may; glibc 2.36 declares the calls without C
// linkage, hence syscall()); nullopt, with the reason in `why`, if none
// was found.
std::optional<bool> NodeSideNoDelay(pid_t node, int local_port,
                                    std::string& why) {
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, node, 0));
  if (pidfd < 0) {
    why = std::string("pidfd_open: ") + std::strerror(errno);
    return std::nullopt;
  }
  const std::string fds = "/proc/" + std::to_string(node) + "/fd";
  DIR* dir = opendir(fds.c_str());
  std::optional<bool> found;
  why = "no socket of the node has our port as its peer";
  while (dir != nullptr && !found.has_value()) {
    const dirent* entry = readdir(dir);
    if (entry == nullptr) break;
    const int target = std::atoi(entry->d_name);
    if (entry->d_name[0] == '.') continue;
    const int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, target, 0));
    if (fd < 0) {
      why = std::string("pidfd_getfd: ") + std::strerror(errno);
      continue;
    }
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0 &&
        peer.sin_family == AF_INET && ntohs(peer.sin_port) == local_port) {
      int on = 0;
      socklen_t on_len = sizeof(on);
      if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &on_len) == 0) {
        found = on != 0;
      }
    }
    close(fd);
  }
  if (dir != nullptr) closedir(dir);
  close(pidfd);
  return found;
}

// A large answer leaves whole: with Nagle's algorithm on the node's socket,
// the last segment of a batch waited for the client's delayed ACK, and about
// one batch of 65,536 IDs in thirty took 40 ms more than the 16 ms the
// clock needs.
TEST_F(ApiTest, AnswersAreSentWithoutNagleDelay) {
  RawHttpConnection c(port());
  auto r = c.Get("/v1/id");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  std::string why;
  const std::optional<bool> no_delay =
      NodeSideNoDelay(node_->pid(), c.local_port(), why);
  ASSERT_TRUE(no_delay.has_value()) << why;
  EXPECT_TRUE(*no_delay) << "TCP_NODELAY is off on the node's socket";
}

TEST_F(ApiTest, DecodeInfoHealthReadyMetrics) {
  RawHttpConnection c(port());
  const uint64_t id = Layout().Compose({1000, 3, 5});
  auto decoded = c.Get("/v1/decode/" + EncodeId(id, Encoding::kBase62) +
                       "?encoding=base62");
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->status, 200) << decoded->body;
  Json d = Json::parse(decoded->body);
  EXPECT_EQ(d["id"], std::to_string(id));
  EXPECT_EQ(d["worker"], 3);
  EXPECT_EQ(d["sequence"], 5);
  EXPECT_EQ(d["time"], "2025-01-01T00:00:01.000Z");

  auto info = c.Get("/v1/info");
  ASSERT_TRUE(info);
  Json i = Json::parse(info->body);
  EXPECT_EQ(i["worker_id"], 3);
  EXPECT_EQ(i["ready"], true);
  EXPECT_EQ(i["lease"]["mode"], "static");

  EXPECT_EQ(c.Get("/healthz")->status, 200);
  EXPECT_EQ(c.Get("/readyz")->status, 200);
  EXPECT_EQ(c.Get("/readyz", "", "HEAD")->status, 200);
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("snowflake_worker_id 3\n"));
}

TEST_F(ApiTest, ErrorsForBadInput) {
  RawHttpConnection c(port());
  ExpectError(c.Get("/nope"), 404, "not_found");
  auto post = c.Get("/v1/ids?count=1", "", "POST");
  ExpectError(post, 405, "method_not_allowed");
  EXPECT_EQ(post->Header("allow"), "GET");
  ExpectError(c.Get("/v1/ids?count=50001"), 413, "too_large");
  ExpectError(c.Get("/v1/ids?count=0"), 400, "bad_request");
  ExpectError(c.Get("/v1/ids?count=ten"), 400, "bad_request");
  ExpectError(c.Get("/v1/ids?count=%G1"), 400, "bad_request");
  ExpectError(c.Get("/v1/id?format=yaml"), 400, "bad_request");
  ExpectError(c.Get("/v1/id?encoding=base64"), 400, "bad_request");
  ExpectError(c.Get("/v1/decode/notanid"), 400, "bad_request");
  ExpectError(c.Get("/v1/decode/zz?encoding=hex"), 400, "bad_request");
  // The connection survived every error above (keep-alive).
  EXPECT_EQ(c.Get("/v1/id")->status, 200);
}

// Issue 9 point 11: a layout whose time range is used up is a permanent
// failure: 500 without Retry-After (a 503 with Retry-After would have every
// client retry for ever); a malformed request gets the same table's 400.
TEST(ApiErrorTableTest, PermanentFailureIs500WithoutRetryAfter) {
  TempDir dir;
  auto node = StartNode(dir.path(), {"--layout", "20/10/12"});
  ASSERT_TRUE(node->ready()) << node->Log();
  RawHttpConnection c(node->port());
  auto r = c.Get("/v1/id");
  ExpectError(r, 500, "time_range_exhausted");
  EXPECT_EQ(r->Header("retry-after"), "") << r->body;
  auto bad = c.Get("/v1/ids?count=0");
  ExpectError(bad, 400, "bad_request");
  EXPECT_EQ(bad->Header("retry-after"), "");
  node->Signal(SIGTERM);
  EXPECT_EQ(node->Wait(std::chrono::seconds(15)), 0) << node->Log();
}

}  // namespace
}  // namespace snowflake::testing
