"""The synchronous, thread-safe client.

One connection; a reader thread matches answers to requests by id, so any
number of threads can have requests in flight on one Client at once.
Notifications go to ``on_notification`` on a thread of their own, in the
order they came; each request from a server (sampling, elicitation) is
answered on a thread of its own, so a slow one holds up nothing else.
"""

import logging
import queue
import socket as _socket
import threading
import time

from . import errors
from ._core import (Core, MAX_MESSAGE_BYTES, RequestContext, connect_failed,
                    decode, too_large_line)

log = logging.getLogger("mcp_broker")

# Requests from servers answered at once; more get -32603 at once.
MAX_SERVER_REQUESTS = 64

# How long close() waits for the reader thread to stop.
CLOSE_WAIT_S = 5.0


class Client(Core):
    """A connection to mcp-brokerd.

    ``socket``: the socket path (default $MCP_BROKER_SOCKET, then
    /run/mcp-broker/mcp-broker.sock). ``on_notification(method, params)``
    gets every notification the broker sends (progress included).
    ``sampling_callback(context, params)`` and
    ``elicitation_callback(context, params)`` answer the servers' requests
    (return the result, or an ErrorData); having either sends broker/hello.
    """

    def __init__(self, socket=None, *, on_notification=None,
                 sampling_callback=None, elicitation_callback=None,
                 handlers=None, max_message_bytes=MAX_MESSAGE_BYTES,
                 connect_timeout=10.0):
        self._core_init(socket, max_message_bytes, on_notification,
                        sampling_callback, elicitation_callback, handlers)
        self._closing = False
        self._wlock = threading.Lock()
        self._events = queue.Queue()
        self._serving = threading.BoundedSemaphore(MAX_SERVER_REQUESTS)
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.settimeout(connect_timeout)
            sock.connect(self.socket_path)
            sock.settimeout(None)
        except OSError as exc:
            sock.close()
            raise connect_failed(self.socket_path, self.socket_source,
                                 exc) from None
        self._sock = sock
        self._rfile = sock.makefile("rb", buffering=65536)
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name="mcp-broker-reader")
        self._reader.start()
        self._notifier = None
        if on_notification is not None:
            self._notifier = threading.Thread(target=self._notify_loop,
                                              daemon=True,
                                              name="mcp-broker-notify")
            self._notifier.start()
        if self.hello_capabilities():
            try:
                self.hello()
            except BaseException:
                self.close()
                raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<mcp_broker.Client %s%s>" % (
            self.socket_path, " closed" if self._lost else "")

    @property
    def closed(self):
        """Whether the connection is gone (closed or lost)."""
        return self._lost is not None

    def close(self):
        """Close the connection; requests still pending fail with
        ConnectionLostError. The broker's sessions stay."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
        try:
            self._sock.shutdown(_socket.SHUT_RDWR)
        except OSError:
            pass
        me = threading.current_thread()
        if self._reader is not me:
            self._reader.join(CLOSE_WAIT_S)
        self._events.put(None)
        if self._notifier is not None and self._notifier is not me:
            self._notifier.join(CLOSE_WAIT_S)
        self._rfile.close()
        self._sock.close()

    def _request(self, method, params, server, thread, timeout=None,
                 progress_callback=None, meta=None, transform=None):
        """Send a request and wait for its answer (see Client.request)."""
        pending, line = self._prepare(method, params, server, thread,
                                      timeout, progress_callback, meta)
        pending.queue = queue.Queue()
        with self._lock:
            if self._lost is not None:
                raise self._lost_copy()
            self._pending[pending.id] = pending
            if pending.token is not None:
                self._progress[pending.token] = pending
        try:
            self._send(line)
            return self._wait(pending, transform)
        finally:
            with self._lock:
                self._pending.pop(pending.id, None)
                if pending.token is not None:
                    self._progress.pop(pending.token, None)

    def _wait(self, pending, transform):
        """The answer to pending, running its progress callback meanwhile."""
        deadline = None
        if pending.timeout is not None:
            deadline = time.monotonic() + pending.timeout
        while True:
            remaining = None
            if deadline is not None:
                remaining = max(0.0, deadline - time.monotonic())
            try:
                kind, value = pending.queue.get(timeout=remaining)
            except queue.Empty:
                self._cancel(pending)
                raise errors.RequestTimeoutError(
                    errors.TIMEOUT,
                    "No answer to %s within %g s; the broker was told to "
                    "cancel it." % (pending.method, pending.timeout),
                    {"timeout_ms": int(pending.timeout * 1000)}) from None
            if kind == "progress":
                if deadline is not None:
                    deadline = time.monotonic() + pending.timeout
                try:
                    pending.progress_callback(value.get("progress"),
                                              value.get("total"),
                                              value.get("message"))
                except BaseException:
                    self._cancel(pending)
                    raise
                continue
            if kind == "lost":
                raise self._lost_copy()
            if "error" in value:
                raise errors.error_from_answer(value["error"])
            result = value.get("result")
            return transform(result) if transform is not None else result

    def _cancel(self, pending):
        """Tell the broker we no longer wait for pending."""
        try:
            self._send(self._cancel_line(pending.id))
        except errors.BrokerConnectionError:
            pass

    def _send(self, line):
        """Write one line, whole, whatever other threads write."""
        with self._wlock:
            if self._lost is not None:
                raise self._lost_copy()
            try:
                self._sock.sendall(line)
            except OSError as exc:
                raise errors.ConnectionLostError(
                    "Cannot write to the broker at %s: %s." % (
                        self.socket_path, exc.strerror or exc)) from None

    def _lost_copy(self):
        """A fresh exception like the one that ended the connection."""
        lost = self._lost_error()
        return type(lost)(str(lost), lost.error)

    def _read_loop(self):
        """Read lines until the connection ends, handing each on."""
        limit = self.max_message_bytes + 2
        reason = "the broker closed it"
        try:
            while True:
                line = self._rfile.readline(limit)
                if not line:
                    break
                if not line.endswith(b"\n"):
                    if len(line) >= limit:
                        reason = too_large_line(self.max_message_bytes)
                    else:
                        reason = "it ended in the middle of a line"
                    break
                line = line[:-1]
                if len(line) - line.endswith(b"\r") > self.max_message_bytes:
                    reason = too_large_line(self.max_message_bytes)
                    break
                self._dispatch(decode(line))
        except (OSError, ValueError, TypeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
        finally:
            self._shutdown(reason)

    def _shutdown(self, reason):
        """Fail every pending request: the connection is gone."""
        with self._lock:
            if self._closing:
                self._lost = errors.ConnectionLostError(
                    "The connection to the broker was closed by this client.",
                    self._last_word)
            else:
                self._lost = self._lost_reason(reason)
            pending = list(self._pending.values())
            asked = list(self._asked.values())
        for p in pending:
            p.queue.put(("lost", None))
        for ctx in asked:
            ctx.cancelled.set()
        if not self._closing:
            try:
                self._sock.shutdown(_socket.SHUT_RDWR)
            except OSError:
                pass
        self._events.put(None)

    def _dispatch(self, msg):
        """Hand one message to whoever waits for it."""
        kind = self._classify(msg)
        if kind == "answer":
            with self._lock:
                pending = self._pending.get(msg["id"])
            if pending is not None:
                pending.queue.put(("answer", msg))
        elif kind == "notification":
            params = msg.get("params")
            if not isinstance(params, dict):
                params = {}
            method = msg["method"]
            with self._lock:
                if method == "notifications/progress":
                    pending = self._progress.get(params.get("progressToken"))
                    if pending is not None:
                        pending.queue.put(("progress", params))
                elif method == "notifications/cancelled":
                    ctx = self._asked.get(params.get("requestId"))
                    if ctx is not None:
                        ctx.cancelled.set()
            if self.on_notification is not None:
                self._events.put((method, params))
        elif kind == "request":
            self._start_serving(msg)

    def _start_serving(self, msg):
        """Answer a server's request on a thread of its own."""
        if not self._serving.acquire(blocking=False):
            self._send_quietly(self._handler_answer(
                msg["id"], errors.ErrorData(
                    errors.INTERNAL_ERROR,
                    "This client is already answering %d requests "
                    "(MAX_SERVER_REQUESTS); try again later." %
                    MAX_SERVER_REQUESTS)))
            return
        threading.Thread(target=self._serve, args=(msg,), daemon=True,
                         name="mcp-broker-serve").start()

    def _serve(self, msg):
        """Run the handler for a server's request and send its answer."""
        try:
            method, rid = msg["method"], msg["id"]
            params = msg.get("params")
            if not isinstance(params, dict):
                params = {}
            handler = self._handlers.get(method)
            if method == "ping":
                line = self._handler_answer(rid, {})
            elif handler is None:
                line = self._no_handler(rid, method)
            else:
                ctx = RequestContext(method, rid, params)
                with self._lock:
                    self._asked[rid] = ctx
                try:
                    outcome = handler(ctx, params)
                except Exception as exc:
                    log.exception("mcp-broker: the %s handler failed", method)
                    outcome = exc
                finally:
                    with self._lock:
                        self._asked.pop(rid, None)
                if ctx.cancelled.is_set():
                    return
                line = self._handler_answer(rid, outcome)
            self._send_quietly(line)
        finally:
            self._serving.release()

    def _send_quietly(self, line):
        """Send a line; a lost connection is already reported elsewhere."""
        try:
            self._send(line)
        except errors.BrokerConnectionError:
            pass

    def _notify_loop(self):
        """Call on_notification for each notification, in order."""
        while True:
            event = self._events.get()
            if event is None:
                return
            try:
                self.on_notification(*event)
            except Exception:
                log.exception("mcp-broker: on_notification failed")
