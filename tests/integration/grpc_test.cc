// The gRPC API of a live node (--grpc-listen), through a real channel and
// the generated C++ stubs: snowflake.v1.IdService, the standard health
// service, reflection, and a graceful stop with a stream open.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "snowflake/id.h"
#include "snowflake/layout.h"
#include "snowflake/v1/id_service.grpc.pb.h"
#include "testing/server_process.h"
#include "tests/integration/node_fixture.h"

namespace snowflake::testing {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kMaxBatch = 50'000;
constexpr auto kConnectTimeout = std::chrono::seconds(20);

int FreePort() {
  absl::StatusOr<std::vector<int>> ports = FreePorts(1);
  return ports.ok() ? ports->front() : 0;
}

std::shared_ptr<grpc::Channel> Connect(int port) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  channel->WaitForConnected(std::chrono::system_clock::now() + kConnectTimeout);
  return channel;
}

// A deadline for one call, so that a hung node fails the test instead of
// hanging it.
void SetDeadline(grpc::ClientContext& context,
                 std::chrono::seconds seconds = std::chrono::seconds(10)) {
  context.set_deadline(std::chrono::system_clock::now() + seconds);
}

// The trailing metadata `retry-after-ms`, or "" when absent.
std::string RetryAfter(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("retry-after-ms");
  return it == trailers.end()
             ? ""
             : std::string(it->second.data(), it->second.size());
}

// The error details: the ErrorInfo's reason and the RetryInfo's delay in ms
// (-1: none).
struct ErrorDetails {
  std::string reason;
  int64_t retry_ms = -1;
};

ErrorDetails ReadDetails(const grpc::Status& status) {
  ErrorDetails out;
  v1::ErrorStatus details;
  EXPECT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(), status.error_code());
  for (const google::protobuf::Any& any : details.details()) {
    v1::ErrorInfo info;
    v1::RetryInfo retry;
    if (any.UnpackTo(&info)) out.reason = info.reason();
    if (any.UnpackTo(&retry)) {
      out.retry_ms = retry.retry_delay().seconds() * 1000 +
                     retry.retry_delay().nanos() / 1'000'000;
    }
  }
  return out;
}

HealthCheckResponse::ServingStatus CheckHealth(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
    grpc::Status* status) {
  auto stub = Health::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(context);
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  *status = stub->Check(&context, request, &response);
  return response.status();
}

class GrpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    grpc_port_ = FreePort();
    node_ = StartNode(dir_->path(), {"--max-batch", std::to_string(kMaxBatch),
                                     "--grpc-listen",
                                     "127.0.0.1:" + std::to_string(grpc_port_)})
                .release();
    ASSERT_TRUE(node_->ready()) << node_->Log();
    channel_ = new std::shared_ptr<grpc::Channel>(Connect(grpc_port_));
  }
  static void TearDownTestSuite() {
    delete channel_;
    node_->Signal(SIGTERM);
    EXPECT_EQ(node_->Wait(std::chrono::seconds(15)), 0) << node_->Log();
    delete node_;
    delete dir_;
  }

  static std::unique_ptr<v1::IdService::Stub> Stub() {
    return v1::IdService::NewStub(*channel_);
  }

  static TempDir* dir_;
  static DaemonProcess* node_;
  static int grpc_port_;
  static std::shared_ptr<grpc::Channel>* channel_;
};
TempDir* GrpcTest::dir_ = nullptr;
DaemonProcess* GrpcTest::node_ = nullptr;
int GrpcTest::grpc_port_ = 0;
std::shared_ptr<grpc::Channel>* GrpcTest::channel_ = nullptr;

TEST_F(GrpcTest, NextIdsAreIncreasingIdsOfTheNodesWorkerAndTicks) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::NextIdsRequest request;
  request.set_count(1000);
  v1::NextIdsResponse response;
  const grpc::Status status = Stub()->NextIds(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.ids_size(), 1000);
  EXPECT_EQ(response.worker_id(), 3);
  const Layout layout;
  std::set<uint64_t> unique;
  for (int i = 0; i < response.ids_size(); ++i) {
    if (i > 0) {
      ASSERT_GT(response.ids(i), response.ids(i - 1)) << i;
    }
    unique.insert(response.ids(i));
    auto parts = layout.Decompose(response.ids(i));
    ASSERT_TRUE(parts.ok());
    EXPECT_EQ(parts->worker, 3);
    EXPECT_GE(parts->tick, response.first_tick());
    EXPECT_LE(parts->tick, response.last_tick());
  }
  EXPECT_EQ(unique.size(), 1000u);
  EXPECT_EQ(layout.Decompose(response.ids(0))->tick, response.first_tick());
  EXPECT_EQ(layout.Decompose(response.ids(999))->tick, response.last_tick());
}

TEST_F(GrpcTest, CountZeroIsInvalidArgumentNamingTheValue) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::NextIdsRequest request;  // count 0.
  v1::NextIdsResponse response;
  const grpc::Status status = Stub()->NextIds(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("count must be at least 1"));
  EXPECT_THAT(status.error_message(), HasSubstr("got 0"));
  EXPECT_EQ(ReadDetails(status).reason, "bad_request");
  EXPECT_EQ(ReadDetails(status).retry_ms, -1);  // No retry fixes it.
  EXPECT_EQ(RetryAfter(context), "");
  EXPECT_EQ(response.ids_size(), 0);
}

TEST_F(GrpcTest, CountAboveMaxBatchIsOutOfRangeNamingTheLimit) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::NextIdsRequest request;
  request.set_count(kMaxBatch + 1);
  v1::NextIdsResponse response;
  const grpc::Status status = Stub()->NextIds(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(status.error_message(),
              HasSubstr("count 50001 is above the largest batch, 50000"));
  EXPECT_EQ(ReadDetails(status).reason, "too_large");
  EXPECT_EQ(RetryAfter(context), "");
}

TEST_F(GrpcTest, DecodeRoundTripsAnIdFromNextIds) {
  auto stub = Stub();
  grpc::ClientContext next_context;
  SetDeadline(next_context);
  v1::NextIdsRequest next;
  next.set_count(1);
  v1::NextIdsResponse issued;
  ASSERT_TRUE(stub->NextIds(&next_context, next, &issued).ok());
  const uint64_t id = issued.ids(0);

  grpc::ClientContext context;
  SetDeadline(context);
  v1::DecodeRequest request;
  request.set_value(id);
  v1::DecodeResponse decoded;
  ASSERT_TRUE(stub->Decode(&context, request, &decoded).ok());
  const Layout layout;
  const IdParts parts = *layout.Decompose(id);
  EXPECT_EQ(decoded.id(), id);
  EXPECT_EQ(decoded.worker(), 3);
  EXPECT_EQ(decoded.tick(), issued.first_tick());
  EXPECT_EQ(decoded.sequence(), parts.sequence);
  EXPECT_EQ(decoded.time_ms(), layout.MillisOfTick(parts.tick));
  EXPECT_EQ(decoded.time(), FormatRfc3339Millis(decoded.time_ms()));
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_NEAR(static_cast<double>(decoded.time_ms()),
              static_cast<double>(now_ms), 60'000);
  EXPECT_EQ(decoded.region(), "");  // No region map.

  // The same ID as text, in base62, as /v1/decode takes it.
  grpc::ClientContext text_context;
  SetDeadline(text_context);
  v1::DecodeRequest text;
  text.set_text(EncodeId(id, Encoding::kBase62));
  text.set_encoding("base62");
  v1::DecodeResponse by_text;
  ASSERT_TRUE(stub->Decode(&text_context, text, &by_text).ok());
  EXPECT_EQ(by_text.id(), id);
  EXPECT_EQ(by_text.encodings().at("decimal"), std::to_string(id));

  grpc::ClientContext bad_context;
  SetDeadline(bad_context);
  v1::DecodeRequest bad;
  bad.set_text("not-an-id");
  v1::DecodeResponse none;
  EXPECT_EQ(stub->Decode(&bad_context, bad, &none).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GrpcTest, InfoSaysWhoTheNodeIs) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::InfoResponse info;
  ASSERT_TRUE(Stub()->Info(&context, v1::InfoRequest(), &info).ok());
  EXPECT_EQ(info.worker_id(), 3);
  EXPECT_TRUE(info.ready());
  EXPECT_EQ(info.not_ready_reason(), "");
  EXPECT_EQ(info.mode(), "static");
  EXPECT_EQ(info.cluster(), "default");
  EXPECT_EQ(info.layout(), Layout().ToString());
  EXPECT_FALSE(info.node().empty());
  EXPECT_FALSE(info.version().empty());
}

// Batch after batch while the client reads; once it cancels, the node ends
// the call (counted as CANCELLED) and goes on serving.
TEST_F(GrpcTest, StreamIdsDeliversBatchesUntilTheClientCancels) {
  auto stub = Stub();
  grpc::ClientContext context;
  SetDeadline(context, std::chrono::seconds(30));
  v1::StreamIdsRequest request;
  request.set_batch(500);
  auto reader = stub->StreamIds(&context, request);
  uint64_t last = 0;
  v1::NextIdsResponse batch;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(reader->Read(&batch)) << "batch " << i;
    ASSERT_EQ(batch.ids_size(), 500);
    EXPECT_EQ(batch.worker_id(), 3);
    for (uint64_t id : batch.ids()) {
      ASSERT_GT(id, last);
      last = id;
    }
  }
  context.TryCancel();
  while (reader->Read(&batch)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // The node's handler noticed and returned (counted once it has).
  const std::string cancelled =
      "snowflake_http_requests_total{transport=\"grpc\",route=\"/"
      "snowflake.v1.IdService/StreamIds\",code=\"CANCELLED\"} 1\n";
  bool counted = false;
  for (int i = 0; i < 100 && !counted; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto reply = HttpGet(node_->port(), "/metrics");
    counted = reply && reply->body.find(cancelled) != std::string::npos;
  }
  EXPECT_TRUE(counted) << "no " << cancelled << "in /metrics";

  grpc::ClientContext after;
  SetDeadline(after);
  v1::NextIdsRequest one;
  one.set_count(1);
  v1::NextIdsResponse next;
  ASSERT_TRUE(stub->NextIds(&after, one, &next).ok());
  EXPECT_GT(next.ids(0), last);
}

TEST_F(GrpcTest, HealthIsServingForTheServerAndTheIdService) {
  grpc::Status status;
  EXPECT_EQ(CheckHealth(*channel_, "", &status), HealthCheckResponse::SERVING);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(CheckHealth(*channel_, "snowflake.v1.IdService", &status),
            HealthCheckResponse::SERVING);
  EXPECT_TRUE(status.ok()) << status.error_message();
  CheckHealth(*channel_, "no.such.Service", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcTest, ReflectionListsTheIdService) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(*channel_);
  grpc::ClientContext context;
  SetDeadline(context);
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_THAT(names, ::testing::Contains("snowflake.v1.IdService"));
  EXPECT_THAT(names, ::testing::Contains("grpc.health.v1.Health"));
  while (stream->Read(&response)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
}

// One generator behind both transports: IDs taken over HTTP and gRPC at
// the same time never repeat.
TEST_F(GrpcTest, IdsOverHttpAndGrpcNeverRepeat) {
  constexpr int kRounds = 40;
  constexpr int kCount = 2000;
  std::vector<uint64_t> over_http;
  std::vector<uint64_t> over_grpc;
  std::thread http([&over_http] {
    RawHttpConnection c(node_->port());
    for (int i = 0; i < kRounds; ++i) {
      auto r = c.Get("/v1/ids?count=" + std::to_string(kCount),
                     "application/octet-stream");
      if (!r || r->status != 200) return;
      const std::vector<uint64_t> ids = DecodeBinary(r->body);
      over_http.insert(over_http.end(), ids.begin(), ids.end());
    }
  });
  auto stub = Stub();
  for (int i = 0; i < kRounds; ++i) {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::NextIdsRequest request;
    request.set_count(kCount);
    v1::NextIdsResponse response;
    ASSERT_TRUE(stub->NextIds(&context, request, &response).ok());
    over_grpc.insert(over_grpc.end(), response.ids().begin(),
                     response.ids().end());
  }
  http.join();
  ASSERT_EQ(over_http.size(), size_t{kRounds} * kCount);
  ASSERT_EQ(over_grpc.size(), size_t{kRounds} * kCount);
  std::set<uint64_t> all(over_http.begin(), over_http.end());
  all.insert(over_grpc.begin(), over_grpc.end());
  EXPECT_EQ(all.size(), over_http.size() + over_grpc.size());
}

// Starts a node that never gets ready (`args` see to it) and connects to
// its gRPC port, which it serves from the start, as HTTP.
std::unique_ptr<DaemonProcess> StartUnreadyNode(const TempDir& dir, int port,
                                                std::vector<std::string> args) {
  DaemonOptions options;
  options.binary = SnowflakedBinary();
  options.args = {"--state-dir", dir.path(), "--grpc-listen",
                  "127.0.0.1:" + std::to_string(port)};
  options.args.insert(options.args.end(), args.begin(), args.end());
  options.log_path = dir.path() + "/node.log";
  options.ready_timeout = std::chrono::milliseconds(0);  // Never ready.
  return DaemonProcess::Start(options);
}

// A node still starting (its coordinator cannot be reached) is NOT_SERVING,
// and NextIds is UNAVAILABLE with its retry delay, as /v1/ids is 503 with
// Retry-After.
TEST(GrpcNotReadyTest, StartingNodeIsNotServingAndRetryable) {
  TempDir dir;
  const int port = FreePort();
  std::unique_ptr<DaemonProcess> node =
      StartUnreadyNode(dir, port,
                       {"--coordinator", "etcd", "--etcd-endpoints",
                        "http://127.0.0.1:" + std::to_string(FreePort())});
  auto channel = Connect(port);
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY) << node->Log();

  grpc::Status status;
  EXPECT_EQ(CheckHealth(channel, "", &status),
            HealthCheckResponse::NOT_SERVING);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(CheckHealth(channel, "snowflake.v1.IdService", &status),
            HealthCheckResponse::NOT_SERVING);

  auto stub = v1::IdService::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(context);
  v1::NextIdsRequest request;
  request.set_count(10);
  v1::NextIdsResponse response;
  status = stub->NextIds(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("starting"));
  EXPECT_EQ(RetryAfter(context), "1000");
  EXPECT_EQ(ReadDetails(status).retry_ms, 1000);
  EXPECT_EQ(ReadDetails(status).reason, "unavailable");
  EXPECT_EQ(response.ids_size(), 0);

  grpc::ClientContext info_context;
  SetDeadline(info_context);
  v1::InfoResponse info;
  ASSERT_TRUE(stub->Info(&info_context, v1::InfoRequest(), &info).ok());
  EXPECT_FALSE(info.ready());
  EXPECT_EQ(info.worker_id(), -1);
  EXPECT_EQ(info.mode(), "etcd");
  EXPECT_FALSE(info.not_ready_reason().empty());
  node->Signal(SIGTERM);
  EXPECT_EQ(node->Wait(std::chrono::seconds(10)), 0) << node->Log();
}

// What no retry fixes travels as it is, without a retry delay: an epoch in
// the future (FAILED_PRECONDITION, as HTTP's 500 clock_before_epoch).
TEST(GrpcNotReadyTest, EpochInTheFutureIsFailedPreconditionWithoutRetry) {
  TempDir dir;
  const int port = FreePort();
  std::unique_ptr<DaemonProcess> node = StartUnreadyNode(
      dir, port, {"--worker-id", "3", "--epoch", "2099-01-01"});
  auto channel = Connect(port);
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY) << node->Log();
  grpc::Status status;
  EXPECT_EQ(CheckHealth(channel, "", &status),
            HealthCheckResponse::NOT_SERVING);

  auto stub = v1::IdService::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(context);
  v1::NextIdsRequest request;
  request.set_count(1);
  v1::NextIdsResponse response;
  status = stub->NextIds(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReadDetails(status).reason, "clock_before_epoch");
  EXPECT_EQ(ReadDetails(status).retry_ms, -1);
  EXPECT_EQ(RetryAfter(context), "");
}

// SIGTERM with a StreamIds and a health Watch open: the watch sees
// NOT_SERVING, the stream ends with UNAVAILABLE (retry elsewhere), and the
// process exits 0 well within the drain timeout.
TEST(GrpcShutdownTest, SigtermWithAStreamOpenEndsCleanly) {
  TempDir dir;
  const int port = FreePort();
  constexpr auto kDrain = std::chrono::seconds(8);
  std::unique_ptr<DaemonProcess> node = StartNode(
      dir.path(), {"--grpc-listen", "127.0.0.1:" + std::to_string(port),
                   "--drain-timeout-ms", "8000"});
  ASSERT_TRUE(node->ready()) << node->Log();
  auto channel = Connect(port);

  auto health = Health::NewStub(channel);
  grpc::ClientContext watch_context;
  SetDeadline(watch_context, std::chrono::seconds(30));
  auto watch = health->Watch(&watch_context, HealthCheckRequest());
  HealthCheckResponse seen;
  ASSERT_TRUE(watch->Read(&seen));
  EXPECT_EQ(seen.status(), HealthCheckResponse::SERVING);

  auto stub = v1::IdService::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(context, std::chrono::seconds(30));
  v1::StreamIdsRequest request;
  request.set_batch(100);
  auto reader = stub->StreamIds(&context, request);
  v1::NextIdsResponse batch;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader->Read(&batch));

  const auto signalled = std::chrono::steady_clock::now();
  node->Signal(SIGTERM);
  while (reader->Read(&batch)) {
  }
  const grpc::Status ended = reader->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE)
      << ended.error_message();
  EXPECT_THAT(ended.error_message(), HasSubstr("shutting down"));
  EXPECT_GT(ReadDetails(ended).retry_ms, 0);

  std::vector<HealthCheckResponse::ServingStatus> statuses;
  while (watch->Read(&seen)) statuses.push_back(seen.status());
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back(), HealthCheckResponse::NOT_SERVING);
  watch->Finish();

  EXPECT_EQ(node->Wait(kDrain + std::chrono::seconds(5)), 0) << node->Log();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, kDrain)
      << node->Log();
  EXPECT_THAT(node->Log(), HasSubstr("event=stopped"));
}

// The names of the files a process has mapped (/proc/PID/maps), one a
// line, each once.
std::string MappedFiles(pid_t pid) {
  std::istringstream maps(ReadFile("/proc/" + std::to_string(pid) + "/maps"));
  std::set<std::string> names;
  std::string line;
  while (std::getline(maps, line)) {
    const size_t slash = line.rfind('/');
    if (slash != std::string::npos) names.insert(line.substr(slash + 1));
  }
  std::string out;
  for (const std::string& name : names) out += name + "\n";
  return out;
}

// gRPC is loaded only when used (src/daemon/grpc_module.h): this suite's
// node, with --grpc-listen, maps the module and libgrpc; a node in static
// mode that serves HTTP alone maps neither, nor protobuf or OpenSSL.
TEST_F(GrpcTest, OnlyANodeThatServesGrpcLoadsIt) {
  const std::string grpc_files = MappedFiles(node_->pid());
  EXPECT_THAT(grpc_files, HasSubstr("snowflaked-grpc.so\n"));
  EXPECT_THAT(grpc_files, HasSubstr("libgrpc.so"));

  TempDir dir;
  std::unique_ptr<DaemonProcess> http_only = StartNode(dir.path());
  ASSERT_TRUE(http_only->ready()) << http_only->Log();
  const std::string files = MappedFiles(http_only->pid());
  EXPECT_THAT(files, HasSubstr("libstdc++"));  // The maps were read.
  for (const char* library :
       {"snowflaked-grpc.so", "libgrpc", "libprotobuf", "libssl"}) {
    EXPECT_THAT(files, Not(HasSubstr(library))) << library;
  }
  http_only->Signal(SIGTERM);
  EXPECT_EQ(http_only->Wait(std::chrono::seconds(10)), 0) << http_only->Log();
}

// A copy of snowflaked in `dir`/bin and, with `module`, the gRPC module in
// `dir`/lib/snowflake, as `cmake --install` lays them out. Returns the
// copy's path; fails the test if a file cannot be copied.
std::string InstallNode(const std::string& dir, bool module) {
  namespace fs = std::filesystem;
  const fs::path built = SnowflakedBinary();
  const fs::path binary = fs::path(dir) / "bin" / "snowflaked";
  std::error_code error;
  fs::create_directories(binary.parent_path(), error);
  fs::copy_file(built, binary, error);
  EXPECT_FALSE(error) << built << ": " << error.message();
  if (module) {
    const fs::path installed =
        fs::path(dir) / "lib" / "snowflake" / "snowflaked-grpc.so";
    fs::create_directories(installed.parent_path(), error);
    fs::copy_file(built.parent_path() / "snowflaked-grpc.so", installed, error);
    EXPECT_FALSE(error) << built.parent_path()
                        << "/snowflaked-grpc.so: " << error.message();
  }
  return binary;
}

// Installed, snowflaked finds its module in ../lib/snowflake and serves
// gRPC; without it, a node that needs gRPC refuses to start and says which
// file is missing and where it looked, and one in static mode without
// --grpc-listen runs.
TEST(GrpcModuleTest, InstalledNodeFindsTheModuleOrSaysItIsMissing) {
  TempDir dir;
  for (const bool module : {false, true}) {
    SCOPED_TRACE(module ? "installed with the module" : "without the module");
    const std::string prefix =
        dir.path() + (module ? "/with-module" : "/without-module");
    const std::string binary = InstallNode(prefix, module);
    const int grpc_port = FreePort();
    DaemonOptions options;
    options.binary = binary;
    options.args = {"--state-dir",   prefix + "/state",
                    "--worker-id",   "3",
                    "--grpc-listen", "127.0.0.1:" + std::to_string(grpc_port)};
    options.log_path = prefix + "/node.log";
    std::unique_ptr<DaemonProcess> node = DaemonProcess::Start(options);
    if (module) {
      ASSERT_TRUE(node->ready()) << node->Log();
      EXPECT_THAT(
          node->Log(),
          HasSubstr(prefix + "/bin/../lib/snowflake/snowflaked-grpc.so"));
      grpc::Status status;
      EXPECT_EQ(CheckHealth(Connect(grpc_port), "", &status),
                HealthCheckResponse::SERVING);
      EXPECT_TRUE(status.ok()) << status.error_message();
      node->Signal(SIGTERM);
      EXPECT_EQ(node->Wait(std::chrono::seconds(10)), 0) << node->Log();
      continue;
    }
    EXPECT_FALSE(node->ready());
    EXPECT_EQ(node->Wait(std::chrono::seconds(10)), 1) << node->Log();
    EXPECT_THAT(node->Log(), HasSubstr("cannot find snowflaked-grpc.so"));
    EXPECT_THAT(node->Log(),
                HasSubstr(prefix + "/bin/../lib/snowflake/snowflaked-grpc.so"));

    options.args.resize(4);  // Static mode, HTTP alone.
    node = DaemonProcess::Start(options);
    ASSERT_TRUE(node->ready()) << node->Log();
    node->Signal(SIGTERM);
    EXPECT_EQ(node->Wait(std::chrono::seconds(10)), 0) << node->Log();
  }
}

}  // namespace
}  // namespace snowflake::testing
