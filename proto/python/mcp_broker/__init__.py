"""A client for mcp-brokerd, the daemon that keeps MCP servers alive per
(user, server, thread) behind one Unix socket.

    from mcp_broker import Client

    with Client() as client:                      # $MCP_BROKER_SOCKET
        s = client.session("playwright", "t-42")
        r = s.call_tool("browser_navigate", {"url": "https://example.org"})
        print(r.content[0].text, r.meta_session.generation)

``AsyncClient`` is the same for asyncio; ``mcp_broker.deerflow`` is a
drop-in for deer-flow's MCPSessionPool. Standard library only.
"""

from ._core import DEFAULT_SOCKET, MAX_MESSAGE_BYTES, SOCKET_ENV, \
    RequestContext, Session, socket_path
from .aio import AsyncClient
from .client import MAX_SERVER_REQUESTS, Client
from .errors import *  # noqa: F401,F403
from .errors import BrokerConnectionError, BrokerError, ConnectionLostError, \
    ErrorData
from .result import SESSION_META, Result, to_result

__version__ = "0.1.0"

__all__ = [
    "AsyncClient", "Client", "Session", "Result", "RequestContext",
    "BrokerError", "BrokerConnectionError", "ConnectionLostError",
    "ErrorData", "DEFAULT_SOCKET", "SOCKET_ENV", "MAX_MESSAGE_BYTES",
    "MAX_SERVER_REQUESTS", "SESSION_META", "socket_path", "to_result",
]
