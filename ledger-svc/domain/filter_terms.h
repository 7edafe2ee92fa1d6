#pragma once

// How often a field may appear in a List filter: libs/filter's CheckTermsOnce.

#include "ledger-svc/domain/listing.h"
#include "libs/filter/filter.h"

namespace kelola::ledger {

using filter::CheckTermsOnce;

}  // namespace kelola::ledger
