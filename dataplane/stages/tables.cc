/* SPDX-License-Identifier: BSD-3-Clause */
#include "stages/tables.h"

#include <algorithm>
#include <atomic>

#include "stages/pipeline.h"

namespace mipvpn {

namespace {

bool fail(std::string* err, std::string msg) {
  if (err) *err = std::move(msg);
  return false;
}

bool prefix_ok(const Ipv4Prefix& p, const char* what, std::string* err) {
  if (p.len > 32) return fail(err, std::string(what) + " prefix " + p.addr.str() + "/" +
                                       std::to_string(p.len) + " has a length over 32");
  return true;
}

}  // namespace

std::unique_ptr<const StageTables> StageTablesBuilder::build(std::string* err) const {
  static std::atomic<uint64_t> next_serial{1};
  std::unique_ptr<StageTables> t(new StageTables());
  t->serial_ = next_serial.fetch_add(1, std::memory_order_relaxed);
  t->roles_ = roles_;
  if ((roles_ & kRoleXha) && xha_.empty()) return fail(err, "the x-HA role needs an x-HA address"), nullptr;
  if ((roles_ & kRoleXha) && !xha_bind_) return fail(err, "the x-HA role needs its binding table"), nullptr;
  if ((roles_ & kRoleIha) && iha_.empty()) return fail(err, "the i-HA role needs an i-HA address"), nullptr;
  if ((roles_ & kRoleIha) && !iha_bind_) return fail(err, "the i-HA role needs its binding table"), nullptr;
  if ((roles_ & kRoleVpnGw) && gw_.host() == 0)
    return fail(err, "the VPN gateway role needs a gateway address"), nullptr;
  if (roles_ & kRoleXha) t->xha_addrs_ = xha_, t->xha_bind_ = xha_bind_;
  if (roles_ & kRoleIha) t->iha_addrs_ = iha_, t->iha_bind_ = iha_bind_;
  t->gw_addr_ = gw_;
  t->port_addrs_ = ports_;
  if (mtu_.size() >= kVerdictFirstSpecial)
    return fail(err, "too many ports: verdicts from " + std::to_string(kVerdictFirstSpecial) + " up are special"), nullptr;
  for (size_t i = 0; i < mtu_.size(); ++i)
    if (mtu_[i] < 68)  /* RFC 791: every host must take 68 bytes */
      return fail(err, "port " + std::to_string(i) + " has an MTU under 68"), nullptr;
  t->mtu_ = mtu_;
  if (icmp_rate_ > kIcmpMaxRate || icmp_burst_ > kIcmpMaxBurst)
    return fail(err, "the ICMP error rate and burst may not exceed " + std::to_string(kIcmpMaxRate)), nullptr;
  t->icmp_rate_ = icmp_rate_;
  t->icmp_burst_ = icmp_burst_;
  t->zone_ = zone_;

  /* Inbound SAs: SPI map of at least twice the entries, a power of two. */
  uint32_t cap = 8;
  while (cap < 2 * inb_.size()) cap *= 2;
  t->inb_.slots_.assign(cap, InbSa{});
  t->inb_.mask_ = cap - 1;
  for (const InbSa& e : inb_) {
    if (!e.sa || e.sa->dir() != EspDir::kInbound)
      return fail(err, "an inbound SA entry is missing its SA or names an outbound SA"), nullptr;
    if (!prefix_ok(e.inner_src, "inbound SA selector", err)) return nullptr;
    if (t->inb_.find(e.spi)) return fail(err, "SPI " + std::to_string(e.spi) + " is given twice"), nullptr;
    uint32_t i = SpiMap::hash(e.spi) & t->inb_.mask_;
    while (t->inb_.slots_[i].spi != 0) i = (i + 1) & t->inb_.mask_;
    t->inb_.slots_[i] = e;
    ++t->inb_.n_;
  }

  for (const SpdEntry& e : spd_) {
    if (!e.sa || e.sa->dir() != EspDir::kOutbound)
      return fail(err, "an SPD entry is missing its SA or names an inbound SA"), nullptr;
    if (!prefix_ok(e.dst, "SPD", err)) return nullptr;
  }
  t->spd_ = spd_;
  std::stable_sort(t->spd_.begin(), t->spd_.end(),
                   [](const SpdEntry& a, const SpdEntry& b) { return a.dst.len > b.dst.len; });

  for (const Route& r : routes_) {
    if (!prefix_ok(r.dst, "route", err)) return nullptr;
    if (r.port >= mtu_.size())
      return fail(err, "route " + r.dst.addr.str() + "/" + std::to_string(r.dst.len) +
                           " names port " + std::to_string(r.port) + ", which does not exist"),
             nullptr;
  }
  t->routes_ = routes_;
  std::stable_sort(t->routes_.begin(), t->routes_.end(),
                   [](const Route& a, const Route& b) { return a.dst.len > b.dst.len; });

  /* What the workers' lookups read (tables.h). */
  std::vector<StageTables::OwnAddr> own;
  auto add_own = [&](Ipv4Addr a, uint8_t bit) {
    for (auto& o : own)
      if (o.addr == a.host()) return void(o.bits |= bit);
    own.push_back({a.host(), bit});
  };
  for (Ipv4Addr a : t->xha_addrs_) add_own(a, kOwnXha);
  for (Ipv4Addr a : t->iha_addrs_) add_own(a, kOwnIha);
  if (t->has(kRoleVpnGw)) add_own(t->gw_addr_, kOwnGw);
  for (Ipv4Addr a : t->port_addrs_) add_own(a, kOwnPort);
  uint32_t olog = 3;
  while ((1u << olog) < 4 * own.size()) ++olog;
  t->own_slots_.assign(size_t{1} << olog, StageTables::OwnAddr{});
  t->own_mask_ = (1u << olog) - 1;
  t->own_shift_ = 32 - olog;
  for (const auto& o : own) {
    uint32_t i = t->own_hash(o.addr);
    while (t->own_slots_[i].bits != 0) i = (i + 1) & t->own_mask_;
    t->own_slots_[i] = o;
  }
  uint32_t scap = 8;
  while (scap < 2 * t->spd_.size()) scap *= 2;
  t->spd_slots_.assign(scap, StageTables::SpdSlot{});
  t->spd_mask_ = scap - 1;
  for (const SpdEntry& e : t->spd_) {  /* sorted: longest first, then as given */
    const uint32_t mask = Ipv4Prefix::mask(e.dst.len), net = e.dst.addr.host() & mask;
    if (t->spd_lens_.empty() || t->spd_lens_.back().len != e.dst.len)
      t->spd_lens_.push_back({e.dst.len, mask});
    uint32_t i = StageTables::spd_hash(net, e.dst.len) & t->spd_mask_;
    for (;; i = (i + 1) & t->spd_mask_) {
      StageTables::SpdSlot& sl = t->spd_slots_[i];
      if (sl.sa == nullptr) {
        sl = {net, e.dst.len, e.sa};
        break;
      }
      if (sl.net == net && sl.len == e.dst.len) break;  /* a later duplicate never matches first */
    }
  }
  for (const Route& r : t->routes_) {
    t->route_keys_.push_back({r.dst.addr.host(), Ipv4Prefix::mask(r.dst.len)});
    t->fwd_.push_back({r.next_hop, r.port, t->port_mtu(r.port), t->port_internal(r.port)});
  }
  return t;
}

}  // namespace mipvpn
