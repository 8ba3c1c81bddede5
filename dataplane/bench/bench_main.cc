/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mipvpn-bench: runs a scenario through our code and, in the same run on
 * the same core, through the reference, and reports both. Throughput is
 * never asserted here; docs/benchmarks.md records what was measured.
 */
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "bench.h"
#include "tsc.h"

namespace mipvpn::bench {

std::vector<Scenario>& scenarios() {
  static std::vector<Scenario> s;
  return s;
}

Figure make_figure(double cpp, double hz, uint32_t size) {
  Figure f;
  f.cycles_per_packet = cpp;
  f.mpps = cpp > 0 ? hz / cpp / 1e6 : 0;
  f.gbps = f.mpps * size * 8 / 1e3;
  return f;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace mipvpn::bench

using namespace mipvpn::bench;

namespace {

void usage(FILE* f) {
  std::fprintf(f,
               "usage: mipvpn-bench SCENARIO [--cipher NAME] [--size BYTES] [--burst N]\n"
               "                    [--packets N] [--rounds N] [--nodes N[k|M]] [--workers N] [--sas N]\n"
               "                    [--no-ring] [--json]\n"
               "  --cipher  aes-128-gcm|aes-256-gcm|aes-128-cbc-sha1|aes-256-cbc-sha1|\n"
               "            aes-128-cbc-sha256|aes-256-cbc-sha256|null-sha1|null-sha256\n"
               "  --size    inner IPv4 packet bytes (28..9000, default 1400)\n"
               "  --burst   packets per burst (1..256, default 32)\n"
               "  --packets packets per measured round (default: scenario's)\n"
               "  --rounds  rounds, ours and the reference alternating (default 5)\n"
               "  --nodes   mobile nodes / bindings, k and M suffixes (default 1000)\n"
               "  --workers worker lcores of the appliance scenarios (1..8, default 1)\n"
               "  --sas     SA pairs of combined-inb/-outb, nodes spread over them (1..4096,\n"
               "            default 16)\n"
               "  --no-ring worker-loop scenarios: ServerPipeline::process alone on prebuilt\n"
               "            bursts (no EAL, no ports, no generator; runs under valgrind)\n"
               "scenarios:\n");
  for (const auto& s : scenarios()) std::fprintf(f, "  %-14s %s\n", s.name, s.help);
}

bool parse_u64(const char* s, uint64_t lo, uint64_t hi, uint64_t* out) {
  const char* end = s + std::strlen(s);
  auto [p, ec] = std::from_chars(s, end, *out);
  return ec == std::errc{} && p == end && *out >= lo && *out <= hi;
}

/* 1000, 1k, 1M (decimal multiples). */
bool parse_count(const char* s, uint64_t lo, uint64_t hi, uint64_t* out) {
  std::string v(s);
  uint64_t mul = 1;
  if (!v.empty() && (v.back() == 'k' || v.back() == 'K')) mul = 1000;
  if (!v.empty() && v.back() == 'M') mul = 1000000;
  if (mul != 1) v.pop_back();
  uint64_t n = 0;
  if (!parse_u64(v.c_str(), 1, hi, &n) || n > hi / mul) return false;
  *out = n * mul;
  return *out >= lo;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  Options o;
  o.scenario = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mipvpn-bench: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    uint64_t v = 0;
    if (a == "--json") {
      o.json = true;
    } else if (a == "--no-ring") {
      o.no_ring = true;
    } else if (a == "--cipher") {
      o.cipher = value();
    } else if (a == "--size") {
      if (!parse_u64(value(), 28, 9000, &v)) {
        std::fprintf(stderr, "mipvpn-bench: --size must be 28..9000 bytes\n");
        return 2;
      }
      o.size = static_cast<uint32_t>(v);
    } else if (a == "--burst") {
      if (!parse_u64(value(), 1, 256, &v)) {
        std::fprintf(stderr, "mipvpn-bench: --burst must be 1..256\n");
        return 2;
      }
      o.burst = static_cast<uint16_t>(v);
    } else if (a == "--packets") {
      if (!parse_u64(value(), 1, uint64_t{1} << 40, &v)) {
        std::fprintf(stderr, "mipvpn-bench: --packets must be a positive number\n");
        return 2;
      }
      o.packets = v;
    } else if (a == "--rounds") {
      if (!parse_u64(value(), 1, 1000, &v)) {
        std::fprintf(stderr, "mipvpn-bench: --rounds must be 1..1000\n");
        return 2;
      }
      o.rounds = static_cast<uint32_t>(v);
    } else if (a == "--nodes") {
      if (!parse_count(value(), 1, 16000000, &v)) {
        std::fprintf(stderr, "mipvpn-bench: --nodes must be 1..16M (suffixes k, M)\n");
        return 2;
      }
      o.nodes = v;
    } else if (a == "--sas") {
      if (!parse_u64(value(), 1, 4096, &v)) {
        std::fprintf(stderr, "mipvpn-bench: --sas must be 1..4096\n");
        return 2;
      }
      o.sas = static_cast<uint32_t>(v);
    } else if (a == "--workers") {
      if (!parse_u64(value(), 1, 8, &v)) {
        std::fprintf(stderr, "mipvpn-bench: --workers must be 1..8\n");
        return 2;
      }
      o.workers = static_cast<unsigned>(v);
    } else {
      std::fprintf(stderr, "mipvpn-bench: unknown option '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  auto it = std::find_if(scenarios().begin(), scenarios().end(),
                         [&](const Scenario& s) { return o.scenario == s.name; });
  if (it == scenarios().end()) {
    std::fprintf(stderr, "mipvpn-bench: unknown scenario '%s'\n", o.scenario.c_str());
    usage(stderr);
    return 2;
  }
  Result r;
  try {
    r = it->run(o, tsc_hz());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mipvpn-bench: %s: %s\n", o.scenario.c_str(), e.what());
    return 1;
  }
  const double ratio = r.ref_name && r.ref.mpps > 0 ? r.ours.mpps / r.ref.mpps : 0;
  if (o.json) {
    std::printf("{\"scenario\":\"%s\",\"cipher\":\"%s\",\"size\":%u,\"burst\":%u,\"packets\":%llu,",
                r.scenario.c_str(), r.cipher.c_str(), r.size, o.burst,
                static_cast<unsigned long long>(r.packets));
    std::printf("\"cycles_per_packet\":%.1f,\"mpps\":%.3f,\"gbps\":%.3f", r.ours.cycles_per_packet,
                r.ours.mpps, r.ours.gbps);
    if (r.ref_name) {
      std::printf(",\"reference\":{\"name\":\"%s\",", r.ref_name->c_str());
      std::printf("\"cycles_per_packet\":%.1f,\"mpps\":%.3f,\"gbps\":%.3f}", r.ref.cycles_per_packet,
                  r.ref.mpps, r.ref.gbps);
      std::printf(",\"ratio\":%.3f", ratio);
    }
    if (r.nodes) std::printf(",\"nodes\":%llu", static_cast<unsigned long long>(*r.nodes));
    if (r.bytes_per) std::printf(",\"bytes_per_binding\":%.1f", *r.bytes_per);
    if (r.workers) std::printf(",\"workers\":%u", *r.workers);
    if (r.total_mpps) std::printf(",\"total_mpps\":%.3f", *r.total_mpps);
    if (r.packets_out) std::printf(",\"packets_out\":%llu", static_cast<unsigned long long>(*r.packets_out));
    if (r.dropped) std::printf(",\"dropped\":%llu", static_cast<unsigned long long>(*r.dropped));
    if (r.no_ring) std::printf(",\"no_ring\":true");
    if (r.nodes && r.cipher != "none") std::printf(",\"sas\":%u", o.sas);
    if (r.worker_cpu)
      std::printf(",\"worker_cpu\":{\"cycles_per_packet\":%.1f,\"mpps\":%.3f}",
                  r.worker_cpu->cycles_per_packet, r.worker_cpu->mpps);
    if (r.worker_busy)
      std::printf(",\"worker_busy\":{\"cycles_per_packet\":%.1f,\"mpps\":%.3f}",
                  r.worker_busy->cycles_per_packet, r.worker_busy->mpps);
    if (r.per_poll) std::printf(",\"packets_per_poll\":%.1f", *r.per_poll);
    std::printf("}\n");
  } else {
    std::printf("%s %s size %u burst %u: %.1f cycles/pkt, %.3f Mpps, %.3f Gbit/s\n",
                r.scenario.c_str(), r.cipher.c_str(), r.size, o.burst, r.ours.cycles_per_packet,
                r.ours.mpps, r.ours.gbps);
    if (r.nodes) std::printf("  nodes %llu\n", static_cast<unsigned long long>(*r.nodes));
    if (r.bytes_per) std::printf("  %.1f bytes per binding\n", *r.bytes_per);
    if (r.workers)
      std::printf("  %u worker(s): figures per worker; %.3f Mpps in all\n", *r.workers,
                  r.total_mpps.value_or(0));
    if (r.worker_cpu)
      std::printf("  on the workers' CPU time: %.1f cycles/pkt, %.3f Mpps per worker\n",
                  r.worker_cpu->cycles_per_packet, r.worker_cpu->mpps);
    if (r.worker_busy)
      std::printf("  on the workers' busy cycles: %.1f cycles/pkt, %.3f Mpps per worker\n",
                  r.worker_busy->cycles_per_packet, r.worker_busy->mpps);
    if (r.per_poll) std::printf("  %.1f packets per busy poll\n", *r.per_poll);
    if (r.packets_out)
      std::printf("  packets out %llu of %llu, dropped %llu\n",
                  static_cast<unsigned long long>(*r.packets_out),
                  static_cast<unsigned long long>(r.packets),
                  static_cast<unsigned long long>(r.dropped.value_or(0)));
    if (r.ref_name)
      std::printf("  reference %s: %.1f cycles/pkt, %.3f Mpps, %.3f Gbit/s; ratio %.3f\n",
                  r.ref_name->c_str(), r.ref.cycles_per_packet, r.ref.mpps, r.ref.gbps, ratio);
  }
  /* The worker-loop scenarios must forward every frame they were given. */
  if (r.packets_out && *r.packets_out != r.packets) {
    std::fprintf(stderr, "mipvpn-bench: %s: %llu of %llu packets came out\n", r.scenario.c_str(),
                 static_cast<unsigned long long>(*r.packets_out),
                 static_cast<unsigned long long>(r.packets));
    return 1;
  }
  return 0;
}
