/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mipvpnctl: reads mipvpnd's counters, bindings and SAs, and changes SAs
 * and bindings at run time, through DPDK's telemetry socket (JSON over
 * SOCK_SEQPACKET; docs/telemetry.md). No DPDK: any DPDK telemetry client
 * (dpdk-telemetry.py) sees the same commands.
 *
 * Exit status: 0 done, 1 the daemon refused, did not answer or is not
 * there, 2 bad usage.
 */
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "mipvpnctl/client.h"

int main(int argc, char** argv) {
  using namespace mipvpn;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  CtlArgs a;
  std::string err;
  if (!parse_ctl_args(args, a, &err)) {
    std::fprintf(stderr, "mipvpnctl: %s\n", err.c_str());
    ctl_usage(stderr);
    return 2;
  }
  if (a.help) {
    ctl_usage(stdout);
    return 0;
  }
  TelClient c;
  const std::string path = a.socket.empty() ? telemetry_socket_path(a.file_prefix) : a.socket;
  if (!c.connect(path, &err)) {
    std::fprintf(stderr, "mipvpnctl: %s\n", err.c_str());
    return 1;
  }
  auto v = c.query(a.command, a.params, &err);
  if (!v) {
    std::fprintf(stderr, "mipvpnctl: %s: %s\n", a.command.c_str(), err.c_str());
    return 1;
  }
  if (!a.change) {
    if (a.json)
      std::printf("%s\n", c.last_raw().c_str());
    else
      std::fputs(format_answer(a.command, *v).c_str(), stdout);
    return 0;
  }
  const Json* id = v->get("id");
  if (!id || id->type != Json::Type::kUint) {
    std::fprintf(stderr, "mipvpnctl: %s: no request id in the answer\n", a.command.c_str());
    return 1;
  }
  /* The control thread applies the change in its next tick (about 1 ms). */
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(a.timeout_ms);
  for (;;) {
    auto r = c.query("/mipvpn/result", std::to_string(id->u), &err);
    if (!r) {
      std::fprintf(stderr, "mipvpnctl: /mipvpn/result: %s\n", err.c_str());
      return 1;
    }
    const std::string state = r->get("state") ? r->get("state")->text() : "?";
    const std::string msg = r->get("message") ? r->get("message")->text() : "";
    if (state == "ok") {
      std::printf("%s\n", msg.c_str());
      return 0;
    }
    if (state != "pending") {
      std::fprintf(stderr, "mipvpnctl: %s\n", msg.c_str());
      return 1;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "mipvpnctl: request %llu not applied within the timeout\n",
                   static_cast<unsigned long long>(id->u));
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}
