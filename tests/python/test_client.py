"""The Python client (proto/python/mcp_broker) against the real daemon.

Each test class starts build/mcp-brokerd on a socket in a temporary
directory with build/tests/fake-mcp as the server "fake" (sampling and
elicitation declared), as tests/integration/harness.c does. MCPB_BUILD and
MCPB_TOP name the build and top directories (defaults: build, .).
"""

import asyncio
import ctypes
import faulthandler
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

TOP = os.path.abspath(os.environ.get("MCPB_TOP", "."))
BUILD = os.path.abspath(os.environ.get("MCPB_BUILD",
                                       os.path.join(TOP, "build")))
sys.path.insert(0, os.path.join(TOP, "proto", "python"))

import mcp_broker  # noqa: E402
from mcp_broker import (AsyncClient, BrokerConnectionError, BrokerError,
                        Client, ConnectionLostError, ErrorData)  # noqa: E402
from mcp_broker import deerflow  # noqa: E402

# How long the daemon may take to listen, and to exit on SIGTERM.
START_S = 20.0
STOP_S = 15.0
# A test still running after this long is hung: dump every thread and exit.
TEST_LIMIT_S = 60


def watchdog(test):
    """Abort the run, with tracebacks, if test hangs."""
    faulthandler.dump_traceback_later(TEST_LIMIT_S, exit=True)
    test.addCleanup(faulthandler.cancel_dump_traceback_later)


def die_with_parent():
    """In the daemon: SIGTERM when the test run dies (PR_SET_PDEATHSIG),
    so a run aborted by the watchdog leaves no daemon behind."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


class Daemon:
    """mcp-brokerd on a temporary socket, serving fake-mcp as "fake"."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mcpb-py.")
        self.sock = os.path.join(self.dir, "broker.sock")
        self.log = os.path.join(self.dir, "broker.log")
        config = os.path.join(self.dir, "broker.json")
        fake = os.path.join(BUILD, "tests", "fake-mcp")
        with open(config, "w") as f:
            json.dump({"broker": {"socket": self.sock},
                       "mcpServers": {"fake": {
                           "command": fake,
                           "client_capabilities": {"sampling": {},
                                                   "elicitation": {}}}}},
                      f)
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [os.path.join(BUILD, "mcp-brokerd"), "--config", config,
                 "--log-level", "debug"], stdout=log, stderr=log,
                preexec_fn=die_with_parent)
        deadline = time.monotonic() + START_S
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.sock)
                return
            except OSError:
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("mcp-brokerd did not listen; see "
                                       + self.log)
                time.sleep(0.02)
            finally:
                s.close()

    def kill(self):
        """SIGKILL the daemon (its children then see stdin end)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(STOP_S)

    def stop(self):
        """Stop the daemon and remove its directory."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_S)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def pid_of(result):
    """The fake server's pid in a counter or pid tool result."""
    return result.structuredContent.pid


def thread_name(test):
    """A thread name of the test's own, so tests never share sessions."""
    return test.id().rsplit(".", 1)[-1]


class DaemonTest(unittest.TestCase):
    """A test case with one daemon for the whole class."""

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def setUp(self):
        watchdog(self)

    def client(self, **kw):
        c = Client(self.daemon.sock, **kw)
        self.addCleanup(c.close)
        return c

    def run_async(self, coro):
        return asyncio.run(asyncio.wait_for(coro, 30))


class TestSync(DaemonTest):

    def test_call_tool_result_reads_as_attributes_and_as_dict(self):
        s = self.client().session("fake", thread_name(self))
        r = s.call_tool("counter")
        self.assertIsInstance(r, dict)
        self.assertEqual(r.content[0].text, "1")
        self.assertEqual(r["content"][0]["type"], "text")
        self.assertEqual(r.structuredContent.count, 1)
        self.assertIsNone(r.isError)
        self.assertEqual(r.meta_session.generation, 1)
        self.assertEqual(r.meta["mcp-broker/session"].id, r.meta_session.id)
        self.assertEqual(s.call_tool("counter").content[0].text, "2")

    def test_socket_defaults_to_the_environment_variable(self):
        old = os.environ.get("MCP_BROKER_SOCKET")
        os.environ["MCP_BROKER_SOCKET"] = self.daemon.sock
        try:
            with Client() as c:
                self.assertEqual(c.socket_path, self.daemon.sock)
                self.assertIn("version", c.status())
        finally:
            if old is None:
                del os.environ["MCP_BROKER_SOCKET"]
            else:
                os.environ["MCP_BROKER_SOCKET"] = old

    def test_connect_error_names_the_socket_and_how_to_choose(self):
        path = os.path.join(self.daemon.dir, "nosuch.sock")
        with self.assertRaises(BrokerConnectionError) as cm:
            Client(path)
        self.assertIsInstance(cm.exception, ConnectionError)
        self.assertIn(path, str(cm.exception))
        self.assertIn("MCP_BROKER_SOCKET", str(cm.exception))

    def test_two_clients_on_one_thread_reach_one_child(self):
        t = thread_name(self)
        a = self.client().session("fake", t)
        b = self.client().session("fake", t)
        other = self.client().session("fake", t + "-other")
        pa = pid_of(a.call_tool("pid"))
        self.assertEqual(pid_of(b.call_tool("pid")), pa)
        self.assertEqual(b.call_tool("counter").structuredContent.count, 1)
        self.assertEqual(a.call_tool("counter").structuredContent.count, 2)
        self.assertNotEqual(pid_of(other.call_tool("pid")), pa)

    def test_unknown_server_raises_32010_with_data(self):
        c = self.client()
        with self.assertRaises(mcp_broker.UnknownServerError) as cm:
            c.session("nosuch", "t").list_tools()
        e = cm.exception
        self.assertIsInstance(e, BrokerError)
        self.assertEqual(e.code, -32010)
        self.assertEqual(e.code, mcp_broker.UNKNOWN_SERVER)
        self.assertEqual(e.data, {"server": "nosuch"})
        self.assertIn("nosuch", e.message)
        self.assertIn("version", c.status())

    def test_tool_error_is_a_result_with_is_error(self):
        r = self.client().session("fake", thread_name(self)).call_tool(
            "echo", {})
        self.assertIs(r.isError, True)
        self.assertIn("text", r.content[0].text)

    def test_unknown_tool_raises_the_servers_32602(self):
        with self.assertRaises(mcp_broker.InvalidParamsError) as cm:
            self.client().session("fake", thread_name(self)).call_tool(
                "nosuch")
        self.assertEqual(cm.exception.code, -32602)
        self.assertIn("nosuch", cm.exception.message)

    def test_missing_thread_raises_32602_and_the_connection_stays(self):
        c = self.client()
        with self.assertRaises(mcp_broker.InvalidParamsError) as cm:
            c.request("tools/list", server="fake")
        self.assertEqual(cm.exception.code, -32602)
        self.assertIn("thread", cm.exception.message)
        with self.assertRaises(mcp_broker.InvalidParamsError):
            c.session("fake", "bad\nthread").list_tools()
        self.assertEqual(c.session("fake", thread_name(self)).call_tool(
            "echo", {"text": "still here"}).structuredContent.text,
            "still here")

    def test_unknown_broker_method_raises_32601(self):
        with self.assertRaises(mcp_broker.MethodNotFoundError) as cm:
            self.client().request("broker/nosuch")
        self.assertEqual(cm.exception.code, -32601)

    def test_fifty_threads_share_one_connection(self):
        c = self.client()
        s = c.session("fake", thread_name(self))
        answers, failures = {}, []

        def call(i):
            try:
                r = s.call_tool("echo", {"text": "call %d" % i})
                answers[i] = r.structuredContent.text
            except Exception as exc:     # reported below
                failures.append(exc)

        threads = [threading.Thread(target=call, args=(i,))
                   for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(failures, [])
        self.assertEqual(answers, {i: "call %d" % i for i in range(50)})

    def test_progress_callback_gets_each_step_before_the_result(self):
        seen = []
        notes = []
        c = self.client(on_notification=lambda m, p: notes.append((m, p)))
        r = c.session("fake", thread_name(self)).call_tool(
            "progress", {"steps": 4, "interval_ms": 20},
            progress_callback=lambda p, t, m: seen.append((p, t, m)))
        self.assertEqual(r.structuredContent.steps, 4)
        self.assertEqual(seen, [(i, 4, "step %d" % i) for i in range(1, 5)])
        deadline = time.monotonic() + 5
        while len(notes) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual([m for m, _ in notes], ["notifications/progress"] * 4)
        self.assertEqual(notes[0][1].progress, 1)

    def test_sampling_request_is_answered_by_the_callback(self):
        asked = []

        def sample(ctx, params):
            asked.append((ctx.method, ctx.session, params))
            return {"role": "assistant", "model": "test-model",
                    "content": {"type": "text", "text": "Hello!"},
                    "stopReason": "endTurn"}

        t = thread_name(self)
        r = self.client(sampling_callback=sample).session(
            "fake", t).call_tool("sample")
        self.assertIsNone(r.structuredContent.error)
        self.assertEqual(r.structuredContent.answer.content.text, "Hello!")
        method, session, params = asked[0]
        self.assertEqual(method, "sampling/createMessage")
        self.assertEqual(session.server, "fake")
        self.assertEqual(session.thread, t)
        self.assertEqual(params.messages[0].content.text,
                         "hello from fake-mcp")

    def test_elicitation_refused_with_error_data_reaches_the_server(self):
        def elicit(ctx, params):
            return ErrorData(-32001, "the user is away")

        r = self.client(elicitation_callback=elicit).session(
            "fake", thread_name(self)).call_tool("elicit")
        self.assertEqual(r.structuredContent.error.code, -32001)
        self.assertEqual(r.structuredContent.error.message,
                         "the user is away")

    def test_without_a_callback_the_server_gets_32601(self):
        c = self.client()
        c.hello({"sampling": {}})
        r = c.session("fake", thread_name(self)).call_tool("sample")
        self.assertEqual(r.structuredContent.error.code, -32601)

    def test_close_thread_close_server_and_status(self):
        c = self.client()
        t = thread_name(self)
        first = c.session("fake", t).call_tool("counter")
        self.assertIn(t, [s.thread for s in c.status().sessions])
        self.assertEqual(c.close_thread(t).closed, 1)
        self.assertNotIn(t, [s.thread for s in c.status().sessions])
        again = c.session("fake", t).call_tool("counter")
        self.assertEqual(again.structuredContent.count, 1)
        self.assertNotEqual(again.meta_session.id, first.meta_session.id)
        self.assertEqual(again.meta_session.generation, 1)
        self.assertEqual(c.close_session("fake", t).closed, 1)
        self.assertEqual(c.close_session("fake", t).closed, 0)
        c.session("fake", t + "-a").send_ping()
        c.session("fake", t + "-b").send_ping()
        self.assertGreaterEqual(c.close_server("fake").closed, 2)
        self.assertEqual([s for s in c.status().sessions
                          if s.thread.startswith(t)], [])
        self.assertEqual([s.name for s in c.servers()], ["fake"])

    def test_session_view_speaks_the_sdk_method_names(self):
        s = self.client().session("fake", thread_name(self))
        init = s.initialize()
        self.assertEqual(init.serverInfo.name, "fake-mcp")
        self.assertIn("tools", init.capabilities)
        self.assertEqual(init.meta_session.generation, 1)
        self.assertIn("counter", [t.name for t in s.list_tools().tools])
        self.assertEqual(s.list_resources().resources, [])
        self.assertEqual(s.list_prompts().prompts, [])
        self.assertIsNotNone(s.send_ping().meta_session)
        s.set_logging_level("debug")
        with self.assertRaises(mcp_broker.MethodNotFoundError):
            s.list_resource_templates()
        self.assertEqual(s.info().state, "ready")

    def test_broker_timeout_raises_32013_with_data(self):
        s = self.client().session("fake", thread_name(self))
        start = time.monotonic()
        with self.assertRaises(mcp_broker.RequestTimeoutError) as cm:
            s.call_tool("sleep", {"ms": 5000}, read_timeout_seconds=0.3)
        self.assertLess(time.monotonic() - start, 4)
        self.assertIsInstance(cm.exception, TimeoutError)
        self.assertEqual(cm.exception.code, -32013)
        self.assertEqual(cm.exception.data.timeout_ms, 300)

    def test_oversized_request_is_refused_here_and_changes_nothing(self):
        c = self.client(max_message_bytes=1000)
        s = c.session("fake", thread_name(self))
        with self.assertRaises(mcp_broker.MessageTooLargeError) as cm:
            s.call_tool("echo", {"text": "x" * 2000})
        self.assertEqual(cm.exception.data, {"max_message_bytes": 1000})
        self.assertEqual(s.call_tool("echo", {"text": "small"})
                         .structuredContent.text, "small")

    def test_oversized_answer_closes_the_connection(self):
        c = self.client(max_message_bytes=1000)
        s = c.session("fake", thread_name(self))
        with self.assertRaises(mcp_broker.AnswerTooLargeError) as cm:
            s.call_tool("big", {"bytes": 5000})
        self.assertIn("max_message_bytes (1000)", str(cm.exception))
        self.assertTrue(c.closed)
        with self.assertRaises(ConnectionLostError):
            c.status()


class TestAsync(DaemonTest):

    def test_async_calls_and_fifty_in_flight_with_gather(self):
        t = thread_name(self)

        async def main():
            async with AsyncClient(self.daemon.sock) as c:
                s = c.session("fake", t)
                first = await s.call_tool("counter")
                rs = await asyncio.gather(*(
                    s.call_tool("echo", {"text": "call %d" % i})
                    for i in range(50)))
                return first, [r.structuredContent.text for r in rs]

        first, texts = self.run_async(main())
        self.assertEqual(first.content[0].text, "1")
        self.assertEqual(texts, ["call %d" % i for i in range(50)])

    def test_async_and_sync_clients_share_the_child(self):
        t = thread_name(self)
        pid = pid_of(self.client().session("fake", t).call_tool("pid"))

        async def main():
            async with AsyncClient(self.daemon.sock) as c:
                return await c.session("fake", t).call_tool("pid")

        self.assertEqual(pid_of(self.run_async(main())), pid)

    def test_async_errors_carry_code_and_data(self):
        async def main():
            async with AsyncClient(self.daemon.sock) as c:
                with self.assertRaises(mcp_broker.UnknownServerError) as cm:
                    await c.request("tools/list", server="nosuch", thread="t")
                with self.assertRaises(mcp_broker.InvalidParamsError):
                    await c.request("tools/call", {"name": "pid"},
                                    server="fake")
                return cm.exception, await c.status()

        e, status = self.run_async(main())
        self.assertEqual((e.code, e.data), (-32010, {"server": "nosuch"}))
        self.assertIn("counters", status)

    def test_async_progress_and_a_coroutine_sampling_callback(self):
        t = thread_name(self)
        seen = []

        async def progress(p, total, message):
            seen.append(p)

        async def sample(ctx, params):
            await asyncio.sleep(0.01)
            return {"role": "assistant", "model": "m",
                    "content": {"type": "text", "text": "from async"}}

        async def main():
            async with AsyncClient(self.daemon.sock,
                                   sampling_callback=sample) as c:
                s = c.session("fake", t)
                await s.call_tool("progress", {"steps": 3, "interval_ms": 10},
                                  progress_callback=progress)
                return await s.call_tool("sample")

        r = self.run_async(main())
        self.assertEqual(seen, [1, 2, 3])
        self.assertEqual(r.structuredContent.answer.content.text,
                         "from async")

    def test_cancelling_a_task_cancels_the_request_in_the_server(self):
        t = thread_name(self)

        async def main():
            async with AsyncClient(self.daemon.sock) as c:
                s = c.session("fake", t)
                await s.send_ping()
                task = asyncio.ensure_future(
                    s.call_tool("sleep", {"ms": 10000}))
                await asyncio.sleep(0.3)
                task.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await task
                for _ in range(100):
                    info = await s.info()
                    if any("cancelled request" in line
                           for line in info.stderr_tail):
                        return info
                    await asyncio.sleep(0.05)
                return info

        info = self.run_async(main())
        self.assertTrue(any("fake-mcp: cancelled request" in line
                            for line in info.stderr_tail), info.stderr_tail)


class TestDeerFlowPool(DaemonTest):

    def test_get_session_twice_reaches_one_child_and_close_scope_ends_it(self):
        scope = "user-1:" + thread_name(self)

        async def main():
            pool = deerflow.MCPSessionPool(self.daemon.sock)
            a = await pool.get_session("fake", scope, {"transport": "stdio"})
            b = await pool.get_session("fake", scope, {"transport": "stdio"})
            other = await pool.get_session("fake", scope + "-2")
            pa = pid_of(await a.call_tool("pid"))
            pb = pid_of(await b.call_tool("pid"))
            po = pid_of(await other.call_tool("pid"))
            tools = await a.list_tools()
            await pool.close_scope(scope)
            c = await pool.get_session("fake", scope)
            pc = pid_of(await c.call_tool("pid"))
            await pool.close_all()
            await pool.aclose()
            return pa, pb, po, pc, tools

        pa, pb, po, pc, tools = self.run_async(main())
        self.assertEqual(pa, pb)
        self.assertNotEqual(pa, po)
        self.assertNotEqual(pc, pa)
        self.assertIn("pid", [t.name for t in tools.tools])
        self.assertEqual([s for s in self.client().status().sessions
                          if s.thread.startswith(scope)], [])

    def test_sessions_outlive_the_event_loop_that_made_them(self):
        scope = thread_name(self)
        pool = deerflow.MCPSessionPool(self.daemon.sock)

        async def pid():
            s = await pool.get_session("fake", scope)
            return pid_of(await s.call_tool("pid"))

        first = asyncio.run(pid())
        self.assertEqual(asyncio.run(pid()), first)
        pool.close_all_sync()
        self.assertEqual([s for s in self.client().status().sessions
                          if s.thread == scope], [])

    def test_close_server_and_unknown_server(self):
        scope = thread_name(self)

        async def main():
            pool = deerflow.MCPSessionPool(self.daemon.sock)
            with self.assertRaises(mcp_broker.UnknownServerError):
                await pool.get_session("nosuch", scope)
            await pool.get_session("fake", scope)
            await pool.close_server("fake")
            await pool.aclose()

        self.run_async(main())
        self.assertEqual([s for s in self.client().status().sessions
                          if s.thread == scope], [])

    def test_the_module_keeps_one_pool(self):
        deerflow.reset_session_pool()
        self.assertIs(deerflow.get_session_pool(),
                      deerflow.get_session_pool())
        deerflow.reset_session_pool()


class TestConnectionLoss(unittest.TestCase):
    """Each test kills its own daemon under requests in flight."""

    def setUp(self):
        watchdog(self)
        self.daemon = Daemon()
        self.addCleanup(self.daemon.stop)

    def test_daemon_death_fails_every_pending_sync_request(self):
        c = Client(self.daemon.sock)
        self.addCleanup(c.close)
        s = c.session("fake", "t")
        s.send_ping()
        errors = []

        def call():
            try:
                s.call_tool("sleep", {"ms": 20000})
            except Exception as exc:     # checked below
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        start = time.monotonic()
        self.daemon.kill()
        for t in threads:
            t.join(10)
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(len(errors), 3)
        for e in errors:
            self.assertIsInstance(e, ConnectionLostError)
            self.assertIn(self.daemon.sock, str(e))
        with self.assertRaises(ConnectionLostError):
            c.status()

    def test_daemon_death_fails_every_pending_async_request(self):
        async def main():
            c = await AsyncClient(self.daemon.sock).connect()
            s = c.session("fake", "t")
            await s.send_ping()
            calls = [asyncio.ensure_future(s.call_tool("sleep",
                                                       {"ms": 20000}))
                     for _ in range(3)]
            await asyncio.sleep(0.3)
            self.daemon.kill()
            got = await asyncio.gather(*calls, return_exceptions=True)
            with self.assertRaises(ConnectionLostError):
                await c.status()
            await c.close()
            return got

        for e in asyncio.run(asyncio.wait_for(main(), 20)):
            self.assertIsInstance(e, ConnectionLostError)

    def test_close_fails_requests_still_pending(self):
        c = Client(self.daemon.sock)
        s = c.session("fake", "t")
        s.send_ping()
        errors = []

        def call():
            try:
                s.call_tool("sleep", {"ms": 20000})
            except Exception as exc:     # checked below
                errors.append(exc)

        t = threading.Thread(target=call)
        t.start()
        time.sleep(0.3)
        c.close()
        t.join(10)
        self.assertFalse(t.is_alive())
        self.assertIsInstance(errors[0], ConnectionLostError)
        self.assertIn("closed by this client", str(errors[0]))


if __name__ == "__main__":
    unittest.main()
