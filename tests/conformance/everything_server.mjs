// The server the conformance suite's server scenarios expect: every tool,
// resource and prompt they call, as each scenario's own description in
// @modelcontextprotocol/conformance specifies it, on the TypeScript SDK's
// low-level Server. Two entry points:
//
//   node everything_server.mjs stdio
//	an MCP stdio server: what the broker starts as a child, and what
//	the stdio bridge is tested against;
//   node everything_server.mjs http PORT [TOKEN]
//	the same server on the SDK's own Streamable HTTP transport at
//	http://127.0.0.1:PORT/mcp (stateful, resumable, DNS rebinding
//	protection), the baseline that tells which scenarios apply at all;
//	with TOKEN, a request without "Authorization: Bearer TOKEN" gets 401.
//
// Diagnostics go to stderr; in stdio mode stdout carries only MCP lines.

import { randomUUID } from 'node:crypto';

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import {
	CallToolRequestSchema, CompleteRequestSchema, CreateMessageResultSchema,
	ElicitResultSchema, GetPromptRequestSchema, ListPromptsRequestSchema,
	ListResourceTemplatesRequestSchema, ListResourcesRequestSchema,
	ListToolsRequestSchema, McpError, ErrorCode, ReadResourceRequestSchema,
	SubscribeRequestSchema, UnsubscribeRequestSchema, isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';

const NAME = 'mcp-broker-conformance-server';
const VERSION = '1.0.0';

// A 1x1 red PNG, and a WAV header with no samples.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw' +
    'HwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=';

const NO_ARGS = { type: 'object', properties: {} };

// One string argument named name.
function stringArg(name, description) {
	return {
		type: 'object',
		properties: { [name]: { type: 'string', description } },
		required: [name],
	};
}

const TOOLS = [
	{ name: 'test_simple_text', description: 'Return a simple text.',
	  inputSchema: NO_ARGS },
	{ name: 'test_image_content', description: 'Return a PNG image.',
	  inputSchema: NO_ARGS },
	{ name: 'test_audio_content', description: 'Return a WAV sound.',
	  inputSchema: NO_ARGS },
	{ name: 'test_embedded_resource',
	  description: 'Return an embedded text resource.',
	  inputSchema: NO_ARGS },
	{ name: 'test_multiple_content_types',
	  description: 'Return text, an image and a resource.',
	  inputSchema: NO_ARGS },
	{ name: 'test_tool_with_logging',
	  description: 'Send three log messages while it runs.',
	  inputSchema: NO_ARGS },
	{ name: 'test_tool_with_progress',
	  description: 'Report progress 0, 50 and 100 of 100.',
	  inputSchema: NO_ARGS },
	{ name: 'test_error_handling', description: 'Always fail.',
	  inputSchema: NO_ARGS },
	{ name: 'test_sampling', description: 'Ask the client for sampling.',
	  inputSchema: stringArg('prompt', 'The prompt to send to the LLM') },
	{ name: 'test_elicitation',
	  description: 'Ask the client for a username and an email.',
	  inputSchema: stringArg('message', 'The message to show the user') },
	{ name: 'test_elicitation_sep1034_defaults',
	  description: 'Elicit with a default for every primitive type.',
	  inputSchema: NO_ARGS },
	{ name: 'test_elicitation_sep1330_enums',
	  description: 'Elicit with the five kinds of enum.',
	  inputSchema: NO_ARGS },
	{ name: 'test_reconnection',
	  description: 'Close the SSE stream mid-call, then answer.',
	  inputSchema: NO_ARGS },
	{ name: 'json_schema_2020_12_tool',
	  description: 'Tool with JSON Schema 2020-12 features',
	  inputSchema: {
		$schema: 'https://json-schema.org/draft/2020-12/schema',
		type: 'object',
		$defs: {
			address: {
				type: 'object',
				properties: {
					street: { type: 'string' },
					city: { type: 'string' },
				},
			},
		},
		properties: {
			name: { type: 'string' },
			address: { $ref: '#/$defs/address' },
		},
		additionalProperties: false,
	  } },
];

const RESOURCES = [
	{ uri: 'test://static-text', name: 'static-text',
	  description: 'A static text resource.', mimeType: 'text/plain' },
	{ uri: 'test://static-binary', name: 'static-binary',
	  description: 'A static PNG resource.', mimeType: 'image/png' },
	{ uri: 'test://watched-resource', name: 'watched-resource',
	  description: 'A resource to subscribe to.', mimeType: 'text/plain' },
];

const TEMPLATES = [
	{ uriTemplate: 'test://template/{id}/data', name: 'template-data',
	  description: 'Data for an id.', mimeType: 'application/json' },
];

const PROMPTS = [
	{ name: 'test_simple_prompt', description: 'A prompt with no argument.' },
	{ name: 'test_prompt_with_arguments',
	  description: 'A prompt with two arguments.',
	  arguments: [
		{ name: 'arg1', description: 'First test argument', required: true },
		{ name: 'arg2', description: 'Second test argument', required: true },
	  ] },
	{ name: 'test_prompt_with_embedded_resource',
	  description: 'A prompt that embeds a resource.',
	  arguments: [
		{ name: 'resourceUri', description: 'URI of the resource to embed',
		  required: true },
	  ] },
	{ name: 'test_prompt_with_image', description: 'A prompt with an image.' },
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A text content block.
function text(t) {
	return { type: 'text', text: t };
}

// Ask the client for input with schema, on the request's own stream.
async function elicit(extra, message, schema) {
	return extra.sendRequest({ method: 'elicitation/create',
	    params: { message, requestedSchema: schema } }, ElicitResultSchema);
}

// Run one tool for the request; its result.
async function toolCall(server, request, extra) {
	const args = request.params.arguments ?? {};
	const token = request.params._meta?.progressToken;
	const log = (data) => extra.sendNotification({
		method: 'notifications/message',
		params: { level: 'info', logger: NAME, data },
	});
	const progress = (n) => extra.sendNotification({
		method: 'notifications/progress',
		params: { progressToken: token, progress: n, total: 100 },
	});
	let r;

	switch (request.params.name) {
	case 'test_simple_text':
		return { content: [text('This is a simple text response for ' +
		    'testing.')] };
	case 'test_image_content':
		return { content: [{ type: 'image', data: PNG,
		    mimeType: 'image/png' }] };
	case 'test_audio_content':
		return { content: [{ type: 'audio', data: WAV,
		    mimeType: 'audio/wav' }] };
	case 'test_embedded_resource':
		return { content: [{ type: 'resource', resource: {
		    uri: 'test://embedded-resource', mimeType: 'text/plain',
		    text: 'This is an embedded resource content.' } }] };
	case 'test_multiple_content_types':
		return { content: [
			text('Multiple content types test:'),
			{ type: 'image', data: PNG, mimeType: 'image/png' },
			{ type: 'resource', resource: {
			    uri: 'test://mixed-content-resource',
			    mimeType: 'application/json',
			    text: JSON.stringify({ test: 'data', value: 123 }) } },
		] };
	case 'test_tool_with_logging':
		await log('Tool execution started');
		await sleep(50);
		await log('Tool processing data');
		await sleep(50);
		await log('Tool execution completed');
		return { content: [text('Tool with logging executed ' +
		    'successfully')] };
	case 'test_tool_with_progress':
		for (const n of [0, 50, 100]) {
			if (token !== undefined)
				await progress(n);
			if (n < 100)
				await sleep(50);
		}
		return { content: [text('Tool with progress executed ' +
		    'successfully')] };
	case 'test_error_handling':
		return { isError: true, content: [text('This tool ' +
		    'intentionally returns an error for testing')] };
	case 'test_sampling':
		if (!server.getClientCapabilities()?.sampling)
			throw new McpError(ErrorCode.InvalidRequest,
			    'the client does not support sampling');
		r = await extra.sendRequest({ method: 'sampling/createMessage',
		    params: { messages: [{ role: 'user',
		    content: text(String(args.prompt)) }], maxTokens: 100 } },
		    CreateMessageResultSchema);
		return { content: [text('LLM response: ' +
		    (r.content?.text ?? JSON.stringify(r.content)))] };
	case 'test_elicitation':
		if (!server.getClientCapabilities()?.elicitation)
			throw new McpError(ErrorCode.InvalidRequest,
			    'the client does not support elicitation');
		r = await elicit(extra, String(args.message), {
			type: 'object',
			properties: {
				username: { type: 'string',
				    description: "User's response" },
				email: { type: 'string',
				    description: "User's email address" },
			},
			required: ['username', 'email'],
		});
		return { content: [text('User response: ' +
		    JSON.stringify(r))] };
	case 'test_elicitation_sep1034_defaults':
		r = await elicit(extra, 'Please review the defaults', {
			type: 'object',
			properties: {
				name: { type: 'string', default: 'John Doe' },
				age: { type: 'integer', default: 30 },
				score: { type: 'number', default: 95.5 },
				status: { type: 'string', default: 'active',
				    enum: ['active', 'inactive', 'pending'] },
				verified: { type: 'boolean', default: true },
			},
		});
		return { content: [text('Elicitation completed: action=' +
		    r.action + ', content=' + JSON.stringify(r.content ?? {}))] };
	case 'test_elicitation_sep1330_enums':
		r = await elicit(extra, 'Please choose', {
			type: 'object',
			properties: {
				untitledSingle: { type: 'string',
				    enum: ['option1', 'option2', 'option3'] },
				titledSingle: { type: 'string', oneOf: [
				    { const: 'value1', title: 'First Option' },
				    { const: 'value2', title: 'Second Option' },
				    { const: 'value3', title: 'Third Option' } ] },
				legacyEnum: { type: 'string',
				    enum: ['opt1', 'opt2', 'opt3'],
				    enumNames: ['Option One', 'Option Two',
				    'Option Three'] },
				untitledMulti: { type: 'array', items: {
				    type: 'string',
				    enum: ['option1', 'option2', 'option3'] } },
				titledMulti: { type: 'array', items: { anyOf: [
				    { const: 'value1', title: 'First Choice' },
				    { const: 'value2', title: 'Second Choice' },
				    { const: 'value3', title: 'Third Choice' } ] } },
			},
		});
		return { content: [text('Elicitation completed: action=' +
		    r.action + ', content=' + JSON.stringify(r.content ?? {}))] };
	case 'test_reconnection':
		// Over HTTP the client must come back with Last-Event-ID.
		await sleep(100);
		extra.closeSSEStream?.();
		await sleep(200);
		return { content: [text('Reconnection test completed')] };
	case 'json_schema_2020_12_tool':
		return { content: [text('JSON Schema 2020-12 tool called: ' +
		    JSON.stringify(args))] };
	default:
		throw new McpError(ErrorCode.InvalidParams,
		    `Unknown tool: ${request.params.name}`);
	}
}

// What reading uri gives.
function resourceRead(uri) {
	const m = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);

	if (uri === 'test://static-text')
		return { uri, mimeType: 'text/plain',
		    text: 'This is the content of the static text resource.' };
	if (uri === 'test://static-binary')
		return { uri, mimeType: 'image/png', blob: PNG };
	if (uri === 'test://watched-resource')
		return { uri, mimeType: 'text/plain', text: 'Watched resource.' };
	if (m !== null)
		return { uri, mimeType: 'application/json',
		    text: JSON.stringify({ id: m[1], templateTest: true,
		    data: `Data for ID: ${m[1]}` }) };
	throw new McpError(-32002, `Resource not found: ${uri}`);
}

// The messages of a prompt.
function promptGet(name, args) {
	const user = (content) => ({ role: 'user', content });

	switch (name) {
	case 'test_simple_prompt':
		return [user(text('This is a simple prompt for testing.'))];
	case 'test_prompt_with_arguments':
		return [user(text(`Prompt with arguments: arg1='${args.arg1}', ` +
		    `arg2='${args.arg2}'`))];
	case 'test_prompt_with_embedded_resource':
		return [user({ type: 'resource', resource: {
		    uri: args.resourceUri, mimeType: 'text/plain',
		    text: 'Embedded resource content for testing.' } }),
		    user(text('Please process the embedded resource above.'))];
	case 'test_prompt_with_image':
		return [user({ type: 'image', data: PNG, mimeType: 'image/png' }),
		    user(text('Please analyze the image above.'))];
	default:
		throw new McpError(ErrorCode.InvalidParams,
		    `Unknown prompt: ${name}`);
	}
}

// A new server with every handler.
function serverCreate() {
	const server = new Server({ name: NAME, version: VERSION }, {
		capabilities: {
			tools: {},
			resources: { subscribe: true },
			prompts: {},
			logging: {},
			completions: {},
		},
	});
	const subscriptions = new Set();

	server.setRequestHandler(ListToolsRequestSchema,
	    async () => ({ tools: TOOLS }));
	server.setRequestHandler(CallToolRequestSchema,
	    (request, extra) => toolCall(server, request, extra));
	server.setRequestHandler(ListResourcesRequestSchema,
	    async () => ({ resources: RESOURCES }));
	server.setRequestHandler(ListResourceTemplatesRequestSchema,
	    async () => ({ resourceTemplates: TEMPLATES }));
	server.setRequestHandler(ReadResourceRequestSchema,
	    async (request) => ({ contents: [resourceRead(request.params.uri)] }));
	server.setRequestHandler(SubscribeRequestSchema, async (request) => {
		subscriptions.add(request.params.uri);
		return {};
	});
	server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
		subscriptions.delete(request.params.uri);
		return {};
	});
	server.setRequestHandler(ListPromptsRequestSchema,
	    async () => ({ prompts: PROMPTS }));
	server.setRequestHandler(GetPromptRequestSchema, async (request) => ({
		messages: promptGet(request.params.name,
		    request.params.arguments ?? {}),
	}));
	server.setRequestHandler(CompleteRequestSchema, async (request) => {
		const prefix = request.params.argument?.value ?? '';
		const values = ['paris', 'park', 'party']
		    .filter((v) => v.startsWith(prefix));
		return { completion: { values, total: values.length,
		    hasMore: false } };
	});
	return server;
}

// Serve on stdin and stdout.
async function stdioMain() {
	await serverCreate().connect(new StdioServerTransport());
}

// Serve Streamable HTTP on 127.0.0.1:port at /mcp, one server per session.
function httpMain(port, token) {
	const app = createMcpExpressApp({ host: '127.0.0.1' });
	const transports = new Map();

	if (token !== undefined) {
		app.use((req, res, next) => {
			if (req.headers.authorization === `Bearer ${token}`)
				return next();
			res.status(401).set('WWW-Authenticate', 'Bearer').end();
		});
	}
	app.all('/mcp', async (req, res) => {
		const id = req.headers['mcp-session-id'];
		let transport = id === undefined ? undefined : transports.get(id);

		if (transport === undefined) {
			if (id !== undefined || req.method !== 'POST' ||
			    !isInitializeRequest(req.body)) {
				res.status(id === undefined ? 400 : 404).json({
				    jsonrpc: '2.0', id: null, error: {
				    code: -32000, message: 'No valid session' } });
				return;
			}
			transport = new StreamableHTTPServerTransport({
				sessionIdGenerator: () => randomUUID(),
				eventStore: new InMemoryEventStore(),
				retryInterval: 100,
				onsessioninitialized: (sid) =>
				    transports.set(sid, transport),
			});
			transport.onclose = () => {
				if (transport.sessionId !== undefined)
					transports.delete(transport.sessionId);
			};
			await serverCreate().connect(transport);
		}
		await transport.handleRequest(req, res, req.body);
	});
	app.listen(port, '127.0.0.1', (err) => {
		if (err) {
			process.stderr.write(`${NAME}: ${err.message}\n`);
			process.exit(1);
		}
		process.stderr.write(`${NAME}: listening on ` +
		    `http://127.0.0.1:${port}/mcp\n`);
	});
}

const [mode, port, token] = process.argv.slice(2);
if (mode === 'stdio') {
	stdioMain().catch((e) => {
		process.stderr.write(`${NAME}: ${e.stack}\n`);
		process.exit(1);
	});
} else if (mode === 'http' && /^[0-9]+$/.test(port ?? '')) {
	httpMain(Number(port), token);
} else {
	process.stderr.write('usage: node everything_server.mjs stdio | ' +
	    'http PORT [TOKEN]\n');
	process.exit(2);
}
