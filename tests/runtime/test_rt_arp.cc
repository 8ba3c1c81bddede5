/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP without EAL: the RFC 826 codec (runtime/arp.h) and the ARP cache's
 * state machine (runtime/arp_cache.h) with the time given by the test.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <utility>
#include <vector>

#include "runtime/arp.h"
#include "runtime/arp_cache.h"

namespace mipvpn {
namespace {

constexpr MacAddr kOurs{{0x02, 0, 0, 0, 0, 1}};
constexpr MacAddr kPeerA{{0x02, 0, 0, 0, 0, 0xa}};
constexpr MacAddr kPeerB{{0x02, 0, 0, 0, 0, 0xb}};
const Ipv4Addr kIpA{10, 0, 0, 10};
const Ipv4Addr kIpB{10, 0, 0, 11};

TEST(RtArpCodec, BuildsAndParsesRfc826) {
  std::vector<std::byte> f(60, std::byte{0x55});
  const ArpPkt a{.op = kArpOpRequest, .sha = kOurs, .spa = Ipv4Addr(10, 0, 0, 1),
                 .tha = MacAddr{}, .tpa = kIpA};
  ASSERT_EQ(arp_build(f, kMacBroadcast, kOurs, a), 60u);
  /* Ethernet, then hrd 1, pro 0x0800, hln 6, pln 4, op 1, and zero padding. */
  const uint8_t head[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06,
                          0, 1, 0x08, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1,
                          0, 0, 0, 0, 0, 0, 10, 0, 0, 10};
  ASSERT_EQ(std::memcmp(f.data(), head, sizeof head), 0);
  for (size_t i = sizeof head; i < 60; ++i) EXPECT_EQ(f[i], std::byte{0}) << i;
  ArpPkt p;
  ASSERT_TRUE(arp_parse(f, p));
  EXPECT_EQ(p.op, kArpOpRequest);
  EXPECT_EQ(p.sha, kOurs);
  EXPECT_EQ(p.spa, Ipv4Addr(10, 0, 0, 1));
  EXPECT_EQ(p.tpa, kIpA);
  std::vector<std::byte> small(59);
  EXPECT_EQ(arp_build(small, kMacBroadcast, kOurs, a), 0u);
}

TEST(RtArpCodec, RefusesWhatIsNotEthernetIpv4ArpWithoutReadingPastTheEnd) {
  std::vector<std::byte> f(60);
  const ArpPkt a{.op = kArpOpReply, .sha = kPeerA, .spa = kIpA, .tha = kOurs, .tpa = kIpB};
  ASSERT_EQ(arp_build(f, kOurs, kPeerA, a), 60u);
  ArpPkt p;
  ASSERT_TRUE(arp_parse(f, p));
  EXPECT_EQ(p.op, kArpOpReply);
  for (size_t len = 0; len < kArpFrameLen; ++len)
    EXPECT_FALSE(arp_parse(std::span(f.data(), len), p)) << len;
  EXPECT_TRUE(arp_parse(std::span(f.data(), kArpFrameLen), p));
  for (size_t at : {12, 13, 14, 15, 16, 17, 18, 19, 21}) {
    auto g = f;
    g[at] = std::byte{0x77};
    EXPECT_FALSE(arp_parse(g, p)) << at;
  }
}

/* Records what the cache asks for. Packets are plain integers. */
struct Sink final : ArpSink {
  std::vector<std::pair<Ipv4Addr, bool>> requests; /* ip, unicast */
  std::vector<std::pair<uintptr_t, MacAddr>> released;
  std::vector<std::pair<uintptr_t, RtDrop>> dropped;
  void arp_request(Ipv4Addr ip, const MacAddr* unicast) noexcept override {
    requests.emplace_back(ip, unicast != nullptr);
  }
  void arp_release(void* pkt, const MacAddr& mac) noexcept override {
    released.emplace_back(reinterpret_cast<uintptr_t>(pkt), mac);
  }
  void arp_drop(void* pkt, RtDrop why) noexcept override {
    dropped.emplace_back(reinterpret_cast<uintptr_t>(pkt), why);
  }
};

void* pk(uintptr_t n) { return reinterpret_cast<void*>(n); }

ArpTimers short_timers() {
  return ArpTimers{.retry_ms = 100, .retries = 3, .reachable_ms = 1000, .failed_ms = 500,
                   .hold = 2};
}

TEST(RtArpCache, HoldsResolvesAndReleasesInOrder) {
  ArpCache c(short_timers());
  Sink s;
  EXPECT_EQ(c.resolve(kIpA, pk(1), 0, s), ArpCache::Resolve::kHeld);
  EXPECT_EQ(c.resolve(kIpA, pk(2), 10, s), ArpCache::Resolve::kHeld);
  /* RFC 1122 2.3.2.2: a bounded queue per next hop that keeps the latest. */
  EXPECT_EQ(c.resolve(kIpA, pk(3), 20, s), ArpCache::Resolve::kHeld);
  ASSERT_EQ(s.dropped.size(), 1u);
  EXPECT_EQ(s.dropped[0], std::make_pair(uintptr_t{1}, RtDrop::kArpQueueFull));
  ASSERT_EQ(s.requests.size(), 1u); /* one request, broadcast */
  EXPECT_EQ(s.requests[0], std::make_pair(kIpA, false));
  EXPECT_EQ(c.find(kIpA)->state, NeighState::kIncomplete);
  NeighbourTable t0;
  c.fill(t0);
  EXPECT_EQ(t0.find(kIpA), nullptr); /* not published while incomplete */

  c.learn(kIpA, kPeerA, true, 50, s);
  ASSERT_EQ(s.released.size(), 2u);
  EXPECT_EQ(s.released[0], std::make_pair(uintptr_t{2}, kPeerA));
  EXPECT_EQ(s.released[1], std::make_pair(uintptr_t{3}, kPeerA));
  EXPECT_EQ(c.find(kIpA)->state, NeighState::kReachable);
  EXPECT_TRUE(c.dirty());
  NeighbourTable t;
  c.fill(t);
  EXPECT_FALSE(c.dirty());
  ASSERT_NE(t.lookup(kIpA), nullptr);
  EXPECT_EQ(*t.lookup(kIpA), kPeerA);
  /* A worker that raced the publication: sent at once. */
  EXPECT_EQ(c.resolve(kIpA, pk(4), 60, s), ArpCache::Resolve::kSent);
  EXPECT_EQ(s.released.back(), std::make_pair(uintptr_t{4}, kPeerA));
  EXPECT_EQ(c.stats().learned, 1u);
  EXPECT_EQ(c.stats().held, 3u);
  EXPECT_EQ(c.stats().released, 2u);
}

TEST(RtArpCache, RetriesThenFailsThenForgets) {
  ArpCache c(short_timers());
  Sink s;
  c.resolve(kIpA, pk(1), 1000, s);
  c.tick(1099, s);
  EXPECT_EQ(s.requests.size(), 1u); /* not before retry_ms */
  c.tick(1100, s);
  c.tick(1200, s);
  EXPECT_EQ(s.requests.size(), 3u);
  EXPECT_TRUE(s.dropped.empty());
  c.tick(1300, s); /* the third went unanswered: failed */
  EXPECT_EQ(s.requests.size(), 3u);
  ASSERT_EQ(s.dropped.size(), 1u);
  EXPECT_EQ(s.dropped[0], std::make_pair(uintptr_t{1}, RtDrop::kNoNeighbour));
  EXPECT_EQ(c.find(kIpA)->state, NeighState::kFailed);
  EXPECT_EQ(c.stats().failed, 1u);
  ASSERT_TRUE(c.dirty());
  NeighbourTable t;
  c.fill(t);
  ASSERT_NE(t.find(kIpA), nullptr);
  EXPECT_TRUE(t.find(kIpA)->failed); /* workers drop at once */
  EXPECT_EQ(t.lookup(kIpA), nullptr);
  /* Negative cache: dropped without a request while failed. */
  EXPECT_EQ(c.resolve(kIpA, pk(2), 1500, s), ArpCache::Resolve::kDropped);
  EXPECT_EQ(s.dropped.back(), std::make_pair(uintptr_t{2}, RtDrop::kNoNeighbour));
  EXPECT_EQ(s.requests.size(), 3u);
  c.tick(1799, s);
  EXPECT_NE(c.find(kIpA), nullptr);
  c.tick(1800, s); /* failed_ms later: forgotten, the next packet tries again */
  EXPECT_EQ(c.find(kIpA), nullptr);
  EXPECT_TRUE(c.dirty());
  EXPECT_EQ(c.resolve(kIpA, pk(3), 1900, s), ArpCache::Resolve::kHeld);
  EXPECT_EQ(s.requests.size(), 4u);
}

TEST(RtArpCache, AnArpPacketEndsAFailureAtOnce) {
  ArpCache c(short_timers());
  Sink s;
  c.resolve(kIpA, pk(1), 0, s);
  for (uint64_t t = 100; t <= 300; t += 100) c.tick(t, s);
  ASSERT_EQ(c.find(kIpA)->state, NeighState::kFailed);
  c.learn(kIpA, kPeerA, false, 350, s); /* e.g. a gratuitous ARP: merge */
  EXPECT_EQ(c.find(kIpA)->state, NeighState::kReachable);
  EXPECT_TRUE(c.dirty());
}

TEST(RtArpCache, StaticEntriesWinAndNeverAge) {
  ArpCache c(short_timers());
  Sink s;
  ASSERT_TRUE(c.add_static(kIpA, kPeerA));
  c.learn(kIpA, kPeerB, true, 0, s);
  EXPECT_EQ(c.find(kIpA)->mac, kPeerA);
  EXPECT_EQ(c.find(kIpA)->state, NeighState::kStatic);
  c.tick(1'000'000, s);
  EXPECT_TRUE(s.requests.empty());
  EXPECT_EQ(c.find(kIpA)->state, NeighState::kStatic);
  EXPECT_EQ(c.resolve(kIpA, pk(1), 10, s), ArpCache::Resolve::kSent);
  EXPECT_EQ(s.released.back(), std::make_pair(uintptr_t{1}, kPeerA));
  EXPECT_EQ(c.stats().learned, 0u);
}

TEST(RtArpCache, MergesOnlyWhatItKnowsUnlessWeAreTheTarget) {
  ArpCache c(short_timers());
  Sink s;
  c.learn(kIpA, kPeerA, false, 0, s); /* RFC 826: not for us, not known: ignored */
  EXPECT_EQ(c.find(kIpA), nullptr);
  c.learn(kIpA, kPeerA, true, 0, s);  /* for us: added */
  ASSERT_NE(c.find(kIpA), nullptr);
  NeighbourTable t;
  c.fill(t);
  c.learn(kIpA, kPeerB, false, 10, s); /* known: merged, whoever the target */
  EXPECT_EQ(c.find(kIpA)->mac, kPeerB);
  EXPECT_TRUE(c.dirty());
  EXPECT_EQ(c.stats().learned, 2u);
  NeighbourTable t2;
  c.fill(t2);
  c.learn(kIpA, kPeerB, true, 20, s); /* same address again: only the timer moves */
  EXPECT_FALSE(c.dirty());
  EXPECT_EQ(c.stats().learned, 2u);
}

TEST(RtArpCache, AgesReachableEntriesThroughAProbe) {
  ArpCache c(short_timers());
  Sink s;
  c.learn(kIpA, kPeerA, true, 0, s);
  c.learn(kIpB, kPeerB, true, 0, s);
  NeighbourTable t;
  c.fill(t);
  c.tick(999, s);
  EXPECT_TRUE(s.requests.empty());
  c.tick(1000, s); /* reachable_ms: re-resolve, unicast first (RFC 1122 2.3.2.1) */
  ASSERT_EQ(s.requests.size(), 2u);
  EXPECT_TRUE(s.requests[0].second);
  EXPECT_EQ(c.find(kIpA)->state, NeighState::kProbe);
  EXPECT_FALSE(c.dirty()); /* still used meanwhile */
  c.learn(kIpB, kPeerB, false, 1050, s); /* B answers */
  EXPECT_EQ(c.find(kIpB)->state, NeighState::kReachable);
  c.tick(1100, s);
  c.tick(1200, s); /* broadcast retries for A */
  ASSERT_EQ(s.requests.size(), 4u);
  EXPECT_FALSE(s.requests[3].second);
  EXPECT_EQ(c.find(kIpA)->state, NeighState::kProbe);
  c.tick(1300, s); /* no answer: removed */
  EXPECT_EQ(c.find(kIpA), nullptr);
  EXPECT_TRUE(c.dirty());
  NeighbourTable t2;
  c.fill(t2);
  EXPECT_EQ(t2.find(kIpA), nullptr);
  EXPECT_NE(t2.lookup(kIpB), nullptr);
  EXPECT_EQ(c.find(kIpB)->state, NeighState::kReachable);
}

TEST(RtArpCache, AFullCacheDropsNewNextHopsAndFlushDropsHeld) {
  ArpCache c(short_timers());
  Sink s;
  for (uint32_t i = 0; i < ArpCache::kMaxEntries; ++i)
    ASSERT_EQ(c.resolve(Ipv4Addr(0x0a010000u + i), pk(i + 1), 0, s), ArpCache::Resolve::kHeld);
  EXPECT_EQ(c.resolve(kIpA, pk(9999), 0, s), ArpCache::Resolve::kDropped);
  EXPECT_EQ(s.dropped.back(), std::make_pair(uintptr_t{9999}, RtDrop::kArpTableFull));
  EXPECT_FALSE(c.add_static(kIpB, kPeerB));
  c.flush(s);
  EXPECT_EQ(s.dropped.size(), 1u + ArpCache::kMaxEntries);
  /* Every slot of the published table stays findable at the largest size. */
  ArpCache full(short_timers());
  for (uint32_t i = 0; i < ArpCache::kMaxEntries; ++i)
    full.learn(Ipv4Addr(0xc0a80000u + i * 7), kPeerA, true, i, s);
  NeighbourTable t;
  full.fill(t);
  for (uint32_t i = 0; i < ArpCache::kMaxEntries; ++i)
    EXPECT_NE(t.lookup(Ipv4Addr(0xc0a80000u + i * 7)), nullptr) << i;
}

TEST(RtArpCache, AFullCacheOfLearnedEntriesEvictsTheOldestNotStaticNotHolding) {
  ArpCache c(short_timers());
  Sink s;
  ASSERT_TRUE(c.add_static(kIpA, kPeerA));
  ASSERT_EQ(c.resolve(kIpB, pk(1), 0, s), ArpCache::Resolve::kHeld);
  /* Fill the rest with learned entries, the first learned last-but-one. */
  for (uint32_t i = 0; i < ArpCache::kMaxEntries - 2; ++i)
    c.learn(Ipv4Addr(0xc0a80000u + i), kPeerB, true, 10 + i, s);
  NeighbourTable t;
  c.fill(t);
  /* A new next hop takes the slot of the learned entry that expires first. */
  EXPECT_EQ(c.resolve(Ipv4Addr(10, 9, 9, 9), pk(2), 500, s), ArpCache::Resolve::kHeld);
  EXPECT_EQ(c.find(Ipv4Addr(0xc0a80000u)), nullptr);
  EXPECT_NE(c.find(Ipv4Addr(0xc0a80001u)), nullptr);
  EXPECT_EQ(c.find(kIpA)->state, NeighState::kStatic);
  EXPECT_EQ(c.find(kIpB)->state, NeighState::kIncomplete);
  EXPECT_EQ(c.stats().evicted, 1u);
  EXPECT_TRUE(c.dirty());
  EXPECT_TRUE(s.dropped.empty());
}

TEST(RtArpCodec, SurvivesRandomFrames) {
  uint32_t x = 12345;
  auto rnd = [&] { return x = x * 1664525u + 1013904223u; };
  std::vector<std::byte> f(80);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    for (auto& b : f) b = std::byte(static_cast<uint8_t>(rnd() >> 24));
    f[12] = std::byte{0x08};
    f[13] = std::byte{0x06};
    if (i % 2) { /* mostly valid headers, random rest */
      const uint8_t h[] = {0, 1, 8, 0, 6, 4, 0, static_cast<uint8_t>(1 + (rnd() >> 31))};
      std::memcpy(f.data() + 14, h, sizeof h);
    }
    ArpPkt p;
    parsed += arp_parse(std::span(f.data(), rnd() % f.size()), p);
  }
  EXPECT_GT(parsed, 1000);
}

/* Random resolve / learn / tick over a few next hops: every packet handed
 * in comes out exactly once (sent or dropped), held ones by flush() at the
 * latest; the table never publishes an incomplete entry. */
TEST(RtArpCache, EveryPacketComesOutExactlyOnce) {
  struct Count final : ArpSink {
    std::vector<int> seen = std::vector<int>(20001, 0);
    void arp_request(Ipv4Addr, const MacAddr*) noexcept override {}
    void arp_release(void* p, const MacAddr&) noexcept override { ++seen[reinterpret_cast<uintptr_t>(p)]; }
    void arp_drop(void* p, RtDrop) noexcept override { ++seen[reinterpret_cast<uintptr_t>(p)]; }
  } s;
  ArpCache c(ArpTimers{.retry_ms = 10, .retries = 2, .reachable_ms = 50, .failed_ms = 30, .hold = 3});
  ASSERT_TRUE(c.add_static(Ipv4Addr(10, 0, 0, 0), kPeerA));
  uint32_t x = 777;
  auto rnd = [&] { return x = x * 1664525u + 1013904223u; };
  uint64_t now = 0;
  for (uintptr_t n = 1; n <= 20000; ++n) {
    const Ipv4Addr ip(10, 0, 0, static_cast<uint8_t>((rnd() >> 20) % 6));
    switch ((rnd() >> 24) % 4) {
      case 0: c.learn(ip, kPeerB, ((rnd() >> 28) & 1) != 0, now, s); break;
      case 1: now += (rnd() >> 26) % 8; c.tick(now, s); break;
      default: break;
    }
    c.resolve(ip, pk(n), now, s);
    if (n % 97 == 0) {
      NeighbourTable t;
      c.fill(t);
      for (uint8_t h = 0; h < 6; ++h) {
        const ArpCache::Entry* e = c.find(Ipv4Addr(10, 0, 0, h));
        const NeighbourEntry* ne = t.find(Ipv4Addr(10, 0, 0, h));
        if (!e || e->state == NeighState::kIncomplete) EXPECT_EQ(ne, nullptr);
        else ASSERT_NE(ne, nullptr);
      }
    }
  }
  c.flush(s);
  for (uintptr_t n = 1; n <= 20000; ++n) ASSERT_EQ(s.seen[n], 1) << n;
}

TEST(RtArpCache, ClampsItsTimers) {
  ArpCache c(ArpTimers{.retry_ms = 1, .retries = 0, .reachable_ms = 1, .failed_ms = 1, .hold = 99});
  EXPECT_EQ(c.timers().retries, 1u);
  EXPECT_EQ(c.timers().hold, ArpCache::kMaxHold);
}

}  // namespace
}  // namespace mipvpn
