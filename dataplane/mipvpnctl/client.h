/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mipvpnctl's parts, apart from main() so the tests reach them: the
 * command line turned into a telemetry request, DPDK's socket path, the
 * SOCK_SEQPACKET client, and the readable printing of an answer.
 *
 *   mipvpnctl [--file-prefix P | --socket PATH] [--json] [--timeout S] COMMAND
 *   COMMAND: stats | drops | bindings [xha|iha [FROM]] | sas
 *          | sa add SPI in|out SUITE KEY SRC DST SELECTOR [auth-key HEX] [esn]
 *                   [window N] [natt SPORT DPORT]
 *          | sa del SPI in|out
 *          | binding add xha|iha HOME COA [udp PEER PORT] [lifetime S]
 *          | binding del xha|iha HOME
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mipvpnctl/json.h"

namespace mipvpn {

struct CtlArgs {
  std::string file_prefix = "rte";  /* EAL's default --file-prefix */
  std::string socket;               /* overrides the path from file_prefix */
  bool json = false;                /* print the answer as JSON */
  bool help = false;
  uint32_t timeout_ms = 5000;       /* for the answer to a change */
  std::string command;              /* "/mipvpn/stats", ... */
  std::string params;               /* words joined by spaces */
  bool change = false;              /* a queued change: wait for /mipvpn/result */
};

/* argv without the program name. false: *err says why (exit 2). */
bool parse_ctl_args(const std::vector<std::string_view>& args, CtlArgs& out, std::string* err);

/* Where DPDK puts the telemetry socket of a process with that prefix:
 * /var/run/dpdk/P as root, else $XDG_RUNTIME_DIR/dpdk/P or /tmp/dpdk/P
 * (as EAL's runtime directory), then /dpdk_telemetry.v2. */
std::string telemetry_socket_path(std::string_view file_prefix);

class TelClient {
 public:
  ~TelClient();
  bool connect(const std::string& path, std::string* err);
  /* Sends "command[,params]" and parses the answer; the value under the
   * command's key, or nullopt with *err. */
  std::optional<Json> query(const std::string& command, const std::string& params, std::string* err);
  /* The last answer as the daemon sent it. */
  const std::string& last_raw() const noexcept { return raw_; }

 private:
  int fd_ = -1;
  std::string raw_;
};

/* The answer to `command` as a human reads it. */
std::string format_answer(std::string_view command, const Json& v);

void ctl_usage(std::FILE* f);

}  // namespace mipvpn
