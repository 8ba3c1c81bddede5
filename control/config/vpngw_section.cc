/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vpngw section: static ESP SAs (RFC 4303 tunnel mode) with their
 * SPD selectors and optional RFC 3948 UDP encapsulation. Each SA is
 * checked by building it (EspSa::create), so a key the data plane would
 * refuse is refused here with the same sentence and a line.
 */
#include <set>
#include <string>
#include <utility>

#include "config/sections.h"
#include "config/values.h"

namespace mipvpn::cfg {
namespace {

std::string suite_names() {
  std::string n;
  for (const EspSuite& s : esp_suites()) {
    if (!n.empty()) n += ", ";
    n += s.name;
  }
  return n;
}

void read_natt(Reader& r, const Setting& g, const std::string& p, EspSaSpec* sa) {
  if (!r.check_group(g, p, {"sport", "dport"})) return;
  /* RFC 3948 2: both ends use 4500 unless a NAT rewrote the source port. */
  sa->natt_sport = 4500;
  sa->natt_dport = 4500;
  r.opt_int(g, p, "sport", 1, 0xffff, &sa->natt_sport);
  r.opt_int(g, p, "dport", 1, 0xffff, &sa->natt_dport);
}

/* False when the SA has an error (reported). */
bool read_sa(Reader& r, const Setting& g, const std::string& p, EspSaSpec* sa) {
  const size_t before = r.errors().size();
  r.check_group(g, p, {"spi", "direction", "suite", "key", "auth_key", "src", "dst", "esn",
                       "replay_window", "natt", "selector"});
  /* RFC 4303 2.1: 1..255 reserved, 0 local use. */
  r.need_int(g, p, "spi", 256, 0xffffffffLL, &sa->spi);
  std::string dir;
  if (r.need(g, p, "direction", &dir, &Reader::str)) {
    if (dir == "in")
      sa->dir = EspDir::kInbound;
    else if (dir == "out")
      sa->dir = EspDir::kOutbound;
    else
      r.error(g["direction"], join(p, "direction"), "'" + dir + "' is not a direction; use \"in\" or \"out\"");
  }
  std::string suite;
  if (r.need(g, p, "suite", &suite, &Reader::str)) {
    sa->suite = esp_suite_by_name(suite);
    if (!sa->suite)
      r.error(g["suite"], join(p, "suite"), "'" + suite + "' is not a cipher suite; use one of " + suite_names());
  }
  const bool null_cipher = sa->suite && sa->suite->cipher == EspCipher::kNull;
  if (null_cipher)
    r.opt(g, p, "key", &sa->cipher_key, &Reader::hex);
  else
    r.need(g, p, "key", &sa->cipher_key, &Reader::hex);
  const bool aead = sa->suite && sa->suite->auth == EspAuth::kNone;
  if (sa->suite && !aead)
    r.need(g, p, "auth_key", &sa->auth_key, &Reader::hex);
  else
    r.opt(g, p, "auth_key", &sa->auth_key, &Reader::hex);
  r.need(g, p, "src", &sa->src, &Reader::addr);
  r.need(g, p, "dst", &sa->dst, &Reader::addr);
  r.opt(g, p, "esn", &sa->esn, &Reader::boolean);
  if (r.opt_int(g, p, "replay_window", 0, 4096, &sa->replay_window) && sa->replay_window != 0 &&
      sa->replay_window < 64)
    r.error(g["replay_window"], join(p, "replay_window"),
            std::to_string(sa->replay_window) + " is out of range; use 0 (no replay check) or 64 to 4096");
  if (g.exists("replay_window") && sa->dir == EspDir::kOutbound)
    r.warning(g["replay_window"], join(p, "replay_window"), "an outbound SA has no replay window; ignored");
  if (g.exists("natt")) read_natt(r, g["natt"], join(p, "natt"), sa);
  r.need(g, p, "selector", &sa->selector, &Reader::prefix);

  if (r.errors().size() != before) return false;
  std::string err;
  if (!EspSa::create(sa->esp_config(), &err)) {
    const bool key_fault = err.find("key") != std::string::npos;
    const char* at = key_fault ? (err.find("integrity") != std::string::npos ? "auth_key" : "key") : nullptr;
    if (at && g.exists(at))
      r.error(g[at], join(p, at), err);
    else
      r.error(g, p, err);
    return false;
  }
  return true;
}

}  // namespace

VpngwConfig read_vpngw_section(Reader& r, const Setting& s, const Config& c) {
  VpngwConfig out;
  const std::string p = "vpngw";
  if (!r.check_group(s, p, {"address", "allow_static_gcm", "sas"})) return out;
  if (r.need(s, p, "address", &out.address, &Reader::addr) && !c.ports.empty() &&
      port_on_subnet(c, out.address) < 0)
    r.warning(s["address"], join(p, "address"),
              out.address.str() + " is on no port's subnet; tunnels to it will not arrive");
  r.opt(s, p, "allow_static_gcm", &out.allow_static_gcm, &Reader::boolean);

  std::vector<const Setting*> elems;
  const std::string sp = join(p, "sas");
  const Setting* ss = r.child(s, p, "sas", false);
  if (!ss || !r.groups(*ss, sp, &elems)) return out;
  std::set<std::pair<int, uint32_t>> spis;
  std::set<std::pair<uint32_t, uint8_t>> out_selectors;
  for (size_t i = 0; i < elems.size(); ++i) {
    if (!elems[i]) continue;
    const Setting& g = *elems[i];
    const std::string ep = index(sp, i);
    EspSaSpec sa;
    const bool ok = read_sa(r, g, ep, &sa);
    if (sa.spi != 0 && !spis.insert({static_cast<int>(sa.dir), sa.spi}).second)
      r.error(g["spi"], join(ep, "spi"),
              "SPI " + std::to_string(sa.spi) + " is used by two " +
                  (sa.dir == EspDir::kInbound ? "inbound" : "outbound") + " SAs");
    /* Our end of the tunnel is normally the gateway's address. */
    const Ipv4Addr ours = sa.dir == EspDir::kOutbound ? sa.src : sa.dst;
    if (ok && ours != out.address)
      r.warning(g[sa.dir == EspDir::kOutbound ? "src" : "dst"],
                join(ep, sa.dir == EspDir::kOutbound ? "src" : "dst"),
                "our tunnel endpoint " + ours.str() + " is not vpngw.address " + out.address.str());
    /* One outbound SA per SPD selector, or the choice would be arbitrary. */
    if (ok && sa.dir == EspDir::kOutbound &&
        !out_selectors.insert({sa.selector.addr.host(), sa.selector.len}).second)
      r.error(g["selector"], join(ep, "selector"),
              "another outbound SA already has the selector " + sa.selector.addr.str() + "/" +
                  std::to_string(sa.selector.len));
    /* RFC 4106 3.1 / 8.1: the IV must never repeat under one key; a
     * static SA restarts its sequence number (our IV) at 1 after every
     * restart of the daemon. */
    if (ok && sa.suite->cipher == EspCipher::kAesGcm) {
      const std::string msg =
          "a static AES-GCM SA repeats its IVs after every restart (IV = sequence number, "
          "RFC 4106 3.1), which breaks its confidentiality and integrity";
      if (out.allow_static_gcm)
        r.warning(g["suite"], join(ep, "suite"), msg);
      else
        r.error(g["suite"], join(ep, "suite"),
                msg + "; use an IKE-negotiated SA or a CBC suite, or set allow_static_gcm = true; in vpngw");
    }
    out.sas.push_back(std::move(sa));
  }
  return out;
}

}  // namespace mipvpn::cfg
