/*
 * mcp-demo-server: the demo MCP server shipped with mcp-broker.
 *
 * It speaks the MCP stdio transport: one JSON-RPC message per line on stdin
 * and stdout, diagnostics on stderr. Its state lives exactly as long as the
 * process, so it shows what a broker session keeps: a counter that goes 1,
 * 2, 3 and notes that are still there on the next call.
 */
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "errors.h"
#include "jsonrpc.h"
#include "xmalloc.h"

#define DEMO_NAME		"mcp-demo-server"
#define DEMO_VERSION		"1.0"
#define DEMO_LATEST_PROTOCOL	"2025-11-25"

/* The broker's default max_message_bytes: it never sends a longer line. */
#define DEMO_MAX_LINE		(16 * 1024 * 1024)
#define DEMO_MAX_NOTES		1000
#define DEMO_MAX_KEY		256
#define DEMO_MAX_VALUE		(64 * 1024)

struct demo_note {
	char	*key;
	char	*value;
};

struct demo {
	unsigned long long	 counter;
	struct demo_note	*notes;
	size_t			 nnotes;
	int			 broken;	/* stdout failed */
};

/* A method handler: takes id, returns the response (result or error). */
typedef cJSON	*(*demo_method_fn)(struct demo *, cJSON *, const cJSON *);
/* A tool: returns its CallToolResult (owned by the caller). */
typedef cJSON	*(*demo_tool_fn)(struct demo *, const cJSON *);

struct demo_method {
	const char	*name;
	demo_method_fn	 fn;
};

struct demo_tool {
	const char	*name;
	const char	*description;
	const char	*input_schema;		/* JSON text */
	const char	*output_schema;		/* JSON text, or NULL */
	demo_tool_fn	 fn;
};

static const char *demo_protocols[] = {
	"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25",
};

static void	 demo_send(struct demo *, cJSON *);
static void	 demo_handle_line(struct demo *, char *, size_t);
static void	 demo_handle_request(struct demo *, struct jsonrpc_msg *);
static void	 demo_free(struct demo *);

static cJSON	*demo_initialize(struct demo *, cJSON *, const cJSON *);
static cJSON	*demo_ping(struct demo *, cJSON *, const cJSON *);
static cJSON	*demo_tools_list(struct demo *, cJSON *, const cJSON *);
static cJSON	*demo_tools_call(struct demo *, cJSON *, const cJSON *);

static cJSON	*demo_tool_text(const char *, cJSON *);
static cJSON	*demo_tool_fail(const char *, ...)
		     __attribute__((format(printf, 1, 2)));
static const char *demo_arg_string(const cJSON *, const char *, cJSON **);
static struct demo_note *demo_note_find(struct demo *, const char *);

static cJSON	*demo_tool_counter(struct demo *, const cJSON *);
static cJSON	*demo_tool_remember(struct demo *, const cJSON *);
static cJSON	*demo_tool_recall(struct demo *, const cJSON *);
static cJSON	*demo_tool_echo(struct demo *, const cJSON *);
static cJSON	*demo_tool_whoami(struct demo *, const cJSON *);

static const struct demo_method demo_methods[] = {
	{ "initialize", demo_initialize },
	{ "ping", demo_ping },
	{ "tools/list", demo_tools_list },
	{ "tools/call", demo_tools_call },
};

static const struct demo_tool demo_tools[] = {
	{ "counter",
	  "Add one to a counter kept by this server process and return the "
	  "new value. Call it twice in the same session to see 1, then 2.",
	  "{\"type\":\"object\",\"properties\":{}}",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"count\":{\"type\":\"integer\",\"minimum\":1}},"
	  "\"required\":[\"count\"]}",
	  demo_tool_counter },
	{ "remember",
	  "Store a note under a key, replacing any note already there. At "
	  "most 1000 keys; a key is at most 256 bytes and a value at most "
	  "64 KiB.",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"key\":{\"type\":\"string\",\"description\":\"The name of the "
	  "note (1 to 256 bytes).\"},"
	  "\"value\":{\"type\":\"string\",\"description\":\"The text to keep "
	  "(at most 64 KiB).\"}},"
	  "\"required\":[\"key\",\"value\"]}",
	  NULL,
	  demo_tool_remember },
	{ "recall",
	  "Return the note stored under a key by remember.",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"key\":{\"type\":\"string\",\"description\":\"The name the note "
	  "was stored under.\"}},"
	  "\"required\":[\"key\"]}",
	  NULL,
	  demo_tool_recall },
	{ "echo",
	  "Return the text it is given.",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"text\":{\"type\":\"string\",\"description\":\"The text to "
	  "return.\"}},"
	  "\"required\":[\"text\"]}",
	  NULL,
	  demo_tool_echo },
	{ "whoami",
	  "Return the process id of the server process that answers, to see "
	  "which process a session is talking to.",
	  "{\"type\":\"object\",\"properties\":{}}",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"pid\":{\"type\":\"integer\"}},\"required\":[\"pid\"]}",
	  demo_tool_whoami },
};

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

/* Write one message (taken) as a line on stdout. */
static void
demo_send(struct demo *demo, cJSON *msg)
{
	char	*text;

	text = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	if (text == NULL) {
		fprintf(stderr, DEMO_NAME ": cannot serialise a message\n");
		return;
	}
	if (fputs(text, stdout) == EOF || putchar('\n') == EOF ||
	    fflush(stdout) == EOF) {
		fprintf(stderr, DEMO_NAME ": cannot write to stdout: %s\n",
		    strerror(errno));
		demo->broken = 1;
	}
	free(text);
}

/* Answer initialize: the client's version if we speak it, else our newest. */
static cJSON *
demo_initialize(__attribute__((unused)) struct demo *demo, cJSON *id,
    const cJSON *params)
{
	const cJSON	*requested;
	const char	*version = DEMO_LATEST_PROTOCOL;
	cJSON		*result, *caps, *info;
	size_t		 i;

	requested = cJSON_GetObjectItemCaseSensitive(params, "protocolVersion");
	for (i = 0; cJSON_IsString(requested) && i < nitems(demo_protocols);
	    i++) {
		if (strcmp(requested->valuestring, demo_protocols[i]) == 0)
			version = demo_protocols[i];
	}

	result = cJSON_CreateObject();
	cJSON_AddStringToObject(result, "protocolVersion", version);
	caps = cJSON_AddObjectToObject(result, "capabilities");
	cJSON_AddObjectToObject(caps, "tools");
	info = cJSON_AddObjectToObject(result, "serverInfo");
	cJSON_AddStringToObject(info, "name", DEMO_NAME);
	cJSON_AddStringToObject(info, "version", DEMO_VERSION);
	cJSON_AddStringToObject(result, "instructions",
	    "A demo server whose state lives as long as its process: call "
	    "counter twice to see 1 then 2, keep notes with remember and "
	    "recall, and use whoami to see which process answers.");
	return (jsonrpc_result(id, result));
}

/* Answer ping with an empty result. */
static cJSON *
demo_ping(__attribute__((unused)) struct demo *demo, cJSON *id,
    __attribute__((unused)) const cJSON *params)
{
	return (jsonrpc_result(id, cJSON_CreateObject()));
}

/* Answer tools/list from the tool table; everything fits in one page. */
static cJSON *
demo_tools_list(__attribute__((unused)) struct demo *demo, cJSON *id,
    __attribute__((unused)) const cJSON *params)
{
	const struct demo_tool	*t;
	cJSON			*result, *tools, *tool;
	size_t			 i;

	result = cJSON_CreateObject();
	tools = cJSON_AddArrayToObject(result, "tools");
	for (i = 0; i < nitems(demo_tools); i++) {
		t = &demo_tools[i];
		tool = cJSON_CreateObject();
		cJSON_AddStringToObject(tool, "name", t->name);
		cJSON_AddStringToObject(tool, "description", t->description);
		cJSON_AddItemToObject(tool, "inputSchema",
		    cJSON_Parse(t->input_schema));
		if (t->output_schema != NULL) {
			cJSON_AddItemToObject(tool, "outputSchema",
			    cJSON_Parse(t->output_schema));
		}
		cJSON_AddItemToArray(tools, tool);
	}
	return (jsonrpc_result(id, result));
}

/*
 * Answer tools/call. A malformed call or an unknown tool is a protocol
 * error (-32602); a tool's own failure is a result with isError.
 */
static cJSON *
demo_tools_call(struct demo *demo, cJSON *id, const cJSON *params)
{
	const cJSON	*name, *args;
	cJSON		*reply;
	char		*message;
	size_t		 i;

	name = cJSON_GetObjectItemCaseSensitive(params, "name");
	if (!cJSON_IsObject(params) || !cJSON_IsString(name)) {
		return (jsonrpc_error(id, RPC_INVALID_PARAMS,
		    "tools/call needs params with a string \"name\".", NULL));
	}
	args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
	if (args != NULL && !cJSON_IsObject(args)) {
		return (jsonrpc_error(id, RPC_INVALID_PARAMS,
		    "\"arguments\" must be an object.", NULL));
	}
	for (i = 0; i < nitems(demo_tools); i++) {
		if (strcmp(name->valuestring, demo_tools[i].name) == 0) {
			return (jsonrpc_result(id,
			    demo_tools[i].fn(demo, args)));
		}
	}
	xasprintf(&message, "Unknown tool: %s", name->valuestring);
	reply = jsonrpc_error(id, RPC_INVALID_PARAMS, message, NULL);
	free(message);
	return (reply);
}

/* A tool result: one text block, plus structured content (taken) if any. */
static cJSON *
demo_tool_text(const char *text, cJSON *structured)
{
	cJSON	*result, *content, *block;

	result = cJSON_CreateObject();
	content = cJSON_AddArrayToObject(result, "content");
	block = cJSON_CreateObject();
	cJSON_AddStringToObject(block, "type", "text");
	cJSON_AddStringToObject(block, "text", text);
	cJSON_AddItemToArray(content, block);
	if (structured != NULL)
		cJSON_AddItemToObject(result, "structuredContent", structured);
	return (result);
}

/* A tool's own failure: a result with isError and a text saying why. */
static cJSON *
demo_tool_fail(const char *fmt, ...)
{
	cJSON	*result;
	va_list	 ap;
	char	*text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1) {
		fprintf(stderr, DEMO_NAME ": out of memory\n");
		abort();
	}
	va_end(ap);
	result = demo_tool_text(text, NULL);
	cJSON_AddBoolToObject(result, "isError", 1);
	free(text);
	return (result);
}

/* A required string argument, or NULL with a tool error in *fail. */
static const char *
demo_arg_string(const cJSON *args, const char *name, cJSON **fail)
{
	const cJSON	*arg;

	arg = cJSON_GetObjectItemCaseSensitive(args, name);
	if (!cJSON_IsString(arg)) {
		*fail = demo_tool_fail("The argument \"%s\" is required and "
		    "must be a string.", name);
		return (NULL);
	}
	return (arg->valuestring);
}

/* The note stored under key, or NULL. */
static struct demo_note *
demo_note_find(struct demo *demo, const char *key)
{
	size_t	i;

	for (i = 0; i < demo->nnotes; i++) {
		if (strcmp(demo->notes[i].key, key) == 0)
			return (&demo->notes[i]);
	}
	return (NULL);
}

/* Tool counter: one more than last time, for the life of the process. */
static cJSON *
demo_tool_counter(struct demo *demo,
    __attribute__((unused)) const cJSON *args)
{
	cJSON	*structured;
	char	 text[32];

	demo->counter++;
	snprintf(text, sizeof text, "%llu", demo->counter);
	structured = cJSON_CreateObject();
	cJSON_AddNumberToObject(structured, "count", (double)demo->counter);
	return (demo_tool_text(text, structured));
}

/* Tool remember: store or replace a note, within the store's bounds. */
static cJSON *
demo_tool_remember(struct demo *demo, const cJSON *args)
{
	struct demo_note	*note;
	const char		*key, *value;
	cJSON			*fail = NULL, *result;
	char			*text;
	size_t			 keylen, valuelen;

	if ((key = demo_arg_string(args, "key", &fail)) == NULL ||
	    (value = demo_arg_string(args, "value", &fail)) == NULL)
		return (fail);
	keylen = strlen(key);
	valuelen = strlen(value);
	if (keylen == 0)
		return (demo_tool_fail("The key must not be empty."));
	if (keylen > DEMO_MAX_KEY) {
		return (demo_tool_fail("The key is %zu bytes long; a key is at "
		    "most %d bytes.", keylen, DEMO_MAX_KEY));
	}
	if (valuelen > DEMO_MAX_VALUE) {
		return (demo_tool_fail("The value is %zu bytes long; a value "
		    "is at most %d bytes (64 KiB).", valuelen, DEMO_MAX_VALUE));
	}

	if ((note = demo_note_find(demo, key)) != NULL) {
		free(note->value);
		note->value = xstrdup(value);
	} else {
		if (demo->nnotes >= DEMO_MAX_NOTES) {
			return (demo_tool_fail("The note store is full: it "
			    "holds at most %d keys. Overwrite an existing "
			    "key instead.", DEMO_MAX_NOTES));
		}
		demo->notes = xreallocarray(demo->notes, demo->nnotes + 1,
		    sizeof *demo->notes);
		note = &demo->notes[demo->nnotes++];
		note->key = xstrdup(key);
		note->value = xstrdup(value);
	}
	xasprintf(&text, "Remembered \"%s\" (%zu of %d keys used).", key,
	    demo->nnotes, DEMO_MAX_NOTES);
	result = demo_tool_text(text, NULL);
	free(text);
	return (result);
}

/* Tool recall: the note stored under key, or a tool error if none is. */
static cJSON *
demo_tool_recall(struct demo *demo, const cJSON *args)
{
	struct demo_note	*note;
	const char		*key;
	cJSON			*fail = NULL;

	if ((key = demo_arg_string(args, "key", &fail)) == NULL)
		return (fail);
	if ((note = demo_note_find(demo, key)) == NULL) {
		return (demo_tool_fail("Nothing is remembered under \"%s\".",
		    key));
	}
	return (demo_tool_text(note->value, NULL));
}

/* Tool echo: the text it was given. */
static cJSON *
demo_tool_echo(__attribute__((unused)) struct demo *demo, const cJSON *args)
{
	const char	*text;
	cJSON		*fail = NULL;

	if ((text = demo_arg_string(args, "text", &fail)) == NULL)
		return (fail);
	return (demo_tool_text(text, NULL));
}

/* Tool whoami: the pid of this process. */
static cJSON *
demo_tool_whoami(__attribute__((unused)) struct demo *demo,
    __attribute__((unused)) const cJSON *args)
{
	cJSON	*structured;
	char	 text[32];

	snprintf(text, sizeof text, "%ld", (long)getpid());
	structured = cJSON_CreateObject();
	cJSON_AddNumberToObject(structured, "pid", (double)getpid());
	return (demo_tool_text(text, structured));
}

/* Dispatch a request to its method, or answer -32601. */
static void
demo_handle_request(struct demo *demo, struct jsonrpc_msg *msg)
{
	cJSON	*id, *reply;
	char	*message;
	size_t	 i;

	id = cJSON_Duplicate(msg->id, 1);
	for (i = 0; i < nitems(demo_methods); i++) {
		if (strcmp(msg->method, demo_methods[i].name) == 0) {
			demo_send(demo, demo_methods[i].fn(demo, id,
			    msg->params));
			return;
		}
	}
	xasprintf(&message, "Method not found: %s", msg->method);
	reply = jsonrpc_error(id, RPC_METHOD_NOT_FOUND, message, NULL);
	free(message);
	demo_send(demo, reply);
}

/*
 * Handle one line read from stdin ('\n' included). Lines that are not
 * JSON are skipped with a word on stderr; notifications need no answer.
 */
static void
demo_handle_line(struct demo *demo, char *line, size_t len)
{
	struct jsonrpc_msg	msg;
	struct jsonrpc_fault	fault;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	if (len > DEMO_MAX_LINE) {
		fprintf(stderr, DEMO_NAME ": skipping a %zu-byte line (at most "
		    "%d bytes)\n", len, DEMO_MAX_LINE);
		return;
	}

	if (jsonrpc_parse(line, len, &msg, &fault) != 0) {
		fprintf(stderr, DEMO_NAME ": bad line: %s\n", fault.message);
		if (fault.id != NULL) {
			demo_send(demo, jsonrpc_error(fault.id, fault.code,
			    fault.message, NULL));
			fault.id = NULL;
		}
		jsonrpc_fault_clear(&fault);
		return;
	}
	switch (msg.kind) {
	case JSONRPC_REQUEST:
		demo_handle_request(demo, &msg);
		break;
	case JSONRPC_NOTIFICATION:
		break;
	case JSONRPC_RESPONSE:
		fprintf(stderr, DEMO_NAME ": ignoring a response; this server "
		    "sends no requests\n");
		break;
	}
	jsonrpc_msg_clear(&msg);
}

/* Free the note store. */
static void
demo_free(struct demo *demo)
{
	size_t	i;

	for (i = 0; i < demo->nnotes; i++) {
		free(demo->notes[i].key);
		free(demo->notes[i].value);
	}
	free(demo->notes);
}

/* Answer MCP messages from stdin until EOF. */
int
main(int argc, __attribute__((unused)) char **argv)
{
	struct demo	 demo;
	char		*line = NULL;
	size_t		 size = 0;
	ssize_t		 len;

	if (argc != 1) {
		fprintf(stderr, "usage: " DEMO_NAME "\n");
		return (1);
	}
	xmalloc_cjson_hooks();
	signal(SIGPIPE, SIG_IGN);
	memset(&demo, 0, sizeof demo);

	fprintf(stderr, DEMO_NAME " ready (pid %ld)\n", (long)getpid());
	while (!demo.broken && (len = getline(&line, &size, stdin)) != -1)
		demo_handle_line(&demo, line, (size_t)len);
	if (ferror(stdin))
		fprintf(stderr, DEMO_NAME ": stdin: %s\n", strerror(errno));

	free(line);
	demo_free(&demo);
	return (demo.broken ? 1 : 0);
}
