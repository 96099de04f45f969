#include "src/server/http_handler.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "snowflake/generator.h"
#include "snowflake/id.h"
#include "snowflake/layout.h"
#include "snowflake/status.h"
#include "src/lease/static_lease.h"
#include "testing/simulated_clock.h"

namespace snowflake {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr int64_t kStartMicros = 1767225600000LL * 1000;  // 2026-01-01.

class HttpHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "handler_test.XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto clock = std::make_unique<testing::SimulatedClock>(kStartMicros);
    clock_ = clock.get();
    NodeOptions options;
    options.name = "test-node";
    options.region = "eu";
    node_ = std::make_unique<Node>(options, std::move(clock),
                                   std::make_unique<StaticLease>(9, dir_));
    metrics_ =
        std::make_unique<Metrics>(BuildInfo{"1.2.3", "41/10/12", "static"});
    handler_ = std::make_unique<HttpHandler>(HandlerOptions{1000, "1.2.3"},
                                             *node_, *metrics_);
  }

  void TearDown() override {
    handler_.reset();
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Start() { ASSERT_TRUE(node_->Start().ok()); }

  HttpResponse Get(std::string_view target, std::string_view accept = "") {
    return handler_->Handle({"GET", target, accept});
  }

  static Json Parse(const HttpResponse& r) { return Json::parse(r.body); }

  static void ExpectError(const HttpResponse& r, int status,
                          std::string_view code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    Json json = Json::parse(r.body);
    EXPECT_EQ(json["error"]["code"], code) << r.body;
    EXPECT_FALSE(json["error"]["message"].get<std::string>().empty());
  }

  std::string dir_;
  testing::SimulatedClock* clock_ = nullptr;
  std::unique_ptr<Node> node_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<HttpHandler> handler_;
};

TEST_F(HttpHandlerTest, IdAsJsonStringDecodesToThisWorker) {
  Start();
  HttpResponse r = Get("/v1/id");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.route, Route::kId);
  Json json = Parse(r);
  ASSERT_TRUE(json["id"].is_string());
  auto id = ParseId(json["id"].get<std::string>(), Encoding::kDecimal);
  ASSERT_TRUE(id.ok());
  auto parts = node_->layout().Decompose(*id);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->worker, 9);
  EXPECT_EQ(metrics_->ids_issued(), 1u);
}

TEST_F(HttpHandlerTest, IdAsTextByAcceptOrFormat) {
  Start();
  for (auto r : {Get("/v1/id", "text/plain"), Get("/v1/id?format=text"),
                 Get("/v1/id", "application/json;q=0.5, text/plain"),
                 Get("/v1/id", "Text/Plain; charset=utf-8")}) {
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
    ASSERT_FALSE(r.body.empty());
    EXPECT_EQ(r.body.back(), '\n');
    EXPECT_TRUE(
        ParseId(r.body.substr(0, r.body.size() - 1), Encoding::kDecimal).ok());
  }
  // Explicit q values: JSON preferred over text.
  EXPECT_EQ(Get("/v1/id", "text/plain;q=0.1, application/json").content_type,
            "application/json");
  EXPECT_EQ(Get("/v1/id", "image/png").content_type, "application/json");
  EXPECT_EQ(Get("/v1/id", "text/plain;q=0").content_type, "application/json");
  EXPECT_EQ(Get("/v1/id", "text/plain;q=x, application/octet-stream;q=0.2")
                .content_type,
            "application/octet-stream");
}

TEST_F(HttpHandlerTest, IdWithEncodings) {
  Start();
  for (Encoding e : AllEncodings()) {
    const std::string name(EncodingName(e));
    HttpResponse r = Get("/v1/id?format=text&encoding=" + name);
    ASSERT_EQ(r.status, 200) << name << r.body;
    EXPECT_TRUE(ParseId(r.body.substr(0, r.body.size() - 1), e).ok()) << name;
    HttpResponse j = Get("/v1/id?encoding=" + name);
    EXPECT_TRUE(ParseId(Parse(j)["id"].get<std::string>(), e).ok()) << name;
  }
  ExpectError(Get("/v1/id?encoding=base99"), 400, "bad_request");
  ExpectError(Get("/v1/id?format=binary&encoding=hex"), 400, "bad_request");
}

TEST_F(HttpHandlerTest, IdAsBinary) {
  Start();
  HttpResponse r = Get("/v1/id", "application/octet-stream");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/octet-stream");
  EXPECT_EQ(r.body.size(), 8u);
}

TEST_F(HttpHandlerTest, BatchJsonIsStrictlyIncreasingStrings) {
  Start();
  HttpResponse r = Get("/v1/ids?count=1000");  // Max batch in this test.
  ASSERT_EQ(r.status, 200);
  Json ids = Parse(r)["ids"];
  ASSERT_EQ(ids.size(), 1000u);
  uint64_t last = 0;
  for (const Json& id : ids) {
    ASSERT_TRUE(id.is_string());
    uint64_t value = std::stoull(id.get<std::string>());
    EXPECT_GT(value, last);
    last = value;
  }
  EXPECT_EQ(metrics_->ids_issued(), 1000u);
}

TEST_F(HttpHandlerTest, BatchTextAndBinaryAgree) {
  Start();
  HttpResponse text = Get("/v1/ids?count=5&format=text");
  ASSERT_EQ(text.status, 200);
  EXPECT_EQ(std::count(text.body.begin(), text.body.end(), '\n'), 5);
  HttpResponse bin = Get("/v1/ids?count=5", "application/octet-stream");
  ASSERT_EQ(bin.status, 200);
  ASSERT_EQ(bin.body.size(), 40u);
  uint64_t previous = 0;
  for (int i = 0; i < 5; ++i) {
    uint64_t value = 0;
    for (int b = 0; b < 8; ++b) {
      value = value << 8 | static_cast<unsigned char>(bin.body[i * 8 + b]);
    }
    EXPECT_GT(value, previous);
    previous = value;
  }
  // Binary IDs come after the text ones.
  const uint64_t last_text = std::stoull(
      text.body.substr(text.body.rfind('\n', text.body.size() - 2) + 1));
  uint64_t first_bin = 0;
  for (int b = 0; b < 8; ++b) {
    first_bin = first_bin << 8 | static_cast<unsigned char>(bin.body[b]);
  }
  EXPECT_GT(first_bin, last_text);
}

TEST_F(HttpHandlerTest, BatchEncodedAndDefaultCount) {
  Start();
  Json ids = Parse(Get("/v1/ids?count=3&encoding=base58"))["ids"];
  ASSERT_EQ(ids.size(), 3u);
  for (const Json& id : ids) {
    EXPECT_TRUE(ParseId(id.get<std::string>(), Encoding::kBase58).ok());
  }
  EXPECT_EQ(Parse(Get("/v1/ids"))["ids"].size(), 1u);
}

TEST_F(HttpHandlerTest, BatchErrors) {
  Start();
  ExpectError(Get("/v1/ids?count=0"), 400, "bad_request");
  ExpectError(Get("/v1/ids?count=-5"), 400, "bad_request");
  ExpectError(Get("/v1/ids?count=abc"), 400, "bad_request");
  ExpectError(Get("/v1/ids?count=99999999999999999999999"), 400, "bad_request");
  ExpectError(Get("/v1/ids?count=1001"), 413, "too_large");
  ExpectError(Get("/v1/ids?count=2&format=xml"), 400, "bad_request");
  ExpectError(Get("/v1/ids?cout=2"), 400, "bad_request");
  ExpectError(Get("/v1/ids?count=%zz"), 400, "bad_request");
  EXPECT_EQ(metrics_->ids_issued(), 0u);
}

TEST_F(HttpHandlerTest, Decode) {
  Start();
  const uint64_t id = node_->layout().Compose({123456, 9, 77});
  for (Encoding e : AllEncodings()) {
    std::string target = "/v1/decode/" + EncodeId(id, e);
    if (e != Encoding::kDecimal) {
      target += "?encoding=" + std::string(EncodingName(e));
    }
    HttpResponse r = Get(target);
    ASSERT_EQ(r.status, 200) << target << r.body;
    Json json = Parse(r);
    EXPECT_EQ(json["id"], std::to_string(id));
    EXPECT_EQ(json["tick"], 123456);
    EXPECT_EQ(json["worker"], 9);
    EXPECT_EQ(json["sequence"], 77);
    EXPECT_EQ(json["time_ms"], kDefaultEpochMillis + 123456);
    EXPECT_EQ(json["time"], FormatRfc3339Millis(kDefaultEpochMillis + 123456));
    EXPECT_EQ(json["encodings"]["hex"], EncodeId(id, Encoding::kHex));
  }
  ExpectError(Get("/v1/decode/12x4"), 400, "bad_request");
  ExpectError(Get("/v1/decode/"), 400, "bad_request");
  ExpectError(Get("/v1/decode/18446744073709551615"), 400, "bad_request");
  ExpectError(Get("/v1/decode/1/2"), 404, "not_found");
  ExpectError(Get("/v1/decode/1?encoding=nope"), 400, "bad_request");
  ExpectError(Get("/v1/decode/%4"), 400, "bad_request");
  // Percent-encoded input is decoded.
  EXPECT_EQ(Get("/v1/decode/%31%32").status, 200);
}

TEST_F(HttpHandlerTest, InfoHealthReady) {
  // Before Start: alive but not ready, IDs refused with 503.
  EXPECT_EQ(Get("/healthz").status, 200);
  HttpResponse not_ready = Get("/readyz");
  ExpectError(not_ready, 503, "unavailable");
  EXPECT_GE(not_ready.retry_after_seconds, 1);
  ExpectError(Get("/v1/id"), 503, "unavailable");
  EXPECT_EQ(Parse(Get("/v1/info"))["ready"], false);

  Start();
  EXPECT_EQ(Get("/readyz").status, 200);
  Json info = Parse(Get("/v1/info"));
  EXPECT_EQ(info["node"], "test-node");
  EXPECT_EQ(info["region"], "eu");
  EXPECT_EQ(info["version"], "1.2.3");
  EXPECT_EQ(info["worker_id"], 9);
  EXPECT_EQ(info["ready"], true);
  EXPECT_EQ(info["layout"]["widths"], "41/10/12");
  EXPECT_EQ(info["lease"]["mode"], "static");
  EXPECT_THAT(info["hwm"]["store"].get<std::string>(),
              HasSubstr("hwm-worker-9"));
  EXPECT_GT(info["hwm"]["headroom_ms"].get<double>(), 0);
  ExpectError(Get("/v1/info?x=1"), 400, "bad_request");

  node_->BeginShutdown();
  ExpectError(Get("/readyz"), 503, "unavailable");
  ExpectError(Get("/v1/id"), 503, "unavailable");
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(HttpHandlerTest, ClockBackwardsIs503WithRetryAfter) {
  Start();
  ASSERT_EQ(Get("/v1/id").status, 200);
  clock_->AdvanceMicros(-2'500'000);  // 2.5 s back: beyond tolerance.
  HttpResponse r = Get("/v1/id");
  ExpectError(r, 503, "clock_backwards");
  EXPECT_EQ(r.retry_after_seconds, 3);
  ExpectError(Get("/v1/ids?count=10"), 503, "clock_backwards");
  EXPECT_EQ(metrics_->ids_issued(), 1u);
}

// Issue 9 point 17: the handler must reach a stopped generator (as when the
// lease is lost or the node stops while a request is in flight), and a
// stopped generator is retryable: 503 with Retry-After, and kUnavailable for
// gRPC, which takes the code as it is.
TEST_F(HttpHandlerTest, StoppedGeneratorIs503) {
  Start();
  ASSERT_EQ(Get("/v1/id").status, 200);
  std::shared_ptr<const Generation> generation = node_->generation();
  ASSERT_NE(generation, nullptr);
  Generator* generator = generation->generator.get();
  generator->Stop();
  ASSERT_EQ(node_->generation(), generation) << "the handler must reach it";
  HttpResponse r = Get("/v1/id");
  ExpectError(r, 503, "stopped");
  EXPECT_GE(r.retry_after_seconds, 1);
  ExpectError(Get("/v1/ids?count=5"), 503, "stopped");
  EXPECT_EQ(generator->Next().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(metrics_->ids_issued(), 1u);
}

// Issue 9 point 5: an I/O thread never sleeps for the clock. With
// Waiting::kNever a batch beyond one tick, or any request once the tick's
// sequence is used up, comes back as must_wait_ids (nothing sent, nothing
// counted) for the caller to run where it may wait.
TEST_F(HttpHandlerTest, RequestsThatMustWaitAreHandedBackNotSlept) {
  Start();
  HttpHandler big(HandlerOptions{100'000, "1.2.3"}, *node_, *metrics_);
  // 4,096 IDs a tick in the default layout.
  HttpResponse r =
      big.Handle({"GET", "/v1/ids?count=5000", ""}, Waiting::kNever);
  EXPECT_EQ(r.must_wait_ids, 5000);
  EXPECT_EQ(clock_->total_slept_micros(), 0);
  EXPECT_EQ(metrics_->ids_issued(), 0u);

  r = big.Handle({"GET", "/v1/ids?count=4096&format=text", ""},
                 Waiting::kNever);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.must_wait_ids, 0);
  r = big.Handle({"GET", "/v1/id", ""}, Waiting::kNever);
  EXPECT_EQ(r.must_wait_ids, 1) << "the tick is used up: " << r.body;
  EXPECT_EQ(clock_->total_slept_micros(), 0);
  EXPECT_EQ(metrics_->ids_issued(), 4096u);

  // Where waiting is allowed, the same requests are answered.
  r = big.Handle({"GET", "/v1/ids?count=5000&format=text", ""});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.must_wait_ids, 0);
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 5000);
  EXPECT_GT(clock_->total_slept_micros(), 0);
  EXPECT_EQ(Get("/v1/id").status, 200);

  // If the wait ever surfaces, it is a retryable 503.
  auto generator = Generator::Create(GeneratorOptions{}, *clock_);
  ASSERT_TRUE(generator.ok());
  ASSERT_TRUE((*generator)->TryNextRun(4096).ok());
  const absl::Status would_wait = (*generator)->TryNextRun(1).status();
  ASSERT_EQ(GetErrorKind(would_wait), ErrorKind::kWouldWait) << would_wait;
  r = ErrorResponse(would_wait);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Json::parse(r.body)["error"]["code"], "busy");
  EXPECT_GE(r.retry_after_seconds, 1);
}

// A batch the rest of the tick cannot hold is handed over before any ID is
// taken: the I/O thread used to take the rest and drop it, which wasted the
// tick's last IDs and made the next request wait too (docs/benchmarks.md,
// CPU per ID).
TEST_F(HttpHandlerTest, ABatchThatMustWaitTakesNothingFromTheTick) {
  Start();
  HttpHandler big(HandlerOptions{100'000, "1.2.3"}, *node_, *metrics_);
  HttpResponse r = big.Handle({"GET", "/v1/ids?count=4000&format=binary", ""},
                              Waiting::kNever);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.body.size(), 4000u * 8);
  r = big.Handle({"GET", "/v1/ids?count=100", ""}, Waiting::kNever);
  EXPECT_EQ(r.must_wait_ids, 100) << "96 left in the tick: " << r.body;
  // The 96 are still there, right after the 4,000th.
  r = big.Handle({"GET", "/v1/ids?count=96&format=text", ""}, Waiting::kNever);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 96);
  EXPECT_EQ(node_->layout().Decompose(std::stoull(r.body))->sequence, 4000);
  EXPECT_EQ(metrics_->ids_issued(), 4096u);
  EXPECT_EQ(clock_->total_slept_micros(), 0);
}

// The bound on IDs waiting: one second of the layout's full rate, and
// never below one largest batch.
TEST_F(HttpHandlerTest, MaxWaitingIdsIsASecondAtFullRate) {
  EXPECT_EQ(handler_->MaxWaitingIds(), 4'096'000);
  HttpHandler huge(HandlerOptions{10'000'000, "1.2.3"}, *node_, *metrics_);
  EXPECT_EQ(huge.MaxWaitingIds(), 10'000'000);
}

TEST_F(HttpHandlerTest, Metrics) {
  Start();
  Get("/v1/ids?count=7");
  metrics_->RecordRequest(Route::kIds, 200, 1000);
  HttpResponse r = Get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, HasSubstr("version=0.0.4"));
  EXPECT_THAT(r.body, HasSubstr("snowflake_ids_issued_total 7\n"));
  EXPECT_THAT(r.body, HasSubstr("snowflake_worker_id 9\n"));
  EXPECT_THAT(r.body,
              HasSubstr("snowflake_http_requests_total{transport=\"http\","
                        "route=\"/v1/ids\",code=\"200\"} 1\n"));
}

// The status page is the compiled-in HTML at / and /status, with nothing
// loaded from elsewhere; ?decode= and ?encoding= fill its decode box, other
// parameters are refused as on every route.
TEST_F(HttpHandlerTest, StatusPage) {
  HttpResponse page = Get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page.route, Route::kPage);
  EXPECT_THAT(page.body, HasSubstr("<!doctype html>"));
  EXPECT_THAT(page.body, HasSubstr("fetch(\"/v1/status\""));
  EXPECT_THAT(page.body, HasSubstr("</html>"));
  for (const char* external : {"src=", "href=\"http", "@import", "url("}) {
    EXPECT_THAT(page.body, Not(HasSubstr(external))) << external;
  }
  EXPECT_EQ(Get("/status").body, page.body);
  EXPECT_EQ(Get("/?decode=12&encoding=hex").status, 200);
  ExpectError(Get("/?x=1"), 400, "bad_request");
  ExpectError(Get("/status?decode=1&y=2"), 400, "bad_request");
  EXPECT_EQ(handler_->Handle({"HEAD", "/status", ""}).status, 200);
  ExpectError(handler_->Handle({"POST", "/", ""}), 405, "method_not_allowed");
}

// /v1/status is /v1/info's very object beside one sample a second of IDs
// issued and of the ID requests' latency.
TEST_F(HttpHandlerTest, StatusIsInfoAndTheRecentHistory) {
  Start();
  ASSERT_EQ(Get("/v1/status").status, 200);  // The history's baseline.
  ASSERT_EQ(Get("/v1/ids?count=300").status, 200);
  metrics_->RecordRequest(Route::kIds, 200, 7'000);  // The listener's part.
  clock_->AdvanceMicros(1'000'000);
  HttpResponse r = Get("/v1/status");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.route, Route::kStatus);
  Json status = Parse(r);
  Json info = Parse(Get("/v1/info"));
  // The kernel's clock figures are read afresh on each call.
  for (Json* j : {&status["info"], &info}) {
    (*j)["clock"].erase("kernel_offset_s");
    (*j)["clock"].erase("kernel_estimated_error_s");
  }
  EXPECT_EQ(status["info"], info);
  const Json& history = status["history"];
  EXPECT_EQ(history["interval_ms"], 1000);
  EXPECT_EQ(history["capacity"], 300);
  ASSERT_EQ(history["samples"].size(), 1u) << history;
  const Json& sample = history["samples"][0];
  EXPECT_EQ(sample["t_ms"], kStartMicros / 1000 + 1000);
  EXPECT_EQ(sample["ids_per_s"], 300);
  EXPECT_EQ(sample["requests_per_s"], 1);
  // 7 us falls in the (5 us, 10 us] bucket.
  EXPECT_GT(sample["p50_ms"].get<double>(), 0.005);
  EXPECT_LE(sample["p99_ms"].get<double>(), 0.010);
  ExpectError(Get("/v1/status?x=1"), 400, "bad_request");
  EXPECT_EQ(handler_->Handle({"HEAD", "/v1/status", ""}).status, 200);
}

// With --admin-listen, the page and /v1/status move to the admin port,
// which serves the operator's routes and never issues IDs; each port's
// 404 says where the route is.
TEST_F(HttpHandlerTest, AdminAndApiSurfaces) {
  Start();
  HttpHandler api(
      HandlerOptions{1000, "1.2.3", limits::kMaxWaitingMillis, Surface::kApi},
      *node_, *metrics_);
  HttpHandler admin(
      HandlerOptions{1000, "1.2.3", limits::kMaxWaitingMillis, Surface::kAdmin},
      *node_, *metrics_);
  for (const char* target : {"/", "/status", "/v1/status"}) {
    HttpResponse moved = api.Handle({"GET", target, ""});
    ExpectError(moved, 404, "not_found");
    EXPECT_THAT(moved.body, HasSubstr("--admin-listen")) << target;
    EXPECT_EQ(admin.Handle({"GET", target, ""}).status, 200) << target;
  }
  for (const char* target :
       {"/v1/info", "/metrics", "/healthz", "/readyz", "/v1/decode/12"}) {
    EXPECT_EQ(api.Handle({"GET", target, ""}).status, 200) << target;
    EXPECT_EQ(admin.Handle({"GET", target, ""}).status, 200) << target;
  }
  EXPECT_EQ(api.Handle({"GET", "/v1/id", ""}).status, 200);
  const uint64_t issued = metrics_->ids_issued();
  for (const char* target : {"/v1/id", "/v1/ids?count=3"}) {
    HttpResponse refused = admin.Handle({"GET", target, ""});
    ExpectError(refused, 404, "not_found");
    EXPECT_THAT(refused.body, HasSubstr("--listen")) << target;
  }
  EXPECT_EQ(metrics_->ids_issued(), issued);
  // Without --admin-listen, one port serves everything.
  EXPECT_EQ(Get("/").status, 200);
  EXPECT_EQ(Get("/v1/id").status, 200);
}

TEST_F(HttpHandlerTest, RoutingErrors) {
  Start();
  ExpectError(Get("/nope"), 404, "not_found");
  ExpectError(Get("/v1/id/extra"), 404, "not_found");
  ExpectError(Get("v1/id"), 400, "bad_request");
  ExpectError(Get("*"), 400, "bad_request");

  HttpResponse post = handler_->Handle({"POST", "/v1/id", ""});
  ExpectError(post, 405, "method_not_allowed");
  EXPECT_EQ(post.allow, "GET");
  HttpResponse head_id = handler_->Handle({"HEAD", "/v1/ids", ""});
  EXPECT_EQ(head_id.status, 405);
  HttpResponse del = handler_->Handle({"DELETE", "/healthz", ""});
  EXPECT_EQ(del.status, 405);
  EXPECT_EQ(del.allow, "GET, HEAD");
  EXPECT_EQ(handler_->Handle({"HEAD", "/readyz", ""}).status, 200);
  EXPECT_EQ(metrics_->ids_issued(), 0u);
}

TEST(ErrorResponseTest, Payloads) {
  HttpResponse r = ErrorResponse(MakeError(absl::StatusCode::kUnavailable,
                                           ErrorKind::kHighWaterMark,
                                           "hwm \"not\" extended"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.retry_after_seconds, 1);
  Json json = Json::parse(r.body);
  EXPECT_EQ(json["error"]["code"], "high_water_mark");
  EXPECT_EQ(json["error"]["message"], "hwm \"not\" extended");

  // Invalid UTF-8 from a client never breaks the JSON.
  HttpResponse bad = ErrorResponse(HttpError::kBadRequest, "bad \xff byte");
  EXPECT_TRUE(Json::accept(bad.body)) << bad.body;
}

// Issue 9 point 11: every error, through the one table the handler and the
// listener share: its status, code and Retry-After (503 with Retry-After
// exactly when a retry can help; nothing answers 408).
TEST(HttpErrorTableTest, EveryErrorThroughTheTable) {
  std::set<HttpError> seen;
  for (const HttpErrorInfo& info : HttpErrorTable()) {
    SCOPED_TRACE(info.code);
    EXPECT_TRUE(seen.insert(info.error).second);
    EXPECT_EQ(&HttpErrorInfoFor(info.error), &info);
    const HttpResponse r = ErrorResponse(info.error, "why", Route::kIds);
    EXPECT_EQ(r.status, info.http_status);
    EXPECT_EQ(r.route, Route::kIds);
    EXPECT_EQ(r.content_type, "application/json");
    const Json json = Json::parse(r.body);
    EXPECT_EQ(json["error"]["code"], info.code);
    EXPECT_EQ(json["error"]["message"], "why");
    EXPECT_EQ(info.retryable, r.status == 503);
    EXPECT_EQ(info.retryable, r.retry_after_seconds > 0);
    EXPECT_TRUE(r.status == 500 || r.status == 503 ||
                (r.status >= 400 && r.status < 500 && r.status != 408));
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(HttpError::kInternal) + 1);

  // Foreign statuses, by code.
  EXPECT_EQ(HttpErrorFor(absl::InvalidArgumentError("x")),
            HttpError::kBadRequest);
  EXPECT_EQ(HttpErrorFor(absl::NotFoundError("x")), HttpError::kNotFound);
  EXPECT_EQ(HttpErrorFor(absl::UnimplementedError("x")),
            HttpError::kMethodNotAllowed);
  EXPECT_EQ(HttpErrorFor(absl::UnavailableError("x")), HttpError::kUnavailable);
  EXPECT_EQ(HttpErrorFor(absl::FailedPreconditionError("x")),
            HttpError::kFailedPrecondition);
  EXPECT_EQ(HttpErrorFor(absl::OutOfRangeError("x")), HttpError::kInternal);
  EXPECT_EQ(HttpErrorFor(absl::DeadlineExceededError("x")),
            HttpError::kInternal);
  EXPECT_EQ(HttpErrorFor(absl::DataLossError("x")), HttpError::kInternal);
  // Each core kind has the row named like it, whatever the code says.
  for (ErrorKind kind :
       {ErrorKind::kClockBackwards, ErrorKind::kClockBeforeEpoch,
        ErrorKind::kTimeRangeExhausted, ErrorKind::kHighWaterMark,
        ErrorKind::kStopped}) {
    EXPECT_EQ(HttpErrorInfoFor(HttpErrorFor(MakeError(
                                   absl::StatusCode::kInternal, kind, "x")))
                  .code,
              ErrorKindName(kind));
  }
  // A retry delay lengthens Retry-After; it never makes a permanent error
  // retryable.
  EXPECT_EQ(ErrorResponse(MakeError(absl::StatusCode::kUnavailable,
                                    ErrorKind::kClockBackwards, "x", 1,
                                    /*retry_delay_ms=*/4001))
                .retry_after_seconds,
            5);
  EXPECT_EQ(ErrorResponse(MakeError(absl::StatusCode::kFailedPrecondition,
                                    ErrorKind::kTimeRangeExhausted, "x",
                                    std::nullopt, 4001))
                .retry_after_seconds,
            0);
}

// Issue 9 point 11: what no retry fixes (the layout's time range used up,
// the clock before the epoch) is a 500 without Retry-After, never a 503
// telling clients to retry forever; nothing answers 408.
TEST(ErrorResponseTest, PermanentFailuresAre500WithoutRetryAfter) {
  for (ErrorKind kind :
       {ErrorKind::kTimeRangeExhausted, ErrorKind::kClockBeforeEpoch}) {
    HttpResponse r = ErrorResponse(
        MakeError(absl::StatusCode::kFailedPrecondition, kind, "permanent"));
    EXPECT_EQ(r.status, 500) << ErrorKindName(kind);
    EXPECT_EQ(r.retry_after_seconds, 0) << ErrorKindName(kind);
    EXPECT_EQ(Json::parse(r.body)["error"]["code"], ErrorKindName(kind));
  }
  HttpResponse foreign = ErrorResponse(absl::FailedPreconditionError("x"));
  EXPECT_EQ(foreign.status, 500);
  EXPECT_EQ(foreign.retry_after_seconds, 0);
  EXPECT_EQ(ErrorResponse(absl::DeadlineExceededError("x")).status, 500);
}

// Issue 9 point 11: the drift is a measurement, not a retry hint; only a
// clock behind its last ID says how long to wait (its retry delay).
TEST(ErrorResponseTest, DriftIsNotTheRetryHint) {
  HttpResponse r = ErrorResponse(MakeError(
      absl::StatusCode::kUnavailable, ErrorKind::kHighWaterMark, "x", 7000));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.retry_after_seconds, 1);
}

// Issue 9 point 11: every error a real generator makes, through the table:
// the HTTP answer agrees with the code gRPC sends (kUnavailable: 503 with
// Retry-After; anything else: 500 without), and the JSON code is the kind.
TEST(ErrorResponseTest, EveryCoreErrorThroughTheTable) {
  const Layout layout;
  struct Case {
    ErrorKind kind;
    int64_t clock_micros;
    GeneratorOptions options;
    int64_t back_micros = 0;  // Issue one ID, then set the clock back.
    bool stop = false;
    int status;
    int64_t retry_after;
  };
  GeneratorOptions plain;
  plain.layout = layout;
  GeneratorOptions at_mark = plain;
  at_mark.high_water_mark = layout.TickAtMicros(kStartMicros);
  GeneratorOptions past_end = plain;
  past_end.first_tick = layout.max_tick() + 1;
  const Case cases[] = {
      {ErrorKind::kClockBackwards, kStartMicros, plain, 2'500'000, false, 503,
       3},
      {ErrorKind::kHighWaterMark, kStartMicros, at_mark, 0, false, 503, 1},
      {ErrorKind::kStopped, kStartMicros, plain, 0, true, 503, 1},
      {ErrorKind::kClockBeforeEpoch, 1000, plain, 0, false, 500, 0},
      {ErrorKind::kTimeRangeExhausted, kStartMicros, past_end, 0, false, 500,
       0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(ErrorKindName(c.kind));
    testing::SimulatedClock clock(c.clock_micros);
    auto generator = Generator::Create(c.options, clock);
    ASSERT_TRUE(generator.ok()) << generator.status();
    if (c.back_micros > 0) {
      ASSERT_TRUE((*generator)->Next().ok());
      clock.AdvanceMicros(-c.back_micros);
    }
    if (c.stop) (*generator)->Stop();
    const absl::Status status = (*generator)->Next().status();
    ASSERT_EQ(GetErrorKind(status), c.kind) << status;
    if (c.kind != ErrorKind::kClockBackwards) {
      EXPECT_FALSE(GetDriftMillis(status).has_value()) << status;
    }
    HttpResponse r = ErrorResponse(status);
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.retry_after_seconds, c.retry_after);
    EXPECT_EQ(Json::parse(r.body)["error"]["code"], ErrorKindName(c.kind));
    EXPECT_EQ(status.code() == absl::StatusCode::kUnavailable,
              r.retry_after_seconds > 0)
        << status;
  }
}

// Issue 9 point 2: a node name, region or state dir that is not UTF-8 (any
// bytes are accepted on the command line) must not abort /v1/info: every
// JSON answer replaces invalid bytes instead of throwing.
TEST(HttpHandlerInvalidUtf8Test, InfoWithInvalidUtf8NameRegionAndDir) {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "handler_test.\xff\xfe.XXXXXX")
          .string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl;
  NodeOptions options;
  options.name = "bad-\xff-name";
  options.region = "\xc3\x28";  // A broken two-byte sequence.
  options.cluster = "\xe2\x82";
  Node node(options, std::make_unique<testing::SimulatedClock>(kStartMicros),
            std::make_unique<StaticLease>(9, dir));
  ASSERT_TRUE(node.Start().ok());
  Metrics metrics(BuildInfo{"1.2.3", "41/10/12", "static"});
  HttpHandler handler(HandlerOptions{1000, "1.2.\xff"}, node, metrics);
  HttpResponse r;
  ASSERT_NO_THROW(r = handler.Handle({"GET", "/v1/info", ""}));
  EXPECT_EQ(r.status, 200) << r.body;
  Json info;
  ASSERT_NO_THROW(info = Json::parse(r.body)) << r.body;
  EXPECT_EQ(info["node"], "bad-\xef\xbf\xbd-name");  // U+FFFD.
  EXPECT_EQ(info["ready"], true);
  EXPECT_THAT(info["hwm"]["store"].get<std::string>(),
              HasSubstr("hwm-worker-9"));
  // The other JSON routes too.
  EXPECT_EQ(handler.Handle({"GET", "/healthz", ""}).status, 200);
  EXPECT_EQ(handler.Handle({"GET", "/v1/decode/1", ""}).status, 200);
  node.BeginShutdown();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace snowflake
