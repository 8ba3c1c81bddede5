/* SPDX-License-Identifier: BSD-3-Clause */
#include "ha/home_agent.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace mipvpn {

/* One request in flight through process_request. */
struct HomeAgent::Ctx {
  cbytes msg;
  const RequestMeta* meta = nullptr;
  MipRequest rq;
  MipExts x;
  Mn* mn = nullptr;          /* the SA that signs the reply, once known */
  Ipv4Addr home;             /* reply's Home Address */
  Ipv4Addr ha;               /* reply's Home Agent */
  uint64_t reply_id = 0;
  uint16_t lifetime = 0;     /* granted, when accepted */
  bool utrp = false;         /* add a UDP Tunnel Reply */
  MipUdpTunnelRep rep;
  bool udp = false;          /* the binding uses RFC 3519 UDP tunnelling */
};

HomeAgent::HomeAgent(HaConfig cfg, uint32_t capacity_hint)
    : cfg_(std::move(cfg)), log_(cfg_.log_rate_per_s, cfg_.log_burst),
      nonce_state_(cfg_.nonce_seed ? cfg_.nonce_seed : 1) {
  if (cfg_.addresses.empty())
    throw std::invalid_argument("home agent: no agent address configured (addresses)");
  for (Ipv4Addr a : cfg_.addresses)
    if (a.host() == 0) throw std::invalid_argument("home agent: agent address 0.0.0.0");
  if (cfg_.max_simultaneous < 1 || cfg_.max_simultaneous > Binding::kMaxCoa)
    throw std::invalid_argument("home agent: max_simultaneous must be 1.." +
                                std::to_string(Binding::kMaxCoa));
  if (cfg_.max_lifetime == 0)
    throw std::invalid_argument("home agent: max_lifetime 0 would refuse every registration");
  if (cfg_.reverse_tunnel_required && !cfg_.reverse_tunnel)
    throw std::invalid_argument("home agent: reverse tunnelling required but not supported");
  if (hmac_.init_error() != MipError::kOk)
    throw std::runtime_error("home agent: IPsec-MB manager could not be allocated");
  table_ = std::make_unique<BindingTable>(rc_, capacity_hint);
  mns_.reserve(capacity_hint);
  by_home_.reserve(capacity_hint);
}

HomeAgent::~HomeAgent() {
  /* Readers are gone; free what is retired before the table goes. */
  rc_.drain();
  table_.reset();
}

MipError HomeAgent::add_mobile_node(const HaMobileNode& mn) {
  if (const MipError e = mip_sa_check(mn.sa); e != MipError::kOk) return e;
  if (mn.home.host() == 0 && mn.nai.empty()) return MipError::kKeyEmpty;
  if (mn.home.host() != 0 && by_home_.count(mn.home.host())) return MipError::kDuplicateExt;
  if (!mn.nai.empty() && by_nai_.count(mn.nai)) return MipError::kDuplicateExt;
  Mn m;
  m.home = mn.home;
  m.nai = mn.nai;
  m.sa = mn.sa;
  m.enabled = mn.enabled;
  if (const MipError e = hmac_.make_key(mn.sa.key_bytes(), &m.key); e != MipError::kOk) return e;
  const auto idx = static_cast<uint32_t>(mns_.size());
  mns_.push_back(std::move(m));
  if (mn.home.host() != 0) by_home_.emplace(mn.home.host(), idx);
  if (!mn.nai.empty()) by_nai_.emplace(mn.nai, idx);
  return MipError::kOk;
}

HomeAgent::Mn* HomeAgent::find_mn(Ipv4Addr home, cbytes nai) noexcept {
  if (home.host() != 0) {
    if (auto it = by_home_.find(home.host()); it != by_home_.end()) return &mns_[it->second];
  }
  if (!nai.empty()) {
    const std::string_view n(reinterpret_cast<const char*>(nai.data()), nai.size());
    if (auto it = by_nai_.find(n); it != by_nai_.end()) {
      Mn* m = &mns_[it->second];
      /* An NAI's SA never authorises another node's configured address. */
      if (home.host() == 0 || m->home.host() == 0 || m->home == home) return m;
    }
  }
  return nullptr;
}

bool HomeAgent::is_our_address(Ipv4Addr a) const noexcept {
  return std::find(cfg_.addresses.begin(), cfg_.addresses.end(), a) != cfg_.addresses.end();
}

uint32_t HomeAgent::next_nonce() noexcept {
  /* xorshift64*: unpredictability is not what 5.7.2 nonces rest on (the
   * authenticator is); they must not repeat soon. */
  nonce_state_ ^= nonce_state_ >> 12;
  nonce_state_ ^= nonce_state_ << 25;
  nonce_state_ ^= nonce_state_ >> 27;
  return static_cast<uint32_t>((nonce_state_ * 0x2545F4914F6CDD1DULL) >> 32);
}

HaVerdict HomeAgent::drop(HaDrop d) noexcept {
  ++ctr_.drops[static_cast<size_t>(d)];
  HaVerdict v;
  v.drop = d;
  return v;
}

void HomeAgent::log_drop(std::string_view why, cbytes msg, const RequestMeta& meta) noexcept {
  if (!log_.admit(meta.now_ntp >> 32)) return;
  /* Only for the log line: the home address and NAI as the request claims
   * them (unauthenticated). */
  std::string line;
  try {
    line.reserve(160);
    line += why;
    line += " src=";
    line += meta.src.str();
    line += ':';
    line += std::to_string(meta.src_port);
    if (msg.size() >= kMipRequestLen && std::to_integer<uint8_t>(msg[0]) == kMipTypeRegRequest) {
      const auto* h = reinterpret_cast<const MipRequestHdr*>(msg.data());
      line += " home=";
      line += Ipv4Addr(h->home_addr.host()).str();
      MipExtWalker w(msg, kMipRequestLen);
      for (MipExt e; w.next(&e);) {
        if (e.type != kMipExtNai) continue;
        line += " nai=";
        size_t n = 0;
        for (std::byte b : e.data) {
          const auto ch = std::to_integer<unsigned char>(b);
          line += (ch >= 0x21 && ch < 0x7f) ? static_cast<char>(ch) : '?';
          if (++n == 64) break;
        }
        break;
      }
    }
    log_.write(line);
  } catch (...) {
    /* Out of memory building a log line: the drop still counts. */
  }
}

HaVerdict HomeAgent::finish(Ctx& c, uint8_t code, bytes out) noexcept {
  MipMsgBuilder b(out);
  MipReply rp;
  rp.code = code;
  /* RFC 5944 3.4: the lifetime of a denial is unspecified; send 0. */
  rp.lifetime = mip_code_accepted(code) ? c.lifetime : 0;
  rp.home_addr = c.home;
  rp.home_agent = c.ha;
  rp.id = c.reply_id;
  b.reply(rp);
  if (c.utrp) b.add_udp_tunnel_reply(c.rep);
  /* RFC 5265 4.3: every i-HA reply goes to a trusted source; TNC before
   * the authenticator so that it covers it (3.4, CONFORMANCE.md). */
  if (cfg_.role == HaRole::kIha) b.add_tnc();
  if (c.mn) mip_add_auth_key(b, hmac_, c.mn->sa.spi, c.mn->key);
  if (b.error() != MipError::kOk) return drop(HaDrop::kNoRoom);
  ++ctr_.replies[code];
  HaVerdict v;
  v.reply = true;
  v.len = static_cast<uint16_t>(b.size());
  v.code = code;
  return v;
}

HaVerdict HomeAgent::process_request(cbytes msg, const RequestMeta& meta, bytes out) noexcept {
  /* 1, 2: RFC 5265 4.3 / 3.7, before anything else. */
  if (cfg_.role == HaRole::kIha) {
    bool trusted = false;
    for (const Ipv4Prefix& p : cfg_.trusted) {
      if (p.contains(meta.src)) {
        trusted = true;
        break;
      }
    }
    if (!trusted) {
      log_drop("i-HA: dropped registration request from untrusted source", msg, meta);
      return drop(HaDrop::kUntrustedSource);
    }
  } else if (cfg_.drop_from_internal && meta.internal_iface) {
    log_drop("x-HA: dropped registration request from internal interface", msg, meta);
    return drop(HaDrop::kInternalInterface);
  }

  /* 3: the fixed part. */
  const auto rq = mip_parse_request(msg);
  if (!rq) {
    switch (rq.error()) {
      case MipError::kBadType: return drop(HaDrop::kBadType);
      case MipError::kTooBig: return drop(HaDrop::kTooBig);
      default: return drop(HaDrop::kTruncated);
    }
  }
  Ctx c;
  c.msg = msg;
  c.meta = &meta;
  c.rq = *rq;
  c.home = rq->home_addr;
  c.ha = rq->home_agent;
  c.reply_id = rq->id;

  /* 4: extensions. */
  const auto x = mip_scan_extensions(msg);
  if (!x) {
    if (mip_error_action(x.error()) == MipAction::kDiscard)
      return drop(x.error() == MipError::kUnknownNonSkippable ? HaDrop::kUnknownNonSkippable
                                                              : HaDrop::kTruncated);
    /* 134, signed when the home address names an SA (the NAI cannot be
     * read reliably from a malformed extension area). */
    c.mn = find_mn(rq->home_addr, {});
    return finish(c, static_cast<uint8_t>(mip_error_reply_code(x.error())), out);
  }
  c.x = *x;

  /* 5, 6: authentication before identification (3.8.2.1). */
  c.mn = find_mn(rq->home_addr, x->has_nai ? x->nai : cbytes{});
  if (!c.mn) return finish(c, static_cast<uint8_t>(MipReplyCode::kHaMnFailedAuth), out);
  if (mip_verify_auth_key(hmac_, c.mn->sa.spi, c.mn->key, msg, x->mn_ha) != MipError::kOk)
    return finish(c, static_cast<uint8_t>(MipReplyCode::kHaMnFailedAuth), out);
  if (c.home.host() == 0) c.home = c.mn->home;  /* RFC 2794: the NAI's configured address */

  /* 7: identification. */
  Mn& mn = *c.mn;
  const bool nonces = mn.sa.replay == MipReplayMethod::kNonces;
  const MipReplayResult rr =
      mip_replay_check(mn.sa, mn.replay, rq->id, meta.now_ntp, nonces ? next_nonce() : 0);
  c.reply_id = rr.reply_id;
  /* Nonces: every reply from here on carries a new nonce, which the next
   * request must echo, so it is recorded whatever the verdict. */
  if (nonces) mip_replay_commit(mn.sa, &mn.replay, rq->id, rr);
  if (!rr.ok()) return finish(c, static_cast<uint8_t>(MipReplyCode::kHaIdMismatch), out);

  /* 8: the Home Agent field. */
  if (!is_our_address(rq->home_agent)) {
    c.ha = cfg_.addresses.front();
    return finish(c, static_cast<uint8_t>(MipReplyCode::kHaUnknownHaAddress), out);
  }
  if (c.home.host() == 0)  /* no address to assign to this NAI */
    return finish(c, static_cast<uint8_t>(MipReplyCode::kHaInsufficientResources), out);

  /* 9: policy, for registrations (a deregistration asks for no tunnel). */
  if (!mn.enabled) return finish(c, static_cast<uint8_t>(MipReplyCode::kHaAdminProhibited), out);
  if (rq->lifetime != 0) {
    if (rq->t && !cfg_.reverse_tunnel)
      return finish(c, static_cast<uint8_t>(MipReplyCode::kHaReverseTunnelUnavailable), out);
    if (!rq->t && cfg_.reverse_tunnel_required)
      return finish(c, static_cast<uint8_t>(MipReplyCode::kHaReverseTunnelMandatory), out);
    if (rq->m || rq->g)
      return finish(c, static_cast<uint8_t>(MipReplyCode::kHaEncapUnavailable), out);
    if (rq->care_of.host() == 0 || rq->care_of == c.home)
      return finish(c, static_cast<uint8_t>(MipReplyCode::kHaPoorlyFormedRequest), out);
    const uint8_t coa_hi = static_cast<uint8_t>(rq->care_of.host() >> 24);
    if (coa_hi == 127 || coa_hi >= 224)  /* loopback, multicast, class E, broadcast */
      return finish(c, static_cast<uint8_t>(MipReplyCode::kHaUnspecified), out);
    const MipUdpTunnelReq& q = x->udp_tun_req;
    if (x->has_udp_tun_req && q.sub_type == 0 && cfg_.udp_tunnel != HaUdpTunnelPolicy::kUnsupported &&
        (q.f || meta.src != rq->care_of)) {
      c.utrp = true;
      c.rep = MipUdpTunnelRep{};
      if (cfg_.udp_tunnel == HaUdpTunnelPolicy::kDecline) {
        c.rep.code = static_cast<uint8_t>(MipUdpTunnelCode::kDeclined);
        return finish(c, static_cast<uint8_t>(MipReplyCode::kHaAdminProhibited), out);
      }
      if (q.encap != kMipNextIpv4) {
        c.rep.code = static_cast<uint8_t>(MipUdpTunnelCode::kDeclined);
        return finish(c, static_cast<uint8_t>(MipReplyCode::kHaUdpEncapUnavailable), out);
      }
      c.udp = true;
      c.rep.code = static_cast<uint8_t>(MipUdpTunnelCode::kWillTunnel);
      c.rep.keepalive = cfg_.keepalive_s;
    }
  }

  /* 10: the binding. */
  const uint8_t code = apply_binding(c);
  if (!mip_code_accepted(code)) c.utrp = false;  /* no tunnel without a binding */
  if (mip_code_accepted(code) && !nonces) mip_replay_commit(mn.sa, &mn.replay, rq->id, rr);
  return finish(c, code, out);
}

uint8_t HomeAgent::apply_binding(Ctx& c) noexcept {
  const Binding* cur = table_->lookup(c.home);
  const Ipv4Addr coa = c.rq.care_of;

  if (c.rq.lifetime == 0) {
    /* RFC 5944 3.8.3.1: care-of = home address removes every binding,
     * else only that care-of address's. Nothing to remove is no error. */
    c.lifetime = 0;
    if (!cur) return 0;
    if (coa == c.home) {
      ctr_.deregistered += cur->n_coa;
      table_->remove(c.home);
      return 0;
    }
    const int i = cur->find(coa);
    if (i < 0) return 0;
    ++ctr_.deregistered;
    if (cur->n_coa == 1) {
      table_->remove(c.home);
      return 0;
    }
    Binding* nb = table_->alloc();
    if (!nb) return static_cast<uint8_t>(MipReplyCode::kHaInsufficientResources);
    *nb = *cur;
    nb->n_coa = 0;
    for (int j = 0; j < cur->n_coa; ++j)
      if (j != i) nb->coa[nb->n_coa++] = cur->coa[j];
    if (!table_->publish(nb)) {
      table_->free_unpublished(nb);
      return static_cast<uint8_t>(MipReplyCode::kHaInsufficientResources);
    }
    return 0;
  }

  /* The lifetime granted: at most ours (3.8.3); 0xffff stays infinite
   * only when our maximum is 0xffff too. */
  c.lifetime = std::min(c.rq.lifetime, cfg_.max_lifetime);
  if (!cur && table_->size() >= cfg_.max_bindings)
    return static_cast<uint8_t>(MipReplyCode::kHaInsufficientResources);

  BindingCoa e;
  e.care_of = coa;
  if (c.udp) {
    e.encap = BindingEncap::kUdp;
    e.peer = c.meta->src;
    e.peer_port = c.meta->src_port;
  } else {
    e.encap = BindingEncap::kIpIp;
    e.peer = coa;
  }
  e.flags = static_cast<uint8_t>((c.rq.t ? kBindReverseTunnel : 0) | (c.rq.d ? kBindDecapByMn : 0) |
                                 (c.lifetime == kMipLifetimeInfinite ? kBindInfinite : 0));
  const uint32_t now_s = static_cast<uint32_t>(c.meta->now_ntp >> 32);
  e.expires_s = now_s + c.lifetime;

  Binding* nb = table_->alloc();
  if (!nb) return static_cast<uint8_t>(MipReplyCode::kHaInsufficientResources);
  uint8_t code = 0;
  nb->home = c.home;
  nb->ha = c.rq.home_agent;
  if (cur && c.rq.s && cfg_.max_simultaneous > 1) {
    /* 3.8.3: S set adds this care-of address to the others (or renews it). */
    *nb = *cur;
    nb->ha = c.rq.home_agent;
    const int i = cur->find(coa);
    if (i >= 0) {
      nb->coa[i] = e;
    } else if (cur->n_coa < cfg_.max_simultaneous) {
      nb->coa[nb->n_coa++] = e;
    } else {
      table_->free_unpublished(nb);
      return static_cast<uint8_t>(MipReplyCode::kHaTooManyBindings);
    }
  } else {
    /* S clear: this binding replaces all others. S set with simultaneous
     * bindings unsupported: accepted with code 1, same effect. */
    if (c.rq.s && cfg_.max_simultaneous <= 1) code = 1;
    nb->n_coa = 1;
    nb->coa[0] = e;
  }
  nb->keepalive_s = 0;
  for (int j = 0; j < nb->n_coa; ++j)
    if (nb->coa[j].encap == BindingEncap::kUdp) nb->keepalive_s = cfg_.keepalive_s;
  if (!table_->publish(nb)) {
    table_->free_unpublished(nb);
    return static_cast<uint8_t>(MipReplyCode::kHaInsufficientResources);
  }
  if (!(e.flags & kBindInfinite)) expiry_.push({e.expires_s, c.home.host()});
  ++ctr_.registered;
  if (c.udp) ++ctr_.udp_tunnels;
  return code;
}

size_t HomeAgent::expire(uint64_t now_ntp) noexcept {
  const uint32_t now_s = static_cast<uint32_t>(now_ntp >> 32);
  auto due = [now_s](uint32_t at) { return static_cast<int32_t>(at - now_s) <= 0; };
  size_t n = 0;
  while (!expiry_.empty() && due(expiry_.top().at)) {
    const Ipv4Addr home(expiry_.top().home);
    expiry_.pop();
    const Binding* cur = table_->lookup(home);
    if (!cur) continue;
    int keep = 0;
    for (int j = 0; j < cur->n_coa; ++j)
      if (cur->coa[j].infinite() || !due(cur->coa[j].expires_s)) ++keep;
    if (keep == cur->n_coa) continue;  /* renewed since: a stale queue entry */
    n += static_cast<size_t>(cur->n_coa - keep);
    if (keep == 0) {
      table_->remove(home);
      continue;
    }
    Binding* nb = table_->alloc();
    if (!nb) {
      /* No memory for the smaller record: drop the whole binding rather
       * than keep tunnelling to an expired care-of address. */
      n += static_cast<size_t>(keep);
      table_->remove(home);
      continue;
    }
    *nb = *cur;
    nb->n_coa = 0;
    for (int j = 0; j < cur->n_coa; ++j)
      if (cur->coa[j].infinite() || !due(cur->coa[j].expires_s)) nb->coa[nb->n_coa++] = cur->coa[j];
    if (!table_->publish(nb)) {
      table_->free_unpublished(nb);
      table_->remove(home);
    }
  }
  ctr_.expired += n;
  table_->reclaim();
  return n;
}

bool HomeAgent::keepalive(Ipv4Addr home, Ipv4Addr care_of, Ipv4Addr src, uint16_t src_port) noexcept {
  const Binding* cur = table_->lookup(home);
  if (!cur) return false;
  const int i = cur->find(care_of);
  if (i < 0 || cur->coa[i].encap != BindingEncap::kUdp) return false;
  if (cur->coa[i].peer == src && cur->coa[i].peer_port == src_port) return true;
  Binding* nb = table_->alloc();
  if (!nb) return true;  /* keep the old mapping */
  *nb = *cur;
  nb->coa[i].peer = src;
  nb->coa[i].peer_port = src_port;
  if (!table_->publish(nb)) table_->free_unpublished(nb);
  return true;
}

std::string HomeAgent::add_operator_binding(Ipv4Addr home, BindingCoa e, uint32_t lifetime_s,
                                            uint64_t now_ntp) {
  if (home.host() == 0) return "the home address may not be 0.0.0.0";
  if (e.care_of.host() == 0 || e.care_of == home)
    return "the care-of address may be neither 0.0.0.0 nor the home address";
  if (e.encap == BindingEncap::kIpIp) {
    e.peer = e.care_of;
    e.peer_port = 0;
  } else if (e.peer.host() == 0 || e.peer_port == 0) {
    return "a UDP tunnel needs a peer address and port";
  }
  const Binding* cur = table_->lookup(home);
  if (!cur && table_->size() >= cfg_.max_bindings) return "the binding table is full (max_bindings)";
  const auto now_s = static_cast<uint32_t>(now_ntp >> 32);
  e.flags = static_cast<uint8_t>(kBindOperator | kBindReverseTunnel | (lifetime_s == 0 ? kBindInfinite : 0));
  e.expires_s = now_s + lifetime_s;
  Binding* nb = table_->alloc();
  if (!nb) return "no memory for a binding record";
  nb->home = home;
  nb->ha = cfg_.addresses.empty() ? Ipv4Addr() : cfg_.addresses[0];
  nb->keepalive_s = e.encap == BindingEncap::kUdp ? cfg_.keepalive_s : 0;
  nb->n_coa = 1;
  nb->coa[0] = e;
  if (!table_->publish(nb)) {
    table_->free_unpublished(nb);
    return "no memory to grow the binding table";
  }
  if (lifetime_s != 0) expiry_.push({e.expires_s, home.host()});
  ++ctr_.registered;
  return {};
}

bool HomeAgent::remove_binding(Ipv4Addr home) noexcept {
  const Binding* cur = table_->lookup(home);
  if (!cur) return false;
  ctr_.deregistered += cur->n_coa;
  table_->remove(home);
  table_->reclaim();
  return true;
}

}  // namespace mipvpn
