// An HTTP proxy that adds "Authorization: Bearer TOKEN" to every request,
// for clients that cannot send a header of their own (the conformance
// suite's CLI has no such option). It listens on 127.0.0.1, a free port,
// and prints that port on stdout once it accepts; each request goes to
// http://127.0.0.1:PORT with its method, path, headers (Host and Origin as
// the client sent them) and body unchanged, and the answer comes back as
// it arrives, event streams included.
//
// usage: node bearer_proxy.mjs PORT TOKEN

import http from 'node:http';

const [portText, token] = process.argv.slice(2);
if (!/^[0-9]+$/.test(portText ?? '') || !token) {
	process.stderr.write('usage: node bearer_proxy.mjs PORT TOKEN\n');
	process.exit(2);
}
const port = Number(portText);

// Pass one request on to the target and its answer back.
function proxyForward(req, res) {
	const headers = { ...req.headers, authorization: `Bearer ${token}` };
	const upstream = http.request({ host: '127.0.0.1', port,
	    method: req.method, path: req.url, headers }, (answer) => {
		res.writeHead(answer.statusCode, answer.statusMessage,
		    answer.headers);
		res.flushHeaders();
		answer.pipe(res);
	});

	upstream.on('error', (e) => {
		if (!res.headersSent)
			res.writeHead(502, { 'Content-Type': 'text/plain' });
		res.end(`bearer_proxy: 127.0.0.1:${port}: ${e.message}\n`);
	});
	// A client that goes away takes its upstream request with it.
	res.on('close', () => upstream.destroy());
	req.pipe(upstream);
}

const server = http.createServer(proxyForward);
server.listen(0, '127.0.0.1', () => {
	process.stdout.write(`${server.address().port}\n`);
});
