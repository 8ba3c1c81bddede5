/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: find or create the ethdev, choose RSS or software spread,
 * configure one RX queue per worker (RSS) or one, and one TX queue per
 * worker plus one for the control thread.
 */
#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_errno.h>

#include <cstring>

#include "runtime/eth.h"
#include "runtime/state.h"

namespace mipvpn {

namespace {

std::string who(const PortState& p) { return "port '" + p.spec.name + "' (" + p.spec.device + ")"; }

/* "0000:03:00.0" or "03:00.0": a PCI address, probed by EAL. */
bool looks_pci(const std::string& d) {
  return d.find(':') != std::string::npos && d.find('.') != std::string::npos &&
         d.find(',') == std::string::npos && d.rfind("net_", 0) != 0;
}

/* RFC 894 frame overhead on top of the IPv4 MTU (header + FCS). */
constexpr uint32_t kFrameOverhead = kEthHdrLen + 4;

}  // namespace

RtStatus port_resolve(PortState& p, std::vector<std::string>& notes) {
  const std::string& dev = p.spec.device;
  const size_t comma = dev.find(',');
  const std::string name = dev.substr(0, comma);
  const std::string args = comma == std::string::npos ? "" : dev.substr(comma + 1);
  uint16_t id = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) == 0) {
    p.id = id;
    if (!args.empty())
      notes.push_back(who(p) + ": the device already exists; its arguments '" + args +
                      "' were not applied");
    return {};
  }
  if (looks_pci(dev))
    return RtStatus::fail(who(p) + ": no port was probed at that PCI address; bind it to "
                          "vfio-pci and allow it to EAL (-a " + dev + ", no --no-pci)");
  const int rc = rte_vdev_init(name.c_str(), args.c_str());
  if (rc != 0)
    return RtStatus::fail(who(p) + ": creating the virtual device failed: " +
                          std::strerror(rc < 0 ? -rc : rc));
  p.vdev_name = name;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0)
    return RtStatus::fail(who(p) + ": the virtual device made no ethdev port");
  p.id = id;
  return {};
}

uint16_t port_max_tx_queues(const PortState& p) {
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(p.id, &info) != 0) return 0;
  return info.max_tx_queues;
}

bool port_is_af_packet(const rte_eth_dev_info& info) {
  return info.driver_name && std::strcmp(info.driver_name, "net_af_packet") == 0;
}

bool port_is_af_packet(const PortState& p) {
  rte_eth_dev_info info{};
  return rte_eth_dev_info_get(p.id, &info) == 0 && port_is_af_packet(info);
}

RtStatus port_configure(PortState& p, const RuntimeConfig& cfg, unsigned workers,
                        std::vector<std::string>& notes) {
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(p.id, &info);
  if (rc != 0) return RtStatus::fail(who(p) + ": no device info: " + std::strerror(-rc));
  const int sock = rte_eth_dev_socket_id(p.id);
  p.socket = sock < 0 ? 0 : sock;

  /* Single 2048-byte segment: the frame must fit the data room. */
  const uint32_t room = RTE_MBUF_DEFAULT_DATAROOM;
  if (p.spec.mtu + kFrameOverhead > room)
    return RtStatus::fail(who(p) + ": MTU " + std::to_string(p.spec.mtu) +
                          " does not fit one " + std::to_string(room) +
                          "-byte mbuf; use at most " + std::to_string(room - kFrameOverhead));
  if (p.spec.mtu < info.min_mtu || p.spec.mtu > info.max_mtu)
    return RtStatus::fail(who(p) + ": MTU " + std::to_string(p.spec.mtu) +
                          " is outside what the port allows (" + std::to_string(info.min_mtu) +
                          ".." + std::to_string(info.max_mtu) + ")");

  const bool af_packet = port_is_af_packet(info);
  rte_eth_conf conf{};
  conf.rxmode.mtu = p.spec.mtu;
  /* RSS on IPv4 (addresses; ports too where the NIC only hashes UDP/TCP
   * with them, which still keeps a flow and a UDP-encapsulated SPI
   * together) when the port has a queue per worker. */
  const uint64_t want = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER |
                        RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_NONFRAG_IPV4_TCP;
  const uint64_t hf = info.flow_type_rss_offloads & want;
  p.rss = !cfg.software_spread && workers > 1 && hf != 0 && info.max_rx_queues >= workers;
  if (p.rss) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = hf;
    p.nb_rxq = static_cast<uint16_t>(workers);
  } else {
    /* net_af_packet opens one socket per queue pair when it is probed and
     * the kernel spreads frames over all of them (PACKET_FANOUT_HASH),
     * whether the queues are configured or not: worker 0 reads every one,
     * or the flows that hash to the others are lost. Other devices: one. */
    p.nb_rxq = af_packet && info.max_rx_queues > 1 ? info.max_rx_queues : uint16_t{1};
    if (workers > 1)
      notes.push_back(who(p) + ": no RSS on IPv4 with " + std::to_string(workers) +
                      " RX queues; worker 0 spreads packets in software");
  }
  p.nb_txq = static_cast<uint16_t>(workers + 1);
  if (info.max_tx_queues < p.nb_txq)
    return RtStatus::fail(who(p) + ": needs " + std::to_string(p.nb_txq) +
                          " TX queues (one per worker and one for the control thread) but "
                          "offers " + std::to_string(info.max_tx_queues));

  rc = rte_eth_dev_configure(p.id, p.nb_rxq, p.nb_txq, &conf);
  if (rc != 0) return RtStatus::fail(who(p) + ": configure failed: " + std::strerror(-rc));
  p.configured = true;
  uint16_t nrx = cfg.rx_desc, ntx = cfg.tx_desc;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(p.id, &nrx, &ntx);
  if (rc != 0) return RtStatus::fail(who(p) + ": descriptor counts refused: " + std::strerror(-rc));
  for (uint16_t q = 0; q < p.nb_rxq; ++q) {
    rc = rte_eth_rx_queue_setup(p.id, q, nrx, static_cast<unsigned>(p.socket), nullptr, p.pool);
    if (rc != 0)
      return RtStatus::fail(who(p) + ": RX queue " + std::to_string(q) + ": " + std::strerror(-rc));
  }
  for (uint16_t q = 0; q < p.nb_txq; ++q) {
    rc = rte_eth_tx_queue_setup(p.id, q, ntx, static_cast<unsigned>(p.socket), nullptr);
    if (rc != 0)
      return RtStatus::fail(who(p) + ": TX queue " + std::to_string(q) + ": " + std::strerror(-rc));
  }

  if (p.spec.mac) {
    p.mac = *p.spec.mac;
    rte_ether_addr a;
    std::memcpy(a.addr_bytes, p.mac.b.data(), 6);
    rc = rte_eth_dev_default_mac_addr_set(p.id, &a);
    if (rc == -ENOTSUP) {
      p.mac_soft = true;
      notes.push_back(who(p) + ": the device cannot change its MAC; " + p.mac.str() +
                      " is used in software only (it must receive in promiscuous mode)");
    } else if (rc != 0)
      return RtStatus::fail(who(p) + ": setting MAC " + p.mac.str() + ": " + std::strerror(-rc));
  } else {
    rte_ether_addr a;
    rc = rte_eth_macaddr_get(p.id, &a);
    if (rc != 0) return RtStatus::fail(who(p) + ": reading its MAC: " + std::strerror(-rc));
    std::memcpy(p.mac.b.data(), a.addr_bytes, 6);
  }
  return {};
}

RtStatus port_start(PortState& p) {
  const int rc = rte_eth_dev_start(p.id);
  if (rc != 0) return RtStatus::fail(who(p) + ": start failed: " + std::strerror(-rc));
  p.started = true;
  /* Our MAC filter is in software (runtime/eth.h); a MAC we could not set
   * on the device only arrives in promiscuous mode. */
  if (p.mac_soft) rte_eth_promiscuous_enable(p.id);
  return {};
}

void port_close(PortState& p) noexcept {
  if (p.started) rte_eth_dev_stop(p.id);
  p.started = false;
  if (p.configured || !p.vdev_name.empty()) rte_eth_dev_close(p.id);
  p.configured = false;
  if (!p.vdev_name.empty()) rte_vdev_uninit(p.vdev_name.c_str());
  p.vdev_name.clear();
}

}  // namespace mipvpn
