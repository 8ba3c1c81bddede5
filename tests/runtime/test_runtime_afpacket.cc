/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime on a net_af_packet port (a veth end in a network namespace
 * of the test's own): the PMD opens one socket per queue pair and the
 * kernel spreads frames over all of them by flow hash (PACKET_FANOUT_HASH),
 * configured or not. Every flow must reach the pipeline, not only those
 * that hash to queue 0. Needs root (a namespace, veths, packet sockets):
 * without it the tests fail, saying so; they never skip (CI runs them as
 * root, and a skip would read as a pass in meson's summary).
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>

#include <cstdlib>
#include <set>
#include <string>

#include "rt_test_util.h"

namespace mipvpn::rt_test {
namespace {

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new EalEnv("mipvpn_rtaf_"));

/* Once per process: this thread (the one that creates the devices'
 * sockets) and the commands it starts in a network namespace of their
 * own, with the veth pair mvaf0 - mvaf1. False (and a reason) if not. */
bool veth_in_own_netns(std::string* why) {
  static int state = 0;  /* 0 not tried, 1 ready, 2 failed */
  static std::string reason;
  if (state == 0) {
    state = 2;
    if (geteuid() != 0)
      reason = "this test needs root (CI runs it as root): a network namespace, veths and packet sockets";
    else if (unshare(CLONE_NEWNET) != 0)
      reason = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    else if (std::system("ip link add mvaf0 type veth peer name mvaf1 && ip link set mvaf0 up && "
                         "ip link set mvaf1 up") != 0)
      reason = "ip link add ... type veth failed";
    else
      state = 1;
  }
  *why = reason;
  return state == 1;
}

TEST(RuntimeAfPacket, ReadsEveryQueueOfTheKernelsFanout) {
  std::string why;
  if (!veth_in_own_netns(&why)) FAIL() << why;

  SeenLog log;
  RuntimeConfig cfg;
  cfg.workers = 1;
  /* 3 queue pairs: 2 TX queues are needed (worker, control thread), and
   * the third RX socket is one nobody asked for. */
  cfg.ports = {{.name = "veth", .device = "net_af_packet_rt0,iface=mvaf0,qpairs=3", .mac = kMac0}};
  cfg.worker_idle_sleep_us = 50;
  cfg.catch_signals = false;
  RuntimeOrError r = Runtime::create(cfg, test_factory(&log));
  ASSERT_TRUE(r.rt) << r.error;
  ASSERT_TRUE(r.rt->start().ok());

  /* 64 flows (source address and SPI differ) from the other end. */
  const int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  ASSERT_GE(fd, 0) << std::strerror(errno);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(if_nametoindex("mvaf1"));
  to.sll_halen = 6;
  ASSERT_NE(to.sll_ifindex, 0);
  constexpr uint32_t kFlows = 64;
  for (uint32_t i = 0; i < kFlows; ++i) {
    const Bytes f = eth(kMac0, kPeer, kEtherTypeIpv4,
                        ipv4(Ipv4Addr(198, 51, 100, static_cast<uint8_t>(i + 1)), Ipv4Addr(192, 0, 2, 1),
                             kIpProtoEsp, esp(0x1000 + i, 1)));
    ASSERT_EQ(sendto(fd, f.data(), f.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(f.size()))
        << std::strerror(errno);
  }
  close(fd);
  /* Only worker 0 reads the port: it logs what the pipeline saw. */
  EXPECT_TRUE(wait_for([&] { return r.rt->counts().rx >= kFlows; })) << r.rt->counts().rx;
  r.rt->stop();
  const std::set<uint32_t> seen(log.spi[0].begin(), log.spi[0].end());
  for (uint32_t i = 0; i < kFlows; ++i) EXPECT_TRUE(seen.count(0x1000 + i)) << "flow " << i << " lost";
}

TEST(RuntimeAfPacket, NamesTheQueuePairsItNeeds) {
  std::string why;
  if (!veth_in_own_netns(&why)) FAIL() << why;
  RuntimeConfig cfg;
  cfg.workers = 2;
  cfg.ports = {{.name = "veth", .device = "net_af_packet_rt1,iface=mvaf0"}};
  cfg.catch_signals = false;
  RuntimeOrError r = Runtime::create(cfg, test_factory());
  ASSERT_FALSE(r.rt);
  EXPECT_NE(r.error.find("offers 1 TX queue"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("qpairs=3"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace mipvpn::rt_test
