/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime on net_ring ports made from our own rings: frames in, the
 * right frames out with the right Ethernet header, UDP 434 punted (and ARP
 * when asked), wrong EtherTypes counted, missing neighbours handed over, software spread over
 * two workers keeping one SPI on one worker, clean shutdown.
 */
#include <rte_ethdev.h>

#include <csignal>
#include <set>

#include "rt_test_util.h"

namespace mipvpn::rt_test {
namespace {

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new EalEnv("mipvpn_rt_", {"--vdev=net_null_eal0,size=64"}));

const Ipv4Addr kSrc{192, 0, 2, 1};

struct Rig {
  RingPort p0, p1;
  SeenLog log;
  std::unique_ptr<Runtime> rt;

  explicit Rig(unsigned workers, bool start = true, bool punt_arp = false, PuntPoliceConfig police = {}) {
    p0 = RingPort::make("a", workers + 1);
    p1 = RingPort::make("b", workers + 1);
    RuntimeConfig cfg;
    cfg.workers = workers;
    cfg.ports = {{.name = "in", .device = p0.name, .mtu = 1500, .mac = kMac0},
                 {.name = "out", .device = p1.name, .mtu = 1500, .mac = kMac1}};
    cfg.neighbours = {{.port = 1, .ip = kNhIp, .mac = kNextHop}};
    cfg.rx_desc = 256;
    cfg.tx_desc = 256;
    cfg.spread_ring_size = 512;
    cfg.punt_ring_size = 256;
    cfg.worker_idle_sleep_us = 50;
    cfg.catch_signals = false;
    cfg.punt_arp = punt_arp;
    cfg.punt_police = police;
    RuntimeOrError r = Runtime::create(cfg, test_factory(&log));
    EXPECT_TRUE(r.rt) << r.error;
    rt = std::move(r.rt);
    if (rt && start) {
      const RtStatus st = rt->start();
      EXPECT_TRUE(st.ok()) << st.error;
    }
  }
  ~Rig() {
    rt.reset();
    p0.free_rings();
    p1.free_rings();
  }
  /* Wait until the runtime has received n frames and finished them. */
  bool settle(uint64_t n) const {
    return wait_for([&] {
      const RtCounts c = rt->counts();
      return c.rx >= n && c.tx + c.punted + c.total_drops() >= n;
    });
  }
};

TEST(Runtime, ForwardsWithTheNextHopsEthernetHeader) {
  Rig rig(1);
  ASSERT_TRUE(rig.rt);
  EXPECT_EQ(rig.rt->workers(), 1u);
  EXPECT_EQ(rig.rt->port_mac(0), kMac0);
  std::vector<Bytes> sent;
  for (uint32_t i = 0; i < 5; ++i) {
    /* The last one is TCP, for which the pipeline gives next hop 0.0.0.0. */
    const Bytes l3 = i < 4 ? ipv4(kSrc, kNhIp, kIpProtoEsp, esp(0x1000 + i, i + 1))
                           : ipv4(kSrc, kNhIp, 6, Bytes(20, 0));
    sent.push_back(l3);
    /* Unicast to our MAC, and broadcast: both accepted. */
    rig.p0.inject(eth(i % 2 ? kMacBroadcast : kMac0, kPeer, kEtherTypeIpv4, l3));
  }
  ASSERT_TRUE(rig.settle(5));
  const std::vector<Bytes> out = rig.p1.drain(0);
  ASSERT_EQ(out.size(), 5u);
  for (size_t i = 0; i < out.size(); ++i)
    EXPECT_EQ(out[i], eth(kNextHop, kMac1, kEtherTypeIpv4, sent[i])) << i;
  const RtCounts c = rig.rt->counts();
  EXPECT_EQ(c.rx, 5u);
  EXPECT_EQ(c.tx, 5u);
  EXPECT_EQ(c.total_drops(), 0u);
  EXPECT_TRUE(rig.p0.drain(0).empty());
}

TEST(Runtime, CountsEveryRuntimeDropByReason) {
  Rig rig(1);
  ASSERT_TRUE(rig.rt);
  const Bytes l3 = ipv4(kSrc, kNhIp, kIpProtoEsp, esp(0x2000, 1));
  rig.p0.inject(eth(kMac0, kPeer, kEtherTypeVlan, l3)); /* 802.1Q */
  rig.p0.inject(eth(kMac0, kPeer, 0x86dd, l3));                                     /* IPv6 */
  rig.p0.inject(eth(kMac0, kPeer, 0x88cc, l3));                                     /* LLDP */
  rig.p0.inject(eth(kPeer, kMac0, kEtherTypeIpv4, l3));                             /* not ours */
  rig.p0.inject(Bytes(10, 0xff));                                                   /* runt */
  rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4,
                    ipv4(kSrc, Ipv4Addr(10, 0, 1, 99), kIpProtoEsp, esp(0x2001, 1))));
  rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4, ipv4(kSrc, kNhIp, kIpProtoIcmp, Bytes(8, 0))));
  ASSERT_TRUE(rig.settle(7));
  const RtCounts c = rig.rt->counts();
  EXPECT_EQ(c.drop(RtDrop::kVlan), 1u);
  EXPECT_EQ(c.drop(RtDrop::kEtherType), 2u);
  EXPECT_EQ(c.drop(RtDrop::kNotForUs), 1u);
  EXPECT_EQ(c.drop(RtDrop::kRunt), 1u);
  EXPECT_EQ(c.drop(RtDrop::kPipeline), 1u);
  EXPECT_EQ(c.stage_drops[7], 1u);
  EXPECT_EQ(c.tx, 0u);
  EXPECT_EQ(c.total_drops(), 6u);
  /* No neighbour: not dropped but handed to the control thread to resolve. */
  EXPECT_EQ(c.punted, 1u);
  EXPECT_EQ(c.drop(RtDrop::kNoNeighbour), 0u);
  EXPECT_TRUE(rig.p1.drain(0).empty());
}

/* A flood of registrations from one source loses its punts at the worker
 * (punt_policed); one request from each of five other sources still
 * reaches the control thread. */
TEST(Runtime, PolicesPuntsPerSource) {
  Rig rig(1, true, false, PuntPoliceConfig{.rate_per_s = 1, .burst = 20, .buckets = 4096, .hash_key = 0x9e3779b9});
  ASSERT_TRUE(rig.rt);
  const Ipv4Addr agent(192, 0, 2, 254);
  const Ipv4Addr flooder(198, 51, 100, 1);
  for (int i = 0; i < 200; ++i)
    rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4, ipv4(flooder, agent, kIpProtoUdp, udp(434, kPortMip, Bytes(24, 1)))));
  ASSERT_TRUE(rig.settle(200));
  for (uint8_t s = 2; s <= 6; ++s)
    rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4,
                      ipv4(Ipv4Addr(198, 51, 100, s), agent, kIpProtoUdp, udp(434, kPortMip, Bytes(24, 1)))));
  ASSERT_TRUE(rig.settle(205));
  const RtCounts c = rig.rt->counts();
  /* The burst, and at most a few more at 1/s while the test runs. */
  EXPECT_GE(c.punted, 25u);
  EXPECT_LE(c.punted, 30u);
  EXPECT_EQ(c.drop(RtDrop::kPuntPoliced), 205u - c.punted);
  std::array<CtlPkt, 64> got;
  uint16_t n = 0;
  ASSERT_TRUE(wait_for([&] { return (n += rig.rt->poll_punts(got.data() + n, 64 - n)) >= c.punted; }));
  std::set<uint32_t> others;
  for (uint16_t i = 0; i < n; ++i) {
    const auto ip = ipv4_parse(got[i].view.bytes());
    ASSERT_TRUE(ip.ok());
    if (ip->src != flooder) others.insert(ip->src.host());
    rig.rt->free(got[i]);
  }
  EXPECT_EQ(others.size(), 5u);
}

TEST(Runtime, PuntsArpWhenAskedAndRegistrationsAndSendsFromControl) {
  Rig rig(1, true, /*punt_arp=*/true);
  ASSERT_TRUE(rig.rt);
  /* RFC 826 request, broadcast: punted whole. */
  Bytes arp = {0, 1, 8, 0, 6, 4, 0, 1};
  arp.insert(arp.end(), kPeer.b.begin(), kPeer.b.end());
  arp.insert(arp.end(), {192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 254});
  const Bytes arp_frame = eth(kMacBroadcast, kPeer, kEtherTypeArp, arp);
  rig.p0.inject(arp_frame);
  const Bytes rrq = ipv4(kSrc, Ipv4Addr(192, 0, 2, 254), kIpProtoUdp, udp(434, kPortMip, Bytes(24, 1)));
  rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4, rrq));
  ASSERT_TRUE(rig.settle(2));
  EXPECT_EQ(rig.rt->counts().punted, 2u);

  std::array<CtlPkt, 8> got;
  uint16_t n = 0;
  ASSERT_TRUE(wait_for([&] {
    rig.rt->service(); /* ARP: handled by the runtime, then handed on */
    return (n += rig.rt->poll_punts(got.data() + n, 8 - n)) >= 2;
  }));
  ASSERT_EQ(n, 2);
  EXPECT_TRUE(got[0].arp);
  EXPECT_EQ(got[0].port, 0);
  const auto b0 = got[0].view.bytes();
  EXPECT_EQ(Bytes(reinterpret_cast<const uint8_t*>(b0.data()),
                  reinterpret_cast<const uint8_t*>(b0.data()) + b0.size()), arp_frame);
  EXPECT_FALSE(got[1].arp);
  const auto b1 = got[1].view.bytes();
  EXPECT_EQ(Bytes(reinterpret_cast<const uint8_t*>(b1.data()),
                  reinterpret_cast<const uint8_t*>(b1.data()) + b1.size()), rrq);

  /* Reply out of port 1 through the control TX queue (index = workers). */
  EXPECT_TRUE(rig.rt->send_ip(got[1], 1, kNhIp));
  const std::vector<Bytes> out = rig.p1.drain(1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], eth(kNextHop, kMac1, kEtherTypeIpv4, rrq));
  /* A raw frame (an ARP answer) goes out as it is. */
  EXPECT_TRUE(rig.rt->send_frame(got[0], 0));
  const std::vector<Bytes> out0 = rig.p0.drain(1);
  ASSERT_EQ(out0.size(), 1u);
  EXPECT_EQ(out0[0], arp_frame);
  /* The request was for an address not ours: not answered. */
  EXPECT_EQ(rig.rt->counts().arp.ignored, 1u);
  EXPECT_EQ(rig.rt->counts().arp.replies_sent, 0u);
  /* No neighbour: held while an ARP request goes out. */
  CtlPkt fresh = rig.rt->alloc(1);
  ASSERT_NE(fresh.mbuf, nullptr);
  fresh.view.data_len = 20;
  EXPECT_TRUE(rig.rt->send_ip(fresh, 1, Ipv4Addr(10, 9, 9, 9)));
  EXPECT_EQ(fresh.mbuf, nullptr);
  EXPECT_EQ(rig.rt->counts().arp.held, 1u);
  EXPECT_EQ(rig.rt->counts().arp.requests_sent, 1u);
  const std::vector<Bytes> req = rig.p1.drain(1);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(Bytes(req[0].begin(), req[0].begin() + 6), Bytes(6, 0xff));
  EXPECT_EQ(rig.rt->counts().tx, 3u);
}

TEST(Runtime, SoftwareSpreadKeepsOneSpiOnOneWorker) {
  Rig rig(2);
  ASSERT_TRUE(rig.rt);
  ASSERT_EQ(rig.rt->workers(), 2u);
  EXPECT_FALSE(rig.rt->port_rss(0)); /* net_ring has no RSS */
  uint32_t n = 0;
  for (uint32_t round = 0; round < 8; ++round) {
    for (uint32_t s = 0; s < 32; ++s) {
      /* The same SPI from varying addresses and NAT ports, plain and in UDP 4500. */
      const Ipv4Addr src(198, 51, 100, static_cast<uint8_t>(round * 7 + s));
      const uint32_t spi = 0x10000 + s * 977;
      rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4, ipv4(src, kNhIp, kIpProtoEsp, esp(spi, round))));
      rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4,
                        ipv4(src, kNhIp, kIpProtoUdp,
                             udp(static_cast<uint16_t>(40000 + round), kPortNatt, esp(spi, round)))));
      n += 2;
    }
    ASSERT_TRUE(rig.settle(n)); /* keep the 1024-slot RX ring from overflowing */
  }
  rig.rt->stop();
  const RtCounts c = rig.rt->counts();
  EXPECT_EQ(c.rx, n);
  EXPECT_EQ(c.tx, n);
  EXPECT_GT(c.spread, 0u);
  EXPECT_GT(rig.rt->worker_counts(1).tx, 0u);
  EXPECT_GT(rig.rt->worker_counts(0).tx, 0u);
  EXPECT_EQ(rig.p1.drain(0).size() + rig.p1.drain(1).size(), n);
  std::set<uint32_t> w0(rig.log.spi[0].begin(), rig.log.spi[0].end());
  std::set<uint32_t> w1(rig.log.spi[1].begin(), rig.log.spi[1].end());
  EXPECT_FALSE(w0.empty());
  EXPECT_FALSE(w1.empty());
  EXPECT_EQ(w0.size() + w1.size(), 32u);
  for (uint32_t spi : w0) EXPECT_EQ(w1.count(spi), 0u) << "SPI " << spi << " on both workers";
}

TEST(Runtime, ShutdownFreesEverythingAndCanRunAgain) {
  const unsigned before = rte_mempool_avail_count(EalEnv::pool);
  for (int round = 0; round < 2; ++round) {
    Rig rig(2);
    ASSERT_TRUE(rig.rt);
    /* Leave frames in flight: punts nobody polls, forwarded ones nobody drains. */
    for (int i = 0; i < 50; ++i) {
      rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4,
                        ipv4(Ipv4Addr(198, 51, 100, static_cast<uint8_t>(i)), kNhIp, kIpProtoUdp,
                             udp(434, kPortMip, Bytes(8, 0)))));
      rig.p0.inject(eth(kMac0, kPeer, kEtherTypeIpv4,
                        ipv4(Ipv4Addr(198, 51, 100, static_cast<uint8_t>(i)), kNhIp, kIpProtoEsp,
                             esp(0x3000u + static_cast<uint32_t>(i), 1))));
    }
    ASSERT_TRUE(rig.settle(100));
    rig.rt->request_stop();
    EXPECT_TRUE(rig.rt->stop_requested());
    rig.rt->stop();
    rig.rt->stop(); /* idempotent */
    EXPECT_EQ(rig.rt->counts().punted, 50u);
  }
  /* Punted mbufs were ours and freed on stop; the test pool has all its own back. */
  EXPECT_EQ(rte_mempool_avail_count(EalEnv::pool), before);
}

TEST(Runtime, RefusesWhatItCannotDo) {
  RingPort one_tx = RingPort::make("c", 1);
  RuntimeConfig cfg;
  cfg.ports = {{.name = "lonely", .device = one_tx.name}};
  RuntimeOrError r = Runtime::create(cfg, test_factory());
  EXPECT_FALSE(r.rt);
  EXPECT_NE(r.error.find("TX queue"), std::string::npos) << r.error;

  RingPort two_tx = RingPort::make("d", 2);
  cfg.ports = {{.name = "small", .device = two_tx.name}};
  cfg.workers = 2; /* 3 TX queues needed: clamped to 1 worker */
  r = Runtime::create(cfg, test_factory());
  ASSERT_TRUE(r.rt) << r.error;
  EXPECT_EQ(r.rt->workers(), 1u);
  ASSERT_FALSE(r.rt->notes().empty());
  EXPECT_NE(r.rt->notes()[0].find("clamped"), std::string::npos) << r.rt->notes()[0];
  r.rt.reset();

  RingPort big = RingPort::make("e", 2);
  cfg.workers = 1;
  cfg.ports = {{.name = "jumbo", .device = big.name, .mtu = 9000}};
  r = Runtime::create(cfg, test_factory());
  EXPECT_FALSE(r.rt);
  EXPECT_NE(r.error.find("MTU 9000"), std::string::npos) << r.error;

  cfg.ports = {{.name = "ghost", .device = "0000:99:00.0"}};
  r = Runtime::create(cfg, test_factory());
  EXPECT_FALSE(r.rt);
  EXPECT_NE(r.error.find("PCI"), std::string::npos) << r.error;

  cfg.ports = {{.name = "many", .device = "net_null_rt0"}};
  cfg.workers = 3; /* EAL has 2 worker lcores */
  r = Runtime::create(cfg, test_factory());
  EXPECT_FALSE(r.rt);
  EXPECT_NE(r.error.find("lcores"), std::string::npos) << r.error;

  one_tx.free_rings();
  two_tx.free_rings();
  big.free_rings();
}

TEST(Runtime, CreatesAVdevFromItsDeviceString) {
  RuntimeConfig cfg;
  cfg.ports = {{.name = "null", .device = "net_null_rt1,size=64"}};
  cfg.rx_desc = 128;
  cfg.tx_desc = 128;
  cfg.worker_idle_sleep_us = 50;
  cfg.catch_signals = false;
  RuntimeOrError r = Runtime::create(cfg, test_factory());
  ASSERT_TRUE(r.rt) << r.error;
  ASSERT_TRUE(r.rt->start().ok());
  /* net_null delivers 64-byte frames of no meaning forever: all dropped. */
  ASSERT_TRUE(wait_for([&] { return r.rt->counts().total_drops() > 100; }));
  EXPECT_GT(r.rt->counts().rx, 100u);
  r.rt.reset();
  /* Removed on shutdown: the same name can be made again. */
  r = Runtime::create(cfg, test_factory());
  EXPECT_TRUE(r.rt) << r.error;
}

TEST(Runtime, TakesAVdevThatEalAlreadyMade) {
  RuntimeConfig cfg;
  cfg.ports = {{.name = "eal", .device = "net_null_eal0,size=128"}};
  cfg.rx_desc = 128;
  cfg.tx_desc = 128;
  cfg.catch_signals = false;
  RuntimeOrError r = Runtime::create(cfg, test_factory());
  ASSERT_TRUE(r.rt) << r.error;
  uint16_t id = 0;
  ASSERT_EQ(rte_eth_dev_get_port_by_name("net_null_eal0", &id), 0);
  EXPECT_EQ(r.rt->port_id(0), id);
  ASSERT_FALSE(r.rt->notes().empty()); /* its arguments were not applied */
  EXPECT_NE(r.rt->notes()[0].find("already exists"), std::string::npos) << r.rt->notes()[0];
}

TEST(Runtime, ReadsOneRssQueuePerWorkerWhenThePortHasThem) {
  /* net_null offers RSS and many queues: no software spread. */
  RuntimeConfig cfg;
  cfg.workers = 2;
  cfg.ports = {{.name = "rss", .device = "net_null_rt2,size=64"}};
  cfg.rx_desc = 128;
  cfg.tx_desc = 128;
  cfg.worker_idle_sleep_us = 50;
  cfg.catch_signals = false;
  RuntimeOrError r = Runtime::create(cfg, test_factory());
  ASSERT_TRUE(r.rt) << r.error;
  EXPECT_TRUE(r.rt->port_rss(0));
  ASSERT_TRUE(r.rt->start().ok());
  ASSERT_TRUE(wait_for([&] {
    return r.rt->worker_counts(0).rx > 100 && r.rt->worker_counts(1).rx > 100;
  }));
  EXPECT_EQ(r.rt->counts().spread, 0u);
}

TEST(Runtime, GracePeriodsPassWhileWorkersRun) {
  Rig rig(2);
  ASSERT_TRUE(rig.rt);
  const uint64_t t = rig.rt->rcu_start();
  EXPECT_TRUE(wait_for([&] { return rig.rt->rcu_check(t); }));
  rig.rt->rcu_synchronize(); /* returns: both workers report quiescent states */
  rig.rt->stop();
  rig.rt->rcu_synchronize(); /* offline workers do not hold it up */
}

TEST(Runtime, StopsOnSigterm) {
  RingPort a = RingPort::make("s", 2);
  RuntimeConfig cfg;
  cfg.ports = {{.name = "sig", .device = a.name}};
  cfg.rx_desc = 128;
  cfg.tx_desc = 128;
  cfg.worker_idle_sleep_us = 50;
  cfg.control_sleep_us = 100;
  cfg.catch_signals = true;
  RuntimeOrError r = Runtime::create(cfg, test_factory());
  ASSERT_TRUE(r.rt) << r.error;
  ASSERT_TRUE(r.rt->start().ok());
  int ticks = 0;
  r.rt->run([&](Runtime&) {
    if (++ticks == 3) std::raise(SIGTERM); /* caught: run() returns */
  });
  EXPECT_GE(ticks, 3);
  EXPECT_TRUE(r.rt->stop_requested());
  r.rt.reset();
  /* The handler is gone with the runtime: the default one is back. */
  struct sigaction now {};
  sigaction(SIGTERM, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
  a.free_rings();
}

struct HookCount {
  std::array<std::atomic<uint64_t>, 2> n{};
};

TEST(Runtime, CallsTheQuiescentHookOnEveryWorker) {
  Rig rig(2, false);
  ASSERT_TRUE(rig.rt);
  HookCount hc;
  const RtStatus st = rig.rt->start(
      [](unsigned w, void* ctx) noexcept {
        static_cast<HookCount*>(ctx)->n[w].fetch_add(1, std::memory_order_relaxed);
      },
      &hc);
  ASSERT_TRUE(st.ok()) << st.error;
  EXPECT_TRUE(wait_for([&] { return hc.n[0].load() > 10 && hc.n[1].load() > 10; }));
}

}  // namespace
}  // namespace mipvpn::rt_test
