/*
 * The one clock every deadline in the daemon runs on: monotonic, so a
 * step of the wall clock (NTP, an admin's date) moves no deadline.
 */
#ifndef DAEMON_CLOCK_H
#define DAEMON_CLOCK_H

#include <sys/time.h>

#include <stdint.h>

uint64_t	 clock_ms(void);
uint64_t	 clock_us(void);
double		 clock_s(void);
void		 clock_tv(int64_t, struct timeval *);

#endif
