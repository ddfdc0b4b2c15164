// The one place where RocksDB's status becomes an absl::Status.
#ifndef ATABLE_STORAGE_ROCKSDB_STATUS_H_
#define ATABLE_STORAGE_ROCKSDB_STATUS_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "rocksdb/status.h"

namespace atable {

// Returns OK for an OK status, NOT_FOUND for NotFound, UNAVAILABLE for Busy/TimedOut/TryAgain
// and lock errors, DATA_LOSS for Corruption, INTERNAL otherwise; the message starts with `context`.
absl::Status FromRocksDb(const rocksdb::Status& status, absl::string_view context);

}  // namespace atable

#endif  // ATABLE_STORAGE_ROCKSDB_STATUS_H_
