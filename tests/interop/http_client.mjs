// An MCP client as the TypeScript SDK makes one: a Client on a
// StreamableHTTPClientTransport against the broker's /mcp/SERVER/THREAD,
// authenticated with a bearer token. It runs the steps it is given and
// prints one JSON object on stdout: what initialize said, the session id
// it got, each step's result, the progress it saw and the sampling
// requests it answered.
//
// usage: node http_client.mjs [--socket PATH] URL TOKEN STEP...
//   --socket  reach the broker's Unix socket at PATH instead of URL's
//             host (a fetch on node:http, as the SDK lets one be given)
//   URL    http://127.0.0.1:PORT/mcp/SERVER/THREAD
//   TOKEN  a token of broker.http.tokens_file, or "-" for none
//   STEP list                  tools/list: the tool names
//   STEP call:TOOL[:ARGS]      tools/call with ARGS (JSON, default {})
//   STEP progress:TOOL[:ARGS]  the same, with an onprogress callback
//   STEP terminate             DELETE the session (terminateSession)
//
// Exit status: 0, or 1 with {"error": message} if a step threw.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from
    '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import http from 'node:http';
import { Readable } from 'node:stream';

const argv = process.argv.slice(2);
let socketPath = null;
if (argv[0] === '--socket') {
	socketPath = argv[1];
	argv.splice(0, 2);
}
const [url, token, ...steps] = argv;
if (!url || !token) {
	process.stderr.write('usage: node http_client.mjs [--socket PATH] URL ' +
	    'TOKEN STEP...\n');
	process.exit(2);
}

// A fetch that speaks HTTP/1.1 over the Unix socket at path.
function socketFetch(path) {
	return (input, init = {}) => new Promise((resolve, reject) => {
		const u = new URL(input instanceof URL ? input.href :
		    typeof input === 'string' ? input : input.url);
		const headers = {};
		new Headers(init.headers ?? {}).forEach((v, k) => {
			headers[k] = v;
		});
		const req = http.request({ socketPath: path,
		    method: init.method ?? 'GET', path: u.pathname + u.search,
		    headers, signal: init.signal }, (res) => {
			const empty = [204, 205, 304].includes(res.statusCode);
			const h = new Headers();
			for (const [k, v] of Object.entries(res.headers))
				h.set(k, Array.isArray(v) ? v.join(', ') : v);
			resolve(new Response(empty ? null : Readable.toWeb(res), {
				status: res.statusCode,
				statusText: res.statusMessage, headers: h }));
		});
		req.on('error', reject);
		if (init.body !== undefined && init.body !== null)
			req.write(init.body);
		req.end();
	});
}

const out = { steps: [], samples: [] };
const options = token === '-' ? {} :
    { requestInit: { headers: { Authorization: `Bearer ${token}` } } };
if (socketPath !== null)
	options.fetch = socketFetch(socketPath);
const transport = new StreamableHTTPClientTransport(new URL(url), options);
const client = new Client({ name: 'mcp-broker-http-test',
    version: '1.0.0' }, { capabilities: { sampling: {} } });

// The client's side of sampling: record the request, answer with a text.
client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
	out.samples.push(request.params);
	return {
		role: 'assistant',
		content: { type: 'text', text: 'sampled by the SDK over HTTP' },
		model: 'http-test-model',
		stopReason: 'endTurn',
	};
});

// Split "kind:tool:args" at its first two colons (args may hold more).
function parseStep(step) {
	const first = step.indexOf(':');
	if (first === -1)
		return { kind: step };
	const second = step.indexOf(':', first + 1);
	const tool = second === -1 ? step.slice(first + 1) :
	    step.slice(first + 1, second);
	const argsText = second === -1 ? '{}' : step.slice(second + 1);
	return { kind: step.slice(0, first), tool, args: JSON.parse(argsText) };
}

let status = 0;
try {
	await client.connect(transport);
	out.sessionId = transport.sessionId ?? null;
	out.protocolVersion = transport.protocolVersion ?? null;
	out.serverVersion = client.getServerVersion();
	out.capabilities = client.getServerCapabilities();
	out.instructions = client.getInstructions() ?? null;
	for (const step of steps) {
		const s = parseStep(step);
		const record = { step };
		if (s.kind === 'list') {
			const r = await client.listTools();
			record.tools = r.tools.map((t) => t.name);
		} else if (s.kind === 'call') {
			record.result = await client.callTool({ name: s.tool,
			    arguments: s.args });
		} else if (s.kind === 'progress') {
			record.progress = [];
			record.result = await client.callTool({ name: s.tool,
			    arguments: s.args }, undefined, {
				onprogress: (p) => record.progress.push(p),
			});
		} else if (s.kind === 'terminate') {
			await transport.terminateSession();
			record.sessionId = transport.sessionId ?? null;
		} else
			throw new Error(`unknown step ${step}`);
		out.steps.push(record);
	}
} catch (e) {
	out.error = String(e && e.message ? e.message : e);
	status = 1;
}

await client.close();
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(status);
