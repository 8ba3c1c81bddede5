/* SPDX-License-Identifier: BSD-3-Clause */
/* mipvpnctl's JSON reader and command line, the telemetry command
 * parameter parser (shared by the daemon and mipvpnctl) and the channel
 * from the telemetry threads to the control thread. No EAL. */
#include <gtest/gtest.h>

#include <thread>

#include "mipvpnctl/client.h"
#include "mipvpnctl/json.h"
#include "mipvpnd/ctl_channel.h"
#include "mipvpnd/ctl_params.h"
#include "ha/home_agent.h"
#include "mip/replay.h"

namespace mipvpn {
namespace {

std::optional<Json> J(std::string_view s) {
  std::string e;
  return json_parse(s, &e);
}

TEST(Json, TelemetryAnswer) {
  auto j = J(R"({"/mipvpn/stats": {"ports": {"rx": 18446744073709551615, "tx": 0}, "x": -5, "s": "a\"b\u00e9"}})");
  ASSERT_TRUE(j);
  const Json* st = j->get("/mipvpn/stats");
  ASSERT_TRUE(st && st->is_object());
  const Json* rx = st->get("ports")->get("rx");
  ASSERT_EQ(rx->type, Json::Type::kUint);
  EXPECT_EQ(rx->u, UINT64_MAX);  /* exact, not through a double */
  EXPECT_EQ(st->get("x")->type, Json::Type::kInt);
  EXPECT_EQ(st->get("x")->i, -5);
  EXPECT_EQ(st->get("s")->s, "a\"b\xc3\xa9");
  EXPECT_EQ(st->get("nothing"), nullptr);
}

TEST(Json, ScalarsArraysAndOrder) {
  auto j = J(R"( {"b": [1, 2.5, true, false, null, "x", [], {}], "a": 1e3} )");
  ASSERT_TRUE(j);
  ASSERT_EQ(j->obj.size(), 2u);
  EXPECT_EQ(j->obj[0].first, "b");  /* member order kept */
  const Json& a = j->obj[0].second;
  ASSERT_EQ(a.arr.size(), 8u);
  EXPECT_EQ(a.arr[1].type, Json::Type::kDouble);
  EXPECT_DOUBLE_EQ(a.arr[1].d, 2.5);
  EXPECT_TRUE(a.arr[2].b);
  EXPECT_EQ(a.arr[4].type, Json::Type::kNull);
  EXPECT_EQ(j->get("a")->type, Json::Type::kDouble);
  EXPECT_EQ(J("\"\\ud83d\\ude00\"")->s, "\xf0\x9f\x98\x80");
}

TEST(Json, BadInputIsAnErrorWithItsOffset) {
  for (const char* bad : {"", "{", "{\"a\" 1}", "{\"a\":1,}", "[1 2]", "01", "-", "1.", "1e", "\"abc",
                          "\"\\q\"", "\"\\ud800\"", "tru", "{} x", "\"a\nb\"", "{1:2}"}) {
    std::string e;
    EXPECT_FALSE(json_parse(bad, &e)) << bad;
    EXPECT_NE(e.find("offset"), std::string::npos) << bad;
  }
  std::string deep(100, '[');
  EXPECT_FALSE(J(deep));  /* bounded depth, no stack overflow */
}

TEST(CtlParams, Words) {
  auto w = ctl_words(" a,b  c,,d ");
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0], "a");
  EXPECT_EQ(w[3], "d");
  EXPECT_TRUE(ctl_words("").empty());
  uint32_t v = 0;
  EXPECT_TRUE(parse_u32_word("0x1001", v));
  EXPECT_EQ(v, 0x1001u);
  EXPECT_TRUE(parse_u32_word("4294967295", v));
  EXPECT_FALSE(parse_u32_word("4294967296", v));
  EXPECT_FALSE(parse_u32_word("0x", v));
  EXPECT_FALSE(parse_u32_word("0x123456789", v));
  EXPECT_FALSE(parse_u32_word("-1", v));
  std::vector<uint8_t> b;
  EXPECT_TRUE(parse_hex_bytes("0xA0ff", b));
  EXPECT_EQ(b, (std::vector<uint8_t>{0xa0, 0xff}));
  EXPECT_FALSE(parse_hex_bytes("abc", b));
  EXPECT_FALSE(parse_hex_bytes("zz", b));
}

TEST(CtlParams, SaAdd) {
  SaAddParams p;
  std::string e;
  ASSERT_TRUE(parse_sa_add("0x2001 out aes-128-cbc-sha1 000102030405060708090a0b0c0d0e0f 192.0.2.1 192.0.2.2 "
                           "10.99.0.0/16 auth-key 0x0102030405060708090a0b0c0d0e0f1011121314 esn window 128 "
                           "natt 4500 4501",
                           p, &e))
      << e;
  EXPECT_EQ(p.spi, 0x2001u);
  EXPECT_FALSE(p.inbound);
  EXPECT_EQ(p.suite, "aes-128-cbc-sha1");
  EXPECT_EQ(p.key.size(), 16u);
  EXPECT_EQ(p.auth_key.size(), 20u);
  EXPECT_EQ(p.src.str(), "192.0.2.1");
  EXPECT_EQ(p.selector.len, 16);
  EXPECT_TRUE(p.esn);
  EXPECT_EQ(p.window, 128u);
  EXPECT_EQ(p.natt_sport, 4500);
  EXPECT_EQ(p.natt_dport, 4501);
  /* Commas work too (dpdk-telemetry.py users). */
  ASSERT_TRUE(parse_sa_add("4097,in,aes-128-gcm,00112233445566778899aabbccddeeff00112233,1.1.1.1,2.2.2.2,"
                           "10.0.0.5/32",
                           p, &e));
  EXPECT_TRUE(p.inbound);
  EXPECT_FALSE(p.esn);
  struct Bad {
    const char* params;
    const char* says;
  };
  for (const Bad& b : std::initializer_list<Bad>{
           {"0x2001 out aes-128-gcm 00", "wants SPI"},
           {"255 out s 00 1.1.1.1 2.2.2.2 10.0.0.0/8", "reserved"},
           {"x out s 00 1.1.1.1 2.2.2.2 10.0.0.0/8", "SPI must"},
           {"300 up s 00 1.1.1.1 2.2.2.2 10.0.0.0/8", "direction"},
           {"300 in s 0g 1.1.1.1 2.2.2.2 10.0.0.0/8", "KEY"},
           {"300 in s 00 1.1.1 2.2.2.2 10.0.0.0/8", "SRC"},
           {"300 in s 00 1.1.1.1 2.2.2.2 10.0.0.0/33", "SELECTOR"},
           {"300 in s 00 1.1.1.1 2.2.2.2 10.0.0.0/8 window", "unknown or incomplete"},
           {"300 in s 00 1.1.1.1 2.2.2.2 10.0.0.0/8 window 99999", "window"},
           {"300 in s 00 1.1.1.1 2.2.2.2 10.0.0.0/8 natt 0 4500", "natt SPORT"},
           {"300 in s 00 1.1.1.1 2.2.2.2 10.0.0.0/8 bogus", "unknown"},
       }) {
    e.clear();
    EXPECT_FALSE(parse_sa_add(b.params, p, &e)) << b.params;
    EXPECT_NE(e.find(b.says), std::string::npos) << b.params << " -> " << e;
  }
}

TEST(CtlParams, SaDelBindingsResult) {
  SaDelParams d;
  std::string e;
  ASSERT_TRUE(parse_sa_del("0x1001 in", d, &e));
  EXPECT_EQ(d.spi, 0x1001u);
  EXPECT_TRUE(d.inbound);
  EXPECT_FALSE(parse_sa_del("0x1001", d, &e));
  EXPECT_FALSE(parse_sa_del("0x1001 in extra", d, &e));

  BindingsParams b;
  ASSERT_TRUE(parse_bindings("", b, &e));
  EXPECT_TRUE(b.both);
  ASSERT_TRUE(parse_bindings("iha 96", b, &e));
  EXPECT_FALSE(b.both);
  EXPECT_EQ(b.ha, HaSel::kIha);
  EXPECT_EQ(b.from, 96u);
  EXPECT_FALSE(parse_bindings("mn", b, &e));
  EXPECT_FALSE(parse_bindings("xha x", b, &e));

  uint64_t id = 0;
  ASSERT_TRUE(parse_result_id("17", id, &e));
  EXPECT_EQ(id, 17u);
  EXPECT_FALSE(parse_result_id("0", id, &e));
  EXPECT_FALSE(parse_result_id("", id, &e));
}

TEST(CtlParams, Bindings) {
  BindingAddParams p;
  std::string e;
  ASSERT_TRUE(parse_binding_add("iha 10.1.5.5 10.99.0.5 udp 198.51.100.50 4500 lifetime 600", p, &e)) << e;
  EXPECT_EQ(p.ha, HaSel::kIha);
  EXPECT_TRUE(p.udp);
  EXPECT_EQ(p.peer.str(), "198.51.100.50");
  EXPECT_EQ(p.port, 4500);
  EXPECT_EQ(p.lifetime_s, 600u);
  ASSERT_TRUE(parse_binding_add("xha 198.51.100.50 192.0.2.77", p, &e));
  EXPECT_FALSE(p.udp);
  EXPECT_EQ(p.lifetime_s, 0u);  /* infinite */
  for (const char* bad : {"xha 1.2.3.4", "mha 1.2.3.4 5.6.7.8", "xha 0.0.0.0 5.6.7.8", "xha 1.2.3.4 1.2.3.4",
                          "xha 1.2.3.4 0.0.0.0", "xha 1.2.3.4 5.6.7.8 udp 9.9.9.9", "xha 1.2.3.4 5.6.7.8 udp 9.9.9.9 0",
                          "xha 1.2.3.4 5.6.7.8 lifetime 65535", "xha 1.2.3.4 5.6.7.8 fast"}) {
    e.clear();
    EXPECT_FALSE(parse_binding_add(bad, p, &e)) << bad;
    EXPECT_FALSE(e.empty()) << bad;
  }
  BindingDelParams d;
  ASSERT_TRUE(parse_binding_del("xha 198.51.100.50", d, &e));
  EXPECT_EQ(d.home.str(), "198.51.100.50");
  EXPECT_FALSE(parse_binding_del("xha", d, &e));
}

std::vector<std::string_view> A(std::initializer_list<const char*> l) {
  return std::vector<std::string_view>(l.begin(), l.end());
}

TEST(CtlArgs, ReadsAndChanges) {
  CtlArgs a;
  std::string e;
  ASSERT_TRUE(parse_ctl_args(A({"--file-prefix", "p1", "stats"}), a, &e)) << e;
  EXPECT_EQ(a.command, "/mipvpn/stats");
  EXPECT_EQ(a.file_prefix, "p1");
  EXPECT_FALSE(a.change);
  ASSERT_TRUE(parse_ctl_args(A({"--json", "bindings", "iha"}), a, &e));
  EXPECT_EQ(a.command, "/mipvpn/bindings");
  EXPECT_EQ(a.params, "iha");
  EXPECT_TRUE(a.json);
  ASSERT_TRUE(parse_ctl_args(A({"sa", "del", "0x1001", "in"}), a, &e));
  EXPECT_EQ(a.command, "/mipvpn/sa_del");
  EXPECT_EQ(a.params, "0x1001 in");
  EXPECT_TRUE(a.change);
  ASSERT_TRUE(parse_ctl_args(A({"--timeout", "2", "binding", "add", "xha", "1.2.3.4", "5.6.7.8"}), a, &e));
  EXPECT_EQ(a.command, "/mipvpn/binding_add");
  EXPECT_EQ(a.timeout_ms, 2000u);
  ASSERT_TRUE(parse_ctl_args(A({"--help"}), a, &e));
  EXPECT_TRUE(a.help);
}

TEST(CtlArgs, BadUsageSaysWhy) {
  CtlArgs a;
  for (auto args : {A({}), A({"--file-prefix"}), A({"--file-prefix", "a/b", "stats"}), A({"--bogus", "stats"}),
                    A({"statistics"}), A({"stats", "now"}), A({"sa"}), A({"sa", "list"}),
                    A({"sa", "del", "12", "in"}), A({"binding", "add", "xha", "1.2.3.4"}),
                    A({"bindings", "both"}), A({"--timeout", "0", "stats"})}) {
    std::string e;
    EXPECT_FALSE(parse_ctl_args(args, a, &e));
    EXPECT_FALSE(e.empty());
  }
}

TEST(CtlArgs, SocketPath) {
  const std::string p = telemetry_socket_path("mine");
  EXPECT_NE(p.find("/dpdk/mine/dpdk_telemetry.v2"), std::string::npos) << p;
}

TEST(CtlFormat, BindingsAndDrops) {
  auto j = J(R"({"xha_total": 1, "b0": {"role": "xha", "home": "198.51.100.50", "care_of": "192.0.2.77",
      "peer": "192.0.2.77", "port": 0, "encap": "ipip", "flags": "TO", "ha": "198.51.100.10",
      "expires_in": 599}, "from": 0, "shown": 1, "more": 0})");
  ASSERT_TRUE(j);
  const std::string s = format_answer("/mipvpn/bindings", *j);
  EXPECT_NE(s.find("198.51.100.50   192.0.2.77"), std::string::npos) << s;
  EXPECT_NE(s.find("599s"), std::string::npos) << s;
  auto d = J(R"({"stage": {"truncated": 1, "bad_header": 0}})");
  const std::string t = format_answer("/mipvpn/drops", *d);
  EXPECT_NE(t.find("truncated"), std::string::npos) << t;
  EXPECT_EQ(t.find("bad_header"), std::string::npos) << t;  /* zeros summed up, not listed */
  EXPECT_NE(t.find("1 other reason"), std::string::npos) << t;
}

TEST(CtlChannel, ReadWaitsChangeReturnsId) {
  CtlChannel ch;
  const uint64_t id = ch.submit("stats", "");
  ASSERT_GT(id, 0u);
  EXPECT_EQ(ch.result(id)->state, CtlResult::State::kPending);
  std::thread control([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto q = ch.take();
    ASSERT_EQ(q.size(), 1u);
    CtlResult r;
    r.state = CtlResult::State::kOk;
    r.data.u64("rx", 7);
    ch.finish(q[0].id, std::move(r));
  });
  auto r = ch.wait(id, std::chrono::seconds(5));
  control.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, CtlResult::State::kOk);
  ASSERT_EQ(r->data.e.size(), 1u);
  EXPECT_EQ(r->data.e[0].u, 7u);
  EXPECT_FALSE(ch.result(9999));
  /* Nobody answers: the wait is bounded. */
  const uint64_t id2 = ch.submit("drops", "");
  EXPECT_FALSE(ch.wait(id2, std::chrono::milliseconds(10)));
}

TEST(CtlChannel, BoundedAndClosed) {
  CtlChannel ch;
  for (size_t i = 0; i < CtlChannel::kMaxQueued; ++i) ASSERT_GT(ch.submit("stats", ""), 0u);
  EXPECT_EQ(ch.submit("stats", ""), 0u);  /* full */
  const auto q = ch.take();
  EXPECT_EQ(q.size(), CtlChannel::kMaxQueued);
  const uint64_t id = ch.submit("sa_del", "0x1001 in");
  ch.close();
  EXPECT_EQ(ch.result(id)->state, CtlResult::State::kError);
  EXPECT_EQ(ch.submit("stats", ""), 0u);
  EXPECT_FALSE(ch.wait(id + 100, std::chrono::seconds(5)));  /* closed: no waiting */
}

TEST(HomeAgentOperator, AddExpireRemove) {
  HaConfig c;
  c.addresses = {*Ipv4Addr::parse("198.51.100.10")};
  HomeAgent ha(c);
  const Ipv4Addr home = *Ipv4Addr::parse("198.51.100.50"), coa = *Ipv4Addr::parse("192.0.2.77");
  const uint64_t now = mip_ntp_from_unix(1700000000);
  BindingCoa e;
  e.care_of = coa;
  EXPECT_FALSE(ha.add_operator_binding(Ipv4Addr(), e, 0, now).empty());
  EXPECT_FALSE(ha.add_operator_binding(coa, e, 0, now).empty());  /* care-of = home */
  BindingCoa u = e;
  u.encap = BindingEncap::kUdp;
  EXPECT_FALSE(ha.add_operator_binding(home, u, 0, now).empty());  /* UDP without a peer */
  ASSERT_EQ(ha.add_operator_binding(home, e, 60, now), "");
  const Binding* b = ha.bindings().lookup(home);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->n_coa, 1);
  EXPECT_EQ(b->coa[0].peer, coa);  /* IP-in-IP: to the care-of address */
  EXPECT_EQ(b->ha, c.addresses[0]);
  EXPECT_TRUE(b->coa[0].flags & kBindOperator);
  EXPECT_FALSE(b->coa[0].infinite());
  EXPECT_EQ(ha.expire(now + (uint64_t{59} << 32)), 0u);
  EXPECT_EQ(ha.expire(now + (uint64_t{61} << 32)), 1u);  /* a lifetime runs out like a registered one */
  EXPECT_FALSE(ha.bindings().lookup(home));

  u.peer = *Ipv4Addr::parse("203.0.113.9");
  u.peer_port = 4500;
  ASSERT_EQ(ha.add_operator_binding(home, u, 0, now), "");
  EXPECT_EQ(ha.expire(now + (uint64_t{100000} << 32)), 0u);  /* infinite */
  b = ha.bindings().lookup(home);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->coa[0].infinite());
  EXPECT_EQ(b->coa[0].peer_port, 4500);
  EXPECT_EQ(b->keepalive_s, c.keepalive_s);
  EXPECT_TRUE(ha.remove_binding(home));
  EXPECT_FALSE(ha.remove_binding(home));
  EXPECT_FALSE(ha.bindings().lookup(home));
}

}  // namespace
}  // namespace mipvpn
