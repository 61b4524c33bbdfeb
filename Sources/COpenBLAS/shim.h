#include <cblas.h>
/* mallopt, for NeuralNetRuntime.keepLargeAllocationsInHeap (glibc only). */
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif
