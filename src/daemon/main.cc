// snowflaked: one Snowflake ID generator node. Reads the configuration,
// wires lease, node, handler, listener and (with --grpc-listen) the gRPC
// server together, and turns SIGTERM and SIGINT into a graceful shutdown (a
// second signal exits at once). SIGHUP, SIGUSR1, SIGUSR2 and SIGALRM, which
// would kill the process with no drain, are logged and ignored.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "snowflake/clock.h"
#include "spdlog/spdlog.h"
#include "src/base/cpus.h"
#include "src/client/coordinator_store.h"
#include "src/daemon/grpc_module.h"
#include "src/daemon/systemd_notify.h"
#include "src/lease/cluster_view.h"
#include "src/lease/etcd/etcd_lease.h"
#include "src/lease/state_dir.h"
#include "src/lease/static_lease.h"
#include "src/lease/zookeeper/zookeeper_lease.h"
#include "src/server/cluster_status.h"
#include "src/server/config.h"
#include "src/server/grpc_service.h"
#include "src/server/http_handler.h"
#include "src/server/http_listener.h"
#include "src/server/kernel_clock.h"
#include "src/server/limits.h"
#include "src/server/logging.h"
#include "src/server/metrics.h"
#include "src/server/node.h"

namespace snowflake {
namespace {

// Set by the signal thread, waited for by main.
struct ShutdownSignal {
  std::mutex mu;
  std::condition_variable cv;
  bool requested = false;
  std::atomic<bool> starting{true};
};

// Signals that stop the node (gracefully).
constexpr int kStopSignals[] = {SIGTERM, SIGINT};

// Signals whose default action would kill the node at once, with no drain:
// there is no reload or other use for them, so they are logged and ignored.
struct IgnoredSignal {
  int number;
  const char* name;
};
constexpr IgnoredSignal kIgnoredSignals[] = {{SIGHUP, "SIGHUP"},
                                             {SIGUSR1, "SIGUSR1"},
                                             {SIGUSR2, "SIGUSR2"},
                                             {SIGALRM, "SIGALRM"}};

// Every signal the signal thread waits for; blocked in every thread.
sigset_t HandledSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : kStopSignals) sigaddset(&signals, sig);
  for (const IgnoredSignal& ignored : kIgnoredSignals) {
    sigaddset(&signals, ignored.number);
  }
  return signals;
}

const char* IgnoredSignalName(int sig) {
  for (const IgnoredSignal& ignored : kIgnoredSignals) {
    if (ignored.number == sig) return ignored.name;
  }
  return nullptr;
}

// The name the node's claims carry (nodes/<name>, workers/<id>).
std::string PublishedNodeName(const Config& config) {
  return config.node_name.empty()
             ? HostName() + ":" + std::to_string(config.listen_port)
             : config.node_name;
}

// What every coordinator mode's lease is given (ttl_seconds excepted);
// `slot` numbers the node's workers (--workers).
void FillClusterOptions(const Config& config, int slot,
                        ClusterLeaseOptions& options) {
  options.cluster = config.cluster;
  options.layout = config.layout;
  options.range_first = config.worker_range_first;
  options.range_last = config.worker_range_last < 0 ? config.layout.max_worker()
                                                    : config.worker_range_last;
  options.regions = config.regions;
  options.max_clock_skew_millis = config.max_clock_skew_millis;
  options.node_name = PublishedNodeName(config);
  options.region = config.region;
  options.addresses = AdvertisedAddresses(config);
  options.state_dir = config.state_dir;
  options.slot = slot;
}

// The lease of the configured worker mode for worker `slot`. `grpc`: the
// loaded gRPC module in etcd mode.
absl::StatusOr<std::unique_ptr<WorkerLease>> MakeLease(const Config& config,
                                                       const GrpcModule* grpc,
                                                       int slot) {
  if (config.worker_mode == "static") {
    return std::make_unique<StaticLease>(
        config.worker_id + slot, config.state_dir, config.worker_id,
        config.worker_id + EffectiveWorkers(config) - 1);
  }
  if (config.worker_mode == "zookeeper") {
    ZooKeeperLeaseOptions options;
    FillClusterOptions(config, slot, options);
    options.ttl_seconds = config.session_timeout_seconds;
    options.hosts = config.zookeeper_hosts;
    options.root = config.zookeeper_root;
    options.auth = config.zookeeper_auth;
    auto lease = ZooKeeperLease::Create(std::move(options));
    if (!lease.ok()) return lease.status();
    return std::unique_ptr<WorkerLease>(*std::move(lease));
  }
  EtcdLeaseOptions options;
  FillClusterOptions(config, slot, options);
  options.ttl_seconds = config.lease_ttl_seconds;
  options.client.endpoints = config.etcd_endpoints;
  if (!config.etcd_ca_file.empty() || !config.etcd_cert_file.empty() ||
      !config.etcd_key_file.empty()) {
    options.client.tls = etcd::TlsOptions{
        config.etcd_ca_file, config.etcd_cert_file, config.etcd_key_file};
  }
  options.client.username = config.etcd_username;
  options.client.password = config.etcd_password;
  options.prefix = config.etcd_prefix;
  return grpc->create_etcd_lease(std::move(options));
}

// One lease per worker the node holds (--workers), each leased and fenced
// on its own.
absl::StatusOr<std::vector<std::unique_ptr<WorkerLease>>> MakeLeases(
    const Config& config, const GrpcModule* grpc) {
  std::vector<std::unique_ptr<WorkerLease>> leases;
  const int workers = EffectiveWorkers(config);
  for (int slot = 0; slot < workers; ++slot) {
    auto lease = MakeLease(config, grpc, slot);
    if (!lease.ok()) return lease.status();
    leases.push_back(*std::move(lease));
  }
  return leases;
}

// With a coordinator, the status page's cluster view: the cluster as the
// coordinator holds it, read on a connection of its own (docs/operations.md,
// "The status page"). Null in static mode.
std::unique_ptr<ClusterStatus> MakeClusterStatus(const Config& config,
                                                 const GrpcModule* grpc) {
  if (config.worker_mode == "static") return nullptr;
  const bool zookeeper = config.worker_mode == "zookeeper";
  client::CoordinatorOptions coordinator;
  if (zookeeper) {
    coordinator.zookeeper_hosts = config.zookeeper_hosts;
    coordinator.zookeeper_auth = config.zookeeper_auth;
  } else {
    coordinator.etcd_endpoints = config.etcd_endpoints;
    coordinator.ca_file = config.etcd_ca_file;
    coordinator.cert_file = config.etcd_cert_file;
    coordinator.key_file = config.etcd_key_file;
    coordinator.user = config.etcd_username;
    coordinator.password = config.etcd_password;
  }
  coordinator.timeout =
      std::chrono::milliseconds(limits::kClusterReadTimeoutMillis);
  ClusterStatusOptions options;
  options.coordinator = zookeeper ? "ZooKeeper" : "etcd";
  options.cluster = config.cluster;
  options.node = PublishedNodeName(config);
  options.regions = config.regions;
  options.workers = WorkerRange{0, config.layout.max_worker()};
  return std::make_unique<ClusterStatus>(
      std::move(options),
      grpc->make_cluster_reader(
          std::move(coordinator),
          zookeeper ? config.zookeeper_root : config.etcd_prefix,
          config.cluster),
      [] { return SystemClock().NowMicros() / 1000; });
}

// Warnings about how this node is set up that cannot be refused outright.
void WarnAboutSetup(const Config& config, const StateDir& state_dir) {
  const int threads = config.threads > 0 ? config.threads : base::CpusAllowed();
  if (EffectiveWorkers(config) > threads) {
    spdlog::warn(
        "event=workers_above_threads workers={} threads={} action=\"each I/O "
        "thread issues from one worker: the workers beyond --threads serve "
        "only when another cannot; set --threads to at least --workers\"",
        EffectiveWorkers(config), threads);
  }
  if (config.worker_mode == "static" && !config.worker_id_explicit) {
    spdlog::warn(
        "event=default_worker_id worker_id={} action=\"only one node may run "
        "with this worker ID, on any host: a second one issues the same IDs. "
        "Give each static node its own --worker-id, or use --coordinator "
        "etcd or zookeeper\"",
        config.worker_id);
  }
  if (state_dir.fresh()) {
    spdlog::warn(
        "event=state_dir_empty state_dir={} action=\"no high-water mark or "
        "identity here: a first start, or the state directory was lost. If "
        "this node issued IDs before, restore the directory; {}\"",
        config.state_dir,
        config.worker_mode == "static"
            ? "without it, a clock behind the last run can repeat IDs"
            : "meanwhile the coordinator's marks protect its IDs");
  }
  const KernelClockState clock = ReadKernelClock();
  if (!clock.synchronized) {
    spdlog::warn(
        "event=clock_unsynchronized max_clock_skew_ms={} action=\"the kernel "
        "says the clock is not synchronized (NTP): uniqueness across "
        "takeovers assumes clocks within --max-clock-skew-ms of each other; "
        "fix time synchronization on this host\"",
        config.max_clock_skew_millis);
  } else if (clock.max_error_seconds * 2000 >
             static_cast<double>(config.max_clock_skew_millis)) {
    spdlog::warn(
        "event=clock_error_high max_error_ms={} max_clock_skew_ms={} "
        "action=\"the kernel's maximum clock error exceeds half the assumed "
        "skew between nodes; fix time synchronization or raise "
        "--max-clock-skew-ms\"",
        static_cast<int64_t>(clock.max_error_seconds * 1000),
        config.max_clock_skew_millis);
  }
}

// How many connections the listener may hold within the process's file
// descriptor limit (RLIMIT_NOFILE): `max_connections`, or fewer when the
// limit cannot also cover the node's own descriptors. Without this, idle
// connections use up the descriptors: accept fails in a loop and the HWM
// file cannot be written, so even open connections get 503. Raises the soft
// limit towards the hard one first. An error when the limit leaves room for
// fewer than limits::kMinConnections.
absl::StatusOr<int64_t> FitConnectionsToFdLimit(int64_t max_connections) {
  constexpr int64_t kReserve = limits::kReservedFileDescriptors;
  const int64_t needed = max_connections + kReserve;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("event=fd_limit_unknown error=\"{}\"", std::strerror(errno));
    return max_connections;
  }
  if (limit.rlim_cur != RLIM_INFINITY &&
      static_cast<int64_t>(limit.rlim_cur) < needed &&
      limit.rlim_cur < limit.rlim_max) {
    const rlim_t target = limit.rlim_max == RLIM_INFINITY ||
                                  static_cast<int64_t>(limit.rlim_max) > needed
                              ? static_cast<rlim_t>(needed)
                              : limit.rlim_max;
    const rlimit raised{target, limit.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      spdlog::info("event=fd_limit_raised from={} to={}", limit.rlim_cur,
                   target);
      limit.rlim_cur = target;
    } else {
      spdlog::warn("event=fd_limit_raise_failed from={} to={} error=\"{}\"",
                   limit.rlim_cur, target, std::strerror(errno));
    }
  }
  if (limit.rlim_cur == RLIM_INFINITY ||
      static_cast<int64_t>(limit.rlim_cur) >= needed) {
    return max_connections;
  }
  const int64_t fd_limit = static_cast<int64_t>(limit.rlim_cur);
  const int64_t fitting = fd_limit - kReserve;
  if (fitting < limits::kMinConnections) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the file descriptor limit (RLIMIT_NOFILE) is ", fd_limit,
        ": the node keeps ", kReserve,
        " for itself and needs room for at least ", limits::kMinConnections,
        " connections; raise LimitNOFILE (systemd) or ulimit -n "
        "to at least ",
        needed));
  }
  spdlog::warn(
      "event=max_connections_lowered max_connections={} fd_limit={} "
      "reserved_fds={} effective_max_connections={} action=\"the file "
      "descriptor limit cannot hold limits.max_connections plus the node's "
      "own descriptors: raise LimitNOFILE (systemd) or ulimit -n to at least "
      "{}, or lower limits.max_connections to at most {}\"",
      max_connections, fd_limit, kReserve, fitting, needed, fitting);
  return fitting;
}

int Run(const Config& config) {
  // Before anything holds a descriptor: a limit too low is refused here.
  auto max_connections = FitConnectionsToFdLimit(config.max_connections);
  if (!max_connections.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"",
                     max_connections.status().ToString());
    return 1;
  }
  // Locked first: two nodes on one state directory would share a worker
  // ID's local mark.
  auto state_dir = StateDir::Open(config.state_dir);
  if (!state_dir.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"",
                     state_dir.status().ToString());
    return 1;
  }
  WarnAboutSetup(config, **state_dir);
  // gRPC and the coordinators' clients are loaded only when used
  // (src/daemon/grpc_module.h).
  const GrpcModule* grpc = nullptr;
  if (config.worker_mode != "static" || !config.grpc_listen.empty()) {
    auto loaded = LoadGrpcModule();
    if (!loaded.ok()) {
      spdlog::critical("event=start_failed error=\"{}\"",
                       loaded.status().ToString());
      return 1;
    }
    grpc = *loaded;
  }
  auto leases = MakeLeases(config, grpc);
  if (!leases.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"",
                     leases.status().ToString());
    return 1;
  }
  auto clock = MakeClock(config.clock_source);
  if (!clock.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"",
                     clock.status().ToString());
    return 1;
  }
  NodeOptions node_options;
  node_options.name = config.node_name;
  node_options.region = config.region;
  node_options.cluster = config.cluster;
  node_options.clock_source = config.clock_source;
  node_options.generator.layout = config.layout;
  node_options.generator.tolerance_millis = config.tolerance_millis;
  node_options.generator.max_borrow_millis = config.max_borrow_millis;
  node_options.generator.sequence_start_max = config.sequence_start_max;
  if (config.worker_mode == "static") {
    node_options.hwm_reserve_millis = config.hwm_reserve_millis;
  } else {
    // The coordinator's mark is the fence: keep it one outage budget ahead,
    // so an outage shorter than that stops nobody.
    node_options.hwm_reserve_millis = config.outage_budget_seconds * 1000;
    node_options.hwm_write_interval_millis = config.hwm_write_interval_millis;
    node_options.switch_worker_behind_millis =
        config.switch_worker_behind_millis;
  }
  node_options.max_start_wait_millis = config.max_start_wait_millis;
  node_options.start_timeout_millis = config.start_timeout_seconds * 1000;
  Node node(node_options, *std::move(clock), *std::move(leases));

  Metrics metrics(BuildInfo{SNOWFLAKE_VERSION, config.layout.ToString(),
                            config.worker_mode});
  const bool admin_port = !config.admin_listen.empty();
  const std::unique_ptr<ClusterStatus> cluster_status =
      MakeClusterStatus(config, grpc);
  HandlerOptions handler_options{config.max_batch, SNOWFLAKE_VERSION};
  handler_options.cluster = cluster_status.get();
  handler_options.surface = admin_port ? Surface::kApi : Surface::kAll;
  HttpHandler handler(handler_options, node, metrics);
  handler_options.surface = Surface::kAdmin;
  HttpHandler admin_handler(handler_options, node, metrics);
  ListenerOptions listener_options;
  listener_options.host = config.listen_host;
  listener_options.port = config.listen_port;
  listener_options.threads = config.threads;
  listener_options.max_header_bytes = config.max_header_bytes;
  listener_options.max_connections = *max_connections;
  listener_options.idle_timeout_millis = config.idle_timeout_millis;
  listener_options.header_timeout_millis = config.header_timeout_millis;
  listener_options.access_log = config.access_log;

  // Signals go to one thread, which owns the shutdown decision.
  static ShutdownSignal signal_state;
  const sigset_t signals = HandledSignals();
  std::thread([&node, signals] {
    int count = 0;
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (const char* name = IgnoredSignalName(sig)) {
        spdlog::warn(
            "event=signal_ignored signal={} action=\"ignored: snowflaked "
            "has no reload; change the configuration and restart, and stop "
            "it with SIGTERM\"",
            name);
        continue;
      }
      if (++count > 1 || signal_state.starting.load()) {
        // The stored HWM is always ahead of every issued ID, so leaving
        // now is safe; the next start may just wait a little longer.
        spdlog::warn("event=exit_now signal={} reason={}", sig,
                     count > 1 ? "second_signal" : "signal_during_start");
        spdlog::default_logger()->flush();
        _exit(count > 1 ? 1 : 0);
      }
      node.BeginShutdown();  // /readyz fails from now on.
      spdlog::info("event=shutdown_begin signal={}", sig);
      NotifyStopping();
      std::lock_guard<std::mutex> lock(signal_state.mu);
      signal_state.requested = true;
      signal_state.cv.notify_all();
    }
  }).detach();

  auto listener = HttpListener::Start(listener_options, handler, metrics);
  if (!listener.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"",
                     listener.status().ToString());
    return 1;
  }
  // The operators' port (--admin-listen), served while the node starts
  // like the main one: the page shows why it is not ready yet.
  std::unique_ptr<HttpListener> admin_listener;
  if (admin_port) {
    ListenerOptions admin_options = listener_options;
    admin_options.host = config.admin_listen_host;
    admin_options.port = config.admin_listen_port;
    admin_options.threads = limits::kAdminThreads;
    admin_options.max_connections = limits::kAdminMaxConnections;
    admin_options.log_event = "admin_listening";
    auto started = HttpListener::Start(admin_options, admin_handler, metrics);
    if (!started.ok()) {
      spdlog::critical("event=start_failed error=\"{} (--admin-listen)\"",
                       started.status().ToString());
      (*listener)->Shutdown(std::chrono::milliseconds(0));
      return 1;
    }
    admin_listener = *std::move(started);
  }
  // Like HTTP, served while the node starts: health says NOT_SERVING and
  // calls get UNAVAILABLE until it is ready, and a port in use fails now.
  std::unique_ptr<GrpcServer> grpc_server;
  if (!config.grpc_listen.empty()) {
    GrpcServerOptions grpc_options;
    grpc_options.address = config.grpc_listen;
    grpc_options.max_batch = config.max_batch;
    grpc_options.max_waiting_ids = handler.MaxWaitingIds();
    grpc_options.version = SNOWFLAKE_VERSION;
    grpc_options.regions = config.regions;
    auto started = grpc->start_grpc_server(grpc_options, node, metrics);
    if (!started.ok()) {
      spdlog::critical("event=start_failed error=\"{}\"",
                       started.status().ToString());
      (*listener)->Shutdown(std::chrono::milliseconds(0));
      if (admin_listener) {
        admin_listener->Shutdown(std::chrono::milliseconds(0));
      }
      return 1;
    }
    grpc_server = *std::move(started);
  }
  spdlog::info(
      "event=starting worker_mode={} state_dir={} layout=\"{}\" clock={}",
      config.worker_mode, config.state_dir, config.layout.ToString(),
      config.clock_source);
  NotifyStatus("starting: acquiring the worker ID, waiting for the clock");
  if (absl::Status s = node.Start(); !s.ok()) {
    // A setting the coordinator refuses (a layout or region map other than
    // the cluster's, a missing chroot, refused credentials) is a
    // configuration error, as one LoadConfig refuses: exit code 2.
    const bool misconfigured =
        s.code() == absl::StatusCode::kFailedPrecondition ||
        s.code() == absl::StatusCode::kPermissionDenied ||
        s.code() == absl::StatusCode::kInvalidArgument;
    spdlog::critical("event=start_failed error=\"{}\"{}", s.ToString(),
                     misconfigured ? " action=\"fix the setting named and "
                                     "restart\""
                                   : "");
    (*listener)->Shutdown(std::chrono::milliseconds(0));
    if (admin_listener) admin_listener->Shutdown(std::chrono::milliseconds(0));
    if (grpc_server) grpc_server->Shutdown(std::chrono::milliseconds(0));
    return misconfigured ? 2 : 1;
  }
  signal_state.starting.store(false);
  const NodeStatus status = node.Status();
  std::string worker_ids;
  for (const WorkerStatus& worker : status.workers) {
    if (!worker.started) continue;
    if (!worker_ids.empty()) worker_ids += ',';
    worker_ids += std::to_string(worker.lease.worker_id);
  }
  spdlog::info(
      "event=ready worker_id={} worker_ids={} workers_held={} "
      "workers_wanted={} start_wait_ms={} hwm_store=\"{}\"",
      status.lease.worker_id, worker_ids, status.workers_held,
      status.workers.size(), status.start_wait_millis, status.lease.hwm_store);
  NotifyReady(status.lease.worker_id);

  {
    // Under systemd, readiness changes (a lost lease, its re-acquisition)
    // show in `systemctl status`, polled once a second.
    ReadinessReporter readiness(node);
    std::unique_lock<std::mutex> lock(signal_state.mu);
    while (!signal_state.cv.wait_for(lock, std::chrono::seconds(1),
                                     [] { return signal_state.requested; })) {
      if (!SystemdNotifyEnabled()) continue;
      lock.unlock();
      readiness.Poll();
      lock.lock();
    }
  }
  // Both servers drain at once, within the one drain timeout: gRPC's
  // health turns NOT_SERVING, its streams end, calls in flight finish.
  const std::chrono::milliseconds drain(config.drain_timeout_millis);
  std::thread grpc_drain;
  if (grpc_server) {
    grpc_drain =
        std::thread([&grpc_server, drain] { grpc_server->Shutdown(drain); });
  }
  const int cut = (*listener)->Shutdown(drain);
  // The admin port last: the page shows the node draining until then.
  if (admin_listener) admin_listener->Shutdown(drain);
  if (grpc_drain.joinable()) grpc_drain.join();
  const absl::Status stopped = node.Shutdown();
  const NodeStatus final_status = node.Status();
  if (!stopped.ok()) {
    spdlog::error("event=shutdown_failed error=\"{}\"", stopped.ToString());
    return 1;
  }
  spdlog::info("event=stopped connections_cut={} hwm_ms={} ids_issued={}", cut,
               final_status.hwm.stored_unix_millis, metrics.ids_issued());
  return 0;
}

}  // namespace
}  // namespace snowflake

int main(int argc, char** argv) {
  // Block the handled signals in every thread; the signal thread waits
  // for them.
  const sigset_t signals = snowflake::HandledSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const std::vector<std::string> args(argv, argv + argc);
  auto loaded = snowflake::LoadConfig(args, snowflake::ProcessEnv());
  if (!loaded.ok()) {
    std::fprintf(stderr, "snowflaked: configuration error: %s\n",
                 std::string(loaded.status().message()).c_str());
    return 2;
  }
  // Misspelt settings would otherwise be ignored without a word.
  const std::vector<snowflake::UnknownEnv> unknown_env =
      snowflake::FindUnknownEnv(snowflake::ProcessEnvNames());
  if (loaded->action == snowflake::ConfigAction::kCheck ||
      loaded->action == snowflake::ConfigAction::kPrint) {
    for (const snowflake::UnknownEnv& u : unknown_env) {
      std::fprintf(stderr,
                   "snowflaked: warning: environment variable %s is not a "
                   "setting; ignored%s%s%s\n",
                   u.name.c_str(),
                   u.suggestion.empty() ? "" : " (did you mean ",
                   u.suggestion.c_str(), u.suggestion.empty() ? "" : "?)");
    }
  }
  switch (loaded->action) {
    case snowflake::ConfigAction::kExit:
      std::fputs(loaded->output.c_str(), stdout);
      return 0;
    case snowflake::ConfigAction::kPrint:
      std::fputs(snowflake::FormatConfig(*loaded).c_str(), stdout);
      return 0;
    case snowflake::ConfigAction::kCheck:
    case snowflake::ConfigAction::kRun:
      break;
  }
  // A layout that can issue no ID now (an epoch in the future, a time range
  // used up) passes every setting's own check.
  const int64_t now_millis = snowflake::SystemClock().NowMicros() / 1000;
  const absl::Status issuable = snowflake::CheckLayoutAt(*loaded, now_millis);
  if (loaded->action == snowflake::ConfigAction::kCheck) {
    if (!issuable.ok()) {
      std::fprintf(stderr, "snowflaked: configuration error: %s\n",
                   std::string(issuable.message()).c_str());
      return 2;
    }
    std::fputs(snowflake::CheckReport(*loaded, now_millis).c_str(), stdout);
    return 0;
  }
  snowflake::SetUpLogging(loaded->config.log_level, loaded->config.log_format);
  if (!issuable.ok()) {
    // It runs, never ready (the node says why), and stores no high-water
    // mark ahead of the clock: fixing the layout needs no cleanup.
    spdlog::error(
        "event=layout_cannot_issue error=\"{}\" action=\"fix the layout or "
        "the epoch and restart; /readyz stays 503 until then\"",
        std::string(issuable.message()));
  }
  for (const snowflake::UnknownEnv& u : unknown_env) {
    spdlog::warn(
        "event=unknown_env name={} suggestion={} action=\"not a setting, "
        "ignored: fix or unset it (settings: docs/configuration.md)\"",
        u.name, u.suggestion.empty() ? "-" : u.suggestion);
  }
  return snowflake::Run(loaded->config);
}
