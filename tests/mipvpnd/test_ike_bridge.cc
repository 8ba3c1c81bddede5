/* SPDX-License-Identifier: BSD-3-Clause */
/* The IKE bridge's checks (dataplane/mipvpnd/ike_bridge.h), no EAL: what
 * is punted IKE for the host (RFC 7296 on 500, RFC 3948 2.2 on 4500), and
 * what the host may send back out through the TUN. */
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "codec/ipv4.h"
#include "codec/udp.h"
#include "mipvpnd/ike_bridge.h"

using namespace mipvpn;

namespace {

const Ipv4Addr kGw(198, 51, 100, 11);
const Ipv4Addr kPeer(203, 0, 113, 5);

/* An IKE header (RFC 7296 3.1): SPIi, SPIr 0, next payload SA, version
 * 2.0, IKE_SA_INIT, flags I, message id 0, length. */
std::vector<std::byte> ike_msg(size_t len = 28) {
  std::vector<std::byte> m(std::max<size_t>(len, 28));
  for (size_t i = 0; i < 8; ++i) m[i] = std::byte(0x11 + i);
  m[16] = std::byte{33};
  m[17] = std::byte{0x20};
  m[18] = std::byte{34};
  m[19] = std::byte{0x08};
  m[27] = std::byte(len & 0xff);
  m.resize(len);  /* shorter: a cut header */
  return m;
}

std::vector<std::byte> marker(std::vector<std::byte> m) {
  m.insert(m.begin(), 4, std::byte{0});
  return m;
}

/* IPv4 / UDP (checksum filled) / payload. */
std::vector<std::byte> dgram(Ipv4Addr src, Ipv4Addr dst, uint16_t sport, uint16_t dport,
                             const std::vector<std::byte>& payload, uint8_t proto = kIpProtoUdp) {
  const auto ulen = static_cast<uint16_t>(kUdpHdrLen + payload.size());
  std::vector<std::byte> p(kIpv4HdrLen + ulen);
  ipv4_build(p, {.src = src, .dst = dst, .total_len = static_cast<uint16_t>(p.size()), .id = 7, .proto = proto});
  const bytes u = bytes(p).subspan(kIpv4HdrLen);
  udp_build(u, sport, dport, ulen);
  std::copy(payload.begin(), payload.end(), u.begin() + kUdpHdrLen);
  udp_fill_checksum(u, src, dst);
  return p;
}

/* The reason, or "accepted". */
std::string from_host(const std::vector<std::byte>& p, Ipv4Addr gw = kGw) {
  IkeTapDrop why = IkeTapDrop::kCount;
  if (ike_from_host_check(p, gw, &why)) return "accepted";
  return std::string(to_string(why));
}

}  // namespace

TEST(IkeToHost, PortsAndMarker) {
  EXPECT_TRUE(ike_to_host_check(dgram(kPeer, kGw, 500, 500, ike_msg()), kGw));
  EXPECT_TRUE(ike_to_host_check(dgram(kPeer, kGw, 31000, 500, ike_msg()), kGw));  /* behind a NAT */
  EXPECT_TRUE(ike_to_host_check(dgram(kPeer, kGw, 4500, 4500, marker(ike_msg())), kGw));
  /* 4500 without the marker is ESP (RFC 3948 2.1): never the host's. */
  auto esp = ike_msg();
  esp[0] = std::byte{0};
  esp[3] = std::byte{1};
  esp[1] = std::byte{0x10};
  EXPECT_FALSE(ike_to_host_check(dgram(kPeer, kGw, 4500, 4500, esp), kGw));
  EXPECT_FALSE(ike_to_host_check(dgram(kPeer, kGw, 4500, 4500, {std::byte{0xff}}), kGw));  /* keepalive */
  EXPECT_FALSE(ike_to_host_check(dgram(kPeer, kGw, 434, 434, ike_msg()), kGw));
  EXPECT_FALSE(ike_to_host_check(dgram(kPeer, Ipv4Addr(198, 51, 100, 10), 500, 500, ike_msg()), kGw));
  EXPECT_FALSE(ike_to_host_check(dgram(kPeer, kGw, 500, 500, ike_msg(), 50), kGw));
  auto cut = dgram(kPeer, kGw, 500, 500, ike_msg());
  cut.resize(24);
  EXPECT_FALSE(ike_to_host_check(cut, kGw));
  EXPECT_FALSE(ike_to_host_check({}, kGw));
}

TEST(IkeFromHost, AcceptsTheDaemonsIke) {
  EXPECT_EQ(from_host(dgram(kGw, kPeer, 500, 500, ike_msg())), "accepted");
  EXPECT_EQ(from_host(dgram(kGw, kPeer, 500, 31000, ike_msg(300))), "accepted");  /* NATed peer port */
  EXPECT_EQ(from_host(dgram(kGw, kPeer, 4500, 4500, marker(ike_msg(80)))), "accepted");
  EXPECT_EQ(from_host(dgram(kGw, kPeer, 4500, 4500, {std::byte{0xff}})), "accepted");  /* RFC 3948 2.3 */
  EXPECT_EQ(from_host(dgram(kGw, kPeer, 500, 4500, marker(ike_msg(80)))), "accepted");  /* to the peer's 4500 */
  EXPECT_EQ(from_host(dgram(kGw, kPeer, 4500, 31001, marker(ike_msg(80)))), "accepted");  /* NATed after the switch */
  /* A zero UDP checksum is allowed over IPv4 (RFC 768). */
  auto p = dgram(kGw, kPeer, 500, 500, ike_msg());
  p[kIpv4HdrLen + 6] = p[kIpv4HdrLen + 7] = std::byte{0};
  EXPECT_EQ(from_host(p), "accepted");
}

TEST(IkeFromHost, RefusesByReason) {
  struct Case {
    const char* what;
    std::vector<std::byte> pkt;
    const char* want;
  };
  std::vector<Case> cases = {
      {"empty", {}, "not_ipv4"},
      {"ipv6", {std::byte{0x60}, std::byte{0}, std::byte{0}, std::byte{0}}, "not_ipv4"},
      {"other source", dgram(Ipv4Addr(198, 51, 100, 12), kPeer, 500, 500, ike_msg()), "not_our_address"},
      {"to multicast", dgram(kGw, Ipv4Addr(224, 0, 0, 251), 500, 500, ike_msg()), "not_our_address"},
      {"to broadcast", dgram(kGw, Ipv4Addr(255, 255, 255, 255), 500, 500, ike_msg()), "not_our_address"},
      {"to loopback", dgram(kGw, Ipv4Addr(127, 0, 0, 1), 500, 500, ike_msg()), "not_our_address"},
      {"to zero", dgram(kGw, Ipv4Addr(0, 0, 0, 0), 500, 500, ike_msg()), "not_our_address"},
      {"other port", dgram(kGw, kPeer, 5353, 500, ike_msg()), "not_ike_port"},
      {"registration", dgram(kGw, kPeer, 434, 434, ike_msg()), "not_ike_port"},
      {"short ike", dgram(kGw, kPeer, 500, 500, ike_msg(27)), "not_ike"},
      {"esp in udp", dgram(kGw, kPeer, 4500, 4500, [] {
         auto m = ike_msg(64);  /* SPI 0x00001342: ESP, which would skip esp_outb */
         m[0] = m[1] = std::byte{0};
         m[2] = std::byte{0x13};
         m[3] = std::byte{0x42};
         return m;
       }()),
       "not_ike"},
      {"marker no header", dgram(kGw, kPeer, 4500, 4500, marker(ike_msg(20))), "not_ike"},
      /* From 500 to the peer's 4500 the peer reads ESP unless the marker is
       * there (RFC 3948 2.2): an SPI there would be ESP past esp_outb. */
      {"500 to 4500 spi", dgram(kGw, kPeer, 500, 4500, [] {
         auto m = ike_msg(64);
         m[0] = m[1] = std::byte{0};
         m[2] = std::byte{0x13};
         m[3] = std::byte{0x42};
         return m;
       }()),
       "not_ike"},
      {"4500 to nat port spi", dgram(kGw, kPeer, 4500, 31001, ike_msg(64)), "not_ike"},
      {"two ff", dgram(kGw, kPeer, 4500, 4500, {std::byte{0xff}, std::byte{0xff}}), "not_ike"},
      {"tcp", dgram(kGw, kPeer, 500, 500, ike_msg(), 6), "not_udp"},
      {"esp", dgram(kGw, kPeer, 500, 500, ike_msg(), 50), "not_udp"},
      {"ipip", dgram(kGw, kPeer, 500, 500, ike_msg(), 4), "not_udp"},
  };
  auto bad_ip_sum = dgram(kGw, kPeer, 500, 500, ike_msg());
  bad_ip_sum[10] ^= std::byte{1};
  cases.push_back({"ip checksum", bad_ip_sum, "malformed"});
  auto bad_udp_sum = dgram(kGw, kPeer, 500, 500, ike_msg());
  bad_udp_sum[kIpv4HdrLen + 7] ^= std::byte{1};
  cases.push_back({"udp checksum", bad_udp_sum, "malformed"});
  auto cut = dgram(kGw, kPeer, 500, 500, ike_msg());
  cut.resize(30);
  cases.push_back({"truncated", cut, "malformed"});
  auto udp_len = dgram(kGw, kPeer, 500, 500, ike_msg());
  udp_len[kIpv4HdrLen + 5] = std::byte{200};  /* UDP length beyond the datagram */
  cases.push_back({"udp length", udp_len, "malformed"});
  auto frag = dgram(kGw, kPeer, 500, 500, ike_msg());
  frag[6] = std::byte{kIpv4FlagMf >> 8};  /* MF: the first of several */
  frag[10] = frag[11] = std::byte{0};
  const uint16_t sum = ip_checksum(cbytes(frag).first(kIpv4HdrLen));
  frag[10] = std::byte(sum >> 8);
  frag[11] = std::byte(sum & 0xff);
  cases.push_back({"fragment", frag, "fragment"});
  /* IPv4 options (a loose source route, RFC 791 3.1; RFC 7126 4.3). */
  {
    const auto plain = dgram(kGw, kPeer, 500, 500, ike_msg());
    std::vector<std::byte> o(plain.begin(), plain.begin() + kIpv4HdrLen);
    const std::byte lsrr[8] = {std::byte{131}, std::byte{7}, std::byte{4}, std::byte{198}, std::byte{51},
                               std::byte{100}, std::byte{1}, std::byte{0}};
    o.insert(o.end(), std::begin(lsrr), std::end(lsrr));
    o.insert(o.end(), plain.begin() + kIpv4HdrLen, plain.end());
    o[0] = std::byte{0x47};
    const auto tot = static_cast<uint16_t>(o.size());
    o[2] = std::byte(tot >> 8);
    o[3] = std::byte(tot & 0xff);
    o[10] = o[11] = std::byte{0};
    const uint16_t s = ip_checksum(cbytes(o).first(28));
    o[10] = std::byte(s >> 8);
    o[11] = std::byte(s & 0xff);
    cases.push_back({"ip options", o, "malformed"});
  }
  for (const Case& c : cases) EXPECT_EQ(from_host(c.pkt), c.want) << c.what;
}

TEST(IkeFromHost, EveryReasonHasAName) {
  for (size_t i = 0; i < kIkeTapDropCount; ++i)
    EXPECT_NE(to_string(static_cast<IkeTapDrop>(i)), "?") << i;
}

/* Whatever the bytes, no crash and no acceptance of a prefix of junk. */
TEST(IkeFromHost, TruncationsNeverCrash) {
  const auto good = dgram(kGw, kPeer, 4500, 4500, marker(ike_msg(40)));
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<std::byte> p(good.begin(), good.begin() + static_cast<long>(n));
    IkeTapDrop why;
    EXPECT_FALSE(ike_from_host_check(p, kGw, &why)) << n;
    EXPECT_FALSE(ike_to_host_check(p, kGw)) << n;
  }
}
