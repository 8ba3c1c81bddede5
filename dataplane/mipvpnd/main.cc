/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mipvpnd: the appliance daemon.
 *
 *   mipvpnd -c FILE            run the roles FILE configures until SIGINT/SIGTERM
 *   mipvpnd --check -c FILE    validate FILE (and build the home agents, SAs and
 *                              tables it describes) without starting anything
 *
 * Exit status: 0 fine, 1 bad configuration or start failure, 2 bad usage.
 */
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "config/config.h"
#include "mipvpnd/appliance.h"
#include "runtime/eal.h"

namespace {

void usage(std::FILE* f) {
  std::fprintf(f,
               "usage: mipvpnd -c FILE [--check] [--idle-sleep-us N] [--quiet]\n"
               "  -c, --config FILE    configuration (libconfig syntax, docs/configuration.md)\n"
               "  --check              validate the configuration and exit (0 valid, 1 not)\n"
               "  --idle-sleep-us N    workers pause N microseconds after an empty poll\n"
               "                       (shared CPUs, tests); default 0: busy polling\n"
               "  --quiet              print only errors\n"
               "  -h, --help           this text\n");
}

bool parse_u32(std::string_view s, uint32_t& out) {
  if (s.empty() || s.size() > 9) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  out = v;
  return true;
}

/* The EAL arguments from the configuration, with an lcore list added when
 * it names none: the main lcore plus one per worker, floating over the
 * CPUs this process may use. */
std::vector<std::string> eal_args(const mipvpn::Config& c) {
  std::vector<std::string> a = c.eal;
  for (const std::string& s : a)
    if (s == "-l" || s == "-c" || s.rfind("--lcores", 0) == 0 || s.rfind("-l", 0) == 0) return a;
  a.push_back("--lcores=(0-" + std::to_string(c.workers) + ")@(0-" +
              std::to_string(std::max(1u, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN))) - 1) + ")");
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  bool check = false;
  mipvpn::ApplianceOptions opt;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if ((a == "-c" || a == "--config") && i + 1 < argc) {
      path = argv[++i];
    } else if (a == "--check") {
      check = true;
    } else if (a == "--idle-sleep-us" && i + 1 < argc) {
      if (!parse_u32(argv[++i], opt.worker_idle_sleep_us)) {
        std::fprintf(stderr, "mipvpnd: --idle-sleep-us wants a number of microseconds, not '%s'\n", argv[i]);
        return 2;
      }
    } else if (a == "--quiet") {
      opt.quiet = true;
    } else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "mipvpnd: unknown or incomplete argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "mipvpnd: no configuration file given (-c FILE)\n");
    usage(stderr);
    return 2;
  }

  const mipvpn::ConfigResult r = mipvpn::load_config_file(path);
  for (const auto& w : r.warnings) std::fprintf(stderr, "%s (warning)\n", mipvpn::format_error(w).c_str());
  for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", mipvpn::format_error(e).c_str());
  if (!r.config) {
    std::fprintf(stderr, "mipvpnd: %s: %zu error(s); nothing started\n", path.c_str(), r.errors.size());
    return 1;
  }
  std::string err;
  auto app = mipvpn::Appliance::build(*r.config, opt, &err);
  if (!app) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), err.c_str());
    return 1;
  }
  if (check) {
    std::printf("%s: valid\n", path.c_str());
    return 0;
  }
  if (const mipvpn::RtStatus st = mipvpn::eal_init(eal_args(*r.config)); !st.ok()) {
    std::fprintf(stderr, "mipvpnd: DPDK EAL did not start with eal = [...] from %s: %s\n", path.c_str(),
                 st.error.c_str());
    return 1;
  }
  const int rc = app->run(&err);
  if (rc != 0) std::fprintf(stderr, "mipvpnd: %s\n", err.c_str());
  app.reset();
  mipvpn::eal_cleanup();
  return rc;
}
