/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's auxiliary port (aux_port.h): one RX and one TX
 * queue, its own mempool, no offloads.
 */
#include "runtime/aux_port.h"

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "runtime/mbuf_view.h"

namespace mipvpn {

namespace {

unsigned g_aux_instances = 0;

std::string errstr(int rc) { return std::strerror(rc < 0 ? -rc : rc); }

}  // namespace

std::unique_ptr<AuxPort> AuxPort::open(const AuxPortSpec& spec, std::string* err) {
  std::unique_ptr<AuxPort> a(new AuxPort());
  a->spec_ = spec;
  const std::string who = "port '" + spec.name + "' (" + spec.device + ")";
  const uint32_t room = RTE_MBUF_DEFAULT_DATAROOM;
  if (spec.mtu + uint32_t{RTE_ETHER_HDR_LEN} + RTE_ETHER_CRC_LEN > room) {
    *err = who + ": MTU " + std::to_string(spec.mtu) + " does not fit one " + std::to_string(room) +
           "-byte mbuf";
    return nullptr;
  }
  const size_t comma = spec.device.find(',');
  const std::string name = spec.device.substr(0, comma);
  const std::string args = comma == std::string::npos ? "" : spec.device.substr(comma + 1);
  uint16_t id = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) == 0) {
    *err = who + ": a device of that name exists already";
    return nullptr;
  }
  int rc = rte_vdev_init(name.c_str(), args.c_str());
  if (rc != 0) {
    *err = who + ": creating the virtual device failed: " + errstr(rc) +
           " (a TUN/TAP device needs root or CAP_NET_ADMIN and /dev/net/tun; an interface of that"
           " name that exists already must be a multi_queue TUN, and not another program's)";
    return nullptr;
  }
  a->vdev_ = name;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
    *err = who + ": the virtual device made no ethdev port";
    return nullptr;
  }
  a->id_ = id;
  a->have_id_ = true;
  int sock = rte_eth_dev_socket_id(id);
  if (sock < 0) sock = 0;
  const std::string pool = "mvaux" + std::to_string(g_aux_instances++);
  a->pool_ = rte_pktmbuf_pool_create(pool.c_str(), spec.mbufs, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE, sock);
  if (!a->pool_) {
    *err = who + ": mempool of " + std::to_string(spec.mbufs) + " mbufs: " + rte_strerror(rte_errno);
    return nullptr;
  }
  rte_eth_conf conf{};
  conf.rxmode.mtu = spec.mtu;
  rc = rte_eth_dev_configure(id, 1, 1, &conf);
  if (rc != 0) {
    *err = who + ": configure failed: " + errstr(rc);
    return nullptr;
  }
  a->configured_ = true;
  uint16_t nrx = spec.rx_desc, ntx = spec.tx_desc;
  if ((rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrx, &ntx)) != 0 ||
      (rc = rte_eth_rx_queue_setup(id, 0, nrx, static_cast<unsigned>(sock), nullptr, a->pool_)) != 0 ||
      (rc = rte_eth_tx_queue_setup(id, 0, ntx, static_cast<unsigned>(sock), nullptr)) != 0) {
    *err = who + ": queue setup failed: " + errstr(rc);
    return nullptr;
  }
  if ((rc = rte_eth_dev_start(id)) != 0) {
    *err = who + ": start failed: " + errstr(rc);
    return nullptr;
  }
  a->started_ = true;
  /* The MTU of the host interface; a device without the call keeps its own. */
  rc = rte_eth_dev_set_mtu(id, spec.mtu);
  if (rc != 0 && rc != -ENOTSUP) {
    *err = who + ": setting MTU " + std::to_string(spec.mtu) + ": " + errstr(rc);
    return nullptr;
  }
  if ((rc = rte_eth_dev_set_link_up(id)) != 0 && rc != -ENOTSUP) {
    *err = who + ": link up: " + errstr(rc);
    return nullptr;
  }
  return a;
}

AuxPort::~AuxPort() {
  if (started_) rte_eth_dev_stop(id_);
  if (have_id_) rte_eth_dev_close(id_);
  if (!vdev_.empty()) rte_vdev_uninit(vdev_.c_str());
  rte_mempool_free(pool_);
}

uint16_t AuxPort::rx(CtlPkt* out, uint16_t max) noexcept {
  std::array<rte_mbuf*, 32> m;
  uint16_t n = 0;
  while (n < max) {
    const auto want = static_cast<uint16_t>(std::min<size_t>(m.size(), max - n));
    const uint16_t got = rte_eth_rx_burst(id_, 0, m.data(), want);
    for (uint16_t i = 0; i < got; ++i) {
      if (m[i]->nb_segs != 1) {
        ++counts_.rx_multiseg;
        rte_pktmbuf_free(m[i]);
        continue;
      }
      CtlPkt& c = out[n++];
      c = CtlPkt{};
      c.mbuf = m[i];
      c.view = mbuf_to_view(m[i]);
      ++counts_.rx;
    }
    if (got < want) break;
  }
  return n;
}

bool AuxPort::tx(CtlPkt& pkt) noexcept {
  if (!pkt.mbuf) return false;
  view_to_mbuf(pkt.view, pkt.mbuf);
  rte_mbuf* m = pkt.mbuf;
  pkt.mbuf = nullptr;
  if (!started_ || rte_eth_tx_burst(id_, 0, &m, 1) != 1) {
    ++counts_.tx_full;
    rte_pktmbuf_free(m);
    return false;
  }
  ++counts_.tx;
  return true;
}

void AuxPort::free(CtlPkt& pkt) noexcept {
  rte_pktmbuf_free(pkt.mbuf);
  pkt.mbuf = nullptr;
}

}  // namespace mipvpn
