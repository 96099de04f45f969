#include "src/server/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "src/server/internal/str.h"
#include "src/server/limits.h"
#include "toml++/toml.h"

namespace snowflake {
namespace {

using internal::Append;
using internal::Cat;

std::string PresetList() {
  std::string out;
  for (const std::string& name : Layout::PresetNames()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// kRegions: the region map, a string in the flag's syntax or a TOML table.
enum class Kind { kString, kInt, kBool, kRegions };

constexpr std::string_view kRegionsKey = "regions";

// Where a setting's raw text lands before validation.
struct Raw {
  std::string layout = "default";
  std::string epoch;
  std::string unit;
  bool layout_set = false;
};

using ApplyFn = absl::Status (*)(std::string_view value, Config& config,
                                 Raw& raw);

struct Setting {
  std::string_view key;
  std::string_view flag;
  std::string_view env;
  Kind kind;
  std::string_view default_value;
  std::string_view help;
  ApplyFn apply;
};

absl::Status IntIn(std::string_view text, int64_t lo, int64_t hi,
                   int64_t& out) {
  if (!internal::ParseInt(text, out)) {
    return absl::InvalidArgumentError("not a whole number");
  }
  if (out < lo || out > hi) {
    return absl::InvalidArgumentError(Cat("must be between ", lo, " and ", hi));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status SetInt(std::string_view text, int64_t lo, int64_t hi, T& out) {
  int64_t value = 0;
  if (auto s = IntIn(text, lo, hi, value); !s.ok()) return s;
  out = static_cast<T>(value);
  return absl::OkStatus();
}

absl::Status OneOf(std::string_view text,
                   std::initializer_list<std::string_view> choices,
                   std::string& out) {
  for (std::string_view choice : choices) {
    if (text == choice) {
      out = std::string(text);
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      Cat("must be one of: ", internal::Join(choices, ", ")));
}

absl::StatusOr<bool> ParseBool(std::string_view text) {
  const std::string lower = internal::ToLower(text);
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") {
    return true;
  }
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off") {
    return false;
  }
  return absl::InvalidArgumentError("must be true or false");
}

// What the etcd client accepts: "http://host:port", "https://host:port" or
// "host:port", without a path.
absl::Status CheckEndpoint(std::string_view text) {
  std::string_view rest = text;
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "unknown scheme; use http:// or https://");
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError("expected [http[s]://]HOST:PORT");
  }
  if (rest.substr(0, colon).find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError("a path is not allowed");
  }
  int64_t port = 0;
  if (!internal::ParseInt(rest.substr(colon + 1), port) || port < 1 ||
      port > 65535 || rest[colon + 1] == '+') {
    return absl::InvalidArgumentError("the port must be 1 to 65535");
  }
  return absl::OkStatus();
}

absl::Status ParseListen(std::string_view text, Config& config) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError("must be HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:8080
  }
  if (auto s = SetInt(text.substr(colon + 1), 0, 65535, config.listen_port);
      !s.ok()) {
    return absl::InvalidArgumentError(Cat("port ", s.message()));
  }
  config.listen_host = std::string(host);
  return absl::OkStatus();
}

const std::vector<Setting>& Settings() {
  using C = Config;
  static const std::vector<Setting> kSettings = {
      {"listen", "--listen", "SNOWFLAKE_LISTEN", Kind::kString,
       "127.0.0.1:8080", "Address and port to serve HTTP on (HOST:PORT).",
       [](std::string_view v, C& c, Raw&) { return ParseListen(v, c); }},
      {"threads", "--threads", "SNOWFLAKE_THREADS", Kind::kInt, "0",
       "I/O threads; 0 means one per CPU core.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 0, limits::kMaxThreads, c.threads);
       }},
      {"node.name", "--node-name", "SNOWFLAKE_NODE_NAME", Kind::kString, "",
       "Name shown in /v1/info; empty means the host name.",
       [](std::string_view v, C& c, Raw&) {
         c.node_name = std::string(v);
         return absl::OkStatus();
       }},
      {"node.region", "--region", "SNOWFLAKE_REGION", Kind::kString, "",
       "Region shown in /v1/info; with a region map (regions), the region "
       "whose worker IDs this node uses.",
       [](std::string_view v, C& c, Raw&) {
         c.region = std::string(v);
         return absl::OkStatus();
       }},
      {"layout.widths", "--layout", "SNOWFLAKE_LAYOUT", Kind::kString,
       "default",
       "Bit widths TIME/WORKER/SEQUENCE (e.g. 41/10/12) or a preset name "
       "(default, twitter, discord, js53). Fixed for a cluster's life.",
       [](std::string_view v, C&, Raw& r) {
         r.layout = std::string(v);
         return absl::OkStatus();
       }},
      {"layout.epoch", "--epoch", "SNOWFLAKE_EPOCH", Kind::kString, "",
       "Custom epoch: Unix milliseconds or RFC 3339 "
       "(2025-01-01T00:00:00Z); empty means the layout's own "
       "(2025-01-01T00:00:00Z for the default).",
       [](std::string_view v, C&, Raw& r) {
         r.epoch = std::string(v);
         return absl::OkStatus();
       }},
      {"layout.unit_ms", "--unit-ms", "SNOWFLAKE_UNIT_MS", Kind::kInt, "0",
       "Length of one tick in ms (1 to 1000); 0 means the layout's own.",
       [](std::string_view v, C&, Raw& r) {
         int64_t unit = 0;
         if (auto s = IntIn(v, 0, 1000, unit); !s.ok()) return s;
         r.unit = unit == 0 ? "" : std::string(v);
         return absl::OkStatus();
       }},
      {"clock.source", "--clock", "SNOWFLAKE_CLOCK", Kind::kString, "wall",
       "wall (follows the system clock) or monotonic (wall time at start, "
       "then advanced by the monotonic clock).",
       [](std::string_view v, C& c, Raw&) {
         return OneOf(v, {"wall", "monotonic"}, c.clock_source);
       }},
      {"clock.tolerance_ms", "--tolerance-ms", "SNOWFLAKE_TOLERANCE_MS",
       Kind::kInt, "5",
       "Clock behind the last ID by at most this: wait; further: 503.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 0, 60'000, c.tolerance_millis);
       }},
      {"clock.max_borrow_ms", "--max-borrow-ms", "SNOWFLAKE_MAX_BORROW_MS",
       Kind::kInt, "0",
       "In a burst, how far the tick may run ahead of the clock instead of "
       "waiting.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 0, 60'000, c.max_borrow_millis);
       }},
      {"clock.max_start_wait_ms", "--max-start-wait-ms",
       "SNOWFLAKE_MAX_START_WAIT_MS", Kind::kInt, "90000",
       "At start, the longest wait for the clock to pass the stored "
       "high-water mark; further behind, the node refuses to start. etcd "
       "mode: at least worker.outage_budget_s, which a successor of a "
       "crashed node may have to wait.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 0, limits::kMaxMaxStartWaitMillis,
                       c.max_start_wait_millis);
       }},
      {"clock.max_skew_ms", "--max-clock-skew-ms",
       "SNOWFLAKE_MAX_CLOCK_SKEW_MS", Kind::kInt, "1000",
       "The largest clock difference assumed between any two nodes (0 to "
       "worker.outage_budget_s); a node taking over a worker ID waits it "
       "out.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 0, limits::kMaxOutageBudgetSeconds * 1000,
                       c.max_clock_skew_millis);
       }},
      {"generator.sequence_start_max", "--sequence-start-max",
       "SNOWFLAKE_SEQUENCE_START_MAX", Kind::kInt, "0",
       "If > 0, each tick's sequence starts at a random value in [0, N] so "
       "IDs taken at low rates do not all end in the same bits.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 0, int64_t{1} << 30, c.sequence_start_max);
       }},
      {"worker.mode", "--coordinator", "SNOWFLAKE_COORDINATOR", Kind::kString,
       "static",
       "How the worker ID is held: static (worker.id, HWM in state_dir) or "
       "etcd (leased from etcd; zookeeper is not supported yet).",
       [](std::string_view v, C& c, Raw&) {
         if (v == "zookeeper") {
           return absl::UnimplementedError(
               "worker mode zookeeper is not supported yet; use static or "
               "etcd");
         }
         return OneOf(v, {"static", "etcd"}, c.worker_mode);
       }},
      {"worker.range", "--worker-range", "SNOWFLAKE_WORKER_RANGE",
       Kind::kString, "",
       "etcd mode: the worker IDs this node may claim, A-B inclusive; empty "
       "means its region's (with a region map) or all of the layout's.",
       [](std::string_view v, C& c, Raw&) {
         if (v.empty()) {
           c.worker_range_first = 0;
           c.worker_range_last = -1;
           return absl::OkStatus();
         }
         const size_t dash = v.find('-');
         int64_t first = 0;
         int64_t last = 0;
         if (dash == std::string_view::npos ||
             !internal::ParseInt(v.substr(0, dash), first) ||
             !internal::ParseInt(v.substr(dash + 1), last) || first < 0 ||
             last < first) {
           return absl::InvalidArgumentError(
               "expected A-B with 0 <= A <= B, e.g. 0-341");
         }
         c.worker_range_first = first;
         c.worker_range_last = last;
         c.worker_range_source = WorkerRangeSource::kExplicit;
         return absl::OkStatus();
       }},
      {kRegionsKey, "--regions", "SNOWFLAKE_REGIONS", Kind::kRegions, "",
       "Region map: each region's worker IDs, e.g. us=0-341,eu=342-683 (in "
       "the file, a [regions] table of us = \"0-341\" entries). When set, "
       "node.region must be one of them and gives the node its worker IDs "
       "(worker.range, if set, must lie inside). The same in every node of "
       "a cluster.",
       [](std::string_view v, C& c, Raw&) {
         auto regions = RegionMap::Parse(v);
         if (!regions.ok()) return regions.status();
         c.regions = *std::move(regions);
         return absl::OkStatus();
       }},
      {"etcd.endpoints", "--etcd-endpoints", "SNOWFLAKE_ETCD_ENDPOINTS",
       Kind::kString, "http://127.0.0.1:2379",
       "etcd mode: client URLs, comma-separated; tried in order on failure.",
       [](std::string_view v, C& c, Raw&) {
         c.etcd_endpoints.clear();
         if (internal::Trim(v).empty()) {
           return absl::InvalidArgumentError("needs at least one URL");
         }
         int entry = 0;
         for (std::string_view part : internal::Split(v, ',')) {
           ++entry;
           part = internal::Trim(part);
           if (part.empty()) {
             return absl::InvalidArgumentError(
                 Cat("entry ", entry, " is empty"));
           }
           if (auto s = CheckEndpoint(part); !s.ok()) {
             return absl::InvalidArgumentError(
                 Cat("entry \"", part, "\": ", s.message()));
           }
           c.etcd_endpoints.emplace_back(part);
         }
         return absl::OkStatus();
       }},
      {"etcd.prefix", "--etcd-prefix", "SNOWFLAKE_ETCD_PREFIX", Kind::kString,
       "/snowflake", "etcd mode: the key prefix all clusters live under.",
       [](std::string_view v, C& c, Raw&) {
         if (v.empty() || v.front() != '/' || v.back() == '/') {
           return absl::InvalidArgumentError(
               "must start with / and not end with /");
         }
         c.etcd_prefix = std::string(v);
         return absl::OkStatus();
       }},
      {"etcd.cluster", "--cluster", "SNOWFLAKE_CLUSTER", Kind::kString,
       "default",
       "etcd mode: the cluster's name; its nodes share a layout and the "
       "worker-ID space.",
       [](std::string_view v, C& c, Raw&) {
         if (v.empty() || v.find('/') != std::string_view::npos) {
           return absl::InvalidArgumentError("must be non-empty without /");
         }
         c.cluster = std::string(v);
         return absl::OkStatus();
       }},
      {"etcd.lease_ttl_s", "--lease-ttl", "SNOWFLAKE_LEASE_TTL", Kind::kInt,
       "30",
       "etcd mode: lease TTL in seconds; renewed every TTL/3, and the node "
       "stops issuing shortly before it would expire.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 2, 3600, c.lease_ttl_seconds);
       }},
      {"etcd.ca_file", "--etcd-ca", "SNOWFLAKE_ETCD_CA", Kind::kString, "",
       "etcd mode: CA bundle (PEM) for https endpoints; empty: system roots.",
       [](std::string_view v, C& c, Raw&) {
         c.etcd_ca_file = std::string(v);
         return absl::OkStatus();
       }},
      {"etcd.cert_file", "--etcd-cert", "SNOWFLAKE_ETCD_CERT", Kind::kString,
       "", "etcd mode: client certificate (PEM) for etcd's client-cert auth.",
       [](std::string_view v, C& c, Raw&) {
         c.etcd_cert_file = std::string(v);
         return absl::OkStatus();
       }},
      {"etcd.key_file", "--etcd-key", "SNOWFLAKE_ETCD_KEY", Kind::kString, "",
       "etcd mode: the client certificate's private key (PEM).",
       [](std::string_view v, C& c, Raw&) {
         c.etcd_key_file = std::string(v);
         return absl::OkStatus();
       }},
      {"etcd.username", "--etcd-user", "SNOWFLAKE_ETCD_USER", Kind::kString, "",
       "etcd mode: user name when etcd has authentication enabled.",
       [](std::string_view v, C& c, Raw&) {
         c.etcd_username = std::string(v);
         return absl::OkStatus();
       }},
      {"etcd.password", "--etcd-password", "SNOWFLAKE_ETCD_PASSWORD",
       Kind::kString, "",
       "etcd mode: that user's password (prefer the environment variable to "
       "the flag: flags show in ps).",
       [](std::string_view v, C& c, Raw&) {
         c.etcd_password = std::string(v);
         return absl::OkStatus();
       }},
      {"node.advertise", "--advertise", "SNOWFLAKE_ADVERTISE", Kind::kString,
       "",
       "etcd mode: HOST:PORT addresses (comma-separated) clients reach this "
       "node at, published for discovery; empty: the listen address.",
       [](std::string_view v, C& c, Raw&) {
         c.advertise.clear();
         for (std::string_view part : internal::Split(v, ',')) {
           if (!part.empty()) c.advertise.emplace_back(part);
         }
         return absl::OkStatus();
       }},
      {"node.start_timeout_s", "--start-timeout", "SNOWFLAKE_START_TIMEOUT",
       Kind::kInt, "0",
       "etcd mode: how long a starting node keeps retrying to reach its "
       "coordinator and to find a free worker ID before it exits; 0 means "
       "forever.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 0, limits::kMaxStartTimeoutSeconds,
                       c.start_timeout_seconds);
       }},
      {"worker.id", "--worker-id", "SNOWFLAKE_WORKER_ID", Kind::kInt, "0",
       "The worker ID in static mode; must fit the layout's worker bits and "
       "be unique in the cluster.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 0, int64_t{1} << 62, c.worker_id);
       }},
      {"worker.state_dir", "--state-dir", "SNOWFLAKE_STATE_DIR", Kind::kString,
       "./state",
       "Directory of the high-water-mark file (static mode); created if "
       "missing. Relative paths are relative to the working directory.",
       [](std::string_view v, C& c, Raw&) {
         if (v.empty()) return absl::InvalidArgumentError("must not be empty");
         c.state_dir = std::string(v);
         return absl::OkStatus();
       }},
      {"worker.hwm_reserve_ms", "--hwm-reserve-ms", "SNOWFLAKE_HWM_RESERVE_MS",
       Kind::kInt, "5000",
       "How far ahead of the clock the high-water mark is stored.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 100, 3'600'000, c.hwm_reserve_millis);
       }},
      {"worker.outage_budget_s", "--outage-budget", "SNOWFLAKE_OUTAGE_BUDGET",
       Kind::kInt, "60",
       "etcd mode: how far ahead of the clock (seconds) the high-water mark "
       "is stored in the coordinator: how long a coordinator outage may "
       "last before nodes stop issuing, and the longest a successor of a "
       "crashed node's worker ID may have to wait.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 1, limits::kMaxOutageBudgetSeconds,
                       c.outage_budget_seconds);
       }},
      {"worker.hwm_write_interval_ms", "--hwm-write-interval-ms",
       "SNOWFLAKE_HWM_WRITE_INTERVAL_MS", Kind::kInt, "2000",
       "etcd mode: how often the stored high-water mark is raised; at most "
       "half of worker.outage_budget_s.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, limits::kMinHwmWriteIntervalMillis,
                       limits::kMaxOutageBudgetSeconds * 1000,
                       c.hwm_write_interval_millis);
       }},
      {"limits.max_batch", "--max-batch", "SNOWFLAKE_MAX_BATCH", Kind::kInt,
       "100000", "Largest count of GET /v1/ids; larger gets 413.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 1, limits::kMaxMaxBatch, c.max_batch);
       }},
      {"limits.max_header_bytes", "--max-header-bytes",
       "SNOWFLAKE_MAX_HEADER_BYTES", Kind::kInt, "8192",
       "Largest request line plus headers; larger gets 431.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 512, limits::kMaxMaxHeaderBytes, c.max_header_bytes);
       }},
      {"limits.max_connections", "--max-connections",
       "SNOWFLAKE_MAX_CONNECTIONS", Kind::kInt, "10000",
       "Connections beyond this are closed at once.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 1, 1'000'000, c.max_connections);
       }},
      {"limits.idle_timeout_ms", "--idle-timeout-ms",
       "SNOWFLAKE_IDLE_TIMEOUT_MS", Kind::kInt, "60000",
       "An idle keep-alive connection is closed after this long.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 10, 86'400'000, c.idle_timeout_millis);
       }},
      {"limits.header_timeout_ms", "--header-timeout-ms",
       "SNOWFLAKE_HEADER_TIMEOUT_MS", Kind::kInt, "10000",
       "Once a request has begun, its headers must arrive within this long "
       "(and a response must be taken within it).",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 10, 3'600'000, c.header_timeout_millis);
       }},
      {"limits.drain_timeout_ms", "--drain-timeout-ms",
       "SNOWFLAKE_DRAIN_TIMEOUT_MS", Kind::kInt, "10000",
       "On SIGTERM, how long requests in flight get to finish.",
       [](std::string_view v, C& c, Raw&) {
         return SetInt(v, 0, 600'000, c.drain_timeout_millis);
       }},
      {"log.level", "--log-level", "SNOWFLAKE_LOG_LEVEL", Kind::kString, "info",
       "trace, debug, info, warn, error, critical or off.",
       [](std::string_view v, C& c, Raw&) {
         return OneOf(
             v, {"trace", "debug", "info", "warn", "error", "critical", "off"},
             c.log_level);
       }},
      {"log.format", "--log-format", "SNOWFLAKE_LOG_FORMAT", Kind::kString,
       "text",
       "text (timestamp level key=value ...) or json (one object a line).",
       [](std::string_view v, C& c, Raw&) {
         return OneOf(v, {"text", "json"}, c.log_format);
       }},
      {"log.access", "--access-log", "SNOWFLAKE_ACCESS_LOG", Kind::kBool,
       "false", "Log one line per HTTP request.",
       [](std::string_view v, C& c, Raw&) {
         auto b = ParseBool(v);
         if (!b.ok()) return b.status();
         c.access_log = *b;
         return absl::OkStatus();
       }},
  };
  return kSettings;
}

struct Found {
  std::string value;
  std::string source;
};

// Reads the TOML file into key -> (text, "file F line N").
absl::Status ReadFile(const std::string& path,
                      std::map<std::string, Found>& out) {
  // A directory or a device parses as an empty file: every setting would
  // silently take its default.
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    const int error = errno;
    const std::string why = std::strerror(error);
    if (error == ENOENT || error == ENOTDIR) {
      return absl::NotFoundError(Cat("config file ", path, ": ", why));
    }
    return absl::InvalidArgumentError(
        Cat("config file ", path, ": unreadable: ", why));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(
        Cat("config file ", path, ": not a regular file (",
            S_ISDIR(info.st_mode) ? "a directory" : "a device, pipe or socket",
            ")"));
  }
  if (access(path.c_str(), R_OK) != 0) {
    return absl::InvalidArgumentError(
        Cat("config file ", path, ": unreadable: ", std::strerror(errno)));
  }
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0) {
      return absl::NotFoundError(
          Cat("config file ", path, ": ", e.description()));
    }
    return absl::InvalidArgumentError(Cat("config file ", path, " line ",
                                          e.source().begin.line, ": ",
                                          e.description()));
  }
  absl::Status status;
  auto visit = [&](std::string key, const toml::node& node) {
    const int line = static_cast<int>(node.source().begin.line);
    const std::string where = Cat("file ", path, " line ", line);
    const Setting* setting = nullptr;
    for (const Setting& s : Settings()) {
      if (s.key == key) setting = &s;
    }
    if (setting == nullptr) {
      status.Update(absl::InvalidArgumentError(
          Cat("unknown key \"", key, "\" (", where, ")")));
      return;
    }
    std::string text;
    bool type_ok = false;
    if (const auto* v = node.as_string()) {
      text = v->get();
      type_ok =
          setting->kind == Kind::kString || setting->kind == Kind::kRegions;
    } else if (const auto* v = node.as_integer()) {
      text = Cat(v->get());
      type_ok = setting->kind == Kind::kInt || setting->kind == Kind::kString;
    } else if (const auto* v = node.as_boolean()) {
      text = v->get() ? "true" : "false";
      type_ok = setting->kind == Kind::kBool;
    } else if (const auto* v = node.as_date_time()) {
      const toml::date_time& dt = v->get();
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d%s",
                    dt.date.year, dt.date.month, dt.date.day, dt.time.hour,
                    dt.time.minute, dt.time.second,
                    dt.offset && dt.offset->minutes == 0 ? "Z" : "");
      text = buf;
      type_ok = key == "layout.epoch" && dt.offset && dt.offset->minutes == 0;
    } else if (node.is_floating_point()) {
      text = Cat(node.as_floating_point()->get() > 0 ? "(a number)" : "");
    } else {
      text = "(table or array)";
    }
    if (!type_ok) {
      const char* want = setting->kind == Kind::kInt    ? "an integer"
                         : setting->kind == Kind::kBool ? "true or false"
                         : setting->kind == Kind::kRegions
                             ? "a table of NAME = \"A-B\""
                             : "a string";
      status.Update(absl::InvalidArgumentError(
          Cat(key, " = ", text, " (", where, "): must be ", want)));
      return;
    }
    out[key] = Found{std::move(text), where};
  };
  // [regions] us = "0-341": one setting, in the flag's syntax.
  auto visit_regions = [&](const toml::table& regions) {
    int line = static_cast<int>(regions.source().begin.line);
    std::string text;
    for (const auto& [name, node] : regions) {
      const int entry_line = static_cast<int>(node.source().begin.line);
      if (line == 0) line = entry_line;
      const auto* range = node.as_string();
      if (range == nullptr) {
        status.Update(absl::InvalidArgumentError(
            Cat(kRegionsKey, ".", name.str(), " (file ", path, " line ",
                entry_line, "): must be a string \"A-B\", e.g. \"0-341\"")));
        return;
      }
      if (!text.empty()) text += ",";
      Append(text, name.str(), "=", range->get());
    }
    out[std::string(kRegionsKey)] =
        Found{std::move(text), Cat("file ", path, " line ", line)};
  };
  for (const auto& [name, node] : table) {
    const std::string key(name.str());
    if (key == kRegionsKey && node.is_table()) {
      visit_regions(*node.as_table());
    } else if (const toml::table* section = node.as_table()) {
      for (const auto& [sub_name, sub_node] : *section) {
        visit(Cat(key, ".", sub_name.str()), sub_node);
      }
    } else {
      visit(key, node);
    }
  }
  return status;
}

absl::StatusOr<int64_t> ParseEpoch(std::string_view text) {
  int64_t millis = 0;
  if (internal::ParseInt(text, millis)) return millis;
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, internal::AbslView(text), &time,
                      &error)) {
    return absl::ToUnixMillis(time);
  }
  return absl::InvalidArgumentError(
      "must be Unix milliseconds or RFC 3339, e.g. 2025-01-01T00:00:00Z");
}

using WhereFn = std::function<std::string(const std::string& key)>;

// The region map: checked against the layout; the node's region gives its
// worker range (or bounds an explicit one, or the static worker ID).
absl::Status ApplyRegion(const WhereFn& where, Config& config) {
  if (config.regions.empty()) return absl::OkStatus();
  const std::string regions_key(kRegionsKey);
  if (auto s = config.regions.Validate(config.layout.max_worker()); !s.ok()) {
    return absl::InvalidArgumentError(Cat(where(regions_key), ": ", s.message(),
                                          " (layout ", config.layout.ToString(),
                                          ")"));
  }
  const std::optional<WorkerRange> range = config.regions.Find(config.region);
  if (!range) {
    return absl::InvalidArgumentError(Cat(
        where("node.region"), ": region \"", config.region,
        "\" is not in the region map (its regions: ", config.regions.Names(),
        "; ", where(regions_key), ")"));
  }
  const std::string in_region =
      Cat(" lies outside region ", config.region, "'s worker IDs ",
          range->ToString(), " (", where(regions_key), ")");
  if (config.worker_range_source == WorkerRangeSource::kExplicit) {
    if (!range->Contains(
            WorkerRange{config.worker_range_first, config.worker_range_last})) {
      return absl::InvalidArgumentError(Cat(where("worker.range"), in_region));
    }
  } else {
    config.worker_range_first = range->first;
    config.worker_range_last = range->last;
    config.worker_range_source = WorkerRangeSource::kRegion;
  }
  if (config.worker_mode == "static" && !range->Contains(config.worker_id)) {
    return absl::InvalidArgumentError(Cat(where("worker.id"), in_region));
  }
  return absl::OkStatus();
}

// The outage budget and what depends on it (DESIGN section 5).
absl::Status CheckTiming(const WhereFn& where, const Config& config) {
  const int64_t budget_millis = config.outage_budget_seconds * 1000;
  const LayoutLimits limits = config.layout.Limits();
  const int64_t range_millis = limits.end_millis - config.layout.epoch_millis();
  if (budget_millis >= range_millis) {
    return absl::InvalidArgumentError(
        Cat(where("worker.outage_budget_s"),
            ": must be below the layout's time range of ", range_millis,
            " ms (", config.layout.ToString(), ")"));
  }
  if (config.hwm_write_interval_millis * 2 > budget_millis) {
    return absl::InvalidArgumentError(
        Cat(where("worker.hwm_write_interval_ms"), ": must be at most half of ",
            where("worker.outage_budget_s"),
            ", so that a failed write can be retried before the stored "
            "high-water mark runs out"));
  }
  if (config.max_clock_skew_millis > budget_millis) {
    return absl::InvalidArgumentError(
        Cat(where("clock.max_skew_ms"), ": must be at most ",
            where("worker.outage_budget_s"), " (", budget_millis, " ms)"));
  }
  if (config.worker_mode != "etcd") return absl::OkStatus();
  if (config.max_start_wait_millis < budget_millis) {
    return absl::InvalidArgumentError(
        Cat(where("clock.max_start_wait_ms"), ": must be at least ",
            where("worker.outage_budget_s"), " (", budget_millis,
            " ms) in etcd mode, or a successor of a crashed node could "
            "never start"));
  }
  const int64_t keep_alive_millis = config.lease_ttl_seconds * 1000 / 3;
  if (keep_alive_millis >= budget_millis) {
    return absl::InvalidArgumentError(
        Cat(where("etcd.lease_ttl_s"), ": its keep-alive interval (TTL/3 = ",
            keep_alive_millis, " ms) must be below ",
            where("worker.outage_budget_s"), " (", budget_millis,
            " ms), or a node could exhaust its stored high-water mark "
            "between two keep-alives"));
  }
  return absl::OkStatus();
}

// Cross-field checks and the layout, which depends on three keys.
absl::Status Finish(const Raw& raw, const std::map<std::string, Found>& eff,
                    Config& config) {
  const WhereFn where = [&](const std::string& key) {
    const Found& f = eff.at(key);
    return Cat(key, " = \"", f.value, "\" (", f.source, ")");
  };
  absl::StatusOr<Layout> base = Layout::Preset(raw.layout);
  if (!base.ok()) base = Layout::Parse(raw.layout);
  if (!base.ok()) {
    return absl::InvalidArgumentError(Cat(where("layout.widths"), ": ",
                                          base.status().message(),
                                          "; presets: ", PresetList()));
  }
  LayoutSpec spec = base->spec();
  if (!raw.epoch.empty()) {
    auto epoch = ParseEpoch(raw.epoch);
    if (!epoch.ok()) {
      return absl::InvalidArgumentError(
          Cat(where("layout.epoch"), ": ", epoch.status().message()));
    }
    spec.epoch_millis = *epoch;
  }
  if (!raw.unit.empty()) {
    (void)internal::ParseInt(raw.unit, spec.unit_millis);
  }
  auto layout = Layout::Create(spec);
  if (!layout.ok()) {
    return absl::InvalidArgumentError(
        Cat(where("layout.widths"), ", ", where("layout.epoch"), ", ",
            where("layout.unit_ms"), ": ", layout.status().message()));
  }
  config.layout = *layout;
  if (config.worker_id > config.layout.max_worker()) {
    return absl::InvalidArgumentError(
        Cat(where("worker.id"), ": the layout ", config.layout.ToString(),
            " has worker IDs 0 to ", config.layout.max_worker()));
  }
  if (config.worker_range_last > config.layout.max_worker()) {
    return absl::InvalidArgumentError(
        Cat(where("worker.range"), ": the layout ", config.layout.ToString(),
            " has worker IDs 0 to ", config.layout.max_worker()));
  }
  if (config.sequence_start_max > config.layout.max_sequence()) {
    return absl::InvalidArgumentError(Cat(where("generator.sequence_start_max"),
                                          ": the layout's sequence is 0 to ",
                                          config.layout.max_sequence()));
  }
  if (auto s = ApplyRegion(where, config); !s.ok()) return s;
  return CheckTiming(where, config);
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<LoadedConfig> LoadConfig(const std::vector<std::string>& args,
                                        const EnvLookup& env) {
  LoadedConfig loaded;
  const auto& settings = Settings();

  CLI::App app("snowflaked: a Snowflake ID generator node", "snowflaked");
  app.set_version_flag("--version", SNOWFLAKE_VERSION);
  std::string config_path;
  bool check = false;
  bool print = false;
  app.add_option("--config", config_path,
                 "TOML configuration file (env SNOWFLAKE_CONFIG)");
  app.add_flag("--check-config", check,
               "Validate the configuration and exit (0: valid)");
  app.add_flag("--print-config", print,
               "Print each effective setting and its source, then exit");
  std::vector<std::string> flag_values(settings.size());
  std::vector<CLI::Option*> options(settings.size());
  for (size_t i = 0; i < settings.size(); ++i) {
    const Setting& s = settings[i];
    options[i] = app.add_option(std::string(s.flag), flag_values[i],
                                Cat(s.help, " (", s.key, ", env ", s.env, ")"));
    if (s.kind == Kind::kBool) options[i]->expected(0, 1);
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) reversed.pop_back();  // Program name.
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    loaded.action = ConfigAction::kExit;
    loaded.output = app.help();
    return loaded;
  } catch (const CLI::CallForVersion&) {
    loaded.action = ConfigAction::kExit;
    loaded.output = Cat("snowflaked ", SNOWFLAKE_VERSION, "\n");
    return loaded;
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(
        Cat("command line: ", e.what(), " (see --help)"));
  }
  if (check) loaded.action = ConfigAction::kCheck;
  if (print) loaded.action = ConfigAction::kPrint;

  std::map<std::string, Found> file_values;
  if (config_path.empty()) {
    if (auto from_env = env("SNOWFLAKE_CONFIG")) config_path = *from_env;
  }
  if (!config_path.empty()) {
    if (auto s = ReadFile(config_path, file_values); !s.ok()) return s;
  }

  Raw raw;
  std::map<std::string, Found> effective;
  for (size_t i = 0; i < settings.size(); ++i) {
    const Setting& s = settings[i];
    const std::string key(s.key);
    Found found{std::string(s.default_value), "default"};
    if (options[i]->count() > 0) {
      found = {flag_values[i], Cat("flag ", s.flag)};
      if (s.kind == Kind::kBool && found.value.empty()) found.value = "true";
    } else if (auto value = env(std::string(s.env))) {
      found = {*value, Cat("env ", s.env)};
    } else if (auto it = file_values.find(key); it != file_values.end()) {
      found = it->second;
    }
    if (auto status = s.apply(found.value, loaded.config, raw); !status.ok()) {
      return absl::Status(status.code() == absl::StatusCode::kUnimplemented
                              ? status.code()
                              : absl::StatusCode::kInvalidArgument,
                          Cat(key, " = \"", found.value, "\" (", found.source,
                              "): ", status.message()));
    }
    loaded.values.push_back({key, found.value, found.source});
    effective[key] = std::move(found);
  }
  loaded.config.worker_id_explicit =
      effective.at("worker.id").source != "default";
  if (auto s = Finish(raw, effective, loaded.config); !s.ok()) return s;
  return loaded;
}

namespace {

// Settings whose values --print-config must not show.
constexpr std::string_view kSecretKeys[] = {"etcd.password"};

bool IsSecret(std::string_view key) {
  return std::find(std::begin(kSecretKeys), std::end(kSecretKeys), key) !=
         std::end(kSecretKeys);
}

// SNOWFLAKE_* variables that are no setting but are expected: the config
// file's path and what the tests read.
constexpr std::string_view kOtherEnv[] = {
    "SNOWFLAKE_CONFIG", "SNOWFLAKE_KEEP_TEST_DIRS", "SNOWFLAKE_CLI_BIN"};

constexpr std::string_view kEnvPrefix = "SNOWFLAKE_";

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<UnknownEnv> FindUnknownEnv(const std::vector<std::string>& names) {
  std::vector<UnknownEnv> unknown;
  for (const std::string& name : names) {
    if (!std::string_view(name).starts_with(kEnvPrefix)) continue;
    bool known = std::find(std::begin(kOtherEnv), std::end(kOtherEnv), name) !=
                 std::end(kOtherEnv);
    std::string_view closest;
    size_t best = std::string_view::npos;
    for (const Setting& s : Settings()) {
      if (s.env == name) known = true;
      const size_t distance = EditDistance(name, s.env);
      if (distance < best) {
        best = distance;
        closest = s.env;
      }
    }
    if (known) continue;
    // Close enough to be a typo, not another program's variable.
    const bool near =
        best <= std::max<size_t>(1, (name.size() - kEnvPrefix.size()) / 3);
    unknown.push_back({name, near ? std::string(closest) : std::string()});
  }
  std::sort(
      unknown.begin(), unknown.end(),
      [](const UnknownEnv& a, const UnknownEnv& b) { return a.name < b.name; });
  return unknown;
}

std::vector<std::string> ProcessEnvNames() {
  std::vector<std::string> names;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    names.emplace_back(text.substr(0, text.find('=')));
  }
  return names;
}

std::string FormatConfig(const LoadedConfig& loaded) {
  std::string out =
      "# Effective configuration (precedence: flag > env > file > "
      "default).\n";
  for (const ConfigValue& value : loaded.values) {
    Kind kind = Kind::kString;
    for (const Setting& s : Settings()) {
      if (s.key == value.key) kind = s.kind;
    }
    std::string text = value.value;
    if (IsSecret(value.key) && !value.value.empty()) {
      text = "\"<redacted>\"";
    } else if (kind == Kind::kRegions) {
      // An inline table: [regions] in the file's own form.
      text = "{";
      for (const auto& [name, range] : loaded.config.regions.regions()) {
        Append(text, text.size() > 1 ? ", " : " ", name, " = \"",
               range.ToString(), "\"");
      }
      text += text.size() > 1 ? " }" : "}";
    } else if (kind == Kind::kString) {
      text = Cat("\"", internal::StdView(absl::CEscape(value.value)), "\"");
    } else if (kind == Kind::kBool) {
      text = ParseBool(value.value).value_or(false) ? "true" : "false";
    }
    Append(out, value.key, " = ", text, "  # ", value.source, "\n");
  }
  Append(out, "# layout in effect: ", loaded.config.layout.ToString(), "\n");
  return out;
}

std::string ConfigMarkdownTable() {
  std::string out =
      "| file key | flag | environment | default | meaning |\n"
      "|---|---|---|---|---|\n";
  for (const Setting& s : Settings()) {
    Append(out, "| `", s.key, "` | `", s.flag, "` | `", s.env, "` | `",
           s.default_value.empty() ? "\"\"" : s.default_value, "` | ", s.help,
           " |\n");
  }
  return out;
}

}  // namespace snowflake
