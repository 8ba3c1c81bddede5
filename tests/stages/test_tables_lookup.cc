/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * StageTables' lookups against the plain definition: the SPD and the
 * routes answer with the first entry, longest prefix first and in the
 * order given among equal lengths, whose prefix holds the address
 * (tables.h); our-address bits are the OR over every role's list.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "stages/tables.h"

namespace mipvpn {
namespace {

std::unique_ptr<EspSa> outb_sa(uint32_t spi) {
  static const uint8_t key[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  const EspSuite* s = esp_suite_by_name("aes-128-gcm");
  EspSaConfig c;
  c.spi = spi;
  c.dir = EspDir::kOutbound;
  c.suite = s;
  c.cipher_key = {key, size_t{s->key_len} + s->salt_len};
  c.tun_src = Ipv4Addr(192, 0, 2, 1);
  c.tun_dst = Ipv4Addr(192, 0, 2, 2);
  std::string err;
  auto r = EspSa::create(c, &err);
  EXPECT_TRUE(r) << err;
  return r;
}

TEST(TablesLookup, SpdAndRoutesAreFirstMatchLongestFirst) {
  std::mt19937 rng(5);
  std::vector<std::unique_ptr<EspSa>> sas;
  for (uint32_t i = 0; i < 64; ++i) sas.push_back(outb_sa(0x100 + i));
  for (int round = 0; round < 200; ++round) {
    /* Few distinct networks and lengths, so that duplicates, nesting and
     * host bits left set all occur. */
    const uint32_t base = rng() & 0xffff0000u;
    std::vector<SpdEntry> spd;
    std::vector<Route> routes;
    StageTablesBuilder b;
    b.port(Ipv4Addr(192, 0, 2, 1), 1500, PortZone::kExternal).port(Ipv4Addr(10, 0, 0, 1), 1500, PortZone::kInternal);
    const uint32_t n = 1 + rng() % 40;
    for (uint32_t k = 0; k < n; ++k) {
      const uint8_t len = static_cast<uint8_t>(rng() % 5 == 0 ? rng() % 33 : 16 + rng() % 17);
      const Ipv4Prefix p{Ipv4Addr(base | (rng() & 0xff) << (rng() % 9)), len};
      spd.push_back({p, sas[k].get()});
      b.outbound_sa(p, sas[k].get());
      routes.push_back({p, static_cast<uint16_t>(k % 2), Ipv4Addr(k)});
      b.route(p, static_cast<uint16_t>(k % 2), Ipv4Addr(k));
    }
    std::string err;
    auto t = b.build(&err);
    ASSERT_TRUE(t) << err;
    std::stable_sort(spd.begin(), spd.end(), [](const SpdEntry& x, const SpdEntry& y) { return x.dst.len > y.dst.len; });
    std::stable_sort(routes.begin(), routes.end(), [](const Route& x, const Route& y) { return x.dst.len > y.dst.len; });
    for (int q = 0; q < 500; ++q) {
      const Ipv4Addr a(q % 3 == 0 ? rng() : base | (rng() & 0xffff));
      EspSa* want = nullptr;
      for (const SpdEntry& e : spd)
        if (e.dst.contains(a)) { want = e.sa; break; }
      ASSERT_EQ(t->spd_lookup(a), want) << a.str();
      const Route* rw = nullptr;
      for (const Route& r : routes)
        if (r.dst.contains(a)) { rw = &r; break; }
      const Route* rg = t->route_lookup(a);
      const auto* fg = t->fwd_lookup(a);
      ASSERT_EQ(rg == nullptr, rw == nullptr);
      ASSERT_EQ(fg == nullptr, rw == nullptr);
      if (!rw) continue;
      EXPECT_EQ(rg->next_hop, rw->next_hop);
      EXPECT_EQ(fg->next_hop, rw->next_hop);
      EXPECT_EQ(fg->port, rw->port);
      EXPECT_EQ(fg->mtu, t->port_mtu(rw->port));
      EXPECT_EQ(fg->internal, t->port_internal(rw->port));
    }
  }
}

TEST(TablesLookup, OwnIsTheOrOfEveryList) {
  const Ipv4Addr a(198, 51, 100, 1), x(198, 51, 100, 10), i(10, 10, 0, 1);
  StageTablesBuilder b;
  b.roles(kRoleVpnGw).gw_addr(a).xha_addr(x).iha_addr(i)  /* x-HA, i-HA roles off */
      .port(a, 1500, PortZone::kExternal).port(i, 1500, PortZone::kInternal);
  std::string err;
  auto t = b.build(&err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(t->own(a), kOwnGw | kOwnPort);
  EXPECT_EQ(t->own(i), kOwnPort);
  EXPECT_EQ(t->own(x), 0);
  EXPECT_EQ(t->own(Ipv4Addr(1, 2, 3, 4)), 0);
}

}  // namespace
}  // namespace mipvpn
