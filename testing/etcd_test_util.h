// Helpers for tests that talk to a real etcd (EtcdLauncher): start one,
// connect a client to it, poll for a condition, and a fixture whose tests
// share one etcd per suite.
#ifndef SNOWFLAKE_TESTING_ETCD_TEST_UTIL_H_
#define SNOWFLAKE_TESTING_ETCD_TEST_UTIL_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "src/etcd/etcd_client.h"
#include "testing/etcd_launcher.h"

#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const absl::Status assert_ok_status = (expr);           \
    ASSERT_TRUE(assert_ok_status.ok()) << assert_ok_status; \
  } while (false)

namespace snowflake::testing {

// Null (and a test failure) if etcd did not come up.
inline std::unique_ptr<EtcdLauncher> StartEtcd(
    EtcdLauncherOptions options = {}) {
  absl::StatusOr<std::unique_ptr<EtcdLauncher>> launcher =
      EtcdLauncher::Start(std::move(options));
  EXPECT_TRUE(launcher.ok()) << launcher.status();
  return launcher.ok() ? *std::move(launcher) : nullptr;
}

// Null (and a test failure) if the options are refused.
inline std::unique_ptr<etcd::EtcdClient> ConnectEtcd(etcd::Options options) {
  absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> client =
      etcd::EtcdClient::Create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

inline std::unique_ptr<etcd::EtcdClient> ConnectEtcd(
    std::vector<std::string> endpoints,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
    std::chrono::milliseconds dial_timeout = std::chrono::milliseconds(1000)) {
  etcd::Options options;
  options.endpoints = std::move(endpoints);
  options.timeout = timeout;
  options.dial_timeout = dial_timeout;
  return ConnectEtcd(std::move(options));
}

// A client of every member of `etcd`, with its TLS files if it has them.
inline std::unique_ptr<etcd::EtcdClient> ConnectEtcd(const EtcdLauncher& etcd) {
  etcd::Options options;
  options.endpoints = etcd.ClientUrls();
  options.timeout = std::chrono::milliseconds(2000);
  options.dial_timeout = std::chrono::milliseconds(1000);
  if (!etcd.tls_files().ca_file.empty()) {
    options.tls = etcd::TlsOptions{etcd.tls_files().ca_file,
                                   etcd.tls_files().client_cert_file,
                                   etcd.tls_files().client_key_file};
  }
  return ConnectEtcd(std::move(options));
}

// Polls `done` every `poll` for up to `timeout`.
inline bool Eventually(
    const std::function<bool()>& done, std::chrono::milliseconds timeout,
    std::chrono::milliseconds poll = std::chrono::milliseconds(50)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

// A suite whose tests share one single-member etcd (each test uses its own
// keys) and get a fresh client each. `Suite` is the derived fixture, so
// that every suite has an etcd of its own.
template <typename Suite>
class SharedEtcdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { etcd_ = StartEtcd().release(); }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(etcd_, nullptr);
    client_ = ConnectEtcd(*etcd_);
    ASSERT_NE(client_, nullptr);
  }

  static inline EtcdLauncher* etcd_ = nullptr;
  std::unique_ptr<etcd::EtcdClient> client_;
};

}  // namespace snowflake::testing

#endif  // SNOWFLAKE_TESTING_ETCD_TEST_UTIL_H_
