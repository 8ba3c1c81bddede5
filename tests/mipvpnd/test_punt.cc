/* SPDX-License-Identifier: BSD-3-Clause */
/* The control thread's handling of punted packets (dataplane/mipvpnd/punt.h):
 * RFC 826 ARP replies, RFC 5944 registration datagrams on UDP 434. */
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "codec/ipv4.h"
#include "codec/udp.h"
#include "mipvpnd/punt.h"

using namespace mipvpn;

namespace {

/* An ARP request from 02:00:00:00:00:07 / 10.0.0.7 for 10.0.0.1 (RFC 826). */
std::vector<std::byte> arp_request(uint16_t htype = 1, uint16_t op = 1) {
  const uint8_t f[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 7, 0x08, 0x06,
                       uint8_t(htype >> 8), uint8_t(htype), 0x08, 0x00, 6, 4, uint8_t(op >> 8), uint8_t(op),
                       0x02, 0, 0, 0, 0, 7, 10, 0, 0, 7,
                       0, 0, 0, 0, 0, 0, 10, 0, 0, 1};
  std::vector<std::byte> v;
  for (uint8_t b : f) v.push_back(std::byte(b));
  return v;
}

}  // namespace

TEST(Arp, ParsesARequest) {
  ArpInfo a;
  ASSERT_TRUE(arp_parse(arp_request(), a));
  EXPECT_EQ(a.op, 1);
  EXPECT_EQ(a.sender_ip, Ipv4Addr(10, 0, 0, 7));
  EXPECT_EQ(a.target_ip, Ipv4Addr(10, 0, 0, 1));
  EXPECT_EQ(a.sender_mac.b[5], 7);
}

TEST(Arp, RefusesWhatIsNotIpv4OverEthernet) {
  ArpInfo a;
  EXPECT_FALSE(arp_parse(arp_request(6), a));  /* IEEE 802 hardware type */
  auto f = arp_request();
  f.resize(41);
  EXPECT_FALSE(arp_parse(f, a));               /* truncated */
  f = arp_request();
  f[12] = std::byte{0x08};
  f[13] = std::byte{0x00};                     /* IPv4 ethertype */
  EXPECT_FALSE(arp_parse(f, a));
}

TEST(Arp, ReplyAnswersTheSender) {
  ArpInfo rq;
  ASSERT_TRUE(arp_parse(arp_request(), rq));
  const MacAddr ours{{0x02, 0xaa, 0, 0, 0, 1}};
  std::array<std::byte, 64> out{};
  ASSERT_EQ(arp_build_reply(rq, ours, Ipv4Addr(10, 0, 0, 1), out), kArpFrameLen);
  ArpInfo rp;
  ASSERT_TRUE(arp_parse(out, rp));
  EXPECT_EQ(rp.op, 2);
  EXPECT_EQ(rp.sender_mac, ours);
  EXPECT_EQ(rp.sender_ip, Ipv4Addr(10, 0, 0, 1));
  EXPECT_EQ(rp.target_ip, Ipv4Addr(10, 0, 0, 7));
  /* Ethernet: to the requester, from us. */
  EXPECT_EQ(std::to_integer<int>(out[5]), 7);
  EXPECT_EQ(std::to_integer<int>(out[7]), 0xaa);
  std::array<std::byte, 41> small{};
  EXPECT_EQ(arp_build_reply(rq, ours, Ipv4Addr(10, 0, 0, 1), small), 0u);
}

TEST(MipDatagram, ReplyFrameRoundTrips) {
  const std::array<std::byte, 4> payload{std::byte{3}, std::byte{0}, std::byte{0}, std::byte{1}};
  std::array<std::byte, 128> buf{};
  const size_t len = mip_reply_frame(Ipv4Addr(192, 0, 2, 1), Ipv4Addr(198, 51, 100, 7), 40000, 9,
                                     payload, buf);
  ASSERT_EQ(len, 20u + 8u + 4u);
  /* Our reply is a datagram from port 434: parse it back as if it were
   * sent to 434 by swapping the ports. */
  const auto ip = ipv4_parse(std::span<const std::byte>(buf).first(len));
  ASSERT_TRUE(ip.ok());  /* header checksum verified */
  EXPECT_EQ(ip->proto, kIpProtoUdp);
  const auto u = udp_parse(ipv4_payload(std::span<const std::byte>(buf).first(len), ip.value()), ip.value());
  ASSERT_TRUE(u.ok());   /* UDP checksum verified */
  EXPECT_TRUE(u->has_csum);
  EXPECT_EQ(u->sport, kMipPort);
  EXPECT_EQ(u->dport, 40000);
  std::array<std::byte, 16> tiny{};
  EXPECT_EQ(mip_reply_frame(Ipv4Addr(1, 1, 1, 1), Ipv4Addr(2, 2, 2, 2), 434, 1, payload, tiny), 0u);
}

TEST(MipDatagram, ParsesOnlyUdp434) {
  const std::array<std::byte, 4> payload{std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}};
  std::array<std::byte, 128> buf{};
  /* Build a request-shaped datagram: to port 434 from 434. */
  size_t len = mip_reply_frame(Ipv4Addr(198, 51, 100, 7), Ipv4Addr(192, 0, 2, 1), kMipPort, 1, payload, buf);
  MipDatagram d;
  ASSERT_TRUE(mip_datagram_parse(std::span<const std::byte>(buf).first(len), d));
  EXPECT_EQ(d.src, Ipv4Addr(198, 51, 100, 7));
  EXPECT_EQ(d.dst, Ipv4Addr(192, 0, 2, 1));
  EXPECT_EQ(d.sport, kMipPort);
  EXPECT_EQ(d.payload.size(), 4u);
  /* To another port: not a registration. */
  len = mip_reply_frame(Ipv4Addr(198, 51, 100, 7), Ipv4Addr(192, 0, 2, 1), 500, 1, payload, buf);
  EXPECT_FALSE(mip_datagram_parse(std::span<const std::byte>(buf).first(len), d));
  /* A wrong UDP checksum: refused. */
  len = mip_reply_frame(Ipv4Addr(198, 51, 100, 7), Ipv4Addr(192, 0, 2, 1), kMipPort, 1, payload, buf);
  buf[len - 1] ^= std::byte{1};
  EXPECT_FALSE(mip_datagram_parse(std::span<const std::byte>(buf).first(len), d));
  EXPECT_FALSE(mip_datagram_parse(std::span<const std::byte>(buf).first(10), d));
}
