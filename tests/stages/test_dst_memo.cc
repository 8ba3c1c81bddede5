/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The classification memo (stages/dst_memo.h): a worker remembers rules 2
 * to 4 by destination, and forgets as soon as a binding table or the
 * published stage tables change. Every change must show in the next
 * burst exactly as a pipeline that never saw the address would classify it.
 */
#include <random>

#include "stage_test_util.h"
#include "stages/dst_memo.h"

namespace mipvpn::test {
namespace {

/* What a packet became: enough to tell every classification apart (the
 * outer Identification and the ESP sequence differ between pipelines). */
struct Outcome {
  uint16_t verdict = 0;
  uint16_t drop = 0;
  uint32_t len = 0;
  Ipv4Addr src, dst, next_hop;
  uint8_t proto = 0;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "verdict " << o.verdict << " drop " << to_string(static_cast<StageDrop>(o.drop)) << " len "
            << o.len << " " << o.src.str() << " -> " << o.dst.str() << " proto " << int{o.proto}
            << " via " << o.next_hop.str();
}

Outcome outcome(const Pkt& p, Ipv4Addr nh) {
  Outcome o;
  o.verdict = static_cast<uint16_t>(p.v.user);
  o.drop = static_cast<uint16_t>(p.v.drop);
  o.len = p.v.data_len;
  if (p.v.user < kVerdictFirstSpecial && p.v.data_len >= kIpv4HdrLen) {
    const Ipv4Info ip = p.ip();
    o.src = ip.src;
    o.dst = ip.dst;
    o.proto = ip.proto;
    o.next_hop = nh;
  }
  return o;
}

TEST(DstMemo, BindingChangesShowInTheNextBurst) {
  Env env;
  const Ipv4Addr coa2(192, 0, 2, 88);
  auto send = [&](Ipv4Addr dst) {
    Pkt p;
    user_packet(p, kCn, dst);
    env.run(p, 1);
    return outcome(p, env.nh);
  };
  /* Rule 4: x-MIP to the care-of address; the second time from the memo. */
  for (int i = 0; i < 2; ++i) {
    const Outcome o = send(kXHoA);
    EXPECT_EQ(o.proto, kIpProtoIpip);
    EXPECT_EQ(o.dst, kCoA);
  }
  env.bind_x(kXHoA, coa2);  /* the node moved: a new record */
  EXPECT_EQ(send(kXHoA).dst, coa2);
  ASSERT_TRUE(env.unbind_x(kXHoA));  /* deregistered: forwarded as it is */
  Outcome o = send(kXHoA);
  EXPECT_EQ(o.proto, kIpProtoUdp);
  EXPECT_EQ(o.dst, kXHoA);
  EXPECT_EQ(o.next_hop, kGwRouter);
  env.bind_x(kXHoA, kCoA);
  EXPECT_EQ(send(kXHoA).dst, kCoA);

  /* Rule 2: i-MIP to the VPN-TIA, then through ESP and x-MIP. */
  o = send(kIHoA);
  EXPECT_EQ(o.dst, kCoA);
  EXPECT_EQ(o.len, send(kIHoA).len);
  ASSERT_TRUE(env.unbind_i(kIHoA));
  o = send(kIHoA);
  EXPECT_EQ(o.proto, kIpProtoUdp) << o;
  EXPECT_EQ(o.dst, kIHoA);
}

TEST(DstMemo, NewTablesShowInTheNextBurst) {
  Env env;
  auto send = [&]() {
    Pkt p;
    user_packet(p, kCn, kVpnTia);
    env.run(p, 1);
    return outcome(p, env.nh);
  };
  /* Rule 3: ESP to the x-HoA, then x-MIP to the care-of address. */
  Outcome o = send();
  EXPECT_EQ(o.dst, kCoA) << o;
  EXPECT_EQ(send().dst, kCoA);
  std::string err;
  auto t = env.builder(false).build(&err);  /* the SA's SPD entry withdrawn */
  ASSERT_TRUE(t) << err;
  env.publish(std::move(t));
  o = send();
  EXPECT_EQ(o.proto, kIpProtoUdp) << o;
  EXPECT_EQ(o.dst, kVpnTia);
  t = env.builder(true).build(&err);
  ASSERT_TRUE(t) << err;
  env.publish(std::move(t));
  EXPECT_EQ(send().dst, kCoA);
}

/*
 * Random changes between bursts of random packets: the long-lived
 * pipeline (with everything it remembered) and a new pipeline for each
 * burst (that remembers nothing) must classify every packet alike.
 */
TEST(DstMemo, MatchesAFreshPipelineUnderRandomChanges) {
  Env env;
  std::mt19937 rng(20261124);
  const Ipv4Addr dsts[] = {kXHoA, kIHoA, kVpnTia, kCn, kCoA, kLoopHome, Ipv4Addr(192, 0, 2, 88),
                           Ipv4Addr(10, 99, 0, 6), Ipv4Addr(8, 8, 8, 8)};
  const Ipv4Addr coas[] = {kCoA, Ipv4Addr(192, 0, 2, 88), Ipv4Addr(192, 0, 2, 99)};
  const Ipv4Addr tias[] = {kVpnTia, Ipv4Addr(10, 99, 0, 6)};
  std::string err;
  for (int round = 0; round < 300; ++round) {
    switch (rng() % 7) {
      case 0: env.bind_x(kXHoA, coas[rng() % 3]); break;
      case 1: env.unbind_x(kXHoA); break;
      case 2: env.bind_i(kIHoA, tias[rng() % 2]); break;
      case 3: env.unbind_i(kIHoA); break;
      case 4: {
        auto t = env.builder(rng() % 2).build(&err);
        ASSERT_TRUE(t) << err;
        env.publish(std::move(t));
        break;
      }
      default: break;  /* no change: the memo answers */
    }
    auto fresh = ServerPipeline::create(env.published(), &err);
    ASSERT_TRUE(fresh) << err;
    const uint16_t n = 1 + rng() % 16;
    const uint16_t in_port = rng() % 2;
    std::vector<Pkt> a(n), b;
    for (auto& p : a) user_packet(p, kCn, dsts[rng() % std::size(dsts)], 100 + rng() % 200);
    for (const auto& p : a) b.emplace_back(p);
    std::vector<PktView*> va, vb;
    for (auto& p : a) va.push_back(&p.v);
    for (auto& p : b) vb.push_back(&p.v);
    std::vector<Ipv4Addr> na(n), nb(n);
    env.pipe->process(va.data(), n, in_port, na.data());
    fresh->process(vb.data(), n, in_port, nb.data());
    for (uint16_t i = 0; i < n; ++i)
      ASSERT_EQ(outcome(a[i], na[i]), outcome(b[i], nb[i])) << "round " << round << " packet " << i;
  }
}

}  // namespace
}  // namespace mipvpn::test
