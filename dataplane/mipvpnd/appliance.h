/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mipvpnd's parts put together from a validated Config: the home agents
 * (x-HA, i-HA) with their binding tables, the static ESP SAs of the VPN
 * gateway, the stage tables the workers read, and the control thread's
 * work on punted packets (ARP for our addresses, registrations on UDP 434,
 * IKE to and from the host over a TUN: ike_bridge.h) and timers (binding
 * expiry).
 *
 * build() does everything that needs no DPDK, so `mipvpnd --check` and
 * the tests can run it; run() then needs an initialised EAL.
 */
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "runtime/counters.h"
#include "crypto/esp.h"
#include "ha/home_agent.h"
#include "mipvpnd/ctl_channel.h"
#include "mipvpnd/ike_bridge.h"
#include "stages/server_pipeline.h"
#include "stages/tables.h"

namespace mipvpn {

class Runtime;
struct CtlPkt;

struct ApplianceOptions {
  uint32_t worker_idle_sleep_us = 0;  /* shared CPUs: pause when a loop found nothing */
  bool quiet = false;                 /* no event lines on stdout */
};

/* What the control thread did with punted packets. */
struct ControlCounters {
  uint64_t registrations = 0;     /* requests handed to a home agent */
  uint64_t replies_sent = 0;
  uint64_t reply_no_route = 0;    /* no route back to the requester */
  uint64_t reply_send_failed = 0;
  uint64_t not_for_agent = 0;     /* UDP 434 to an address of no home agent */
  uint64_t ike_unhandled = 0;     /* IKE (500 / 4500 marker) with no ike section: dropped */
  uint64_t other = 0;             /* anything else punted */
  uint64_t expired = 0;           /* care-of addresses expired */
  uint64_t log_suppressed = 0;    /* registration event lines held back by the rate limit */
};

class Appliance {
 public:
  /* nullptr and the reasons (one sentence each) in *err. */
  static std::unique_ptr<Appliance> build(const Config& cfg, const ApplianceOptions& opt,
                                          std::string* err);
  ~Appliance();
  Appliance(const Appliance&) = delete;
  Appliance& operator=(const Appliance&) = delete;

  /* Create the runtime (ports, workers), serve until SIGINT/SIGTERM, stop
   * cleanly. EAL must be initialised. 0, or 1 with the reason in *err. */
  int run(std::string* err);

  /* The control thread's handling of one punted packet (consumes it). */
  void on_punt(Runtime& rt, CtlPkt& p) noexcept;

  /*
   * Whether the event line about a registration may be written at now_s
   * (seconds): refusals and drops, which anyone can send at line rate,
   * pass a token bucket per home agent (its section's log_rate_per_s and
   * log_burst, RFC 5265 4.3 asks to log them); acceptances always pass.
   * What it holds back is counted in log_suppressed.
   */
  bool admit_registration_log(const HomeAgent* ha, const HaVerdict& v, uint64_t now_s) noexcept;

  const ControlCounters& control_counters() const noexcept { return ctl_; }
  HomeAgent* xha() noexcept { return xha_.get(); }
  HomeAgent* iha() noexcept { return iha_.get(); }
  const StageTables* tables() const noexcept { return tables_.load(std::memory_order_acquire); }
  /* Sum of the workers' stage counters (after run() returned). */
  StageCounters stage_counters() const noexcept;
  std::string summary() const;  /* counters a human reads at exit */
  /* Telemetry requests reach the control thread through this. */
  CtlChannel& channel() noexcept { return chan_; }
  /* The control thread's work on queued telemetry requests (commands.cc). */
  void serve_requests(Runtime* rt) noexcept;

 private:
  Appliance(const Config& cfg, const ApplianceOptions& opt);
  void tick(Runtime& rt) noexcept;
  HomeAgent* agent_for(Ipv4Addr dst) noexcept;

  /* An SA we own: the engine's object and what telemetry shows of it. */
  struct SaRec {
    std::unique_ptr<EspSa> sa;
    Ipv4Addr src, dst;
    Ipv4Prefix selector;
    uint16_t natt_sport = 0, natt_dport = 0;
    bool operator_made = false;  /* added at run time */
  };
  /* Unpublished tables (and SAs only they named) waiting for a grace period. */
  struct Retired {
    uint64_t token = 0;
    std::unique_ptr<const StageTables> tables;
    std::vector<std::unique_ptr<EspSa>> sas;
  };
  /* commands.cc */
  void cmd_stats(Runtime* rt, TelDict& out) const;
  void cmd_drops(Runtime* rt, TelDict& out) const;
  bool cmd_bindings(std::string_view params, TelDict& out, std::string* err) const;
  void cmd_sas(TelDict& out) const;
  bool cmd_sa_add(Runtime* rt, std::string_view params, std::string* msg);
  bool cmd_sa_del(Runtime* rt, std::string_view params, std::string* msg);
  bool cmd_binding_add(std::string_view params, std::string* msg);
  bool cmd_binding_del(std::string_view params, std::string* msg);
  /* Build tables from base_ and sas_ and publish them; the old ones (and
   * `gone`) are freed after a grace period. false: nothing changed. */
  bool republish(Runtime* rt, std::vector<std::unique_ptr<EspSa>> gone, std::string* err);
  void reclaim_retired(Runtime* rt, bool wait) noexcept;
  StageCounters live_stage_counters() const noexcept;

  Config cfg_;
  ApplianceOptions opt_;
  std::unique_ptr<HomeAgent> xha_, iha_;
  std::vector<SaRec> sas_;
  StageTablesBuilder base_;  /* everything but the SAs */
  std::vector<Retired> retired_;
  CtlChannel chan_;
  std::unique_ptr<const StageTables> tables_owned_;
  std::atomic<const StageTables*> tables_{nullptr};
  std::vector<ServerPipeline*> pipelines_;  /* owned by the runtime */
  std::unique_ptr<ServerPipeline> ctl_pipeline_;  /* the control thread's own */
  std::unique_ptr<IkeBridge> ike_;  /* cfg_.ike: open while run() runs */
  RtCounts runtime_counts_{};
  ControlCounters ctl_;
  RateLimitedLog xha_log_, iha_log_;  /* registration event lines (admit_registration_log) */
  StageCounters final_stage_{};
  uint64_t last_expire_s_ = 0;
  uint16_t ip_id_ = 1;
};

}  // namespace mipvpn
