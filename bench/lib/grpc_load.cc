// grpc_load: bench/run's gRPC load generator (section 9), the same program
// against the node and against its baseline (grpc_baseline.cc).
//
//   grpc_load once HOST:PORT
//     One NextIds(1). Prints "reply bytes=B id=I worker_id=W first_tick=F
//     last_tick=L" (B: the reply's serialized size), for grpc_baseline to
//     answer with a reply of the same size.
//   grpc_load unary HOST:PORT SECONDS WARMUP_SECONDS CHANNELS
//     NextIds(1) in a closed loop from one thread (the async API):
//     CHANNELS connections, one call in flight on each, a new call as soon
//     as one completes. Prints "grpc_result calls=N seconds=S rps=R
//     p50_us=.. p99_us=.. bad=B" for the calls completed in the SECONDS
//     after the warm-up; bad: calls that failed or did not carry one ID.
//   grpc_load stream HOST:PORT SECONDS WARMUP_SECONDS BATCH
//     One StreamIds(BATCH), read for WARMUP_SECONDS (not counted), then
//     SECONDS. Prints "stream_result ids=N messages=M seconds=S
//     ids_per_s=R out_of_order=K bad=B": out_of_order counts IDs not above
//     the one before, bad messages without BATCH IDs.
//
// Exits 1 when a call failed (after printing), 2 on bad arguments.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "snowflake/v1/id_service.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using snowflake::v1::IdService;
using snowflake::v1::NextIdsRequest;
using snowflake::v1::NextIdsResponse;

// How long to wait for a connection, and for any one call.
constexpr std::chrono::seconds kConnectTimeout{10};
constexpr std::chrono::seconds kCallTimeout{10};

Clock::duration FromSeconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(s));
}

// A channel with a connection of its own (channels to one target otherwise
// share one), connected; null if it cannot connect.
std::shared_ptr<grpc::Channel> Connect(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 kConnectTimeout)) {
    std::fprintf(stderr, "grpc_load: cannot connect to %s\n", target.c_str());
    return nullptr;
  }
  return channel;
}

int Once(const std::string& target) {
  std::shared_ptr<grpc::Channel> channel = Connect(target);
  if (channel == nullptr) return 1;
  std::unique_ptr<IdService::Stub> stub = IdService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  NextIdsRequest request;
  request.set_count(1);
  NextIdsResponse response;
  const grpc::Status status = stub->NextIds(&context, request, &response);
  if (!status.ok() || response.ids_size() != 1) {
    std::fprintf(stderr, "grpc_load: NextIds(1): %d %s (%d IDs)\n",
                 static_cast<int>(status.error_code()),
                 status.error_message().c_str(), response.ids_size());
    return 1;
  }
  std::printf(
      "reply bytes=%zu id=%llu worker_id=%lld first_tick=%lld "
      "last_tick=%lld\n",
      response.ByteSizeLong(), static_cast<unsigned long long>(response.ids(0)),
      static_cast<long long>(response.worker_id()),
      static_cast<long long>(response.first_tick()),
      static_cast<long long>(response.last_tick()));
  return 0;
}

// One call in flight on one channel.
struct Slot {
  IdService::Stub* stub = nullptr;
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientAsyncResponseReader<NextIdsResponse>> reader;
  NextIdsResponse response;
  grpc::Status status;
  Clock::time_point sent;
};

void Send(Slot& slot, const NextIdsRequest& request,
          grpc::CompletionQueue& queue) {
  slot.context = std::make_unique<grpc::ClientContext>();
  slot.context->set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  slot.response.Clear();
  slot.sent = Clock::now();
  slot.reader = slot.stub->AsyncNextIds(slot.context.get(), request, &queue);
  slot.reader->Finish(&slot.response, &slot.status, &slot);
}

uint64_t Percentile(std::vector<uint64_t>& v, double p) {
  if (v.empty()) return 0;
  auto i = static_cast<size_t>(static_cast<double>(v.size()) * p / 100);
  i = std::min(i, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(i), v.end());
  return v[i];
}

int Unary(const std::string& target, double seconds, double warmup,
          int channels) {
  std::vector<std::unique_ptr<IdService::Stub>> stubs;
  for (int i = 0; i < channels; ++i) {
    std::shared_ptr<grpc::Channel> channel = Connect(target);
    if (channel == nullptr) return 1;
    stubs.push_back(IdService::NewStub(channel));
  }
  NextIdsRequest request;
  request.set_count(1);
  grpc::CompletionQueue queue;
  std::vector<Slot> slots(static_cast<size_t>(channels));
  const Clock::time_point start = Clock::now() + FromSeconds(warmup);
  const Clock::time_point end = start + FromSeconds(seconds);
  for (size_t i = 0; i < slots.size(); ++i) {
    slots[i].stub = stubs[i].get();
    Send(slots[i], request, queue);
  }
  std::vector<uint64_t> latency_ns;
  latency_ns.reserve(1 << 20);
  uint64_t calls = 0;
  uint64_t bad = 0;
  size_t in_flight = slots.size();
  void* tag = nullptr;
  bool ok = false;
  while (in_flight > 0 && queue.Next(&tag, &ok)) {
    Slot& slot = *static_cast<Slot*>(tag);
    const Clock::time_point now = Clock::now();
    if (now >= start && now < end) {
      if (!ok || !slot.status.ok() || slot.response.ids_size() != 1) {
        if (bad++ == 0) {
          std::fprintf(stderr, "grpc_load: NextIds(1): %d %s\n",
                       static_cast<int>(slot.status.error_code()),
                       slot.status.error_message().c_str());
        }
      } else {
        ++calls;
        latency_ns.push_back(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now -
                                                                 slot.sent)
                .count()));
      }
    }
    if (now < end) {
      Send(slot, request, queue);
    } else {
      --in_flight;
    }
  }
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  std::printf(
      "grpc_result calls=%llu seconds=%.6f rps=%.1f p50_us=%.1f "
      "p99_us=%.1f bad=%llu\n",
      static_cast<unsigned long long>(calls), seconds,
      static_cast<double>(calls) / seconds,
      static_cast<double>(Percentile(latency_ns, 50)) / 1000,
      static_cast<double>(Percentile(latency_ns, 99)) / 1000,
      static_cast<unsigned long long>(bad));
  return bad == 0 ? 0 : 1;
}

int Stream(const std::string& target, double seconds, double warmup,
           int batch) {
  std::shared_ptr<grpc::Channel> channel = Connect(target);
  if (channel == nullptr) return 1;
  std::unique_ptr<IdService::Stub> stub = IdService::NewStub(channel);
  grpc::ClientContext context;
  const Clock::time_point start = Clock::now() + FromSeconds(warmup);
  const Clock::time_point end = start + FromSeconds(seconds);
  // A stalled stream ends with DEADLINE_EXCEEDED rather than hanging.
  context.set_deadline(std::chrono::system_clock::now() +
                       FromSeconds(warmup + seconds) + kCallTimeout);
  snowflake::v1::StreamIdsRequest request;
  request.set_batch(static_cast<uint32_t>(batch));
  std::unique_ptr<grpc::ClientReader<NextIdsResponse>> reader =
      stub->StreamIds(&context, request);
  NextIdsResponse message;
  uint64_t ids = 0;
  uint64_t messages = 0;
  uint64_t out_of_order = 0;
  uint64_t bad = 0;
  uint64_t last = 0;
  bool ended = false;
  while (true) {
    if (!reader->Read(&message)) {
      ended = true;
      break;
    }
    const Clock::time_point now = Clock::now();
    if (now >= end) break;
    if (message.ids_size() != batch) ++bad;
    for (const uint64_t id : message.ids()) {
      if (id <= last) ++out_of_order;
      last = id;
    }
    if (now >= start) {
      ids += static_cast<uint64_t>(message.ids_size());
      ++messages;
    }
  }
  context.TryCancel();
  const grpc::Status status = reader->Finish();
  if (ended) {
    // The stream ended before the time was up: the node ended it.
    std::fprintf(stderr, "grpc_load: StreamIds ended early: %d %s\n",
                 static_cast<int>(status.error_code()),
                 status.error_message().c_str());
    ++bad;
  }
  std::printf(
      "stream_result ids=%llu messages=%llu seconds=%.6f ids_per_s=%.1f "
      "out_of_order=%llu bad=%llu\n",
      static_cast<unsigned long long>(ids),
      static_cast<unsigned long long>(messages), seconds,
      static_cast<double>(ids) / seconds,
      static_cast<unsigned long long>(out_of_order),
      static_cast<unsigned long long>(bad));
  return bad == 0 && out_of_order == 0 ? 0 : 1;
}

int Usage() {
  std::fprintf(stderr,
               "usage: grpc_load once HOST:PORT\n"
               "       grpc_load unary HOST:PORT SECONDS WARMUP CHANNELS\n"
               "       grpc_load stream HOST:PORT SECONDS WARMUP BATCH\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  const std::string mode = argv[1];
  const std::string target = argv[2];
  if (mode == "once" && argc == 3) return Once(target);
  if (argc != 6) return Usage();
  const double seconds = std::atof(argv[3]);
  const double warmup = std::atof(argv[4]);
  const int n = std::atoi(argv[5]);
  if (seconds <= 0 || warmup < 0 || n < 1) return Usage();
  if (mode == "unary") return Unary(target, seconds, warmup, n);
  if (mode == "stream") return Stream(target, seconds, warmup, n);
  return Usage();
}
