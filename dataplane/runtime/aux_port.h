/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An auxiliary port: a DPDK device that only the control thread polls,
 * with one RX and one TX queue and a small mempool of its own, e.g. a TUN
 * interface to a daemon on the host ("net_tun_x,iface=NAME": plain IP
 * datagrams, no Ethernet). Workers never see it; it is no Runtime port
 * (no port index, no ARP, no verdict names it).
 *
 *   std::string err;
 *   auto aux = AuxPort::open({.name = "ike", .device = "net_tun_ike,iface=mipvpn-ike"}, &err);
 *   CtlPkt in[32];
 *   uint16_t n = aux->rx(in, 32);   // each: data at what the device gives (IPv4 for a TUN)
 *   aux->tx(pkt);                   // a packet from the Runtime or from rx(); consumed
 *
 * Lifetime: packets from rx() belong to the AuxPort's pool. Give every one
 * back (sent through a Runtime port, or freed) and stop or destroy the
 * Runtime that may still hold them (TX rings, ARP hold queues) before
 * destroying the AuxPort. EAL must be initialised; control thread only.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/runtime.h"

struct rte_mempool;

namespace mipvpn {

struct AuxPortSpec {
  std::string name{};    /* ours, for messages */
  std::string device{};  /* a vdev string (created here) */
  uint16_t mtu = 1500;   /* at most 2030: one 2048-byte segment */
  uint16_t rx_desc = 256;
  uint16_t tx_desc = 256;
  uint32_t mbufs = 1023; /* pool size */
};

struct AuxCounts {
  uint64_t rx = 0;
  uint64_t tx = 0;
  uint64_t tx_full = 0;       /* the device did not take a packet */
  uint64_t rx_multiseg = 0;   /* chained mbuf received: dropped (single segment only) */
};

class AuxPort {
 public:
  /* Creates, configures and starts the device. nullptr and one sentence
   * in *err. */
  static std::unique_ptr<AuxPort> open(const AuxPortSpec& spec, std::string* err);
  ~AuxPort();  /* stops and closes the device, removes the vdev, frees the pool */
  AuxPort(const AuxPort&) = delete;
  AuxPort& operator=(const AuxPort&) = delete;

  /* Up to max received packets (port = 0, arp = false); the caller owns
   * them. Chained ones are dropped here (rx_multiseg). */
  uint16_t rx(CtlPkt* out, uint16_t max) noexcept;
  /* Send pkt.view as it is (any mempool). Always consumes pkt; false when
   * the device did not take it (tx_full). */
  bool tx(CtlPkt& pkt) noexcept;
  void free(CtlPkt& pkt) noexcept;

  const AuxCounts& counts() const noexcept { return counts_; }
  uint16_t port_id() const noexcept { return id_; }
  const std::string& name() const noexcept { return spec_.name; }

 private:
  AuxPort() = default;
  AuxPortSpec spec_;
  uint16_t id_ = 0;
  bool have_id_ = false;  /* id_ names our port (never close another's) */
  std::string vdev_;      /* non-empty once created */
  bool configured_ = false, started_ = false;
  rte_mempool* pool_ = nullptr;
  AuxCounts counts_;
};

}  // namespace mipvpn
