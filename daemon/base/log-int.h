/*
 * log-int.h - between log.c and log-limit.c only.
 */
#ifndef HAZMON_LOG_INT_H
#define HAZMON_LOG_INT_H

#include "base.h"

#define HZ_LOG_TEXT_MAX	2048		/* one message, with its NUL */
int log__max(void);
void log__emit(int prio, const struct log_ctx *x, const char *text, size_t len);
int log__limit(int prio, const struct log_ctx *x, const char *text, size_t len);
void log__limit_reset(int burst, int window_ms);

#endif
