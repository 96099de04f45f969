#include "src/etcd/etcd_client.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "etcd/rpc.grpc.pb.h"
#include "snowflake/mutex.h"
#include "src/etcd/internal/request_util.h"

namespace snowflake::etcd {
namespace {

namespace pb = ::etcdserverpb;

// gRPC's reconnect backoff, kept short so that a restarted member is used
// again within about a second.
constexpr int kMinReconnectBackoffMs = 100;
constexpr int kMaxReconnectBackoffMs = 1000;
// Large prefixes (every worker of a cluster) fit easily.
constexpr int kMaxReceiveBytes = 64 << 20;
// The metadata key etcd reads the auth token from.
constexpr char kTokenMetadata[] = "token";

struct Endpoint {
  internal::EndpointAddress address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Lease::Stub> lease;
  std::unique_ptr<pb::Auth::Stub> auth;
};

// One attempt of a call on one endpoint, with a prepared context.
using Attempt = std::function<grpc::Status(Endpoint&, grpc::ClientContext*)>;

absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        const char* what) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  if (in) contents << in.rdbuf();
  if (!in || contents.str().empty()) {
    return absl::NotFoundError(absl::StrCat("etcd TLS ", what, " file \"", path,
                                            "\": cannot read it"));
  }
  return contents.str();
}

std::chrono::system_clock::time_point DeadlineAfter(
    std::chrono::milliseconds timeout) {
  return std::chrono::system_clock::now() + timeout;
}

absl::Status FromGrpc(const grpc::Status& status,
                      std::chrono::milliseconds timeout) {
  if (status.ok()) return absl::OkStatus();
  std::string message = status.error_message();
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    absl::StrAppend(&message, " (no answer within ", timeout.count(), " ms)");
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      message);
}

// Whether etcd wants a fresh token: it expired (simple tokens live
// --auth-token-ttl, 5 minutes by default, after their last use) or the auth
// store changed since it was issued.
bool TokenRejected(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
         status.error_message().find("auth: revision in header is old") !=
             std::string::npos;
}

KeyValue FromProto(const mvccpb::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.lease = kv.lease();
  return out;
}

std::vector<KeyValue> FromProto(const pb::RangeResponse& response) {
  std::vector<KeyValue> out;
  out.reserve(response.kvs_size());
  for (const mvccpb::KeyValue& kv : response.kvs()) {
    out.push_back(FromProto(kv));
  }
  return out;
}

void ToProto(const Compare& compare, pb::Compare* out) {
  out->set_key(compare.key);
  switch (compare.result) {
    case Compare::Result::kEqual:
      out->set_result(pb::Compare::EQUAL);
      break;
    case Compare::Result::kGreater:
      out->set_result(pb::Compare::GREATER);
      break;
    case Compare::Result::kLess:
      out->set_result(pb::Compare::LESS);
      break;
    case Compare::Result::kNotEqual:
      out->set_result(pb::Compare::NOT_EQUAL);
      break;
  }
  switch (compare.target) {
    case Compare::Target::kVersion:
      out->set_target(pb::Compare::VERSION);
      out->set_version(compare.number);
      break;
    case Compare::Target::kCreateRevision:
      out->set_target(pb::Compare::CREATE);
      out->set_create_revision(compare.number);
      break;
    case Compare::Target::kModRevision:
      out->set_target(pb::Compare::MOD);
      out->set_mod_revision(compare.number);
      break;
    case Compare::Target::kValue:
      out->set_target(pb::Compare::VALUE);
      out->set_value(compare.value);
      break;
    case Compare::Target::kLease:
      out->set_target(pb::Compare::LEASE);
      out->set_lease(compare.number);
      break;
  }
}

void ToProto(const Op& op, pb::RequestOp* out) {
  switch (op.type) {
    case Op::Type::kGet:
      out->mutable_request_range()->set_key(op.key);
      break;
    case Op::Type::kGetPrefix: {
      pb::RangeRequest* range = out->mutable_request_range();
      range->set_key(op.key.empty() ? std::string(1, '\0') : op.key);
      range->set_range_end(internal::PrefixEnd(op.key));
      break;
    }
    case Op::Type::kPut: {
      pb::PutRequest* put = out->mutable_request_put();
      put->set_key(op.key);
      put->set_value(op.value);
      put->set_lease(op.lease);
      break;
    }
    case Op::Type::kDelete:
      out->mutable_request_delete_range()->set_key(op.key);
      break;
  }
}

OpResult FromProto(const pb::ResponseOp& response) {
  OpResult out;
  if (response.has_response_range()) {
    out.kvs = FromProto(response.response_range());
  } else if (response.has_response_delete_range()) {
    out.deleted = response.response_delete_range().deleted();
  }
  return out;
}

}  // namespace

class EtcdClient::Impl {
 public:
  Impl(Options options, std::vector<Endpoint> endpoints)
      : options_(std::move(options)), endpoints_(std::move(endpoints)) {}

  // Runs `attempt` on the endpoints, from the one that answered last, until
  // one answers or fails with an error that another would repeat.
  absl::Status Call(std::string_view op, const Attempt& attempt);

  std::string CurrentEndpoint() const {
    MutexLock lock(&mu_);
    return endpoints_[preferred_].address.url;
  }

 private:
  absl::Status TryEndpoint(Endpoint& endpoint, const Attempt& attempt);
  // Waits (up to the dial timeout) until `endpoint` has a connection or its
  // attempt has failed; a call then fails at once with gRPC's reason.
  absl::Status Connect(Endpoint& endpoint);
  // Gets a fresh token from `endpoint` into token_ and `token`.
  absl::Status Authenticate(Endpoint& endpoint, std::string* token);

  const Options options_;
  // Fixed after construction; stubs and channels are thread-safe.
  std::vector<Endpoint> endpoints_;

  mutable Mutex mu_;
  size_t preferred_ ABSL_GUARDED_BY(mu_) = 0;
  std::string token_ ABSL_GUARDED_BY(mu_);
};

absl::Status EtcdClient::Impl::Call(std::string_view op,
                                    const Attempt& attempt) {
  size_t start;
  {
    MutexLock lock(&mu_);
    start = preferred_;
  }
  std::vector<internal::AttemptError> failures;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const size_t index = (start + i) % endpoints_.size();
    Endpoint& endpoint = endpoints_[index];
    absl::Status status = internal::WithTlsHint(endpoint.address.tls,
                                                TryEndpoint(endpoint, attempt));
    if (!internal::ShouldFailOver(status.code())) {
      // It answered, even if with an error.
      MutexLock lock(&mu_);
      preferred_ = index;
    }
    if (status.ok()) return status;
    failures.push_back({endpoint.address.url, std::move(status)});
    if (!internal::ShouldFailOver(failures.back().status.code())) break;
  }
  return internal::CallError(op, failures);
}

absl::Status EtcdClient::Impl::TryEndpoint(Endpoint& endpoint,
                                           const Attempt& attempt) {
  if (absl::Status status = Connect(endpoint); !status.ok()) return status;
  const bool auth = !options_.username.empty();
  std::string token;
  if (auth) {
    {
      MutexLock lock(&mu_);
      token = token_;
    }
    if (token.empty()) {
      if (absl::Status status = Authenticate(endpoint, &token); !status.ok()) {
        return status;
      }
    }
  }
  for (bool retried = false;; retried = true) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(options_.timeout));
    if (auth) context.AddMetadata(kTokenMetadata, token);
    grpc::Status status = attempt(endpoint, &context);
    if (auth && !retried && TokenRejected(status)) {
      if (absl::Status again = Authenticate(endpoint, &token); !again.ok()) {
        return again;
      }
      continue;
    }
    return FromGrpc(status, options_.timeout);
  }
}

absl::Status EtcdClient::Impl::Connect(Endpoint& endpoint) {
  const auto deadline = DeadlineAfter(options_.dial_timeout);
  grpc_connectivity_state state = endpoint.channel->GetState(true);
  // In TRANSIENT_FAILURE gRPC keeps reconnecting in the background (with a
  // backoff of at most kMaxReconnectBackoffMs), and a call fails at once
  // with the reason of the last attempt: no need to wait for that.
  while (state != GRPC_CHANNEL_READY &&
         state != GRPC_CHANNEL_TRANSIENT_FAILURE) {
    if (!endpoint.channel->WaitForStateChange(state, deadline)) {
      return absl::DeadlineExceededError(
          absl::StrCat("no connection within the dial timeout (",
                       options_.dial_timeout.count(), " ms)"));
    }
    state = endpoint.channel->GetState(true);
  }
  return absl::OkStatus();
}

absl::Status EtcdClient::Impl::Authenticate(Endpoint& endpoint,
                                            std::string* token) {
  grpc::ClientContext context;
  context.set_deadline(DeadlineAfter(options_.timeout));
  pb::AuthenticateRequest request;
  request.set_name(options_.username);
  request.set_password(options_.password);
  pb::AuthenticateResponse response;
  grpc::Status status =
      endpoint.auth->Authenticate(&context, request, &response);
  if (!status.ok()) {
    absl::Status error = FromGrpc(status, options_.timeout);
    return absl::Status(error.code(),
                        absl::StrCat("authenticating as \"", options_.username,
                                     "\": ", error.message()));
  }
  *token = response.token();
  MutexLock lock(&mu_);
  token_ = *token;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(
    Options options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("etcd: no endpoint given");
  }
  if (options.timeout.count() <= 0 || options.dial_timeout.count() <= 0) {
    return absl::InvalidArgumentError("etcd: timeouts must be positive");
  }
  std::shared_ptr<grpc::ChannelCredentials> tls_credentials;
  if (options.tls.has_value()) {
    const TlsOptions& tls = *options.tls;
    if (tls.cert_file.empty() != tls.key_file.empty()) {
      return absl::InvalidArgumentError(
          "etcd TLS: a client certificate needs its key and vice versa");
    }
    grpc::SslCredentialsOptions ssl;
    if (!tls.ca_file.empty()) {
      absl::StatusOr<std::string> ca = ReadPemFile(tls.ca_file, "CA");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *std::move(ca);
    }
    if (!tls.cert_file.empty()) {
      absl::StatusOr<std::string> cert =
          ReadPemFile(tls.cert_file, "certificate");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPemFile(tls.key_file, "key");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    tls_credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kMinReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kMinReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);

  std::vector<Endpoint> endpoints;
  for (const std::string& url : options.endpoints) {
    absl::StatusOr<internal::EndpointAddress> address =
        internal::ParseEndpoint(url, options.tls.has_value());
    if (!address.ok()) return address.status();
    Endpoint endpoint;
    endpoint.address = *std::move(address);
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        !endpoint.address.tls ? grpc::InsecureChannelCredentials()
        : tls_credentials     ? tls_credentials
                              : grpc::SslCredentials({});
    endpoint.channel =
        grpc::CreateCustomChannel(endpoint.address.target, credentials, args);
    endpoint.kv = pb::KV::NewStub(endpoint.channel);
    endpoint.lease = pb::Lease::NewStub(endpoint.channel);
    endpoint.auth = pb::Auth::NewStub(endpoint.channel);
    endpoints.push_back(std::move(endpoint));
  }
  return std::unique_ptr<EtcdClient>(new EtcdClient(
      std::make_unique<Impl>(std::move(options), std::move(endpoints))));
}

EtcdClient::EtcdClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EtcdClient::~EtcdClient() = default;

std::string EtcdClient::CurrentEndpoint() const {
  return impl_->CurrentEndpoint();
}

absl::StatusOr<std::optional<KeyValue>> EtcdClient::Get(
    const std::string& key) {
  pb::RangeRequest request;
  request.set_key(key);
  pb::RangeResponse response;
  absl::Status status = impl_->Call(
      "Range", [&](Endpoint& endpoint, grpc::ClientContext* context) {
        return endpoint.kv->Range(context, request, &response);
      });
  if (!status.ok()) return status;
  if (response.kvs_size() == 0) return std::optional<KeyValue>();
  return std::optional<KeyValue>(FromProto(response.kvs(0)));
}

absl::StatusOr<std::vector<KeyValue>> EtcdClient::GetPrefix(
    const std::string& prefix) {
  pb::RequestOp op;
  ToProto(Op::GetPrefix(prefix), &op);
  const pb::RangeRequest& request = op.request_range();
  pb::RangeResponse response;
  absl::Status status = impl_->Call(
      "Range", [&](Endpoint& endpoint, grpc::ClientContext* context) {
        return endpoint.kv->Range(context, request, &response);
      });
  if (!status.ok()) return status;
  return FromProto(response);
}

absl::Status EtcdClient::Put(const std::string& key, const std::string& value,
                             int64_t lease) {
  pb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease);
  pb::PutResponse response;
  return impl_->Call("Put",
                     [&](Endpoint& endpoint, grpc::ClientContext* context) {
                       return endpoint.kv->Put(context, request, &response);
                     });
}

absl::StatusOr<int64_t> EtcdClient::Delete(const std::string& key) {
  pb::DeleteRangeRequest request;
  request.set_key(key);
  pb::DeleteRangeResponse response;
  absl::Status status = impl_->Call(
      "DeleteRange", [&](Endpoint& endpoint, grpc::ClientContext* context) {
        return endpoint.kv->DeleteRange(context, request, &response);
      });
  if (!status.ok()) return status;
  return response.deleted();
}

absl::StatusOr<TxnResult> EtcdClient::Txn(const Transaction& txn) {
  pb::TxnRequest request;
  for (const Compare& compare : txn.compare) {
    ToProto(compare, request.add_compare());
  }
  for (const Op& op : txn.success) ToProto(op, request.add_success());
  for (const Op& op : txn.failure) ToProto(op, request.add_failure());
  pb::TxnResponse response;
  absl::Status status =
      impl_->Call("Txn", [&](Endpoint& endpoint, grpc::ClientContext* context) {
        return endpoint.kv->Txn(context, request, &response);
      });
  if (!status.ok()) return status;
  TxnResult result;
  result.succeeded = response.succeeded();
  result.revision = response.header().revision();
  for (const pb::ResponseOp& op : response.responses()) {
    result.results.push_back(FromProto(op));
  }
  return result;
}

absl::StatusOr<Lease> EtcdClient::LeaseGrant(int64_t ttl_seconds) {
  pb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  pb::LeaseGrantResponse response;
  absl::Status status = impl_->Call(
      "LeaseGrant", [&](Endpoint& endpoint, grpc::ClientContext* context) {
        return endpoint.lease->LeaseGrant(context, request, &response);
      });
  if (!status.ok()) return status;
  if (!response.error().empty()) {
    return absl::UnavailableError(
        absl::StrCat("etcd LeaseGrant: ", response.error()));
  }
  return Lease{response.id(), response.ttl()};
}

absl::Status EtcdClient::LeaseRevoke(int64_t id) {
  pb::LeaseRevokeRequest request;
  request.set_id(id);
  pb::LeaseRevokeResponse response;
  return impl_->Call(
      "LeaseRevoke", [&](Endpoint& endpoint, grpc::ClientContext* context) {
        return endpoint.lease->LeaseRevoke(context, request, &response);
      });
}

absl::StatusOr<int64_t> EtcdClient::LeaseKeepAliveOnce(int64_t id) {
  pb::LeaseKeepAliveRequest request;
  request.set_id(id);
  pb::LeaseKeepAliveResponse response;
  absl::Status status = impl_->Call(
      "LeaseKeepAlive",
      [&](Endpoint& endpoint, grpc::ClientContext* context) -> grpc::Status {
        auto stream = endpoint.lease->LeaseKeepAlive(context);
        if (!stream->Write(request)) return stream->Finish();
        if (!stream->Read(&response)) {
          grpc::Status finished = stream->Finish();
          if (!finished.ok()) return finished;
          return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "keep-alive stream closed without an answer");
        }
        // One answer is all we wanted; end the stream without waiting.
        context->TryCancel();
        stream->Finish();
        return grpc::Status::OK;
      });
  if (!status.ok()) return status;
  return response.ttl() > 0 ? response.ttl() : 0;
}

absl::StatusOr<LeaseStatus> EtcdClient::LeaseTimeToLive(int64_t id,
                                                        bool with_keys) {
  pb::LeaseTimeToLiveRequest request;
  request.set_id(id);
  request.set_keys(with_keys);
  pb::LeaseTimeToLiveResponse response;
  absl::Status status = impl_->Call(
      "LeaseTimeToLive", [&](Endpoint& endpoint, grpc::ClientContext* context) {
        return endpoint.lease->LeaseTimeToLive(context, request, &response);
      });
  if (!status.ok()) return status;
  LeaseStatus out;
  out.id = id;
  out.found = response.ttl() >= 0;
  out.ttl_seconds = out.found ? response.ttl() : 0;
  out.granted_ttl_seconds = response.grantedttl();
  out.keys.assign(response.keys().begin(), response.keys().end());
  return out;
}

Compare Compare::Absent(std::string key) {
  Compare compare;
  compare.key = std::move(key);
  compare.target = Target::kCreateRevision;
  compare.number = 0;
  return compare;
}

Compare Compare::LeaseIs(std::string key, int64_t lease) {
  Compare compare;
  compare.key = std::move(key);
  compare.target = Target::kLease;
  compare.number = lease;
  return compare;
}

Compare Compare::ValueIs(std::string key, std::string value) {
  Compare compare;
  compare.key = std::move(key);
  compare.target = Target::kValue;
  compare.value = std::move(value);
  return compare;
}

Compare Compare::ModRevisionIs(std::string key, int64_t revision) {
  Compare compare;
  compare.key = std::move(key);
  compare.target = Target::kModRevision;
  compare.number = revision;
  return compare;
}

Op Op::Get(std::string key) {
  Op op;
  op.type = Type::kGet;
  op.key = std::move(key);
  return op;
}

Op Op::GetPrefix(std::string prefix) {
  Op op;
  op.type = Type::kGetPrefix;
  op.key = std::move(prefix);
  return op;
}

Op Op::Put(std::string key, std::string value, int64_t lease) {
  Op op;
  op.type = Type::kPut;
  op.key = std::move(key);
  op.value = std::move(value);
  op.lease = lease;
  return op;
}

Op Op::Delete(std::string key) {
  Op op;
  op.type = Type::kDelete;
  op.key = std::move(key);
  return op;
}

}  // namespace snowflake::etcd
