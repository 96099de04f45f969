#include "src/server/http_handler.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"
#include "snowflake/id.h"
#include "snowflake/status.h"
#include "src/base/strings.h"
#include "src/server/cluster_status.h"
#include "src/server/request_target.h"
#include "src/server/status_page.h"

namespace snowflake {
namespace {

using base::Cat;

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kText = "text/plain; charset=utf-8";
constexpr std::string_view kBinary = "application/octet-stream";
constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::string_view kPrometheus =
    "text/plain; version=0.0.4; charset=utf-8";

constexpr HttpErrorInfo kErrorTable[] = {
    {HttpError::kBadRequest, 400, "bad_request", false, 0},
    {HttpError::kNotFound, 404, "not_found", false, 0},
    {HttpError::kMethodNotAllowed, 405, "method_not_allowed", false, 0},
    {HttpError::kBatchTooLarge, 413, "too_large", false, 0},
    {HttpError::kBodyNotAllowed, 413, "body_not_allowed", false, 0},
    {HttpError::kHeaderTooLarge, 431, "header_too_large", false, 0},
    {HttpError::kUnavailable, 503, "unavailable", true, 1},
    {HttpError::kClockBackwards, 503, "clock_backwards", true, 1},
    {HttpError::kHighWaterMark, 503, "high_water_mark", true, 1},
    {HttpError::kStopped, 503, "stopped", true, 1},
    {HttpError::kBusy, 503, "busy", true, 1},
    {HttpError::kClockBeforeEpoch, 500, "clock_before_epoch", false, 0},
    {HttpError::kTimeRangeExhausted, 500, "time_range_exhausted", false, 0},
    {HttpError::kFailedPrecondition, 500, "failed_precondition", false, 0},
    {HttpError::kInternal, 500, "internal", false, 0},
};

constexpr bool InEnumOrder() {
  for (size_t i = 0; i < std::size(kErrorTable); ++i) {
    if (static_cast<size_t>(kErrorTable[i].error) != i) return false;
  }
  return std::size(kErrorTable) ==
         static_cast<size_t>(HttpError::kInternal) + 1;
}
static_assert(InEnumOrder(), "one row per HttpError, in enum order");

// The row of each core kind (kNone: map by code).
std::optional<HttpError> HttpErrorOfKind(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone:
      return std::nullopt;
    case ErrorKind::kClockBackwards:
      return HttpError::kClockBackwards;
    case ErrorKind::kClockBeforeEpoch:
      return HttpError::kClockBeforeEpoch;
    case ErrorKind::kTimeRangeExhausted:
      return HttpError::kTimeRangeExhausted;
    case ErrorKind::kHighWaterMark:
      return HttpError::kHighWaterMark;
    case ErrorKind::kStopped:
      return HttpError::kStopped;
    case ErrorKind::kWouldWait:
      return HttpError::kBusy;
  }
  return HttpError::kInternal;
}

// Not an answer: the caller runs the request again where it may wait.
HttpResponse MustWait(int64_t count, Route route) {
  HttpResponse response;
  response.route = route;
  response.must_wait_ids = count;
  return response;
}

enum class Format { kJson, kText, kBinary };

// ?format= wins; else the Accept type with the highest q we can serve
// (ties: the first listed); else JSON.
absl::StatusOr<Format> ChooseFormat(const RequestTarget& target,
                                    std::string_view accept) {
  if (auto format = target.Get("format")) {
    if (*format == "json") return Format::kJson;
    if (*format == "text") return Format::kText;
    if (*format == "binary") return Format::kBinary;
    return absl::InvalidArgumentError(
        Cat("unknown format \"", *format, "\": use json, text or binary"));
  }
  // Parsed on every request, so without allocating: no Accept (as from
  // most API clients) costs nothing.
  Format best = Format::kJson;
  double best_q = -1;
  for (std::string_view items = accept; !items.empty();) {
    std::string_view params = base::TakePiece(items, ',');
    const std::string_view type = base::Trim(base::TakePiece(params, ';'));
    double q = 1;
    while (!params.empty()) {
      std::string_view param = base::Trim(base::TakePiece(params, ';'));
      if (param.starts_with("q=")) {
        param.remove_prefix(2);
        auto [ptr, ec] =
            std::from_chars(param.data(), param.data() + param.size(), q);
        if (ec != std::errc() || ptr != param.data() + param.size()) q = 0;
      }
    }
    const auto is = [type](std::string_view name) {
      return base::EqualsIgnoringCase(type, name);
    };
    std::optional<Format> format;
    if (is("application/json") || is("*/*") || is("application/*")) {
      format = Format::kJson;
    } else if (is("text/plain") || is("text/*")) {
      format = Format::kText;
    } else if (is("application/octet-stream")) {
      format = Format::kBinary;
    }
    if (format && q > 0 && q > best_q) {
      best = *format;
      best_q = q;
    }
  }
  return best;
}

absl::StatusOr<Encoding> ChooseEncoding(const RequestTarget& target) {
  auto name = target.Get("encoding");
  if (!name) return Encoding::kDecimal;
  return ParseEncodingName(*name);
}

// Rejects query parameters other than `allowed`, so typos are not ignored.
absl::Status CheckParams(const RequestTarget& target,
                         std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : target.query) {
    bool known = false;
    for (std::string_view name : allowed) known = known || key == name;
    if (!known) {
      return absl::InvalidArgumentError(
          Cat("unknown query parameter \"", key, "\""));
    }
  }
  return absl::OkStatus();
}

// The most one decimal ID takes in a body: ,"<20 digits>" in JSON,
// <20 digits>\n in text.
constexpr size_t kMostDecimalChars = 23;

// Appends the IDs of `run` to `body` as `format` asks; `first`: they are
// the body's first IDs (no comma before them in JSON). Binary and decimal
// IDs are written in place into room made once per run: one append per ID
// cost more than making the ID (docs/benchmarks.md, CPU per ID).
void AppendRun(std::string& body, const IdRun& run, Format format,
               Encoding encoding, bool first) {
  const size_t at = body.size();
  if (format == Format::kBinary) {
    body.resize(at + size_t{run.count} * 8);
    char* out = body.data() + at;
    for (uint32_t i = 0; i < run.count; ++i, out += 8) {
      uint64_t id = run.first + i;
      if constexpr (std::endian::native == std::endian::little) {
        id = __builtin_bswap64(id);
      }
      std::memcpy(out, &id, 8);
    }
    return;
  }
  const bool json = format == Format::kJson;
  if (encoding == Encoding::kDecimal) {
    body.resize(at + size_t{run.count} * kMostDecimalChars);
    char* out = body.data() + at;
    char* const end = body.data() + body.size();
    for (uint32_t i = 0; i < run.count; ++i) {
      if (json) {
        if (!first || i > 0) *out++ = ',';
        *out++ = '"';
      }
      out = std::to_chars(out, end, run.first + i).ptr;
      *out++ = json ? '"' : '\n';
    }
    body.resize(static_cast<size_t>(out - body.data()));
    return;
  }
  for (uint32_t i = 0; i < run.count; ++i) {
    if (json) {
      if (!first || i > 0) body += ',';
      body += '"';
    }
    body += EncodeId(run.first + i, encoding);
    body += json ? '"' : '\n';
  }
}

HttpResponse Ok(std::string_view content_type, std::string body, Route route) {
  HttpResponse response;
  response.content_type = content_type;
  response.body = std::move(body);
  response.route = route;
  return response;
}

// Every JSON the handler writes goes through here: invalid UTF-8 (from a
// client, or an operator's node name, region or state dir) is replaced by
// U+FFFD instead of throwing.
std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

HttpResponse JsonOk(const nlohmann::json& json, Route route) {
  return Ok(kJson, Dump(json), route);
}

}  // namespace

std::span<const HttpErrorInfo> HttpErrorTable() { return kErrorTable; }

const HttpErrorInfo& HttpErrorInfoFor(HttpError error) {
  return kErrorTable[static_cast<size_t>(error)];
}

HttpError HttpErrorFor(const absl::Status& status) {
  if (auto error = HttpErrorOfKind(GetErrorKind(status))) return *error;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return HttpError::kBadRequest;
    case absl::StatusCode::kNotFound:
      return HttpError::kNotFound;
    case absl::StatusCode::kUnimplemented:
      return HttpError::kMethodNotAllowed;
    case absl::StatusCode::kUnavailable:
      return HttpError::kUnavailable;
    case absl::StatusCode::kFailedPrecondition:
      return HttpError::kFailedPrecondition;
    default:
      return HttpError::kInternal;
  }
}

HttpResponse ErrorResponse(HttpError error, std::string_view message,
                           Route route) {
  const HttpErrorInfo& info = HttpErrorInfoFor(error);
  nlohmann::json body = {{"error",
                          {{"code", info.code},
                           {"message", nlohmann::json(std::string(message))}}}};
  HttpResponse response;
  response.status = info.http_status;
  response.content_type = kJson;
  response.body = Dump(body);
  response.route = route;
  if (info.retryable) response.retry_after_seconds = info.retry_after_seconds;
  return response;
}

HttpResponse ErrorResponse(const absl::Status& status, Route route) {
  HttpResponse response = ErrorResponse(HttpErrorFor(status),
                                        base::StdView(status.message()), route);
  if (response.retry_after_seconds > 0) {
    const int64_t delay_ms = GetRetryDelayMillis(status).value_or(0);
    response.retry_after_seconds =
        std::max(response.retry_after_seconds, (delay_ms + 999) / 1000);
  }
  return response;
}

HttpHandler::HttpHandler(HandlerOptions options, Node& node, Metrics& metrics)
    : options_(std::move(options)), node_(node), metrics_(metrics) {}

namespace {

struct RouteSpec {
  Route route;
  bool allows_head;  // ID routes do not: a HEAD would waste IDs.
};

// Path -> route; nullopt for unknown paths. Sets `decode_arg` for
// /v1/decode/<id>.
std::optional<RouteSpec> Match(std::string_view path,
                               std::string_view& decode_arg) {
  if (path == "/v1/id") return RouteSpec{Route::kId, false};
  if (path == "/v1/ids") return RouteSpec{Route::kIds, false};
  if (path == "/v1/info") return RouteSpec{Route::kInfo, true};
  if (path == "/healthz") return RouteSpec{Route::kHealthz, true};
  if (path == "/readyz") return RouteSpec{Route::kReadyz, true};
  if (path == "/metrics") return RouteSpec{Route::kMetrics, true};
  if (path == "/v1/status") return RouteSpec{Route::kStatus, true};
  if (path == "/" || path == "/status") return RouteSpec{Route::kPage, true};
  constexpr std::string_view kDecode = "/v1/decode/";
  if (path.starts_with(kDecode) &&
      path.find('/', kDecode.size()) == std::string_view::npos) {
    decode_arg = path.substr(kDecode.size());
    return RouteSpec{Route::kDecode, true};
  }
  return std::nullopt;
}

// Refuses (404) a route this handler's surface does not serve, saying
// which port does.
absl::Status CheckSurface(Surface surface, Route route) {
  const bool operator_route = route == Route::kPage || route == Route::kStatus;
  // /v1/decode too: the page's decode box asks it.
  const bool admin_route = operator_route || route == Route::kInfo ||
                           route == Route::kDecode ||
                           route == Route::kMetrics ||
                           route == Route::kHealthz || route == Route::kReadyz;
  if (surface == Surface::kApi && operator_route) {
    return absl::NotFoundError(
        Cat(RouteName(route),
            " is served on the admin listener (--admin-listen), not on this "
            "port"));
  }
  if (surface == Surface::kAdmin && !admin_route) {
    return absl::NotFoundError(
        Cat(RouteName(route),
            " is not served on the admin listener: use the main port "
            "(--listen); here: /, /status, /v1/status, /v1/info, /v1/decode, "
            "/metrics, /healthz, /readyz"));
  }
  return absl::OkStatus();
}

}  // namespace

HttpResponse HttpHandler::Handle(const HttpRequest& request,
                                 Waiting waiting) const {
  auto target = ParseRequestTarget(request.target);
  if (!target.ok()) return ErrorResponse(target.status());
  std::string_view decode_arg;
  const std::optional<RouteSpec> spec = Match(target->path, decode_arg);
  if (!spec) {
    return ErrorResponse(
        HttpError::kNotFound,
        Cat("no route for ", target->path.substr(0, 200),
            "; routes: /v1/id, /v1/ids, /v1/decode/<id>, /v1/info, "
            "/v1/status, /healthz, /readyz, /metrics, / (the status page)"));
  }
  const Route route = spec->route;
  if (auto s = CheckSurface(options_.surface, route); !s.ok()) {
    return ErrorResponse(s, route);
  }
  const bool method_ok = request.method == "GET" ||
                         (spec->allows_head && request.method == "HEAD");
  if (!method_ok) {
    HttpResponse response =
        ErrorResponse(HttpError::kMethodNotAllowed,
                      Cat("method ", request.method.substr(0, 32),
                          " not allowed on ", RouteName(route)),
                      route);
    response.allow = spec->allows_head ? "GET, HEAD" : "GET";
    return response;
  }

  switch (route) {
    case Route::kId:
    case Route::kIds: {
      const bool batch = route == Route::kIds;
      if (auto s = CheckParams(
              *target,
              batch ? std::initializer_list<std::string_view>{"count", "format",
                                                              "encoding"}
                    : std::initializer_list<std::string_view>{"format",
                                                              "encoding"});
          !s.ok()) {
        return ErrorResponse(s, route);
      }
      int64_t count = 1;
      if (batch) {
        if (auto text = target->Get("count")) {
          if (!base::ParseInt(*text, count) || count < 1) {
            return ErrorResponse(
                absl::InvalidArgumentError(
                    Cat("count must be a whole number >= 1, got \"",
                        text->substr(0, 32), "\"")),
                route);
          }
        }
        if (count > options_.max_batch) {
          return ErrorResponse(
              HttpError::kBatchTooLarge,
              Cat("count ", count, " is above the largest batch, ",
                  options_.max_batch),
              route);
        }
      }
      return IssueIds(*target, request.accept, count, route, waiting);
    }
    case Route::kDecode:
      return Decode(*target, decode_arg);
    case Route::kInfo:
      if (auto s = CheckParams(*target, {}); !s.ok()) {
        return ErrorResponse(s, route);
      }
      return Info();
    case Route::kHealthz:
      return JsonOk({{"status", "alive"}}, route);
    case Route::kReadyz: {
      if (auto s = node_.CheckReady(); !s.ok()) {
        return ErrorResponse(s, route);
      }
      return JsonOk({{"status", "ready"}}, route);
    }
    case Route::kMetrics:
      return Ok(kPrometheus,
                metrics_.Render(node_.Status(), internal::ReadProcessStats()),
                route);
    case Route::kStatus:
      if (auto s = CheckParams(*target, {}); !s.ok()) {
        return ErrorResponse(s, route);
      }
      return StatusReport();
    case Route::kPage:
      // ?decode=<id>&encoding=<name> fill the page's decode box on load.
      if (auto s = CheckParams(*target, {"decode", "encoding"}); !s.ok()) {
        return ErrorResponse(s, route);
      }
      return Ok(kHtml, std::string(StatusPageHtml()), route);
    case Route::kOther:
      break;
  }
  return ErrorResponse(absl::InternalError("unrouted request"), route);
}

HttpResponse HttpHandler::IssueIds(const RequestTarget& target,
                                   std::string_view accept, int64_t count,
                                   Route route, Waiting waiting) const {
  auto format = ChooseFormat(target, accept);
  if (!format.ok()) return ErrorResponse(format.status(), route);
  auto encoding = ChooseEncoding(target);
  if (!encoding.ok()) return ErrorResponse(encoding.status(), route);
  if (*format == Format::kBinary && *encoding != Encoding::kDecimal) {
    return ErrorResponse(
        absl::InvalidArgumentError(
            "encoding applies to json and text; binary is always big-endian "
            "64-bit"),
        route);
  }
  // The node may retire its generation at any moment (lease lost): the one
  // held here stays alive but refuses.
  auto issuing = node_.IssuingGeneration();
  if (!issuing.ok()) return ErrorResponse(issuing.status(), route);
  const std::shared_ptr<const Generation> generation = *std::move(issuing);

  // More than a tick holds always waits for the clock: hand it over before
  // taking anything.
  const bool may_wait = waiting == Waiting::kAllowed;
  if (!may_wait && count > (int64_t{1} << node_.layout().sequence_bits())) {
    return MustWait(count, route);
  }

  const bool single = route == Route::kId;
  std::string body;
  switch (*format) {
    case Format::kBinary:
      body.reserve(count * 8);
      break;
    case Format::kJson:
      body.reserve(count * kMostDecimalChars + 16);
      body += single ? "{\"id\":" : "{\"ids\":[";
      break;
    case Format::kText:
      body.reserve(count * kMostDecimalChars);
      break;
  }
  int64_t issued = 0;
  while (issued < count) {
    const uint32_t want =
        static_cast<uint32_t>(std::min<int64_t>(count - issued, 1 << 30));
    // Without waiting, all or nothing: the I/O thread takes the whole batch
    // from this tick or hands it over before taking any.
    auto run = may_wait ? generation->generator->NextRun(want)
                        : generation->generator->TryNextRun(want, want);
    if (!run.ok()) {
      if (!may_wait && GetErrorKind(run.status()) == ErrorKind::kWouldWait) {
        return MustWait(count, route);
      }
      // IDs of earlier runs are abandoned: never sent, never reissued.
      return ErrorResponse(run.status(), route);
    }
    AppendRun(body, *run, *format, *encoding, issued == 0);
    issued += run->count;
  }
  if (!node_.StillIssuing(*generation)) {
    // The worker ID was lost while these were taken: drop them (they are
    // never issued again) rather than hand out IDs of a claim now gone.
    return ErrorResponse(
        absl::UnavailableError(
            "node lost its worker ID while issuing; retry (another node, or "
            "this one once it has acquired again)"),
        route);
  }
  if (*format == Format::kJson) body += single ? "}\n" : "]}\n";
  metrics_.AddIdsIssued(static_cast<uint64_t>(count));
  return Ok(*format == Format::kJson   ? kJson
            : *format == Format::kText ? kText
                                       : kBinary,
            std::move(body), route);
}

HttpResponse HttpHandler::Decode(const RequestTarget& target,
                                 std::string_view text) const {
  const Route route = Route::kDecode;
  if (auto s = CheckParams(target, {"encoding"}); !s.ok()) {
    return ErrorResponse(s, route);
  }
  auto encoding = ChooseEncoding(target);
  if (!encoding.ok()) return ErrorResponse(encoding.status(), route);
  auto id = ParseId(text, *encoding);
  if (!id.ok()) return ErrorResponse(id.status(), route);
  const Layout& layout = node_.layout();
  auto parts = layout.Decompose(*id);
  if (!parts.ok()) return ErrorResponse(parts.status(), route);
  const int64_t millis = layout.MillisOfTick(parts->tick);
  nlohmann::json encodings = nlohmann::json::object();
  for (Encoding e : AllEncodings()) {
    encodings[std::string(EncodingName(e))] = EncodeId(*id, e);
  }
  return JsonOk({{"id", Cat(*id)},
                 {"time_ms", millis},
                 {"time", FormatRfc3339Millis(millis)},
                 {"tick", parts->tick},
                 {"worker", parts->worker},
                 {"sequence", parts->sequence},
                 {"layout", layout.ToString()},
                 {"encodings", encodings}},
                route);
}

int64_t HttpHandler::MaxWaitingIds() const {
  const Layout& layout = node_.layout();
  const int64_t ticks =
      std::max<int64_t>(options_.max_waiting_millis / layout.unit_millis(), 1);
  const int64_t ids_per_tick = int64_t{1} << layout.sequence_bits();
  // Saturates rather than overflows for the widest sequences.
  const int64_t at_full_rate =
      ticks > INT64_MAX / ids_per_tick ? INT64_MAX : ticks * ids_per_tick;
  return std::max(at_full_rate, options_.max_batch);
}

HttpResponse HttpHandler::StatusReport() const {
  HttpResponse info = Info();
  // The node's clock, as /v1/info's clock.now_ms, so both agree.
  const int64_t now_ms = node_.Status().now_micros / 1000;
  nlohmann::json samples = nlohmann::json::array();
  for (const internal::HistorySample& sample : metrics_.RecentHistory(now_ms)) {
    samples.push_back({{"t_ms", sample.unix_ms},
                       {"ids_per_s", sample.ids_per_second},
                       {"requests_per_s", sample.requests_per_second},
                       {"p50_ms", sample.p50_ms},
                       {"p99_ms", sample.p99_ms}});
  }
  const nlohmann::json history = {{"interval_ms", 1000},
                                  {"capacity", internal::History::kCapacity},
                                  {"samples", std::move(samples)}};
  // /v1/info's very object, spliced in rather than built twice, so the page
  // shows exactly what /v1/info says.
  std::string_view info_json = info.body;
  while (!info_json.empty() && info_json.back() == '\n') {
    info_json.remove_suffix(1);
  }
  // The cluster as last read, never waiting for the coordinator.
  const std::string cluster =
      options_.cluster == nullptr
          ? ""
          : Cat(",\"cluster\":",
                options_.cluster->ToJson(now_ms).dump(
                    -1, ' ', false, nlohmann::json::error_handler_t::replace));
  return Ok(kJson,
            Cat("{\"info\":", info_json, ",\"history\":", history.dump(),
                cluster, "}\n"),
            Route::kStatus);
}

HttpResponse HttpHandler::Info() const {
  const NodeStatus s = node_.Status();
  const Layout& layout = s.layout;
  const LayoutLimits limits = layout.Limits();
  const double now_ms = static_cast<double>(s.now_micros) / 1e3;
  nlohmann::json info = {
      {"node", s.name},
      {"region", s.region},
      {"cluster", s.cluster},
      {"version", options_.version},
      {"ready", s.ready},
      {"not_ready_reason", s.not_ready_reason},
      {"worker_id", s.started ? s.lease.worker_id : -1},
      {"layout",
       {{"widths", Cat(layout.time_bits(), "/", layout.worker_bits(), "/",
                       layout.sequence_bits())},
        {"description", layout.ToString()},
        {"unit_ms", layout.unit_millis()},
        {"epoch_ms", layout.epoch_millis()},
        {"epoch", FormatRfc3339Millis(layout.epoch_millis())},
        {"ids_per_tick", limits.ids_per_tick},
        {"workers", limits.workers},
        {"last_ms", limits.last_millis},
        {"last", FormatRfc3339Millis(limits.last_millis)}}},
      {"lease",
       {{"mode", s.lease.mode},
        {"held", s.lease.held},
        {"worker_id", s.lease.worker_id},
        {"expires_in_ms", s.lease.expires_in_millis},
        {"presumed_expired", s.lease.presumed_expired},
        {"lost_reason", s.lease.lost_reason},
        {"claims_lost", s.lease.claims_lost},
        {"coordinator_up", s.lease.coordinator_up},
        {"renew_failures", s.lease.renew_failures},
        {"acquire_conflicts", s.lease.acquire_conflicts},
        {"acquisitions", s.lease.acquisitions}}},
      {"hwm",
       {{"store", s.lease.hwm_store},
        {"stored_ms", s.hwm.stored_unix_millis},
        {"bound_ms",
         s.started ? layout.MillisOfTick(s.high_water_mark_tick) : 0},
        {"headroom_ms", s.started ? static_cast<double>(layout.MillisOfTick(
                                        s.high_water_mark_tick)) -
                                        now_ms
                                  : 0},
        {"stores", s.hwm.stores},
        {"store_failures", s.hwm.store_failures},
        {"last_error", s.hwm.last_error},
        {"start_wait_ms", s.start_wait_millis}}},
      {"clock",
       {{"source", s.clock_source},
        {"now_ms", s.now_micros / 1000},
        {"now", FormatRfc3339Millis(s.now_micros / 1000)},
        {"gap_to_wall_us", s.clock_gap_micros},
        {"kernel_synchronized", s.kernel_clock.synchronized},
        {"kernel_estimated_error_s", s.kernel_clock.estimated_error_seconds},
        {"kernel_offset_s", s.kernel_clock.offset_seconds}}},
      {"generator",
       {{"ids_issued", metrics_.ids_issued()},
        {"exhausted_waits", s.generator.exhausted_waits},
        {"clock_backwards", s.generator.backwards_events},
        {"clock_backwards_refused", s.generator.backwards_errors},
        {"max_drift_ms", s.generator.max_drift_millis},
        {"hwm_refusals", s.generator.high_water_mark_hits}}},
      {"started_ms", s.start_unix_millis},
      {"workers_wanted", s.workers.size()},
      {"workers_held", s.workers_held},
  };
  // Every worker the node was asked to hold, in slot order; one not started
  // holds no ID yet (its range was full, or it is being acquired again).
  nlohmann::json workers = nlohmann::json::array();
  nlohmann::json worker_ids = nlohmann::json::array();
  for (size_t slot = 0; slot < s.workers.size(); ++slot) {
    const WorkerStatus& w = s.workers[slot];
    if (w.started) worker_ids.push_back(w.lease.worker_id);
    const double bound_ms =
        w.started
            ? static_cast<double>(layout.MillisOfTick(w.high_water_mark_tick))
            : 0;
    workers.push_back({{"slot", slot},
                       {"worker_id", w.started ? w.lease.worker_id : -1},
                       {"held", w.lease.held},
                       {"expires_in_ms", w.lease.expires_in_millis},
                       {"presumed_expired", w.lease.presumed_expired},
                       {"lost_reason", w.lease.lost_reason},
                       {"acquisitions", w.lease.acquisitions},
                       {"hwm",
                        {{"store", w.lease.hwm_store},
                         {"stored_ms", w.hwm.stored_unix_millis},
                         {"bound_ms", bound_ms},
                         {"headroom_ms", w.started ? bound_ms - now_ms : 0},
                         {"last_error", w.hwm.last_error}}},
                       {"exhausted_waits", w.generator.exhausted_waits}});
  }
  info["worker_ids"] = std::move(worker_ids);
  info["workers"] = std::move(workers);
  return JsonOk(info, Route::kInfo);
}

}  // namespace snowflake
