/*
 * mcp-bench-echo: the benchmark's MCP server, doing no work per call
 * beyond parsing the request and answering it.
 *
 * MCP stdio transport: one JSON-RPC message per line on stdin and stdout.
 * It answers initialize, ping and tools/list, ignores notifications, and
 * has two tools: "echo" returns arguments.text as its text content, "blob"
 * returns a text of arguments.bytes 'x' characters (the 1 MiB results of
 * scenario 3). Anything else (server/discover included, so a broker in
 * protocol "auto" falls back to initialize at once) gets -32601.
 *
 * The fast path: stdin is read in large chunks, each line is parsed with
 * cJSON, and the answers to every line of one chunk leave in one write().
 * It exits 0 on stdin EOF.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#define ECHO_NAME		"mcp-bench-echo"
#define ECHO_READ_CHUNK		(256 * 1024)
#define ECHO_MAX_LINE		(64 * 1024 * 1024)
#define ECHO_MAX_BLOB		(64 * 1024 * 1024)
#define ECHO_FALLBACK_PROTOCOL	"2025-06-18"

/* A growable byte buffer. */
struct echo_buf {
	char	*data;
	size_t	 len;
	size_t	 size;
};

static const char *echo_protocols[] = {
	"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25",
};

static const char echo_tools[] =
	"{\"tools\":["
	"{\"name\":\"echo\",\"description\":\"Returns arguments.text.\","
	"\"inputSchema\":{\"type\":\"object\",\"properties\":"
	"{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}},"
	"{\"name\":\"blob\",\"description\":\"Returns a text of "
	"arguments.bytes 'x' characters.\","
	"\"inputSchema\":{\"type\":\"object\",\"properties\":"
	"{\"bytes\":{\"type\":\"integer\"}},\"required\":[\"bytes\"]}}]}";

static void	 echo_reserve(struct echo_buf *, size_t);
static void	 echo_append(struct echo_buf *, const char *, size_t);
static void	 echo_append_str(struct echo_buf *, const char *);
static void	 echo_append_json(struct echo_buf *, const cJSON *);
static void	 echo_begin(struct echo_buf *, const cJSON *);
static void	 echo_error(struct echo_buf *, const cJSON *, int,
		     const char *);
static void	 echo_initialize(struct echo_buf *, const cJSON *,
		     const cJSON *);
static void	 echo_call(struct echo_buf *, const cJSON *, const cJSON *);
static void	 echo_line(struct echo_buf *, const char *, size_t);
static int	 echo_flush(struct echo_buf *);

/* Make room for n more bytes (out of memory is fatal). */
static void
echo_reserve(struct echo_buf *b, size_t n)
{
	size_t	size = b->size != 0 ? b->size : 4096;

	if (b->len + n <= b->size)
		return;
	while (size < b->len + n)
		size *= 2;
	if ((b->data = realloc(b->data, size)) == NULL) {
		fprintf(stderr, ECHO_NAME ": out of memory\n");
		exit(1);
	}
	b->size = size;
}

static void
echo_append(struct echo_buf *b, const char *p, size_t n)
{
	echo_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
echo_append_str(struct echo_buf *b, const char *s)
{
	echo_append(b, s, strlen(s));
}

/* Append a cJSON value as compact JSON. */
static void
echo_append_json(struct echo_buf *b, const cJSON *item)
{
	char	*text;

	if ((text = cJSON_PrintUnformatted(item)) == NULL) {
		fprintf(stderr, ECHO_NAME ": out of memory\n");
		exit(1);
	}
	echo_append_str(b, text);
	cJSON_free(text);
}

/* Start an answer to id, up to the member that follows. */
static void
echo_begin(struct echo_buf *b, const cJSON *id)
{
	echo_append_str(b, "{\"jsonrpc\":\"2.0\",\"id\":");
	echo_append_json(b, id);
}

static void
echo_error(struct echo_buf *b, const cJSON *id, int code, const char *message)
{
	char	text[256];

	echo_begin(b, id);
	snprintf(text, sizeof text, ",\"error\":{\"code\":%d,"
	    "\"message\":\"%s\"}}\n", code, message);
	echo_append_str(b, text);
}

/* initialize: the client's version if this server speaks it. */
static void
echo_initialize(struct echo_buf *b, const cJSON *id, const cJSON *params)
{
	const cJSON	*v;
	const char	*version = ECHO_FALLBACK_PROTOCOL;
	size_t		 i;

	v = cJSON_GetObjectItemCaseSensitive(params, "protocolVersion");
	for (i = 0; cJSON_IsString(v) &&
	    i < sizeof echo_protocols / sizeof echo_protocols[0]; i++) {
		if (strcmp(v->valuestring, echo_protocols[i]) == 0)
			version = echo_protocols[i];
	}
	echo_begin(b, id);
	echo_append_str(b, ",\"result\":{\"protocolVersion\":\"");
	echo_append_str(b, version);
	echo_append_str(b, "\",\"capabilities\":{\"tools\":{}},"
	    "\"serverInfo\":{\"name\":\"" ECHO_NAME "\","
	    "\"version\":\"1.0\"}}}\n");
}

/* tools/call: echo and blob. */
static void
echo_call(struct echo_buf *b, const cJSON *id, const cJSON *params)
{
	const cJSON	*name, *args, *text, *bytes;
	size_t		 n;

	name = cJSON_GetObjectItemCaseSensitive(params, "name");
	args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
	if (cJSON_IsString(name) && strcmp(name->valuestring, "echo") == 0) {
		text = cJSON_GetObjectItemCaseSensitive(args, "text");
		if (!cJSON_IsString(text)) {
			echo_error(b, id, -32602, "echo needs arguments.text");
			return;
		}
		echo_begin(b, id);
		echo_append_str(b, ",\"result\":{\"content\":[{\"type\":"
		    "\"text\",\"text\":");
		echo_append_json(b, text);
		echo_append_str(b, "}]}}\n");
		return;
	}
	if (cJSON_IsString(name) && strcmp(name->valuestring, "blob") == 0) {
		bytes = cJSON_GetObjectItemCaseSensitive(args, "bytes");
		if (!cJSON_IsNumber(bytes) || bytes->valuedouble < 0 ||
		    bytes->valuedouble > ECHO_MAX_BLOB) {
			echo_error(b, id, -32602, "blob needs arguments.bytes");
			return;
		}
		n = (size_t)bytes->valuedouble;
		echo_begin(b, id);
		echo_append_str(b, ",\"result\":{\"content\":[{\"type\":"
		    "\"text\",\"text\":\"");
		echo_reserve(b, n);
		memset(b->data + b->len, 'x', n);
		b->len += n;
		echo_append_str(b, "\"}]}}\n");
		return;
	}
	echo_error(b, id, -32602, "unknown tool");
}

/* Answer one line into out (nothing for a notification). */
static void
echo_line(struct echo_buf *out, const char *data, size_t len)
{
	cJSON		*root;
	const cJSON	*id, *method, *params;

	if ((root = cJSON_ParseWithLength(data, len)) == NULL)
		return;
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	method = cJSON_GetObjectItemCaseSensitive(root, "method");
	params = cJSON_GetObjectItemCaseSensitive(root, "params");
	if (id == NULL || cJSON_IsNull(id) || !cJSON_IsString(method))
		;	/* a notification or an answer: nothing to say */
	else if (strcmp(method->valuestring, "tools/call") == 0)
		echo_call(out, id, params);
	else if (strcmp(method->valuestring, "initialize") == 0)
		echo_initialize(out, id, params);
	else if (strcmp(method->valuestring, "ping") == 0) {
		echo_begin(out, id);
		echo_append_str(out, ",\"result\":{}}\n");
	} else if (strcmp(method->valuestring, "tools/list") == 0) {
		echo_begin(out, id);
		echo_append_str(out, ",\"result\":");
		echo_append_str(out, echo_tools);
		echo_append_str(out, "}\n");
	} else
		echo_error(out, id, -32601, "method not found");
	cJSON_Delete(root);
}

/* Write out all of out; -1 if stdout is gone. */
static int
echo_flush(struct echo_buf *out)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < out->len) {
		n = write(STDOUT_FILENO, out->data + off, out->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		off += (size_t)n;
	}
	out->len = 0;
	return (0);
}

int
main(void)
{
	struct echo_buf	 in = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	size_t		 start, scanned = 0;
	char		*nl;
	ssize_t		 n;

	for (;;) {
		echo_reserve(&in, ECHO_READ_CHUNK);
		n = read(STDIN_FILENO, in.data + in.len, in.size - in.len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		in.len += (size_t)n;

		/* Every complete line of this chunk, answered in one write. */
		start = 0;
		while ((nl = memchr(in.data + scanned, '\n',
		    in.len - scanned)) != NULL) {
			echo_line(&out, in.data + start,
			    (size_t)(nl - (in.data + start)));
			start = scanned = (size_t)(nl - in.data) + 1;
		}
		memmove(in.data, in.data + start, in.len - start);
		in.len -= start;
		scanned = in.len;
		if (in.len > ECHO_MAX_LINE) {
			fprintf(stderr, ECHO_NAME ": line too long\n");
			return (1);
		}
		if (out.len > 0 && echo_flush(&out) == -1)
			return (0);
	}
	free(in.data);
	free(out.data);
	return (0);
}
