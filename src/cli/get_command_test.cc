// `snowflake get` without a cluster: every flag error, a bad endpoint, and a
// cluster that cannot be reached failing within the deadline. Against real
// nodes: tests/integration/client_test.cc.
#include "src/cli/get_command.h"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/cli/cli.h"
#include "testing/simulated_clock.h"

namespace snowflake::cli {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result Snowflake(const std::vector<std::string>& args) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  Io io{in, out, err};
  snowflake::testing::SimulatedClock clock(1'735'689'600'000'000);
  GetCommand get;
  ExtraCommand* const extra[] = {&get};
  Result result;
  result.code = RunCli(args, clock, io, extra);
  result.out = out.str();
  result.err = err.str();
  return result;
}

// A usage error: exit 2, one line, naming `culprit`.
void ExpectUsageError(const std::vector<std::string>& args,
                      const std::string& culprit) {
  const Result r = Snowflake(args);
  EXPECT_EQ(r.code, kExitUsage) << r.err;
  EXPECT_THAT(r.err, StartsWith("snowflake: get: "));
  EXPECT_THAT(r.err, HasSubstr(culprit));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.out, IsEmpty());
}

constexpr char kNode[] = "http://127.0.0.1:1";

TEST(GetCommandTest, HelpListsTheFlags) {
  const Result r = Snowflake({"get", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, AllOf(HasSubstr("-n,--count"), HasSubstr("--endpoints"),
                           HasSubstr("--etcd"), HasSubstr("--zookeeper"),
                           HasSubstr("--cluster"), HasSubstr("--format"),
                           HasSubstr("--no-prefetch"), HasSubstr("--transport"),
                           HasSubstr("grpc://HOST:PORT"),
                           HasSubstr("--deadline-ms"), HasSubstr("Example:")));
  const Result top = Snowflake({"--help"});
  EXPECT_THAT(top.out, HasSubstr("get"));
}

TEST(GetCommandTest, FlagErrorsNameTheFlag) {
  ExpectUsageError({"get", "-n", "0", "--endpoints", kNode},
                   "-n: must be 1 to");
  ExpectUsageError({"get", "-n", "-3", "--endpoints", kNode}, "got -3");
  ExpectUsageError({"get", "-n", "100000001", "--endpoints", kNode},
                   "got 100000001");
  ExpectUsageError({"get", "-n", "ten", "--endpoints", kNode}, "--count");
  ExpectUsageError({"get", "--endpoints", kNode, "--format", "hex"},
                   "--format: decimal or binary, got \"hex\"");
  ExpectUsageError({"get", "--endpoints", kNode, "--transport", "udp"},
                   "--transport: http or grpc, got \"udp\"");
  ExpectUsageError({"get", "--endpoints", kNode, "--deadline-ms", "0"},
                   "--deadline-ms: must be positive, got 0");
  ExpectUsageError({"get"}, "give the nodes (--endpoints");
  ExpectUsageError({"get", "--endpoints", kNode, "--etcd", "http://e:2379"},
                   "give one way to find the nodes");
  ExpectUsageError({"get", "--etcd", "http://e:2379", "--zookeeper", "z:2181"},
                   "--zookeeper");
  ExpectUsageError({"get", "--etcd", "http://e:2379", "--cluster", "a/b"},
                   "--cluster");
  ExpectUsageError({"get", "--etcd", "http://e:2379", "--prefix", "x"},
                   "--prefix");
  ExpectUsageError({"get", "--zookeeper", "z:2181", "--user", "u"}, "etcd's");
  ExpectUsageError({"get", "--endpoints", kNode, "--no-such-flag"},
                   "--no-such-flag");
}

TEST(GetCommandTest, ABadEndpointIsAUsageErrorNamingIt) {
  ExpectUsageError({"get", "--endpoints", "http://127.0.0.1:1,garbage"},
                   "endpoint \"garbage\": expected http://HOST:PORT");
  ExpectUsageError({"get", "--endpoints", "http://h:99999"},
                   "\"http://h:99999\"");
  ExpectUsageError({"get", "--endpoints", "grpcs://h:1"},
                   "scheme \"grpcs\" is not supported");
}

TEST(GetCommandTest, NoNodeToAskFailsWithinTheDeadline) {
  for (const char* prefetch : {"", "--no-prefetch"}) {
    std::vector<std::string> args = {
        "get", "-n", "3", "--endpoints", kNode, "--deadline-ms", "300"};
    if (*prefetch != '\0') args.push_back(prefetch);
    const auto start = std::chrono::steady_clock::now();
    const Result r = Snowflake(args);
    EXPECT_LT(std::chrono::steady_clock::now() - start,
              std::chrono::seconds(2));
    EXPECT_EQ(r.code, kExitBadData);
    EXPECT_THAT(r.err, AllOf(StartsWith("snowflake: get: after 0 IDs: "),
                             HasSubstr("http://127.0.0.1:1: cannot connect")));
    EXPECT_THAT(r.out, IsEmpty());
  }
}

TEST(GetCommandTest, NoGrpcNodeToAskFailsWithinTheDeadlineNamingIt) {
  const auto start = std::chrono::steady_clock::now();
  const Result r = Snowflake({"get", "-n", "3", "--endpoints",
                              "grpc://127.0.0.1:1", "--deadline-ms", "300"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(r.code, kExitBadData);
  EXPECT_THAT(r.err, AllOf(StartsWith("snowflake: get: after 0 IDs: "),
                           HasSubstr("node grpc://127.0.0.1:1")));
  EXPECT_THAT(r.out, IsEmpty());
}

TEST(GetCommandTest, AnUnreachableCoordinatorIsBadData) {
  const Result r = Snowflake({"get", "--etcd", "http://127.0.0.1:1",
                              "--cluster", "prod", "--timeout-ms", "300"});
  EXPECT_EQ(r.code, kExitBadData);
  EXPECT_THAT(r.err,
              AllOf(StartsWith("snowflake: get: cannot find the nodes: "),
                    HasSubstr("cluster \"prod\"")));
}

}  // namespace
}  // namespace snowflake::cli
