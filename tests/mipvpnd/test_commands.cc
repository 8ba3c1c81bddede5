/* SPDX-License-Identifier: BSD-3-Clause */
/* The control thread's side of the telemetry commands (mipvpnd/commands.cc)
 * on an Appliance built from a configuration, without EAL: reads, SAs and
 * bindings changed at run time, and the workers' pipeline using the tables
 * published after a change. */
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "codec/ipv4.h"
#include "codec/udp.h"
#include "config/config.h"
#include "mipvpnd/appliance.h"
#include "stages/server_pipeline.h"

namespace mipvpn {
namespace {

const char* kConf = R"(
roles = ["xha", "vpngw"];
ports = ( { name = "outside"; device = "net_null0"; address = "198.51.100.11/24"; internal = false; },
          { name = "inside"; device = "net_null1"; address = "10.1.0.1/16"; internal = true; } );
routes = ( { prefix = "0.0.0.0/0"; via = "198.51.100.1"; } );
xha = { addresses = ["198.51.100.10"];
        mobile_nodes = ( { home = "198.51.100.50"; spi = 300; key = "a87a7be5629f2d47f2839c370531778e"; } ); };
vpngw = { address = "198.51.100.11";
          sas = ( { spi = 4097; direction = "in"; suite = "aes-128-cbc-sha1"; key = "000102030405060708090a0b0c0d0e0f";
                    auth_key = "0102030405060708090a0b0c0d0e0f1011121314"; src = "198.51.100.50";
                    dst = "198.51.100.11"; selector = "10.99.0.5/32"; } ); };
)";

class Commands : public ::testing::Test {
 protected:
  void SetUp() override {
    const ConfigResult r = parse_config_string(kConf, "test.conf");
    ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : format_error(r.errors[0]));
    std::string err;
    app = Appliance::build(*r.config, {}, &err);
    ASSERT_TRUE(app) << err;
  }
  /* One request through the channel, served as the control thread's tick would. */
  CtlResult ask(const std::string& cmd, const std::string& params = "") {
    const uint64_t id = app->channel().submit(cmd, params);
    EXPECT_GT(id, 0u);
    app->serve_requests(nullptr);
    auto r = app->channel().result(id);
    EXPECT_TRUE(r);
    return r ? *r : CtlResult{};
  }
  static const TelEntry* find(const TelDict& d, std::string_view k) {
    for (const TelEntry& e : d.e)
      if (e.key == k) return &e;
    return nullptr;
  }
  std::unique_ptr<Appliance> app;
};

TEST_F(Commands, Reads) {
  CtlResult r = ask("stats");
  ASSERT_EQ(r.state, CtlResult::State::kOk) << r.message;
  ASSERT_TRUE(find(r.data, "ports"));
  ASSERT_TRUE(find(r.data, "xha"));
  EXPECT_FALSE(find(r.data, "iha"));  /* not configured */
  EXPECT_EQ(find(*find(r.data, "vpngw")->d, "sas_in")->u, 1u);

  r = ask("drops");
  ASSERT_EQ(r.state, CtlResult::State::kOk);
  const TelEntry* st = find(r.data, "stage");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->d->e.size(), static_cast<size_t>(StageDrop::kCount) - 1);  /* every reason but none */
  for (const TelEntry& e : r.data.e) {
    EXPECT_LE(e.d->e.size(), TelDict::kMaxEntries);
    for (const TelEntry& x : e.d->e)
      for (char c : x.key) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '_') << x.key;
  }

  r = ask("sas");
  ASSERT_EQ(r.state, CtlResult::State::kOk);
  const TelEntry* sa = find(r.data, "sa_1001_in");
  ASSERT_TRUE(sa);
  EXPECT_EQ(find(*sa->d, "suite")->s, "aes-128-cbc-sha1");
  EXPECT_EQ(find(*sa->d, "selector")->s, "10.99.0.5/32");

  r = ask("bindings", "iha");
  EXPECT_EQ(r.state, CtlResult::State::kError);
  EXPECT_NE(r.message.find("no iha"), std::string::npos) << r.message;
  EXPECT_EQ(ask("frobnicate").state, CtlResult::State::kError);
}

/* A user datagram from the intranet (port 1) through the pipeline over the
 * appliance's published tables. */
PktView* run_inside(ServerPipeline& p, std::vector<std::byte>& mem, PktView& v, Ipv4Addr dst) {
  mem.assign(4096, std::byte{0});
  v = PktView{};
  v.buf = mem.data();
  v.buf_len = static_cast<uint32_t>(mem.size());
  v.data_off = 256;
  v.data_len = 100;
  ipv4_build({v.data(), 100}, {.src = Ipv4Addr(10, 1, 0, 20), .dst = dst, .total_len = 100, .id = 1,
                               .proto = kIpProtoUdp, .ttl = 64});
  udp_build({v.data() + kIpv4HdrLen, 80}, 40000, 5001, 80);
  PktView* pv = &v;
  Ipv4Addr nh;
  p.process(&pv, 1, 1, &nh);
  return pv;
}

TEST_F(Commands, SaAddedIsUsedAndRemoved) {
  std::atomic<const StageTables*> tables{app->tables()};
  std::string err;
  auto pipe = ServerPipeline::create(tables, &err);
  ASSERT_TRUE(pipe) << err;
  std::vector<std::byte> mem;
  PktView v;
  const Ipv4Addr tia(10, 99, 0, 5);

  /* No outbound SA yet: not encrypted. */
  run_inside(*pipe, mem, v, tia);
  EXPECT_NE(ipv4_parse(cbytes(v.bytes()))->proto, kIpProtoEsp);

  CtlResult r = ask("sa_add", "0x2001 out aes-128-cbc-sha1 101112131415161718191a1b1c1d1e1f 198.51.100.11 "
                              "198.51.100.50 10.99.0.5/32 auth-key 2122232425262728292a2b2c2d2e2f3031323334");
  ASSERT_EQ(r.state, CtlResult::State::kOk) << r.message;
  ASSERT_TRUE(app->tables()->spd_lookup(tia));
  EXPECT_EQ(app->tables()->spd_lookup(tia)->spi(), 0x2001u);
  EXPECT_TRUE(app->tables()->inbound_sa(0x1001));  /* the configured one stays */

  /* The workers see the new tables: the datagram leaves as ESP with the new SPI. */
  tables.store(app->tables());
  run_inside(*pipe, mem, v, tia);
  const auto o = ipv4_parse(cbytes(v.bytes()));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->proto, kIpProtoEsp);
  EXPECT_EQ(o->dst, Ipv4Addr(198, 51, 100, 50));
  const auto* esp = reinterpret_cast<const uint8_t*>(v.data() + kIpv4HdrLen);
  EXPECT_EQ(uint32_t(esp[0]) << 24 | uint32_t(esp[1]) << 16 | uint32_t(esp[2]) << 8 | esp[3], 0x2001u);
  r = ask("sas");
  EXPECT_EQ(find(*find(r.data, "sa_2001_out")->d, "packets")->u, 1u);
  EXPECT_EQ(find(*find(r.data, "sa_2001_out")->d, "origin")->s, "runtime");

  /* Refusals, each with its reason; nothing changes. */
  const StageTables* before = app->tables();
  struct Bad {
    const char* params;
    const char* says;
  };
  for (const Bad& b : std::initializer_list<Bad>{
           {"0x2001 out aes-128-cbc-sha1 101112131415161718191a1b1c1d1e1f 1.1.1.1 2.2.2.2 10.99.0.6/32 "
            "auth-key 2122232425262728292a2b2c2d2e2f3031323334", "exists"},
           {"0x2002 out rot13 00 1.1.1.1 2.2.2.2 10.99.0.6/32", "unknown suite"},
           {"0x2002 out aes-128-gcm 101112131415161718191a1b1c1d1e1f20212223 1.1.1.1 2.2.2.2 10.99.0.6/32",
            "allow_static_gcm"},
           {"0x2002 out aes-128-cbc-sha1 1011 1.1.1.1 2.2.2.2 10.99.0.6/32", ""},
           {"0x1001 in aes-128-cbc-sha1 101112131415161718191a1b1c1d1e1f 1.1.1.1 2.2.2.2 10.99.0.6/32 "
            "auth-key 2122232425262728292a2b2c2d2e2f3031323334", "exists"},
       }) {
    r = ask("sa_add", b.params);
    EXPECT_EQ(r.state, CtlResult::State::kError) << b.params;
    EXPECT_NE(r.message.find(b.says), std::string::npos) << b.params << " -> " << r.message;
    EXPECT_EQ(app->tables(), before);
  }

  r = ask("sa_del", "0x2001 out");
  ASSERT_EQ(r.state, CtlResult::State::kOk) << r.message;
  EXPECT_FALSE(app->tables()->spd_lookup(tia));
  EXPECT_EQ(ask("sa_del", "0x2001 out").state, CtlResult::State::kError);
  r = ask("sa_del", "0x1001 in");  /* configured SAs can go too */
  ASSERT_EQ(r.state, CtlResult::State::kOk) << r.message;
  EXPECT_FALSE(app->tables()->inbound_sa(0x1001));
  EXPECT_EQ(find(ask("sas").data, "total")->u, 0u);
}

TEST_F(Commands, Bindings) {
  const Ipv4Addr home(198, 51, 100, 50);
  CtlResult r = ask("binding_add", "xha 198.51.100.50 192.0.2.77 udp 203.0.113.9 4500 lifetime 120");
  ASSERT_EQ(r.state, CtlResult::State::kOk) << r.message;
  const Binding* b = app->xha()->bindings().lookup(home);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->coa[0].encap, BindingEncap::kUdp);
  EXPECT_EQ(b->coa[0].peer_port, 4500);

  r = ask("bindings", "xha");
  ASSERT_EQ(r.state, CtlResult::State::kOk);
  const TelEntry* e = find(r.data, "b0");
  ASSERT_TRUE(e);
  EXPECT_EQ(find(*e->d, "home")->s, "198.51.100.50");
  EXPECT_EQ(find(*e->d, "peer")->s, "203.0.113.9");
  EXPECT_EQ(find(*e->d, "flags")->s, "TO");
  EXPECT_GT(find(*e->d, "expires_in")->i, 100);
  EXPECT_EQ(find(r.data, "xha_total")->u, 1u);

  EXPECT_EQ(ask("binding_add", "iha 10.1.5.5 10.99.0.5").state, CtlResult::State::kError);  /* no i-HA */
  r = ask("binding_del", "xha 198.51.100.50");
  ASSERT_EQ(r.state, CtlResult::State::kOk) << r.message;
  EXPECT_FALSE(app->xha()->bindings().lookup(home));
  EXPECT_EQ(ask("binding_del", "xha 198.51.100.50").state, CtlResult::State::kError);
}

TEST_F(Commands, BindingsPage) {
  for (int i = 1; i <= 60; ++i)
    ASSERT_EQ(ask("binding_add", "xha 203.0.113." + std::to_string(i) + " 192.0.2.77").state,
              CtlResult::State::kOk);
  CtlResult r = ask("bindings");
  EXPECT_EQ(find(r.data, "shown")->u, 48u);
  EXPECT_EQ(find(r.data, "more")->u, 1u);
  r = ask("bindings", "xha 48");
  EXPECT_EQ(find(r.data, "shown")->u, 12u);
  EXPECT_EQ(find(r.data, "more")->u, 0u);
  EXPECT_TRUE(find(r.data, "b48"));
}

/* A registration flood must not become a log flood: refusals and drops
 * pass the x-HA section's log_rate_per_s (1) and log_burst (5) defaults,
 * acceptances always do, and what is held back is counted. */
TEST_F(Commands, RegistrationLinesAreRateLimited) {
  const HaVerdict refused{.reply = true, .len = 20, .code = 131};
  const HaVerdict dropped{.reply = false, .len = 0, .code = 0, .drop = HaDrop::kBadType};
  const HaVerdict accepted{.reply = true, .len = 20, .code = 0};
  int admitted = 0;
  for (int i = 0; i < 100; ++i)
    admitted += app->admit_registration_log(app->xha(), i % 2 ? refused : dropped, 1000) ? 1 : 0;
  EXPECT_EQ(admitted, 5);
  EXPECT_EQ(app->control_counters().log_suppressed, 95u);
  EXPECT_TRUE(app->admit_registration_log(app->xha(), accepted, 1000));
  EXPECT_TRUE(app->admit_registration_log(app->xha(), refused, 1001));  /* one a second */
  EXPECT_FALSE(app->admit_registration_log(app->xha(), refused, 1001));
  EXPECT_EQ(app->control_counters().log_suppressed, 96u);
  const CtlResult r = ask("stats");
  const TelEntry* c = find(r.data, "control");
  ASSERT_TRUE(c && c->d);
  const TelEntry* n = find(*c->d, "log_suppressed");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->u, 96u);
}

}  // namespace
}  // namespace mipvpn
