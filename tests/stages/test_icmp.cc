/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance's own ICMP (stages/icmp.h): echo replies to each kind of
 * our address and through the combined appliance's tunnels, time exceeded
 * (RFC 1812 5.3.1) on forwarding, on encapsulation and after the triple
 * decapsulation, fragmentation needed with the next-hop / tunnel MTU
 * (RFC 1191, RFC 2003 5.1) for IP-in-IP, RFC 3519 UDP, ESP with NAT-T and
 * the triple encapsulation, the cases where no error may be sent (RFC 1812
 * 4.3.2.7) and the rate limit (4.3.2.8) with an injected clock. Every
 * message is checked with the codec parsers: IPv4 header checksum, ICMP
 * checksum, the quoted bytes.
 */
#include <gtest/gtest.h>

#include <functional>

#include "stage_test_util.h"
#include "stages/icmp.h"

namespace mipvpn::test {
namespace {

constexpr uint8_t kAll = kRoleXha | kRoleVpnGw | kRoleIha;

const Ipv4Addr kOutsider(198, 51, 100, 66);

/* Set DF (or a fragment offset) and fix the header checksum. */
void set_frag(Pkt& p, uint16_t frag_off) {
  std::byte* d = p.v.data();
  store_be16(d + 6, frag_off);
  store_be16(d + 10, 0);
  store_be16(d + 10, ip_checksum(cbytes(d, kIpv4HdrLen)));
}
void set_df(Pkt& p) { set_frag(p, kIpv4FlagDf); }

/* IPv4 / ICMP type code / id 0x1234 seq 7 / payload, with both checksums. */
void icmp_packet(Pkt& p, Ipv4Addr src, Ipv4Addr dst, uint8_t type, uint32_t size = 84, uint8_t ttl = 64,
                 uint8_t code = 0) {
  p.v.data_len = size;
  std::byte* d = p.v.data();
  ipv4_build({d, size}, {.src = src, .dst = dst, .total_len = static_cast<uint16_t>(size), .id = 5,
                         .proto = kIpProtoIcmp, .ttl = ttl});
  std::byte* m = d + kIpv4HdrLen;
  m[0] = std::byte{type};
  m[1] = std::byte{code};
  store_be16(m + 2, 0);
  store_be16(m + 4, 0x1234);
  store_be16(m + 6, 7);
  for (uint32_t i = kIpv4HdrLen + kIcmpHdrLen; i < size; ++i) d[i] = std::byte(i * 3);
  store_be16(m + 2, ip_checksum(cbytes(m, size - kIpv4HdrLen)));
}

/* An ICMP message as the codecs read it; every checksum verified. */
struct Msg {
  Ipv4Info ip;
  uint8_t type = 0xff, code = 0xff;
  uint16_t w1 = 0, w2 = 0;
  std::vector<uint8_t> body;  /* after the 8-byte ICMP header */
};
Msg parse_icmp(const Pkt& p) {
  Msg r;
  auto ip = ipv4_parse(cbytes(p.v.bytes()), Ipv4Check::kFull);
  EXPECT_TRUE(ip.ok()) << to_string(ip.error());
  if (!ip.ok()) return r;
  r.ip = *ip;
  EXPECT_EQ(ip->proto, kIpProtoIcmp);
  EXPECT_EQ(ip->total_len, p.v.data_len);
  const cbytes m = ipv4_payload(cbytes(p.v.bytes()), *ip);
  EXPECT_GE(m.size(), kIcmpHdrLen);
  if (m.size() < kIcmpHdrLen) return r;
  EXPECT_EQ(ip_checksum(m), 0) << "ICMP checksum";
  r.type = std::to_integer<uint8_t>(m[0]);
  r.code = std::to_integer<uint8_t>(m[1]);
  r.w1 = load_be16(&m[4]);
  r.w2 = load_be16(&m[6]);
  for (size_t i = kIcmpHdrLen; i < m.size(); ++i) r.body.push_back(std::to_integer<uint8_t>(m[i]));
  return r;
}

/* The quote of an error: the head of `orig`, its header checksum intact. */
void expect_quote(const Msg& m, const std::vector<uint8_t>& orig, size_t want_len) {
  ASSERT_EQ(m.body.size(), want_len);
  EXPECT_TRUE(std::equal(m.body.begin(), m.body.end(), orig.begin()));
  ASSERT_GE(m.body.size(), kIpv4HdrLen);
  const size_t hl = size_t{m.body[0] & 0x0fu} * 4;
  EXPECT_EQ(ip_checksum(cbytes(reinterpret_cast<const std::byte*>(m.body.data()), hl)), 0);
}

/* The mobile node opens what the appliance sent it: x-MIP, ESP, i-MIP. */
void mn_open_cvc(Env& env, Pkt& p, bool udp) {
  Ipv4Info o = p.ip();
  EXPECT_EQ(o.src, kXHa);
  if (udp) {
    ASSERT_TRUE(mip_tunnel_decap(p.v).ok());
  } else {
    ASSERT_EQ(ipip_decap(p.v).error(), CodecError::kOk);
  }
  o = p.ip();
  EXPECT_EQ(o.src, kVpnGw);
  EXPECT_EQ(o.dst, kXHoA);
  PktView* v = &p.v;
  ASSERT_EQ(esp_inb_process(*env.eng, *env.mn_in, &v, 1), 1) << to_string(EspDrop(p.v.drop));
  o = p.ip();
  EXPECT_EQ(o.src, kIHa);
  EXPECT_EQ(o.dst, kVpnTia);
  if (udp) {
    ASSERT_TRUE(mip_tunnel_decap(p.v).ok());
  } else {
    ASSERT_EQ(ipip_decap(p.v).error(), CodecError::kOk);
  }
}

/* ---------------- echo (RFC 792) ---------------- */

struct EchoCase {
  const char* name;
  Ipv4Addr to;
  Ipv4Addr from;
  uint16_t in_port;
  uint16_t out_port;
  Ipv4Addr nh;
};

class Echo : public ::testing::TestWithParam<EchoCase> {};

TEST_P(Echo, ReplyFromTheAddressAsked) {
  const EchoCase& k = GetParam();
  Env env;
  Pkt p;
  icmp_packet(p, k.from, k.to, kIcmpTypeEcho, 100);
  const auto req = p.bytes();
  env.run(p, k.in_port);
  EXPECT_EQ(p.v.user, k.out_port) << to_string(env.drop_of(p));
  EXPECT_EQ(env.nh, k.nh);
  const Msg m = parse_icmp(p);
  EXPECT_EQ(m.ip.src, k.to);  /* RFC 1122 3.2.2.6 */
  EXPECT_EQ(m.ip.dst, k.from);
  EXPECT_EQ(m.type, kIcmpTypeEchoReply);
  EXPECT_EQ(m.code, 0);
  EXPECT_EQ(m.w1, 0x1234);
  EXPECT_EQ(m.w2, 7);
  EXPECT_TRUE(std::equal(m.body.begin(), m.body.end(), req.begin() + kIpv4HdrLen + kIcmpHdrLen, req.end()));
  EXPECT_EQ(m.body.size(), req.size() - kIpv4HdrLen - kIcmpHdrLen);
  EXPECT_EQ(m.ip.ttl, 64);  /* ours, not decremented */
  EXPECT_EQ(env.ctr().passed(Stage::kIcmpEchoReply), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    OurAddresses, Echo,
    ::testing::Values(EchoCase{"inside_port", kInPort, kCn, 1, 1, kCn},
                      EchoCase{"outside_port", kOutPort, kOutsider, 0, 0, kGwRouter},
                      EchoCase{"xha", kXHa, kOutsider, 0, 0, kGwRouter},
                      EchoCase{"iha", kIHa, kCn, 1, 1, kCn},
                      EchoCase{"vpn_gateway", kVpnGw, kOutsider, 0, 0, kGwRouter},
                      EchoCase{"inside_port_from_outside", kInPort, kOutsider, 0, 0, kGwRouter}),
    [](const auto& i) { return std::string(i.param.name); });

TEST(EchoEdge, OptionsAreNotEchoed) {
  Env env;
  Pkt p;
  /* A 24-byte header: one NOP-padded option word (RFC 791 type 1, NOP). */
  icmp_packet(p, kCn, kIHa, kIcmpTypeEcho, 64);
  std::vector<uint8_t> b = p.bytes();
  b.insert(b.begin() + kIpv4HdrLen, {1, 1, 1, 0});
  b[0] = 0x46;
  b[3] = static_cast<uint8_t>(b.size());
  b[10] = b[11] = 0;
  const uint16_t c = ip_checksum(cbytes(reinterpret_cast<const std::byte*>(b.data()), 24));
  b[10] = static_cast<uint8_t>(c >> 8);
  b[11] = static_cast<uint8_t>(c);
  p.v.data_len = static_cast<uint32_t>(b.size());
  std::memcpy(p.v.data(), b.data(), b.size());
  env.run(p);
  ASSERT_EQ(p.v.user, 1) << to_string(env.drop_of(p));
  const Msg m = parse_icmp(p);
  EXPECT_EQ(m.ip.hdr_len, kIpv4HdrLen);
  EXPECT_EQ(m.type, kIcmpTypeEchoReply);
  EXPECT_EQ(m.body.size(), 64u - kIpv4HdrLen - kIcmpHdrLen);
}

TEST(EchoEdge, WhatIsNotAnswered) {
  Env env;
  struct Case {
    const char* name;
    Ipv4Addr from;
    uint8_t type;
    bool bad_sum;
    uint32_t size;
    StageDrop want;
  };
  const Case cases[] = {
      {"echo_reply", kCn, kIcmpTypeEchoReply, false, 84, StageDrop::kLocalIcmp},
      {"time_exceeded", kCn, kIcmpTypeTimeExceeded, false, 84, StageDrop::kLocalIcmp},
      {"bad_checksum", kCn, kIcmpTypeEcho, true, 84, StageDrop::kBadChecksum},
      {"truncated", kCn, kIcmpTypeEcho, false, 24, StageDrop::kTruncated},
      {"broadcast_source", Ipv4Addr(255, 255, 255, 255), kIcmpTypeEcho, false, 84, StageDrop::kLocalIcmp},
      {"loopback_source", Ipv4Addr(127, 0, 0, 1), kIcmpTypeEcho, false, 84, StageDrop::kLocalIcmp},
      {"from_ourselves", kIHa, kIcmpTypeEcho, false, 84, StageDrop::kLocalIcmp},
  };
  for (const Case& k : cases) {
    Pkt p;
    icmp_packet(p, k.from, kInPort, k.type, k.size);
    if (k.bad_sum) p.v.data()[kIpv4HdrLen + 9] ^= std::byte{1};
    env.run(p);
    EXPECT_EQ(p.v.user, kVerdictDrop) << k.name;
    EXPECT_EQ(env.drop_of(p), k.want) << k.name << ": " << to_string(env.drop_of(p));
  }
  EXPECT_EQ(env.ctr().passed(Stage::kIcmpEchoReply), 0u);
}

class Tunnels : public ::testing::TestWithParam<GwCase> {
 protected:
  EnvOpts opts(uint16_t mtu = 1500) const {
    return {.roles = kAll, .suite = GetParam().suite, .mip_udp = GetParam().natt, .natt = GetParam().natt,
            .mtu = mtu};
  }
};

/* A ping from the mobile node to its i-HA arrives triple-encapsulated
 * (RFC 5265 cvc) and the reply leaves triple-encapsulated. */
TEST_P(Tunnels, EchoFromAMobileNodeThroughTheTunnels) {
  Env env(opts());
  Pkt p;
  icmp_packet(p, kIHoA, kIHa, kIcmpTypeEcho, 120);
  env.mn_cvc(p);
  env.run(p, 0);
  ASSERT_EQ(p.v.user, 0) << to_string(env.drop_of(p));
  EXPECT_EQ(env.nh, kGwRouter);
  mn_open_cvc(env, p, GetParam().natt);
  const Msg m = parse_icmp(p);
  EXPECT_EQ(m.ip.src, kIHa);
  EXPECT_EQ(m.ip.dst, kIHoA);
  EXPECT_EQ(m.type, kIcmpTypeEchoReply);
  EXPECT_EQ(m.w1, 0x1234);
  const StageCounters& c = env.ctr();
  EXPECT_EQ(c.passed(Stage::kIcmpEchoReply), 1u);
  EXPECT_EQ(c.passed(Stage::kImipDecap), 1u);
  EXPECT_EQ(c.passed(Stage::kXmipEncap), 1u);
}

/* ---------------- time exceeded (RFC 1812 5.3.1) ---------------- */

TEST(TimeExceeded, OnForwardQuotesUpTo576Bytes) {
  for (uint32_t size : {100u, 548u, 1000u}) {
    Env env;
    Pkt p;
    user_packet(p, kCn, Ipv4Addr(8, 8, 8, 8), size, 1);
    ipv4_set_tos(header_at<Ipv4Hdr>(p.v.data()), 0xb9);  /* EF, ECT(1) */
    const auto orig = p.bytes();
    env.run(p, 1);
    ASSERT_EQ(p.v.user, 1) << to_string(env.drop_of(p));  /* back to kCn, inside */
    EXPECT_EQ(p.ip().tos, 0xb8);  /* RFC 1812 4.3.2.5 DSCP, no ECN bits */
    EXPECT_EQ(env.nh, kCn);
    const Msg m = parse_icmp(p);
    EXPECT_EQ(m.ip.src, kInPort);  /* the port it came in on */
    EXPECT_EQ(m.ip.dst, kCn);
    EXPECT_EQ(m.type, kIcmpTypeTimeExceeded);
    EXPECT_EQ(m.code, 0);
    EXPECT_EQ(m.w2, 0);
    EXPECT_LE(m.ip.total_len, kIcmpErrorMax);
    expect_quote(m, orig, std::min<size_t>(size, kIcmpErrorMax - 28));
    EXPECT_EQ(env.ctr().passed(Stage::kIcmpError), 1u);
    EXPECT_EQ(env.ctr().drop(StageDrop::kTtlExceeded), 0u);
  }
}

/* On i-MIP encap; and on forward with less headroom than the 28 bytes of
 * headers (the quote moves back in the buffer). */
TEST(TimeExceeded, OnEncapAndWithLittleHeadroom) {
  for (uint32_t headroom : {256u, 10u}) {
    Env env;
    Pkt p(headroom);
    user_packet(p, kCn, headroom == 10 ? Ipv4Addr(8, 8, 8, 8) : kIHoA, 300, 1);
    const auto orig = p.bytes();
    env.run(p, 1);
    ASSERT_EQ(p.v.user, 1) << to_string(env.drop_of(p));
    const Msg m = parse_icmp(p);
    EXPECT_EQ(m.ip.src, kInPort);
    EXPECT_EQ(m.ip.dst, kCn);
    EXPECT_EQ(m.type, kIcmpTypeTimeExceeded);
    expect_quote(m, orig, 300);
    EXPECT_EQ(env.ctr().passed(Stage::kImipEncap), 0u);
  }
}

/* The user datagram of a mobile node runs out after the triple decap: the
 * error goes back to it through the tunnels, from its i-HA. */
TEST_P(Tunnels, TimeExceededAfterTheTripleDecap) {
  Env env(opts());
  Pkt p;
  user_packet(p, kIHoA, kCn, 200, 1);
  const auto orig = p.bytes();
  env.mn_cvc(p);
  env.run(p, 0);
  ASSERT_EQ(p.v.user, 0) << to_string(env.drop_of(p));
  mn_open_cvc(env, p, GetParam().natt);
  const Msg m = parse_icmp(p);
  EXPECT_EQ(m.ip.src, kIHa);  /* our end of the tunnel it came out of */
  EXPECT_EQ(m.ip.dst, kIHoA);
  EXPECT_EQ(m.type, kIcmpTypeTimeExceeded);
  expect_quote(m, orig, 200);
  EXPECT_EQ(env.ctr().passed(Stage::kIcmpError), 1u);
}

/* ---------------- fragmentation needed (RFC 1191, RFC 2003 5.1) ---------------- */

/* A mobile node's DF datagram too big for the intranet port once
 * decapsulated: the error goes back to it through the tunnels. */
TEST_P(Tunnels, FragNeededAfterTheTripleDecap) {
  Env env(opts(1300));
  Pkt p;
  user_packet(p, kIHoA, kCn, 1350);
  set_df(p);
  const auto orig = p.bytes();
  env.mn_cvc(p);  /* arrival is not checked against the MTU */
  env.run(p, 0);
  ASSERT_EQ(p.v.user, 0) << to_string(env.drop_of(p));
  mn_open_cvc(env, p, GetParam().natt);
  const Msg m = parse_icmp(p);
  EXPECT_EQ(m.ip.src, kIHa);
  EXPECT_EQ(m.ip.dst, kIHoA);
  EXPECT_EQ(m.type, kIcmpTypeUnreach);
  EXPECT_EQ(m.code, kIcmpCodeFragNeeded);
  EXPECT_EQ(m.w2, 1300);  /* forwarded as it is: the port's MTU */
  expect_quote(m, orig, kIcmpErrorMax - 28);
}

struct MtuCase {
  const char* name;
  EnvOpts env;
  Ipv4Addr dst;
  uint16_t want;  /* the known answer */
};

class FragNeeded : public ::testing::TestWithParam<MtuCase> {
 protected:
  /* A DF datagram of size bytes from kCn: 0 when it was forwarded, else
   * the next-hop MTU of the error that came back (fully checked). */
  uint16_t probe(Env& env, uint32_t size) {
    Pkt p;
    user_packet(p, kCn, GetParam().dst, size);
    set_df(p);
    const auto orig = p.bytes();
    env.run(p, 1);
    if (p.v.user == 0) return 0;
    EXPECT_EQ(p.v.user, 1) << to_string(env.drop_of(p));
    if (p.v.user != 1) return 0;
    EXPECT_EQ(env.nh, kCn);
    const Msg m = parse_icmp(p);
    EXPECT_EQ(m.ip.src, kInPort);
    EXPECT_EQ(m.ip.dst, kCn);  /* the original sender (RFC 2003 5.1) */
    EXPECT_EQ(m.type, kIcmpTypeUnreach);
    EXPECT_EQ(m.code, kIcmpCodeFragNeeded);
    EXPECT_EQ(m.w1, 0);
    /* Encapsulated: header + 8 bytes (RFC 792); as received: up to 576. */
    const bool tunnel = GetParam().dst != Ipv4Addr(8, 8, 8, 8);
    expect_quote(m, orig, tunnel ? kIpv4HdrLen + 8 : std::min<size_t>(size, kIcmpErrorMax - 28));
    return m.w2;
  }
};

TEST_P(FragNeeded, ReportsTheLargestDatagramThatFits) {
  Env env(GetParam().env);
  const uint16_t mtu = probe(env, 1400);
  EXPECT_EQ(mtu, GetParam().want);
  ASSERT_GT(mtu, 68);
  EXPECT_EQ(probe(env, mtu), 0) << "a datagram of the reported MTU must pass";
  EXPECT_EQ(probe(env, mtu + 1u), mtu);
  EXPECT_EQ(env.ctr().passed(Stage::kIcmpError), 2u);
}

/* Known answers for ports of MTU 1300: IP-in-IP 20, RFC 3519 32; ESP with
 * NAT-T, GCM: 20 + 8 + 8 + 8 IV + 16 ICV = 60 fixed, payload + 2 padded
 * to 4: 1238; CBC-SHA1: 64 fixed, padded to 16: 1230; the triple cvc
 * with GCM (IP-in-IP, ESP, IP-in-IP): 1300 - 20 - 52, padded to 4, - 2
 * - 20: 1206; the same over RFC 3519 with NAT-T and CBC-SHA1: 1166. */
INSTANTIATE_TEST_SUITE_P(
    Encapsulations, FragNeeded,
    ::testing::Values(
        MtuCase{"forward", {.mtu = 1300}, Ipv4Addr(8, 8, 8, 8), 1300},
        MtuCase{"ipip", {.roles = kRoleXha, .mtu = 1300}, kXHoA, 1280},
        MtuCase{"mip_udp", {.roles = kRoleXha, .mip_udp = true, .mtu = 1300}, kXHoA, 1268},
        MtuCase{"esp_natt_gcm", {.roles = kRoleVpnGw, .natt = true, .mtu = 1300}, kVpnTia, 1238},
        MtuCase{"esp_natt_cbc", {.roles = kRoleVpnGw, .suite = "aes-128-cbc-sha1", .natt = true, .mtu = 1300},
                kVpnTia, 1230},
        MtuCase{"esp_gcm", {.roles = kRoleVpnGw, .mtu = 1300}, kVpnTia, 1246},
        MtuCase{"cvc_gcm", {.roles = kAll, .mtu = 1300}, kIHoA, 1206},
        MtuCase{"cvc_udp_natt_cbc",
                {.roles = kAll, .suite = "aes-256-cbc-sha1", .mip_udp = true, .natt = true, .mtu = 1300},
                kIHoA, 1166}),
    [](const auto& i) { return std::string(i.param.name); });

TEST(FragNeededEdge, DfClearIsDroppedNotFragmented) {
  Env env({.roles = kRoleXha, .mtu = 1300});
  Pkt p;
  user_packet(p, kCn, kXHoA, 1290);
  env.run(p, 1);
  EXPECT_EQ(p.v.user, kVerdictDrop);
  EXPECT_EQ(env.drop_of(p), StageDrop::kTooBig);
  EXPECT_EQ(env.ctr().passed(Stage::kIcmpError), 0u);
}

/* ---------------- no error about these (RFC 1812 4.3.2.7) ---------------- */

TEST(NoErrorAbout, ErrorsFragmentsBroadcastAndMulticast) {
  struct Case {
    const char* name;
    bool send;
    std::function<void(Pkt&)> make;
  };
  const Case cases[] = {
      {"icmp_error", false, [](Pkt& p) { icmp_packet(p, kCn, Ipv4Addr(8, 8, 8, 8), kIcmpTypeTimeExceeded, 84, 1); }},
      {"icmp_unreach", false, [](Pkt& p) { icmp_packet(p, kCn, Ipv4Addr(8, 8, 8, 8), kIcmpTypeUnreach, 84, 1); }},
      {"icmp_echo", true, [](Pkt& p) { icmp_packet(p, kCn, Ipv4Addr(8, 8, 8, 8), kIcmpTypeEcho, 84, 1); }},
      {"non_first_fragment", false,
       [](Pkt& p) { user_packet(p, kCn, Ipv4Addr(8, 8, 8, 8), 100, 1); set_frag(p, 100); }},
      {"first_fragment", true,
       [](Pkt& p) { user_packet(p, kCn, Ipv4Addr(8, 8, 8, 8), 100, 1); set_frag(p, kIpv4FlagMf); }},
      {"broadcast_source", false, [](Pkt& p) { user_packet(p, Ipv4Addr(255, 255, 255, 255), Ipv4Addr(8, 8, 8, 8), 100, 1); }},
      {"multicast_source", false, [](Pkt& p) { user_packet(p, Ipv4Addr(224, 0, 0, 9), Ipv4Addr(8, 8, 8, 8), 100, 1); }},
      {"zero_source", false, [](Pkt& p) { user_packet(p, Ipv4Addr(), Ipv4Addr(8, 8, 8, 8), 100, 1); }},
      {"multicast_destination", false, [](Pkt& p) { user_packet(p, kCn, Ipv4Addr(239, 1, 2, 3), 100, 1); }},
      {"broadcast_destination", false, [](Pkt& p) { user_packet(p, kCn, Ipv4Addr(255, 255, 255, 255), 100, 1); }},
  };
  for (const Case& k : cases) {
    Env env;
    Pkt p;
    k.make(p);
    env.run(p, 1);
    if (k.send) {
      EXPECT_EQ(p.v.user, 1) << k.name << ": " << to_string(env.drop_of(p));
      EXPECT_EQ(parse_icmp(p).type, kIcmpTypeTimeExceeded) << k.name;
    } else {
      EXPECT_EQ(p.v.user, kVerdictDrop) << k.name;
      EXPECT_EQ(env.drop_of(p), StageDrop::kTtlExceeded) << k.name;
      EXPECT_EQ(env.ctr().passed(Stage::kIcmpError), 0u) << k.name;
    }
  }
}

/* Our own echo reply, too big for its tunnels: dropped, no error to ourselves. */
TEST(NoErrorAbout, OurOwnPackets) {
  Env env({.roles = kAll, .mtu = 1300});
  Pkt p;
  icmp_packet(p, kIHoA, kIHa, kIcmpTypeEcho, 1250);
  set_df(p);
  env.mn_cvc(p);
  env.run(p, 0);
  EXPECT_EQ(p.v.user, kVerdictDrop);
  EXPECT_EQ(env.drop_of(p), StageDrop::kTooBig);
  EXPECT_EQ(env.ctr().passed(Stage::kIcmpEchoReply), 1u);
  EXPECT_EQ(env.ctr().passed(Stage::kIcmpError), 0u);
}

/* ---------------- rate limit (RFC 1812 4.3.2.8) ---------------- */

TEST(RateLimit, TokenBucketWithInjectedTime) {
  Env env({.icmp_rate = 10, .icmp_burst = 3});
  uint64_t now_ms = 5000;
  env.pipe->set_clock({.now = [](const void* a) noexcept { return *static_cast<const uint64_t*>(a); },
                       .arg = &now_ms,
                       .hz = 1000});
  auto burst = [&](uint16_t n) {
    std::vector<Pkt> pk(n);
    std::vector<PktView*> v;
    std::vector<Ipv4Addr> nh(n);
    for (auto& p : pk) {
      user_packet(p, kCn, Ipv4Addr(8, 8, 8, 8), 100, 1);
      v.push_back(&p.v);
    }
    env.pipe->process(v.data(), n, 1, nh.data());
    uint32_t sent = 0;
    for (auto& p : pk) {
      if (p.v.user == 1) {
        ++sent;
        EXPECT_EQ(parse_icmp(p).type, kIcmpTypeTimeExceeded);
      } else {
        EXPECT_EQ(env.drop_of(p), StageDrop::kTtlExceeded);
      }
    }
    return sent;
  };
  const StageCounters& c = env.ctr();
  EXPECT_EQ(burst(5), 3u);  /* the bucket starts full: 3 */
  EXPECT_EQ(c.passed(Stage::kIcmpSuppressed), 2u);
  EXPECT_EQ(c.drop(StageDrop::kTtlExceeded), 2u);
  EXPECT_EQ(burst(2), 0u);  /* same instant: empty */
  now_ms += 99;
  EXPECT_EQ(burst(1), 0u);  /* 0.99 of a token */
  now_ms += 1;
  EXPECT_EQ(burst(2), 1u);  /* 100 ms at 10/s: one */
  now_ms += 250;
  EXPECT_EQ(burst(4), 2u);  /* 2.5 tokens */
  now_ms += 3600 * 1000;
  EXPECT_EQ(burst(5), 3u);  /* an hour later: full, not more */
  EXPECT_EQ(c.passed(Stage::kIcmpError), 9u);
  EXPECT_EQ(c.passed(Stage::kIcmpSuppressed), 2u + 2 + 1 + 1 + 2 + 2);
}

TEST(RateLimit, ZeroSendsNoneAndLimitsAreChecked) {
  Env env({.icmp_rate = 0});
  Pkt p;
  user_packet(p, kCn, Ipv4Addr(8, 8, 8, 8), 100, 1);
  env.run(p, 1);
  EXPECT_EQ(env.drop_of(p), StageDrop::kTtlExceeded);
  EXPECT_EQ(env.ctr().passed(Stage::kIcmpSuppressed), 1u);
  std::string err;
  EXPECT_FALSE(StageTablesBuilder().icmp_errors(kIcmpMaxRate + 1, 10).build(&err));
  EXPECT_NE(err.find("ICMP"), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(Suites, Tunnels,
                         ::testing::Values(GwCase{"aes-128-gcm", false}, GwCase{"aes-128-gcm", true},
                                           GwCase{"aes-128-cbc-sha1", false}, GwCase{"aes-256-cbc-sha1", true}),
                         test::gw_case_name);

}  // namespace
}  // namespace mipvpn::test
