// CPU time of the whole process, the benches' clock: on a shared machine wall time also counts the waits for a
// core, CPU time only the work (at 1 thread, the uncontended time).
#pragma once

#include <time.h>

inline double cpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}
