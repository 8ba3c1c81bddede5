/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The server appliance's stages: each role alone, the combined appliance's
 * triple decapsulation and triple encapsulation (RFC 5265 section 2,
 * access mode cvc), and every drop reason with its counter.
 */
#include <gtest/gtest.h>

#include "codec/natt.h"
#include "stage_test_util.h"

namespace mipvpn::test {
namespace {

constexpr uint8_t kAll = kRoleXha | kRoleVpnGw | kRoleIha;

void expect_forwarded(Env& env, Pkt& p, uint16_t port, Ipv4Addr nh) {
  EXPECT_EQ(p.v.user, port) << to_string(env.drop_of(p));
  EXPECT_EQ(env.nh, nh) << env.nh.str();
}

/* ---------------- x-HA alone ---------------- */

TEST(XhaAlone, DecapIpipForwardsTheInner) {
  Env env({.roles = kRoleXha});
  Pkt p;
  user_packet(p, kXHoA, Ipv4Addr(198, 51, 100, 77));
  const auto inner = p.bytes();
  env.mn_mip_encap(p, kCoA, kXHa, 0);
  env.run(p, 0);
  expect_forwarded(env, p, 0, kGwRouter);
  EXPECT_EQ(p.bytes(), forwarded(inner));
  EXPECT_EQ(env.ctr().passed(Stage::kXmipDecap), 1u);
  EXPECT_EQ(env.ctr().passed(Stage::kForward), 1u);
}

TEST(XhaAlone, DecapUdpForwardsTheInner) {
  Env env({.roles = kRoleXha, .mip_udp = true});
  Pkt p;
  user_packet(p, kXHoA, Ipv4Addr(198, 51, 100, 77));
  const auto inner = p.bytes();
  env.mn_mip_encap(p, kNat, kXHa, kNatPortX);
  env.run(p, 0);
  expect_forwarded(env, p, 0, kGwRouter);
  EXPECT_EQ(p.bytes(), forwarded(inner));
}

TEST(XhaAlone, EncapIpipToTheCareOfAddress) {
  Env env({.roles = kRoleXha});
  Pkt p;
  user_packet(p, Ipv4Addr(198, 51, 100, 77), kXHoA);
  const auto inner = p.bytes();
  env.run(p);
  expect_forwarded(env, p, 0, kGwRouter);
  const Ipv4Info o = p.ip();
  EXPECT_EQ(o.src, kXHa);
  EXPECT_EQ(o.dst, kCoA);
  EXPECT_EQ(o.proto, kIpProtoIpip);
  ASSERT_EQ(ipip_decap(p.v).error(), CodecError::kOk);
  EXPECT_EQ(p.bytes(), forwarded(inner));  /* RFC 2003 3.1: inner TTL decremented once */
  EXPECT_EQ(env.ctr().passed(Stage::kXmipEncap), 1u);
}

TEST(XhaAlone, EncapUdpToTheNatMapping) {
  Env env({.roles = kRoleXha, .mip_udp = true});
  Pkt p;
  user_packet(p, Ipv4Addr(198, 51, 100, 77), kXHoA);
  const auto inner = p.bytes();
  env.run(p);
  expect_forwarded(env, p, 0, kGwRouter);
  auto r = mip_tunnel_decap(p.v);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(r->src, kXHa);
  EXPECT_EQ(r->dst, kNat);
  EXPECT_EQ(r->sport, kPortMip);
  EXPECT_EQ(r->dport, kNatPortX);
  EXPECT_EQ(p.bytes(), forwarded(inner));
}

/* ---------------- VPN gateway alone ---------------- */

class GwAlone : public ::testing::TestWithParam<GwCase> {};

TEST_P(GwAlone, InboundDecryptsAndForwards) {
  Env env({.roles = kRoleVpnGw, .suite = GetParam().suite, .natt = GetParam().natt});
  Pkt p;
  user_packet(p, kVpnTia, kCn, 300);
  const auto inner = p.bytes();
  env.mn_esp_out(p);
  EXPECT_EQ(p.ip().proto, GetParam().natt ? kIpProtoUdp : kIpProtoEsp);
  env.run(p, 0);
  expect_forwarded(env, p, 1, kCn);
  EXPECT_EQ(p.bytes(), forwarded(inner));
  EXPECT_EQ(env.ctr().passed(Stage::kEspInbound), 1u);
}

TEST_P(GwAlone, OutboundEncryptsBySpd) {
  Env env({.roles = kRoleVpnGw, .suite = GetParam().suite, .natt = GetParam().natt});
  Pkt p;
  user_packet(p, kCn, kVpnTia, 300);
  const auto inner = p.bytes();
  env.run(p);
  expect_forwarded(env, p, 0, kGwRouter);  /* to the x-HoA, outside */
  const Ipv4Info o = p.ip();
  EXPECT_EQ(o.src, kVpnGw);
  EXPECT_EQ(o.dst, kXHoA);
  EXPECT_EQ(o.proto, GetParam().natt ? kIpProtoUdp : kIpProtoEsp);
  PktView* v = &p.v;
  ASSERT_EQ(esp_inb_process(*env.eng, *env.mn_in, &v, 1), 1) << to_string(EspDrop(p.v.drop));
  EXPECT_EQ(p.bytes(), forwarded(inner));
  EXPECT_EQ(env.ctr().passed(Stage::kEspOutbound), 1u);
}

INSTANTIATE_TEST_SUITE_P(Suites, GwAlone,
                         ::testing::Values(GwCase{"aes-128-gcm", false}, GwCase{"aes-128-gcm", true},
                                           GwCase{"aes-128-cbc-sha1", false}, GwCase{"aes-128-cbc-sha1", true}),
                         test::gw_case_name);

/* ---------------- i-HA alone ---------------- */

TEST(IhaAlone, DecapForwardsToTheIntranet) {
  for (bool udp : {false, true}) {
    Env env({.roles = kRoleIha, .mip_udp = udp});
    Pkt p;
    user_packet(p, kIHoA, kCn);
    const auto inner = p.bytes();
    env.mn_mip_encap(p, kVpnTia, kIHa, kNatPortI);
    env.run(p);
    expect_forwarded(env, p, 1, kCn);
    EXPECT_EQ(p.bytes(), forwarded(inner)) << udp;
    EXPECT_EQ(env.ctr().passed(Stage::kImipDecap), 1u);
  }
}

TEST(IhaAlone, EncapToTheVpnTunnelInnerAddress) {
  for (bool udp : {false, true}) {
    Env env({.roles = kRoleIha, .mip_udp = udp});
    Pkt p;
    user_packet(p, kCn, kIHoA);
    const auto inner = p.bytes();
    env.run(p);
    expect_forwarded(env, p, 1, kVpnTia);  /* connected route 10/8 */
    const Ipv4Info o = p.ip();
    EXPECT_EQ(o.src, kIHa);
    EXPECT_EQ(o.dst, kVpnTia);
    EXPECT_EQ(o.proto, udp ? kIpProtoUdp : kIpProtoIpip);
    const CodecError e = udp ? mip_tunnel_decap(p.v).error() : ipip_decap(p.v).error();
    ASSERT_EQ(e, CodecError::kOk);
    EXPECT_EQ(p.bytes(), forwarded(inner));
  }
}

/* ---------------- the combined appliance (RFC 5265 section 2) ---------------- */

class Combined : public ::testing::TestWithParam<GwCase> {
 protected:
  EnvOpts opts() const {
    return {.roles = kAll, .suite = GetParam().suite, .mip_udp = GetParam().natt, .natt = GetParam().natt};
  }
};

TEST_P(Combined, TripleDecapOfACvcPacket) {
  Env env(opts());
  constexpr uint16_t kN = 32;
  std::vector<Pkt> pk(kN);
  std::vector<std::vector<uint8_t>> users;
  PktView* v[kN];
  Ipv4Addr nh[kN];
  for (uint16_t i = 0; i < kN; ++i) {
    user_packet(pk[i], kIHoA, kCn, 100 + 13 * i);
    users.push_back(pk[i].bytes());
    env.mn_cvc(pk[i]);
    v[i] = &pk[i].v;
  }
  env.pipe->process(v, kN, 0, nh);
  for (uint16_t i = 0; i < kN; ++i) {
    EXPECT_EQ(pk[i].v.user, 1) << i << " " << to_string(env.drop_of(pk[i]));
    EXPECT_EQ(nh[i], kCn);
    EXPECT_EQ(pk[i].bytes(), forwarded(users[i])) << i;
  }
  const StageCounters& c = env.ctr();
  EXPECT_EQ(c.passed(Stage::kXmipDecap), kN);
  EXPECT_EQ(c.passed(Stage::kEspInbound), kN);
  EXPECT_EQ(c.passed(Stage::kImipDecap), kN);
  EXPECT_EQ(c.passed(Stage::kForward), kN);
  EXPECT_EQ(env.gw_in->stats().packets, kN);
}

TEST_P(Combined, TripleEncapOfTheReplyLayerByLayer) {
  Env env(opts());
  const bool udp = GetParam().natt;
  Pkt p;
  user_packet(p, kCn, kIHoA, 400);
  const auto user = p.bytes();
  env.run(p);
  expect_forwarded(env, p, 0, kGwRouter);  /* towards the CoA / NAT, outside */

  /* x-MIP: x-HA -> care-of address (or the NAT's mapping). */
  Ipv4Info o = p.ip();
  EXPECT_EQ(o.src, kXHa);
  EXPECT_EQ(o.dst, udp ? kNat : kCoA);
  if (udp) {
    auto r = mip_tunnel_decap(p.v);
    ASSERT_TRUE(r.ok()) << to_string(r.error());
    EXPECT_EQ(r->dport, kNatPortX);
  } else {
    ASSERT_EQ(ipip_decap(p.v).error(), CodecError::kOk);
  }
  /* ESP: VPN gateway -> x-HoA, the mobile node's inbound SA opens it. */
  o = p.ip();
  EXPECT_EQ(o.src, kVpnGw);
  EXPECT_EQ(o.dst, kXHoA);
  EXPECT_EQ(o.proto, udp ? kIpProtoUdp : kIpProtoEsp);
  PktView* v = &p.v;
  ASSERT_EQ(esp_inb_process(*env.eng, *env.mn_in, &v, 1), 1) << to_string(EspDrop(p.v.drop));
  /* i-MIP: i-HA -> VPN-TIA. */
  o = p.ip();
  EXPECT_EQ(o.src, kIHa);
  EXPECT_EQ(o.dst, kVpnTia);
  if (udp) {
    auto r = mip_tunnel_decap(p.v);
    ASSERT_TRUE(r.ok()) << to_string(r.error());
    EXPECT_EQ(r->dport, kNatPortI);
  } else {
    ASSERT_EQ(ipip_decap(p.v).error(), CodecError::kOk);
  }
  /* The user datagram, TTL decremented once by the appliance. */
  EXPECT_EQ(p.bytes(), forwarded(user));
  const StageCounters& c = env.ctr();
  EXPECT_EQ(c.passed(Stage::kImipEncap), 1u);
  EXPECT_EQ(c.passed(Stage::kEspOutbound), 1u);
  EXPECT_EQ(c.passed(Stage::kXmipEncap), 1u);
}

TEST_P(Combined, MixedBurstKeepsEachVerdictWithItsPacket) {
  Env env(opts());
  std::vector<Pkt> pk(6);
  user_packet(pk[0], kIHoA, kCn);
  env.mn_cvc(pk[0]);
  user_packet(pk[1], kCn, kIHoA);
  user_packet(pk[2], kCn, Ipv4Addr(8, 8, 8, 8));
  user_packet(pk[3], kCn, kIHoA, 200, 1);  /* TTL 1: time exceeded back to kCn */
  user_packet(pk[4], kIHoA, kCn);
  env.mn_cvc(pk[4]);
  pk[5].v.data_len = 3;
  PktView* v[6];
  Ipv4Addr nh[6];
  for (int i = 0; i < 6; ++i) v[i] = &pk[i].v;
  env.pipe->process(v, 6, 1, nh);
  EXPECT_EQ(pk[0].v.user, 1);
  EXPECT_EQ(nh[0], kCn);
  EXPECT_EQ(pk[1].v.user, 0);
  EXPECT_EQ(nh[1], kGwRouter);
  EXPECT_EQ(pk[2].v.user, 0);
  EXPECT_EQ(pk[3].v.user, 1);
  EXPECT_EQ(nh[3], kCn);
  EXPECT_EQ(pk[3].ip().proto, kIpProtoIcmp);
  EXPECT_EQ(pk[4].v.user, 1);
  EXPECT_EQ(pk[5].v.user, kVerdictDrop);
  EXPECT_EQ(env.drop_of(pk[5]), StageDrop::kTruncated);
}

INSTANTIATE_TEST_SUITE_P(Suites, Combined,
                         ::testing::Values(GwCase{"aes-128-gcm", false}, GwCase{"aes-128-gcm", true},
                                           GwCase{"aes-128-cbc-sha1", false}, GwCase{"aes-256-cbc-sha1", true}),
                         test::gw_case_name);

TEST(Burst, LongerThanKMaxBurstIsTakenInChunks) {
  Env env;
  constexpr uint16_t kN = kMaxBurst + 44;
  std::vector<Pkt> pk;
  pk.reserve(kN);
  std::vector<PktView*> v;
  std::vector<Ipv4Addr> nh(kN);
  for (uint16_t i = 0; i < kN; ++i) {
    pk.emplace_back(256, 512);
    user_packet(pk.back(), kCn, i % 2 ? kIHoA : Ipv4Addr(8, 8, 8, 8), 100, i == kN - 1 ? 1 : 64);
  }
  for (auto& p : pk) v.push_back(&p.v);
  env.pipe->process(v.data(), kN, 1, nh.data());
  for (uint16_t i = 0; i + 1 < kN; ++i) {
    EXPECT_EQ(pk[i].v.user, 0) << i;
    EXPECT_EQ(nh[i], kGwRouter) << i;
  }
  EXPECT_EQ(pk[kN - 1].v.user, 1);  /* time exceeded, back to kCn */
  EXPECT_EQ(nh[kN - 1], kCn);
  EXPECT_EQ(env.ctr().passed(Stage::kIcmpError), 1u);
  EXPECT_EQ(env.ctr().rx, kN);
}

/* ---------------- ESP bursts across several SAs ---------------- */

/*
 * The VPN gateway with four peers, each with its own SA pair of a
 * different suite (GCM, CBC-SHA1, CBC-SHA256, NULL-SHA1), so one burst
 * reaches the engine's single call with packets of four SAs and four
 * formats (crypto/esp.h *_grouped). Peer k: inner address 10.99.0.(10+k),
 * tunnel end 203.0.113.(10+k).
 */
struct MultiGw {
  static constexpr int kPeers = 4;
  std::unique_ptr<EspSa> gw_in[kPeers], gw_out[kPeers], mn_in[kPeers], mn_out[kPeers];
  std::unique_ptr<const StageTables> tables;
  std::atomic<const StageTables*> pub{nullptr};
  std::unique_ptr<ServerPipeline> pipe;
  std::unique_ptr<EspEngine> eng;

  static Ipv4Addr inner(int k) { return Ipv4Addr(10, 99, 0, static_cast<uint8_t>(10 + k)); }
  static Ipv4Addr peer(int k) { return Ipv4Addr(203, 0, 113, static_cast<uint8_t>(10 + k)); }

  MultiGw() {
    static const char* suites[kPeers] = {"aes-128-gcm", "aes-128-cbc-sha1", "aes-256-cbc-sha256",
                                         "null-sha1"};
    StageTablesBuilder b;
    b.roles(kRoleVpnGw)
        .gw_addr(kVpnGw)
        .port(kOutPort, 1500, PortZone::kExternal)
        .port(kInPort, 1500, PortZone::kInternal)
        .route({Ipv4Addr(10, 0, 0, 0), 8}, 1)
        .route({Ipv4Addr(), 0}, 0, kGwRouter);
    for (int k = 0; k < kPeers; ++k) {
      const EspSuite* s = esp_suite_by_name(suites[k]);
      const auto spi_in = static_cast<uint32_t>(0x3000 + k), spi_out = static_cast<uint32_t>(0x4000 + k);
      mn_out[k] = sa(EspDir::kOutbound, spi_in, peer(k), kVpnGw, *s, k);
      gw_in[k] = sa(EspDir::kInbound, spi_in, peer(k), kVpnGw, *s, k);
      gw_out[k] = sa(EspDir::kOutbound, spi_out, kVpnGw, peer(k), *s, k);
      mn_in[k] = sa(EspDir::kInbound, spi_out, kVpnGw, peer(k), *s, k);
      b.inbound_sa(gw_in[k].get(), {inner(k), 32}).outbound_sa({inner(k), 32}, gw_out[k].get());
    }
    std::string err;
    tables = b.build(&err);
    EXPECT_TRUE(tables) << err;
    pub.store(tables.get());
    pipe = ServerPipeline::create(pub, &err);
    EXPECT_TRUE(pipe) << err;
    eng = EspEngine::create(&err);
    EXPECT_TRUE(eng) << err;
  }

  static std::unique_ptr<EspSa> sa(EspDir dir, uint32_t spi, Ipv4Addr src, Ipv4Addr dst,
                                   const EspSuite& s, int k) {
    std::vector<uint8_t> key(size_t{s.key_len} + s.salt_len), akey(s.auth_key_len);
    for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 13 + k);
    for (size_t i = 0; i < akey.size(); ++i) akey[i] = static_cast<uint8_t>(i * 7 + 3 * k);
    EspSaConfig c;
    c.spi = spi;
    c.dir = dir;
    c.suite = &s;
    c.cipher_key = key;
    c.auth_key = akey;
    c.tun_src = src;
    c.tun_dst = dst;
    c.replay_window = 64;
    std::string err;
    auto r = EspSa::create(c, &err);
    EXPECT_TRUE(r) << err;
    return r;
  }
};

TEST(EspAcrossSas, OutboundBurstOfFourSasEachNumberedInArrivalOrder) {
  MultiGw gw;
  constexpr int kN = 24;
  std::vector<Pkt> pk(kN);
  std::vector<std::vector<uint8_t>> inner(kN);
  for (int i = 0; i < kN; ++i) {
    user_packet(pk[i], kCn, MultiGw::inner(i % 4 == 3 && i > 12 ? 1 : i % 4), 60 + 50 * i);
    inner[i] = pk[i].bytes();
  }
  PktView* v[kN];
  Ipv4Addr nh[kN];
  for (int i = 0; i < kN; ++i) v[i] = &pk[i].v;
  gw.pipe->process(v, kN, 1, nh);
  uint32_t next_seq[MultiGw::kPeers] = {1, 1, 1, 1};
  for (int i = 0; i < kN; ++i) {
    const int k = i % 4 == 3 && i > 12 ? 1 : i % 4;
    ASSERT_EQ(pk[i].v.user, 0) << i << " " << to_string(StageDrop(pk[i].v.drop));
    EXPECT_EQ(nh[i], kGwRouter);
    EXPECT_EQ(pk[i].ip().dst, MultiGw::peer(k));
    /* RFC 4303 3.3.3: each SA's numbers in the order its packets came */
    EXPECT_EQ(load_be32(pk[i].v.data() + kIpv4HdrLen + 4), next_seq[k]++) << i;
    PktView* pv = &pk[i].v;
    ASSERT_EQ(esp_inb_process(*gw.eng, *gw.mn_in[k], &pv, 1), 1) << i;
    EXPECT_EQ(pk[i].bytes(), forwarded(inner[i])) << i;
  }
  EXPECT_EQ(gw.pipe->counters().passed(Stage::kEspOutbound), static_cast<uint64_t>(kN));
  EXPECT_EQ(gw.gw_out[1]->stats().packets, 9u);  /* 1, 5, ..., 21 and 15, 19, 23 */
  EXPECT_EQ(gw.gw_out[3]->stats().packets, 3u);
}

TEST(EspAcrossSas, InboundBurstWithAForgeryAndAReplayInTheMiddle) {
  MultiGw gw;
  constexpr int kN = 20;
  std::vector<Pkt> pk(kN);
  std::vector<std::vector<uint8_t>> inner(kN);
  for (int i = 0; i < kN; ++i) {
    user_packet(pk[i], MultiGw::inner(i % 4), kCn, 80 + 40 * i);
    inner[i] = pk[i].bytes();
    PktView* pv = &pk[i].v;
    ASSERT_EQ(esp_outb_process(*gw.eng, *gw.mn_out[i % 4], &pv, 1), 1);
  }
  pk[9].v.data()[pk[9].v.data_len - 1] ^= std::byte{1};  /* SA 1: ICV fails */
  std::vector<Pkt> burst(pk);
  burst.push_back(pk[6]);  /* SA 2: a replay in the same burst */
  const int n = kN + 1;
  std::vector<PktView*> v;
  for (auto& p : burst) v.push_back(&p.v);
  std::vector<Ipv4Addr> nh(n);
  gw.pipe->process(v.data(), static_cast<uint16_t>(n), 0, nh.data());
  for (int i = 0; i < kN; ++i) {
    if (i == 9) continue;
    ASSERT_EQ(burst[i].v.user, 1) << i << " " << to_string(StageDrop(burst[i].v.drop));
    EXPECT_EQ(nh[i], kCn);
    EXPECT_EQ(burst[i].bytes(), forwarded(inner[i])) << i;
  }
  EXPECT_EQ(burst[9].v.user, kVerdictDrop);
  EXPECT_EQ(StageDrop(burst[9].v.drop), StageDrop::kEspInbound);
  EXPECT_EQ(burst[kN].v.user, kVerdictDrop);
  EXPECT_EQ(StageDrop(burst[kN].v.drop), StageDrop::kEspInbound);
  const StageCounters& c = gw.pipe->counters();
  EXPECT_EQ(c.esp_inb(EspDrop::kAuthFailed), 1u);
  EXPECT_EQ(c.esp_inb(EspDrop::kReplayed), 1u);
  EXPECT_EQ(c.passed(Stage::kEspInbound), static_cast<uint64_t>(kN - 1));
  EXPECT_EQ(gw.gw_in[1]->stats().drop(EspDrop::kAuthFailed), 1u);
  EXPECT_EQ(gw.gw_in[2]->stats().drop(EspDrop::kReplayed), 1u);
  EXPECT_EQ(gw.gw_in[0]->stats().packets, 5u);
  EXPECT_EQ(gw.gw_in[1]->stats().packets, 4u);
}

/* ---------------- drops and punts ---------------- */

/* A UDP datagram to dst:dport carrying payload, with its checksum. */
void udp_to(Pkt& p, Ipv4Addr src, Ipv4Addr dst, uint16_t dport, std::vector<uint8_t> payload) {
  const auto len = static_cast<uint16_t>(kIpv4HdrLen + kUdpHdrLen + payload.size());
  p.v.data_len = len;
  ipv4_build(p.v.bytes(), {.src = src, .dst = dst, .total_len = len, .id = 3, .proto = kIpProtoUdp});
  udp_build(p.v.bytes().subspan(kIpv4HdrLen), 1234, dport, static_cast<uint16_t>(len - kIpv4HdrLen));
  if (!payload.empty()) std::memcpy(p.v.data() + kIpv4HdrLen + kUdpHdrLen, payload.data(), payload.size());
  udp_fill_checksum(p.v.bytes().subspan(kIpv4HdrLen), src, dst);
}

void expect_drop(Env& env, Pkt& p, StageDrop d) {
  const uint64_t before = env.ctr().drop(d);
  env.run(p);
  EXPECT_EQ(p.v.user, kVerdictDrop);
  EXPECT_EQ(env.drop_of(p), d) << to_string(env.drop_of(p)) << " instead of " << to_string(d);
  EXPECT_EQ(env.ctr().drop(d), before + 1) << to_string(d);
}

TEST(Drops, Truncated) {
  Env env;
  Pkt p;
  user_packet(p, kCn, kIHoA);
  p.v.data_len = 19;
  expect_drop(env, p, StageDrop::kTruncated);
}

TEST(Drops, BadChecksum) {
  Env env;
  Pkt p;
  user_packet(p, kCn, kIHoA);
  p.v.data()[10] ^= std::byte{0x40};
  expect_drop(env, p, StageDrop::kBadChecksum);
}

TEST(Drops, BadHeader) {
  Env env;
  Pkt p;
  user_packet(p, kCn, kIHoA);
  p.v.data()[0] = std::byte{0x65};  /* version 6 */
  expect_drop(env, p, StageDrop::kBadHeader);
}

TEST(Drops, UnknownSpi) {
  Env env;
  Pkt q;
  user_packet(q, kXHoA, kVpnGw, 100, 64, kIpProtoEsp);
  store_be32(q.v.data() + kIpv4HdrLen, 0x9999);
  expect_drop(env, q, StageDrop::kUnknownSpi);
  /* The same over UDP 4500 (RFC 3948 2.1). */
  Pkt u;
  udp_to(u, kXHoA, kVpnGw, kPortNatt, {0, 0, 0x99, 0x99, 0, 0, 0, 1});
  expect_drop(env, u, StageDrop::kUnknownSpi);
}

TEST(Drops, ReservedSpi) {
  Env env;
  Pkt q;
  user_packet(q, kXHoA, kVpnGw, 100, 64, kIpProtoEsp);
  store_be32(q.v.data() + kIpv4HdrLen, 7);
  expect_drop(env, q, StageDrop::kBadSpi);
}

TEST(Drops, ReplayIsCountedByTheEspReason) {
  Env env({.roles = kRoleVpnGw});
  Pkt p;
  user_packet(p, kVpnTia, kCn);
  env.mn_esp_out(p);
  Pkt again(p);
  env.run(p);
  EXPECT_EQ(p.v.user, 1);
  expect_drop(env, again, StageDrop::kEspInbound);
  EXPECT_EQ(env.ctr().esp_inb(EspDrop::kReplayed), 1u);
}

TEST(Drops, AuthFailureIsCountedByTheEspReason) {
  Env env({.roles = kRoleVpnGw, .suite = "aes-128-cbc-sha1"});
  Pkt p;
  user_packet(p, kVpnTia, kCn);
  env.mn_esp_out(p);
  p.v.data()[p.v.data_len - 1] ^= std::byte{1};
  expect_drop(env, p, StageDrop::kEspInbound);
  EXPECT_EQ(env.ctr().esp_inb(EspDrop::kAuthFailed), 1u);
}

TEST(Drops, InnerSourceOutsideTheSelector) {
  Env env({.roles = kRoleVpnGw});
  Pkt p;
  user_packet(p, Ipv4Addr(10, 99, 0, 6), kCn);  /* not the VPN-TIA */
  env.mn_esp_out(p);
  expect_drop(env, p, StageDrop::kPolicyMismatch);
}

TEST(Drops, WrongCareOfAddress) {
  for (bool udp : {false, true}) {
    Env env({.roles = kRoleXha, .mip_udp = udp});
    Pkt p;
    user_packet(p, kXHoA, Ipv4Addr(198, 51, 100, 77));
    env.mn_mip_encap(p, Ipv4Addr(192, 0, 2, 99), kXHa, kNatPortX);
    expect_drop(env, p, StageDrop::kCoaMismatch);
  }
  /* RFC 3519: the right address from another port is another mapping. */
  Env env({.roles = kRoleXha, .mip_udp = true});
  Pkt p;
  user_packet(p, kXHoA, Ipv4Addr(198, 51, 100, 77));
  env.mn_mip_encap(p, kNat, kXHa, kNatPortX + 1);
  expect_drop(env, p, StageDrop::kCoaMismatch);
}

TEST(Drops, NoBinding) {
  Env env({.roles = kRoleXha});
  Pkt p;
  user_packet(p, Ipv4Addr(203, 0, 113, 99), Ipv4Addr(198, 51, 100, 77));
  env.mn_mip_encap(p, kCoA, kXHa, 0);
  expect_drop(env, p, StageDrop::kNoBinding);
}

TEST(Drops, NoRoute) {
  Env env({.default_route = false});
  Pkt p;
  user_packet(p, kCn, Ipv4Addr(8, 8, 8, 8));
  expect_drop(env, p, StageDrop::kNoRoute);
}

/* TTL run out where no ICMP error may be sent (RFC 1812 4.3.2.7); the
 * errors themselves are in test_icmp.cc. */
TEST(Drops, TtlOneOnForwardAndOnEncapFromABadSource) {
  Env env;
  Pkt p;
  user_packet(p, Ipv4Addr(127, 0, 0, 1), Ipv4Addr(8, 8, 8, 8), 100, 1);
  expect_drop(env, p, StageDrop::kTtlExceeded);
  Pkt q;
  user_packet(q, Ipv4Addr(), kIHoA, 100, 1);
  expect_drop(env, q, StageDrop::kTtlExceeded);
  EXPECT_EQ(env.ctr().passed(Stage::kImipEncap), 0u);
  EXPECT_EQ(env.ctr().passed(Stage::kIcmpError), 0u);
}

TEST(Drops, TooBigAfterTheTripleEncap) {
  Env env;
  Pkt p;
  user_packet(p, kCn, kIHoA, 1450);
  expect_drop(env, p, StageDrop::kTooBig);
  Pkt q;
  user_packet(q, kCn, kIHoA, 1300);
  env.run(q);
  EXPECT_EQ(q.v.user, 0);
}

TEST(Drops, NoHeadroom) {
  Env env;
  Pkt p(10);
  user_packet(p, Ipv4Addr(198, 51, 100, 77), kXHoA);
  expect_drop(env, p, StageDrop::kNoHeadroom);
}

TEST(Drops, NoHeadroomForEsp) {
  Env env({.roles = kRoleVpnGw});
  Pkt p(30);
  user_packet(p, kCn, kVpnTia);
  expect_drop(env, p, StageDrop::kNoHeadroom);
  EXPECT_EQ(env.ctr().esp_outb(EspDrop::kNoRoom), 1u);
}

TEST(Drops, ClearTrafficFromOutsideStaysOutOfTheProtectedSide) {
  Env env;
  for (Ipv4Addr dst : {kCn, kIHoA, kVpnTia}) {
    Pkt p;
    user_packet(p, Ipv4Addr(198, 51, 100, 66), dst);
    const uint64_t before = env.ctr().drop(StageDrop::kUnprotected);
    env.run(p, 0);
    EXPECT_EQ(env.drop_of(p), StageDrop::kUnprotected) << dst.str();
    EXPECT_EQ(env.ctr().drop(StageDrop::kUnprotected), before + 1);
  }
  /* An unknown input port counts as external. */
  Pkt u;
  user_packet(u, Ipv4Addr(198, 51, 100, 66), kCn);
  env.run(u, 7);
  EXPECT_EQ(env.drop_of(u), StageDrop::kUnprotected);
  /* Outside to outside, and to an x-HoA (the x-HA's job), is fine. */
  Pkt x;
  user_packet(x, Ipv4Addr(198, 51, 100, 66), kXHoA);
  env.run(x, 0);
  EXPECT_EQ(x.v.user, 0);
  Pkt o;
  user_packet(o, Ipv4Addr(198, 51, 100, 66), Ipv4Addr(8, 8, 8, 8));
  env.run(o, 0);
  EXPECT_EQ(o.v.user, 0);
  /* Inside a spoofed IP-in-IP layer, the x-MIP decap alone does not make it protected. */
  Pkt t;
  user_packet(t, kXHoA, kCn);
  env.mn_mip_encap(t, kCoA, kXHa, 0);
  env.run(t, 0);
  EXPECT_EQ(env.drop_of(t), StageDrop::kUnprotected);
}

TEST(Drops, LoopBound) {
  /* kMaxPasses + 1 IP-in-IP layers from a home address whose binding names itself
   * as care-of address: every decap passes the reverse-tunnel check and
   * asks for another pass. */
  Env env({.roles = kRoleXha});
  Pkt p(512);
  user_packet(p, kLoopHome, Ipv4Addr(198, 51, 100, 77));
  for (uint32_t k = 0; k < ServerPipeline::kMaxPasses + 1; ++k) {
    const uint16_t len = static_cast<uint16_t>(p.v.data_len + kIpv4HdrLen);
    p.v.data_off -= kIpv4HdrLen;
    p.v.data_len = len;
    ipv4_build(p.v.bytes(), {.src = kLoopHome, .dst = kXHa, .total_len = len, .id = 1, .proto = kIpProtoIpip});
  }
  expect_drop(env, p, StageDrop::kLoop);
  EXPECT_EQ(env.ctr().passed(Stage::kXmipDecap), ServerPipeline::kMaxPasses);
}

TEST(Drops, FragmentToUs) {
  Env env;
  Pkt p;
  user_packet(p, kCoA, kXHa, 100, 64, kIpProtoIpip);
  ipv4_build(p.v.bytes(), {.src = kCoA, .dst = kXHa, .total_len = 100, .id = 1, .proto = kIpProtoIpip});
  p.v.data()[6] = std::byte{0x20};  /* MF */
  p.v.data()[10] = p.v.data()[11] = std::byte{0};
  const uint16_t c = ip_checksum(cbytes(p.v.data(), kIpv4HdrLen));
  store_be16(p.v.data() + 10, c);
  expect_drop(env, p, StageDrop::kFragment);
}

TEST(Drops, LocalTraffic) {
  Env env;
  Pkt p;
  user_packet(p, kCn, kInPort, 100, 64, kIpProtoIcmp);
  expect_drop(env, p, StageDrop::kLocalIcmp);
  Pkt q;
  user_packet(q, kCn, kInPort, 100, 64, 6);
  expect_drop(env, q, StageDrop::kLocalOther);
  Pkt r;  /* IP-in-IP to the gateway address: not a home agent's */
  user_packet(r, kCn, kVpnGw, 100, 64, kIpProtoIpip);
  expect_drop(env, r, StageDrop::kLocalOther);
}

TEST(Punts, RegistrationAndIke) {
  Env env;
  Pkt reg;
  udp_to(reg, kCoA, kXHa, kPortMip, {1, 0, 0, 0, 0, 0, 0, 0});
  env.run(reg);
  EXPECT_EQ(reg.v.user, kVerdictPunt);
  Pkt ireg;
  udp_to(ireg, kVpnTia, kIHa, kPortMip, {1, 0, 0, 0});
  env.run(ireg);
  EXPECT_EQ(ireg.v.user, kVerdictPunt);
  Pkt ike;
  udp_to(ike, kXHoA, kVpnGw, kPortIke, {1, 2, 3, 4, 5, 6, 7, 8});
  env.run(ike);
  EXPECT_EQ(ike.v.user, kVerdictPunt);
  Pkt ike4500;
  udp_to(ike4500, kXHoA, kVpnGw, kPortNatt, {0, 0, 0, 0, 1, 2, 3, 4});
  env.run(ike4500);
  EXPECT_EQ(ike4500.v.user, kVerdictPunt);
  Pkt other;  /* not tunnel data, not registration: the agent decides */
  udp_to(other, kCoA, kXHa, kPortMip, {});
  env.run(other);
  EXPECT_EQ(other.v.user, kVerdictPunt);
  EXPECT_EQ(env.ctr().passed(Stage::kPunt), 5u);
  /* IKE to a home agent address is not ours to take. */
  Pkt stray;
  udp_to(stray, kXHoA, kXHa, kPortIke, {1, 2, 3, 4});
  expect_drop(env, stray, StageDrop::kLocalOther);
}

TEST(Punts, BadUdpChecksumOnRegistrationIsDropped) {
  Env env;
  Pkt reg;
  udp_to(reg, kCoA, kXHa, kPortMip, {1, 0, 0, 0, 0, 0, 0, 0});
  reg.v.data()[kIpv4HdrLen + kUdpHdrLen + 1] ^= std::byte{1};
  expect_drop(env, reg, StageDrop::kBadChecksum);
}

TEST(Drops, NattKeepaliveQuietly) {
  Env env;
  Pkt ka;
  udp_to(ka, kXHoA, kVpnGw, kPortNatt, {0xff});
  expect_drop(env, ka, StageDrop::kNattKeepalive);
}

TEST(Drops, EveryReasonHasAName) {
  for (size_t d = 0; d < static_cast<size_t>(StageDrop::kCount); ++d)
    EXPECT_NE(to_string(static_cast<StageDrop>(d)), "unknown") << d;
  for (size_t s = 0; s < static_cast<size_t>(Stage::kCount); ++s)
    EXPECT_NE(to_string(static_cast<Stage>(s)), "unknown") << s;
}

TEST(Tables, NothingPublishedYetDropsEverything) {
  std::atomic<const StageTables*> none{nullptr};
  std::string err;
  auto pipe = ServerPipeline::create(none, &err);
  ASSERT_TRUE(pipe) << err;
  Pkt p;
  user_packet(p, kCn, kIHoA);
  PktView* v = &p.v;
  Ipv4Addr nh;
  pipe->process(&v, 1, 0, &nh);
  EXPECT_EQ(p.v.user, kVerdictDrop);
  EXPECT_EQ(pipe->counters().drop(StageDrop::kNoRoute), 1u);
}

TEST(Tables, LongestPrefixWinsAndBadConfigIsRefused) {
  Env env;
  std::string err;
  auto t = StageTablesBuilder()
               .port(kOutPort, 1500, PortZone::kExternal)
               .port(kInPort, 1500, PortZone::kInternal)
               .route({Ipv4Addr(), 0}, 0, kGwRouter)
               .route({Ipv4Addr(10, 20, 0, 0), 16}, 1)
               .route({Ipv4Addr(10, 0, 0, 0), 8}, 0, Ipv4Addr(10, 0, 0, 254))
               .build(&err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(t->route_lookup(kCn)->port, 1);
  EXPECT_EQ(t->route_lookup(Ipv4Addr(10, 30, 0, 1))->next_hop, Ipv4Addr(10, 0, 0, 254));
  EXPECT_EQ(t->route_lookup(Ipv4Addr(1, 1, 1, 1))->next_hop, kGwRouter);
  EXPECT_FALSE(StageTablesBuilder().route({Ipv4Addr(), 0}, 3).build(&err));
  EXPECT_NE(err.find("port 3"), std::string::npos) << err;
  EXPECT_FALSE(StageTablesBuilder().roles(kRoleXha).build(&err));
  EXPECT_FALSE(StageTablesBuilder().roles(kRoleVpnGw).gw_addr(kVpnGw).inbound_sa(env.gw_out.get(), {}).build(&err));
  EXPECT_FALSE(StageTablesBuilder()
                   .roles(kRoleVpnGw)
                   .gw_addr(kVpnGw)
                   .inbound_sa(env.gw_in.get(), {})
                   .inbound_sa(env.gw_in.get(), {})
                   .build(&err));
  EXPECT_NE(err.find("twice"), std::string::npos) << err;
}

}  // namespace
}  // namespace mipvpn::test
