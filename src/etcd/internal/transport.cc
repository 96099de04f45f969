#include "src/etcd/internal/transport.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace snowflake::etcd::internal {
namespace {

namespace pb = ::etcdserverpb;

// Why a failed endpoint gets a new channel (Endpoint::Replace) instead of
// gRPC's own reconnection:
//
// The synchronous gRPC API (1.51) does I/O only on threads that poll: a
// call in flight, a WaitForStateChange, or gRPC's backup poller, every 5 s.
// Once a channel's connection fails, pick_first keeps the channel in
// TRANSIENT_FAILURE until a background attempt succeeds, and calls made in
// that state (not wait_for_ready) fail at once without polling. The
// background attempts are started by timers, but nobody polls their sockets
// before their connect deadline, so gRPC shuts each one down: "tcp
// handshaker shutdown" (the TCP connect was never seen to complete) or
// "connection attempt timed out before receiving SETTINGS frame". The
// channel stayed in TRANSIENT_FAILURE for good after an etcd restart. And
// by default channels share subchannels process-wide (the global subchannel
// pool), so even a new channel to the same address got the same stuck
// subchannel.
//
// A new channel, with a subchannel of its own (the local pool), starts IDLE;
// the next attempt's Connect() starts its connection and polls it while it
// waits, up to the dial timeout. So every attempt after a failure really
// connects anew, from the calling thread. Waiting in TRANSIENT_FAILURE
// instead would cost every call to a dead endpoint its full dial timeout.
//
// gRPC reads GRPC_ARG_MIN_RECONNECT_BACKOFF_MS as the minimum connect
// timeout of an attempt (the deadline is the larger of it and the next
// backoff); 100 ms was too short for a TLS handshake across a WAN, so it
// is the dial timeout now.
constexpr int kInitialReconnectBackoffMs = 100;
constexpr int kMaxReconnectBackoffMs = 1000;
// HTTP/2 pings on a connection with calls in flight (a watch), so that a
// watch on a member that froze or vanished without closing the connection
// breaks within about kKeepAliveTimeMs + kKeepAliveTimeoutMs. etcd refuses
// pings more often than every 5 s (--grpc-keepalive-min-time).
constexpr int kKeepAliveTimeMs = 10000;
constexpr int kKeepAliveTimeoutMs = 5000;
// Large prefixes (every worker of a cluster) fit easily.
constexpr int kMaxReceiveBytes = 64 << 20;

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

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(
    const TlsOptions& tls) {
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
  return grpc::SslCredentials(ssl);
}

}  // namespace

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

KeyValue ToKeyValue(const mvccpb::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.lease = kv.lease();
  return out;
}

bool TokenRejected(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
         status.error_message().find("auth: revision in header is old") !=
             std::string::npos;
}

Endpoint::Endpoint(EndpointAddress address,
                   std::shared_ptr<grpc::ChannelCredentials> credentials,
                   const grpc::ChannelArguments& args)
    : address_(std::move(address)),
      credentials_(std::move(credentials)),
      args_(args),  // ChannelArguments has no move constructor.
      current_(MakeStubs()) {}

std::shared_ptr<Stubs> Endpoint::MakeStubs() const {
  auto stubs = std::make_shared<Stubs>();
  stubs->channel =
      grpc::CreateCustomChannel(address_.target, credentials_, args_);
  stubs->kv = pb::KV::NewStub(stubs->channel);
  stubs->lease = pb::Lease::NewStub(stubs->channel);
  stubs->auth = pb::Auth::NewStub(stubs->channel);
  stubs->watch = pb::Watch::NewStub(stubs->channel);
  return stubs;
}

std::shared_ptr<Stubs> Endpoint::Get() {
  MutexLock lock(&mu_);
  return current_;
}

void Endpoint::Replace(const Stubs* failed) {
  std::shared_ptr<Stubs> fresh = MakeStubs();
  std::shared_ptr<Stubs> old;
  MutexLock lock(&mu_);
  if (current_.get() != failed) return;  // someone else already did
  old = std::move(current_);
  current_ = std::move(fresh);
}

absl::StatusOr<std::shared_ptr<Transport>> Transport::Create(Options options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("etcd: no endpoint given");
  }
  if (options.timeout.count() <= 0 || options.dial_timeout.count() <= 0) {
    return absl::InvalidArgumentError("etcd: timeouts must be positive");
  }
  std::shared_ptr<grpc::ChannelCredentials> tls_credentials;
  if (options.tls.has_value()) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        TlsCredentials(*options.tls);
    if (!credentials.ok()) return credentials.status();
    tls_credentials = *std::move(credentials);
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              kInitialReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(options.dial_timeout.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepAliveTimeMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepAliveTimeoutMs);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);

  std::vector<std::unique_ptr<Endpoint>> endpoints;
  for (const std::string& url : options.endpoints) {
    absl::StatusOr<EndpointAddress> address =
        ParseEndpoint(url, options.tls.has_value());
    if (!address.ok()) return address.status();
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        !address->tls     ? grpc::InsecureChannelCredentials()
        : tls_credentials ? tls_credentials
                          : grpc::SslCredentials({});
    endpoints.push_back(
        std::make_unique<Endpoint>(*std::move(address), credentials, args));
  }
  return std::make_shared<Transport>(std::move(options), std::move(endpoints));
}

Transport::Transport(Options options,
                     std::vector<std::unique_ptr<Endpoint>> endpoints)
    : options_(std::move(options)), endpoints_(std::move(endpoints)) {}

size_t Transport::preferred() const {
  MutexLock lock(&mu_);
  return preferred_;
}

std::string Transport::CurrentEndpoint() const {
  return endpoints_[preferred()]->address().url;
}

void Transport::ReportHeader(const pb::ResponseHeader& header) const {
  // etcd sends no revision in a watch's compaction notice; 0 would read as
  // a store gone back in time.
  if (!options_.on_header || header.revision() == 0) return;
  ResponseHeader out;
  out.cluster_id = header.cluster_id();
  out.member_id = header.member_id();
  out.revision = header.revision();
  out.raft_term = header.raft_term();
  options_.on_header(out);
}

absl::Status Transport::Call(std::string_view op, const Attempt& attempt) {
  const size_t start = preferred();
  std::vector<AttemptError> failures;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const size_t index = (start + i) % endpoints_.size();
    Endpoint& endpoint = *endpoints_[index];
    absl::Status status =
        WithTlsHint(endpoint.address().tls, TryEndpoint(endpoint, attempt));
    if (!ShouldFailOver(status.code())) {
      // It answered, even if with an error.
      MutexLock lock(&mu_);
      preferred_ = index;
    }
    if (status.ok()) return status;
    failures.push_back({endpoint.address().url, std::move(status)});
    if (!ShouldFailOver(failures.back().status.code())) break;
  }
  return CallError(op, failures);
}

absl::Status Transport::TryEndpoint(Endpoint& endpoint,
                                    const Attempt& attempt) {
  std::shared_ptr<Stubs> stubs = endpoint.Get();
  absl::Status status = TryStubs(*stubs, attempt);
  if (ShouldFailOver(status.code())) endpoint.Replace(stubs.get());
  return status;
}

absl::Status Transport::TryStubs(Stubs& stubs, const Attempt& attempt) {
  if (absl::Status status = Connect(stubs); !status.ok()) return status;
  std::string token;
  for (bool retried = false;; retried = true) {
    if (!options_.username.empty() && (token.empty() || retried)) {
      grpc::ClientContext auth_context;
      auth_context.set_deadline(DeadlineAfter(options_.timeout));
      absl::StatusOr<std::string> fresh =
          Token(stubs, /*refresh=*/retried, &auth_context);
      if (!fresh.ok()) return fresh.status();
      token = *std::move(fresh);
    }
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(options_.timeout));
    if (!token.empty()) context.AddMetadata(kTokenMetadata, token);
    grpc::Status status = attempt(stubs, &context);
    if (!token.empty() && !retried && TokenRejected(status)) continue;
    return FromGrpc(status, options_.timeout);
  }
}

absl::Status Transport::Connect(Stubs& stubs) {
  const auto deadline = DeadlineAfter(options_.dial_timeout);
  grpc_connectivity_state state = stubs.channel->GetState(true);
  // TRANSIENT_FAILURE: this channel's attempt failed (refused, TLS, ...);
  // the call fails at once with its reason, and the endpoint gets a new
  // channel (see the comment at the top).
  while (state != GRPC_CHANNEL_READY &&
         state != GRPC_CHANNEL_TRANSIENT_FAILURE) {
    if (!stubs.channel->WaitForStateChange(state, deadline)) {
      return absl::DeadlineExceededError(
          absl::StrCat("no connection within the dial timeout (",
                       options_.dial_timeout.count(), " ms)"));
    }
    state = stubs.channel->GetState(true);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Transport::Token(Stubs& stubs, bool refresh,
                                             grpc::ClientContext* context) {
  if (options_.username.empty()) return std::string();
  if (!refresh) {
    MutexLock lock(&mu_);
    if (!token_.empty()) return token_;
  }
  pb::AuthenticateRequest request;
  request.set_name(options_.username);
  request.set_password(options_.password);
  pb::AuthenticateResponse response;
  grpc::Status status = stubs.auth->Authenticate(context, request, &response);
  if (!status.ok()) {
    absl::Status error = FromGrpc(status, options_.timeout);
    return absl::Status(error.code(),
                        absl::StrCat("authenticating as \"", options_.username,
                                     "\": ", error.message()));
  }
  MutexLock lock(&mu_);
  token_ = response.token();
  return token_;
}

}  // namespace snowflake::etcd::internal
