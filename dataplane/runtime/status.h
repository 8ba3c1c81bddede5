/* SPDX-License-Identifier: BSD-3-Clause */
/* Setup-time results of the runtime: empty error means success; otherwise
 * a sentence a human can act on. Never used per packet. */
#pragma once

#include <string>

namespace mipvpn {

struct RtStatus {
  std::string error;
  bool ok() const noexcept { return error.empty(); }
  static RtStatus fail(std::string why) { return RtStatus{std::move(why)}; }
};

}  // namespace mipvpn
