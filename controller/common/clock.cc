#include "controller/common/clock.h"

namespace meshd {

RealClock* RealClock::Get() {
  static RealClock* clock = new RealClock();
  return clock;
}

}  // namespace meshd
