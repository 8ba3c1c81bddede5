/* SPDX-License-Identifier: BSD-3-Clause */
#include "mipvpnd/appliance.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <random>
#include <sstream>

#include "mip/replay.h"
#include "mipvpnd/punt.h"
#include "mipvpnd/telemetry.h"
#include "mipvpnd/util.h"
#include "runtime/runtime.h"

namespace mipvpn {

Appliance::Appliance(const Config& cfg, const ApplianceOptions& opt) : cfg_(cfg), opt_(opt) {}

Appliance::~Appliance() {
  /* Telemetry callbacks must not reach a dead channel. */
  telemetry_detach();
  chan_.close();
}

std::unique_ptr<Appliance> Appliance::build(const Config& cfg, const ApplianceOptions& opt,
                                            std::string* err) {
  std::unique_ptr<Appliance> a(new Appliance(cfg, opt));
  auto make_ha = [&](const HaSectionConfig& s, const char* name) -> std::unique_ptr<HomeAgent> {
    std::unique_ptr<HomeAgent> ha;
    HaConfig hc = s.ha;
    /* Nonces must not repeat across restarts (RFC 5944 5.7.2). */
    std::random_device rd;
    hc.nonce_seed = (uint64_t{rd()} << 32 | rd()) | 1;
    try {
      ha = std::make_unique<HomeAgent>(hc, std::max<uint32_t>(1024, std::min<uint32_t>(hc.max_bindings, 1u << 20)));
    } catch (const std::exception& e) {
      *err = std::string(name) + ": " + e.what();
      return nullptr;
    }
    for (size_t i = 0; i < s.mobile_nodes.size(); ++i) {
      const MipError e = ha->add_mobile_node(s.mobile_nodes[i]);
      if (e != MipError::kOk) {
        *err = std::string(name) + ".mobile_nodes[" + std::to_string(i) + "]: " + std::string(to_string(e));
        return nullptr;
      }
    }
    for (size_t i = 0; i < s.bindings.size(); ++i) {
      const StaticBindingConfig& b = s.bindings[i];
      BindingCoa e;  /* IP-in-IP ignores peer and port (add_operator_binding) */
      e.care_of = b.care_of;
      e.encap = b.udp ? BindingEncap::kUdp : BindingEncap::kIpIp;  /* RFC 3519: UDP to the NAT */
      e.peer = b.peer;
      e.peer_port = b.port;
      const std::string why = ha->add_operator_binding(b.home, e, 0, ha_now_ntp());
      if (!why.empty()) {
        *err = std::string(name) + ".bindings[" + std::to_string(i) + "]: " + why;
        return nullptr;
      }
    }
    return ha;
  };
  if (cfg.xha && !(a->xha_ = make_ha(*cfg.xha, "xha"))) return nullptr;
  if (cfg.iha && !(a->iha_ = make_ha(*cfg.iha, "iha"))) return nullptr;
  if (cfg.xha) a->xha_log_ = RateLimitedLog(cfg.xha->ha.log_rate_per_s, cfg.xha->ha.log_burst);
  if (cfg.iha) a->iha_log_ = RateLimitedLog(cfg.iha->ha.log_rate_per_s, cfg.iha->ha.log_burst);

  StageTablesBuilder b;
  b.roles(static_cast<uint8_t>((cfg.roles.xha ? kRoleXha : 0) | (cfg.roles.vpngw ? kRoleVpnGw : 0) |
                               (cfg.roles.iha ? kRoleIha : 0)));
  if (a->xha_) {
    for (Ipv4Addr x : cfg.xha->ha.addresses) b.xha_addr(x);
    b.xha_bindings(&a->xha_->bindings());
  }
  if (a->iha_) {
    for (Ipv4Addr x : cfg.iha->ha.addresses) b.iha_addr(x);
    b.iha_bindings(&a->iha_->bindings());
  }
  if (cfg.vpngw) {
    b.gw_addr(cfg.vpngw->address);
    for (size_t i = 0; i < cfg.vpngw->sas.size(); ++i) {
      const EspSaSpec& s = cfg.vpngw->sas[i];
      std::string e;
      auto sa = EspSa::create(s.esp_config(), &e);
      if (!sa) {
        *err = "vpngw.sas[" + std::to_string(i) + "] (spi " + hex32(s.spi) + "): " + e;
        return nullptr;
      }
      a->sas_.push_back({std::move(sa), s.src, s.dst, s.selector, s.natt_sport, s.natt_dport, false});
    }
  }
  for (size_t i = 0; i < cfg.ports.size(); ++i) {
    const PortConfig& p = cfg.ports[i];
    b.port(p.address.addr, p.mtu, p.internal ? PortZone::kInternal : PortZone::kExternal);
    b.route(p.address.subnet(), static_cast<uint16_t>(i));  /* connected */
  }
  for (const RouteConfig& r : cfg.routes) b.route(r.prefix, static_cast<uint16_t>(r.port), r.via);
  a->base_ = b;
  std::string e;
  if (!a->republish(nullptr, {}, &e)) {
    *err = "tables: " + e;
    return nullptr;
  }
  return a;
}

HomeAgent* Appliance::agent_for(Ipv4Addr dst) noexcept {
  const uint8_t own = tables()->own(dst);
  if ((own & kOwnXha) && xha_) return xha_.get();
  if ((own & kOwnIha) && iha_) return iha_.get();
  return nullptr;
}

bool Appliance::admit_registration_log(const HomeAgent* ha, const HaVerdict& v, uint64_t now_s) noexcept {
  if (v.reply && v.code <= 1) return true;
  RateLimitedLog& l = ha == xha_.get() ? xha_log_ : iha_log_;
  if (l.admit(now_s)) return true;
  ++ctl_.log_suppressed;
  return false;
}

void Appliance::on_punt(Runtime& rt, CtlPkt& p) noexcept {
  if (p.arp) {
    /* The runtime answers ARP itself (punt_arp is off): not expected here. */
    ++ctl_.other;
    rt.free(p);
    return;
  }

  /* IKE for the gateway (RFC 7296, RFC 3948 2.2): to the host's IKE
   * daemon over the TUN (ike_bridge.h), or counted and dropped. */
  if (cfg_.vpngw && ike_to_host_check(p.view.bytes(), cfg_.vpngw->address)) {
    if (ike_) {
      ike_->to_host(rt, p);
    } else {
      ++ctl_.ike_unhandled;
      rt.free(p);
    }
    return;
  }
  MipDatagram d;
  if (!mip_datagram_parse(p.view.bytes(), d)) {
    ++ctl_.other;
    rt.free(p);
    return;
  }
  HomeAgent* ha = agent_for(d.dst);
  if (!ha) {
    ++ctl_.not_for_agent;
    rt.free(p);
    return;
  }
  ++ctl_.registrations;
  RequestMeta m;
  m.src = d.src;
  m.src_port = d.sport;
  m.dst = d.dst;
  m.internal_iface = p.port < cfg_.ports.size() && cfg_.ports[p.port].internal;
  m.now_ntp = ha_now_ntp();
  std::array<std::byte, 1024> reply;
  const HaVerdict v = ha->process_request(d.payload, m, reply);
  rt.free(p);
  if (admit_registration_log(ha, v, static_cast<uint64_t>(std::time(nullptr)))) {
    /* One event per registration (control plane), formatted without allocating. */
    const char* role = ha == xha_.get() ? "x-HA" : "i-HA";
    const uint32_t h = d.src.host();
    char src[16];
    std::snprintf(src, sizeof src, "%u.%u.%u.%u", h >> 24, (h >> 16) & 255u, (h >> 8) & 255u, h & 255u);
    const std::string_view why = to_string(v.drop);
    if (!v.reply)
      log_event(LogLevel::kNotice, "%s: registration from %s dropped (%.*s)", role, src,
                static_cast<int>(why.size()), why.data());
    else if (v.code <= 1)
      log_event(LogLevel::kInfo, "%s: registration from %s accepted (code %u)", role, src, v.code);
    else
      log_event(LogLevel::kNotice, "%s: registration from %s refused (code %u)", role, src, v.code);
  }
  if (!v.reply) return;

  /* The reply goes through the stages like any packet we originate: in a
   * combined appliance an i-HA reply to the VPN tunnel inner address is
   * ESP-protected and x-MIP-encapsulated (RFC 5265 section 2). */
  const uint16_t out_port = cfg_.ports.empty() ? 0 : p.port;
  CtlPkt o = rt.alloc(out_port);
  if (!o.mbuf) {
    ++ctl_.reply_send_failed;
    return;
  }
  const size_t len = mip_reply_frame(d.dst, d.src, d.sport, ip_id_++,
                                     std::span<const std::byte>(reply).first(v.len),
                                     std::span<std::byte>(o.view.data(), o.view.data_len + o.view.tailroom()));
  if (len == 0) {
    ++ctl_.reply_send_failed;
    rt.free(o);
    return;
  }
  o.view.data_len = static_cast<uint32_t>(len);
  if (!ctl_pipeline_) {
    ++ctl_.reply_send_failed;
    rt.free(o);
    return;
  }
  PktView* pv = &o.view;
  Ipv4Addr nh;
  ctl_pipeline_->process(&pv, 1, kPortLocal, &nh);
  if (o.view.user >= kVerdictFirstSpecial) {
    ++ctl_.reply_no_route;
    rt.free(o);
    return;
  }
  if (rt.send_ip(o, o.view.user, nh))
    ++ctl_.replies_sent;
  else
    ++ctl_.reply_send_failed;
}

void Appliance::tick(Runtime& rt) noexcept {
  std::array<CtlPkt, 32> pk;
  for (int round = 0; round < 8; ++round) {
    const uint16_t n = rt.poll_punts(pk.data(), static_cast<uint16_t>(pk.size()));
    for (uint16_t i = 0; i < n; ++i) on_punt(rt, pk[i]);
    if (n < pk.size()) break;
  }
  if (ike_ && ctl_pipeline_) ike_->poll(rt, *ctl_pipeline_, *tables());
  const auto now = static_cast<uint64_t>(std::time(nullptr));
  if (now != last_expire_s_) {
    last_expire_s_ = now;
    const uint64_t t = ha_now_ntp();
    for (auto [name, ha] : {std::pair{"x-HA", xha_.get()}, std::pair{"i-HA", iha_.get()}}) {
      if (!ha) continue;
      const size_t n = ha->expire(t);
      ctl_.expired += n;
      if (n) log_event(LogLevel::kInfo, "%s: %zu care-of address(es) expired", name, n);
    }
  }
  serve_requests(&rt);
  reclaim_retired(&rt, false);
}

int Appliance::run(std::string* err) {
  RuntimeConfig rc;
  for (const PortConfig& p : cfg_.ports) {
    PortSpec s;
    s.name = p.name;
    s.device = p.device;
    s.mtu = p.mtu;
    s.mac = p.mac;
    /* The runtime answers ARP (RFC 826) for these: the port's address and
     * our agent / gateway addresses on its subnet. */
    auto ours = [&](Ipv4Addr x) {
      if (p.address.on_subnet(x) && tables()->own(x) != 0 &&
          std::find(s.addresses.begin(), s.addresses.end(), x) == s.addresses.end())
        s.addresses.push_back(x);
    };
    s.addresses.push_back(p.address.addr);
    if (cfg_.xha) for (Ipv4Addr x : cfg_.xha->ha.addresses) ours(x);
    if (cfg_.iha) for (Ipv4Addr x : cfg_.iha->ha.addresses) ours(x);
    if (cfg_.vpngw) ours(cfg_.vpngw->address);
    rc.ports.push_back(s);
  }
  for (const NeighbourConfig& n : cfg_.neighbours)
    rc.neighbours.push_back({static_cast<uint16_t>(n.port), n.address, n.mac});
  rc.workers = cfg_.workers;
  rc.worker_idle_sleep_us = opt_.worker_idle_sleep_us;
  rc.punt_police.rate_per_s = cfg_.punt.rate_per_source;
  rc.punt_police.burst = cfg_.punt.burst;

  std::string perr;
  ctl_pipeline_ = ServerPipeline::create(tables_, &perr);
  if (!ctl_pipeline_) {
    *err = "control pipeline: " + perr;
    return 1;
  }
  pipelines_.clear();
  auto factory = [this, &perr](unsigned) -> std::unique_ptr<Pipeline> {
    auto p = ServerPipeline::create(tables_, &perr);
    if (p) pipelines_.push_back(p.get());
    return p;
  };
  auto [rt, rerr] = Runtime::create(rc, factory);
  if (!rt) {
    *err = rerr.empty() ? perr : rerr;
    return 1;
  }
  for (const std::string& n : rt->notes())
    if (!opt_.quiet) std::printf("mipvpnd: %s\n", n.c_str());
  if (cfg_.ike && cfg_.vpngw) {
    std::string ierr;
    ike_ = IkeBridge::open(*cfg_.ike, cfg_.vpngw->address, &ierr);
    if (!ike_) {
      *err = "ike: " + ierr;
      return 1;
    }
    if (!opt_.quiet)
      std::printf("mipvpnd: IKE for %s bridged to interface %s\n", cfg_.vpngw->address.str().c_str(),
                  ike_->ifname().c_str());
  }

  /* The binding tables take their grace periods from the runtime's
   * rte_rcu_qsbr, like every other table the workers read: one quiescent
   * report per worker loop for all of them. */
  auto grace_periods = [this](const QsbrGracePeriod& g) {
    for (HomeAgent* ha : {xha_.get(), iha_.get()})
      if (ha) ha->set_grace_period(g);
  };
  QsbrGracePeriod gp;
  gp.ctx = rt.get();
  gp.start = [](void* c) noexcept { return static_cast<Runtime*>(c)->rcu_start(); };
  gp.check = [](void* c, uint64_t t) noexcept { return static_cast<Runtime*>(c)->rcu_check(t); };
  grace_periods(gp);

  if (const RtStatus st = rt->start(); !st.ok()) {
    grace_periods(QsbrGracePeriod{});
    *err = st.error;
    return 1;
  }
  if (!opt_.quiet) {
    std::printf("mipvpnd: running: %u worker(s), %u port(s); SIGINT or SIGTERM stops\n", rt->workers(),
                rt->ports());
    std::fflush(stdout);
  }
  log_init(opt_.quiet);
  if (cfg_.telemetry) telemetry_attach(&chan_);
  rt->run([this](Runtime& r) { tick(r); });
  /* Telemetry off before anything it reads goes away. */
  telemetry_detach();
  chan_.close();
  rt->stop();
  reclaim_retired(rt.get(), true);
  /* The workers are stopped: free what the binding tables retired, and
   * leave the runtime's grace periods before it goes. */
  grace_periods(QsbrGracePeriod{});
  final_stage_ = StageCounters{};
  auto add = [this](const StageCounters& c) {
    final_stage_.rx += c.rx;
    for (size_t i = 0; i < std::size(c.drops); ++i) final_stage_.drops[i] += c.drops[i];
    for (size_t i = 0; i < std::size(c.stage); ++i) final_stage_.stage[i] += c.stage[i];
    for (size_t i = 0; i < std::size(c.esp_inb_drops); ++i) final_stage_.esp_inb_drops[i] += c.esp_inb_drops[i];
    for (size_t i = 0; i < std::size(c.esp_outb_drops); ++i) final_stage_.esp_outb_drops[i] += c.esp_outb_drops[i];
  };
  for (const ServerPipeline* p : pipelines_) add(p->counters());
  add(ctl_pipeline_->counters());
  runtime_counts_ = rt->counts();
  pipelines_.clear();
  rt.reset();
  /* After the runtime: it may have held packets from the TUN's pool. */
  if (ike_) ike_->close();
  if (!opt_.quiet) std::printf("%s", summary().c_str());
  return 0;
}

StageCounters Appliance::stage_counters() const noexcept { return final_stage_; }

std::string Appliance::summary() const {
  std::ostringstream o;
  const RtCounts& r = runtime_counts_;
  o << "mipvpnd: ports rx " << r.rx << " tx " << r.tx << " punted " << r.punted << "\n";
  for (size_t i = 0; i < kRtDropCount; ++i)
    if (r.drops[i]) o << "  drop " << to_string(static_cast<RtDrop>(i)) << " " << r.drops[i] << "\n";
  for (size_t i = 0; i < static_cast<size_t>(Stage::kCount); ++i)
    if (final_stage_.stage[i]) o << "  stage " << to_string(static_cast<Stage>(i)) << " " << final_stage_.stage[i] << "\n";
  for (size_t i = 0; i < static_cast<size_t>(StageDrop::kCount); ++i)
    if (final_stage_.drops[i]) o << "  drop " << to_string(static_cast<StageDrop>(i)) << " " << final_stage_.drops[i] << "\n";
  for (size_t i = 0; i < static_cast<size_t>(EspDrop::kCount); ++i) {
    if (final_stage_.esp_inb_drops[i]) o << "  esp_inb " << to_string(static_cast<EspDrop>(i)) << " " << final_stage_.esp_inb_drops[i] << "\n";
    if (final_stage_.esp_outb_drops[i]) o << "  esp_outb " << to_string(static_cast<EspDrop>(i)) << " " << final_stage_.esp_outb_drops[i] << "\n";
  }
  const ControlCounters& c = ctl_;
  o << "  control: arp_replies " << r.arp.replies_sent << " arp_ignored " << r.arp.ignored
    << " arp_requests_sent " << r.arp.requests_sent << " arp_learned " << r.arp.learned
    << " arp_failed " << r.arp.failed << " registrations "
    << c.registrations << " replies_sent " << c.replies_sent << " reply_no_route " << c.reply_no_route
    << " reply_send_failed " << c.reply_send_failed << " not_for_agent " << c.not_for_agent
    << " ike_unhandled " << c.ike_unhandled << " other " << c.other << " expired " << c.expired
    << " log_suppressed " << c.log_suppressed << "\n";
  if (ike_) {
    const IkeBridgeCounters& k = ike_->counters();
    o << "  ike: ike_to_host " << k.to_host << " ike_from_host " << k.from_host << " ike_tap_drop "
      << k.dropped() << "\n";
    for (size_t i = 0; i < kIkeTapDropCount; ++i)
      if (k.drops[i]) o << "  ike_tap_drop " << to_string(static_cast<IkeTapDrop>(i)) << " " << k.drops[i] << "\n";
  }
  for (auto [name, ha] : {std::pair{"xha", xha_.get()}, std::pair{"iha", iha_.get()}}) {
    if (!ha) continue;
    const HaCounters& h = ha->counters();
    o << "  " << name << ": bindings " << ha->bindings().size() << " registered " << h.registered
      << " deregistered " << h.deregistered << " expired " << h.expired << "\n";
  }
  return o.str();
}

}  // namespace mipvpn
