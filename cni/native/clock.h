/* Monotonic milliseconds for deadlines, and sleeping that survives signals. */
#ifndef WEFT_CNI_CLOCK_H
#define WEFT_CNI_CLOCK_H

#include <stdint.h>

int64_t now_ms(void);
void sleep_ms(double ms);
/* A uniform double in [0, 1) (retry jitter). */
double jitter(void);

#endif
