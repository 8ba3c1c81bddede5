/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK Environment Abstraction Layer, once per process. Any EAL
 * arguments work, e.g. {"--no-huge", "-m", "512", "--no-pci",
 * "--vdev=net_ring0", "--file-prefix=x", "--lcores=0@0,(1-2)@1"}
 * (--in-memory does not combine with --no-huge). The program name is
 * added in front; pass EAL arguments only.
 */
#pragma once

#include <string>
#include <vector>

#include "runtime/status.h"

namespace mipvpn {

/* rte_eal_init(). Fails when called twice or when EAL refuses the arguments. */
RtStatus eal_init(const std::vector<std::string>& args);

/* rte_eal_cleanup(): after every Runtime is gone. Safe when not initialised. */
void eal_cleanup() noexcept;

bool eal_initialised() noexcept;

}  // namespace mipvpn
