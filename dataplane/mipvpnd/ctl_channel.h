/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requests from telemetry clients to the control thread. DPDK's telemetry
 * thread (one per client connection) calls submit(); the control thread
 * takes the queue in its tick, does the work (reads the counters, tables
 * and bindings it owns; applies run-time changes) and finish()es each
 * request; the client's thread wait()s for a read, or returns the id of a
 * change at once so the client can ask for result(id) later.
 *
 * A mutex and a condition variable: none of this is on the data path. The
 * last kKeepResults results are kept; older ids read as unknown. After
 * close() (the appliance is going away) submit() returns 0 and waits end.
 * No DPDK.
 */
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mipvpnd/tel_value.h"

namespace mipvpn {

struct CtlRequest {
  uint64_t id = 0;
  std::string cmd;     /* "stats", "sa_add", ... (without /mipvpn/) */
  std::string params;  /* as the client gave them */
};

struct CtlResult {
  enum class State : uint8_t { kPending, kOk, kError };
  State state = State::kPending;
  std::string message;  /* kError: a sentence; kOk: what was done */
  TelDict data;         /* reads: the answer */
};

constexpr const char* to_string(CtlResult::State s) noexcept {
  switch (s) {
    case CtlResult::State::kPending: return "pending";
    case CtlResult::State::kOk: return "ok";
    case CtlResult::State::kError: return "error";
  }
  return "?";
}

class CtlChannel {
 public:
  static constexpr size_t kKeepResults = 256;
  static constexpr size_t kMaxQueued = 64;

  /* Any thread. The request's id (> 0), or 0 when closed or the queue is full. */
  uint64_t submit(std::string cmd, std::string params);
  /* Control thread: everything queued, oldest first. */
  std::vector<CtlRequest> take();
  /* Control thread: the outcome of request id. */
  void finish(uint64_t id, CtlResult r);
  /* Any thread: nullopt for an unknown (or forgotten) id. */
  std::optional<CtlResult> result(uint64_t id) const;
  /* Any thread: waits up to `timeout` for id to finish; nullopt when it
   * did not (or the channel closed). */
  std::optional<CtlResult> wait(uint64_t id, std::chrono::milliseconds timeout);
  /* No more requests; pending ones end as errors, waiters wake. */
  void close();

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<CtlRequest> queue_;
  std::map<uint64_t, CtlResult> results_;
  uint64_t next_id_ = 1;
  bool closed_ = false;
};

}  // namespace mipvpn
