#include "src/cli/get_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "snowflake/client.h"
#include "src/base/strings.h"
#include "src/cli/internal/cluster_util.h"
#include "src/cli/internal/coordinator_flags.h"

namespace snowflake::cli {
namespace {

constexpr std::string_view kCommand = "get";
// Output is written in pieces of about this many bytes.
constexpr size_t kOutputChunk = size_t{64} * 1024;

int Fail(Io& io, int exit_code, std::string_view message) {
  return internal::Fail(io, kCommand, exit_code, message);
}

// IDs to the output stream, in the chosen format.
class Printer {
 public:
  Printer(std::ostream& out, bool binary) : out_(out), binary_(binary) {}
  ~Printer() { Flush(); }
  Printer(const Printer&) = delete;
  Printer& operator=(const Printer&) = delete;

  void Add(uint64_t id) {
    if (binary_) {
      for (int shift = 56; shift >= 0; shift -= 8) {
        buffer_.push_back(static_cast<char>(id >> shift));
      }
    } else {
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof(digits), id).ptr;
      buffer_.append(digits, end);
      buffer_.push_back('\n');
    }
    if (buffer_.size() >= kOutputChunk) Flush();
  }
  void Flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }

 private:
  std::ostream& out_;
  const bool binary_;
  std::string buffer_;
};

// The flags' errors; kExitOk when they are fine.
int CheckFlags(GetFlags& flags, Io& io) {
  if (flags.count < 1 || flags.count > kMaxGenCount) {
    return Fail(
        io, kExitUsage,
        fmt::format("-n: must be 1 to {}, got {}", kMaxGenCount, flags.count));
  }
  if (flags.format != "decimal" && flags.format != "binary") {
    return Fail(io, kExitUsage,
                fmt::format("--format: decimal or binary, got \"{}\"",
                            base::OneLine(flags.format)));
  }
  if (flags.transport != "http" && flags.transport != "grpc") {
    return Fail(io, kExitUsage,
                fmt::format("--transport: http or grpc, got \"{}\"",
                            base::OneLine(flags.transport)));
  }
  if (flags.deadline_millis <= 0) {
    return Fail(io, kExitUsage,
                fmt::format("--deadline-ms: must be positive, got {}",
                            flags.deadline_millis));
  }
  const bool coordinator = !flags.coordinator.endpoints.empty() ||
                           !flags.coordinator.zookeeper_hosts.empty();
  if (flags.endpoints.empty() && !coordinator) {
    return Fail(io, kExitUsage,
                "give the nodes (--endpoints http://HOST:PORT[,...], or "
                "grpc://HOST:PORT) or their "
                "coordinator (--etcd URL[,...] or --zookeeper HOST:PORT[,...], "
                "with --cluster)");
  }
  if (!flags.endpoints.empty() && coordinator) {
    return Fail(io, kExitUsage,
                "--endpoints and --etcd/--zookeeper: give one way to find the "
                "nodes");
  }
  if (coordinator) {
    return internal::CheckClusterFlags(flags.coordinator, kCommand, io);
  }
  return kExitOk;
}

ClientOptions OptionsOf(const GetFlags& flags) {
  ClientOptions options;
  options.endpoints = flags.endpoints;
  const ClusterFlags& c = flags.coordinator;
  options.discovery.etcd_endpoints = c.endpoints;
  options.discovery.zookeeper_hosts = c.zookeeper_hosts;
  options.discovery.zookeeper_auth = c.zookeeper_auth;
  options.discovery.cluster = c.cluster;
  options.discovery.prefix = c.prefix;
  options.discovery.etcd_ca_file = c.ca_file;
  options.discovery.etcd_cert_file = c.cert_file;
  options.discovery.etcd_key_file = c.key_file;
  options.discovery.etcd_user = c.user;
  options.discovery.etcd_password = c.password;
  options.discovery.timeout = std::chrono::milliseconds(c.timeout_millis);
  options.transport = flags.transport == "grpc" ? ClientTransport::kGrpc
                                                : ClientTransport::kHttp;
  options.deadline = std::chrono::milliseconds(flags.deadline_millis);
  options.prefetch.enabled = !flags.no_prefetch;
  return options;
}

}  // namespace

int Get(const GetFlags& flags_in, Io& io) {
  GetFlags flags = flags_in;
  if (int code = CheckFlags(flags, io); code != kExitOk) return code;
  const ClientOptions options = OptionsOf(flags);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  if (!client.ok()) {
    if (absl::IsInvalidArgument(client.status())) {
      return Fail(io, kExitUsage, base::Message(client.status()));
    }
    return Fail(io, kExitBadData,
                fmt::format("cannot find the nodes: {}",
                            base::Message(client.status())));
  }
  Printer printer(io.out, flags.format == "binary");
  int64_t printed = 0;
  while (printed < flags.count) {
    if (options.prefetch.enabled) {
      absl::StatusOr<uint64_t> id = (*client)->Next();
      if (!id.ok()) {
        printer.Flush();
        return Fail(io, kExitBadData,
                    fmt::format("after {} IDs: {}", printed,
                                base::Message(id.status())));
      }
      printer.Add(*id);
      ++printed;
      continue;
    }
    const int64_t want = std::min(flags.count - printed, options.max_batch);
    absl::StatusOr<std::vector<uint64_t>> ids = (*client)->NextBatch(want);
    if (!ids.ok()) {
      printer.Flush();
      return Fail(io, kExitBadData,
                  fmt::format("after {} IDs: {}", printed,
                              base::Message(ids.status())));
    }
    for (uint64_t id : *ids) printer.Add(id);
    printed += want;
  }
  return kExitOk;
}

CLI::App* GetCommand::Add(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "get",
      "Take IDs from a running cluster (the client library: failover between "
      "nodes, discovery on etcd or ZooKeeper, prefetch)");
  cmd->footer(
      "IDs come one a line in decimal, or as big-endian 64-bit numbers with "
      "--format binary. With prefetch (the default) the client fetches "
      "ahead, and the IDs it fetched but did not print are gaps; "
      "--no-prefetch takes exactly the IDs printed, in batches. An endpoint's "
      "scheme picks its protocol: http:// or grpc:// (the node's "
      "--grpc-listen port); discovered nodes are asked over --transport, "
      "over HTTP when a node advertises no gRPC address.\n\n"
      "Example:\n"
      "  snowflake get -n 5 --endpoints http://127.0.0.1:8081,"
      "http://127.0.0.1:8082\n"
      "  snowflake get -n 5 --endpoints grpc://127.0.0.1:9091\n"
      "  snowflake get --etcd http://127.0.0.1:2379 --cluster demo "
      "--transport grpc\n"
      "  snowflake get -n 1000000 --etcd http://127.0.0.1:2379 --cluster demo "
      "--format binary > ids.bin\n"
      "  snowflake get --zookeeper zk1:2181 --cluster prod --no-prefetch");
  cmd->add_option("-n,--count", flags_.count,
                  "How many IDs, 1 to " + std::to_string(kMaxGenCount))
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--endpoints", flags_.endpoints,
                  "The nodes' URLs, http://HOST:PORT or grpc://HOST:PORT, "
                  "comma-separated (or --etcd or --zookeeper to find them)")
      ->type_name("URL[,URL]")
      ->delimiter(',');
  internal::AddCoordinatorFlags(*cmd, flags_.coordinator);
  cmd->add_option("--transport", flags_.transport,
                  "http or grpc: the protocol to ask discovered nodes over "
                  "(a node that advertises no gRPC address: HTTP)")
      ->type_name("T")
      ->capture_default_str();
  cmd->add_option("--format", flags_.format,
                  "decimal (one a line) or binary (big-endian u64s)")
      ->type_name("F")
      ->capture_default_str();
  cmd->add_flag("--no-prefetch", flags_.no_prefetch,
                "Take IDs in batches of exactly what is printed, no buffer "
                "ahead");
  cmd->add_option("--deadline-ms", flags_.deadline_millis,
                  "How long each call of the client may take, failing over "
                  "between nodes")
      ->type_name("MS")
      ->capture_default_str();
  internal::AddConnectionFlags(*cmd, flags_.coordinator);
  return cmd;
}

int GetCommand::Run(Clock& /*clock*/, Io& io) { return Get(flags_, io); }

}  // namespace snowflake::cli
