#include "src/etcd/internal/key_watch.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace snowflake::etcd::internal {
namespace {

namespace pb = ::etcdserverpb;

// With this metadata etcd refuses to create a watch on a member without a
// leader, and cancels it when the member loses its leader, instead of
// leaving it open but silent while the rest of the cluster moves on.
constexpr char kRequireLeaderMetadata[] = "hasleader";
// How often Start() checks whether the stream in flight took too long.
constexpr std::chrono::milliseconds kStartPoll{20};

}  // namespace

absl::StatusOr<std::unique_ptr<KeyWatch>> KeyWatchImpl::Start(
    std::shared_ptr<Transport> transport, std::string key,
    int64_t start_revision, std::function<void(const WatchEvent&)> on_event) {
  if (!on_event) return absl::InvalidArgumentError("etcd Watch: no on_event");
  const std::chrono::milliseconds budget =
      transport->options().dial_timeout + transport->options().timeout;
  std::unique_ptr<KeyWatchImpl> watch(
      new KeyWatchImpl(std::move(transport), std::move(key), start_revision,
                       std::move(on_event)));
  watch->thread_ = std::thread([w = watch.get()] { w->Run(); });
  absl::Status status;
  {
    // A stream stays silent on a member that froze with the connection
    // open; only a cancel from another thread ends its creation.
    MutexLock lock(&watch->mu_);
    uint64_t stream = watch->streams_;
    auto deadline = std::chrono::steady_clock::now() + budget;
    while (!watch->started_) {
      watch->changed_.WaitFor(&watch->mu_, kStartPoll);
      if (watch->streams_ != stream) {
        stream = watch->streams_;
        deadline = std::chrono::steady_clock::now() + budget;
      } else if (std::chrono::steady_clock::now() >= deadline &&
                 watch->active_ != nullptr && !watch->timed_out_) {
        watch->timed_out_ = true;
        watch->active_->TryCancel();
      }
    }
    status = watch->start_status_;
  }
  if (!status.ok()) {
    watch->thread_.join();
    return status;
  }
  return std::unique_ptr<KeyWatch>(std::move(watch));
}

KeyWatchImpl::KeyWatchImpl(std::shared_ptr<Transport> transport,
                           std::string key, int64_t start_revision,
                           std::function<void(const WatchEvent&)> on_event)
    : transport_(std::move(transport)),
      key_(std::move(key)),
      on_event_(std::move(on_event)),
      next_revision_(std::max<int64_t>(start_revision, 0)) {}

KeyWatchImpl::~KeyWatchImpl() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    if (active_ != nullptr) active_->TryCancel();
  }
  changed_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

bool KeyWatchImpl::Stopping() {
  MutexLock lock(&mu_);
  return stop_;
}

bool KeyWatchImpl::Register(grpc::ClientContext* context) {
  MutexLock lock(&mu_);
  if (stop_) return false;
  active_ = context;
  ++streams_;
  changed_.SignalAll();
  return true;
}

void KeyWatchImpl::Unregister() {
  MutexLock lock(&mu_);
  active_ = nullptr;
}

void KeyWatchImpl::Started(absl::Status status) {
  MutexLock lock(&mu_);
  if (started_) return;
  started_ = true;
  start_status_ = std::move(status);
  changed_.SignalAll();
}

void KeyWatchImpl::Run() {
  const size_t count = transport_->size();
  size_t index = transport_->preferred();
  std::vector<AttemptError> first_failures;
  bool started = false;
  while (!Stopping()) {
    Endpoint& endpoint = transport_->endpoint(index);
    std::shared_ptr<Stubs> stubs = endpoint.Get();
    StreamEnd end = RunStream(*stubs);
    if (Stopping()) break;
    started = started || end.created;
    if (end.compacted) continue;
    // The stream broke: its connection may be dead, and gRPC would not
    // bring it back by itself (see transport.cc).
    endpoint.Replace(stubs.get());
    absl::Status status = WithTlsHint(endpoint.address().tls, end.status);
    index = (index + 1) % count;
    if (!started) {
      first_failures.push_back({endpoint.address().url, status});
      if (first_failures.size() == count || !ShouldFailOver(status.code())) {
        Started(CallError("Watch", first_failures));
        return;
      }
      continue;
    }
    if (!broken_delivered_) {
      broken_delivered_ = true;
      WatchEvent event;
      event.type = WatchEvent::Type::kBroken;
      event.error =
          absl::StrCat("etcd Watch at ", endpoint.address().url, ": ",
                       CodeName(status.code()), ": ", status.message());
      on_event_(event);
    }
    MutexLock lock(&mu_);
    if (!stop_) changed_.WaitFor(&mu_, kWatchRetryInterval);
  }
}

KeyWatchImpl::StreamEnd KeyWatchImpl::RunStream(Stubs& stubs) {
  StreamEnd end;
  const Options& options = transport_->options();
  auto timed_out = [this] {
    MutexLock lock(&mu_);
    return std::exchange(timed_out_, false);
  };
  std::string token;
  if (!options.username.empty()) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(options.timeout));
    if (!Register(&context)) return end;
    absl::StatusOr<std::string> fresh =
        transport_->Token(stubs, refresh_token_, &context);
    Unregister();
    if (timed_out()) fresh = absl::DeadlineExceededError("authenticating");
    if (!fresh.ok()) {
      end.status = fresh.status();
      return end;
    }
    token = *std::move(fresh);
    refresh_token_ = false;
  }

  grpc::ClientContext context;
  context.AddMetadata(kRequireLeaderMetadata, "true");
  if (!token.empty()) context.AddMetadata(kTokenMetadata, token);
  if (!Register(&context)) return end;
  auto stream = stubs.watch->Watch(&context);
  pb::WatchRequest request;
  pb::WatchCreateRequest* create = request.mutable_create_request();
  create->set_key(key_);
  create->set_start_revision(next_revision_);
  pb::WatchResponse response;
  bool open = stream->Write(request);
  while (open && stream->Read(&response)) {
    transport_->ReportHeader(response.header());
    const int64_t revision = response.header().revision();
    if (response.created() && !response.canceled()) {
      // A watch "from now" starts after the revision it was created at;
      // a re-opened one must start there too, or it could miss events.
      if (next_revision_ == 0) next_revision_ = revision + 1;
      end.created = true;
      broken_delivered_ = false;
      Started(absl::OkStatus());
    }
    if (response.compact_revision() != 0) {
      WatchEvent event;
      event.type = WatchEvent::Type::kCompacted;
      event.revision = response.compact_revision();
      event.error = absl::StrCat("revision ", next_revision_, " of \"", key_,
                                 "\" was compacted (etcd keeps revisions from ",
                                 response.compact_revision(), " on)");
      // From the oldest revision etcd still has, not from "now": a change
      // between this notice and the new watch would be lost without a trace.
      next_revision_ = response.compact_revision();
      end.compacted = true;
      if (!Stopping()) on_event_(event);
      break;
    }
    if (response.canceled()) {
      end.status = absl::UnavailableError(
          absl::StrCat("etcd canceled the watch: ", response.cancel_reason()));
      break;
    }
    for (const mvccpb::Event& change : response.events()) {
      WatchEvent event;
      event.type = change.type() == mvccpb::Event::DELETE
                       ? WatchEvent::Type::kDelete
                       : WatchEvent::Type::kPut;
      event.kv = ToKeyValue(change.kv());
      event.revision = revision;
      next_revision_ = std::max(next_revision_, change.kv().mod_revision() + 1);
      if (Stopping()) break;
      on_event_(event);
    }
  }
  context.TryCancel();
  grpc::Status status = stream->Finish();
  Unregister();
  if (timed_out()) {
    status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "no watch created in time");
  }
  if (end.status.ok() && !end.compacted) {
    end.status = status.ok()
                     ? absl::UnavailableError("watch stream ended")
                     : FromGrpc(status, options.dial_timeout + options.timeout);
  }
  if (TokenRejected(status)) refresh_token_ = true;
  return end;
}

}  // namespace snowflake::etcd::internal
