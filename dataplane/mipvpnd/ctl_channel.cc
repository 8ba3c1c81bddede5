/* SPDX-License-Identifier: BSD-3-Clause */
#include "mipvpnd/ctl_channel.h"

namespace mipvpn {

uint64_t CtlChannel::submit(std::string cmd, std::string params) {
  std::lock_guard lk(mu_);
  if (closed_ || queue_.size() >= kMaxQueued) return 0;
  const uint64_t id = next_id_++;
  queue_.push_back({id, std::move(cmd), std::move(params)});
  results_.emplace(id, CtlResult{});
  while (results_.size() > kKeepResults) results_.erase(results_.begin());
  return id;
}

std::vector<CtlRequest> CtlChannel::take() {
  std::lock_guard lk(mu_);
  std::vector<CtlRequest> v(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  return v;
}

void CtlChannel::finish(uint64_t id, CtlResult r) {
  {
    std::lock_guard lk(mu_);
    auto it = results_.find(id);
    if (it == results_.end()) return;
    it->second = std::move(r);
  }
  cv_.notify_all();
}

std::optional<CtlResult> CtlChannel::result(uint64_t id) const {
  std::lock_guard lk(mu_);
  auto it = results_.find(id);
  if (it == results_.end()) return std::nullopt;
  return it->second;
}

std::optional<CtlResult> CtlChannel::wait(uint64_t id, std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  const auto done = [&] {
    auto it = results_.find(id);
    return closed_ || it == results_.end() || it->second.state != CtlResult::State::kPending;
  };
  if (!cv_.wait_for(lk, timeout, done)) return std::nullopt;
  auto it = results_.find(id);
  if (it == results_.end() || it->second.state == CtlResult::State::kPending) return std::nullopt;
  return it->second;
}

void CtlChannel::close() {
  {
    std::lock_guard lk(mu_);
    closed_ = true;
    for (const CtlRequest& r : queue_) {
      auto it = results_.find(r.id);
      if (it != results_.end()) it->second = {CtlResult::State::kError, "the daemon is stopping", {}};
    }
    queue_.clear();
  }
  cv_.notify_all();
}

}  // namespace mipvpn
