/* SPDX-License-Identifier: BSD-3-Clause */
/* IP in IP (RFC 2003): outer header rules of 3.1, loop checks of 3.2. */
#include <gtest/gtest.h>

#include <vector>

#include "codec/ipip.h"
#include "test_util.h"

namespace mipvpn {
namespace {

using test::Buf;
using test::cat;
using test::hex;

std::vector<std::byte> inner() { return test::scapy_inner(); }
/* scapy 2.5.0: IP(src=198.51.100.1, dst=203.0.113.7, id=0x0101, ttl=64,
 * tos=0xb8, flags=DF, proto=4) / inner(): TOS and DF as RFC 2003 3.1 says. */
std::vector<std::byte> outer_hdr() {
  return hex({0x45, 0xb8, 0x00, 0x34, 0x01, 0x01, 0x40, 0x00, 0x40, 0x04,
              0xd2, 0xd0, 0xc6, 0x33, 0x64, 0x01, 0xcb, 0x00, 0x71, 0x07});
}

const Ipv4Addr kSrc(198, 51, 100, 1), kDst(203, 0, 113, 7);
const IpipEncapParams kParams{.src = kSrc, .dst = kDst, .id = 0x0101, .ttl = 64};

std::vector<std::byte> reseal(std::vector<std::byte> p, size_t at = 0) {
  p[at + 10] = p[at + 11] = std::byte{0};
  store_be16(&p[at + 10], ip_checksum(cbytes(p).subspan(at, 20)));
  return p;
}

TEST(IpipEncap, MatchesScapyBytes) {
  Buf b(inner(), 64, 16);
  ASSERT_EQ(ipip_encap(b.v, kParams), CodecError::kOk);
  EXPECT_EQ(b.v.data_off, 44u);
  EXPECT_EQ(b.v.data_len, 52u);
  EXPECT_EQ(b.data(), cat(outer_hdr(), inner()));
}

TEST(IpipEncap, DfAndTosRules) {
  struct Case {
    bool inner_df, always_df, want_df;
    uint8_t tos;
  };
  /* RFC 2003 3.1: DF set inside MUST be set outside; MAY otherwise (5.1). */
  for (Case c : {Case{false, false, false, 0x00}, Case{false, true, true, 0x03},
                 Case{true, false, true, 0xfc}, Case{true, true, true, 0x01}}) {
    auto in = test::ipv4_pkt({.src = Ipv4Addr(10, 0, 0, 1), .dst = Ipv4Addr(10, 0, 0, 2),
                              .proto = 6, .ttl = 9, .tos = c.tos, .df = c.inner_df}, 40);
    Buf b(in, kIpipOverhead);
    auto p = kParams;
    p.always_df = c.always_df;
    p.ttl = 200;
    p.id = 0xbeef;
    ASSERT_EQ(ipip_encap(b.v, p), CodecError::kOk);
    auto o = ipv4_parse(b.v.bytes());
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->df, c.want_df);
    EXPECT_FALSE(o->fragment);
    EXPECT_EQ(o->tos, c.tos) << "TOS with ECN bits copied";
    EXPECT_EQ(o->ttl, 200);
    EXPECT_EQ(o->id, 0xbeef);
    EXPECT_EQ(o->proto, kIpProtoIpip);
    EXPECT_EQ(o->total_len, in.size() + 20);
    EXPECT_EQ(b.data(), cat(std::vector<std::byte>(b.v.data(), b.v.data() + 20), in))
        << "inner untouched (its TTL is the caller's to decrement)";
  }
}

TEST(IpipEncap, CutsEthernetPadding) {
  auto in = inner();
  in.resize(46, std::byte{0});  // padded to the Ethernet minimum
  Buf b(in, 20);
  ASSERT_EQ(ipip_encap(b.v, kParams), CodecError::kOk);
  EXPECT_EQ(b.v.data_len, 52u);
}

TEST(IpipEncap, Refusals) {
  struct Case {
    const char* name;
    std::vector<std::byte> pkt;
    uint32_t headroom;
    IpipEncapParams p;
    CodecError want;
  };
  auto v6 = inner();
  v6[0] = std::byte{0x65};
  auto badsum = inner();
  badsum[11] ^= std::byte{1};
  auto ttl0 = inner();
  ttl0[8] = std::byte{0};
  auto loop_dst = kParams, loop_src = kParams;
  loop_dst.dst = Ipv4Addr(10, 1, 0, 5);  // inner source is the tunnel exit
  loop_src.src = Ipv4Addr(10, 1, 0, 5);  // inner source is our own address
  auto nocheck = kParams;
  nocheck.inner_check = Ipv4Check::kNoChecksum;
  const Case cases[] = {
      {"ok", inner(), 20, kParams, CodecError::kOk},
      {"headroom_19", inner(), 19, kParams, CodecError::kNoRoom},
      {"headroom_0", inner(), 0, kParams, CodecError::kNoRoom},
      {"empty", {}, 20, kParams, CodecError::kBadInner},
      {"short", hex({0x45, 0, 0, 20}), 20, kParams, CodecError::kBadInner},
      {"ipv6", v6, 20, kParams, CodecError::kBadInner},
      {"bad_checksum", badsum, 20, kParams, CodecError::kBadInner},
      {"bad_checksum_unchecked", badsum, 20, nocheck, CodecError::kOk},
      {"ttl0", reseal(ttl0), 20, kParams, CodecError::kTtlExpired},
      {"loop_dst", inner(), 20, loop_dst, CodecError::kTunnelLoop},
      {"loop_src", inner(), 20, loop_src, CodecError::kTunnelLoop},
  };
  for (const auto& c : cases) {
    Buf b(c.pkt, c.headroom);
    const PktView before = b.v;
    EXPECT_EQ(ipip_encap(b.v, c.p), c.want) << c.name;
    if (c.want != CodecError::kOk) {
      EXPECT_EQ(b.v.data_off, before.data_off) << c.name;
      EXPECT_EQ(b.v.data_len, before.data_len) << c.name;
      EXPECT_EQ(b.data(), c.pkt) << c.name;
    }
  }
}

TEST(IpipEncap, SizeLimit) {
  const Ipv4Build ib{.src = Ipv4Addr(10, 0, 0, 1), .dst = Ipv4Addr(10, 0, 0, 2), .proto = 17};
  {
    Buf b(test::ipv4_pkt(ib, 65515 - 20), 20);  // inner 65515: outer 65535
    ASSERT_EQ(ipip_encap(b.v, kParams), CodecError::kOk);
    EXPECT_EQ(ipv4_parse(b.v.bytes())->total_len, 65535);
  }
  {
    Buf b(test::ipv4_pkt(ib, 65516 - 20), 20);  // inner 65516: outer would be 65536
    EXPECT_EQ(ipip_encap(b.v, kParams), CodecError::kTooBig);
  }
}

TEST(IpipDecap, ScapyPacket) {
  Buf b(cat(outer_hdr(), inner()), 0, 8);
  auto r = ipip_decap(b.v);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(r->src, kSrc);
  EXPECT_EQ(r->dst, kDst);
  EXPECT_EQ(r->tos, 0xb8);
  EXPECT_EQ(r->ttl, 64);
  EXPECT_EQ(b.v.data_off, 20u);
  EXPECT_EQ(b.data(), inner());
}

TEST(IpipDecap, OuterOptionsAndPadding) {
  /* Outer IHL 6 (a 4-byte NOP/EOL option), and 6 bytes of Ethernet
   * padding after the inner datagram inside the outer payload. */
  auto in = inner();
  auto o = hex({0x46, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x04, 0, 0,
                198, 51, 100, 1, 203, 0, 113, 7, 0x01, 0x01, 0x01, 0x00});
  auto p = cat(cat(o, in), std::vector<std::byte>(6));
  store_be16(&p[2], static_cast<uint16_t>(p.size()));
  p = reseal(p);
  store_be16(&p[10], 0);
  store_be16(&p[10], ip_checksum(cbytes(p).first(24)));
  Buf b(p, 0);
  auto r = ipip_decap(b.v);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(b.v.data_off, 24u);
  EXPECT_EQ(b.data(), in);
}

TEST(IpipDecap, Refusals) {
  const auto good = cat(outer_hdr(), inner());
  auto set = [](std::vector<std::byte> p, size_t off, int v, bool fix_outer = true) {
    p[off] = std::byte(v);
    return fix_outer ? reseal(p) : p;
  };
  auto inner_ttl0 = good;
  inner_ttl0[28] = std::byte{0};
  inner_ttl0 = reseal(inner_ttl0, 20);
  auto inner_badsum = good;
  inner_badsum[31] ^= std::byte{1};
  auto inner_long = good;  // inner claims 33 bytes, outer carries 32
  inner_long[23] = std::byte{0x21};
  inner_long = reseal(inner_long, 20);
  auto no_inner = outer_hdr();
  store_be16(&no_inner[2], 20);
  auto with_tail = good;
  with_tail.push_back(std::byte{0});  // outer total 0x34 still: the tail is padding

  struct Case {
    const char* name;
    std::vector<std::byte> pkt;
    IpipDecapOpts opts;
    CodecError want;
  };
  const IpipDecapOpts nock{.outer_check = Ipv4Check::kFull, .inner_check = Ipv4Check::kNoChecksum};
  const IpipDecapOpts outer_nock{.outer_check = Ipv4Check::kNoChecksum};
  const Case cases[] = {
      {"ok", good, {}, CodecError::kOk},
      {"ok_tail", with_tail, {}, CodecError::kOk},
      {"short", std::vector<std::byte>(good.begin(), good.begin() + 19), {}, CodecError::kTruncated},
      {"outer_truncated", std::vector<std::byte>(good.begin(), good.end() - 1), {}, CodecError::kTruncated},
      {"outer_v6", set(good, 0, 0x65), {}, CodecError::kBadVersion},
      {"outer_ihl4", set(good, 0, 0x44), {}, CodecError::kBadIhl},
      {"outer_len_lt_hdr", set(good, 3, 0x10), {}, CodecError::kBadLength},
      {"outer_checksum", set(good, 11, 0, false), {}, CodecError::kBadChecksum},
      {"outer_checksum_offloaded", set(good, 11, 0, false), outer_nock, CodecError::kOk},
      {"proto_udp", set(good, 9, kIpProtoUdp), {}, CodecError::kBadProtocol},
      {"proto_esp", set(good, 9, kIpProtoEsp), {}, CodecError::kBadProtocol},
      {"outer_mf", set(good, 6, 0x20), {}, CodecError::kFragment},
      {"outer_offset", set(good, 7, 0x01), {}, CodecError::kFragment},
      {"no_inner", reseal(no_inner), {}, CodecError::kBadInner},
      {"inner_v6", set(good, 20, 0x65), {}, CodecError::kBadInner},
      {"inner_checksum", inner_badsum, {}, CodecError::kBadInner},
      {"inner_checksum_unchecked", inner_badsum, nock, CodecError::kOk},
      {"inner_longer_than_outer", inner_long, {}, CodecError::kBadInner},
      {"inner_ttl0", inner_ttl0, {}, CodecError::kTtlExpired},
  };
  for (const auto& c : cases) {
    Buf b(c.pkt, 0);
    auto r = ipip_decap(b.v, c.opts);
    EXPECT_EQ(r.error(), c.want) << c.name;
    if (!r) {
      EXPECT_EQ(b.v.data_off, 0u) << c.name;
      EXPECT_EQ(b.v.data_len, c.pkt.size()) << c.name;
    } else {
      EXPECT_EQ(b.data(), std::vector<std::byte>(c.pkt.begin() + 20, c.pkt.begin() + 52)) << c.name;
    }
  }
}

TEST(Ipip, RoundTrip) {
  for (size_t n : {0, 1, 7, 100, 1400, 65515 - 20}) {
    for (bool df : {false, true}) {
      auto in = test::ipv4_pkt({.src = Ipv4Addr(192, 0, 2, 1), .dst = Ipv4Addr(192, 0, 2, 2),
                                .id = static_cast<uint16_t>(n), .proto = 17, .ttl = 1,
                                .tos = 0x2e, .df = df}, n);
      Buf b(in, 128, 0);
      ASSERT_EQ(ipip_encap(b.v, kParams), CodecError::kOk) << n;
      auto r = ipip_decap(b.v);
      ASSERT_TRUE(r.ok()) << n << ' ' << to_string(r.error());
      EXPECT_EQ(r->src, kSrc);
      EXPECT_EQ(r->dst, kDst);
      EXPECT_EQ(r->tos, 0x2e);
      EXPECT_EQ(b.v.data_off, 128u);
      EXPECT_EQ(b.data(), in);
    }
  }
}

}  // namespace
}  // namespace mipvpn
