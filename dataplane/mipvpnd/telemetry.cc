/* SPDX-License-Identifier: BSD-3-Clause */
#include "mipvpnd/telemetry.h"

#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_telemetry.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "mipvpnd/ctl_channel.h"
#include "mipvpnd/ctl_params.h"

namespace mipvpn {

namespace {

std::shared_mutex g_mu;           /* shared: a callback inside the channel */
CtlChannel* g_ch = nullptr;
int g_logtype = -1;
std::once_flag g_registered;

constexpr const char* kPrefix = "/mipvpn/";

void put_scalar(rte_tel_data* d, const TelEntry& e) {
  switch (e.kind) {
    case TelEntry::Kind::kU64: rte_tel_data_add_dict_u64(d, e.key.c_str(), e.u); break;
    case TelEntry::Kind::kI64:
      if (e.i >= INT32_MIN && e.i <= INT32_MAX)
        rte_tel_data_add_dict_int(d, e.key.c_str(), static_cast<int>(e.i));
      else
        rte_tel_data_add_dict_string(d, e.key.c_str(), std::to_string(e.i).c_str());
      break;
    case TelEntry::Kind::kStr: rte_tel_data_add_dict_string(d, e.key.c_str(), e.s.c_str()); break;
    case TelEntry::Kind::kDict: break;
  }
}

/* Two levels at most: DPDK 22.11's JSON writer prints a dict inside a
 * dict, not deeper. */
void to_tel(const TelDict& t, rte_tel_data* d) {
  rte_tel_data_start_dict(d);
  for (const TelEntry& e : t.e) {
    if (e.kind != TelEntry::Kind::kDict) {
      put_scalar(d, e);
      continue;
    }
    rte_tel_data* sub = rte_tel_data_alloc();
    if (!sub) continue;
    rte_tel_data_start_dict(sub);
    for (const TelEntry& s : e.d->e) put_scalar(sub, s);
    if (rte_tel_data_add_dict_container(d, e.key.c_str(), sub, 0) != 0) rte_tel_data_free(sub);
  }
}

int error(rte_tel_data* d, const std::string& msg) {
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "error", msg.substr(0, RTE_TEL_MAX_STRING_LEN - 1).c_str());
  return 0;
}

std::string name_of(const char* cmd) {
  const size_t n = std::strlen(kPrefix);
  return std::strncmp(cmd, kPrefix, n) == 0 ? std::string(cmd + n) : std::string(cmd);
}

/* stats, drops, bindings, sas: ask the control thread and wait. */
int read_cb(const char* cmd, const char* params, rte_tel_data* d) {
  std::shared_lock lk(g_mu);
  if (!g_ch) return error(d, "mipvpnd is not running");
  const uint64_t id = g_ch->submit(name_of(cmd), params ? params : "");
  if (id == 0) return error(d, "the control thread's queue is full; try again");
  const auto r = g_ch->wait(id, kReadWait);
  if (!r) return error(d, "no answer from the control thread in time");
  if (r->state != CtlResult::State::kOk) return error(d, r->message);
  to_tel(r->data, d);
  return 0;
}

/* sa_add, sa_del, binding_add, binding_del: check, queue, answer the id. */
int change_cb(const char* cmd, const char* params, rte_tel_data* d) {
  const std::string name = name_of(cmd);
  const std::string_view p = params ? params : "";
  std::string err;
  bool ok = false;
  if (name == "sa_add") {
    SaAddParams x;
    ok = parse_sa_add(p, x, &err);
  } else if (name == "sa_del") {
    SaDelParams x;
    ok = parse_sa_del(p, x, &err);
  } else if (name == "binding_add") {
    BindingAddParams x;
    ok = parse_binding_add(p, x, &err);
  } else if (name == "binding_del") {
    BindingDelParams x;
    ok = parse_binding_del(p, x, &err);
  }
  if (!ok) return error(d, err.empty() ? "unknown command" : err);
  std::shared_lock lk(g_mu);
  if (!g_ch) return error(d, "mipvpnd is not running");
  const uint64_t id = g_ch->submit(name, std::string(p));
  if (id == 0) return error(d, "the control thread's queue is full; try again");
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "id", id);
  return 0;
}

int result_cb(const char*, const char* params, rte_tel_data* d) {
  uint64_t id = 0;
  std::string err;
  if (!parse_result_id(params ? params : "", id, &err)) return error(d, err);
  std::shared_lock lk(g_mu);
  if (!g_ch) return error(d, "mipvpnd is not running");
  const auto r = g_ch->result(id);
  if (!r) return error(d, "unknown request id " + std::to_string(id));
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "id", id);
  rte_tel_data_add_dict_string(d, "state", to_string(r->state));
  rte_tel_data_add_dict_string(d, "message", r->message.substr(0, RTE_TEL_MAX_STRING_LEN - 1).c_str());
  return 0;
}

void register_all() {
  rte_telemetry_register_cmd("/mipvpn/stats", read_cb,
                             "Packets through ports, stages and the control thread. No parameters");
  rte_telemetry_register_cmd("/mipvpn/drops", read_cb,
                             "Every drop reason with its count: runtime, stage, esp_inb, esp_outb, xha, iha");
  rte_telemetry_register_cmd("/mipvpn/bindings", read_cb,
                             "Mobility bindings. Parameters: [xha|iha [FROM]]");
  rte_telemetry_register_cmd("/mipvpn/sas", read_cb, "ESP SAs with their counters. No parameters");
  rte_telemetry_register_cmd("/mipvpn/sa_add", change_cb,
                             "Queue a new SA: SPI in|out SUITE KEY SRC DST SELECTOR [auth-key HEX] [esn] "
                             "[window N] [natt SPORT DPORT]. Returns an id");
  rte_telemetry_register_cmd("/mipvpn/sa_del", change_cb, "Queue removing an SA: SPI in|out. Returns an id");
  rte_telemetry_register_cmd("/mipvpn/binding_add", change_cb,
                             "Queue an operator binding: xha|iha HOME COA [udp PEER PORT] [lifetime S]. "
                             "Returns an id");
  rte_telemetry_register_cmd("/mipvpn/binding_del", change_cb,
                             "Queue removing a binding: xha|iha HOME. Returns an id");
  rte_telemetry_register_cmd("/mipvpn/result", result_cb, "Outcome of a queued change. Parameter: ID");
}

}  // namespace

bool eth_stats(uint16_t port_id, EthStats& out) noexcept {
  rte_eth_stats st{};
  if (rte_eth_stats_get(port_id, &st) != 0) return false;
  out = {st.ipackets, st.opackets, st.ibytes, st.obytes, st.imissed, st.ierrors, st.oerrors, st.rx_nombuf};
  return true;
}

void log_init(bool quiet) {
  if (g_logtype < 0)
    g_logtype = rte_log_register_type_and_pick_level("mipvpn", quiet ? RTE_LOG_ERR : RTE_LOG_INFO);
}

void telemetry_attach(CtlChannel* ch) {
  std::call_once(g_registered, register_all);
  std::unique_lock lk(g_mu);
  g_ch = ch;
}

void telemetry_detach() {
  CtlChannel* ch = nullptr;
  {
    std::shared_lock lk(g_mu);
    ch = g_ch;
  }
  if (!ch) return;
  ch->close();  /* wakes callbacks waiting for an answer */
  std::unique_lock lk(g_mu);  /* waits for callbacks still inside */
  g_ch = nullptr;
}

void log_event(LogLevel level, const char* fmt, ...) {
  if (g_logtype < 0) return;
  uint32_t l = RTE_LOG_INFO;
  switch (level) {
    case LogLevel::kError: l = RTE_LOG_ERR; break;
    case LogLevel::kWarning: l = RTE_LOG_WARNING; break;
    case LogLevel::kNotice: l = RTE_LOG_NOTICE; break;
    case LogLevel::kInfo: l = RTE_LOG_INFO; break;
  }
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  rte_log(l, static_cast<uint32_t>(g_logtype), "MIPVPN: %s\n", line);
}

}  // namespace mipvpn
