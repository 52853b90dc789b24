/*
 * JSON-RPC 2.0 parsing, validation and building.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "jsonrpc.h"

static int	jsonrpc_refuse(struct jsonrpc_fault *, const cJSON *, int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static int	jsonrpc_check_error_object(const cJSON *);

/* Fill fault, keeping a copy of id if it is one a reply may carry. */
static int
jsonrpc_refuse(struct jsonrpc_fault *fault, const cJSON *id, int code,
    const char *fmt, ...)
{
	va_list	ap;

	fault->code = code;
	va_start(ap, fmt);
	vsnprintf(fault->message, sizeof fault->message, fmt, ap);
	va_end(ap);
	fault->id = NULL;
	if (id != NULL && jsonrpc_id_valid(id))
		fault->id = cJSON_Duplicate(id, 1);
	return (-1);
}

/* An id is a string or a number (MCP: never null). */
int
jsonrpc_id_valid(const cJSON *id)
{
	if (cJSON_IsString(id))
		return (1);
	if (cJSON_IsNumber(id))
		return (isfinite(id->valuedouble));
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
 * Parse one line into msg. Returns 0, or -1 with fault filled in: -32700
 * for text that is not JSON, -32600 for JSON that is not a valid JSON-RPC
 * 2.0 message (batches included: the broker does not accept them).
 */
int
jsonrpc_parse(const char *data, size_t len, struct jsonrpc_msg *msg,
    struct jsonrpc_fault *fault)
{
	cJSON	*root, *version, *method, *id, *params, *result, *error;

	memset(msg, 0, sizeof *msg);
	memset(fault, 0, sizeof *fault);

	if ((root = cJSON_ParseWithLength(data, len)) == NULL)
		return (jsonrpc_refuse(fault, NULL, RPC_PARSE_ERROR,
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

	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	version = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
	if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0")) {
		jsonrpc_refuse(fault, id, RPC_INVALID_REQUEST,
		    "The message must carry \"jsonrpc\": \"2.0\".");
		goto fail;
	}

	method = cJSON_GetObjectItemCaseSensitive(root, "method");
	if (method != NULL) {
		if (!cJSON_IsString(method) || *method->valuestring == '\0') {
			jsonrpc_refuse(fault, id, RPC_INVALID_REQUEST,
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
			jsonrpc_refuse(fault, id, RPC_INVALID_REQUEST,
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
		jsonrpc_refuse(fault, id, RPC_INVALID_REQUEST,
		    "The message has no \"method\", so it must be a response "
		    "with an \"id\" and a \"result\" or an \"error\".");
		goto fail;
	}
	if (result != NULL && error != NULL) {
		jsonrpc_refuse(fault, id, RPC_INVALID_REQUEST,
		    "A response carries \"result\" or \"error\", not both.");
		goto fail;
	}
	if (!cJSON_IsNull(id) && !jsonrpc_id_valid(id)) {
		jsonrpc_refuse(fault, NULL, RPC_INVALID_REQUEST,
		    "\"id\" must be a string or a number.");
		goto fail;
	}
	if (error != NULL && jsonrpc_check_error_object(error) != 0) {
		jsonrpc_refuse(fault, id, RPC_INVALID_REQUEST,
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
