// For the client's unit tests: a Transport whose answers a test scripts,
// and that counts what it was asked.
#ifndef SNOWFLAKE_SRC_CLIENT_INTERNAL_FAKE_TRANSPORT_H_
#define SNOWFLAKE_SRC_CLIENT_INTERNAL_FAKE_TRANSPORT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "src/client/internal/transport.h"

namespace snowflake::client::internal {

// Thread-safe. Answers with the scripted results in order, then with
// `fallback` (by default: `count` consecutive IDs from `next_id`).
class FakeTransport final : public Transport {
 public:
  absl::StatusOr<std::vector<uint64_t>> Fetch(
      int64_t count, std::chrono::milliseconds timeout) override {
    std::function<absl::StatusOr<std::vector<uint64_t>>(int64_t)> fallback;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      last_timeout_ = timeout;
      if (!script_.empty()) {
        const absl::Status next = script_.front();
        script_.pop_front();
        if (!next.ok()) return next;
      }
      if (!fallback_) {
        std::vector<uint64_t> ids(static_cast<size_t>(count));
        for (uint64_t& id : ids) id = next_id_++;
        return ids;
      }
      fallback = fallback_;
    }
    return fallback(count);  // Unlocked: it may ask this transport.
  }
  void Reset() override { resets_.fetch_add(1); }

  // What to answer next: an error, or OK for the default answer.
  void Then(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(status));
  }
  void Always(std::function<absl::StatusOr<std::vector<uint64_t>>(int64_t)> f) {
    std::lock_guard<std::mutex> lock(mu_);
    fallback_ = std::move(f);
  }
  void StartAt(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    next_id_ = id;
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::chrono::milliseconds last_timeout() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_timeout_;
  }
  int resets() const { return resets_.load(); }

 private:
  std::mutex mu_;
  std::deque<absl::Status> script_;
  std::function<absl::StatusOr<std::vector<uint64_t>>(int64_t)> fallback_;
  uint64_t next_id_ = 1;
  int calls_ = 0;
  std::chrono::milliseconds last_timeout_{0};
  std::atomic<int> resets_{0};
};

// A factory that makes FakeTransports and keeps a pointer to each, by URL.
class FakeTransports {
 public:
  TransportFactory Factory() {
    return [this](const Endpoint& e) -> std::unique_ptr<Transport> {
      auto transport = std::make_unique<FakeTransport>();
      std::lock_guard<std::mutex> lock(mu_);
      made_.emplace_back(e.Url(), transport.get());
      return transport;
    };
  }
  // The transport made last for `url` (null if none).
  FakeTransport* Of(const std::string& url) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      if (it->first == url) return it->second;
    }
    return nullptr;
  }
  int made() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(made_.size());
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, FakeTransport*>> made_;
};

}  // namespace snowflake::client::internal

#endif  // SNOWFLAKE_SRC_CLIENT_INTERNAL_FAKE_TRANSPORT_H_
