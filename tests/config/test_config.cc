/* SPDX-License-Identifier: BSD-3-Clause */
#include <gtest/gtest.h>

#include "config/config.h"

TEST(Config, Placeholder) { SUCCEED(); }
