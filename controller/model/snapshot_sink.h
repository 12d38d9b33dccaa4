// SnapshotSink: where the controller hands each new Snapshot (the xDS server implements it;
// controller/ never includes xds/). OnSnapshot is called from the controller's one writer
// thread, one snapshot at a time, in version order; implementations must not block long.
#pragma once

#include "controller/model/push_request.h"
#include "controller/model/snapshot.h"

namespace meshd::model {

class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual void OnSnapshot(SnapshotPtr snapshot, const PushRequest& request) = 0;
};

}  // namespace meshd::model
