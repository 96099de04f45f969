#include "src/client/internal/node_set.h"

#include <algorithm>
#include <utility>

namespace snowflake::client::internal {

NodeSet::NodeSet(TransportFactory factory) : factory_(std::move(factory)) {}

void NodeSet::Set(const std::vector<Endpoint>& endpoints) {
  std::vector<Entry> entries;
  std::vector<Entry> dropped;  // Closed after the lock is released.
  {
    MutexLock lock(&mu_);
    for (const Endpoint& endpoint : endpoints) {
      const std::string url = endpoint.Url();
      if (std::any_of(entries.begin(), entries.end(),
                      [&](const Entry& e) { return e.node->url == url; })) {
        continue;
      }
      auto kept =
          std::find_if(entries_.begin(), entries_.end(),
                       [&](const Entry& e) { return e.node->url == url; });
      if (kept != entries_.end()) {
        entries.push_back(std::move(*kept));
        entries_.erase(kept);
        continue;
      }
      auto node = std::make_shared<Node>();
      node->endpoint = endpoint;
      node->url = url;
      node->transport = factory_(endpoint);
      entries.push_back(Entry{std::move(node), 0, ""});
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) {
                return a.node->url < b.node->url;
              });
    dropped.swap(entries_);
    entries_ = std::move(entries);
    ++version_;
  }
  changed_.SignalAll();
}

std::shared_ptr<Node> NodeSet::Pick(int64_t now) {
  MutexLock lock(&mu_);
  const size_t n = entries_.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (next_ + k) % n;
    if (entries_[i].down_until <= now) {
      next_ = i + 1;
      return entries_[i].node;
    }
  }
  return nullptr;
}

NodeSet::Entry* NodeSet::Find(const Node& node) {
  for (Entry& entry : entries_) {
    if (entry.node.get() == &node) return &entry;
  }
  return nullptr;
}

void NodeSet::Fail(const Node& node, int64_t now, int64_t backoff,
                   std::string error) {
  MutexLock lock(&mu_);
  if (Entry* entry = Find(node)) {
    entry->down_until = std::max(entry->down_until, now + backoff);
    entry->last_error = std::move(error);
  }
}

void NodeSet::Succeed(const Node& node) {
  MutexLock lock(&mu_);
  if (Entry* entry = Find(node)) {
    entry->down_until = 0;
    entry->last_error.clear();
  }
}

std::string NodeSet::Errors() const {
  MutexLock lock(&mu_);
  std::string errors;
  for (const Entry& entry : entries_) {
    if (entry.last_error.empty()) continue;
    if (!errors.empty()) errors += "; ";
    errors += entry.last_error;
  }
  return errors;
}

std::optional<int64_t> NodeSet::EarliestRetry() const {
  MutexLock lock(&mu_);
  std::optional<int64_t> earliest;
  for (const Entry& entry : entries_) {
    if (!earliest || entry.down_until < *earliest) earliest = entry.down_until;
  }
  return earliest;
}

void NodeSet::WaitForChange(uint64_t version,
                            std::chrono::milliseconds timeout) {
  MutexLock lock(&mu_);
  if (version_ == version && timeout.count() > 0) {
    changed_.WaitFor(&mu_, timeout);
  }
}

uint64_t NodeSet::version() const {
  MutexLock lock(&mu_);
  return version_;
}

size_t NodeSet::size() const {
  MutexLock lock(&mu_);
  return entries_.size();
}

std::vector<std::string> NodeSet::Urls() const {
  MutexLock lock(&mu_);
  std::vector<std::string> urls;
  urls.reserve(entries_.size());
  for (const Entry& entry : entries_) urls.push_back(entry.node->url);
  return urls;
}

}  // namespace snowflake::client::internal
