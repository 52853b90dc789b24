"""The asyncio client.

One connection (``asyncio.open_unix_connection``); a reader task matches
answers to requests by id, so any number of requests can be in flight at
once (``asyncio.gather``). Callbacks may be plain functions or coroutine
functions. Cancelling a task that waits for an answer tells the broker to
cancel the request.
"""

import asyncio
import inspect
import logging
import time

from . import errors
from ._core import (Core, MAX_MESSAGE_BYTES, RequestContext, connect_failed,
                    decode, too_large_line)
from .client import MAX_SERVER_REQUESTS

log = logging.getLogger("mcp_broker")


class AsyncClient(Core):
    """A connection to mcp-brokerd for asyncio.

    Open it with ``async with AsyncClient(...) as client`` or
    ``client = await AsyncClient(...).connect()``. Arguments as for
    Client; every method that talks to the broker is a coroutine.
    """

    def __init__(self, socket=None, *, on_notification=None,
                 sampling_callback=None, elicitation_callback=None,
                 handlers=None, max_message_bytes=MAX_MESSAGE_BYTES,
                 connect_timeout=10.0):
        self._core_init(socket, max_message_bytes, on_notification,
                        sampling_callback, elicitation_callback, handlers)
        self.connect_timeout = connect_timeout
        self._reader = self._writer = None
        self._read_task = self._notify_task = None
        self._serving = {}
        self._closing = False
        self._wlock = None
        self._events = None

    async def connect(self):
        """Connect (and say broker/hello if there are callbacks)."""
        if self._reader is not None:
            raise RuntimeError("this AsyncClient is already connected")
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_unix_connection(
                    self.socket_path, limit=self.max_message_bytes + 2),
                self.connect_timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            if not isinstance(exc, OSError):
                exc = OSError("no answer within %g s" % self.connect_timeout)
            raise connect_failed(self.socket_path, self.socket_source,
                                 exc) from None
        self.loop = asyncio.get_running_loop()
        self._wlock = asyncio.Lock()
        self._events = asyncio.Queue()
        self._read_task = self.loop.create_task(self._read_loop())
        if self.on_notification is not None:
            self._notify_task = self.loop.create_task(self._notify_loop())
        if self.hello_capabilities():
            try:
                await self.hello()
            except BaseException:
                await self.close()
                raise
        return self

    async def __aenter__(self):
        return await self.connect()

    async def __aexit__(self, *exc):
        await self.close()

    def __repr__(self):
        return "<mcp_broker.AsyncClient %s%s>" % (
            self.socket_path, " closed" if self._lost else "")

    @property
    def closed(self):
        """Whether the connection is gone (closed or lost)."""
        return self._lost is not None

    async def close(self):
        """Close the connection; requests still pending fail with
        ConnectionLostError. The broker's sessions stay."""
        if self._closing or self._writer is None:
            return
        self._closing = True
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except OSError:
            pass
        if self._read_task is not None:
            await asyncio.gather(self._read_task, return_exceptions=True)
        tasks = list(self._serving.values())
        if self._notify_task is not None:
            tasks.append(self._notify_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _request(self, method, params, server, thread, timeout=None,
                       progress_callback=None, meta=None, transform=None):
        """Send a request and wait for its answer (see Core.request)."""
        pending, line = self._prepare(method, params, server, thread,
                                      timeout, progress_callback, meta)
        if self._writer is None:
            raise errors.BrokerConnectionError(
                "This AsyncClient is not connected; use 'async with' or "
                "await connect() first.")
        if self._lost is not None:
            raise self._lost_copy()
        pending.queue = asyncio.Queue()
        self._pending[pending.id] = pending
        if pending.token is not None:
            self._progress[pending.token] = pending
        sent = False
        try:
            await self._send(line)
            sent = True
            return await self._wait(pending, transform)
        except asyncio.CancelledError:
            if sent and self._lost is None:
                self._writer.write(self._cancel_line(pending.id))
            raise
        finally:
            self._pending.pop(pending.id, None)
            if pending.token is not None:
                self._progress.pop(pending.token, None)

    async def _wait(self, pending, transform):
        """The answer to pending, running its progress callback meanwhile."""
        deadline = None
        if pending.timeout is not None:
            deadline = time.monotonic() + pending.timeout
        while True:
            remaining = None
            if deadline is not None:
                remaining = max(0.0, deadline - time.monotonic())
            try:
                kind, value = await asyncio.wait_for(pending.queue.get(),
                                                     remaining)
            except asyncio.TimeoutError:
                await self._cancel(pending)
                raise errors.RequestTimeoutError(
                    errors.TIMEOUT,
                    "No answer to %s within %g s; the broker was told to "
                    "cancel it." % (pending.method, pending.timeout),
                    {"timeout_ms": int(pending.timeout * 1000)}) from None
            if kind == "progress":
                if deadline is not None:
                    deadline = time.monotonic() + pending.timeout
                try:
                    done = pending.progress_callback(value.get("progress"),
                                                     value.get("total"),
                                                     value.get("message"))
                    if inspect.isawaitable(done):
                        await done
                except Exception:
                    await self._cancel(pending)
                    raise
                continue
            if kind == "lost":
                raise self._lost_copy()
            if "error" in value:
                raise errors.error_from_answer(value["error"])
            result = value.get("result")
            return transform(result) if transform is not None else result

    async def _cancel(self, pending):
        """Tell the broker we no longer wait for pending."""
        try:
            await self._send(self._cancel_line(pending.id))
        except errors.BrokerConnectionError:
            pass

    async def _send(self, line):
        """Write one line and wait until the socket takes it."""
        if self._lost is not None:
            raise self._lost_copy()
        self._writer.write(line)
        try:
            async with self._wlock:
                await self._writer.drain()
        except OSError as exc:
            raise errors.ConnectionLostError(
                "Cannot write to the broker at %s: %s." % (
                    self.socket_path, exc.strerror or exc)) from None

    def _lost_copy(self):
        """A fresh exception like the one that ended the connection."""
        lost = self._lost_error()
        return type(lost)(str(lost), lost.error)

    async def _read_loop(self):
        """Read lines until the connection ends, handing each on."""
        reason = "the broker closed it"
        try:
            while True:
                try:
                    line = await self._reader.readuntil(b"\n")
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        reason = "it ended in the middle of a line"
                    break
                except asyncio.LimitOverrunError:
                    reason = too_large_line(self.max_message_bytes)
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
        if self._closing:
            self._lost = errors.ConnectionLostError(
                "The connection to the broker was closed by this client.",
                self._last_word)
        else:
            self._lost = self._lost_reason(reason)
            self._writer.close()
        for p in list(self._pending.values()):
            p.queue.put_nowait(("lost", None))
        for ctx in list(self._asked.values()):
            ctx.cancelled.set()
        for task in list(self._serving.values()):
            task.cancel()
        self._events.put_nowait(None)

    def _dispatch(self, msg):
        """Hand one message to whoever waits for it."""
        kind = self._classify(msg)
        if kind == "answer":
            pending = self._pending.get(msg["id"])
            if pending is not None:
                pending.queue.put_nowait(("answer", msg))
        elif kind == "notification":
            params = msg.get("params")
            if not isinstance(params, dict):
                params = {}
            method = msg["method"]
            if method == "notifications/progress":
                pending = self._progress.get(params.get("progressToken"))
                if pending is not None:
                    pending.queue.put_nowait(("progress", params))
            elif method == "notifications/cancelled":
                rid = params.get("requestId")
                ctx = self._asked.get(rid)
                if ctx is not None:
                    ctx.cancelled.set()
                    task = self._serving.get(rid)
                    if task is not None:
                        task.cancel()
            if self.on_notification is not None:
                self._events.put_nowait((method, params))
        elif kind == "request":
            rid = msg["id"]
            if len(self._serving) >= MAX_SERVER_REQUESTS or \
                    rid in self._serving:
                self._writer.write(self._handler_answer(
                    rid, errors.ErrorData(
                        errors.INTERNAL_ERROR,
                        "This client is already answering %d requests "
                        "(MAX_SERVER_REQUESTS); try again later." %
                        len(self._serving))))
                return
            self._serving[rid] = self.loop.create_task(self._serve(msg))

    async def _serve(self, msg):
        """Run the handler for a server's request and send its answer."""
        method, rid = msg["method"], msg["id"]
        try:
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
                self._asked[rid] = ctx
                try:
                    outcome = handler(ctx, params)
                    if inspect.isawaitable(outcome):
                        outcome = await outcome
                except asyncio.CancelledError:
                    return
                except Exception as exc:
                    log.exception("mcp-broker: the %s handler failed", method)
                    outcome = exc
                finally:
                    self._asked.pop(rid, None)
                if ctx.cancelled.is_set():
                    return
                line = self._handler_answer(rid, outcome)
            try:
                await self._send(line)
            except errors.BrokerConnectionError:
                pass
        finally:
            self._serving.pop(rid, None)

    async def _notify_loop(self):
        """Call on_notification for each notification, in order."""
        while True:
            event = await self._events.get()
            if event is None:
                return
            try:
                done = self.on_notification(*event)
                if inspect.isawaitable(done):
                    await done
            except Exception:
                log.exception("mcp-broker: on_notification failed")
