/* SPDX-License-Identifier: BSD-3-Clause */
/* RFC 3519 UDP tunnelling: tunnel data header (3.3), ports, classifier. */
#include <gtest/gtest.h>

#include <vector>

#include "codec/mip_tunnel.h"
#include "test_util.h"

namespace mipvpn {
namespace {

using test::Buf;
using test::cat;
using test::hex;

std::vector<std::byte> inner() { return test::scapy_inner(); }
/* scapy 2.5.0, home agent to the NAT in front of a mobile node:
 * IP(src=203.0.113.7, dst=198.51.100.1, id=0x0202, ttl=64, tos=0xb8,
 * flags=DF) / UDP(sport=434, dport=40000, chksum=0) / MobileIP(type=4) /
 * MobileIPTunnelData(nexthdr=4) / inner(). */
std::vector<std::byte> headers() {
  return hex({0x45, 0xb8, 0x00, 0x40, 0x02, 0x02, 0x40, 0x00, 0x40, 0x11, 0xd1, 0xb6,
              0xcb, 0x00, 0x71, 0x07, 0xc6, 0x33, 0x64, 0x01,  // IPv4
              0x01, 0xb2, 0x9c, 0x40, 0x00, 0x2c, 0x00, 0x00,  // UDP 434 -> 40000
              0x04, 0x04, 0x00, 0x00});                        // type 4, next 4
}

const Ipv4Addr kHa(203, 0, 113, 7), kNat(198, 51, 100, 1);
const MipTunnelEncapParams kToMn{.src = kHa, .dst = kNat, .sport = kPortMip, .dport = 40000,
                                 .id = 0x0202, .ttl = 64};

std::vector<std::byte> reseal(std::vector<std::byte> p, size_t at = 0) {
  p[at + 10] = p[at + 11] = std::byte{0};
  store_be16(&p[at + 10], ip_checksum(cbytes(p).subspan(at, 20)));
  return p;
}

TEST(MipTunnel, Overheads) {
  EXPECT_EQ(kMipUdpOverhead, 32);
  EXPECT_EQ(kMipUdpOverhead - kIpipOverhead, 12);  // RFC 5265 5.2
  EXPECT_EQ(kMipNextIpv4, 4);
  EXPECT_EQ(kMipNextGre, 47);
  EXPECT_EQ(kMipNextMinimal, 55);
}

TEST(MipTunnelEncap, MatchesScapyBytes) {
  Buf b(inner(), 100, 3);
  ASSERT_EQ(mip_tunnel_encap(b.v, kToMn), CodecError::kOk);
  EXPECT_EQ(b.v.data_off, 68u);
  EXPECT_EQ(b.data(), cat(headers(), inner()));
}

TEST(MipTunnelEncap, ChecksumWhenAsked) {
  auto p = kToMn;
  p.udp_csum = true;
  Buf b(inner(), 32);
  ASSERT_EQ(mip_tunnel_encap(b.v, p), CodecError::kOk);
  auto ip = *ipv4_parse(b.v.bytes());
  auto u = udp_parse(ipv4_payload(cbytes(b.v.bytes()), ip), ip);
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->has_csum);
  EXPECT_EQ(u->len, 8 + 4 + 32);
}

TEST(MipTunnelEncap, Refusals) {
  const Ipv4Build ib{.src = Ipv4Addr(10, 0, 0, 1), .dst = Ipv4Addr(10, 0, 0, 2), .proto = 17};
  auto ttl0 = inner();
  ttl0[8] = std::byte{0};
  auto no434 = kToMn;
  no434.sport = 435;
  auto to_ha = kToMn;  // mobile node to home agent: source port free, 434 at the HA
  to_ha.sport = 5555;
  to_ha.dport = kPortMip;
  auto loop = kToMn;
  loop.dst = Ipv4Addr(10, 1, 0, 5);
  struct Case {
    const char* name;
    std::vector<std::byte> pkt;
    uint32_t headroom;
    MipTunnelEncapParams p;
    CodecError want;
  };
  const Case cases[] = {
      {"ok", inner(), 32, kToMn, CodecError::kOk},
      {"ok_to_ha", inner(), 32, to_ha, CodecError::kOk},
      {"headroom_31", inner(), 31, kToMn, CodecError::kNoRoom},
      {"no_434", inner(), 32, no434, CodecError::kBadPort},
      {"not_ipv4", hex({0x60, 0, 0, 0}), 32, kToMn, CodecError::kBadInner},
      {"ttl0", reseal(ttl0), 32, kToMn, CodecError::kTtlExpired},
      {"loop", inner(), 32, loop, CodecError::kTunnelLoop},
      {"max", test::ipv4_pkt(ib, 65503 - 20), 32, kToMn, CodecError::kOk},
      {"too_big", test::ipv4_pkt(ib, 65504 - 20), 32, kToMn, CodecError::kTooBig},
  };
  for (const auto& c : cases) {
    Buf b(c.pkt, c.headroom);
    EXPECT_EQ(mip_tunnel_encap(b.v, c.p), c.want) << c.name;
    if (c.want != CodecError::kOk) {
      EXPECT_EQ(b.v.data_off, c.headroom) << c.name;
      EXPECT_EQ(b.data(), c.pkt) << c.name;
    } else {
      EXPECT_EQ(b.v.data_len, c.pkt.size() + 32) << c.name;
      EXPECT_EQ(ipv4_parse(b.v.bytes())->total_len, c.pkt.size() + 32) << c.name;
    }
  }
}

TEST(MipTunnelDecap, ScapyPacket) {
  Buf b(cat(headers(), inner()), 0);
  auto r = mip_tunnel_decap(b.v);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(r->src, kHa);
  EXPECT_EQ(r->dst, kNat);
  EXPECT_EQ(r->sport, kPortMip);
  EXPECT_EQ(r->dport, 40000);
  EXPECT_EQ(r->tos, 0xb8);
  EXPECT_EQ(r->ttl, 64);
  EXPECT_EQ(b.v.data_off, 32u);
  EXPECT_EQ(b.data(), inner());
}

TEST(MipTunnelDecap, Refusals) {
  const auto good = cat(headers(), inner());
  auto set = [](std::vector<std::byte> p, size_t off, int v) {
    p[off] = std::byte(v);
    return reseal(p);
  };
  /* UDP length 8 + 3: only three bytes of tunnel header. */
  auto short_hdr = good;
  store_be16(&short_hdr[24], 11);
  /* UDP length cut so the inner datagram no longer fits in it. */
  auto short_udp = good;
  store_be16(&short_udp[24], 0x2c - 1);
  /* IP total length 27: 7 bytes of UDP. */
  auto udp7 = std::vector<std::byte>(good.begin(), good.begin() + 27);
  store_be16(&udp7[2], 27);
  udp7 = reseal(udp7);
  /* Non-zero, wrong UDP checksum. */
  auto badsum = good;
  store_be16(&badsum[26], 0x1234);
  auto inner_ttl0 = good;
  inner_ttl0[32 + 8] = std::byte{0};
  inner_ttl0 = reseal(inner_ttl0, 32);
  const MipTunnelDecapOpts no_udp_check{.udp_check = UdpCheck::kNoChecksum};

  struct Case {
    const char* name;
    std::vector<std::byte> pkt;
    MipTunnelDecapOpts opts;
    CodecError want;
  };
  const Case cases[] = {
      {"ok", good, {}, CodecError::kOk},
      {"reserved_ignored", set(set(good, 30, 0xff), 31, 0x01), {}, CodecError::kOk},
      {"dport_434", [&] { auto p = good; store_be16(&p[20], 5555); store_be16(&p[22], kPortMip);
                          return p; }(), {}, CodecError::kOk},
      {"outer_short", std::vector<std::byte>(good.begin(), good.begin() + 10), {}, CodecError::kTruncated},
      {"outer_bad_checksum", [&] { auto p = good; p[11] ^= std::byte{1}; return p; }(), {},
       CodecError::kBadChecksum},
      {"proto_ipip", set(good, 9, kIpProtoIpip), {}, CodecError::kBadProtocol},
      {"fragment", set(good, 6, 0x60), {}, CodecError::kFragment},
      {"udp_7_bytes", udp7, {}, CodecError::kTruncated},
      {"udp_len_7", [&] { auto p = good; store_be16(&p[24], 7); return p; }(), {}, CodecError::kBadLength},
      {"udp_len_long", [&] { auto p = good; store_be16(&p[24], 0x2d); return p; }(), {},
       CodecError::kBadLength},
      {"udp_bad_checksum", badsum, {}, CodecError::kBadChecksum},
      {"udp_checksum_offloaded", badsum, no_udp_check, CodecError::kOk},
      {"no_434", set(good, 21, 0xb3), {}, CodecError::kBadPort},
      {"short_tunnel_header", short_hdr, {}, CodecError::kTruncated},
      {"type_rrq", set(good, 28, 1), {}, CodecError::kBadTunnelHeader},
      {"type_rrp", set(good, 28, 3), {}, CodecError::kBadTunnelHeader},
      {"type_0", set(good, 28, 0), {}, CodecError::kBadTunnelHeader},
      {"next_minimal", set(good, 29, kMipNextMinimal), {}, CodecError::kBadNextHeader},
      {"next_gre", set(good, 29, kMipNextGre), {}, CodecError::kBadNextHeader},
      {"next_ipv6", set(good, 29, 41), {}, CodecError::kBadNextHeader},
      {"inner_v6", set(good, 32, 0x60), {}, CodecError::kBadInner},
      {"inner_cut_by_udp_len", short_udp, {}, CodecError::kBadInner},
      {"no_inner", [&] { auto p = headers(); store_be16(&p[2], 32); store_be16(&p[24], 12);
                         return reseal(p); }(), {}, CodecError::kBadInner},
      {"inner_ttl0", inner_ttl0, {}, CodecError::kTtlExpired},
  };
  for (const auto& c : cases) {
    Buf b(c.pkt, 0);
    auto r = mip_tunnel_decap(b.v, c.opts);
    EXPECT_EQ(r.error(), c.want) << c.name;
    if (!r) {
      EXPECT_EQ(b.v.data_off, 0u) << c.name;
      EXPECT_EQ(b.v.data_len, c.pkt.size()) << c.name;
    } else {
      EXPECT_EQ(b.v.data_off, 32u) << c.name;
      EXPECT_EQ(b.v.data_len, 32u) << c.name;
    }
  }
}

TEST(MipTunnel, Classify) {
  struct Case {
    std::vector<std::byte> payload;
    MipUdpKind want;
  };
  const Case cases[] = {
      {{}, MipUdpKind::kOther},
      {hex({4}), MipUdpKind::kTunnelData},
      {hex({4, 4, 0, 0, 0x45}), MipUdpKind::kTunnelData},
      {hex({1, 0, 0, 180}), MipUdpKind::kRegRequest},
      {hex({3, 0, 0, 180}), MipUdpKind::kRegReply},
      {hex({2}), MipUdpKind::kOther},
      {hex({0}), MipUdpKind::kOther},
      {hex({0xff, 4}), MipUdpKind::kOther},
  };
  for (const auto& c : cases) EXPECT_EQ(mip_udp_classify(c.payload), c.want);
  static_assert(mip_udp_classify({}) == MipUdpKind::kOther);
}

TEST(MipTunnel, RoundTripBothDirections) {
  auto to_ha = kToMn;
  to_ha.src = kNat;
  to_ha.dst = kHa;
  to_ha.sport = 40000;
  to_ha.dport = kPortMip;
  to_ha.udp_csum = true;
  for (const auto& p : {kToMn, to_ha}) {
    for (size_t n : {0, 3, 1400, 65503 - 20}) {
      auto in = test::ipv4_pkt({.src = Ipv4Addr(10, 9, 0, 1), .dst = Ipv4Addr(10, 9, 0, 2),
                                .proto = 6, .ttl = 64, .tos = 0x10, .df = true}, n);
      Buf b(in, 64, 7);
      ASSERT_EQ(mip_tunnel_encap(b.v, p), CodecError::kOk);
      EXPECT_EQ(mip_udp_classify(b.v.bytes().subspan(28)), MipUdpKind::kTunnelData);
      auto r = mip_tunnel_decap(b.v);
      ASSERT_TRUE(r.ok()) << to_string(r.error());
      EXPECT_EQ(r->src, p.src);
      EXPECT_EQ(r->dst, p.dst);
      EXPECT_EQ(r->sport, p.sport);
      EXPECT_EQ(r->dport, p.dport);
      EXPECT_EQ(r->tos, 0x10);
      EXPECT_EQ(b.v.data_off, 64u);
      EXPECT_EQ(b.data(), in);
    }
  }
}

}  // namespace
}  // namespace mipvpn
