/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A golden-file run through net_pcap: the test writes an input capture
 * with libpcap, the runtime reads it from one port (rx_pcap) and writes
 * what it sends to per-queue captures (tx_pcap), and the test compares
 * those with the frames it expects, byte for byte. The control thread
 * runs the runtime's own loop (Runtime::run), whose service() answers
 * the ARP request for the port's address; the caller sees no ARP.
 */
#include <pcap/pcap.h>
#include <stdlib.h>

#include <filesystem>

#include "rt_test_util.h"

namespace mipvpn::rt_test {
namespace {

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new EalEnv("mipvpn_rtpcap_"));

void write_pcap(const std::string& path, const std::vector<Bytes>& frames) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  ASSERT_NE(dead, nullptr);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  ASSERT_NE(d, nullptr) << pcap_geterr(dead);
  uint32_t t = 1;
  for (const Bytes& f : frames) {
    pcap_pkthdr h{};
    h.ts.tv_sec = t++;
    h.caplen = h.len = static_cast<uint32_t>(f.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, f.data());
  }
  pcap_dump_close(d);
  pcap_close(dead);
}

std::vector<Bytes> read_pcap(const std::string& path) {
  std::vector<Bytes> out;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  EXPECT_NE(p, nullptr) << path << ": " << err;
  if (!p) return out;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) out.emplace_back(data, data + h->caplen);
  pcap_close(p);
  return out;
}

TEST(RuntimePcap, GoldenFramesThroughNetPcap) {
  char tmpl[] = "/tmp/mipvpn_rtpcap_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;

  const Ipv4Addr src{198, 51, 100, 7};
  const Bytes esp_l3 = ipv4(src, kNhIp, kIpProtoEsp, esp(0x4242, 1));
  const Bytes natt_l3 = ipv4(src, kNhIp, kIpProtoUdp, udp(4500, kPortNatt, esp(0x4243, 9)));
  Bytes arp = {0, 1, 8, 0, 6, 4, 0, 1};
  arp.insert(arp.end(), kPeer.b.begin(), kPeer.b.end());
  arp.insert(arp.end(), {198, 51, 100, 7, 0, 0, 0, 0, 0, 0, 198, 51, 100, 1});
  const Bytes arp_frame = eth(kMacBroadcast, kPeer, kEtherTypeArp, arp);
  write_pcap(dir + "/in.pcap",
             {eth(kMac0, kPeer, kEtherTypeIpv4, esp_l3), arp_frame,
              eth(kMac0, kPeer, 0x86dd, esp_l3),
              eth(kMacBroadcast, kPeer, kEtherTypeIpv4, natt_l3),
              eth(kMac0, kPeer, kEtherTypeIpv4, ipv4(src, kNhIp, kIpProtoIcmp, Bytes(8, 0)))});
  write_pcap(dir + "/empty.pcap", {});

  RuntimeConfig cfg;
  cfg.workers = 1;
  /* One TX queue per worker plus the control thread's: two tx_pcap files. */
  cfg.ports = {{.name = "in",
                .device = "net_pcap_rtin,rx_pcap=" + dir + "/in.pcap,tx_pcap=" + dir +
                          "/in_w0.pcap,tx_pcap=" + dir + "/in_ctl.pcap",
                .mac = kMac0,
                .addresses = {Ipv4Addr(198, 51, 100, 1)}},
               {.name = "out",
                .device = "net_pcap_rtout,rx_pcap=" + dir + "/empty.pcap,tx_pcap=" + dir +
                          "/out_w0.pcap,tx_pcap=" + dir + "/out_ctl.pcap",
                .mac = kMac1}};
  cfg.neighbours = {{.port = 1, .ip = kNhIp, .mac = kNextHop}};
  cfg.rx_desc = 128;
  cfg.tx_desc = 128;
  cfg.worker_idle_sleep_us = 50;
  cfg.control_sleep_us = 200;
  RuntimeOrError r = Runtime::create(cfg, test_factory());
  ASSERT_TRUE(r.rt) << r.error;
  for (const auto& n : r.rt->notes()) std::printf("note: %s\n", n.c_str());
  ASSERT_TRUE(r.rt->start().ok());

  /* The runtime answers the request for 198.51.100.1 itself (run() calls
   * service() each tick); the caller never sees ARP. */
  int arps_seen = 0;
  const auto t_end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  r.rt->run([&](Runtime& rt) {
    std::array<CtlPkt, 4> got;
    const uint16_t n = rt.poll_punts(got.data(), 4);
    for (uint16_t i = 0; i < n; ++i) {
      arps_seen += got[i].arp;
      rt.free(got[i]);
    }
    const RtCounts c = rt.counts();
    if ((c.arp.replies_sent == 1 && c.rx == 5 && c.tx == 3) ||
        std::chrono::steady_clock::now() > t_end)
      rt.request_stop();
  });
  const RtCounts c = r.rt->counts();
  /* RFC 826 merge: the requester is learned. */
  EXPECT_EQ(r.rt->neighbour(0, src), kPeer);
  r.rt.reset(); /* stops the ports: the capture files are complete */

  EXPECT_EQ(arps_seen, 0);
  EXPECT_EQ(c.arp.replies_sent, 1u);
  EXPECT_EQ(c.arp.requests_received, 1u);
  EXPECT_EQ(c.arp.learned, 1u);
  EXPECT_EQ(c.rx, 5u);
  EXPECT_EQ(c.tx, 3u); /* two forwarded, one ARP frame from the control thread */
  EXPECT_EQ(c.punted, 1u); /* the ARP frame, to the control thread */
  EXPECT_EQ(c.drop(RtDrop::kEtherType), 1u);
  EXPECT_EQ(c.drop(RtDrop::kPipeline), 1u);

  const std::vector<Bytes> golden_out = {eth(kNextHop, kMac1, kEtherTypeIpv4, esp_l3),
                                         eth(kNextHop, kMac1, kEtherTypeIpv4, natt_l3)};
  EXPECT_EQ(read_pcap(dir + "/out_w0.pcap"), golden_out);
  EXPECT_TRUE(read_pcap(dir + "/out_ctl.pcap").empty());
  EXPECT_TRUE(read_pcap(dir + "/in_w0.pcap").empty());
  /* The reply: Ethernet to the requester, RFC 826 fields swapped, padded to 60. */
  Bytes reply = {0, 1, 8, 0, 6, 4, 0, 2};
  reply.insert(reply.end(), kMac0.b.begin(), kMac0.b.end());
  reply.insert(reply.end(), {198, 51, 100, 1});
  reply.insert(reply.end(), kPeer.b.begin(), kPeer.b.end());
  reply.insert(reply.end(), {198, 51, 100, 7});
  reply.resize(60 - 14, 0);
  EXPECT_EQ(read_pcap(dir + "/in_ctl.pcap"), std::vector<Bytes>{eth(kPeer, kMac0, kEtherTypeArp, reply)});
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mipvpn::rt_test
