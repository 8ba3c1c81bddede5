/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's side of the telemetry commands (docs/telemetry.md):
 * reads of the counters, bindings and SAs it owns, and the run-time
 * changes (SAs, operator bindings), applied between ticks.
 *
 * Counters the workers write: RtCounts are relaxed atomics already
 * (runtime/counters.h). StageCounters and EspSaStats are plain uint64_t
 * that one worker writes once per burst; we read each through
 * std::atomic_ref<uint64_t> with a relaxed load. An aligned 8-byte load is
 * single-copy atomic on every target we build for (x86-64, AArch64), so a
 * counter never reads torn, and the load costs the same as a plain one;
 * the workers are not slowed (no seqlock, no snapshot copy per burst).
 * Counters of one reply are not a consistent cut across counters: each is
 * a value it held at some moment during the read.
 */
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>

#include "mipvpnd/appliance.h"
#include "mipvpnd/ctl_params.h"
#include "mipvpnd/telemetry.h"
#include "mipvpnd/util.h"
#include "mip/replay.h"
#include "runtime/runtime.h"

namespace mipvpn {

namespace {

uint64_t relaxed(const uint64_t& v) noexcept {
  static_assert(std::atomic_ref<uint64_t>::required_alignment <= alignof(uint64_t));
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(v)).load(std::memory_order_relaxed);
}

std::string prefix_str(const Ipv4Prefix& p) { return p.addr.str() + "/" + std::to_string(p.len); }

/* The home agents' clock in whole seconds (Binding expiry is kept so). */
uint32_t now_ntp_s() noexcept { return static_cast<uint32_t>(ha_now_ntp() >> 32); }

/* Bindings and SAs per reply: DPDK's telemetry answers at most 16 KiB. */
constexpr uint32_t kBindingsPerReply = 48;
constexpr uint32_t kSasPerReply = 32;

}  // namespace

StageCounters Appliance::live_stage_counters() const noexcept {
  StageCounters t{};
  auto add = [&t](const StageCounters& c) {
    t.rx += relaxed(c.rx);
    for (size_t i = 0; i < std::size(c.drops); ++i) t.drops[i] += relaxed(c.drops[i]);
    for (size_t i = 0; i < std::size(c.stage); ++i) t.stage[i] += relaxed(c.stage[i]);
    for (size_t i = 0; i < std::size(c.esp_inb_drops); ++i) t.esp_inb_drops[i] += relaxed(c.esp_inb_drops[i]);
    for (size_t i = 0; i < std::size(c.esp_outb_drops); ++i) t.esp_outb_drops[i] += relaxed(c.esp_outb_drops[i]);
  };
  for (const ServerPipeline* p : pipelines_) add(p->counters());
  if (ctl_pipeline_) add(ctl_pipeline_->counters());
  return t;
}

void Appliance::cmd_stats(Runtime* rt, TelDict& out) const {
  const RtCounts r = rt ? rt->counts() : runtime_counts_;
  TelDict& p = out.dict("ports");
  p.u64("rx", r.rx);
  p.u64("tx", r.tx);
  p.u64("punted", r.punted);
  p.u64("spread", r.spread);
  p.u64("dropped", r.total_drops());
  /* Each port as its ethdev counts it (while the runtime runs). */
  for (uint16_t i = 0; rt && i < rt->ports() && i < cfg_.ports.size(); ++i) {
    EthStats e;
    if (!eth_stats(rt->port_id(i), e)) continue;
    char key[16];
    std::snprintf(key, sizeof key, "port%u", i);
    TelDict& d = out.dict(key);
    d.str("name", cfg_.ports[i].name.substr(0, 63));
    d.u64("ipackets", e.ipackets);
    d.u64("opackets", e.opackets);
    d.u64("ibytes", e.ibytes);
    d.u64("obytes", e.obytes);
    d.u64("imissed", e.imissed);
    d.u64("ierrors", e.ierrors);
    d.u64("oerrors", e.oerrors);
    d.u64("rx_nombuf", e.rx_nombuf);
  }
  /* Each worker's loop (VPP's clocks per vector): busy_cycles / rx is
   * its cost per packet without idle polls, rx / busy_polls its burst. */
  for (unsigned w = 0; rt && w < rt->workers(); ++w) {
    const RtCounts wc = rt->worker_counts(w);
    char key[24];
    std::snprintf(key, sizeof key, "worker%u", w);
    TelDict& d = out.dict(key);
    d.u64("rx", wc.rx);
    d.u64("tx", wc.tx);
    d.u64("polls", wc.polls);
    d.u64("busy_polls", wc.busy_polls);
    d.u64("busy_cycles", wc.busy_cycles);
    d.u64("tsc_hz", rt->tsc_hz());
  }
  const StageCounters s = live_stage_counters();
  TelDict& st = out.dict("stages");
  st.u64("rx", s.rx);
  for (size_t i = 0; i < static_cast<size_t>(Stage::kCount); ++i)
    st.u64(std::string(to_string(static_cast<Stage>(i))), s.stage[i]);
  uint64_t sd = 0;
  for (size_t i = 1; i < static_cast<size_t>(StageDrop::kCount); ++i) sd += s.drops[i];
  st.u64("dropped", sd);
  TelDict& c = out.dict("control");
  TelDict& a = out.dict("arp");  /* RFC 826, answered and resolved by the runtime */
  a.u64("requests_sent", r.arp.requests_sent);
  a.u64("replies_sent", r.arp.replies_sent);
  a.u64("requests_received", r.arp.requests_received);
  a.u64("replies_received", r.arp.replies_received);
  a.u64("ignored", r.arp.ignored);
  a.u64("learned", r.arp.learned);
  a.u64("failed", r.arp.failed);
  a.u64("held", r.arp.held);
  a.u64("released", r.arp.released);
  a.u64("evicted", r.arp.evicted);
  c.u64("registrations", ctl_.registrations);
  c.u64("replies_sent", ctl_.replies_sent);
  c.u64("reply_no_route", ctl_.reply_no_route);
  c.u64("reply_send_failed", ctl_.reply_send_failed);
  c.u64("not_for_agent", ctl_.not_for_agent);
  c.u64("ike_unhandled", ctl_.ike_unhandled);
  c.u64("other", ctl_.other);
  c.u64("expired", ctl_.expired);
  c.u64("log_suppressed", ctl_.log_suppressed);
  if (ike_) {  /* the IKE bridge (ike_bridge.h) */
    const IkeBridgeCounters& k = ike_->counters();
    TelDict& i = out.dict("ike");
    i.u64("ike_to_host", k.to_host);
    i.u64("ike_from_host", k.from_host);
    i.u64("ike_tap_drop", k.dropped());
  }
  for (auto [name, ha] : {std::pair{"xha", xha_.get()}, std::pair{"iha", iha_.get()}}) {
    if (!ha) continue;
    const HaCounters& h = ha->counters();
    TelDict& d = out.dict(name);
    d.u64("bindings", ha->bindings().size());
    d.u64("registered", h.registered);
    d.u64("deregistered", h.deregistered);
    d.u64("expired", h.expired);
    d.u64("udp_tunnels", h.udp_tunnels);
    uint64_t accepted = h.replies[0] + h.replies[1], refused = 0;
    for (size_t i = 2; i < h.replies.size(); ++i) refused += h.replies[i];
    d.u64("accepted", accepted);
    d.u64("refused", refused);
  }
  TelDict& v = out.dict("vpngw");
  uint64_t in = 0, outb = 0;
  for (const SaRec& x : sas_) (x.sa->dir() == EspDir::kInbound ? in : outb) += 1;
  v.u64("sas_in", in);
  v.u64("sas_out", outb);
  v.u64("retired_tables", retired_.size());
}

void Appliance::cmd_drops(Runtime* rt, TelDict& out) const {
  const RtCounts r = rt ? rt->counts() : runtime_counts_;
  TelDict& d = out.dict("runtime");
  for (size_t i = 0; i < kRtDropCount; ++i) d.u64(std::string(to_string(static_cast<RtDrop>(i))), r.drops[i]);
  const StageCounters s = live_stage_counters();
  TelDict& st = out.dict("stage");
  for (size_t i = 1; i < static_cast<size_t>(StageDrop::kCount); ++i)
    st.u64(std::string(to_string(static_cast<StageDrop>(i))), s.drops[i]);
  TelDict& ei = out.dict("esp_inb");
  TelDict& eo = out.dict("esp_outb");
  for (size_t i = static_cast<size_t>(EspDrop::kNone) + 1; i < static_cast<size_t>(EspDrop::kCount); ++i) {
    const std::string n(to_string(static_cast<EspDrop>(i)));
    ei.u64(n, s.esp_inb_drops[i]);
    eo.u64(n, s.esp_outb_drops[i]);
  }
  if (ike_) {
    TelDict& k = out.dict("ike_tap");
    for (size_t i = 0; i < kIkeTapDropCount; ++i)
      k.u64(std::string(to_string(static_cast<IkeTapDrop>(i))), ike_->counters().drops[i]);
  }
  for (auto [name, ha] : {std::pair{"xha", xha_.get()}, std::pair{"iha", iha_.get()}}) {
    if (!ha) continue;
    TelDict& h = out.dict(name);
    for (size_t i = 1; i < static_cast<size_t>(HaDrop::kCount); ++i)
      h.u64(std::string(to_string(static_cast<HaDrop>(i))), ha->counters().drops[i]);
  }
}

bool Appliance::cmd_bindings(std::string_view params, TelDict& out, std::string* err) const {
  BindingsParams bp;
  if (!parse_bindings(params, bp, err)) return false;
  const uint32_t now_s = now_ntp_s();
  uint32_t skipped = 0, shown = 0;
  bool more = false;
  for (auto [sel, ha] : {std::pair{HaSel::kXha, xha_.get()}, std::pair{HaSel::kIha, iha_.get()}}) {
    if (!bp.both && bp.ha != sel) continue;
    const char* role = sel == HaSel::kXha ? "xha" : "iha";
    if (!ha) {
      if (!bp.both) return *err = std::string("this appliance has no ") + role + " role", false;
      continue;
    }
    out.u64(std::string(role) + "_total", ha->bindings().size());
    ha->bindings().for_each([&](const Binding& b) {
      for (int i = 0; i < b.n_coa; ++i) {
        if (skipped < bp.from) {
          ++skipped;
          continue;
        }
        if (shown >= kBindingsPerReply) {
          more = true;
          return;
        }
        const BindingCoa& c = b.coa[i];
        char key[24];
        std::snprintf(key, sizeof key, "b%u", bp.from + shown++);
        TelDict& d = out.dict(key);
        d.str("role", role);
        d.str("home", b.home.str());
        d.str("care_of", c.care_of.str());
        d.str("peer", c.peer.str());
        d.u64("port", c.peer_port);
        d.str("encap", c.encap == BindingEncap::kUdp ? "udp" : "ipip");
        std::string f;
        if (c.flags & kBindReverseTunnel) f += "T";
        if (c.flags & kBindDecapByMn) f += "D";
        if (c.flags & kBindOperator) f += "O";
        d.str("flags", f);
        d.str("ha", b.ha.str());
        if (c.infinite())
          d.str("expires_in", "infinite");
        else
          d.i64("expires_in", static_cast<int32_t>(c.expires_s - now_s));
      }
    });
  }
  out.u64("from", bp.from);
  out.u64("shown", shown);
  out.u64("more", more ? 1 : 0);
  return true;
}

void Appliance::cmd_sas(TelDict& out) const {
  out.u64("total", sas_.size());
  uint32_t shown = 0;
  for (const SaRec& x : sas_) {
    if (shown++ >= kSasPerReply) break;
    const EspSa& sa = *x.sa;
    const bool in = sa.dir() == EspDir::kInbound;
    TelDict& d = out.dict("sa_" + hex32(sa.spi()).substr(2) + (in ? "_in" : "_out"));
    d.str("spi", hex32(sa.spi()));
    d.str("dir", in ? "in" : "out");
    d.str("suite", std::string(sa.suite().name));
    d.str("src", x.src.str());
    d.str("dst", x.dst.str());
    d.str("selector", prefix_str(x.selector));
    d.u64("natt_sport", x.natt_sport);
    d.u64("natt_dport", x.natt_dport);
    d.str("origin", x.operator_made ? "runtime" : "config");
    const EspSaStats& s = sa.stats();
    d.u64("packets", relaxed(s.packets));
    d.u64("bytes", relaxed(s.bytes));
    uint64_t drops = 0;
    for (const uint64_t& v : s.drops) drops += relaxed(v);
    d.u64("drops", drops);
    /* The reasons that happened, each by name. */
    for (size_t i = static_cast<size_t>(EspDrop::kNone) + 1; i < static_cast<size_t>(EspDrop::kCount); ++i)
      if (const uint64_t v = relaxed(s.drops[i]); v) d.u64("drop_" + std::string(to_string(static_cast<EspDrop>(i))), v);
  }
  out.u64("shown", std::min<uint64_t>(shown, kSasPerReply));
}

bool Appliance::republish(Runtime* rt, std::vector<std::unique_ptr<EspSa>> gone, std::string* err) {
  StageTablesBuilder b = base_;
  for (const SaRec& x : sas_) {
    if (x.sa->dir() == EspDir::kInbound)
      b.inbound_sa(x.sa.get(), x.selector);
    else
      b.outbound_sa(x.selector, x.sa.get());
  }
  auto t = b.build(err);
  if (!t) return false;
  std::unique_ptr<const StageTables> old = std::move(tables_owned_);
  tables_owned_ = std::move(t);
  tables_.store(tables_owned_.get(), std::memory_order_release);
  if (old || !gone.empty()) {
    Retired r;
    r.tables = std::move(old);
    r.sas = std::move(gone);
    r.token = rt ? rt->rcu_start() : 0;
    retired_.push_back(std::move(r));
    if (!rt) retired_.clear();  /* no workers yet */
  }
  return true;
}

void Appliance::reclaim_retired(Runtime* rt, bool wait) noexcept {
  /* Oldest first: a later token's grace period covers the earlier ones. */
  size_t n = 0;
  while (n < retired_.size() && (wait || !rt || rt->rcu_check(retired_[n].token))) ++n;
  retired_.erase(retired_.begin(), retired_.begin() + static_cast<ptrdiff_t>(n));
}

bool Appliance::cmd_sa_add(Runtime* rt, std::string_view params, std::string* msg) {
  SaAddParams p;
  if (!parse_sa_add(params, p, msg)) return false;
  if (!cfg_.vpngw) return *msg = "this appliance has no vpngw role", false;
  EspSaSpec s;
  s.spi = p.spi;
  s.dir = p.inbound ? EspDir::kInbound : EspDir::kOutbound;
  s.suite = esp_suite_by_name(p.suite);
  if (!s.suite) return *msg = "unknown suite '" + p.suite + "'", false;
  /* The same rule as the configuration: a GCM key that is not fresh
   * repeats nonces (RFC 4106 8.1), so static GCM keys need consent. */
  if (s.suite->salt_len != 0 && !cfg_.vpngw->allow_static_gcm)
    return *msg = "GCM suites need vpngw.allow_static_gcm = true", false;
  s.cipher_key = p.key;
  s.auth_key = p.auth_key;
  s.src = p.src;
  s.dst = p.dst;
  s.esn = p.esn;
  s.replay_window = p.window;
  s.natt_sport = p.natt_sport;
  s.natt_dport = p.natt_dport;
  s.selector = p.selector;
  for (const SaRec& x : sas_)
    if (x.sa->spi() == s.spi && x.sa->dir() == s.dir)
      return *msg = "SA " + hex32(s.spi) + (p.inbound ? " in" : " out") + " exists already", false;
  std::string e;
  auto sa = EspSa::create(s.esp_config(), &e);
  if (!sa) return *msg = e, false;
  sas_.push_back({std::move(sa), s.src, s.dst, s.selector, s.natt_sport, s.natt_dport, true});
  if (!republish(rt, {}, &e)) {
    sas_.pop_back();
    return *msg = e, false;
  }
  *msg = "SA " + hex32(p.spi) + (p.inbound ? " in" : " out") + " added";
  log_event(LogLevel::kInfo, "vpngw: SA %s %s added (%s, %s -> %s, selector %s)", hex32(p.spi).c_str(),
            p.inbound ? "in" : "out", p.suite.c_str(), p.src.str().c_str(), p.dst.str().c_str(),
            prefix_str(p.selector).c_str());
  return true;
}

bool Appliance::cmd_sa_del(Runtime* rt, std::string_view params, std::string* msg) {
  SaDelParams p;
  if (!parse_sa_del(params, p, msg)) return false;
  const EspDir dir = p.inbound ? EspDir::kInbound : EspDir::kOutbound;
  auto it = std::find_if(sas_.begin(), sas_.end(),
                         [&](const SaRec& x) { return x.sa->spi() == p.spi && x.sa->dir() == dir; });
  if (it == sas_.end()) return *msg = "no SA " + hex32(p.spi) + (p.inbound ? " in" : " out"), false;
  SaRec rec = std::move(*it);
  sas_.erase(it);
  std::vector<std::unique_ptr<EspSa>> gone;
  gone.push_back(std::move(rec.sa));
  std::string e;
  if (!republish(rt, std::move(gone), &e)) {
    /* Cannot happen for a removal; keep the SA if it does. */
    return *msg = e, false;
  }
  *msg = "SA " + hex32(p.spi) + (p.inbound ? " in" : " out") + " removed";
  log_event(LogLevel::kInfo, "vpngw: SA %s %s removed", hex32(p.spi).c_str(), p.inbound ? "in" : "out");
  return true;
}

bool Appliance::cmd_binding_add(std::string_view params, std::string* msg) {
  BindingAddParams p;
  if (!parse_binding_add(params, p, msg)) return false;
  HomeAgent* ha = p.ha == HaSel::kXha ? xha_.get() : iha_.get();
  const char* role = p.ha == HaSel::kXha ? "xha" : "iha";
  if (!ha) return *msg = std::string("this appliance has no ") + role + " role", false;
  BindingCoa c;
  c.care_of = p.coa;
  c.encap = p.udp ? BindingEncap::kUdp : BindingEncap::kIpIp;
  c.peer = p.peer;
  c.peer_port = p.port;
  const std::string e = ha->add_operator_binding(p.home, c, p.lifetime_s, ha_now_ntp());
  if (!e.empty()) return *msg = e, false;
  *msg = std::string(role) + " binding " + p.home.str() + " -> " + p.coa.str() + " added";
  log_event(LogLevel::kInfo, "%s: operator binding %s -> %s (%s, lifetime %s) added", role, p.home.str().c_str(),
            p.coa.str().c_str(), p.udp ? "udp" : "ipip",
            p.lifetime_s ? std::to_string(p.lifetime_s).c_str() : "infinite");
  return true;
}

bool Appliance::cmd_binding_del(std::string_view params, std::string* msg) {
  BindingDelParams p;
  if (!parse_binding_del(params, p, msg)) return false;
  HomeAgent* ha = p.ha == HaSel::kXha ? xha_.get() : iha_.get();
  const char* role = p.ha == HaSel::kXha ? "xha" : "iha";
  if (!ha) return *msg = std::string("this appliance has no ") + role + " role", false;
  if (!ha->remove_binding(p.home)) return *msg = std::string(role) + " has no binding for " + p.home.str(), false;
  *msg = std::string(role) + " binding " + p.home.str() + " removed";
  log_event(LogLevel::kInfo, "%s: binding %s removed by the operator", role, p.home.str().c_str());
  return true;
}

void Appliance::serve_requests(Runtime* rt) noexcept {
  std::vector<CtlRequest> reqs;
  try {
    reqs = chan_.take();
  } catch (...) {
    return;
  }
  for (CtlRequest& q : reqs) {
    try {
      CtlResult r;
      bool ok = true;
      const std::string& c = q.cmd;
      if (c == "stats") cmd_stats(rt, r.data);
      else if (c == "drops") cmd_drops(rt, r.data);
      else if (c == "bindings") ok = cmd_bindings(q.params, r.data, &r.message);
      else if (c == "sas") cmd_sas(r.data);
      else if (c == "sa_add") ok = cmd_sa_add(rt, q.params, &r.message);
      else if (c == "sa_del") ok = cmd_sa_del(rt, q.params, &r.message);
      else if (c == "binding_add") ok = cmd_binding_add(q.params, &r.message);
      else if (c == "binding_del") ok = cmd_binding_del(q.params, &r.message);
      else ok = false, r.message = "unknown command " + c;
      r.state = ok ? CtlResult::State::kOk : CtlResult::State::kError;
      chan_.finish(q.id, std::move(r));
    } catch (...) {
      chan_.finish(q.id, {CtlResult::State::kError, "out of memory", {}});
    }
  }
}

}  // namespace mipvpn
