/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mipvpnd's DPDK telemetry commands and its rte_log events: the one small
 * adapter outside the runtime that includes DPDK (rte_telemetry.h,
 * rte_log.h). docs/telemetry.md describes the commands.
 *
 * Every /mipvpn/ command goes through a CtlChannel to the control thread,
 * which owns everything they read or change: reads wait for the answer
 * (bounded, kReadWait), changes return a request id at once and are read
 * back with /mipvpn/result,ID. The callbacks run on DPDK's telemetry
 * threads and touch nothing but the channel.
 *
 * DPDK 22.11 cannot unregister a command: telemetry_detach() makes the
 * callbacks answer "not running" from then on, waits for any callback
 * still inside the channel and closes it. Call it before the channel's
 * owner dies. All of this needs an initialised EAL.
 */
#pragma once

#include <chrono>
#include <cstdint>

namespace mipvpn {

class CtlChannel;

inline constexpr std::chrono::milliseconds kReadWait{2000};

/* Registers the commands (once per process) and routes them to ch. */
void telemetry_attach(CtlChannel* ch);
/* Idempotent. */
void telemetry_detach();

/* One port's counters as the ethdev keeps them (rte_eth_stats_get). */
struct EthStats {
  uint64_t ipackets = 0, opackets = 0, ibytes = 0, obytes = 0;
  uint64_t imissed = 0, ierrors = 0, oerrors = 0, rx_nombuf = 0;
};
/* false when the port does not answer (closed, unknown). Control thread. */
bool eth_stats(uint16_t port_id, EthStats& out) noexcept;

/* Registers the "mipvpn" log type (EAL initialised); before it, and
 * without an EAL, log_event() prints nothing. Default level info, or
 * error when quiet; an EAL --log-level=mipvpn:LEVEL wins. Idempotent. */
void log_init(bool quiet);

enum class LogLevel : uint8_t { kError, kWarning, kNotice, kInfo };
/* One event line through rte_log, log type "mipvpn" (the EAL option
 * --log-level=mipvpn:LEVEL picks what shows; default info). Control
 * thread events only, never per packet. */
void log_event(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace mipvpn
