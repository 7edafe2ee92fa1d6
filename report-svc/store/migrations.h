#pragma once

#include <vector>

#include "libs/db/migrations.h"

namespace kelola::report {

// report-svc's schema, in version order. Applied at start.
std::vector<db::Migration> Migrations();

}  // namespace kelola::report
