// The connection layer of the etcd client, shared by EtcdClient and its
// watches: one gRPC channel per endpoint (made anew after a failure),
// fail-over between endpoints, authentication and the response-header
// observer. Private to src/etcd; the only place that knows gRPC's channels.
#ifndef SNOWFLAKE_SRC_ETCD_INTERNAL_TRANSPORT_H_
#define SNOWFLAKE_SRC_ETCD_INTERNAL_TRANSPORT_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcd/rpc.grpc.pb.h"
#include "src/base/mutex.h"
#include "src/etcd/etcd_client.h"
#include "src/etcd/internal/request_util.h"

namespace snowflake::etcd::internal {

// The metadata key etcd reads the auth token from.
inline constexpr char kTokenMetadata[] = "token";

// One channel to one endpoint and the stubs on it. An attempt holds its
// Stubs for its whole duration, so a replacement never pulls a channel from
// under a call in flight.
struct Stubs {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Auth::Stub> auth;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
};

// One endpoint and its current channel. Thread-safe.
class Endpoint {
 public:
  Endpoint(EndpointAddress address,
           std::shared_ptr<grpc::ChannelCredentials> credentials,
           const grpc::ChannelArguments& args);
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const EndpointAddress& address() const { return address_; }
  // The current channel and stubs; never null.
  std::shared_ptr<Stubs> Get();
  // After an attempt on `failed` ended in UNAVAILABLE or DEADLINE_EXCEEDED:
  // makes a new channel, unless another thread already replaced `failed`.
  void Replace(const Stubs* failed);

 private:
  std::shared_ptr<Stubs> MakeStubs() const;

  const EndpointAddress address_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const grpc::ChannelArguments args_;

  Mutex mu_;
  std::shared_ptr<Stubs> current_ ABSL_GUARDED_BY(mu_);
};

// One attempt of a call on one endpoint, with a prepared context.
using Attempt = std::function<grpc::Status(Stubs&, grpc::ClientContext*)>;

// Thread-safe.
class Transport {
 public:
  // Checks the options, reads the TLS files and makes the (idle) channels.
  // Errors: as EtcdClient::Create.
  static absl::StatusOr<std::shared_ptr<Transport>> Create(Options options);

  Transport(Options options, std::vector<std::unique_ptr<Endpoint>> endpoints);
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  const Options& options() const { return options_; }
  size_t size() const { return endpoints_.size(); }
  Endpoint& endpoint(size_t i) { return *endpoints_[i]; }
  // The index of the endpoint that answered last.
  size_t preferred() const;
  std::string CurrentEndpoint() const;

  // Runs `attempt` on the endpoints, from the one that answered last, until
  // one answers or fails with an error that another would repeat. `op`
  // names the call in errors.
  absl::Status Call(std::string_view op, const Attempt& attempt);

  // Passes `header` to options().on_header, if set and it has a revision.
  void ReportHeader(const etcdserverpb::ResponseHeader& header) const;

  // The auth token to send ("" without a username): the cached one, or a
  // new one from `stubs` when there is none or `refresh`. `context` is the
  // caller's (with its deadline), so that it may cancel the request.
  absl::StatusOr<std::string> Token(Stubs& stubs, bool refresh,
                                    grpc::ClientContext* context);

 private:
  absl::Status TryEndpoint(Endpoint& endpoint, const Attempt& attempt);
  absl::Status TryStubs(Stubs& stubs, const Attempt& attempt);
  // Waits (up to the dial timeout) until `stubs` has a connection or its
  // attempt has failed; a call then fails at once with gRPC's reason.
  absl::Status Connect(Stubs& stubs);

  const Options options_;
  const std::vector<std::unique_ptr<Endpoint>> endpoints_;

  mutable Mutex mu_;
  size_t preferred_ ABSL_GUARDED_BY(mu_) = 0;
  std::string token_ ABSL_GUARDED_BY(mu_);
};

// A gRPC status as an absl::Status (the codes are the same); a deadline
// gets "(no answer within N ms)" appended.
absl::Status FromGrpc(const grpc::Status& status,
                      std::chrono::milliseconds timeout);

// Whether etcd wants a fresh token: it expired (simple tokens live
// --auth-token-ttl after their last use) or the auth store changed.
bool TokenRejected(const grpc::Status& status);

std::chrono::system_clock::time_point DeadlineAfter(
    std::chrono::milliseconds timeout);

KeyValue ToKeyValue(const mvccpb::KeyValue& kv);

}  // namespace snowflake::etcd::internal

#endif  // SNOWFLAKE_SRC_ETCD_INTERNAL_TRANSPORT_H_
