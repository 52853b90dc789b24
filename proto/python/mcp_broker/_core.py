"""What the synchronous and the asyncio client share: the socket path,
framing, building requests, reading answers, and the per-key session view.
Nothing here does I/O.
"""

import datetime
import itertools
import json
import os
import threading

from . import errors
from .result import Result, SESSION_META

SOCKET_ENV = "MCP_BROKER_SOCKET"
DEFAULT_SOCKET = "/run/mcp-broker/mcp-broker.sock"

# The longest line read or written, not counting "\n" and an optional "\r":
# the broker's max_message_bytes default (16 MiB).
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

# The longest timeout_ms the broker takes (PROTOCOL.md, "Requests and routing").
MAX_TIMEOUT_MS = 86400000

# How much longer than a forwarded request's own timeout the client waits
# for the broker's -32013 before giving up on its own.
LOCAL_TIMEOUT_GRACE_S = 5.0

CANCEL_REASON = "the client stopped waiting"


def socket_path(path=None):
    """The socket to use and where its name came from: path, else
    $MCP_BROKER_SOCKET if set and not empty, else the default."""
    if path:
        return os.fspath(path), "given by the caller"
    env = os.environ.get(SOCKET_ENV)
    if env:
        return env, "from $" + SOCKET_ENV
    return DEFAULT_SOCKET, "the default"


def connect_failed(path, source, exc):
    """The BrokerConnectionError for a socket that could not be reached."""
    return errors.BrokerConnectionError(
        "Cannot connect to the mcp-broker socket %s (%s): %s. Is "
        "mcp-brokerd running? Choose another socket with Client(socket=...) "
        "or $%s." % (path, source, exc.strerror or exc, SOCKET_ENV))


def encode(message, max_bytes):
    """message as one NDJSON line; MessageTooLargeError past max_bytes."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)
    data = text.encode("utf-8")
    if len(data) > max_bytes:
        raise errors.MessageTooLargeError(
            errors.TOO_LARGE,
            "The message is %d bytes, longer than max_message_bytes (%d); "
            "it was not sent." % (len(data), max_bytes),
            {"max_message_bytes": max_bytes})
    return data + b"\n"


def decode(line):
    """One line from the broker as JSON (objects as Result), or None for a
    line that is empty or not JSON (the broker sends neither)."""
    if line.endswith(b"\r"):
        line = line[:-1]
    if not line.strip():
        return None
    try:
        return json.loads(line.decode("utf-8"), object_hook=Result)
    except ValueError:
        return None


def too_large_line(max_bytes):
    """The error for a line from the broker over max_bytes."""
    return errors.AnswerTooLargeError(
        "The broker sent a line longer than max_message_bytes (%d); the "
        "connection was closed." % max_bytes)


def seconds(value):
    """A timeout in seconds from a number or a timedelta (None: none)."""
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value)


class RequestContext:
    """What a sampling or elicitation callback learns about the request.

    ``method`` and ``request_id`` (the broker's id), ``session`` (the
    broker's ``{id, generation, server, thread}`` of the asking session) and
    ``cancelled``: a threading.Event set if the server withdraws the
    request (then the answer is not sent).
    """

    def __init__(self, method, request_id, params):
        self.method = method
        self.request_id = request_id
        meta = params.get("_meta") if isinstance(params, dict) else None
        self.session = meta.get(SESSION_META) if isinstance(meta, dict) \
            else None
        self.cancelled = threading.Event()


class Pending:
    """A request sent and not yet answered (the I/O side fills it)."""

    def __init__(self, request_id, method, progress_callback, timeout):
        self.id = request_id
        self.method = method
        self.progress_callback = progress_callback
        self.timeout = timeout


class Core:
    """The state both clients keep: ids, pending requests, progress tokens,
    callbacks for notifications and requests from servers."""

    def _core_init(self, socket, max_message_bytes, on_notification,
                   sampling_callback, elicitation_callback, handlers):
        self.socket_path, self.socket_source = socket_path(socket)
        self.max_message_bytes = max_message_bytes
        self.on_notification = on_notification
        self._handlers = dict(handlers or {})
        if sampling_callback is not None:
            self._handlers["sampling/createMessage"] = sampling_callback
        if elicitation_callback is not None:
            self._handlers["elicitation/create"] = elicitation_callback
        self._ids = itertools.count(1)
        self._tokens = itertools.count(1)
        self._pending = {}
        self._progress = {}
        self._asked = {}
        self._lock = threading.Lock()
        self._lost = None
        self._last_word = None

    def request(self, method, params=None, server=None, thread=None,
                timeout=None):
        """Send any request and return its result (a coroutine with the
        asyncio client). For a method other than broker/*, server and
        thread are added to params; timeout (seconds) becomes its
        timeout_ms. An error answer raises BrokerError."""
        return self._request(method, params, server, thread,
                             timeout=timeout)

    def session(self, server, thread):
        """The view of one (server, thread) key with ClientSession's
        methods (list_tools, call_tool, ...)."""
        return Session(self, server, thread)

    def hello(self, capabilities=None):
        """broker/hello: opt in to the servers' requests this client
        answers (default: those it has callbacks for)."""
        if capabilities is None:
            capabilities = self.hello_capabilities()
        return self._request("broker/hello", {"capabilities": capabilities},
                             None, None)

    def status(self):
        """broker/status: the daemon, your sessions, servers, counters."""
        return self._request("broker/status", None, None, None)

    def servers(self):
        """broker/servers: the configured servers and their session counts."""
        return self._request("broker/servers", None, None, None)

    def session_info(self, server, thread, create=False):
        """broker/session: one session in full (create: start it if needed)."""
        return self._request("broker/session",
                             {"create": True} if create else None,
                             server, thread)

    def close_thread(self, thread):
        """broker/close of every session of one thread; {closed: N}."""
        return self._request("broker/close", None, None, thread)

    def close_server(self, server):
        """broker/close of every session of one server; {closed: N}."""
        return self._request("broker/close", None, server, None)

    def close_session(self, server, thread):
        """broker/close of one key; its next session is generation 1."""
        return self._request("broker/close", None, server, thread)

    def close_all(self):
        """broker/close of every session this user may close."""
        return self._request("broker/close", {"all": True}, None, None)

    def reload(self):
        """broker/reload (admins only)."""
        return self._request("broker/reload", None, None, None)

    def metrics(self):
        """broker/metrics (admins only): {content_type, text}."""
        return self._request("broker/metrics", None, None, None)

    def hello_capabilities(self):
        """What broker/hello declares for the callbacks this client has."""
        caps = {}
        if "sampling/createMessage" in self._handlers:
            caps["sampling"] = {}
        if "elicitation/create" in self._handlers:
            caps["elicitation"] = {}
        return caps

    def _prepare(self, method, params, server, thread, timeout,
                 progress_callback=None, meta=None):
        """The id, the line and the Pending of a request, not yet sent."""
        if not isinstance(method, str) or not method:
            raise ValueError("method must be a non-empty string")
        if params is None:
            params = {}
        elif isinstance(params, dict):
            params = dict(params)
        else:
            raise TypeError("params must be a dict or None")
        if server is not None:
            params["server"] = server
        if thread is not None:
            params["thread"] = thread
        timeout = seconds(timeout)
        forwarded = not method.startswith("broker/")
        local_timeout = timeout
        if timeout is not None:
            if timeout <= 0:
                raise ValueError("timeout must be more than 0 seconds")
            if forwarded:
                params["timeout_ms"] = min(max(1, int(timeout * 1000)),
                                           MAX_TIMEOUT_MS)
                local_timeout = timeout + LOCAL_TIMEOUT_GRACE_S
        if meta is not None or progress_callback is not None:
            merged = dict(params.get("_meta") or {})
            merged.update(meta or {})
            params["_meta"] = merged
        token = None
        if progress_callback is not None:
            token = "progress-%d" % next(self._tokens)
            params["_meta"]["progressToken"] = token
        request_id = next(self._ids)
        line = encode({"jsonrpc": "2.0", "id": request_id, "method": method,
                       "params": params}, self.max_message_bytes)
        pending = Pending(request_id, method, progress_callback,
                          local_timeout)
        pending.token = token
        return pending, line

    def _cancel_line(self, request_id):
        """The notifications/cancelled line for one of our requests."""
        return encode({"jsonrpc": "2.0", "method": "notifications/cancelled",
                       "params": {"requestId": request_id,
                                  "reason": CANCEL_REASON}},
                      self.max_message_bytes)

    def _lost_error(self):
        """The error a request gets once the connection is gone."""
        return self._lost or errors.ConnectionLostError(
            "The connection to the broker is closed.")

    def _lost_reason(self, reason):
        """A ConnectionLostError for reason, with the broker's last word."""
        if isinstance(reason, errors.BrokerConnectionError):
            if reason.error is None:
                reason.error = self._last_word
            return reason
        word = self._last_word
        message = "The connection to the broker at %s was lost: %s." % (
            self.socket_path, reason)
        if word is not None:
            message += " The broker said: %s" % word.message
        return errors.ConnectionLostError(message, word)

    def _classify(self, msg):
        """What a message is: 'answer', 'request', 'notification', or None."""
        if not isinstance(msg, dict):
            return None
        if "method" in msg:
            return "request" if "id" in msg else "notification"
        if "result" in msg or "error" in msg:
            if msg.get("id") is None:
                if "error" in msg:
                    self._last_word = errors.error_from_answer(msg["error"])
                return None
            return "answer"
        return None

    def _handler_answer(self, request_id, outcome):
        """The response line for a callback's outcome (result or error)."""
        if isinstance(outcome, errors.ErrorData):
            body = {"error": outcome.to_json()}
        elif isinstance(outcome, errors.BrokerError):
            body = {"error": {"code": outcome.code,
                              "message": outcome.message}}
            if outcome.data is not None:
                body["error"]["data"] = outcome.data
        elif isinstance(outcome, BaseException):
            body = {"error": {"code": errors.INTERNAL_ERROR,
                              "message": "The client's handler failed: %s"
                              % (outcome,)}}
        else:
            if hasattr(outcome, "model_dump"):   # an MCP SDK model
                outcome = outcome.model_dump(by_alias=True,
                                             exclude_none=True)
            body = {"result": outcome if outcome is not None else {}}
        msg = {"jsonrpc": "2.0", "id": request_id}
        msg.update(body)
        try:
            return encode(msg, self.max_message_bytes)
        except (ValueError, TypeError) as exc:
            return encode({"jsonrpc": "2.0", "id": request_id,
                           "error": {"code": errors.INTERNAL_ERROR,
                                     "message": "The client's answer could "
                                     "not be sent: %s" % (exc,)}},
                          self.max_message_bytes)

    def _no_handler(self, request_id, method):
        """The -32601 line for a request this client has no handler for."""
        return self._handler_answer(request_id, errors.ErrorData(
            errors.METHOD_NOT_FOUND,
            "This client has no handler for %s." % method))


def initialize_result(info):
    """A broker/session answer in the shape of the SDK's InitializeResult."""
    result = Result(protocolVersion=info.get("protocol_version"),
                    capabilities=info.get("capabilities"),
                    serverInfo=info.get("server_info"))
    if info.get("instructions") is not None:
        result["instructions"] = info["instructions"]
    result["_meta"] = Result({SESSION_META: Result(
        id=info.get("id"), generation=info.get("generation"))})
    return result


class Session:
    """One (server, thread) key seen through the MCP SDK's ClientSession
    method names; with the asyncio client every method is a coroutine."""

    def __init__(self, client, server, thread):
        self.client = client
        self.server = server
        self.thread = thread

    def __repr__(self):
        return "<mcp_broker.Session server=%r thread=%r>" % (self.server,
                                                             self.thread)

    def _call(self, method, params=None, **kw):
        return self.client._request(method, params, self.server,
                                    self.thread, **kw)

    def initialize(self):
        """Start the session if needed; its serverInfo and capabilities."""
        return self.client._request("broker/session", {"create": True},
                                    self.server, self.thread,
                                    transform=initialize_result)

    def info(self):
        """The broker's record of this session (broker/session)."""
        return self.client._request("broker/session", None, self.server,
                                    self.thread)

    def close(self):
        """End this session in the broker (broker/close); {closed: N}."""
        return self.client._request("broker/close", None, self.server,
                                    self.thread)

    def send_ping(self):
        """ping the server."""
        return self._call("ping")

    def list_tools(self, cursor=None):
        """tools/list."""
        return self._call("tools/list", _cursor(cursor))

    def call_tool(self, name, arguments=None, read_timeout_seconds=None,
                  progress_callback=None, *, meta=None):
        """tools/call; progress_callback(progress, total, message)."""
        params = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        return self._call("tools/call", params,
                          timeout=read_timeout_seconds,
                          progress_callback=progress_callback, meta=meta)

    def list_resources(self, cursor=None):
        """resources/list."""
        return self._call("resources/list", _cursor(cursor))

    def list_resource_templates(self, cursor=None):
        """resources/templates/list."""
        return self._call("resources/templates/list", _cursor(cursor))

    def read_resource(self, uri):
        """resources/read."""
        return self._call("resources/read", {"uri": str(uri)})

    def subscribe_resource(self, uri):
        """resources/subscribe."""
        return self._call("resources/subscribe", {"uri": str(uri)})

    def unsubscribe_resource(self, uri):
        """resources/unsubscribe."""
        return self._call("resources/unsubscribe", {"uri": str(uri)})

    def list_prompts(self, cursor=None):
        """prompts/list."""
        return self._call("prompts/list", _cursor(cursor))

    def get_prompt(self, name, arguments=None):
        """prompts/get."""
        params = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        return self._call("prompts/get", params)

    def complete(self, ref, argument, context_arguments=None):
        """completion/complete: ref {type, name|uri}, argument {name, value}."""
        params = {"ref": _plain(ref), "argument": _plain(argument)}
        if context_arguments is not None:
            params["context"] = {"arguments": context_arguments}
        return self._call("completion/complete", params)

    def set_logging_level(self, level):
        """logging/setLevel."""
        return self._call("logging/setLevel", {"level": level})


def _cursor(cursor):
    """Params for a paged list."""
    return {"cursor": cursor} if cursor is not None else None


def _plain(value):
    """An SDK model as a dict; anything else as it is."""
    if hasattr(value, "model_dump"):
        return value.model_dump(by_alias=True, exclude_none=True)
    return value
