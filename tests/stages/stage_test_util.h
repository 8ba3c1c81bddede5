/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The server appliance under test: the cast of RFC 5265 Appendix A (as in
 * dataplane/demo/demo.cc), its bindings, SAs and tables, and the mobile
 * node's side of each layer built with the codecs.
 */
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "codec/ipip.h"
#include "codec/ipv4.h"
#include "codec/mip_tunnel.h"
#include "codec/udp.h"
#include "crypto/esp.h"
#include "ha/binding_table.h"
#include "stages/server_pipeline.h"

namespace mipvpn::test {

inline const Ipv4Addr kIHoA(10, 10, 0, 5);      /* home address at the i-HA */
inline const Ipv4Addr kCn(10, 20, 0, 9);        /* correspondent in the intranet */
inline const Ipv4Addr kVpnTia(10, 99, 0, 5);    /* VPN tunnel inner address */
inline const Ipv4Addr kIHa(10, 10, 0, 1);       /* internal home agent */
inline const Ipv4Addr kXHoA(203, 0, 113, 5);    /* home address at the x-HA */
inline const Ipv4Addr kVpnGw(198, 51, 100, 1);  /* VPN gateway */
inline const Ipv4Addr kCoA(192, 0, 2, 77);      /* care-of address, outside */
inline const Ipv4Addr kXHa(198, 51, 100, 10);   /* external home agent */
inline const Ipv4Addr kNat(192, 0, 2, 200);     /* the NAT in front of the CoA */
inline const Ipv4Addr kOutPort(198, 51, 100, 2);  /* port 0, outside */
inline const Ipv4Addr kInPort(10, 20, 0, 1);      /* port 1, intranet */
inline const Ipv4Addr kGwRouter(198, 51, 100, 254);
inline const Ipv4Addr kLoopHome(192, 0, 2, 50);   /* a binding whose CoA is itself */
inline constexpr uint16_t kNatPortX = 49152;      /* x-MIP UDP: the NAT's port */
inline constexpr uint16_t kNatPortI = 49153;      /* i-MIP UDP: the MN's port inside */
inline constexpr uint32_t kSpiIn = 0x1001, kSpiOut = 0x2002;

/* A buffer like an mbuf: 256 bytes of headroom. */
struct Pkt {
  std::vector<std::byte> mem;
  PktView v;
  explicit Pkt(uint32_t headroom = 256, uint32_t cap = 4096) : mem(cap) {
    v.buf = mem.data();
    v.buf_len = cap;
    v.data_off = headroom;
  }
  Pkt(const Pkt& o) : mem(o.mem), v(o.v) { v.buf = mem.data(); }
  Pkt& operator=(const Pkt&) = delete;
  std::vector<uint8_t> bytes() const {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    return {p, p + v.data_len};
  }
  Ipv4Info ip() const {
    auto r = ipv4_parse(cbytes(v.bytes()));
    EXPECT_TRUE(r.ok()) << to_string(r.error());
    return r.ok() ? *r : Ipv4Info{};
  }
};

/* A user datagram: IPv4 / UDP 40000 -> 5001 / payload. */
inline void user_packet(Pkt& p, Ipv4Addr src, Ipv4Addr dst, uint32_t size = 200, uint8_t ttl = 64,
                        uint8_t proto = kIpProtoUdp) {
  p.v.data_len = size;
  std::byte* d = p.v.data();
  ipv4_build({d, size}, {.src = src, .dst = dst, .total_len = static_cast<uint16_t>(size), .id = 77,
                         .proto = proto, .ttl = ttl});
  udp_build({d + kIpv4HdrLen, size - kIpv4HdrLen}, 40000, 5001, static_cast<uint16_t>(size - kIpv4HdrLen));
  for (uint32_t i = kIpv4HdrLen + kUdpHdrLen; i < size; ++i) d[i] = std::byte(i * 7);
}

/* The datagram as forwarded: TTL one less, checksum updated. */
inline std::vector<uint8_t> forwarded(std::vector<uint8_t> b) {
  b[8] = static_cast<uint8_t>(b[8] - 1);
  b[10] = b[11] = 0;
  const uint16_t c = ip_checksum(cbytes(reinterpret_cast<const std::byte*>(b.data()), kIpv4HdrLen));
  b[10] = static_cast<uint8_t>(c >> 8);
  b[11] = static_cast<uint8_t>(c);
  return b;
}

struct EnvOpts {
  uint8_t roles = kRoleXha | kRoleVpnGw | kRoleIha;
  std::string suite = "aes-128-gcm";
  bool mip_udp = false;    /* RFC 3519 bindings for both home agents */
  bool natt = false;       /* RFC 3948 on the SAs */
  bool default_route = true;
  uint16_t mtu = 1500;
  uint32_t icmp_rate = kIcmpDefaultRate;
  uint32_t icmp_burst = kIcmpDefaultBurst;
};

class Env {
 public:
  explicit Env(const EnvOpts& o = {}) : o_(o), rc_(q_), xb_(rc_, 16), ib_(rc_, 16) {
    const EspSuite* s = esp_suite_by_name(o.suite);
    EXPECT_TRUE(s) << o.suite;
    /* IKE would negotiate these with the x-HoA as the node's IPsec address (RFC 5265 2.3). */
    mn_out = sa(EspDir::kOutbound, kSpiIn, kXHoA, kVpnGw, *s);
    gw_in = sa(EspDir::kInbound, kSpiIn, kXHoA, kVpnGw, *s);
    gw_out = sa(EspDir::kOutbound, kSpiOut, kVpnGw, kXHoA, *s);
    mn_in = sa(EspDir::kInbound, kSpiOut, kVpnGw, kXHoA, *s);
    bind(xb_, kXHoA, kXHa, o.mip_udp ? kNat : kCoA, o.mip_udp ? kNatPortX : 0);
    bind(xb_, kLoopHome, kXHa, kLoopHome, 0);
    bind(ib_, kIHoA, kIHa, kVpnTia, o.mip_udp ? kNatPortI : 0);
    std::string err;
    tables_ = builder(true).build(&err);
    EXPECT_TRUE(tables_) << err;
    pub_.store(tables_.get());
    pipe = ServerPipeline::create(pub_, &err);
    EXPECT_TRUE(pipe) << err;
    eng = EspEngine::create(&err);
    EXPECT_TRUE(eng) << err;
  }

  /* The tables of the constructor; without the outbound SA's SPD entry
   * when spd is false. */
  StageTablesBuilder builder(bool spd) const {
    StageTablesBuilder b;
    b.roles(o_.roles)
        .xha_addr(kXHa)
        .iha_addr(kIHa)
        .gw_addr(kVpnGw)
        .port(kOutPort, o_.mtu, PortZone::kExternal)
        .port(kInPort, o_.mtu, PortZone::kInternal)
        .xha_bindings(&xb_)
        .iha_bindings(&ib_)
        .inbound_sa(gw_in.get(), {kVpnTia, 32})
        .route({Ipv4Addr(10, 0, 0, 0), 8}, 1)
        .icmp_errors(o_.icmp_rate, o_.icmp_burst);
    if (spd) b.outbound_sa({kVpnTia, 32}, gw_out.get());
    if (o_.default_route) b.route({Ipv4Addr(), 0}, 0, kGwRouter);
    return b;
  }
  /* Publish new tables (no packet is in flight in a test: the old ones go at once). */
  void publish(std::unique_ptr<const StageTables> t) {
    pub_.store(t.get());
    tables_ = std::move(t);
  }
  const std::atomic<const StageTables*>& published() const { return pub_; }
  /* (Re)bind home at the x-HA / i-HA to an IP-in-IP care-of address, or unbind it. */
  void bind_x(Ipv4Addr home, Ipv4Addr coa) { bind(xb_, home, kXHa, coa, 0); }
  void bind_i(Ipv4Addr home, Ipv4Addr coa) { bind(ib_, home, kIHa, coa, 0); }
  bool unbind_x(Ipv4Addr home) { return xb_.remove(home); }
  bool unbind_i(Ipv4Addr home) { return ib_.remove(home); }

  /* Process one packet that came in on in_port (0 outside, 1 intranet); returns its verdict. */
  uint16_t run(Pkt& p, uint16_t in_port = 1) {
    PktView* v = &p.v;
    pipe->process(&v, 1, in_port, &nh);
    return p.v.user;
  }
  StageDrop drop_of(const Pkt& p) const { return static_cast<StageDrop>(p.v.drop); }
  const StageCounters& ctr() const { return pipe->counters(); }

  /* ---- the mobile node's side ---- */
  void mn_mip_encap(Pkt& p, Ipv4Addr src, Ipv4Addr dst, uint16_t sport) {
    CodecError e = o_.mip_udp
                       ? mip_tunnel_encap(p.v, {.src = src, .dst = dst, .sport = sport, .dport = kPortMip, .id = 9})
                       : ipip_encap(p.v, {.src = src, .dst = dst, .id = 9});
    ASSERT_EQ(e, CodecError::kOk) << to_string(e);
  }
  void mn_esp_out(Pkt& p) {
    PktView* v = &p.v;
    ASSERT_EQ(esp_outb_process(*eng, *mn_out, &v, 1), 1) << to_string(EspDrop(p.v.drop));
  }
  /* cvc (RFC 5265 2.3): user -> i-MIP (TIA -> i-HA) -> ESP -> x-MIP (CoA/NAT -> x-HA). */
  void mn_cvc(Pkt& p) {
    mn_mip_encap(p, kVpnTia, kIHa, kNatPortI);
    mn_esp_out(p);
    mn_mip_encap(p, o_.mip_udp ? kNat : kCoA, kXHa, kNatPortX);
  }

  std::unique_ptr<EspSa> mn_out, gw_in, gw_out, mn_in;
  std::unique_ptr<EspEngine> eng;
  std::unique_ptr<ServerPipeline> pipe;
  Ipv4Addr nh;

 private:
  std::unique_ptr<EspSa> sa(EspDir dir, uint32_t spi, Ipv4Addr src, Ipv4Addr dst, const EspSuite& s) {
    static const uint8_t key[36] = {0x4c, 0x80, 0xcd, 0xef, 0xbb, 0x5d, 0x10, 0xda, 0x90, 0x6a, 0xc7, 0x3c,
                                    0x36, 0x13, 0xa6, 0x34, 0x2e, 0x44, 0x3b, 0x68, 0x4c, 0x80, 0xcd, 0xef,
                                    0xbb, 0x5d, 0x10, 0xda, 0x90, 0x6a, 0xc7, 0x3c, 0x36, 0x13, 0xa6, 0x34};
    static const uint8_t akey[32] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                     0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
    EspSaConfig c;
    c.spi = spi;
    c.dir = dir;
    c.suite = &s;
    c.cipher_key = {key, size_t{s.key_len} + s.salt_len};
    c.auth_key = {akey, s.auth_key_len};
    c.tun_src = src;
    c.tun_dst = dst;
    c.replay_window = 64;
    if (o_.natt) c.natt_sport = c.natt_dport = kPortNatt;
    std::string err;
    auto r = EspSa::create(c, &err);
    EXPECT_TRUE(r) << err;
    return r;
  }
  static void bind(BindingTable& t, Ipv4Addr home, Ipv4Addr ha, Ipv4Addr peer, uint16_t port) {
    Binding* b = t.alloc();
    ASSERT_TRUE(b);
    b->home = home;
    b->ha = ha;
    b->n_coa = 1;
    b->coa[0].care_of = port ? Ipv4Addr(192, 0, 2, 77) : peer;
    b->coa[0].peer = peer;
    b->coa[0].peer_port = port;
    b->coa[0].encap = port ? BindingEncap::kUdp : BindingEncap::kIpIp;
    b->coa[0].flags = kBindReverseTunnel | kBindInfinite;
    ASSERT_TRUE(t.publish(b));
  }

  EnvOpts o_;
  Qsbr q_;
  QsbrReclaimer rc_;
  BindingTable xb_, ib_;
  std::unique_ptr<const StageTables> tables_;
  std::atomic<const StageTables*> pub_{nullptr};
};

/* A VPN gateway case for parameterised tests: suite, RFC 3948 UDP or not;
 * gw_case_name gives gtest a name such as aes_128_gcm_natt. */
struct GwCase {
  const char* suite;
  bool natt;
};
inline std::string gw_case_name(const ::testing::TestParamInfo<GwCase>& i) {
  std::string s = i.param.suite;
  for (char& ch : s) ch = ch == '-' ? '_' : ch;
  return s + (i.param.natt ? "_natt" : "");
}

}  // namespace mipvpn::test
