#include "src/client/internal/discovery.h"

#include <utility>

#include "absl/status/status.h"
#include "src/base/strings.h"
#include "src/lease/cluster_schema.h"

namespace snowflake::client::internal {
namespace {

using base::Cat;
using SteadyClock = std::chrono::steady_clock;

std::string Source(const DiscoveryOptions& options) {
  if (!options.zookeeper_hosts.empty()) {
    return Cat("ZooKeeper at ", options.zookeeper_hosts);
  }
  std::string urls;
  for (const std::string& url : options.etcd_endpoints) {
    base::Append(urls, urls.empty() ? "" : ",", url);
  }
  return Cat("etcd at ", urls);
}

}  // namespace

CoordinatorOptions CoordinatorOptionsOf(const DiscoveryOptions& options) {
  CoordinatorOptions coordinator;
  coordinator.etcd_endpoints = options.etcd_endpoints;
  coordinator.zookeeper_hosts = options.zookeeper_hosts;
  coordinator.zookeeper_auth = options.zookeeper_auth;
  coordinator.ca_file = options.etcd_ca_file;
  coordinator.cert_file = options.etcd_cert_file;
  coordinator.key_file = options.etcd_key_file;
  coordinator.user = options.etcd_user;
  coordinator.password = options.etcd_password;
  coordinator.timeout = options.timeout;
  return coordinator;
}

absl::StatusOr<std::unique_ptr<Discovery>> Discovery::Start(
    const DiscoveryOptions& options, ClientTransport preferred,
    NodeSet& nodes) {
  absl::StatusOr<std::unique_ptr<CoordinatorStore>> store =
      OpenCoordinatorStore(CoordinatorOptionsOf(options));
  if (!store.ok()) {
    if (absl::IsInvalidArgument(store.status())) return store.status();
    return absl::UnavailableError(Cat("cannot read cluster \"", options.cluster,
                                      "\" from ", Source(options), ": ",
                                      store.status().message()));
  }
  std::unique_ptr<Discovery> discovery(
      new Discovery(options, preferred, nodes, *std::move(store)));
  absl::StatusOr<std::vector<Endpoint>> endpoints = discovery->Read();
  if (!endpoints.ok()) return endpoints.status();
  nodes.Set(*endpoints);
  discovery->thread_ = std::thread([d = discovery.get()] { d->Run(); });
  return discovery;
}

Discovery::Discovery(const DiscoveryOptions& options, ClientTransport preferred,
                     NodeSet& nodes, std::unique_ptr<CoordinatorStore> store)
    : options_(options),
      preferred_(preferred),
      source_(Source(options)),
      nodes_(nodes),
      store_(std::move(store)) {}

Discovery::~Discovery() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void Discovery::RefreshSoon() {
  {
    MutexLock lock(&mu_);
    if (soon_) return;
    soon_ = true;
  }
  wake_.SignalAll();
}

absl::StatusOr<std::vector<Endpoint>> Discovery::Read() {
  const std::string dir =
      cluster_schema::WorkersPrefix(options_.prefix, options_.cluster);
  absl::StatusOr<std::vector<StoredEntry>> claims =
      store_->List(dir, /*leases=*/false);
  if (!claims.ok()) {
    return absl::UnavailableError(Cat("cannot read cluster \"",
                                      options_.cluster, "\" from ", source_,
                                      ": ", claims.status().message()));
  }
  std::vector<Endpoint> endpoints = EndpointsOfClaims(*claims, preferred_);
  if (endpoints.empty()) {
    return absl::UnavailableError(Cat(
        "cluster \"", options_.cluster, "\" has no node: ",
        claims->empty() ? "no worker claim" : "no claim with a usable address",
        " under ", dir, " in ", source_,
        " (are its nodes running with --cluster ", options_.cluster,
        " and this prefix?)"));
  }
  reads_.fetch_add(1);
  return endpoints;
}

void Discovery::Run() {
  SteadyClock::time_point last = SteadyClock::now();
  MutexLock lock(&mu_);
  while (!stop_) {
    const SteadyClock::time_point now = SteadyClock::now();
    const SteadyClock::time_point due =
        last +
        (soon_ ? options_.min_refresh_interval : options_.refresh_interval);
    if (now < due) {
      wake_.WaitFor(&mu_,
                    std::chrono::ceil<std::chrono::milliseconds>(due - now));
      continue;
    }
    soon_ = false;
    last = now;
    mu_.Unlock();
    // A failed or empty read keeps the nodes known: a coordinator that is
    // down or between claims must not strand the client.
    absl::StatusOr<std::vector<Endpoint>> endpoints = Read();
    if (endpoints.ok()) nodes_.Set(*endpoints);
    mu_.Lock();
  }
}

}  // namespace snowflake::client::internal
