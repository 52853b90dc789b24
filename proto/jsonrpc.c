/*
 * JSON-RPC 2.0 parsing, validation and building.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "escape.h"
#include "jsonrpc.h"
#include "scan.h"
#include "xmalloc.h"

/* Up to this many members, repeated keys are looked for pairwise. */
#define JSONRPC_PAIRWISE_KEYS	16

static int	jsonrpc_refuse(struct jsonrpc_fault *, const struct scan_span *,
		    int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static int	jsonrpc_check_error_object(const cJSON *);
static int	jsonrpc_number_exact(const cJSON *);
static const char *jsonrpc_duplicate_key(const cJSON *);
static int	jsonrpc_compare_keys(const void *, const void *);
static int	jsonrpc_nul_keys(const char *, size_t, int);
static const char *jsonrpc_check_duplicates(const cJSON *, const char **,
		    const char **);

/*
 * Fill fault, with the id's text (NULL or absent: null) as a raw item that
 * prints as the peer wrote it.
 */
static int
jsonrpc_refuse(struct jsonrpc_fault *fault, const struct scan_span *id,
    int code, const char *fmt, ...)
{
	va_list	ap;

	fault->code = code;
	va_start(ap, fmt);
	vsnprintf(fault->message, sizeof fault->message, fmt, ap);
	va_end(ap);
	fault->id = NULL;
	if (id != NULL && id->p != NULL)
		fault->id = jsonrpc_id_raw(id->p, id->len);
	return (-1);
}

/* The id text (a JSON string or number) as a raw item; the caller owns it. */
cJSON *
jsonrpc_id_raw(const char *text, size_t len)
{
	char	*copy;
	cJSON	*raw;

	copy = xstrndup(text, len);
	raw = cJSON_CreateRaw(copy);
	free(copy);
	return (raw);
}

/* An id is a string or a number (MCP: never null). */
int
jsonrpc_id_valid(const cJSON *id)
{
	if (cJSON_IsString(id) || cJSON_IsRaw(id))
		return (1);
	if (cJSON_IsNumber(id))
		return (isfinite(id->valuedouble));
	return (0);
}

/*
 * Whether cJSON prints the number as it was written, and cheaply: ints
 * (it prints them with %d). Others (longer integers, fractions) are kept
 * as the text the peer sent, since an answer must carry its id verbatim
 * and cJSON would print them through %g and a sscanf round trip.
 */
static int
jsonrpc_number_exact(const cJSON *n)
{
	return (n->valuedouble == (double)n->valueint);
}

/*
 * Whether obj (if an object) repeats a key. Parsers disagree on which of
 * two equal keys wins, so a message that repeats one in a place the
 * broker reads or rewrites would mean one thing here and another at the
 * peer. Sorting the keys keeps this O(n log n).
 */
static const char *
jsonrpc_duplicate_key(const cJSON *obj)
{
	const cJSON	 *item;
	const char	**keys, *dup = NULL;
	size_t		  n = 0, i;

	if (!cJSON_IsObject(obj))
		return (NULL);
	cJSON_ArrayForEach(item, obj)
		n++;
	if (n < 2)
		return (NULL);
	/* The usual handful of members: compare them pairwise, no malloc. */
	if (n <= JSONRPC_PAIRWISE_KEYS) {
		for (item = obj->child; item != NULL; item = item->next) {
			const cJSON	*other;

			for (other = item->next; other != NULL;
			    other = other->next) {
				if (strcmp(item->string, other->string) == 0)
					return (item->string);
			}
		}
		return (NULL);
	}
	keys = xreallocarray(NULL, n, sizeof *keys);
	i = 0;
	cJSON_ArrayForEach(item, obj)
		keys[i++] = item->string;
	qsort(keys, n, sizeof *keys, jsonrpc_compare_keys);
	for (i = 1; i < n && dup == NULL; i++) {
		if (strcmp(keys[i - 1], keys[i]) == 0)
			dup = keys[i];
	}
	free(keys);
	return (dup);
}

/* qsort comparison of two key strings. */
static int
jsonrpc_compare_keys(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/*
 * The first repeated key in the objects the broker reads or rewrites:
 * the message, its params, result or error, and their _meta. NULL if
 * none; else *where and *meta say where it is ("" at the top).
 */
static const char *
jsonrpc_check_duplicates(const cJSON *root, const char **where,
    const char **meta)
{
	static const char *const members[] = { "params", "result", "error" };
	const cJSON	*part;
	const char	*dup;
	size_t		 i;

	*where = *meta = "";
	if ((dup = jsonrpc_duplicate_key(root)) != NULL)
		return (dup);
	for (i = 0; i < sizeof members / sizeof *members; i++) {
		part = cJSON_GetObjectItemCaseSensitive(root, members[i]);
		*where = members[i];
		*meta = "";
		if ((dup = jsonrpc_duplicate_key(part)) != NULL)
			return (dup);
		*meta = "._meta";
		if ((dup = jsonrpc_duplicate_key(
		    cJSON_GetObjectItemCaseSensitive(part, "_meta"))) != NULL)
			return (dup);
	}
	return (NULL);
}

/*
 * Whether the object text at data, or (depth permitting) its params,
 * result, error or _meta, has a key holding an escaped NUL. cJSON cuts
 * such a key short ("id\u0000x" reads as "id"), so the tree and the text
 * would disagree on which member is which.
 */
static int
jsonrpc_nul_keys(const char *data, size_t len, int depth)
{
	static const char *const inner[] = { "params", "result", "error",
					     "_meta" };
	struct scan_iter	 it;
	struct scan_member	 m;
	char			 buf[64];
	size_t			 n, i;

	if (scan_iter_start(&it, data, len) != 0)
		return (0);
	while (scan_iter_next(&it, &m) == 1) {
		if (memchr(m.key.p, '\\', m.key.len) != NULL) {
			scan_string_decode(m.key.p, m.key.len, buf, sizeof buf,
			    &n);
			if (memchr(buf, '\0', n < sizeof buf ? n : sizeof buf) !=
			    NULL || (n > sizeof buf && memmem(m.key.p,
			    m.key.len, "\\u0000", 6) != NULL))
				return (1);
		}
		if (depth == 0 || *m.value.p != '{')
			continue;
		for (i = depth == 2 ? 0 : 3; i < sizeof inner / sizeof *inner;
		    i++) {
			if (scan_key_equal(&m.key, inner[i]) &&
			    jsonrpc_nul_keys(m.value.p, m.value.len,
			    depth - 1))
				return (1);
		}
	}
	return (0);
}

/* A JSON-RPC error object has an integer code and a string message. */
static int
jsonrpc_check_error_object(const cJSON *error)
{
	const cJSON	*code, *message;

	if (!cJSON_IsObject(error))
		return (-1);
	code = cJSON_GetObjectItemCaseSensitive(error, "code");
	message = cJSON_GetObjectItemCaseSensitive(error, "message");
	if (!cJSON_IsNumber(code) || code->valuedouble != (double)code->valueint)
		return (-1);
	if (!cJSON_IsString(message))
		return (-1);
	return (0);
}

/*
 * Parse one line into msg. The line is first scanned as strict JSON, so
 * what cJSON would take but the grammar does not (a raw control byte
 * between tokens, "01", a lone surrogate escape) is refused. Returns 0,
 * or -1 with fault filled in: -32700 for text that is not JSON, -32600
 * for JSON that is not a valid JSON-RPC 2.0 message (batches included:
 * the broker does not accept them). A refusal carries the id whenever it
 * could be read. msg->id_text is the id as written (borrowed from data).
 */
int
jsonrpc_parse(const char *data, size_t len, struct jsonrpc_msg *msg,
    struct jsonrpc_fault *fault)
{
	struct scan_span	 idt;
	cJSON			*root, *version, *method, *id, *params;
	cJSON			*result, *error;
	const char		*dup, *where, *meta;
	char			 key[48];
	int			 lone;

	memset(msg, 0, sizeof *msg);
	memset(fault, 0, sizeof *fault);

	if (scan_line(data, len, &idt, &lone) != 0)
		return (jsonrpc_refuse(fault, &idt, RPC_PARSE_ERROR,
		    "The message is not valid JSON."));
	fault->grammar_ok = 1;
	if (lone)
		return (jsonrpc_refuse(fault, &idt, RPC_PARSE_ERROR,
		    "The message holds a lone surrogate escape (\\uD800-"
		    "\\uDFFF without its pair), which stands for no "
		    "character."));
	if ((root = cJSON_ParseWithLength(data, len)) == NULL)
		return (jsonrpc_refuse(fault, &idt, RPC_PARSE_ERROR,
		    "The message is not valid JSON."));
	if (cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return (jsonrpc_refuse(fault, NULL, RPC_INVALID_REQUEST,
		    "Batches (JSON arrays) are not supported; send one "
		    "message per line."));
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return (jsonrpc_refuse(fault, NULL, RPC_INVALID_REQUEST,
		    "A JSON-RPC message must be a JSON object."));
	}

	if (memmem(data, len, "\\u0000", 6) != NULL &&
	    jsonrpc_nul_keys(data, len, 2)) {
		jsonrpc_refuse(fault, &idt, RPC_INVALID_REQUEST, "A key of the "
		    "message holds an escaped NUL (\\u0000), which no key the "
		    "broker reads may hold.");
		goto fail;
	}
	if ((dup = jsonrpc_check_duplicates(root, &where, &meta)) != NULL) {
		/* The peer's key: controls and bytes that are not UTF-8 as
		   \xNN, so the message stays one valid line. */
		escape_text(key, sizeof key, dup, strlen(dup), 0);
		jsonrpc_refuse(fault, &idt, RPC_INVALID_REQUEST, "The message "
		    "repeats the key '%s%s%s%s'; each key may appear once.",
		    where, meta, *where != '\0' ? "." : "", key);
		goto fail;
	}
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (cJSON_IsNumber(id) && !jsonrpc_number_exact(id) &&
	    idt.p != NULL) {
		/* Kept as written: cJSON would print it through %g. */
		id = jsonrpc_id_raw(idt.p, idt.len);
		cJSON_ReplaceItemInObjectCaseSensitive(root, "id", id);
	}
	if (id != NULL && !jsonrpc_id_valid(id))
		idt.p = NULL;
	msg->line = data;
	msg->line_len = len;
	msg->id_text = idt.p;
	msg->id_len = idt.len;
	version = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
	if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0")) {
		jsonrpc_refuse(fault, &idt, RPC_INVALID_REQUEST,
		    "The message must carry \"jsonrpc\": \"2.0\".");
		goto fail;
	}

	method = cJSON_GetObjectItemCaseSensitive(root, "method");
	if (method != NULL) {
		if (!cJSON_IsString(method) || *method->valuestring == '\0') {
			jsonrpc_refuse(fault, &idt, RPC_INVALID_REQUEST,
			    "\"method\" must be a non-empty string.");
			goto fail;
		}
		if (id != NULL && !jsonrpc_id_valid(id)) {
			jsonrpc_refuse(fault, NULL, RPC_INVALID_REQUEST,
			    "\"id\" must be a string or a number.");
			goto fail;
		}
		params = cJSON_GetObjectItemCaseSensitive(root, "params");
		if (params != NULL && !cJSON_IsObject(params) &&
		    !cJSON_IsArray(params)) {
			jsonrpc_refuse(fault, &idt, RPC_INVALID_REQUEST,
			    "\"params\" must be an object or an array.");
			goto fail;
		}
		msg->kind = id != NULL ? JSONRPC_REQUEST : JSONRPC_NOTIFICATION;
		msg->method = method->valuestring;
		msg->params = params;
		msg->id = id;
		msg->root = root;
		return (0);
	}

	result = cJSON_GetObjectItemCaseSensitive(root, "result");
	error = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (id == NULL || (result == NULL && error == NULL)) {
		jsonrpc_refuse(fault, &idt, RPC_INVALID_REQUEST,
		    "The message has no \"method\", so it must be a response "
		    "with an \"id\" and a \"result\" or an \"error\".");
		goto fail;
	}
	if (result != NULL && error != NULL) {
		jsonrpc_refuse(fault, &idt, RPC_INVALID_REQUEST,
		    "A response carries \"result\" or \"error\", not both.");
		goto fail;
	}
	if (!cJSON_IsNull(id) && !jsonrpc_id_valid(id)) {
		jsonrpc_refuse(fault, NULL, RPC_INVALID_REQUEST,
		    "\"id\" must be a string or a number.");
		goto fail;
	}
	if (error != NULL && jsonrpc_check_error_object(error) != 0) {
		jsonrpc_refuse(fault, &idt, RPC_INVALID_REQUEST,
		    "\"error\" must be an object with an integer \"code\" and "
		    "a string \"message\".");
		goto fail;
	}
	msg->kind = JSONRPC_RESPONSE;
	msg->id = id;
	msg->result = result;
	msg->error = error;
	msg->root = root;
	return (0);

fail:
	cJSON_Delete(root);
	return (-1);
}

/* Free what jsonrpc_parse() kept. */
void
jsonrpc_msg_clear(struct jsonrpc_msg *msg)
{
	cJSON_Delete(msg->root);
	memset(msg, 0, sizeof *msg);
}

/* Free the id copy a fault holds. */
void
jsonrpc_fault_clear(struct jsonrpc_fault *fault)
{
	cJSON_Delete(fault->id);
	fault->id = NULL;
}

/* A base message: {"jsonrpc":"2.0"} plus id (taken; NULL: none). */
static cJSON *
jsonrpc_base(cJSON *id)
{
	cJSON	*msg;

	if ((msg = cJSON_CreateObject()) == NULL)
		return (NULL);
	cJSON_AddStringToObject(msg, "jsonrpc", "2.0");
	if (id != NULL)
		cJSON_AddItemToObject(msg, "id", id);
	return (msg);
}

/* A request; takes id and params (params may be NULL). */
cJSON *
jsonrpc_request(cJSON *id, const char *method, cJSON *params)
{
	cJSON	*msg;

	msg = jsonrpc_base(id);
	cJSON_AddStringToObject(msg, "method", method);
	if (params != NULL)
		cJSON_AddItemToObject(msg, "params", params);
	return (msg);
}

/* A notification; takes params (may be NULL). */
cJSON *
jsonrpc_notification(const char *method, cJSON *params)
{
	cJSON	*msg;

	msg = jsonrpc_base(NULL);
	cJSON_AddStringToObject(msg, "method", method);
	if (params != NULL)
		cJSON_AddItemToObject(msg, "params", params);
	return (msg);
}

/* A success response; takes id (NULL: null) and result. */
cJSON *
jsonrpc_result(cJSON *id, cJSON *result)
{
	cJSON	*msg;

	msg = jsonrpc_base(id != NULL ? id : cJSON_CreateNull());
	cJSON_AddItemToObject(msg, "result", result);
	return (msg);
}

/* An error response; takes id (NULL: null) and data (may be NULL). */
cJSON *
jsonrpc_error(cJSON *id, int code, const char *message, cJSON *data)
{
	cJSON	*msg, *error;

	msg = jsonrpc_base(id != NULL ? id : cJSON_CreateNull());
	error = cJSON_AddObjectToObject(msg, "error");
	cJSON_AddNumberToObject(error, "code", code);
	cJSON_AddStringToObject(error, "message", message);
	if (data != NULL)
		cJSON_AddItemToObject(error, "data", data);
	return (msg);
}
