/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP codec: RFC 768 length and pseudo-header checksum, RFC 1122 4.1.3.4. */
#include <gtest/gtest.h>

#include <vector>

#include "codec/udp.h"
#include "test_util.h"

namespace mipvpn {
namespace {

using test::hex;

/* scapy 2.5.0: IP(src=192.168.0.1, dst=192.168.0.199, id=1, flags=DF) /
 * UDP(sport=1234, dport=434) / "hello"; UDP checksum 0x3365. */
std::vector<std::byte> sample() {
  return hex({0x45, 0x00, 0x00, 0x21, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11, 0xb8,
              0xb2, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,  // IPv4
              0x04, 0xd2, 0x01, 0xb2, 0x00, 0x0d, 0x33, 0x65,        // UDP
              0x68, 0x65, 0x6c, 0x6c, 0x6f});                         // "hello"
}

struct Split {
  std::vector<std::byte> pkt;
  Ipv4Info ip;
  cbytes l4() const { return ipv4_payload(cbytes(pkt), ip); }
};

Split split(std::vector<std::byte> p) {
  Split s{std::move(p), {}};
  auto r = ipv4_parse(s.pkt, Ipv4Check::kNoChecksum);
  EXPECT_TRUE(r.ok());
  s.ip = *r;
  return s;
}

TEST(Udp, ParsesScapySample) {
  auto s = split(sample());
  auto u = udp_parse(s.l4(), s.ip);
  ASSERT_TRUE(u.ok()) << to_string(u.error());
  EXPECT_EQ(u->sport, 1234);
  EXPECT_EQ(u->dport, kPortMip);
  EXPECT_EQ(u->len, 13);
  EXPECT_TRUE(u->has_csum);
  EXPECT_EQ(udp_checksum(s.l4(), s.ip.src, s.ip.dst), 0x3365);
}

TEST(Udp, PseudoHeaderSum) {
  /* 192.168.0.1 + 192.168.0.199 + 17 + 13, by hand. */
  EXPECT_EQ(udp_pseudo_sum(Ipv4Addr(192, 168, 0, 1), Ipv4Addr(192, 168, 0, 199), 13),
            0xc0a8u + 0x0001u + 0xc0a8u + 0x00c7u + 17u + 13u);
}

TEST(Udp, ZeroChecksumMeansNone) {
  auto p = sample();
  p[26] = p[27] = std::byte{0};
  p[30] = std::byte{'X'};  // payload changed: would fail a real checksum
  auto s = split(p);
  auto u = udp_parse(s.l4(), s.ip);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->has_csum);
}

struct BadCase {
  const char* name;
  size_t offset;  /* byte to overwrite, or SIZE_MAX */
  int value;
  size_t l4_size; /* bytes of IP payload handed to the parser */
  UdpCheck check;
  CodecError want;
};

TEST(Udp, TableOfCases) {
  const BadCase cases[] = {
      {"good", SIZE_MAX, 0, 13, UdpCheck::kFull, CodecError::kOk},
      {"seven_bytes", SIZE_MAX, 0, 7, UdpCheck::kFull, CodecError::kTruncated},
      {"empty", SIZE_MAX, 0, 0, UdpCheck::kFull, CodecError::kTruncated},
      {"len_7", 25, 7, 13, UdpCheck::kFull, CodecError::kBadLength},
      {"len_0", 25, 0, 13, UdpCheck::kFull, CodecError::kBadLength},
      {"len_past_ip", 25, 14, 13, UdpCheck::kFull, CodecError::kBadLength},
      {"len_past_short_ip", SIZE_MAX, 0, 12, UdpCheck::kFull, CodecError::kBadLength},
      {"bad_csum", 27, 0x66, 13, UdpCheck::kFull, CodecError::kBadChecksum},
      {"bad_payload", 28, 0x00, 13, UdpCheck::kFull, CodecError::kBadChecksum},
      {"bad_csum_unchecked", 27, 0x66, 13, UdpCheck::kNoChecksum, CodecError::kOk},
      {"spoofed_port", 21, 0xd3, 13, UdpCheck::kFull, CodecError::kBadChecksum},
  };
  for (const auto& c : cases) {
    auto p = sample();
    if (c.offset != SIZE_MAX) p[c.offset] = std::byte(c.value);
    auto s = split(p);
    auto u = udp_parse(s.l4().first(c.l4_size), s.ip, c.check);
    EXPECT_EQ(u.error(), c.want) << c.name;
  }
}

TEST(Udp, ShorterLengthLeavesTrailingBytes) {
  /* UDP length 8 inside a 13-byte IP payload: valid, and the checksum
   * covers only the 8 bytes the length names. */
  auto p = sample();
  p[25] = std::byte{8};
  auto s = split(p);
  auto l4 = ipv4_payload(bytes(s.pkt), s.ip);
  udp_fill_checksum(l4.first(8), s.ip.src, s.ip.dst);
  auto u = udp_parse(s.l4(), s.ip);
  ASSERT_TRUE(u.ok()) << to_string(u.error());
  EXPECT_EQ(u->len, 8);
}

TEST(Udp, ComputedZeroIsSentAsAllOnes) {
  /* Fold the checksum into the payload so that the sum becomes 0xffff:
   * RFC 768 then transmits 0xffff, and the receiver accepts it. */
  auto p = sample();
  p.push_back(std::byte{0});  // even payload: "hello\0"
  p[3] = std::byte{0x22};
  p[25] = std::byte{14};
  p[10] = p[11] = std::byte{0};
  store_be16(&p[10], ip_checksum(cbytes(p).first(20)));
  auto s = split(p);
  auto l4 = ipv4_payload(bytes(s.pkt), s.ip);
  const uint16_t c = udp_checksum(l4, s.ip.src, s.ip.dst);
  uint32_t w = uint32_t{load_be16(&l4[12])} + c;  // one's complement add
  w = (w & 0xffff) + (w >> 16);
  store_be16(&l4[12], static_cast<uint16_t>(w));
  EXPECT_EQ(udp_checksum(l4, s.ip.src, s.ip.dst), 0xffff);
  udp_fill_checksum(l4, s.ip.src, s.ip.dst);
  EXPECT_EQ(load_be16(&l4[6]), 0xffff);
  EXPECT_TRUE(udp_parse(l4, s.ip).ok());
}

TEST(Udp, BuildThenParseRoundTrip) {
  for (size_t n : {0, 1, 2, 3, 100, 1471}) {
    std::vector<std::byte> p(kIpv4HdrLen + kUdpHdrLen + n);
    for (size_t i = 0; i < n; ++i) p[28 + i] = std::byte(i * 13 + 5);
    const Ipv4Addr src(10, 0, 0, 1), dst(10, 0, 0, 2);
    ipv4_build(p, {.src = src, .dst = dst, .total_len = static_cast<uint16_t>(p.size()),
                   .proto = kIpProtoUdp});
    const bytes udp = bytes(p).subspan(kIpv4HdrLen);
    udp_build(udp, 40000, kPortNatt, static_cast<uint16_t>(udp.size()));
    EXPECT_EQ(hex({0x9c, 0x40, 0x11, 0x94}), std::vector<std::byte>(udp.begin(), udp.begin() + 4));
    EXPECT_EQ(load_be16(&udp[6]), 0) << "built without a checksum";
    auto ip = *ipv4_parse(p);
    auto u0 = udp_parse(ipv4_payload(cbytes(p), ip), ip);
    ASSERT_TRUE(u0.ok());
    EXPECT_FALSE(u0->has_csum);
    udp_fill_checksum(udp, src, dst);
    auto u = udp_parse(ipv4_payload(cbytes(p), ip), ip);
    ASSERT_TRUE(u.ok()) << n;
    EXPECT_TRUE(u->has_csum);
    EXPECT_EQ(u->len, kUdpHdrLen + n);
    EXPECT_EQ(u->sport, 40000);
    EXPECT_EQ(u->dport, kPortNatt);
  }
}

TEST(Udp, LargestDatagram) {
  /* IPv4 total length 65535: UDP length 65515. */
  std::vector<std::byte> p(65535, std::byte{0xa5});
  const Ipv4Addr src(1, 2, 3, 4), dst(5, 6, 7, 8);
  ipv4_build(p, {.src = src, .dst = dst, .total_len = 65535, .proto = kIpProtoUdp});
  const bytes udp = bytes(p).subspan(kIpv4HdrLen);
  udp_build(udp, 1, 2, 65515);
  udp_fill_checksum(udp, src, dst);
  auto ip = *ipv4_parse(p);
  auto u = udp_parse(ipv4_payload(cbytes(p), ip), ip);
  ASSERT_TRUE(u.ok()) << to_string(u.error());
  EXPECT_EQ(u->len, 65515);
}

}  // namespace
}  // namespace mipvpn
