/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The xha and iha sections: HaConfig and the mobile nodes of
 * control/ha/home_agent.h, under the same names. The checks are those
 * HomeAgent's constructor and add_mobile_node make, reported with lines.
 */
#include <set>
#include <string>

#include "config/sections.h"
#include "config/values.h"

namespace mipvpn::cfg {
namespace {

constexpr int64_t kMaxU32 = 0xffffffffLL;

void read_mobile_node(Reader& r, const Setting& g, const std::string& p, uint32_t tolerance,
                      HaMobileNode* mn) {
  r.check_group(g, p, {"home", "nai", "spi", "algorithm", "key", "replay", "timestamp_tolerance", "enabled"});
  r.opt(g, p, "home", &mn->home, &Reader::addr);
  r.opt(g, p, "nai", &mn->nai, &Reader::str);
  if (!g.exists("home") && !g.exists("nai"))
    r.error(g, p, "a mobile node needs a home address (home) or an NAI (nai), or both");
  if (g.exists("nai") && g["nai"].getType() == Setting::TypeString && mn->nai.empty())
    r.error(g["nai"], join(p, "nai"), "an NAI cannot be empty (RFC 2794: user@realm)");
  /* RFC 5944 3.5.1: SPIs 0..255 are reserved. */
  r.need_int(g, p, "spi", 256, kMaxU32, &mn->sa.spi);
  std::string alg = "hmac-md5";
  if (r.opt(g, p, "algorithm", &alg, &Reader::str) && alg != "hmac-md5")
    r.error(g["algorithm"], join(p, "algorithm"),
            "'" + alg + "' is not supported; use \"hmac-md5\" (RFC 5944 3.5.1)");
  std::vector<uint8_t> key;
  if (r.need(g, p, "key", &key, &Reader::hex)) {
    if (key.empty())
      r.error(g["key"], join(p, "key"), "the key is empty; give 16 bytes (32 hex digits) or more");
    else if (key.size() > MipSa::kMaxKeyLen)
      r.error(g["key"], join(p, "key"),
              "the key is " + std::to_string(key.size()) + " bytes; HMAC-MD5 keys here are at most " +
                  std::to_string(MipSa::kMaxKeyLen) + " bytes");
    else {
      mn->sa.set_key(std::as_bytes(std::span<const uint8_t>(key)));
      if (mip_sa_key_weak(mn->sa))
        r.warning(g["key"], join(p, "key"),
                  "the key is " + std::to_string(key.size()) +
                      " bytes; RFC 5944 3.5.1 asks for 128 bits (16 bytes) or more");
    }
  }
  std::string replay = "timestamp";
  if (r.opt(g, p, "replay", &replay, &Reader::str)) {
    if (replay == "timestamp")
      mn->sa.replay = MipReplayMethod::kTimestamps;
    else if (replay == "nonce")
      mn->sa.replay = MipReplayMethod::kNonces;
    else
      r.error(g["replay"], join(p, "replay"),
              "'" + replay + "' is not a replay protection method; use \"timestamp\" or \"nonce\" (RFC 5944 5.7)");
  }
  mn->sa.tolerance_s = tolerance;
  r.opt_int(g, p, "timestamp_tolerance", 0, 3600, &mn->sa.tolerance_s);
  r.opt(g, p, "enabled", &mn->enabled, &Reader::boolean);
}

std::string policy_names() { return "\"enabled\", \"decline\" or \"unsupported\""; }

}  // namespace

HaSectionConfig read_ha_section(Reader& r, const Setting& s, HaRole role, const Config& c) {
  const bool iha = role == HaRole::kIha;
  const std::string p = iha ? "iha" : "xha";
  HaSectionConfig out;
  HaConfig& h = out.ha;
  h.role = role;
  const bool group = iha ? r.check_group(s, p, {"addresses", "max_lifetime", "max_bindings", "max_simultaneous",
                                               "reverse_tunnel", "reverse_tunnel_required", "udp_tunnel",
                                               "keepalive", "timestamp_tolerance", "log_rate_per_s",
                                               "log_burst", "trusted_networks", "mobile_nodes", "bindings"})
                         : r.check_group(s, p, {"addresses", "max_lifetime", "max_bindings", "max_simultaneous",
                                               "reverse_tunnel", "reverse_tunnel_required", "udp_tunnel",
                                               "keepalive", "timestamp_tolerance", "log_rate_per_s",
                                               "log_burst", "drop_internal", "mobile_nodes", "bindings"});
  if (!group) return out;

  /* Our agent addresses; the first goes into 136 replies (RFC 5944 3.8.3.2). */
  std::vector<const Setting*> elems;
  if (const Setting* a = r.child(s, p, "addresses", true); a && r.strings(*a, join(p, "addresses"), &elems)) {
    if (elems.empty()) r.error(*a, join(p, "addresses"), "give at least one home agent address");
    std::set<uint32_t> seen;
    for (size_t i = 0; i < elems.size(); ++i) {
      Ipv4Addr x;
      const std::string ep = index(join(p, "addresses"), i);
      if (!elems[i] || !r.addr(*elems[i], ep, &x)) continue;
      if (!seen.insert(x.host()).second) r.error(*elems[i], ep, x.str() + " is listed twice");
      if (!c.ports.empty() && port_on_subnet(c, x) < 0)
        r.warning(*elems[i], ep, x.str() + " is on no port's subnet; requests to it will not arrive");
      h.addresses.push_back(x);
    }
  }
  if (r.opt_int(s, p, "max_lifetime", 1, 0xffff, &h.max_lifetime) && h.max_lifetime == 0xffff)
    r.warning(s["max_lifetime"], join(p, "max_lifetime"), "65535 grants infinite lifetimes (RFC 5944 3.8.3)");
  r.opt_int(s, p, "max_bindings", 1, kMaxU32, &h.max_bindings);
  r.opt_int(s, p, "max_simultaneous", 1, Binding::kMaxCoa, &h.max_simultaneous);
  r.opt(s, p, "reverse_tunnel", &h.reverse_tunnel, &Reader::boolean);
  if (r.opt(s, p, "reverse_tunnel_required", &h.reverse_tunnel_required, &Reader::boolean) &&
      h.reverse_tunnel_required && !h.reverse_tunnel)
    r.error(s["reverse_tunnel_required"], join(p, "reverse_tunnel_required"),
            "reverse tunnelling cannot be required when reverse_tunnel is false (RFC 3024)");
  std::string pol;
  if (r.opt(s, p, "udp_tunnel", &pol, &Reader::str)) {
    if (pol == "enabled")
      h.udp_tunnel = HaUdpTunnelPolicy::kEnabled;
    else if (pol == "decline")
      h.udp_tunnel = HaUdpTunnelPolicy::kDecline;
    else if (pol == "unsupported")
      h.udp_tunnel = HaUdpTunnelPolicy::kUnsupported;
    else
      r.error(s["udp_tunnel"], join(p, "udp_tunnel"),
              "'" + pol + "' is not a UDP tunnelling policy; use " + policy_names() + " (RFC 3519)");
  }
  r.opt_int(s, p, "keepalive", 1, 0xffff, &h.keepalive_s);
  uint32_t tolerance = MipSa::kDefaultToleranceS;
  r.opt_int(s, p, "timestamp_tolerance", 0, 3600, &tolerance);
  r.opt_int(s, p, "log_rate_per_s", 0, 1000000, &h.log_rate_per_s);
  r.opt_int(s, p, "log_burst", 0, 1000000, &h.log_burst);
  if (!iha) r.opt(s, p, "drop_internal", &h.drop_from_internal, &Reader::boolean);

  /* RFC 5265 4.3: the i-HA answers only sources in its trusted networks;
   * none by default. */
  if (iha) {
    elems.clear();
    const std::string tp = join(p, "trusted_networks");
    if (const Setting* t = r.child(s, p, "trusted_networks", false); t && r.strings(*t, tp, &elems)) {
      for (size_t i = 0; i < elems.size(); ++i) {
        Ipv4Prefix x;
        if (elems[i] && r.prefix(*elems[i], index(tp, i), &x)) h.trusted.push_back(x);
      }
    }
    if (h.trusted.empty())
      r.warning(s, p, "no trusted_networks: the i-HA will silently drop every registration (RFC 5265 4.3)");
  }

  elems.clear();
  const std::string mp = join(p, "mobile_nodes");
  const Setting* ms = r.child(s, p, "mobile_nodes", false);
  if (ms && r.groups(*ms, mp, &elems)) {
    std::set<uint32_t> homes;
    std::set<std::string> nais;
    for (size_t i = 0; i < elems.size(); ++i) {
      if (!elems[i]) continue;
      const Setting& g = *elems[i];
      const std::string ep = index(mp, i);
      HaMobileNode mn;
      read_mobile_node(r, g, ep, tolerance, &mn);
      if (mn.home.host() != 0 && !homes.insert(mn.home.host()).second)
        r.error(g["home"], join(ep, "home"), "home address " + mn.home.str() + " belongs to two mobile nodes");
      if (!mn.nai.empty() && !nais.insert(mn.nai).second)
        r.error(g["nai"], join(ep, "nai"), "NAI '" + mn.nai + "' belongs to two mobile nodes");
      out.mobile_nodes.push_back(std::move(mn));
    }
  }

  /* Operator bindings: IP-in-IP or RFC 3519 UDP, no expiry
   * (HomeAgent::add_operator_binding). */
  elems.clear();
  const std::string bp = join(p, "bindings");
  const Setting* bs = r.child(s, p, "bindings", false);
  if (bs && r.groups(*bs, bp, &elems)) {
    std::set<uint32_t> homes;
    for (size_t i = 0; i < elems.size(); ++i) {
      if (!elems[i]) continue;
      const Setting& g = *elems[i];
      const std::string ep = index(bp, i);
      if (!r.check_group(g, ep, {"home", "care_of", "encap", "peer", "port"})) continue;
      StaticBindingConfig b;
      /* Both read (and reported) before either failure counts. */
      const bool have_home = r.need(g, ep, "home", &b.home, &Reader::addr);
      const bool have_coa = r.need(g, ep, "care_of", &b.care_of, &Reader::addr);
      if (!have_home || !have_coa) continue;
      if (b.home.host() == 0 || b.care_of.host() == 0 || b.care_of == b.home) {
        r.error(g, ep, "a binding needs a home address and a different, non-zero care-of address");
        continue;
      }
      if (!homes.insert(b.home.host()).second) {
        r.error(g["home"], join(ep, "home"), "home address " + b.home.str() + " is bound twice");
        continue;
      }
      std::string encap = "ipip";
      if (r.opt(g, ep, "encap", &encap, &Reader::str) && encap != "ipip" && encap != "udp") {
        r.error(g["encap"], join(ep, "encap"), "'" + encap + "' is not an encapsulation; use \"ipip\" or \"udp\" (RFC 3519)");
        continue;
      }
      b.udp = encap == "udp";
      const bool has_peer = g.exists("peer"), has_port = g.exists("port");
      if (!b.udp && (has_peer || has_port)) {
        r.error(g[has_peer ? "peer" : "port"], join(ep, has_peer ? "peer" : "port"),
                "peer and port belong to encap = \"udp\" (RFC 3519); IP-in-IP goes to care_of");
        continue;
      }
      if (b.udp) {
        /* The NAT's public address and port the tunnel goes to; without
         * peer, the care-of address itself (no NAT in the path). */
        b.peer = b.care_of;
        if (has_peer && !r.opt(g, ep, "peer", &b.peer, &Reader::addr)) continue;
        if (!r.need_int(g, ep, "port", 1, 0xffff, &b.port)) continue;
      }
      out.bindings.push_back(b);
    }
  }
  return out;
}

}  // namespace mipvpn::cfg
