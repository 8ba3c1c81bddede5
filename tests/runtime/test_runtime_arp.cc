/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP in the runtime, on net_ring ports with EAL (--no-huge): the control
 * thread answers requests for the port's addresses and ignores others,
 * resolves a next hop the workers do not know (request out, reply in, the
 * held packet out with the right Ethernet address, later ones from the
 * worker through the newly published table), gives up after its retries
 * with counted drops, lets static entries win, and ages learned ones.
 * Time is given to service(now_ms) by the test: no test waits for a timer.
 */
#include "rt_test_util.h"
#include "runtime/arp.h" /* opcodes only: frames are built by hand here */

#include <algorithm>

namespace mipvpn::rt_test {
namespace {

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new EalEnv("mipvpn_rtarp_"));

const Ipv4Addr kSrc{192, 0, 2, 1};        /* kPeer, on port 0 */
const Ipv4Addr kOurs0{192, 0, 2, 254};    /* our addresses on port 0 */
const Ipv4Addr kOurs0b{192, 0, 2, 253};
const Ipv4Addr kOurs1{10, 0, 1, 1};       /* ours on port 1 */
const Ipv4Addr kHop{10, 0, 1, 7};         /* a next hop we must resolve */
constexpr MacAddr kHopMac{{0x02, 0, 0, 0, 0, 0x77}};
constexpr uint64_t kT0 = 1'000'000;       /* ms */

Bytes arp_frame(const MacAddr& eth_dst, const MacAddr& eth_src, uint16_t op, const MacAddr& sha,
                Ipv4Addr spa, const MacAddr& tha, Ipv4Addr tpa, bool pad = false) {
  Bytes a = {0, 1, 8, 0, 6, 4, 0, static_cast<uint8_t>(op)};
  auto ip = [&](Ipv4Addr x) {
    for (int i = 3; i >= 0; --i) a.push_back(static_cast<uint8_t>(x.host() >> (8 * i)));
  };
  a.insert(a.end(), sha.b.begin(), sha.b.end());
  ip(spa);
  a.insert(a.end(), tha.b.begin(), tha.b.end());
  ip(tpa);
  if (pad) a.resize(60 - kEthHdrLen, 0);
  return eth(eth_dst, eth_src, kEtherTypeArp, a);
}

struct Rig {
  RingPort p0, p1;
  std::unique_ptr<Runtime> rt;

  explicit Rig(bool with_static = false, unsigned workers = 1, uint32_t hold = 2) {
    p0 = RingPort::make("arpa", workers + 1);
    p1 = RingPort::make("arpb", workers + 1);
    RuntimeConfig cfg;
    cfg.workers = workers;
    cfg.ports = {{.name = "in", .device = p0.name, .mac = kMac0, .addresses = {kOurs0, kOurs0b}},
                 {.name = "out", .device = p1.name, .mac = kMac1, .addresses = {kOurs1}}};
    if (with_static) cfg.neighbours = {{.port = 1, .ip = kNhIp, .mac = kNextHop}};
    cfg.arp = ArpTimers{.retry_ms = 100, .retries = 3, .reachable_ms = 5000, .failed_ms = 1000,
                        .hold = hold};
    cfg.rx_desc = 256;
    cfg.tx_desc = 256;
    cfg.punt_ring_size = 256;
    cfg.worker_idle_sleep_us = 50;
    cfg.catch_signals = false;
    RuntimeOrError r = Runtime::create(cfg, test_factory());
    EXPECT_TRUE(r.rt) << r.error;
    rt = std::move(r.rt);
    if (rt) {
      const RtStatus st = rt->start();
      EXPECT_TRUE(st.ok()) << st.error;
      rt->service(kT0);
    }
  }
  ~Rig() {
    rt.reset();
    p0.free_rings();
    p1.free_rings();
  }
  /* service(now) until pred() holds (up to 5 s). */
  template <class F>
  bool serve_until(uint64_t now, F pred) {
    return wait_for([&] {
      rt->service(now);
      return pred();
    });
  }
  void send_to(Ipv4Addr dst, uint32_t spi) {
    p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4, ipv4(kSrc, dst, kIpProtoEsp, esp(spi, 1))));
  }
};

TEST(RuntimeArp, AnswersRequestsForOurAddressesAndIgnoresOthers) {
  Rig rig;
  ASSERT_TRUE(rig.rt);
  const MacAddr zero{};
  rig.p0.inject(arp_frame(kMacBroadcast, kPeer, kArpOpRequest, kPeer, kSrc, zero, kOurs0b));
  ASSERT_TRUE(rig.serve_until(kT0, [&] { return rig.rt->counts().arp.replies_sent == 1; }));
  std::vector<Bytes> out = rig.p0.drain(1); /* the control thread's TX queue */
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], arp_frame(kPeer, kMac0, kArpOpReply, kMac0, kOurs0b, kPeer, kSrc, true));
  /* RFC 826: the requester is learned (we were the target). */
  EXPECT_EQ(rig.rt->neighbour(0, kSrc), kPeer);
  EXPECT_EQ(rig.rt->neighbour_state(0, kSrc), NeighState::kReachable);

  /* For an address not ours (nor one on the other port): no answer, not learned. */
  const Ipv4Addr other_src{192, 0, 2, 9};
  rig.p0.inject(arp_frame(kMacBroadcast, kNextHop, kArpOpRequest, kNextHop, other_src, zero,
                          Ipv4Addr(192, 0, 2, 77)));
  rig.p0.inject(arp_frame(kMacBroadcast, kNextHop, kArpOpRequest, kNextHop, other_src, zero, kOurs1));
  /* Malformed: hardware type 6. */
  Bytes bad = arp_frame(kMacBroadcast, kPeer, kArpOpRequest, kPeer, kSrc, zero, kOurs0);
  bad[15] = 6;
  rig.p0.inject(bad);
  ASSERT_TRUE(rig.serve_until(kT0, [&] {
    const RtCounts c = rig.rt->counts();
    return c.arp.ignored == 2 && c.drop(RtDrop::kArpBad) == 1;
  }));
  EXPECT_TRUE(rig.p0.drain(1).empty());
  const RtCounts c = rig.rt->counts();
  EXPECT_EQ(c.arp.replies_sent, 1u);
  EXPECT_EQ(c.arp.requests_received, 1u);
  EXPECT_EQ(c.arp.learned, 1u);
  EXPECT_FALSE(rig.rt->neighbour(0, other_src));
  EXPECT_EQ(c.punted, 4u); /* all ARP went to the control thread, none to the caller */
  std::array<CtlPkt, 4> got;
  EXPECT_EQ(rig.rt->poll_punts(got.data(), 4), 0);
}

TEST(RuntimeArp, ResolvesAnUnknownNextHopAndSendsTheHeldPacket) {
  Rig rig;
  ASSERT_TRUE(rig.rt);
  const Bytes l3 = ipv4(kSrc, kHop, kIpProtoEsp, esp(0x5000, 1));
  rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4, l3));
  ASSERT_TRUE(rig.serve_until(kT0, [&] { return rig.rt->counts().arp.requests_sent == 1; }));
  EXPECT_EQ(rig.rt->neighbour_state(1, kHop), NeighState::kIncomplete);
  std::vector<Bytes> req = rig.p1.drain(1);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(req[0], arp_frame(kMacBroadcast, kMac1, kArpOpRequest, kMac1, kOurs1, MacAddr{}, kHop,
                              true));
  EXPECT_TRUE(rig.p1.drain(0).empty());
  EXPECT_EQ(rig.rt->counts().arp.held, 1u);
  EXPECT_EQ(rig.rt->counts().total_drops(), 0u);

  /* The reply comes in on port 1. */
  rig.p1.inject(arp_frame(kMac1, kHopMac, kArpOpReply, kHopMac, kHop, kMac1, kOurs1));
  ASSERT_TRUE(rig.serve_until(kT0 + 10, [&] { return rig.rt->counts().arp.released == 1; }));
  std::vector<Bytes> out = rig.p1.drain(1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], eth(kHopMac, kMac1, kEtherTypeIpv4, l3));
  EXPECT_EQ(rig.rt->neighbour(1, kHop), kHopMac);

  /* Published: the next packet goes out from the worker itself. */
  const Bytes l3b = ipv4(kSrc, kHop, kIpProtoEsp, esp(0x5000, 2));
  rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4, l3b));
  std::vector<Bytes> w;
  ASSERT_TRUE(wait_for([&] {
    for (auto& f : rig.p1.drain(0)) w.push_back(f);
    return !w.empty();
  }));
  EXPECT_EQ(w[0], eth(kHopMac, kMac1, kEtherTypeIpv4, l3b));
  const RtCounts c = rig.rt->counts();
  EXPECT_EQ(c.arp.learned, 1u);
  EXPECT_EQ(c.arp.requests_sent, 1u);
  EXPECT_EQ(c.total_drops(), 0u);
}

TEST(RuntimeArp, HoldsWhatEveryWorkerHandsOverForOneNextHop) {
  Rig rig(false, /*workers=*/2, /*hold=*/8);
  ASSERT_TRUE(rig.rt);
  ASSERT_EQ(rig.rt->workers(), 2u);
  std::vector<Bytes> l3;
  for (uint32_t i = 0; i < 8; ++i) {
    l3.push_back(ipv4(kSrc, kHop, kIpProtoEsp, esp(0xa000 + i * 977, 1)));
    rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4, l3.back()));
  }
  ASSERT_TRUE(rig.serve_until(kT0, [&] { return rig.rt->counts().arp.held == 8; }));
  /* Software spread put them on both workers; one request for all. */
  EXPECT_GT(rig.rt->worker_counts(0).punted, 0u);
  EXPECT_GT(rig.rt->worker_counts(1).punted, 0u);
  EXPECT_EQ(rig.rt->counts().arp.requests_sent, 1u);
  EXPECT_EQ(rig.p1.drain(2).size(), 1u); /* control TX queue = workers */
  rig.p1.inject(arp_frame(kMac1, kHopMac, kArpOpReply, kHopMac, kHop, kMac1, kOurs1));
  ASSERT_TRUE(rig.serve_until(kT0 + 10, [&] { return rig.rt->counts().arp.released == 8; }));
  std::vector<Bytes> out = rig.p1.drain(2);
  ASSERT_EQ(out.size(), 8u);
  for (const Bytes& f : out)
    EXPECT_NE(std::find_if(l3.begin(), l3.end(),
                           [&](const Bytes& p) { return f == eth(kHopMac, kMac1, kEtherTypeIpv4, p); }),
              l3.end());
  EXPECT_EQ(rig.rt->counts().total_drops(), 0u);
}

TEST(RuntimeArp, GivesUpAfterItsRetriesAndCountsTheDrops) {
  Rig rig;
  ASSERT_TRUE(rig.rt);
  /* Three packets: the latest two held (hold = 2), the oldest dropped. */
  for (uint32_t i = 0; i < 3; ++i) rig.send_to(kHop, 0x6000 + i);
  ASSERT_TRUE(rig.serve_until(kT0, [&] {
    const RtCounts c = rig.rt->counts();
    return c.arp.held == 3 && c.drop(RtDrop::kArpQueueFull) == 1;
  }));
  rig.rt->service(kT0 + 100);
  rig.rt->service(kT0 + 200);
  EXPECT_EQ(rig.rt->counts().arp.requests_sent, 3u);
  EXPECT_EQ(rig.rt->counts().drop(RtDrop::kNoNeighbour), 0u);
  rig.rt->service(kT0 + 300); /* three unanswered: failed, the held two dropped */
  RtCounts c = rig.rt->counts();
  EXPECT_EQ(c.arp.failed, 1u);
  EXPECT_EQ(c.drop(RtDrop::kNoNeighbour), 2u);
  EXPECT_EQ(rig.rt->neighbour_state(1, kHop), NeighState::kFailed);
  EXPECT_EQ(rig.p1.drain(1).size(), 3u); /* the three requests, nothing else */
  EXPECT_TRUE(rig.p1.drain(0).empty());

  /* While failed, the worker drops at once: no hand-off, no request. */
  const uint64_t punted = c.punted;
  rig.send_to(kHop, 0x6100);
  ASSERT_TRUE(wait_for([&] { return rig.rt->counts().drop(RtDrop::kNoNeighbour) == 3; }));
  rig.rt->service(kT0 + 400);
  c = rig.rt->counts();
  EXPECT_EQ(c.punted, punted);
  EXPECT_EQ(c.arp.requests_sent, 3u);

  /* failed_ms later it is forgotten, and the next packet resolves afresh. */
  rig.rt->service(kT0 + 1300);
  EXPECT_EQ(rig.rt->neighbour_state(1, kHop), NeighState::kFree);
  rig.send_to(kHop, 0x6200);
  ASSERT_TRUE(rig.serve_until(kT0 + 1400, [&] { return rig.rt->counts().arp.requests_sent == 4; }));
}

TEST(RuntimeArp, StaticEntriesWin) {
  Rig rig(/*with_static=*/true);
  ASSERT_TRUE(rig.rt);
  /* A reply to us claiming the static next hop is elsewhere. */
  rig.p1.inject(arp_frame(kMac1, kHopMac, kArpOpReply, kHopMac, kNhIp, kMac1, kOurs1));
  ASSERT_TRUE(rig.serve_until(kT0, [&] { return rig.rt->counts().arp.replies_received == 1; }));
  EXPECT_EQ(rig.rt->neighbour(1, kNhIp), kNextHop);
  EXPECT_EQ(rig.rt->neighbour_state(1, kNhIp), NeighState::kStatic);
  rig.rt->service(kT0 + 10'000'000); /* and never ages */
  EXPECT_EQ(rig.rt->neighbour_state(1, kNhIp), NeighState::kStatic);
  const Bytes l3 = ipv4(kSrc, kNhIp, kIpProtoEsp, esp(0x7000, 1));
  rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4, l3));
  std::vector<Bytes> w;
  ASSERT_TRUE(wait_for([&] {
    for (auto& f : rig.p1.drain(0)) w.push_back(f);
    return !w.empty();
  }));
  EXPECT_EQ(w[0], eth(kNextHop, kMac1, kEtherTypeIpv4, l3));
  EXPECT_EQ(rig.rt->counts().arp.learned, 0u);
  EXPECT_EQ(rig.rt->counts().arp.requests_sent, 0u);
}

TEST(RuntimeArp, AgesLearnedEntriesAndReResolvesThem) {
  Rig rig;
  ASSERT_TRUE(rig.rt);
  /* Learned from a request for our address on port 1. */
  rig.p1.inject(arp_frame(kMacBroadcast, kHopMac, kArpOpRequest, kHopMac, kHop, MacAddr{}, kOurs1));
  ASSERT_TRUE(rig.serve_until(kT0, [&] { return rig.rt->neighbour(1, kHop).has_value(); }));
  EXPECT_EQ(rig.p1.drain(1).size(), 1u); /* our reply */
  rig.rt->service(kT0 + 4999);
  EXPECT_TRUE(rig.p1.drain(1).empty());
  rig.rt->service(kT0 + 5000); /* reachable_ms: a unicast request to the known address */
  std::vector<Bytes> probe = rig.p1.drain(1);
  ASSERT_EQ(probe.size(), 1u);
  EXPECT_EQ(probe[0], arp_frame(kHopMac, kMac1, kArpOpRequest, kMac1, kOurs1, kHopMac, kHop, true));
  EXPECT_EQ(rig.rt->neighbour_state(1, kHop), NeighState::kProbe);
  EXPECT_EQ(rig.rt->neighbour(1, kHop), kHopMac); /* still used meanwhile */
  /* Answered: reachable again. */
  rig.p1.inject(arp_frame(kMac1, kHopMac, kArpOpReply, kHopMac, kHop, kMac1, kOurs1));
  ASSERT_TRUE(rig.serve_until(kT0 + 5050, [&] {
    return rig.rt->neighbour_state(1, kHop) == NeighState::kReachable;
  }));
  /* Next time nobody answers: removed after the retries. */
  rig.rt->service(kT0 + 10'050);
  rig.rt->service(kT0 + 10'150);
  rig.rt->service(kT0 + 10'250);
  EXPECT_EQ(rig.p1.drain(1).size(), 3u);
  rig.rt->service(kT0 + 10'350);
  EXPECT_EQ(rig.rt->neighbour_state(1, kHop), NeighState::kFree);
  EXPECT_FALSE(rig.rt->neighbour(1, kHop));
  EXPECT_EQ(rig.rt->counts().arp.requests_sent, 4u);
}

TEST(RuntimeArp, RepublishesWhileWorkersForwardAndFreesEverything) {
  const unsigned before = rte_mempool_avail_count(EalEnv::pool);
  {
    Rig rig;
    ASSERT_TRUE(rig.rt);
    /* Many publications (a neighbour flapping between two addresses)
     * while the worker forwards to it: no packet lost or misaddressed. */
    rig.p1.inject(arp_frame(kMacBroadcast, kHopMac, kArpOpRequest, kHopMac, kHop, MacAddr{}, kOurs1));
    ASSERT_TRUE(rig.serve_until(kT0, [&] { return rig.rt->neighbour(1, kHop).has_value(); }));
    rig.p1.drain(1);
    const MacAddr alt{{0x02, 0, 0, 0, 0, 0x78}};
    uint32_t sent = 0;
    for (int round = 0; round < 50; ++round) {
      const MacAddr& m = round % 2 ? kHopMac : alt;
      rig.p1.inject(arp_frame(kMac1, m, kArpOpReply, m, kHop, kMac1, kOurs1));
      for (int i = 0; i < 4; ++i) rig.send_to(kHop, 0x8000 + sent++);
      ASSERT_TRUE(rig.serve_until(kT0 + 1, [&] {
        const RtCounts c = rig.rt->counts();
        return c.rx >= sent + 2 + round && c.tx + c.punted + c.total_drops() >= c.rx;
      }));
    }
    ASSERT_TRUE(rig.serve_until(kT0 + 1, [&] { return rig.rt->counts().arp.learned == 51; }));
    uint32_t out = 0;
    for (auto& q : {rig.p1.drain(0), rig.p1.drain(1)})
      for (auto& f : q) {
        if (f.size() > 13 && f[12] == 0x08 && f[13] == 0x00) {
          ++out;
          const MacAddr d{{f[0], f[1], f[2], f[3], f[4], f[5]}};
          EXPECT_TRUE(d == kHopMac || d == alt);
        }
      }
    EXPECT_EQ(out, sent);
    EXPECT_EQ(rig.rt->counts().total_drops(), 0u);
    /* Leave a packet held and one in the ring: freed on shutdown. */
    rig.send_to(Ipv4Addr(10, 0, 1, 200), 0x9000);
    ASSERT_TRUE(rig.serve_until(kT0 + 2, [&] { return rig.rt->counts().arp.held == 1; }));
    rig.send_to(Ipv4Addr(10, 0, 1, 201), 0x9001);
    ASSERT_TRUE(wait_for([&] { return rig.rt->counts().punted >= 53; }));
  }
  EXPECT_EQ(rte_mempool_avail_count(EalEnv::pool), before);
}

}  // namespace
}  // namespace mipvpn::rt_test
