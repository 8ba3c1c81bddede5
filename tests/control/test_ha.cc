/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The home agent (control/ha/home_agent.h): every reply code and silent
 * drop, bindings (create, renew, deregister, expiry, S bit, lifetime
 * clamp, T bit, encapsulation), the i-HA and x-HA rules of RFC 5265 and
 * the rate-limited log.
 */
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "ha_test_util.h"

using namespace mipvpn;
using namespace mipvpn::test;

namespace {

constexpr uint8_t code(MipReplyCode c) { return static_cast<uint8_t>(c); }

struct Ha {
  explicit Ha(HaConfig cfg = base_config()) : ha(std::move(cfg)) {
    HaMobileNode mn;
    mn.home = Ipv4Addr(10, 1, 0, 5);
    mn.nai = "mn5@example.org";
    mn.sa = test_sa();
    EXPECT_EQ(ha.add_mobile_node(mn), MipError::kOk);
    ha.set_log_sink([this](std::string_view l) { log.emplace_back(l); });
  }
  HaVerdict send(const ReqSpec& s, const RequestMeta& m = base_meta()) {
    const Bytes req = build_request(s);
    buf.assign(512, std::byte{0});
    const HaVerdict v = ha.process_request(req, m, buf);
    if (v.reply) buf.resize(v.len);
    return v;
  }
  ReplyView reply() {
    auto v = read_reply(buf);
    EXPECT_TRUE(v.has_value());
    return v.value_or(ReplyView{});
  }
  const Binding* binding(Ipv4Addr home = Ipv4Addr(10, 1, 0, 5)) { return ha.bindings().lookup(home); }

  HomeAgent ha;
  Bytes buf;
  std::vector<std::string> log;
};

/* ---- every refusal, table-driven ---- */

struct CodeCase {
  const char* name;
  std::function<void(HaConfig&)> cfg;
  std::function<void(ReqSpec&)> req;
  std::function<void(RequestMeta&)> meta;
  int want_code;            /* -1: no reply */
  HaDrop want_drop;
  bool want_signed;         /* the reply carries a valid MN-HA authenticator */
};

void none_cfg(HaConfig&) {}
void none_req(ReqSpec&) {}
void none_meta(RequestMeta&) {}

const std::vector<CodeCase>& code_cases() {
  static const std::vector<CodeCase> v = {
      {"accepted", none_cfg, none_req, none_meta, 0, HaDrop::kNone, true},
      {"unknown_skippable_ext_ignored", none_cfg,
       [](ReqSpec& s) { s.raw_before_auth.push_back({200, hex({1, 2, 3})}); }, none_meta, 0,
       HaDrop::kNone, true},
      {"128_care_of_multicast", none_cfg, [](ReqSpec& s) { s.rq.care_of = Ipv4Addr(224, 0, 0, 9); },
       none_meta, 128, HaDrop::kNone, true},
      {"129_udp_tunnel_declined", [](HaConfig& c) { c.udp_tunnel = HaUdpTunnelPolicy::kDecline; },
       [](ReqSpec& s) { s.utrq = MipUdpTunnelReq{}; },
       [](RequestMeta& m) { m.src = Ipv4Addr(198, 51, 100, 9); }, 129, HaDrop::kNone, true},
      {"129_mobile_node_disabled", none_cfg, [](ReqSpec& s) { s.rq.home_addr = Ipv4Addr(10, 1, 0, 6); },
       none_meta, 129, HaDrop::kNone, true},
      {"130_no_room_for_bindings", [](HaConfig& c) { c.max_bindings = 0; }, none_req, none_meta, 130,
       HaDrop::kNone, true},
      {"131_wrong_key", none_cfg,
       [](ReqSpec& s) {
         Bytes k(16, std::byte{0x77});
         s.sa.set_key(k);
       },
       none_meta, 131, HaDrop::kNone, true},
      {"131_wrong_spi", none_cfg, [](ReqSpec& s) { s.sa.spi = 0x2000; }, none_meta, 131,
       HaDrop::kNone, true},
      {"131_no_auth_extension", none_cfg, [](ReqSpec& s) { s.auth = false; }, none_meta, 131,
       HaDrop::kNone, true},
      {"131_unknown_mobile_node_unsigned", none_cfg,
       [](ReqSpec& s) { s.rq.home_addr = Ipv4Addr(10, 1, 0, 99); }, none_meta, 131, HaDrop::kNone,
       false},
      {"133_identification_too_old", none_cfg, [](ReqSpec& s) { s.rq.id = kNow - (uint64_t{100} << 32); },
       none_meta, 133, HaDrop::kNone, true},
      {"133_identification_in_future", none_cfg,
       [](ReqSpec& s) { s.rq.id = kNow + (uint64_t{8} << 32); }, none_meta, 133, HaDrop::kNone, true},
      {"134_truncated_in_extension", none_cfg, [](ReqSpec& s) { s.truncate = 3; }, none_meta, 134,
       HaDrop::kNone, true},
      {"134_duplicate_udp_tunnel_request", none_cfg,
       [](ReqSpec& s) {
         s.utrq = MipUdpTunnelReq{};
         s.raw_before_auth.push_back({144, hex({0, 0, 0, 4, 0, 0})});
       },
       none_meta, 134, HaDrop::kNone, true},
      {"134_care_of_is_home_with_lifetime", none_cfg,
       [](ReqSpec& s) { s.rq.care_of = s.rq.home_addr; }, none_meta, 134, HaDrop::kNone, true},
      {"134_care_of_zero", none_cfg, [](ReqSpec& s) { s.rq.care_of = Ipv4Addr(); }, none_meta, 134,
       HaDrop::kNone, true},
      {"136_unknown_home_agent", none_cfg, [](ReqSpec& s) { s.rq.home_agent = Ipv4Addr(10, 1, 255, 255); },
       none_meta, 136, HaDrop::kNone, true},
      {"137_reverse_tunnel_unavailable", [](HaConfig& c) { c.reverse_tunnel = false; },
       [](ReqSpec& s) { s.rq.t = true; }, none_meta, 137, HaDrop::kNone, true},
      {"138_reverse_tunnel_mandatory", [](HaConfig& c) { c.reverse_tunnel_required = true; },
       none_req, none_meta, 138, HaDrop::kNone, true},
      {"139_minimal_encapsulation", none_cfg, [](ReqSpec& s) { s.rq.m = true; }, none_meta, 139,
       HaDrop::kNone, true},
      {"139_gre", none_cfg, [](ReqSpec& s) { s.rq.g = true; }, none_meta, 139, HaDrop::kNone, true},
      {"142_udp_encapsulation_gre", none_cfg,
       [](ReqSpec& s) { s.utrq = MipUdpTunnelReq{.encap = kMipNextGre}; },
       [](RequestMeta& m) { m.src = Ipv4Addr(198, 51, 100, 9); }, 142, HaDrop::kNone, true},
      {"drop_unknown_non_skippable", none_cfg,
       [](ReqSpec& s) { s.raw_before_auth.push_back({100, hex({1, 2})}); }, none_meta, -1,
       HaDrop::kUnknownNonSkippable, false},
      {"drop_truncated_fixed_part", none_cfg,
       [](ReqSpec& s) {
         s.auth = false;
         s.truncate = 1;
       },
       none_meta, -1, HaDrop::kTruncated, false},
      {"drop_iha_untrusted", [](HaConfig& c) { c.role = HaRole::kIha; }, none_req, none_meta, -1,
       HaDrop::kUntrustedSource, false},
      {"drop_xha_internal_interface", [](HaConfig& c) { c.drop_from_internal = true; }, none_req,
       [](RequestMeta& m) { m.internal_iface = true; }, -1, HaDrop::kInternalInterface, false},
  };
  return v;
}

class ReplyCodes : public ::testing::TestWithParam<size_t> {};

TEST_P(ReplyCodes, Case) {
  const CodeCase& k = code_cases()[GetParam()];
  SCOPED_TRACE(k.name);
  HaConfig cfg = base_config();
  k.cfg(cfg);
  Ha h(cfg);
  HaMobileNode off;  /* for 129_mobile_node_disabled */
  off.home = Ipv4Addr(10, 1, 0, 6);
  off.sa = test_sa();
  off.enabled = false;
  ASSERT_EQ(h.ha.add_mobile_node(off), MipError::kOk);
  ReqSpec s = base_request();
  k.req(s);
  RequestMeta m = base_meta();
  k.meta(m);
  const HaVerdict v = h.send(s, m);
  if (k.want_code < 0) {
    EXPECT_FALSE(v.reply);
    EXPECT_EQ(v.drop, k.want_drop);
    EXPECT_EQ(h.ha.counters().drop(k.want_drop), 1u);
    EXPECT_EQ(h.binding(), nullptr);
    return;
  }
  ASSERT_TRUE(v.reply) << to_string(v.drop);
  EXPECT_EQ(v.code, k.want_code);
  const ReplyView r = h.reply();
  EXPECT_EQ(r.rp.code, k.want_code);
  EXPECT_EQ(h.ha.counters().replies[k.want_code], 1u);
  EXPECT_EQ(r.auth == MipError::kOk, k.want_signed) << to_string(r.auth);
  EXPECT_EQ(r.x.mn_ha.present, k.want_signed);
  /* The low 32 bits of the Identification always come back (5.7). */
  EXPECT_TRUE(mip_reply_id_matches(s.rq.id, r.rp.id));
  EXPECT_EQ(r.rp.home_addr, s.rq.home_addr);
  EXPECT_EQ(r.x.tnc, false);  /* x-HA: never TNC */
  if (mip_code_accepted(r.rp.code)) {
    EXPECT_EQ(r.rp.lifetime, 600);
    EXPECT_NE(h.binding(), nullptr);
  } else {
    EXPECT_EQ(r.rp.lifetime, 0);
    EXPECT_EQ(h.binding(), nullptr);
  }
  if (k.want_code == 133) {
    /* 5.7.1: our clock's seconds in the high half. */
    EXPECT_EQ(r.rp.id >> 32, kNow >> 32);
  } else {
    EXPECT_EQ(r.rp.id, s.rq.id);
  }
  if (k.want_code == 136) {
    EXPECT_EQ(r.rp.home_agent, Ipv4Addr(10, 1, 0, 1));  /* our address */
  } else {
    EXPECT_EQ(r.rp.home_agent, s.rq.home_agent);
  }
  if (k.want_code == 129 && s.utrq) {
    ASSERT_TRUE(r.x.has_udp_tun_rep);
    EXPECT_EQ(r.x.udp_tun_rep.code, static_cast<uint8_t>(MipUdpTunnelCode::kDeclined));
  } else if (k.want_code == 142) {
    ASSERT_TRUE(r.x.has_udp_tun_rep);
    EXPECT_EQ(r.x.udp_tun_rep.code, static_cast<uint8_t>(MipUdpTunnelCode::kDeclined));
  } else {
    EXPECT_FALSE(r.x.has_udp_tun_rep);
  }
}

INSTANTIATE_TEST_SUITE_P(Ha, ReplyCodes, ::testing::Range<size_t>(0, code_cases().size()),
                         [](const auto& i) { return std::string(code_cases()[i.param].name); });

/* ---- bindings ---- */

TEST(HaBinding, CreateRenewReplace) {
  Ha h;
  ReqSpec s = base_request();
  ASSERT_EQ(h.send(s).code, 0);
  const Binding* b = h.binding();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->n_coa, 1);
  EXPECT_EQ(b->coa[0].care_of, Ipv4Addr(192, 0, 2, 7));
  EXPECT_EQ(b->coa[0].expires_s, static_cast<uint32_t>((kNow >> 32) + 600));
  EXPECT_EQ(b->ha, Ipv4Addr(10, 1, 0, 1));
  EXPECT_FALSE(b->coa[0].reverse_tunnel());
  /* Renew 100 s later: same care-of address, new expiry. */
  s.rq.id = kNow + (uint64_t{100} << 32);
  RequestMeta m = base_meta();
  m.now_ntp = s.rq.id;
  ASSERT_EQ(h.send(s, m).code, 0);
  b = h.binding();
  EXPECT_EQ(b->n_coa, 1);
  EXPECT_EQ(b->coa[0].expires_s, static_cast<uint32_t>((kNow >> 32) + 700));
  /* S clear, another care-of address: replaces. */
  s.rq.id += 1;
  s.rq.care_of = Ipv4Addr(192, 0, 2, 8);
  m.src = s.rq.care_of;
  ASSERT_EQ(h.send(s, m).code, 0);
  b = h.binding();
  ASSERT_EQ(b->n_coa, 1);
  EXPECT_EQ(b->coa[0].care_of, Ipv4Addr(192, 0, 2, 8));
  EXPECT_EQ(h.ha.counters().registered, 3u);
}

TEST(HaBinding, SimultaneousBindingsAndOverflow) {
  Ha h;
  ReqSpec s = base_request();
  s.rq.s = true;
  RequestMeta m = base_meta();
  for (int i = 0; i < 4; ++i) {
    s.rq.id = kNow + i;
    s.rq.care_of = Ipv4Addr(192, 0, 2, static_cast<uint8_t>(10 + i));
    m.src = s.rq.care_of;
    ASSERT_EQ(h.send(s, m).code, 0) << i;
  }
  ASSERT_EQ(h.binding()->n_coa, 4);
  /* A fifth: 135 too many simultaneous bindings; nothing changes. */
  s.rq.id = kNow + 10;
  s.rq.care_of = Ipv4Addr(192, 0, 2, 99);
  EXPECT_EQ(h.send(s, m).code, 135);
  EXPECT_EQ(h.binding()->n_coa, 4);
  /* Renewing one of the four is fine. */
  s.rq.id = kNow + 11;
  s.rq.care_of = Ipv4Addr(192, 0, 2, 11);
  EXPECT_EQ(h.send(s, m).code, 0);
  EXPECT_EQ(h.binding()->n_coa, 4);
  /* Deregister one care-of address: the others stay. */
  s.rq.id = kNow + 12;
  s.rq.lifetime = 0;
  EXPECT_EQ(h.send(s, m).code, 0);
  const Binding* b = h.binding();
  ASSERT_EQ(b->n_coa, 3);
  EXPECT_EQ(b->find(Ipv4Addr(192, 0, 2, 11)), -1);
  EXPECT_EQ(h.reply().rp.lifetime, 0);
  /* Care-of = home address with lifetime 0: every binding goes. */
  s.rq.id = kNow + 13;
  s.rq.care_of = s.rq.home_addr;
  EXPECT_EQ(h.send(s, m).code, 0);
  EXPECT_EQ(h.binding(), nullptr);
  EXPECT_EQ(h.ha.counters().deregistered, 4u);
  /* Deregistering what does not exist is still accepted. */
  s.rq.id = kNow + 14;
  s.rq.care_of = Ipv4Addr(192, 0, 2, 50);
  EXPECT_EQ(h.send(s, m).code, 0);
}

TEST(HaBinding, SimultaneousUnsupportedAnswersOne) {
  HaConfig c = base_config();
  c.max_simultaneous = 1;
  Ha h(c);
  ReqSpec s = base_request();
  s.rq.s = true;
  ASSERT_EQ(h.send(s).code, 1);
  EXPECT_TRUE(mip_code_accepted(h.reply().rp.code));
  s.rq.id += 1;
  s.rq.care_of = Ipv4Addr(192, 0, 2, 8);
  ASSERT_EQ(h.send(s).code, 1);
  ASSERT_EQ(h.binding()->n_coa, 1);
  EXPECT_EQ(h.binding()->coa[0].care_of, Ipv4Addr(192, 0, 2, 8));
}

TEST(HaBinding, DeregisterWithoutSBit) {
  Ha h;
  ReqSpec s = base_request();
  ASSERT_EQ(h.send(s).code, 0);
  s.rq.id += 1;
  s.rq.lifetime = 0;
  ASSERT_EQ(h.send(s).code, 0);
  EXPECT_EQ(h.binding(), nullptr);
  EXPECT_EQ(h.ha.counters().deregistered, 1u);
}

TEST(HaBinding, LifetimeClampAndInfinite) {
  struct {
    uint16_t max, req, granted;
    bool infinite;
  } cases[] = {{1800, 5000, 1800, false}, {1800, 60, 60, false}, {1800, 0xffff, 1800, false},
               {0xffff, 0xffff, 0xffff, true}, {0xffff, 100, 100, false}};
  for (const auto& k : cases) {
    HaConfig c = base_config();
    c.max_lifetime = k.max;
    Ha h(c);
    ReqSpec s = base_request();
    s.rq.lifetime = k.req;
    ASSERT_EQ(h.send(s).code, 0);
    EXPECT_EQ(h.reply().rp.lifetime, k.granted) << k.max << " " << k.req;
    EXPECT_EQ(h.binding()->coa[0].infinite(), k.infinite);
    /* Far in the future only an infinite binding survives. */
    h.ha.expire(kNow + (uint64_t{100000} << 32));
    EXPECT_EQ(h.binding() != nullptr, k.infinite);
  }
}

TEST(HaBinding, Expiry) {
  Ha h;
  ReqSpec s = base_request();
  s.rq.s = true;
  RequestMeta m = base_meta();
  ASSERT_EQ(h.send(s, m).code, 0);  /* CoA .7 until now+600 */
  s.rq.id = kNow + (uint64_t{300} << 32);
  s.rq.care_of = Ipv4Addr(192, 0, 2, 8);
  m.now_ntp = s.rq.id;
  m.src = s.rq.care_of;
  ASSERT_EQ(h.send(s, m).code, 0);  /* CoA .8 until now+900 */
  EXPECT_EQ(h.ha.expire(kNow + (uint64_t{599} << 32)), 0u);
  EXPECT_EQ(h.binding()->n_coa, 2);
  EXPECT_EQ(h.ha.expire(kNow + (uint64_t{600} << 32)), 1u);
  ASSERT_EQ(h.binding()->n_coa, 1);
  EXPECT_EQ(h.binding()->coa[0].care_of, Ipv4Addr(192, 0, 2, 8));
  /* A renewal moves the expiry: the old queue entry is stale. */
  s.rq.id = kNow + (uint64_t{800} << 32);
  m.now_ntp = s.rq.id;
  ASSERT_EQ(h.send(s, m).code, 0);  /* until now+1400 */
  EXPECT_EQ(h.ha.expire(kNow + (uint64_t{900} << 32)), 0u);
  EXPECT_NE(h.binding(), nullptr);
  EXPECT_EQ(h.ha.expire(kNow + (uint64_t{1400} << 32)), 1u);
  EXPECT_EQ(h.binding(), nullptr);
  EXPECT_EQ(h.ha.counters().expired, 2u);
}

TEST(HaBinding, ReverseTunnelRecorded) {
  Ha h;
  ReqSpec s = base_request();
  s.rq.t = true;
  s.rq.d = true;
  ASSERT_EQ(h.send(s).code, 0);
  EXPECT_TRUE(h.binding()->coa[0].reverse_tunnel());
  EXPECT_TRUE(h.binding()->coa[0].flags & kBindDecapByMn);
}

/* ---- encapsulation: RFC 3519 ---- */

struct EncapCase {
  const char* name;
  HaUdpTunnelPolicy policy;
  bool utrq, f, nat;
  BindingEncap want;
  bool want_utrp;
};

TEST(HaEncap, Choice) {
  const EncapCase cases[] = {
      {"no_request_no_nat", HaUdpTunnelPolicy::kEnabled, false, false, false, BindingEncap::kIpIp, false},
      {"nat_but_no_request", HaUdpTunnelPolicy::kEnabled, false, false, true, BindingEncap::kIpIp, false},
      {"request_no_nat", HaUdpTunnelPolicy::kEnabled, true, false, false, BindingEncap::kIpIp, false},
      {"request_and_nat", HaUdpTunnelPolicy::kEnabled, true, false, true, BindingEncap::kUdp, true},
      {"request_forced", HaUdpTunnelPolicy::kEnabled, true, true, false, BindingEncap::kUdp, true},
      {"unsupported_skips_it", HaUdpTunnelPolicy::kUnsupported, true, true, true, BindingEncap::kIpIp, false},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.name);
    HaConfig c = base_config();
    c.udp_tunnel = k.policy;
    c.keepalive_s = 25;
    Ha h(c);
    ReqSpec s = base_request();
    if (k.utrq) s.utrq = MipUdpTunnelReq{.f = k.f};
    RequestMeta m = base_meta();
    if (k.nat) {
      m.src = Ipv4Addr(198, 51, 100, 9);
      m.src_port = 40001;
    }
    ASSERT_EQ(h.send(s, m).code, 0);
    const ReplyView r = h.reply();
    EXPECT_EQ(r.auth, MipError::kOk);
    const Binding* b = h.binding();
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->coa[0].encap, k.want);
    EXPECT_EQ(r.x.has_udp_tun_rep, k.want_utrp);
    if (k.want == BindingEncap::kUdp) {
      EXPECT_EQ(b->coa[0].peer, m.src);
      EXPECT_EQ(b->coa[0].peer_port, m.src_port);
      EXPECT_EQ(b->keepalive_s, 25);
      EXPECT_EQ(r.x.udp_tun_rep.code, 0);
      EXPECT_EQ(r.x.udp_tun_rep.keepalive, 25);
      /* The UDP Tunnel Reply lies before the authenticator: covered. */
      EXPECT_TRUE(mip_covered_by_mn_ha(r.x, r.x.mn_ha.offset));
      EXPECT_EQ(h.ha.counters().udp_tunnels, 1u);
    } else {
      EXPECT_EQ(b->coa[0].peer, s.rq.care_of);
      EXPECT_EQ(b->coa[0].peer_port, 0);
    }
  }
}

TEST(HaEncap, KeepaliveFollowsNatRebinding) {
  Ha h;
  ReqSpec s = base_request();
  s.utrq = MipUdpTunnelReq{};
  RequestMeta m = base_meta();
  m.src = Ipv4Addr(198, 51, 100, 9);
  m.src_port = 40001;
  ASSERT_EQ(h.send(s, m).code, 0);
  EXPECT_TRUE(h.ha.keepalive(s.rq.home_addr, s.rq.care_of, m.src, 40001));
  EXPECT_TRUE(h.ha.keepalive(s.rq.home_addr, s.rq.care_of, m.src, 40777));
  EXPECT_EQ(h.binding()->coa[0].peer_port, 40777);
  EXPECT_FALSE(h.ha.keepalive(s.rq.home_addr, Ipv4Addr(192, 0, 2, 99), m.src, 1));
  EXPECT_FALSE(h.ha.keepalive(Ipv4Addr(10, 1, 0, 77), s.rq.care_of, m.src, 1));
}

/* ---- replay ---- */

TEST(HaReplay, ReplayedRequestGets133) {
  Ha h;
  const ReqSpec s = base_request();
  ASSERT_EQ(h.send(s).code, 0);
  /* The same bytes again: not newer than the last accepted. */
  EXPECT_EQ(h.send(s).code, 133);
  const ReplyView r = h.reply();
  EXPECT_EQ(r.auth, MipError::kOk);
  EXPECT_EQ(r.rp.id, (kNow & ~0xffffffffULL) | (s.rq.id & 0xffffffffULL));
}

TEST(HaReplay, Nonces) {
  HaConfig c = base_config();
  HomeAgent ha(c);
  HaMobileNode mn;
  mn.home = Ipv4Addr(10, 1, 0, 5);
  mn.sa = test_sa();
  mn.sa.replay = MipReplayMethod::kNonces;
  ASSERT_EQ(ha.add_mobile_node(mn), MipError::kOk);
  ReqSpec s = base_request();
  s.rq.id = 0x1234;  /* no nonce from us yet */
  Bytes out(512);
  HaVerdict v = ha.process_request(build_request(s), base_meta(), out);
  ASSERT_EQ(v.code, 133);
  const auto r = read_reply(cbytes(out).first(v.len));
  ASSERT_TRUE(r);
  s.rq.id = mip_nonce_id(static_cast<uint32_t>(r->rp.id >> 32), 0x5678);
  v = ha.process_request(build_request(s), base_meta(), out);
  EXPECT_EQ(v.code, 0);
  /* The nonce is used up: the same request again is refused. */
  v = ha.process_request(build_request(s), base_meta(), out);
  EXPECT_EQ(v.code, 133);
}

/* ---- NAI ---- */

TEST(HaNai, LookupByNaiAndHomeAddressAssignment) {
  Ha h;
  ReqSpec s = base_request();
  s.rq.home_addr = Ipv4Addr();
  s.nai = "mn5@example.org";
  ASSERT_EQ(h.send(s).code, 0);
  EXPECT_EQ(h.reply().rp.home_addr, Ipv4Addr(10, 1, 0, 5));
  EXPECT_NE(h.binding(), nullptr);
  /* An NAI does not authorise another home address. */
  s.rq.id += 1;
  s.rq.home_addr = Ipv4Addr(10, 1, 0, 50);
  EXPECT_EQ(h.send(s).code, 131);
}

TEST(HaNai, ConfigurationErrors) {
  HomeAgent ha(base_config());
  HaMobileNode mn;
  mn.sa = test_sa();
  EXPECT_EQ(ha.add_mobile_node(mn), MipError::kKeyEmpty);  /* neither home nor NAI */
  mn.home = Ipv4Addr(10, 1, 0, 5);
  EXPECT_EQ(ha.add_mobile_node(mn), MipError::kOk);
  EXPECT_EQ(ha.add_mobile_node(mn), MipError::kDuplicateExt);
  mn.home = Ipv4Addr(10, 1, 0, 6);
  mn.sa.spi = 5;
  EXPECT_EQ(ha.add_mobile_node(mn), MipError::kBadSpi);
  HaConfig c;
  EXPECT_THROW(HomeAgent{c}, std::invalid_argument);  /* no address */
  c = base_config();
  c.max_simultaneous = 5;
  EXPECT_THROW(HomeAgent{c}, std::invalid_argument);
}

/* ---- RFC 5265: i-HA, x-HA ---- */

HaConfig iha_config() {
  HaConfig c = base_config();
  c.role = HaRole::kIha;
  c.trusted = {*Ipv4Prefix::parse("192.0.2.0/24"), *Ipv4Prefix::parse("10.200.0.0/16")};
  return c;
}

TEST(HaIha, TrustedSourceGetsAuthenticatedTnc) {
  Ha h(iha_config());
  const ReqSpec s = base_request();
  ASSERT_EQ(h.send(s).code, 0);
  const ReplyView r = h.reply();
  EXPECT_TRUE(r.x.tnc);
  EXPECT_TRUE(r.x.tnc_before_auth);
  EXPECT_TRUE(r.tnc_authenticated);
  /* A refusal to a trusted source carries it too (4.3: every reply). */
  EXPECT_EQ(h.send(s).code, 133);
  EXPECT_TRUE(h.reply().tnc_authenticated);
  EXPECT_TRUE(h.log.empty());
}

TEST(HaIha, UntrustedSourceSilentAndOneLogLine) {
  Ha h(iha_config());
  ReqSpec s = base_request();
  s.nai = "mn5@example.org";
  RequestMeta m = base_meta();
  m.src = Ipv4Addr(203, 0, 113, 8);
  m.src_port = 5555;
  const HaVerdict v = h.send(s, m);
  EXPECT_FALSE(v.reply);
  EXPECT_EQ(v.drop, HaDrop::kUntrustedSource);
  ASSERT_EQ(h.log.size(), 1u);
  EXPECT_NE(h.log[0].find("203.0.113.8"), std::string::npos) << h.log[0];
  EXPECT_NE(h.log[0].find("home=10.1.0.5"), std::string::npos) << h.log[0];
  EXPECT_NE(h.log[0].find("nai=mn5@example.org"), std::string::npos) << h.log[0];
  EXPECT_EQ(h.binding(), nullptr);
  /* Even a malformed request from an untrusted source is only logged. */
  Bytes junk = hex({1, 2});
  Bytes out(64);
  EXPECT_FALSE(h.ha.process_request(junk, m, out).reply);
  EXPECT_EQ(h.ha.counters().drop(HaDrop::kUntrustedSource), 2u);
}

TEST(HaIha, EmptyTrustedListTrustsNothing) {
  HaConfig c = iha_config();
  c.trusted.clear();
  Ha h(c);
  EXPECT_FALSE(h.send(base_request()).reply);
  EXPECT_EQ(h.log.size(), 1u);
}

TEST(HaIha, LogFloodIsRateLimited) {
  HaConfig c = iha_config();
  c.log_rate_per_s = 1;
  c.log_burst = 5;
  Ha h(c);
  RequestMeta m = base_meta();
  m.src = Ipv4Addr(203, 0, 113, 8);
  const Bytes req = build_request(base_request());
  Bytes out(256);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(h.ha.process_request(req, m, out).reply);
  EXPECT_EQ(h.log.size(), 5u);
  EXPECT_EQ(h.ha.counters().drop(HaDrop::kUntrustedSource), 1000u);
  m.now_ntp += uint64_t{1} << 32;  /* one second later: one more line, with the count */
  for (int i = 0; i < 10; ++i) h.ha.process_request(req, m, out);
  ASSERT_EQ(h.log.size(), 6u);
  EXPECT_NE(h.log[5].find("suppressed 995"), std::string::npos) << h.log[5];
  EXPECT_EQ(h.ha.log().suppressed_total(), 1004u);
}

TEST(HaXha, InternalInterfaceOnlyWhenConfigured) {
  HaConfig c = base_config();
  Ha plain(c);
  RequestMeta m = base_meta();
  m.internal_iface = true;
  EXPECT_EQ(plain.send(base_request(), m).code, 0);  /* default: not dropped */
  c.drop_from_internal = true;
  Ha strict(c);
  EXPECT_FALSE(strict.send(base_request(), m).reply);
  EXPECT_EQ(strict.log.size(), 1u);
  m.internal_iface = false;
  EXPECT_EQ(strict.send(base_request(), m).code, 0);
  /* An x-HA never adds TNC. */
  EXPECT_FALSE(strict.reply().x.tnc);
}

/* ---- odds and ends ---- */

TEST(Ha, ReplyBufferTooSmall) {
  Ha h;
  const Bytes req = build_request(base_request());
  Bytes out(30);
  const HaVerdict v = h.ha.process_request(req, base_meta(), out);
  EXPECT_FALSE(v.reply);
  EXPECT_EQ(v.drop, HaDrop::kNoRoom);
}

TEST(Ha, NotARequest) {
  Ha h;
  Bytes rep(24);
  rep[0] = std::byte{3};
  Bytes out(64);
  EXPECT_EQ(h.ha.process_request(rep, base_meta(), out).drop, HaDrop::kBadType);
  EXPECT_EQ(h.ha.process_request({}, base_meta(), out).drop, HaDrop::kTruncated);
}

TEST(Ha, PrefixParse) {
  EXPECT_TRUE(Ipv4Prefix::parse("10.0.0.0/8"));
  EXPECT_TRUE(Ipv4Prefix::parse("10.1.2.3"));
  EXPECT_FALSE(Ipv4Prefix::parse("10.0.0.1/8"));  /* host bits */
  EXPECT_FALSE(Ipv4Prefix::parse("10.0.0.0/33"));
  EXPECT_FALSE(Ipv4Prefix::parse("10.0.0.0/"));
  EXPECT_TRUE(Ipv4Prefix::parse("0.0.0.0/0")->contains(Ipv4Addr(1, 2, 3, 4)));
  EXPECT_FALSE(Ipv4Prefix::parse("10.0.0.0/8")->contains(Ipv4Addr(11, 0, 0, 1)));
}

TEST(Ha, DropNamesAreDistinct) {
  for (size_t i = 0; i < static_cast<size_t>(HaDrop::kCount); ++i)
    for (size_t j = i + 1; j < static_cast<size_t>(HaDrop::kCount); ++j)
      EXPECT_NE(to_string(static_cast<HaDrop>(i)), to_string(static_cast<HaDrop>(j)));
}

}  // namespace
