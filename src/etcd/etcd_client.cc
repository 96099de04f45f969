#include "src/etcd/etcd_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "etcd/rpc.grpc.pb.h"
#include "src/etcd/internal/key_watch.h"
#include "src/etcd/internal/request_util.h"
#include "src/etcd/internal/transport.h"

namespace snowflake::etcd {
namespace {

namespace pb = ::etcdserverpb;
using internal::Stubs;

std::vector<KeyValue> FromProto(const pb::RangeResponse& response) {
  std::vector<KeyValue> out;
  out.reserve(response.kvs_size());
  for (const mvccpb::KeyValue& kv : response.kvs()) {
    out.push_back(internal::ToKeyValue(kv));
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
  explicit Impl(std::shared_ptr<internal::Transport> transport)
      : transport(std::move(transport)) {}

  // Runs `attempt` with fail-over; on success reports the header of
  // `response`.
  template <typename Response>
  absl::Status Call(std::string_view op, const Response& response,
                    const internal::Attempt& attempt) {
    absl::Status status = transport->Call(op, attempt);
    if (status.ok()) transport->ReportHeader(response.header());
    return status;
  }

  // Shared with the watches, which may outlive the client.
  const std::shared_ptr<internal::Transport> transport;
};

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(
    Options options) {
  absl::StatusOr<std::shared_ptr<internal::Transport>> transport =
      internal::Transport::Create(std::move(options));
  if (!transport.ok()) return transport.status();
  return std::unique_ptr<EtcdClient>(
      new EtcdClient(std::make_unique<Impl>(*std::move(transport))));
}

EtcdClient::EtcdClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EtcdClient::~EtcdClient() = default;

std::string EtcdClient::CurrentEndpoint() const {
  return impl_->transport->CurrentEndpoint();
}

absl::StatusOr<std::unique_ptr<KeyWatch>> EtcdClient::Watch(
    const std::string& key, int64_t start_revision,
    std::function<void(const WatchEvent&)> on_event) {
  return internal::KeyWatchImpl::Start(impl_->transport, key, start_revision,
                                       std::move(on_event));
}

absl::StatusOr<std::optional<KeyValue>> EtcdClient::Get(
    const std::string& key) {
  pb::RangeRequest request;
  request.set_key(key);
  pb::RangeResponse response;
  absl::Status status = impl_->Call(
      "Range", response, [&](Stubs& stubs, grpc::ClientContext* context) {
        return stubs.kv->Range(context, request, &response);
      });
  if (!status.ok()) return status;
  if (response.kvs_size() == 0) return std::optional<KeyValue>();
  return std::optional<KeyValue>(internal::ToKeyValue(response.kvs(0)));
}

absl::StatusOr<std::vector<KeyValue>> EtcdClient::GetPrefix(
    const std::string& prefix) {
  pb::RequestOp op;
  ToProto(Op::GetPrefix(prefix), &op);
  const pb::RangeRequest& request = op.request_range();
  pb::RangeResponse response;
  absl::Status status = impl_->Call(
      "Range", response, [&](Stubs& stubs, grpc::ClientContext* context) {
        return stubs.kv->Range(context, request, &response);
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
  return impl_->Call("Put", response,
                     [&](Stubs& stubs, grpc::ClientContext* context) {
                       return stubs.kv->Put(context, request, &response);
                     });
}

absl::StatusOr<int64_t> EtcdClient::Delete(const std::string& key) {
  pb::DeleteRangeRequest request;
  request.set_key(key);
  pb::DeleteRangeResponse response;
  absl::Status status = impl_->Call(
      "DeleteRange", response, [&](Stubs& stubs, grpc::ClientContext* context) {
        return stubs.kv->DeleteRange(context, request, &response);
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
  absl::Status status = impl_->Call(
      "Txn", response, [&](Stubs& stubs, grpc::ClientContext* context) {
        return stubs.kv->Txn(context, request, &response);
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
      "LeaseGrant", response, [&](Stubs& stubs, grpc::ClientContext* context) {
        return stubs.lease->LeaseGrant(context, request, &response);
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
      "LeaseRevoke", response, [&](Stubs& stubs, grpc::ClientContext* context) {
        return stubs.lease->LeaseRevoke(context, request, &response);
      });
}

absl::StatusOr<int64_t> EtcdClient::LeaseKeepAliveOnce(int64_t id) {
  pb::LeaseKeepAliveRequest request;
  request.set_id(id);
  pb::LeaseKeepAliveResponse response;
  absl::Status status = impl_->Call(
      "LeaseKeepAlive", response,
      [&](Stubs& stubs, grpc::ClientContext* context) -> grpc::Status {
        auto stream = stubs.lease->LeaseKeepAlive(context);
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
      "LeaseTimeToLive", response,
      [&](Stubs& stubs, grpc::ClientContext* context) {
        return stubs.lease->LeaseTimeToLive(context, request, &response);
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
