"""A drop-in for deer-flow's ``deerflow.mcp.session_pool``.

deer-flow keeps one MCP ``ClientSession`` per (server name, scope key) in an
in-process pool, each owning a child process. This module has the same API
(``MCPSessionPool`` with ``get_session``, ``close_session``,
``close_scope``, ``close_server``, ``close_all``, ``close_all_sync``;
``get_session_pool``, ``reset_session_pool``), but the sessions live in
mcp-brokerd: the scope key is the broker's thread, so every process and
every event loop of the same user reaches the same child, and a restart of
deer-flow keeps browser pages and REPL state.

The ``connection`` argument of ``get_session`` is accepted and ignored: the
broker starts servers from its own config, under the same names. Results
are ``mcp_broker.Result`` dicts with the SDK's field names; code that wants
SDK models can call ``mcp.types.CallToolResult.model_validate(result)``.
"""

import asyncio
import threading
from collections import OrderedDict

from ._core import Session
from .aio import AsyncClient


class _LoopClient:
    """Stands in for a client: each request goes out on the pool's
    connection for the event loop it runs on."""

    def __init__(self, pool):
        self._pool = pool

    async def _request(self, *args, **kwargs):
        client = await self._pool._client()
        return await client._request(*args, **kwargs)


class MCPSessionPool:
    """Persistent MCP sessions scoped by (server_name, scope_key), kept by
    mcp-brokerd. One connection per event loop, opened on first use."""

    # deer-flow's pool evicts past this; the broker's max_sessions and
    # idle_timeout_s do that job here, and the name stays for callers.
    MAX_SESSIONS = 256
    SESSION_CLOSE_TIMEOUT = 5.0

    def __init__(self, socket=None, **client_kwargs):
        """socket: the broker's (default $MCP_BROKER_SOCKET, then
        /run/mcp-broker/mcp-broker.sock); client_kwargs go to AsyncClient
        (on_notification, sampling_callback, elicitation_callback)."""
        self._socket = socket
        self._client_kwargs = client_kwargs
        self._clients = {}
        self._keys = OrderedDict()
        self._lock = threading.Lock()
        self._proxy = _LoopClient(self)

    async def _client(self):
        """The connected AsyncClient of the running event loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            for other in [l for l in self._clients if l.is_closed()]:
                del self._clients[other]
            task = self._clients.get(loop)
            if task is not None and task.done() and (
                    task.cancelled() or task.exception() is not None or
                    task.result().closed):
                task = None
            if task is None:
                task = loop.create_task(self._connect())
                self._clients[loop] = task
        try:
            return await asyncio.shield(task)
        except BaseException:
            with self._lock:
                if self._clients.get(loop) is task and task.done():
                    del self._clients[loop]
            raise

    async def _connect(self):
        """A new connection to the broker."""
        return await AsyncClient(self._socket,
                                 **self._client_kwargs).connect()

    async def get_session(self, server_name, scope_key, connection=None):
        """The session for (server_name, scope_key), started and ready.

        Returns an object with ClientSession's methods (call_tool,
        list_tools, ...). A server the broker does not know raises
        UnknownServerError; one that cannot start, StartFailedError.
        """
        client = await self._client()
        await client.session_info(server_name, scope_key, create=True)
        with self._lock:
            self._keys[(server_name, scope_key)] = True
            self._keys.move_to_end((server_name, scope_key))
        return Session(self._proxy, server_name, scope_key)

    async def close_session(self, server_name, scope_key):
        """Close one exact server/scope session so a retry starts anew."""
        with self._lock:
            self._keys.pop((server_name, scope_key), None)
        client = await self._client()
        await client.close_session(server_name, scope_key)

    async def close_scope(self, scope_key):
        """Close every session of a scope (a thread), for every server."""
        with self._lock:
            for key in [k for k in self._keys if k[1] == scope_key]:
                del self._keys[key]
        client = await self._client()
        await client.close_thread(scope_key)

    async def close_server(self, server_name):
        """Close every session of a server."""
        with self._lock:
            for key in [k for k in self._keys if k[0] == server_name]:
                del self._keys[key]
        client = await self._client()
        await client.close_server(server_name)

    async def close_all(self):
        """Close every session this pool handed out.

        Only those: closing everything the user may close (broker/close
        all) would, for an admin, end other users' sessions too.
        """
        with self._lock:
            keys = list(self._keys)
            self._keys.clear()
        if not keys:
            return
        client = await self._client()
        await asyncio.gather(*(client.close_session(s, t) for s, t in keys))

    def close_all_sync(self):
        """close_all() from code that is not a coroutine. Inside a running
        event loop of this thread it is only scheduled on that loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            loop.create_task(self.close_all())
            return

        async def run():
            try:
                await asyncio.wait_for(self.close_all(),
                                       self.SESSION_CLOSE_TIMEOUT)
            finally:
                await self.aclose()

        asyncio.run(run())

    async def aclose(self):
        """Close the pool's connection on this loop (sessions stay)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            task = self._clients.pop(loop, None)
        if task is not None and task.done() and not task.cancelled() and \
                task.exception() is None:
            await task.result().close()


_pool = None
_pool_lock = threading.Lock()


def get_session_pool():
    """The process-wide pool."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = MCPSessionPool()
        return _pool


def reset_session_pool():
    """Forget the process-wide pool (tests, cache resets)."""
    global _pool
    with _pool_lock:
        _pool = None
