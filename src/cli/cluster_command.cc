#include "src/cli/cluster_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "snowflake/layout.h"
#include "src/etcd/etcd_client.h"
#include "src/lease/etcd/etcd_schema.h"

namespace snowflake::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kCommand = "cluster";

// One line on the error stream, as every other command writes it.
int Fail(Io& io, int exit_code, std::string_view message) {
  std::string line(message);
  std::replace_if(
      line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r'; },
      ' ');
  io.err << "snowflake: " << kCommand << ": " << line << '\n';
  return exit_code;
}

std::string Message(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

struct Range {
  int64_t first = 0;
  int64_t last = 0;
  bool Contains(int64_t id) const { return id >= first && id <= last; }
  int64_t size() const { return last - first + 1; }
};

std::optional<Range> ParseRange(std::string_view text) {
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::optional<int64_t> first = ParseInt(text.substr(0, dash));
  const std::optional<int64_t> last = ParseInt(text.substr(dash + 1));
  if (!first || !last || *first < 0 || *last < *first) return std::nullopt;
  return Range{*first, *last};
}

// The worker bits of a stored config, whatever its shape: a JSON object
// with "worker_bits" or a "layout" text, or a text starting "T/W/S".
std::optional<int> WorkerBitsOfConfig(const std::string& value) {
  const Json json = Json::parse(value, nullptr, false);
  std::string text = value;
  if (json.is_object()) {
    const auto bits = json.find("worker_bits");
    if (bits != json.end() && bits->is_number_integer()) {
      return bits->get<int>();
    }
    const auto layout = json.find("layout");
    if (layout == json.end()) return std::nullopt;
    if (layout->is_object()) return WorkerBitsOfConfig(layout->dump());
    if (!layout->is_string()) return std::nullopt;
    text = layout->get<std::string>();
  }
  const size_t first = text.find('/');
  if (first == std::string::npos) return std::nullopt;
  const size_t second = text.find('/', first + 1);
  if (second == std::string::npos) return std::nullopt;
  const std::optional<int64_t> bits =
      ParseInt(std::string_view(text).substr(first + 1, second - first - 1));
  if (!bits || *bits < 0 || *bits > 62) return std::nullopt;
  return static_cast<int>(*bits);
}

// What the cluster keeps for one worker ID.
struct WorkerRow {
  int64_t worker_id = -1;
  std::optional<etcd_schema::Holder> holder;  // Absent: free.
  std::string bad_entry;  // The raw value when it does not parse.
  int64_t lease = 0;      // Of the workers/ key.
  std::optional<int64_t> lease_left_seconds;
  std::string lease_error;
  std::optional<int64_t> hwm_millis;
};

struct Snapshot {
  std::optional<std::string> config;
  std::map<int64_t, WorkerRow> workers;  // Holders and stored HWMs.
  Range range;
  bool range_from_config = false;
  int64_t held_in_range = 0;
};

absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> Connect(
    const ClusterFlags& flags) {
  etcd::Options options;
  options.endpoints = flags.endpoints;
  options.timeout = std::chrono::milliseconds(flags.timeout_millis);
  options.dial_timeout = std::chrono::milliseconds(flags.timeout_millis);
  if (!flags.ca_file.empty() || !flags.cert_file.empty() ||
      !flags.key_file.empty()) {
    options.tls =
        etcd::TlsOptions{flags.ca_file, flags.cert_file, flags.key_file};
  }
  options.username = flags.user;
  options.password = flags.password;
  return etcd::EtcdClient::Create(std::move(options));
}

absl::StatusOr<Snapshot> Read(const ClusterFlags& flags,
                              etcd::EtcdClient& client) {
  const std::string& prefix = flags.prefix;
  const std::string& cluster = flags.cluster;
  Snapshot snapshot;
  absl::StatusOr<std::optional<etcd::KeyValue>> config =
      client.Get(etcd_schema::ConfigKey(prefix, cluster));
  if (!config.ok()) return config.status();
  if (config->has_value()) snapshot.config = (*config)->value;

  absl::StatusOr<std::vector<etcd::KeyValue>> workers =
      client.GetPrefix(etcd_schema::WorkersPrefix(prefix, cluster));
  if (!workers.ok()) return workers.status();
  for (const etcd::KeyValue& kv : *workers) {
    const std::optional<int64_t> id = etcd_schema::IdOfKey(kv.key);
    if (!id) continue;
    WorkerRow& row = snapshot.workers[*id];
    row.worker_id = *id;
    row.lease = kv.lease;
    absl::StatusOr<etcd_schema::Holder> holder =
        etcd_schema::DecodeHolder(kv.value);
    if (holder.ok()) {
      row.holder = *std::move(holder);
    } else {
      row.holder = etcd_schema::Holder{};
      row.bad_entry = kv.value;
    }
    if (kv.lease != 0) {
      absl::StatusOr<etcd::LeaseStatus> ttl = client.LeaseTimeToLive(kv.lease);
      if (!ttl.ok()) {
        row.lease_error = Message(ttl.status());
      } else if (ttl->found) {
        row.lease_left_seconds = ttl->ttl_seconds;
      } else {
        row.lease_error = "expired";
      }
    }
  }

  absl::StatusOr<std::vector<etcd::KeyValue>> hwms =
      client.GetPrefix(etcd_schema::HwmPrefix(prefix, cluster));
  if (!hwms.ok()) return hwms.status();
  for (const etcd::KeyValue& kv : *hwms) {
    const std::optional<int64_t> id = etcd_schema::IdOfKey(kv.key);
    if (!id) continue;
    absl::StatusOr<int64_t> millis = etcd_schema::DecodeHwm(kv.value);
    if (!millis.ok()) continue;
    WorkerRow& row = snapshot.workers[*id];
    row.worker_id = *id;
    row.hwm_millis = *millis;
  }

  if (!flags.worker_range.empty()) {
    snapshot.range = *ParseRange(flags.worker_range);
  } else {
    std::optional<int> bits;
    if (snapshot.config) bits = WorkerBitsOfConfig(*snapshot.config);
    snapshot.range_from_config = bits.has_value();
    snapshot.range =
        Range{0, (int64_t{1} << bits.value_or(Layout().worker_bits())) - 1};
  }
  for (const auto& [id, row] : snapshot.workers) {
    if (row.holder && snapshot.range.Contains(id)) ++snapshot.held_in_range;
  }
  return snapshot;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string joined;
  for (const std::string& part : parts) {
    if (!joined.empty()) joined += ",";
    joined += part;
  }
  return joined;
}

Json ConfigJson(const std::optional<std::string>& config) {
  if (!config) return nullptr;
  Json parsed = Json::parse(*config, nullptr, false);
  return parsed.is_discarded() ? Json(*config) : parsed;
}

void PrintJson(const ClusterFlags& flags, const Snapshot& snapshot,
               int64_t now_millis, Io& io) {
  Json json;
  json["cluster"] = flags.cluster;
  json["prefix"] = flags.prefix;
  json["config"] = ConfigJson(snapshot.config);
  json["range"] = {{"first", snapshot.range.first},
                   {"last", snapshot.range.last},
                   {"held", snapshot.held_in_range},
                   {"free", snapshot.range.size() - snapshot.held_in_range}};
  Json holders = Json::array();
  Json free_hwms = Json::array();
  for (const auto& [id, row] : snapshot.workers) {
    Json hwm = nullptr;
    Json entry;
    entry["worker_id"] = id;
    if (row.hwm_millis) {
      entry["hwm_ms"] = *row.hwm_millis;
      entry["hwm"] = FormatRfc3339Millis(*row.hwm_millis);
      entry["hwm_ahead_ms"] = *row.hwm_millis - now_millis;
    } else {
      entry["hwm_ms"] = nullptr;
      entry["hwm"] = nullptr;
      entry["hwm_ahead_ms"] = nullptr;
    }
    if (!row.holder) {
      free_hwms.push_back(entry);
      continue;
    }
    const etcd_schema::Holder& holder = *row.holder;
    entry["in_range"] = snapshot.range.Contains(id);
    entry["node"] = holder.node;
    entry["addresses"] = holder.addresses;
    entry["region"] = holder.region;
    entry["start_ms"] = holder.start_unix_millis;
    entry["start"] = holder.start_unix_millis > 0
                         ? Json(FormatRfc3339Millis(holder.start_unix_millis))
                         : Json(nullptr);
    // A string: lease IDs use all 64 bits, beyond JavaScript's numbers.
    entry["lease"] = std::to_string(row.lease);
    entry["lease_left_s"] =
        row.lease_left_seconds ? Json(*row.lease_left_seconds) : Json(nullptr);
    if (!row.lease_error.empty()) entry["lease_error"] = row.lease_error;
    if (!row.bad_entry.empty()) entry["bad_entry"] = row.bad_entry;
    holders.push_back(std::move(entry));
  }
  json["holders"] = std::move(holders);
  json["free_with_hwm"] = std::move(free_hwms);
  io.out << json.dump(2) << '\n';
}

void PrintTable(const ClusterFlags& flags, const Snapshot& snapshot, Io& io) {
  io.out << fmt::format("cluster  {} (prefix {})\n", flags.cluster,
                        flags.prefix);
  io.out << fmt::format("config   {}\n", snapshot.config
                                             ? *snapshot.config
                                             : std::string("none (no node has "
                                                           "started yet)"));
  io.out << fmt::format(
      "range    {}-{}{}: {} held, {} free\n", snapshot.range.first,
      snapshot.range.last,
      flags.worker_range.empty()
          ? (snapshot.range_from_config ? " (the layout's)"
                                        : " (the default layout's)")
          : "",
      snapshot.held_in_range, snapshot.range.size() - snapshot.held_in_range);

  std::vector<std::vector<std::string>> rows = {
      {"WORKER", "NODE", "ADDRESSES", "REGION", "HWM_MS", "HWM", "LEASE_LEFT"}};
  for (const auto& [id, row] : snapshot.workers) {
    if (!row.holder) continue;
    const etcd_schema::Holder& holder = *row.holder;
    std::string lease_left = row.lease_left_seconds
                                 ? fmt::format("{}s", *row.lease_left_seconds)
                             : row.lease_error.empty() ? "-"
                                                       : row.lease_error;
    rows.push_back({std::to_string(id),
                    row.bad_entry.empty() ? holder.node : "(unreadable entry)",
                    holder.addresses.empty() ? "-" : Join(holder.addresses),
                    holder.region.empty() ? "-" : holder.region,
                    row.hwm_millis ? std::to_string(*row.hwm_millis) : "-",
                    row.hwm_millis ? FormatRfc3339Millis(*row.hwm_millis) : "-",
                    std::move(lease_left)});
  }
  if (rows.size() == 1) {
    io.out << "no worker ID is held\n";
    return;
  }
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  io.out << '\n';
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 == row.size() ? row[i]
                                  : fmt::format("{:<{}}  ", row[i], widths[i]);
    }
    io.out << line << '\n';
  }
}

}  // namespace

int Cluster(const ClusterFlags& flags_in, Clock& clock, Io& io) {
  ClusterFlags flags = flags_in;
  while (flags.prefix.size() > 1 && flags.prefix.back() == '/') {
    flags.prefix.pop_back();
  }
  if (flags.endpoints.empty()) {
    return Fail(io, kExitUsage, "--etcd: give at least one etcd URL");
  }
  if (flags.cluster.empty() || flags.cluster.find('/') != std::string::npos) {
    return Fail(io, kExitUsage,
                "--cluster: a non-empty name without \"/\" is needed, got \"" +
                    flags.cluster + "\"");
  }
  if (flags.prefix.empty() || flags.prefix.front() != '/') {
    return Fail(
        io, kExitUsage,
        "--prefix: must start with \"/\", got \"" + flags.prefix + "\"");
  }
  if (!flags.worker_range.empty() && !ParseRange(flags.worker_range)) {
    return Fail(io, kExitUsage,
                "--worker-range: expected A-B with 0 <= A <= B, got \"" +
                    flags.worker_range + "\"");
  }
  if (flags.timeout_millis <= 0) {
    return Fail(io, kExitUsage, "--timeout-ms: must be positive");
  }
  absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> client = Connect(flags);
  if (!client.ok()) {
    return Fail(io, kExitUsage, Message(client.status()));
  }
  absl::StatusOr<Snapshot> snapshot = Read(flags, **client);
  if (!snapshot.ok()) {
    return Fail(
        io, kExitBadData,
        "cannot read the cluster from etcd: " + Message(snapshot.status()));
  }
  if (flags.json) {
    PrintJson(flags, *snapshot, clock.NowMicros() / 1000, io);
  } else {
    PrintTable(flags, *snapshot, io);
  }
  return kExitOk;
}

CLI::App* ClusterCommand::Add(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "cluster",
      "List a cluster's state in etcd: layout, worker-ID holders, their "
      "high-water marks and lease time left, free IDs");
  cmd->footer(
      "Example:\n"
      "  snowflake cluster --etcd http://127.0.0.1:2379 --cluster prod\n"
      "  snowflake cluster --etcd https://e1:2379,https://e2:2379 "
      "--ca ca.pem --cert client.pem --key client-key.pem --json");
  cmd->add_option("--etcd", flags_.endpoints,
                  "etcd client URLs, comma-separated")
      ->type_name("URL[,URL]")
      ->delimiter(',')
      ->required();
  cmd->add_option("--cluster", flags_.cluster, "Cluster name")
      ->type_name("NAME")
      ->capture_default_str();
  cmd->add_option("--prefix", flags_.prefix, "Key prefix in etcd")
      ->type_name("P")
      ->capture_default_str();
  cmd->add_option("--worker-range", flags_.worker_range,
                  "Count the free IDs of this range (default: every worker "
                  "ID of the cluster's layout)")
      ->type_name("A-B");
  cmd->add_flag("--json", flags_.json, "Print one JSON object");
  cmd->add_option("--ca,--etcd-ca", flags_.ca_file,
                  "CA bundle (PEM) that verifies etcd")
      ->type_name("FILE");
  cmd->add_option("--cert,--etcd-cert", flags_.cert_file,
                  "Client certificate (PEM)")
      ->type_name("FILE");
  cmd->add_option("--key,--etcd-key", flags_.key_file,
                  "Client certificate's key (PEM)")
      ->type_name("FILE");
  cmd->add_option("--user,--etcd-user", flags_.user, "etcd user name")
      ->type_name("U");
  cmd->add_option("--password,--etcd-password", flags_.password,
                  "etcd password")
      ->type_name("P");
  cmd->add_option("--timeout-ms", flags_.timeout_millis,
                  "Deadline of each etcd call on each endpoint")
      ->type_name("MS")
      ->capture_default_str();
  return cmd;
}

int ClusterCommand::Run(Clock& clock, Io& io) {
  return Cluster(flags_, clock, io);
}

}  // namespace snowflake::cli
