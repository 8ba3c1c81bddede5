/* SPDX-License-Identifier: BSD-3-Clause */
#include "runtime/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

namespace mipvpn {

namespace {
bool g_eal_up = false;
/* EAL may keep pointers into argv for the life of the process. */
std::vector<std::string> g_args;
std::vector<char*> g_argv;
}  // namespace

RtStatus eal_init(const std::vector<std::string>& args) {
  if (g_eal_up) return RtStatus::fail("EAL is already initialised in this process");
  g_args.clear();
  g_args.emplace_back("mipvpnd");
  g_args.insert(g_args.end(), args.begin(), args.end());
  g_argv.clear();
  for (auto& a : g_args) g_argv.push_back(a.data());
  g_argv.push_back(nullptr);
  const int rc = rte_eal_init(static_cast<int>(g_args.size()), g_argv.data());
  if (rc < 0) {
    std::string all;
    for (size_t i = 1; i < g_args.size(); ++i) all += (i > 1 ? " " : "") + g_args[i];
    return RtStatus::fail("EAL refused its arguments '" + all + "': " +
                          rte_strerror(rte_errno));
  }
  g_eal_up = true;
  return {};
}

void eal_cleanup() noexcept {
  if (!g_eal_up) return;
  rte_eal_cleanup();
  g_eal_up = false;
}

bool eal_initialised() noexcept { return g_eal_up; }

}  // namespace mipvpn
