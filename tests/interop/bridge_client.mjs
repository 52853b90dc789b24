// An MCP host as the TypeScript SDK makes one: a Client on a
// StdioClientTransport that launches `mcp-brokerctl --socket SOCKET bridge
// SERVER [THREAD]` as its server, runs the steps it is given and prints
// one JSON object on stdout: what initialize said, each step's result,
// the progress it saw, the sampling requests it answered and how the
// bridge exited once the client closed.
//
// usage: node bridge_client.mjs CTL SOCKET SERVER THREAD STEP...
//   THREAD "-" leaves it out (the bridge then reads $MCP_BROKER_THREAD,
//   which this script passes on from its own environment)
//   STEP list                  tools/list: the tool names
//   STEP call:TOOL[:ARGS]      tools/call with ARGS (JSON, default {})
//   STEP progress:TOOL[:ARGS]  the same, with an onprogress callback
//
// Exit status: 0, or 1 with {"error": message} if a step threw.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const [ctl, socket, server, thread, ...steps] = process.argv.slice(2);
if (!ctl || !socket || !server || !thread) {
	process.stderr.write('usage: node bridge_client.mjs CTL SOCKET SERVER ' +
	    'THREAD STEP...\n');
	process.exit(2);
}

const args = ['--socket', socket, 'bridge', server];
if (thread !== '-')
	args.push(thread);
const env = {};
if (process.env.MCP_BROKER_THREAD !== undefined)
	env.MCP_BROKER_THREAD = process.env.MCP_BROKER_THREAD;

const out = { steps: [], samples: [] };
const transport = new StdioClientTransport({ command: ctl, args, env,
    stderr: 'inherit' });
const client = new Client({ name: 'mcp-broker-bridge-test',
    version: '1.0.0' }, { capabilities: { sampling: {} } });

// The host's side of sampling: record the request, answer with a text.
client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
	out.samples.push(request.params);
	return {
		role: 'assistant',
		content: { type: 'text', text: 'sampled by the SDK host' },
		model: 'bridge-test-model',
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
let proc;
try {
	await client.connect(transport);
	// The child process, to report how it exits after close().
	proc = transport._process;
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
		} else
			throw new Error(`unknown step ${step}`);
		out.steps.push(record);
	}
} catch (e) {
	out.error = String(e && e.message ? e.message : e);
	status = 1;
}

const exited = proc ? new Promise((resolve) => {
	if (proc.exitCode !== null || proc.signalCode !== null)
		resolve();
	else
		proc.once('exit', () => resolve());
}) : Promise.resolve();
await client.close();
await exited;
out.bridgeExit = proc ? { code: proc.exitCode, signal: proc.signalCode } :
    null;
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(status);
