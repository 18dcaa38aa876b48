// arch/perf.h: lwIP's performance hooks, unused on MultiOS.
#define PERF_START
#define PERF_STOP(x)
