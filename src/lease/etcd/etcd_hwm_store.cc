#include "src/lease/etcd/etcd_hwm_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/lease/etcd/etcd_schema.h"

namespace snowflake {

EtcdHwmStore::EtcdHwmStore(etcd::EtcdClient& client, std::string worker_key,
                           std::string hwm_key, int64_t lease_id,
                           std::function<void(const std::string&)> on_lost)
    : client_(client),
      worker_key_(std::move(worker_key)),
      hwm_key_(std::move(hwm_key)),
      lease_id_(lease_id),
      on_lost_(std::move(on_lost)) {}

absl::StatusOr<std::optional<int64_t>> EtcdHwmStore::Decode(
    const std::optional<etcd::KeyValue>& kv) const {
  if (!kv.has_value()) return std::optional<int64_t>();
  auto mark = etcd_schema::DecodeHwm(kv->value);
  if (!mark.ok()) {
    return absl::DataLossError(
        absl::StrCat("etcd key ", hwm_key_, ": ", mark.status().message()));
  }
  return std::optional<int64_t>(*mark);
}

absl::StatusOr<std::optional<int64_t>> EtcdHwmStore::Load() {
  MutexLock lock(&mu_);
  auto kv = client_.Get(hwm_key_);
  if (!kv.ok()) return kv.status();
  known_revision_ = kv->has_value() ? (*kv)->mod_revision : 0;
  return Decode(*kv);
}

absl::Status EtcdHwmStore::Store(int64_t unix_millis) {
  MutexLock lock(&mu_);
  // Two rounds: the second runs on the revision the first one found.
  for (int round = 0; round < 2; ++round) {
    etcd::Transaction txn;
    txn.compare.push_back(etcd::Compare::LeaseIs(worker_key_, lease_id_));
    txn.compare.push_back(
        etcd::Compare::ModRevisionIs(hwm_key_, known_revision_));
    txn.success.push_back(
        etcd::Op::Put(hwm_key_, etcd_schema::EncodeHwm(unix_millis)));
    txn.failure.push_back(etcd::Op::Get(worker_key_));
    txn.failure.push_back(etcd::Op::Get(hwm_key_));
    auto result = client_.Txn(txn);
    if (!result.ok()) return result.status();
    if (result->succeeded) {
      known_revision_ = result->revision;
      return absl::OkStatus();
    }
    const bool ours = result->results.size() == 2 &&
                      !result->results[0].kvs.empty() &&
                      result->results[0].kvs[0].lease == lease_id_;
    if (!ours) {
      const std::string reason =
          absl::StrCat(worker_key_, " is no longer held by this node's lease ",
                       lease_id_, " (expired, revoked, deleted or taken)");
      on_lost_(reason);
      return absl::FailedPreconditionError(
          absl::StrCat(reason, "; its high-water mark is left alone"));
    }
    std::optional<etcd::KeyValue> kv;
    if (!result->results[1].kvs.empty()) kv = result->results[1].kvs[0];
    known_revision_ = kv.has_value() ? kv->mod_revision : 0;
    auto stored = Decode(kv);
    if (!stored.ok()) return stored.status();
    if (stored->has_value() && **stored >= unix_millis) {
      return absl::OkStatus();
    }
  }
  return absl::AbortedError(absl::StrCat(
      "etcd key ", hwm_key_,
      " changed under two compare-and-set rounds in a row; retrying later"));
}

std::string EtcdHwmStore::Describe() const {
  return absl::StrCat("etcd key ", hwm_key_);
}

int64_t EtcdHwmStore::known_revision() const {
  MutexLock lock(&mu_);
  return known_revision_;
}

}  // namespace snowflake
