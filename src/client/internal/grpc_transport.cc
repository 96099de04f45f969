#include "src/client/internal/grpc_transport.h"

#include <limits>
#include <span>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "snowflake/v1/id_service.grpc.pb.h"
#include "src/base/strings.h"
#include "src/client/internal/grpc_answer.h"

namespace snowflake::client::internal {

using base::Cat;

// A channel and the stub on it. Calls hold it while a Reset may replace it.
struct GrpcTransport::Channel {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::IdService::Stub> stub;
};

GrpcTransport::GrpcTransport(Endpoint endpoint)
    : endpoint_(std::move(endpoint)), url_(endpoint_.Url()) {}

GrpcTransport::~GrpcTransport() = default;

std::shared_ptr<const GrpcTransport::Channel> GrpcTransport::CurrentChannel() {
  MutexLock lock(&mu_);
  if (channel_ == nullptr) {
    grpc::ChannelArguments args;
    // A batch's size is bounded by ClientOptions::max_batch, not by gRPC's
    // default 4 MiB.
    args.SetMaxReceiveMessageSize(-1);
    // A channel of its own connection: after a Reset, a new channel must
    // not pick up the failed connection from gRPC's shared pool.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto made = std::make_shared<Channel>();
    made->channel = grpc::CreateCustomChannel(
        endpoint_.HostPort(), grpc::InsecureChannelCredentials(), args);
    made->stub = v1::IdService::NewStub(made->channel);
    channel_ = std::move(made);
  }
  return channel_;
}

absl::StatusOr<std::vector<uint64_t>> GrpcTransport::Fetch(
    int64_t count, std::chrono::milliseconds timeout) {
  if (count < 1 || count > std::numeric_limits<uint32_t>::max()) {
    return absl::OutOfRangeError(
        Cat("count ", count, " cannot be asked of node ", url_, " over gRPC"));
  }
  const std::shared_ptr<const Channel> channel = CurrentChannel();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  v1::NextIdsRequest request;
  request.set_count(static_cast<uint32_t>(count));
  v1::NextIdsResponse response;
  const grpc::Status status =
      channel->stub->NextIds(&context, request, &response);
  if (status.ok()) {
    return IdsOfGrpcReply(
        std::span<const uint64_t>(response.ids().data(),
                                  static_cast<size_t>(response.ids_size())),
        count, url_);
  }
  GrpcAnswer answer;
  answer.code = static_cast<int>(status.error_code());
  answer.message = status.error_message();
  answer.details = status.error_details();
  const auto& trailers = context.GetServerTrailingMetadata();
  if (auto it = trailers.find(kRetryAfterTrailer); it != trailers.end()) {
    answer.retry_after_ms.assign(it->second.data(), it->second.size());
  }
  return ErrorOfGrpcAnswer(answer, url_, timeout);
}

void GrpcTransport::Reset() {
  std::shared_ptr<const Channel> dropped;  // Closed outside the lock.
  MutexLock lock(&mu_);
  dropped.swap(channel_);
}

}  // namespace snowflake::client::internal
