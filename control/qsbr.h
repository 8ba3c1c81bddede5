/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Quiescent-state-based reclamation (QSBR), for tables the control thread
 * publishes and the workers read with no lock.
 *
 * The interface follows DPDK's rte_rcu_qsbr so that the runtime can back
 * it with that library later without touching the tables:
 *   reader_register / reader_unregister   rte_rcu_qsbr_thread_register
 *   reader_online / reader_offline        rte_rcu_qsbr_thread_online/offline
 *   quiescent                             rte_rcu_qsbr_quiescent
 *   start / check                         rte_rcu_qsbr_start / _check
 * and QsbrReclaimer is the rte_rcu_qsbr_dq (defer queue) of that library.
 *
 * Readers: a worker calls quiescent(id) between bursts, when it holds no
 * pointer into any published table. Writer: unpublish (release store of
 * the new pointer), then token = start(); the old object may be freed once
 * check(token) is true: every online reader has reported a quiescent state
 * after the token was taken, so none can still see the old pointer.
 * An offline reader holds nothing and never blocks the writer.
 *
 * Memory order: the writer's unpublish store happens before start()'s
 * fetch_add (acq_rel); a reader that loads the new token (acquire) sees
 * the new pointer in every later load. A reader's uses of the old pointer
 * happen before its release store of the token, which the writer's check
 * loads with acquire before it frees.
 *
 * The grace periods can come from elsewhere instead (set_grace_period):
 * the daemon hands the tables DPDK's rte_rcu_qsbr over its workers, so
 * the workers report one quiescent state to one library and this class's
 * own readers stay unused.
 *
 * No allocation on the reader side; no DPDK.
 */
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace mipvpn {

/* An outside source of grace periods (e.g. rte_rcu_qsbr_start/_check
 * with non-blocking check). Tokens must grow with each start(). */
struct QsbrGracePeriod {
  void* ctx = nullptr;
  uint64_t (*start)(void* ctx) noexcept = nullptr;
  bool (*check)(void* ctx, uint64_t token) noexcept = nullptr;
};

class Qsbr {
 public:
  static constexpr uint32_t kMaxReaders = 64;
  static constexpr uint32_t kNoReader = ~0u;

  Qsbr() noexcept {
    for (auto& r : readers_) {
      r.cnt.store(kOffline, std::memory_order_relaxed);
      r.used.store(false, std::memory_order_relaxed);
    }
  }
  Qsbr(const Qsbr&) = delete;
  Qsbr& operator=(const Qsbr&) = delete;

  /* A reader id (offline until reader_online), or kNoReader when full. */
  uint32_t reader_register() noexcept {
    for (uint32_t i = 0; i < kMaxReaders; ++i) {
      bool f = false;
      if (readers_[i].used.compare_exchange_strong(f, true, std::memory_order_acq_rel)) {
        readers_[i].cnt.store(kOffline, std::memory_order_release);
        return i;
      }
    }
    return kNoReader;
  }
  void reader_unregister(uint32_t id) noexcept {
    readers_[id].cnt.store(kOffline, std::memory_order_release);
    readers_[id].used.store(false, std::memory_order_release);
  }

  /* Reader: from now on it may hold pointers (rte_rcu_qsbr_thread_online). */
  void reader_online(uint32_t id) noexcept {
    readers_[id].cnt.store(token_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    /* The store must be visible before any table load that follows. */
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  /* Reader: holds nothing until reader_online again. */
  void reader_offline(uint32_t id) noexcept {
    readers_[id].cnt.store(kOffline, std::memory_order_release);
  }
  /* Reader: holds no pointer obtained before this call. */
  void quiescent(uint32_t id) noexcept {
    readers_[id].cnt.store(token_.load(std::memory_order_acquire), std::memory_order_release);
  }

  /* Writer: take grace periods from g from now on (g.start == nullptr:
   * back to this object's own readers). Tokens of the two sources do not
   * compare: the writer switches only with nothing pending
   * (HomeAgent::set_grace_period drains first). */
  void set_grace_period(const QsbrGracePeriod& g) noexcept { ext_ = g; }

  /* Writer: call after unpublishing; objects unpublished before may be
   * freed once check(token) is true. */
  uint64_t start() noexcept {
    if (ext_.start) return ext_.start(ext_.ctx);
    return token_.fetch_add(1, std::memory_order_acq_rel) + 1;
  }

  /* Writer: every online reader passed a quiescent state since start(). */
  bool check(uint64_t token) const noexcept {
    if (ext_.check) return ext_.check(ext_.ctx, token);
    for (const auto& r : readers_) {
      if (!r.used.load(std::memory_order_acquire)) continue;
      const uint64_t c = r.cnt.load(std::memory_order_acquire);
      if (c != kOffline && c < token) return false;
    }
    return true;
  }

 private:
  static constexpr uint64_t kOffline = 0;
  struct alignas(64) Reader {
    std::atomic<uint64_t> cnt;
    std::atomic<bool> used;
  };
  alignas(64) std::atomic<uint64_t> token_{1};
  QsbrGracePeriod ext_;
  Reader readers_[kMaxReaders];
};

/*
 * Writer-side defer queue: objects retired with the token of the grace
 * period that protects them, freed by reclaim() once it has passed (or by
 * the destructor, when no reader can run any more). One writer thread.
 */
class QsbrReclaimer {
 public:
  using Free = void (*)(void* obj, void* ctx) noexcept;

  explicit QsbrReclaimer(Qsbr& q) noexcept : q_(q) {}
  ~QsbrReclaimer() { drain(); }
  QsbrReclaimer(const QsbrReclaimer&) = delete;
  QsbrReclaimer& operator=(const QsbrReclaimer&) = delete;

  /* obj is already unpublished: free it with fn after a grace period. */
  void retire(void* obj, Free fn, void* ctx = nullptr) {
    const uint64_t t = q_.start();
    pending_.push_back({t, obj, fn, ctx});
  }
  /* Free what no reader can hold any more; returns how many. */
  size_t reclaim() noexcept {
    size_t n = 0;
    /* Tokens grow along the queue: stop at the first still protected. */
    while (!pending_.empty() && q_.check(pending_.front().token)) {
      const Item it = pending_.front();
      pending_.pop_front();
      it.fn(it.obj, it.ctx);
      ++n;
    }
    return n;
  }
  size_t pending() const noexcept { return pending_.size(); }
  /* Free everything now: only when no reader is online. */
  void drain() noexcept {
    while (!pending_.empty()) {
      const Item it = pending_.front();
      pending_.pop_front();
      it.fn(it.obj, it.ctx);
    }
  }
  Qsbr& qsbr() noexcept { return q_; }

 private:
  struct Item {
    uint64_t token;
    void* obj;
    Free fn;
    void* ctx;
  };
  Qsbr& q_;
  std::deque<Item> pending_;
};

}  // namespace mipvpn
