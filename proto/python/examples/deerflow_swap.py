#!/usr/bin/env python3
"""Swap deer-flow's in-process MCP session pool for mcp-brokerd.

deer-flow (github.com/bytedance/deer-flow) keeps one MCP session per
(server name, scope key) in backend/packages/harness/deerflow/mcp/
session_pool.py; each session owns a child process of its worker. The swap
is one import, in deerflow/mcp/tools.py and deerflow/mcp/task_tool_caller.py:

    # before: sessions (and their browsers) live inside this process
    from deerflow.mcp.session_pool import get_session_pool

    # after: sessions live in mcp-brokerd, one per (user, server, thread)
    from mcp_broker.deerflow import get_session_pool

Everything else stays as it is:

    pool = get_session_pool()
    session = await pool.get_session(server_name, scope_key, connection)
    result = await session.call_tool(name, arguments)
    await pool.close_scope(scope_key)       # the thread is over

The servers' commands now come from the broker's config (mcpServers, the
same shape as deer-flow's extensions_config.json), under the same names;
get_session's connection argument is ignored. Results keep the SDK's field
names (result.content[0].text, result.isError); code that needs the SDK's
classes can call mcp.types.CallToolResult.model_validate(result).

Run it against a daemon (`make run` starts one with the demo server):

    export MCP_BROKER_SOCKET=$PWD/build/run/mcp-broker.sock
    PYTHONPATH=proto/python python3 proto/python/examples/deerflow_swap.py \\
        [SERVER [TOOL]]

It calls TOOL (default: counter, on the server demo) twice in one scope
and once in another. The first scope's process answers both of its calls,
so the counter goes 1, 2. The other scope gets a process of its own and
counts from 1. Both scopes are closed at the end.
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))

from mcp_broker.deerflow import get_session_pool  # noqa: E402


async def main(server, tool):
    pool = get_session_pool()
    for scope in ("alice:thread-1", "alice:thread-1", "alice:thread-2"):
        # deer-flow passes the server's connection dict here; it is ignored.
        session = await pool.get_session(server, scope, {"transport": "stdio"})
        result = await session.call_tool(tool, {})
        text = result.content[0].text if result.content else result
        print("%-16s %s -> %s (session %s, generation %s)" % (
            scope, tool, text, result.meta_session.id,
            result.meta_session.generation))
    await pool.close_scope("alice:thread-1")
    await pool.close_scope("alice:thread-2")
    await pool.aclose()


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(args[0] if args else "demo",
                     args[1] if len(args) > 1 else "counter"))
