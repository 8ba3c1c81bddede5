/* SPDX-License-Identifier: BSD-3-Clause */
/* The data plane's binding table (control/ha/binding_table.h) and the
 * QSBR reclaimer (control/qsbr.h): semantics, memory, concurrency. */
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "ha/binding_table.h"
#include "qsbr.h"

using namespace mipvpn;

namespace {

Binding* make(BindingTable& t, uint32_t home, uint32_t version) {
  Binding* b = t.alloc();
  EXPECT_NE(b, nullptr);
  b->home = Ipv4Addr(home);
  b->n_coa = 1;
  /* An invariant readers check: a torn or recycled record breaks it. */
  b->coa[0].care_of = Ipv4Addr(version);
  b->coa[0].peer = Ipv4Addr(version ^ home);
  return b;
}

TEST(Qsbr, GracePeriodWaitsForOnlineReadersOnly) {
  Qsbr q;
  QsbrReclaimer rc(q);
  const uint32_t r1 = q.reader_register(), r2 = q.reader_register();
  ASSERT_NE(r1, Qsbr::kNoReader);
  q.reader_online(r1);
  q.reader_online(r2);
  int freed = 0;
  auto fn = [](void*, void* ctx) noexcept { ++*static_cast<int*>(ctx); };
  int obj;
  rc.retire(&obj, fn, &freed);
  EXPECT_EQ(rc.reclaim(), 0u);  /* both readers may still hold it */
  q.quiescent(r1);
  EXPECT_EQ(rc.reclaim(), 0u);  /* r2 has not passed a quiescent state */
  q.reader_offline(r2);         /* an offline reader holds nothing */
  EXPECT_EQ(rc.reclaim(), 1u);
  EXPECT_EQ(freed, 1);
  /* A quiescent state from before the retire does not count. */
  q.reader_online(r2);
  rc.retire(&obj, fn, &freed);
  EXPECT_EQ(rc.reclaim(), 0u);
  q.quiescent(r1);
  q.quiescent(r2);
  EXPECT_EQ(rc.reclaim(), 1u);
  q.reader_unregister(r1);
  q.reader_unregister(r2);
}

/* The daemon's case: grace periods from outside (rte_rcu_qsbr over the
 * workers), this object's readers unused. */
TEST(Qsbr, OutsideGracePeriods) {
  struct Fake {
    uint64_t started = 0, passed = 0;
  } f;
  QsbrGracePeriod g;
  g.ctx = &f;
  g.start = [](void* c) noexcept { return ++static_cast<Fake*>(c)->started; };
  g.check = [](void* c, uint64_t t) noexcept { return static_cast<Fake*>(c)->passed >= t; };
  Qsbr q;
  QsbrReclaimer rc(q);
  const uint32_t r = q.reader_register();
  q.reader_online(r);  /* ignored while the outside source rules */
  q.set_grace_period(g);
  int freed = 0;
  auto fn = [](void*, void* ctx) noexcept { ++*static_cast<int*>(ctx); };
  int obj;
  rc.retire(&obj, fn, &freed);
  rc.retire(&obj, fn, &freed);
  EXPECT_EQ(f.started, 2u);
  EXPECT_EQ(rc.reclaim(), 0u);
  f.passed = 1;
  EXPECT_EQ(rc.reclaim(), 1u);  /* in order: the second is still protected */
  f.passed = 2;
  EXPECT_EQ(rc.reclaim(), 1u);
  EXPECT_EQ(freed, 2);
  /* Back to the own readers: r is online and has not reported. */
  q.set_grace_period(QsbrGracePeriod{});
  rc.retire(&obj, fn, &freed);
  EXPECT_EQ(rc.reclaim(), 0u);
  q.quiescent(r);
  EXPECT_EQ(rc.reclaim(), 1u);
  q.reader_unregister(r);
}

TEST(Qsbr, RegisterRunsOut) {
  Qsbr q;
  for (uint32_t i = 0; i < Qsbr::kMaxReaders; ++i) EXPECT_EQ(q.reader_register(), i);
  EXPECT_EQ(q.reader_register(), Qsbr::kNoReader);
  q.reader_unregister(3);
  EXPECT_EQ(q.reader_register(), 3u);
}

TEST(BindingTable, InsertReplaceRemove) {
  Qsbr q;
  QsbrReclaimer rc(q);
  BindingTable t(rc, 8);
  EXPECT_EQ(t.lookup(Ipv4Addr(10, 0, 0, 1)), nullptr);
  ASSERT_TRUE(t.publish(make(t, 0x0a000001, 1)));
  const Binding* b = t.lookup(Ipv4Addr(10, 0, 0, 1));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->coa[0].care_of.host(), 1u);
  ASSERT_TRUE(t.publish(make(t, 0x0a000001, 2)));  /* replace */
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.lookup(Ipv4Addr(10, 0, 0, 1))->coa[0].care_of.host(), 2u);
  EXPECT_TRUE(t.remove(Ipv4Addr(10, 0, 0, 1)));
  EXPECT_FALSE(t.remove(Ipv4Addr(10, 0, 0, 1)));
  EXPECT_EQ(t.lookup(Ipv4Addr(10, 0, 0, 1)), nullptr);
  EXPECT_EQ(t.size(), 0u);
  /* The tombstone is revived by the same key. */
  ASSERT_TRUE(t.publish(make(t, 0x0a000001, 3)));
  EXPECT_EQ(t.lookup(Ipv4Addr(10, 0, 0, 1))->coa[0].care_of.host(), 3u);
  /* Home address 0 is never a key. */
  Binding* z = make(t, 0, 1);
  EXPECT_FALSE(t.publish(z));
  t.free_unpublished(z);
  EXPECT_EQ(t.lookup(Ipv4Addr()), nullptr);
}

TEST(BindingTable, GrowsAndBulkLookup) {
  Qsbr q;
  QsbrReclaimer rc(q);
  BindingTable t(rc, 4);
  constexpr uint32_t kN = 50000;
  for (uint32_t i = 1; i <= kN; ++i) ASSERT_TRUE(t.publish(make(t, 0x0a000000 + i, i)));
  EXPECT_EQ(t.size(), kN);
  EXPECT_GE(t.capacity(), 2u * kN);
  for (uint32_t i = 1; i <= kN; i += 7) {
    const Binding* b = t.lookup(Ipv4Addr(0x0a000000 + i));
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->coa[0].care_of.host(), i);
  }
  /* Remove every other one, then bulk lookups report hits as a mask. */
  for (uint32_t i = 2; i <= kN; i += 2) ASSERT_TRUE(t.remove(Ipv4Addr(0x0a000000 + i)));
  Ipv4Addr keys[BindingTable::kMaxBulk];
  const Binding* out[BindingTable::kMaxBulk];
  for (uint32_t j = 0; j < BindingTable::kMaxBulk; ++j) keys[j] = Ipv4Addr(0x0a000000 + 1 + j);
  const uint64_t m = t.lookup_bulk(keys, BindingTable::kMaxBulk, out);
  for (uint32_t j = 0; j < BindingTable::kMaxBulk; ++j) {
    const bool odd = (1 + j) % 2 == 1;
    EXPECT_EQ(((m >> j) & 1) != 0, odd) << j;
    EXPECT_EQ(out[j] != nullptr, odd) << j;
    if (odd) {
      EXPECT_EQ(out[j]->home, keys[j]);
    }
  }
  /* Many removes leave tombstones; inserting new keys rehashes them away. */
  for (uint32_t i = kN + 1; i <= 2 * kN; ++i) ASSERT_TRUE(t.publish(make(t, 0x0a000000 + i, i)));
  EXPECT_EQ(t.size(), kN / 2 + kN);
  rc.reclaim();
}

TEST(BindingTable, MemoryPerBinding) {
  /* RFC-free budget from the issue: at most 256 bytes per binding. */
  Qsbr q;
  QsbrReclaimer rc(q);
  BindingTable t(rc, 1024);
  constexpr uint32_t kN = 200000;
  for (uint32_t i = 1; i <= kN; ++i) ASSERT_TRUE(t.publish(make(t, i * 2654435761u | 1, i)));
  rc.reclaim();
  const double per = static_cast<double>(t.memory_bytes()) / t.size();
  std::printf("bytes per binding at %u: %.1f (record %zu, slots %zu of 16 B)\n", kN, per,
              sizeof(Binding), t.capacity());
  EXPECT_LE(per, 256.0);
}

TEST(BindingTable, ReadersDuringWrites) {
  Qsbr q;
  QsbrReclaimer rc(q);
  BindingTable t(rc, 16);
  constexpr uint32_t kKeys = 4096;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0}, bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      const uint32_t id = q.reader_register();
      q.reader_online(id);
      std::mt19937 rng(r);
      Ipv4Addr keys[32];
      const Binding* out[32];
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (auto& k : keys) k = Ipv4Addr(0x0a000000 + 1 + rng() % kKeys);
        t.lookup_bulk(keys, 32, out);
        for (int j = 0; j < 32; ++j) {
          const Binding* b = out[j] ? out[j] : nullptr;
          if (!b) continue;
          if (b->home != keys[j] || b->n_coa != 1 ||
              b->coa[0].peer.host() != (b->coa[0].care_of.host() ^ b->home.host()))
            bad.fetch_add(1, std::memory_order_relaxed);
        }
        const Binding* one = t.lookup(keys[0]);
        if (one && one->home != keys[0]) bad.fetch_add(1, std::memory_order_relaxed);
        n += 33;
        q.quiescent(id);
      }
      q.reader_offline(id);
      q.reader_unregister(id);
      lookups.fetch_add(n);
    });
  }
  /* Writer: inserts, updates, deletes (with resizes on the way up) for a
   * bounded time, reclaiming as it goes. */
  std::mt19937 rng(99);
  uint32_t version = 1;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
  uint64_t ops = 0;
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 256; ++i, ++ops) {
      const uint32_t k = 0x0a000000 + 1 + rng() % kKeys;
      if (rng() % 4 == 0) {
        t.remove(Ipv4Addr(k));
      } else {
        Binding* b = make(t, k, ++version);
        if (!t.publish(b)) t.free_unpublished(b);
      }
    }
    t.reclaim();
  }
  stop = true;
  for (auto& th : readers) th.join();
  rc.reclaim();
  EXPECT_EQ(rc.pending(), 0u);
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_GT(ops, 1000u);
}

}  // namespace
