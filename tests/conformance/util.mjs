// Small helpers for run.sh, each a subcommand:
//
//   node util.mjs port
//	a TCP port on 127.0.0.1 that nobody listens on now;
//   node util.mjs expect FILE PATH VALUE
//	FILE is JSON; the value at PATH (members and indexes joined by
//	dots; a member "name=X" of an array is the element whose name is X)
//	must equal VALUE (compared as text), else say what it is and exit 1;
//   node util.mjs probe URL TOKEN
//	POST an MCP initialize to URL with the bearer TOKEN; print the
//	HTTP status;
//   node util.mjs verdict DIR
//	the verdict of one conformance scenario from the checks.json under
//	DIR: "failed" if a check failed, else "passed" if one succeeded,
//	else "no-check" (warnings and information only); then its counts.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

// Print a free port.
function cmdPort() {
	const s = net.createServer();

	s.listen(0, '127.0.0.1', () => {
		process.stdout.write(`${s.address().port}\n`);
		s.close();
	});
}

// Walk p (dot-separated) down from v.
function walk(v, p) {
	for (const step of p.split('.')) {
		if (v === undefined || v === null)
			return undefined;
		const eq = step.indexOf('=');
		if (eq !== -1 && Array.isArray(v)) {
			const [k, want] = [step.slice(0, eq), step.slice(eq + 1)];
			v = v.find((e) => String(e?.[k]) === want);
		} else
			v = v[step];
	}
	return v;
}

// Check one value of a JSON file.
function cmdExpect(file, p, want) {
	let v;

	try {
		v = walk(JSON.parse(fs.readFileSync(file, 'utf8')), p);
	} catch (e) {
		process.stderr.write(`${file}: not JSON: ${e.message}\n`);
		process.exit(1);
	}
	const got = typeof v === 'object' ? JSON.stringify(v) : String(v);
	if (got !== want) {
		process.stderr.write(`${file}: ${p} is ${got}, expected ` +
		    `${want}\n`);
		process.exit(1);
	}
}

// Print the status of an initialize POSTed to url.
async function cmdProbe(url, token) {
	const body = { jsonrpc: '2.0', id: 1, method: 'initialize', params: {
		protocolVersion: '2025-11-25', capabilities: {},
		clientInfo: { name: 'mcp-broker-conformance-probe',
		    version: '1.0.0' } } };
	let r;

	try {
		r = await fetch(url, { method: 'POST', headers: {
			'Content-Type': 'application/json',
			Accept: 'application/json, text/event-stream',
			Authorization: `Bearer ${token}`,
		}, body: JSON.stringify(body),
		    signal: AbortSignal.timeout(15000) });
	} catch (e) {
		process.stderr.write(`${url}: ${e.cause?.message ?? e.message}\n`);
		process.exit(1);
	}
	await r.body?.cancel();
	process.stdout.write(`${r.status}\n`);
}

// Print the verdict of the scenario whose results are under dir.
function cmdVerdict(dir) {
	const found = [];
	const counts = { SUCCESS: 0, FAILURE: 0, WARNING: 0 };
	const failures = [];

	const look = (d) => {
		for (const e of fs.readdirSync(d, { withFileTypes: true })) {
			const p = path.join(d, e.name);
			if (e.isDirectory())
				look(p);
			else if (e.name === 'checks.json')
				found.push(p);
		}
	};
	if (fs.existsSync(dir))
		look(dir);
	if (found.length === 0) {
		process.stdout.write('missing no checks.json\n');
		return;
	}
	for (const f of found) {
		for (const c of JSON.parse(fs.readFileSync(f, 'utf8'))) {
			if (c.status in counts)
				counts[c.status]++;
			if (c.status === 'FAILURE')
				failures.push(`${c.id}: ${c.errorMessage ?? ''}`);
		}
	}
	const verdict = counts.FAILURE > 0 ? 'failed' :
	    counts.SUCCESS > 0 ? 'passed' : 'no-check';
	process.stdout.write(`${verdict} ${counts.SUCCESS} ok, ` +
	    `${counts.FAILURE} failed, ${counts.WARNING} warnings` +
	    (failures.length > 0 ? `: ${failures.join('; ')}` : '') + '\n');
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'port' && args.length === 0)
	cmdPort();
else if (cmd === 'expect' && args.length === 3)
	cmdExpect(...args);
else if (cmd === 'probe' && args.length === 2)
	await cmdProbe(...args);
else if (cmd === 'verdict' && args.length === 1)
	cmdVerdict(...args);
else {
	process.stderr.write('usage: node util.mjs port | expect FILE PATH ' +
	    'VALUE | probe URL TOKEN | verdict DIR\n');
	process.exit(2);
}
