#include "src/server/config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "src/base/cpus.h"
#include "src/base/strings.h"
#include "src/server/internal/settings.h"
#include "src/server/limits.h"

namespace snowflake {
namespace {

using base::Append;
using base::Cat;
using internal::Found;
using internal::Kind;
using internal::kRegionsKey;
using internal::Setting;
using internal::Settings;

using WhereFn = std::function<std::string(const std::string& key)>;

// The file key of CoordinatorTtlSeconds' setting.
std::string CoordinatorTtlKey(const Config& config) {
  return config.worker_mode == "zookeeper" ? "zookeeper.session_timeout_s"
                                           : "etcd.lease_ttl_s";
}

// Settings whose values --print-config and error messages must not show.
// `keep_user`: "USER:PASSWORD", of which the user may be shown.
struct Secret {
  std::string_view key;
  bool keep_user = false;
};
constexpr Secret kSecrets[] = {{"etcd.password"}, {"zookeeper.auth", true}};

const Secret* FindSecret(std::string_view key) {
  for (const Secret& secret : kSecrets) {
    if (secret.key == key) return &secret;
  }
  return nullptr;
}

// A set secret as it may be shown: "<redacted>", or "USER:<redacted>".
std::string Redact(const Secret& secret, std::string_view value) {
  const size_t colon = value.find(':');
  if (secret.keep_user && colon != std::string_view::npos) {
    return Cat(value.substr(0, colon), ":<redacted>");
  }
  return "<redacted>";
}

// `value`, redacted if `key` is a secret and the value is set.
std::string Shown(std::string_view key, const std::string& value) {
  const Secret* secret = FindSecret(key);
  return secret != nullptr && !value.empty() ? Redact(*secret, value) : value;
}

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
  if (config.worker_mode == "static" &&
      !range->Contains(WorkerRange{
          config.worker_id, config.worker_id + EffectiveWorkers(config) - 1})) {
    return absl::InvalidArgumentError(Cat(
        where("worker.id"),
        EffectiveWorkers(config) > 1
            ? Cat(" with ", where("worker.count"), " (IDs ", config.worker_id,
                  " to ", config.worker_id + EffectiveWorkers(config) - 1, ")")
            : std::string(),
        in_region));
  }
  return absl::OkStatus();
}

// The outage budget and what depends on it (docs/operations.md).
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
  if (!UsesCoordinator(config)) return absl::OkStatus();
  if (config.max_start_wait_millis < budget_millis) {
    return absl::InvalidArgumentError(
        Cat(where("clock.max_start_wait_ms"), ": must be at least ",
            where("worker.outage_budget_s"), " (", budget_millis, " ms) in ",
            config.worker_mode,
            " mode, or a successor of a crashed node could never start"));
  }
  // The session is renewed every third of its TTL (etcd keep-alive,
  // ZooKeeper ping).
  const int64_t renewal_millis = CoordinatorTtlSeconds(config) * 1000 / 3;
  if (renewal_millis >= budget_millis) {
    const bool zookeeper = config.worker_mode == "zookeeper";
    return absl::InvalidArgumentError(
        Cat(where(CoordinatorTtlKey(config)), ": its ",
            zookeeper ? "ping interval (timeout/3 = "
                      : "keep-alive interval (TTL/3 = ",
            renewal_millis, " ms) must be below ",
            where("worker.outage_budget_s"), " (", budget_millis,
            " ms), or a node could exhaust its stored high-water mark "
            "between two ",
            zookeeper ? "pings" : "keep-alives"));
  }
  return absl::OkStatus();
}

// Cross-field checks and the layout, which depends on three keys.
absl::Status Finish(const internal::RawLayout& raw,
                    const std::map<std::string, Found>& eff, Config& config) {
  const WhereFn where = [&](const std::string& key) {
    const Found& f = eff.at(key);
    return Cat(key, " = \"", Shown(key, f.value), "\" (", f.source, ")");
  };
  absl::StatusOr<Layout> base = internal::ParseLayoutText(raw.layout);
  if (!base.ok()) {
    return absl::InvalidArgumentError(
        Cat(where("layout.widths"), ": ", base.status().message()));
  }
  LayoutSpec spec = base->spec();
  if (!raw.epoch.empty()) {
    auto epoch = internal::ParseEpoch(raw.epoch);
    if (!epoch.ok()) {
      return absl::InvalidArgumentError(
          Cat(where("layout.epoch"), ": ", epoch.status().message()));
    }
    spec.epoch_millis = *epoch;
  }
  if (!raw.unit.empty()) {
    (void)base::ParseInt(raw.unit, spec.unit_millis);
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
  if (config.worker_mode == "static" &&
      config.worker_id + EffectiveWorkers(config) - 1 >
          config.layout.max_worker()) {
    return absl::InvalidArgumentError(
        Cat(where("worker.id"), " with ", where("worker.count"),
            ": static mode holds worker IDs ", config.worker_id, " to ",
            config.worker_id + EffectiveWorkers(config) - 1,
            ", but the layout ", config.layout.ToString(),
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

// --help's group of the flags that are no setting.
constexpr char kGeneralGroup[] = "General";

// --help's group of a setting: its TOML table, so that --help reads in the
// same sections as a configuration file.
std::string GroupOf(const Setting& setting) {
  const std::string_view section = internal::SectionOf(setting.key);
  if (section.empty()) return "Top-level settings (file: before any table)";
  return Cat("[", section, "] settings");
}

}  // namespace

int EffectiveWorkers(const Config& config) {
  return config.workers > 0 ? config.workers : base::CpusAllowed();
}

bool UsesCoordinator(const Config& config) {
  return config.worker_mode == "etcd" || config.worker_mode == "zookeeper";
}

namespace {

constexpr std::string_view kGrpcScheme = "grpc://";

// The host of "HOST:PORT", "[v6]:PORT" or "SCHEME://HOST:PORT", brackets
// kept; empty when there is no ':'.
std::string_view HostOf(std::string_view address) {
  if (const size_t scheme = address.find("://");
      scheme != std::string_view::npos) {
    address.remove_prefix(scheme + 3);
  }
  const size_t colon = address.rfind(':');
  return colon == std::string_view::npos ? std::string_view()
                                         : address.substr(0, colon);
}

}  // namespace

std::vector<std::string> AdvertisedAddresses(const Config& config) {
  const bool v6 = config.listen_host.find(':') != std::string::npos;
  std::vector<std::string> addresses =
      config.advertise.empty() ? std::vector<std::string>{Cat(
                                     v6 ? "[" : "", config.listen_host,
                                     v6 ? "]" : "", ":", config.listen_port)}
                               : config.advertise;
  if (config.grpc_listen.empty()) return addresses;
  for (const std::string& address : addresses) {
    if (base::ToLower(address).starts_with(kGrpcScheme)) return addresses;
  }
  const std::string_view grpc = config.grpc_listen;
  std::string_view host = HostOf(grpc);
  const std::string_view port = grpc.substr(host.size());  // ":PORT".
  if (host == "0.0.0.0" || host == "[::]") {
    if (const std::string_view named = HostOf(addresses.front());
        !named.empty()) {
      host = named;
    }
  }
  addresses.push_back(Cat(kGrpcScheme, host, port));
  return addresses;
}

int64_t CoordinatorTtlSeconds(const Config& config) {
  if (config.worker_mode == "etcd") return config.lease_ttl_seconds;
  if (config.worker_mode == "zookeeper") return config.session_timeout_seconds;
  return 0;
}

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
  app.get_formatter()->column_width(40);
  app.footer(
      "Precedence: flag > environment > file > default. Each setting's file "
      "key and variable follow its help; docs/configuration.md has them "
      "all.");
  app.set_help_flag("-h,--help", "Print this help and exit")
      ->group(kGeneralGroup);
  app.set_version_flag("--version", SNOWFLAKE_VERSION)->group(kGeneralGroup);
  std::string config_path;
  bool check = false;
  bool print = false;
  app.add_option("--config", config_path,
                 "TOML configuration file (env SNOWFLAKE_CONFIG)")
      ->type_name("FILE")
      ->group(kGeneralGroup);
  app.add_flag("--check-config", check,
               "Validate the configuration and exit (0: valid); says what "
               "it checked and what it did not")
      ->group(kGeneralGroup);
  app.add_flag("--print-config", print,
               "Print each effective setting and its source, then exit")
      ->group(kGeneralGroup);
  std::vector<std::string> flag_values(settings.size());
  std::vector<CLI::Option*> options(settings.size());
  for (size_t i = 0; i < settings.size(); ++i) {
    const Setting& s = settings[i];
    options[i] = app.add_option(std::string(s.flag), flag_values[i],
                                Cat(s.help, " (", s.key, ", env ", s.env, ")"));
    options[i]->group(GroupOf(s));
    // Shown as TYPE=DEFAULT; an empty default (its help says what it means)
    // is not shown. LoadConfig applies the defaults itself: CLI11 would
    // also take a default_str as the value of a bool flag given bare
    // (--access-log), so for bools the default is only written in the type.
    if (s.kind == Kind::kBool) {
      options[i]->expected(0, 1)->type_name(Cat(s.type, "=", s.default_text));
    } else {
      options[i]->type_name(std::string(s.type));
      if (!s.default_text.empty()) options[i]->default_str(s.default_text);
    }
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
    if (auto s = internal::ReadSettingsFile(config_path, file_values);
        !s.ok()) {
      return s;
    }
  }

  internal::RawLayout raw;
  std::map<std::string, Found> effective;
  for (size_t i = 0; i < settings.size(); ++i) {
    const Setting& s = settings[i];
    const std::string key(s.key);
    Found found{s.default_text, "default"};
    if (options[i]->count() > 0) {
      found = {flag_values[i], Cat("flag ", s.flag)};
      if (s.kind == Kind::kBool && found.value.empty()) found.value = "true";
    } else if (auto value = env(std::string(s.env))) {
      found = {*value, Cat("env ", s.env)};
    } else if (auto it = file_values.find(key); it != file_values.end()) {
      found = it->second;
    }
    if (auto status = s.apply(found.value, loaded.config, raw); !status.ok()) {
      return absl::InvalidArgumentError(
          Cat(key, " = \"", Shown(key, found.value), "\" (", found.source,
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

// `key = "value" (source)` of a loaded setting, for messages.
std::string Where(const LoadedConfig& loaded, std::string_view key) {
  for (const ConfigValue& v : loaded.values) {
    if (v.key == key) {
      return Cat(v.key, " = \"", v.value, "\" (", v.source, ")");
    }
  }
  return std::string(key);
}

// "69.2": tenths of a 365.25-day year, rounded down.
std::string Years(int64_t millis) {
  constexpr int64_t kTenthOfYearMillis = 36525LL * 86'400'000 / 1000;
  const int64_t tenths = millis / kTenthOfYearMillis;
  return Cat(tenths / 10, ".", tenths % 10);
}

// "an ID" or "N IDs": what a coordinator-mode node claims.
std::string IdsOf(const Config& c) {
  const int n = EffectiveWorkers(c);
  return n == 1 ? std::string("an ID") : Cat(n, " IDs");
}

}  // namespace

absl::Status CheckLayoutAt(const LoadedConfig& loaded,
                           int64_t now_unix_millis) {
  const Layout& layout = loaded.config.layout;
  const std::string now = FormatRfc3339Millis(now_unix_millis);
  if (layout.epoch_millis() > now_unix_millis) {
    return absl::FailedPreconditionError(
        Cat(Where(loaded, "layout.epoch"), ": the epoch ",
            FormatRfc3339Millis(layout.epoch_millis()),
            " is in the future (now ", now,
            "): no ID can be issued before it; the epoch must lie in the "
            "past"));
  }
  const int64_t end_millis = layout.Limits().end_millis;
  if (now_unix_millis >= end_millis) {
    return absl::FailedPreconditionError(
        Cat(Where(loaded, "layout.widths"), ", ", Where(loaded, "layout.epoch"),
            ": the layout's time range is "
            "used up: its ",
            layout.time_bits(), " time bits of ", layout.unit_millis(),
            " ms from the epoch ran out at ", FormatRfc3339Millis(end_millis),
            " (now ", now,
            "), so no ID can be issued; use more time bits, a longer unit "
            "or a later epoch"));
  }
  return absl::OkStatus();
}

std::string CheckReport(const LoadedConfig& loaded, int64_t now_unix_millis) {
  const Config& c = loaded.config;
  const LayoutLimits limits = c.layout.Limits();
  std::string out = "configuration ok\n";
  Append(out, "  layout: ", c.layout.ToString(), "; IDs until ",
         FormatRfc3339Millis(limits.end_millis), " (",
         Years(limits.end_millis - now_unix_millis), " years from now)\n");
  Append(out, "  listen: ", c.listen_host, ":", c.listen_port, "\n");
  if (UsesCoordinator(c)) {
    const int64_t last =
        c.worker_range_last < 0 ? c.layout.max_worker() : c.worker_range_last;
    const std::string whose =
        c.worker_range_source == WorkerRangeSource::kRegion
            ? Cat("region ", c.region, "'s")
        : c.worker_range_source == WorkerRangeSource::kExplicit
            ? std::string("worker.range")
            : std::string("all of the layout's");
    if (c.worker_mode == "zookeeper") {
      Append(out, "  worker: zookeeper mode: ", IdsOf(c), " of ",
             c.worker_range_first, "-", last, " (", whose, ") ",
             EffectiveWorkers(c) == 1 ? "is" : "are",
             " claimed at start (an ephemeral znode) in cluster \"", c.cluster,
             "\" under ", c.zookeeper_root, " on ", c.zookeeper_hosts, "\n");
      Append(out,
             "  not checked: ZooKeeper (not contacted by --check-config: "
             "whether it is reachable, the chroot exists, the auth is "
             "accepted, an ID is free and the same layout is stored is known "
             "at start), the state directory ",
             c.state_dir, ", the listen port\n");
    } else {
      std::string endpoints;
      for (const std::string& e : c.etcd_endpoints) {
        Append(endpoints, endpoints.empty() ? "" : ",", e);
      }
      Append(out, "  worker: etcd mode: ", IdsOf(c), " of ",
             c.worker_range_first, "-", last, " (", whose, ") ",
             EffectiveWorkers(c) == 1 ? "is" : "are",
             " leased at start in cluster \"", c.cluster, "\" under ",
             c.etcd_prefix, " on ", endpoints, "\n");
      Append(out,
             "  not checked: etcd (not contacted by --check-config: whether "
             "it is reachable, has a free ID and stores the same layout is "
             "known at start), the state directory ",
             c.state_dir, ", the listen port\n");
    }
  } else {
    const int n = EffectiveWorkers(c);
    Append(
        out, "  worker: static mode: worker ID ", c.worker_id,
        n > 1 ? Cat(" to ", c.worker_id + n - 1) : std::string(),
        c.worker_id_explicit ? "" : " (the default: only one node may use it)",
        "; high-water mark in ", c.state_dir, "\n");
    Append(out, "  not checked: the state directory ", c.state_dir,
           " (opened and locked at start), the listen port\n");
  }
  return out;
}

namespace {

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

std::string TomlQuote(std::string_view value) {
  std::string out = "\"";
  while (!value.empty()) {
    const unsigned char c = static_cast<unsigned char>(value[0]);
    const size_t length = base::Utf8SequenceLength(value);
    if (length == 0) {
      out += "\\uFFFD";  // TOML holds only UTF-8: the bad byte is replaced.
      value.remove_prefix(1);
      continue;
    }
    if (length > 1) {
      out.append(value.substr(0, length));
    } else if (c == '"' || c == '\\') {
      Append(out, "\\", static_cast<char>(c));
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      out += absl::StrFormat("\\u%04X", c);
    } else {
      out += static_cast<char>(c);
    }
    value.remove_prefix(length);
  }
  out += '"';
  return out;
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
    if (const Secret* secret = FindSecret(value.key);
        secret != nullptr && !value.value.empty()) {
      text = TomlQuote(Redact(*secret, value.value));
    } else if (kind == Kind::kRegions) {
      // An inline table: [regions] in the file's own form.
      text = "{";
      for (const auto& [name, range] : loaded.config.regions.regions()) {
        Append(text, text.size() > 1 ? ", " : " ", name, " = \"",
               range.ToString(), "\"");
      }
      text += text.size() > 1 ? " }" : "}";
    } else if (kind == Kind::kString) {
      text = TomlQuote(value.value);
    } else if (kind == Kind::kBool) {
      text =
          internal::ParseBool(value.value).value_or(false) ? "true" : "false";
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
           s.default_text.empty() ? "\"\"" : s.default_text, "` | ", s.help,
           " |\n");
  }
  return out;
}

}  // namespace snowflake
