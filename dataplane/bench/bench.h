/* SPDX-License-Identifier: BSD-3-Clause */
/* mipvpn-bench: scenarios, options and the result every scenario reports. */
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mipvpn::bench {

struct Options {
  std::string scenario;
  std::string cipher = "aes-128-gcm";
  uint32_t size = 1400;      /* inner packet bytes */
  uint16_t burst = 32;
  uint64_t packets = 0;      /* per measured round; 0 = scenario default */
  uint32_t rounds = 5;       /* ours and reference alternate this many times */
  uint64_t nodes = 1000;     /* mobile nodes / bindings (register, binding-lookup, appliance) */
  unsigned workers = 1;      /* worker lcores (appliance scenarios) */
  uint32_t sas = 16;         /* SA pairs of the combined appliance scenarios */
  bool json = false;
  bool no_ring = false;      /* appliance scenarios: the stages alone, no DPDK */
};

struct Figure {
  double cycles_per_packet = 0;
  double mpps = 0;
  double gbps = 0;
};

struct Result {
  std::string scenario, cipher;
  uint32_t size = 0;
  uint64_t packets = 0;
  Figure ours;
  std::optional<std::string> ref_name;
  Figure ref;
  std::optional<uint64_t> nodes;     /* printed when a scenario sets it */
  std::optional<double> bytes_per;   /* memory per binding, when measured */
  /* Appliance scenarios (the worker loop): `ours` is per worker. */
  std::optional<unsigned> workers;
  std::optional<double> total_mpps;    /* all workers together */
  std::optional<uint64_t> packets_out; /* frames that came out of the ports, all rounds */
  std::optional<uint64_t> dropped;     /* frames the runtime or the stages dropped */
  /* Per packet from the CPU time the worker threads got (not wall time):
   * what a dedicated core would do, on a shared machine. */
  std::optional<Figure> worker_cpu;
  /* Per packet from the workers' busy cycles (loop iterations that
   * received, RtCounts::busy_cycles): the worker's cost without its idle
   * polls, what "per core" targets are read against. */
  std::optional<Figure> worker_busy;
  std::optional<double> per_poll; /* packets received per busy poll */
  bool no_ring = false;  /* measured with --no-ring: Pipeline::process only */
};

/* Cycles per packet to a Figure, at this TSC rate and packet size. */
Figure make_figure(double cycles_per_packet, double tsc_hz, uint32_t size);

/* Median of the per-round values. */
double median(std::vector<double> v);

struct Scenario {
  const char* name;
  const char* help;
  std::function<Result(const Options&, double tsc_hz)> run;
};

/* Each scenario file appends its entries. */
std::vector<Scenario>& scenarios();

struct Register {
  Register(Scenario s) { scenarios().push_back(std::move(s)); }  // NOLINT
};

}  // namespace mipvpn::bench
