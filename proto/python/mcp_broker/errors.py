"""Errors raised by the mcp-broker client.

A JSON-RPC error answer becomes a ``BrokerError`` (or the subclass for its
code) carrying the answer's ``code``, ``message`` and ``data``. A connection
that cannot be made, or that ends, is a ``BrokerConnectionError``, which is
a ``ConnectionError``.
"""

# The standard JSON-RPC codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

# The broker's own codes (-32010..-32019); proto/PROTOCOL.md, "Errors".
UNKNOWN_SERVER = -32010
START_FAILED = -32011
SESSION_LOST = -32012
TIMEOUT = -32013
AT_CAPACITY = -32014
TOO_LARGE = -32015
SHUTTING_DOWN = -32016
FORBIDDEN = -32017
CONFIG_INVALID = -32018


class BrokerError(Exception):
    """A JSON-RPC error answer: ``code``, ``message`` and ``data``."""

    code = None

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def __str__(self):
        return "%s (JSON-RPC error %s)" % (self.message, self.code)

    def __reduce__(self):
        return (error_from_answer,
                ({"code": self.code, "message": self.message,
                  "data": self.data},))


class ParseError(BrokerError):
    """-32700: the line sent was not strict JSON."""


class InvalidRequestError(BrokerError):
    """-32600: valid JSON but not a JSON-RPC request the broker takes."""


class MethodNotFoundError(BrokerError):
    """-32601: an unknown broker/ method, or the server's own answer."""


class InvalidParamsError(BrokerError):
    """-32602: routing members or params the broker or server refuses."""


class InternalError(BrokerError):
    """-32603: an answer that could not be passed on, or a server's own."""


class UnknownServerError(BrokerError):
    """-32010: params.server names no configured (enabled) server."""


class StartFailedError(BrokerError):
    """-32011: the session failed to start; data.stderr_tail says why."""


class SessionLostError(BrokerError):
    """-32012: the session ended before answering; its state is gone."""


class RequestTimeoutError(BrokerError, TimeoutError):
    """-32013: the request's clock ran out (the broker's or this client's)."""


class AtCapacityError(BrokerError):
    """-32014: no session could be started or evicted at a cap."""


class MessageTooLargeError(BrokerError):
    """-32015: a message over max_message_bytes."""


class ShuttingDownError(BrokerError):
    """-32016: the broker is stopping."""


class ForbiddenError(BrokerError, PermissionError):
    """-32017: this user may not use the broker or this operation."""


class ConfigInvalidError(BrokerError):
    """-32018: broker/reload found the config invalid; nothing changed."""


ERROR_CLASSES = {
    PARSE_ERROR: ParseError,
    INVALID_REQUEST: InvalidRequestError,
    METHOD_NOT_FOUND: MethodNotFoundError,
    INVALID_PARAMS: InvalidParamsError,
    INTERNAL_ERROR: InternalError,
    UNKNOWN_SERVER: UnknownServerError,
    START_FAILED: StartFailedError,
    SESSION_LOST: SessionLostError,
    TIMEOUT: RequestTimeoutError,
    AT_CAPACITY: AtCapacityError,
    TOO_LARGE: MessageTooLargeError,
    SHUTTING_DOWN: ShuttingDownError,
    FORBIDDEN: ForbiddenError,
    CONFIG_INVALID: ConfigInvalidError,
}


def error_from_answer(error):
    """The BrokerError (subclass by code) for a JSON-RPC error object."""
    if not isinstance(error, dict):
        return InternalError(INTERNAL_ERROR,
                             "The answer's error member is not an object.",
                             {"error": error})
    code = error.get("code")
    message = error.get("message")
    if not isinstance(message, str):
        message = "The answer's error has no message."
    cls = ERROR_CLASSES.get(code, BrokerError) if isinstance(code, int) \
        else BrokerError
    return cls(code, message, error.get("data"))


class ErrorData:
    """What a sampling or elicitation callback returns to refuse a request.

    Mirrors the MCP SDK's ``ErrorData``: the broker passes ``code``,
    ``message`` and ``data`` to the server as a JSON-RPC error.
    """

    def __init__(self, code, message, data=None):
        self.code = code
        self.message = message
        self.data = data

    def to_json(self):
        """The JSON-RPC error object."""
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class BrokerConnectionError(ConnectionError):
    """The connection to the broker could not be made, or it ended.

    ``error`` is the broker's last word when it sent one before closing
    (an answer with ``"id": null``: -32015, -32017, -32014), else None.
    """

    def __init__(self, message, error=None):
        super().__init__(message)
        self.error = error


class ConnectionLostError(BrokerConnectionError):
    """The connection ended while requests were pending, or was closed."""


class AnswerTooLargeError(ConnectionLostError):
    """The broker sent a line longer than the client's max_message_bytes."""
