/* SPDX-License-Identifier: BSD-3-Clause */
#include <gtest/gtest.h>

#include "stages/server_pipeline.h"

using namespace mipvpn;

TEST(Stages, EmptyTablesBuild) {
  std::string err;
  auto t = StageTablesBuilder().port(Ipv4Addr(10, 0, 0, 1), 1500).build(&err);
  ASSERT_TRUE(t) << err;
  std::atomic<const StageTables*> pub{t.get()};
  auto p = ServerPipeline::create(pub, &err);
  ASSERT_TRUE(p) << err;
}
