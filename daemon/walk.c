/*
 * Reading a JSON document value by value, checking each one's type and
 * bounds.
 *
 * Every message names its JSON path, and a failed read records an error
 * and lets the caller go on, so one pass collects everything wrong with
 * a document rather than the first thing only. Keys come from the file,
 * so they are escaped and cut before they appear in a message.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "log.h"
#include "walk.h"
#include "xmalloc.h"

/* A key quoted in a message is cut at this length to bound the message. */
#define WALK_MAX_PATH_KEY	64

static void	walk_diag_add(char ***, size_t *, char *);
static int	walk_compare_keys(const void *, const void *);
static void	walk_text_position(const char *, const char *, size_t *,
		    size_t *);
static int	walk_check_text(struct walk *, const char *, size_t);
static void	walk_buf_add(char **, size_t *, size_t *, const char *,
		    size_t);

/* Append a message (taken) to a list of messages. */
static void
walk_diag_add(char ***list, size_t *n, char *msg)
{
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = msg;
}

/* Record an error at path: "<path>: <message>". */
void
walk_error(struct walk *walk, const char *path, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *line;

	walk->nerrors++;
	if (walk->diag == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("out of memory formatting a config error");
	va_end(ap);
	xasprintf(&line, "%s: %s", path, msg);
	free(msg);
	walk_diag_add(&walk->diag->errors, &walk->diag->nerrors, line);
}

/* Record a warning at path: "<path>: <message>". */
void
walk_warning(struct walk *walk, const char *path, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *line;

	if (walk->diag == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("out of memory formatting a config warning");
	va_end(ap);
	xasprintf(&line, "%s: %s", path, msg);
	free(msg);
	walk_diag_add(&walk->diag->warnings, &walk->diag->nwarnings, line);
}

/*
 * The path of key under parent ("mcpServers" + "x" = "mcpServers.x").
 * Keys come from the file, so control bytes and backslashes are escaped
 * (a message stays one log line) and long keys are cut.
 */
char *
walk_path_key(const char *parent, const char *key)
{
	char	 seg[WALK_MAX_PATH_KEY * 4 + 4], *path;
	size_t	 i, n = 0;

	for (i = 0; key[i] != '\0'; i++) {
		unsigned char	c = (unsigned char)key[i];

		if (i == WALK_MAX_PATH_KEY) {
			memcpy(seg + n, "...", 3);
			n += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			n += (size_t)snprintf(seg + n, sizeof seg - n,
			    "\\x%02x", c);
		else
			seg[n++] = (char)c;
	}
	seg[n] = '\0';
	if (parent == NULL)
		return (xstrdup(seg));
	xasprintf(&path, "%s.%s", parent, seg);
	return (path);
}

/* The path of element i of the array at parent ("args" + 1 = "args[1]"). */
char *
walk_path_index(const char *parent, size_t i)
{
	char	*path;

	xasprintf(&path, "%s[%zu]", parent, i);
	return (path);
}

/* The integer key called name in a table, or NULL. */
const struct walk_int_key *
walk_find_int(const struct walk_int_key *table, size_t n,
    const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(table[i].name, name) == 0)
			return (&table[i]);
	}
	return (NULL);
}

/* qsort order for key names. */
static int
walk_compare_keys(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/*
 * Report each key that appears more than once in obj. cJSON keeps every
 * copy and a lookup finds the first, so a repeated key would silently
 * lose one value. Sorted rather than compared pairwise: a 4 MiB file may
 * hold a great many keys.
 */
void
walk_check_duplicates(struct walk *walk, const cJSON *obj,
    const char *path)
{
	const cJSON	 *item;
	const char	**keys;
	char		 *sub;
	size_t		  n = 0, i;

	for (item = obj->child; item != NULL; item = item->next)
		n++;
	if (n < 2)
		return;
	keys = xreallocarray(NULL, n, sizeof *keys);
	n = 0;
	for (item = obj->child; item != NULL; item = item->next)
		keys[n++] = item->string;
	qsort(keys, n, sizeof *keys, walk_compare_keys);
	for (i = 1; i < n; i++) {
		if (strcmp(keys[i], keys[i - 1]) != 0)
			continue;
		if (i >= 2 && strcmp(keys[i - 1], keys[i - 2]) == 0)
			continue;
		sub = walk_path_key(path, keys[i]);
		walk_error(walk, sub, "duplicate key (each key may appear "
		    "only once)");
		free(sub);
	}
	free(keys);
}

/*
 * Read an integral number from min to max into out. Booleans, strings
 * and 1.5 are refused: a config that means something else must not pass.
 */
int
walk_get_int(struct walk *walk, const cJSON *item, const char *path,
    long long min, long long max, long long *out)
{
	double	d;

	if (cJSON_IsNumber(item)) {
		d = item->valuedouble;
		if (isfinite(d) && d == floor(d) && d >= (double)min &&
		    d <= (double)max) {
			*out = (long long)d;
			return (0);
		}
	}
	walk_error(walk, path, "expected an integer from %lld to %lld", min,
	    max);
	return (-1);
}

/* A non-empty string's value, or NULL after recording an error. */
const char *
walk_get_string(struct walk *walk, const cJSON *item,
    const char *path)
{
	if (!cJSON_IsString(item) || *item->valuestring == '\0') {
		walk_error(walk, path, "expected a non-empty string");
		return (NULL);
	}
	return (item->valuestring);
}

/* An environment variable name: [A-Za-z_][A-Za-z0-9_]*. */
int
walk_env_name_valid(const char *name)
{
	static const char	 alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz_";
	size_t			 len;

	len = strlen(name);
	if (len == 0 || strchr(alpha, name[0]) == NULL)
		return (0);
	return (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_") == len);
}

/* The 1-based line and byte column of at within text. */
static void
walk_text_position(const char *text, const char *at, size_t *line,
    size_t *column)
{
	const char	*p, *start = text;

	*line = 1;
	for (p = text; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			start = p + 1;
		}
	}
	*column = (size_t)(at - start) + 1;
}

/*
 * Refuse text cJSON would misread: a NUL byte would cut a string short
 * without a word.
 */
static int
walk_check_text(struct walk *walk, const char *text, size_t len)
{
	const char	*nul;
	size_t		 line, column;

	if ((nul = memchr(text, '\0', len)) == NULL)
		return (0);
	walk_text_position(text, nul, &line, &column);
	walk_error(walk, "(top level)", "a NUL byte at line %zu, column %zu "
	    "(a config is UTF-8 text)", line, column);
	return (-1);
}

/*
 * Parse len bytes of JSON text that must hold one object. A NUL byte,
 * empty text, invalid JSON and text after the value are errors at
 * "(top level)", with a line and column where there is one. Returns the
 * object, which the caller owns and frees with cJSON_Delete, or NULL.
 */
cJSON *
walk_parse(struct walk *walk, const char *text, size_t len)
{
	cJSON		*root;
	const char	*end = NULL, *p;
	size_t		 line, column;

	if (walk_check_text(walk, text, len) != 0)
		return (NULL);
	for (p = text; p < text + len && strchr(" \t\r\n", *p) != NULL; p++)
		/* nothing */;
	if (p == text + len) {
		walk_error(walk, "(top level)", "empty; expected a JSON "
		    "object");
		return (NULL);
	}

	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		if (end == NULL || end < text || end > text + len)
			end = text;
		walk_text_position(text, end, &line, &column);
		walk_error(walk, "(top level)", "not valid JSON near line "
		    "%zu, column %zu", line, column);
		return (NULL);
	}
	for (p = end; p < text + len && strchr(" \t\r\n", *p) != NULL; p++)
		/* nothing */;
	if (p < text + len) {
		walk_text_position(text, p, &line, &column);
		walk_error(walk, "(top level)", "unexpected text after the "
		    "JSON value at line %zu, column %zu", line, column);
		cJSON_Delete(root);
		return (NULL);
	}
	if (!cJSON_IsObject(root)) {
		walk_error(walk, "(top level)", "expected an object");
		cJSON_Delete(root);
		return (NULL);
	}
	return (root);
}

/* Append n bytes of s to a NUL-terminated buffer that grows. */
static void
walk_buf_add(char **buf, size_t *len, size_t *size, const char *s,
    size_t n)
{
	if (*size - *len <= n) {
		while (*size - *len <= n)
			*size *= 2;
		*buf = xrealloc(*buf, *size);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/*
 * s with each ${NAME} replaced by NAME's value in the daemon's
 * environment, so secrets stay out of the file; "$$" is a "$", and any
 * other "$" stays as it is. Values are not expanded again. Returns a new
 * string, or NULL after an error at path for each unset variable or
 * malformed ${...}. Messages name the variable, never its value.
 */
char *
walk_expand(struct walk *walk, const char *s, const char *path)
{
	return (walk_expand_keep(walk, s, path, NULL));
}

/*
 * Like walk_expand, but the names in keep (NULL-terminated) are left for
 * a later expansion: each stays "${name}" and every literal "$" in the
 * result, values included, is written "$$". keep NULL is walk_expand.
 */
char *
walk_expand_keep(struct walk *walk, const char *s, const char *path,
    const char *const *keep)
{
	const char	*p, *end, *value, *const *k;
	const char	*dollar = keep != NULL ? "$$" : "$";
	char		*out, *name, *quoted;
	size_t		 len = 0, size, n, i;
	int		 bad = 0;

	size = strlen(s) + 1;
	out = xmalloc(size);
	*out = '\0';
	for (p = s; *p != '\0'; /* nothing */) {
		if (p[0] != '$') {
			n = strcspn(p, "$");
			walk_buf_add(&out, &len, &size, p, n);
			p += n;
			continue;
		}
		if (p[1] == '$') {
			walk_buf_add(&out, &len, &size, dollar,
			    strlen(dollar));
			p += 2;
			continue;
		}
		if (p[1] != '{') {
			walk_buf_add(&out, &len, &size, dollar,
			    strlen(dollar));
			p++;
			continue;
		}
		if ((end = strchr(p + 2, '}')) == NULL) {
			walk_error(walk, path, "unterminated \"${\" (a "
			    "literal \"$\" is written \"$$\")");
			bad = 1;
			break;
		}
		name = xstrndup(p + 2, (size_t)(end - p - 2));
		for (k = keep; k != NULL && *k != NULL; k++) {
			if (strcmp(name, *k) == 0)
				break;
		}
		if (k != NULL && *k != NULL) {
			walk_buf_add(&out, &len, &size, p,
			    (size_t)(end + 1 - p));
			free(name);
			p = end + 1;
			continue;
		}
		quoted = walk_path_key(NULL, name);
		if (!walk_env_name_valid(name)) {
			walk_error(walk, path, "${%s}: not a valid variable "
			    "name (letters, digits and \"_\", not starting "
			    "with a digit; a literal \"$\" is written \"$$\")",
			    quoted);
			bad = 1;
		} else if ((value = getenv(name)) == NULL) {
			walk_error(walk, path, "${%s} is not set in the "
			    "daemon's environment", quoted);
			bad = 1;
		} else if (keep == NULL)
			walk_buf_add(&out, &len, &size, value, strlen(value));
		else {
			for (i = 0; value[i] != '\0'; i++) {
				if (value[i] == '$')
					walk_buf_add(&out, &len, &size, "$$", 2);
				else
					walk_buf_add(&out, &len, &size,
					    value + i, 1);
			}
		}
		free(quoted);
		free(name);
		p = end + 1;
	}
	if (bad) {
		free(out);
		return (NULL);
	}
	return (out);
}

/*
 * A non-empty string, expanded, that must stay non-empty (command,
 * cwd); NULL after recording an error.
 */
char *
walk_expand_nonempty(struct walk *walk, const cJSON *item,
    const char *path)
{
	const char	*s;
	char		*out;

	if ((s = walk_get_string(walk, item, path)) == NULL)
		return (NULL);
	if ((out = walk_expand(walk, s, path)) == NULL)
		return (NULL);
	if (*out == '\0') {
		walk_error(walk, path, "empty once its variables are "
		    "expanded");
		free(out);
		return (NULL);
	}
	return (out);
}
