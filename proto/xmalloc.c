/*
 * Checked allocation.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "xmalloc.h"

static void	xmalloc_die(size_t) __attribute__((noreturn));

/* Out of memory: nothing sensible is left to do. */
static void
xmalloc_die(size_t size)
{
	fprintf(stderr, "out of memory allocating %zu bytes\n", size);
	abort();
}

/* malloc that never fails. */
void *
xmalloc(size_t size)
{
	void	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		xmalloc_die(size);
	return (p);
}

/* calloc that never fails. */
void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		xmalloc_die(n * size);
	return (p);
}

/* realloc that never fails. */
void *
xrealloc(void *p, size_t size)
{
	if ((p = realloc(p, size == 0 ? 1 : size)) == NULL)
		xmalloc_die(size);
	return (p);
}

/* reallocarray that never fails and checks n * size for overflow. */
void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		xmalloc_die(SIZE_MAX);
	return (xrealloc(p, n * size));
}

/* strdup that never fails. */
char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		xmalloc_die(strlen(s) + 1);
	return (p);
}

/* strndup that never fails. */
char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		xmalloc_die(n + 1);
	return (p);
}

/* asprintf that never fails. */
int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		xmalloc_die(0);
	return (n);
}

/* Make cJSON allocate through xmalloc, so its builders never return NULL. */
void
xmalloc_cjson_hooks(void)
{
	cJSON_Hooks	hooks = { xmalloc, free };

	cJSON_InitHooks(&hooks);
}
