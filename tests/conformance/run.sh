#!/usr/bin/env bash
# make check-conformance: MCP's own tools against the broker, on the Node 22
# pinned in tests/conformance/package-lock.json.
#
# 1. The MCP Inspector CLI with `mcp-brokerctl bridge` as its stdio server,
#    against the real daemon: the fixture (build/tests/fake-mcp), the
#    conformance scenarios' server (everything_server.mjs stdio) and the
#    real server-everything (tests/interop). Every check must pass.
# 2. The conformance suite's server scenarios, first against each server
#    on its own SDK's Streamable HTTP transport (a scenario that fails
#    there does not apply), then, when the daemon serves
#    /mcp/{server}/{thread} on its HTTP listener, against both servers
#    behind the broker. Every run goes through bearer_proxy.mjs, which
#    adds the bearer token the suite's CLI cannot send.
#
# Prints a table of scenarios and a closing "N passed, N failed" line;
# exits 1 if an Inspector check failed, the suite could not run, or a
# scenario that passes on a server's own transport fails behind the
# broker. server-everything missing (tests/interop's npm packages) is a
# skip, and a failure with MCPB_REQUIRE_INTEROP=1.
set -uo pipefail

top=${MCPB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MCPB_BUILD:-$top/build}
here=$top/tests/conformance
node22=$here/node_modules/.bin/node
everything_js=$top/tests/interop/node_modules/@modelcontextprotocol/server-everything/dist/index.js
# How long one Inspector run, and the whole suite against one server, may take.
INSPECTOR_S=60
SUITE_S=600
# How long a server or the daemon gets to start answering.
START_S=20

die() {
	echo "check-conformance: $*" >&2
	exit 1
}

[ -x "$node22" ] || die "$node22 is missing: run \`make check-conformance\`" \
    "(it runs npm ci in tests/conformance)"
case $("$node22" --version) in
v22.*) ;;
*) die "$node22 is $("$node22" --version), not Node 22" ;;
esac
for b in mcp-brokerd mcp-brokerctl tests/fake-mcp; do
	[ -x "$build/$b" ] || die "$build/$b is missing: run \`make tests\`"
done
export PATH="$here/node_modules/.bin:$PATH"

work=$(mktemp -d /tmp/mcpb-conf.XXXXXX) || die "mktemp failed"
# The Inspector keeps a catalog and secrets under ~/.mcp-inspector.
export HOME=$work/home
mkdir -p "$HOME"
pids=()
passed=0
failed=0
skipped=0

cleanup() {
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ "$failed" -eq 0 ]; then
		rm -rf "$work"
	else
		echo "check-conformance: logs and results kept in $work" >&2
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() {
	echo "ok: $*"
	passed=$((passed + 1))
}

fail() {
	echo "FAILED: $*" >&2
	failed=$((failed + 1))
}

skip() {
	echo "SKIPPED: $*" >&2
	skipped=$((skipped + 1))
}

util() {
	node "$here/util.mjs" "$@"
}

# Wait until url answers an initialize with 200, or START_S passes.
wait_http() {
	local url=$1 token=$2 i

	for ((i = 0; i < START_S * 10; i++)); do
		[ "$(util probe "$url" "$token" 2>/dev/null)" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}

# Start bearer_proxy.mjs in front of port; its own port in proxy_port.
nproxies=0
proxy_start() {
	local out=$work/proxy-$nproxies.port i

	nproxies=$((nproxies + 1))
	node "$here/bearer_proxy.mjs" "$1" "$token" >"$out" \
	    2>>"$work/proxy.log" &
	pids+=($!)
	for ((i = 0; i < START_S * 10; i++)); do
		proxy_port=$(head -n 1 "$out")
		[ -n "$proxy_port" ] && return 0
		sleep 0.1
	done
	return 1
}

token=conformance-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
user=$(id -un)

# --- The daemon: the three servers on a socket and an HTTP listener -------

sock=$work/broker.sock
broker_port=$(util port)
printf '%s %s\n' "$user" "$token" >"$work/tokens"
chmod 600 "$work/tokens"
caps='"client_capabilities":{"sampling":{},"elicitation":{}}'
have_everything=0
[ -f "$everything_js" ] && have_everything=1
{
	printf '{"broker":{"socket":"%s","http":{"listen":["127.0.0.1:%s"],' \
	    "$sock" "$broker_port"
	printf '"tokens_file":"%s"}},"mcpServers":{' "$work/tokens"
	printf '"fake":{"command":"%s"},' "$build/tests/fake-mcp"
	printf '"conformance":{"command":"%s","args":["%s","stdio"],%s}' \
	    "$node22" "$here/everything_server.mjs" "$caps"
	if [ "$have_everything" = 1 ]; then
		printf ',"everything":{"command":"%s","args":["%s","stdio"],%s}' \
		    "$node22" "$everything_js" "$caps"
	fi
	printf '}}\n'
} >"$work/broker.json"
"$build/mcp-brokerd" --config "$work/broker.json" --log-level debug \
    >"$work/daemon.log" 2>&1 &
daemon=$!
pids+=("$daemon")
for ((i = 0; i < START_S * 10; i++)); do
	"$build/mcp-brokerctl" --socket "$sock" status >/dev/null 2>&1 && break
	kill -0 "$daemon" 2>/dev/null || break
	sleep 0.1
done
if ! "$build/mcp-brokerctl" --socket "$sock" status >/dev/null 2>&1; then
	tail -n 30 "$work/daemon.log" >&2
	failed=1
	die "mcp-brokerd did not start on $sock"
fi

# --- 1. The Inspector CLI through the stdio bridge --------------------------

# inspect NAME SERVER THREAD ARGS...: run the Inspector CLI with the bridge
# to SERVER THREAD as its server; its JSON in $work/NAME.json.
inspect() {
	local name=$1 server=$2 thread=$3

	shift 3
	timeout "$INSPECTOR_S" mcp-inspector --cli --format json \
	    "$build/mcp-brokerctl" --socket "$sock" bridge "$server" "$thread" \
	    "$@" >"$work/$name.json" 2>"$work/$name.err"
}

# expect_call NAME SERVER THREAD PATH VALUE ARGS...: one Inspector run whose
# JSON has VALUE at PATH.
expect_call() {
	local name=$1 server=$2 thread=$3 p=$4 want=$5 rc

	shift 5
	inspect "$name" "$server" "$thread" "$@"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "inspector $* on $server/$thread exited $rc:" \
		    "$(head -c 2000 "$work/$name.err")"
	elif util expect "$work/$name.json" "$p" "$want"; then
		ok "inspector $* on $server/$thread: $p = $want"
	else
		fail "inspector $* on $server/$thread"
	fi
}

echo "== The MCP Inspector CLI through mcp-brokerctl bridge"
expect_call fake-list fake t1 result.tools.name=echo.description \
    "Return the text given." --method tools/list
expect_call fake-echo fake t1 result.content.0.text hi \
    --method tools/call --tool-name echo --tool-arg text=hi
# Two hosts one after the other reach the same session.
expect_call fake-count1 fake t1 result.structuredContent.count 1 \
    --method tools/call --tool-name counter
expect_call fake-count2 fake t1 result.structuredContent.count 2 \
    --method tools/call --tool-name counter
expect_call fake-count-t2 fake t2 result.structuredContent.count 1 \
    --method tools/call --tool-name counter

expect_call conf-list conformance t1 \
    'result.tools.name=json_schema_2020_12_tool.inputSchema.$schema' \
    https://json-schema.org/draft/2020-12/schema --method tools/list
expect_call conf-text conformance t1 result.content.0.text \
    "This is a simple text response for testing." \
    --method tools/call --tool-name test_simple_text
# A tool's isError result reaches the host as it is: the Inspector's exit 5.
inspect conf-error conformance t1 --method tools/call \
    --tool-name test_error_handling
rc=$?
if [ "$rc" = 5 ] && grep -q '"tool_is_error"' "$work/conf-error.err"; then
	ok "inspector: test_error_handling on conformance/t1 is isError (exit 5)"
else
	fail "inspector: test_error_handling on conformance/t1 exited $rc:" \
	    "$(head -c 2000 "$work/conf-error.err")"
fi
expect_call conf-resource conformance t1 result.contents.0.text \
    "This is the content of the static text resource." \
    --method resources/read --uri test://static-text
expect_call conf-prompt conformance t1 result.messages.0.content.text \
    "Prompt with arguments: arg1='hello', arg2='world'" \
    --method prompts/get --prompt-name test_prompt_with_arguments \
    --prompt-args arg1=hello arg2=world

if [ "$have_everything" = 1 ]; then
	expect_call every-echo everything t1 result.content.0.text "Echo: hi" \
	    --method tools/call --tool-name echo --tool-arg message=hi
elif [ "${MCPB_REQUIRE_INTEROP:-0}" = 1 ]; then
	fail "$everything_js is missing (MCPB_REQUIRE_INTEROP=1):" \
	    "run \`make npm-deps\`"
else
	skip "server-everything is not installed: run \`make npm-deps\`"
fi

# A server the broker does not have: the Inspector fails, naming it.
if inspect nosuch nosuch t1 --method tools/list; then
	fail "inspector on the unknown server nosuch exited 0"
elif grep -q nosuch "$work/nosuch.err" "$work/nosuch.json"; then
	ok "inspector on the unknown server nosuch fails and names it"
else
	fail "inspector on nosuch: the error does not name the server:" \
	    "$(head -c 2000 "$work/nosuch.err")"
fi

# The bridges are gone; the sessions they used keep running.
"$build/mcp-brokerctl" --socket "$sock" status --json >"$work/status.json" \
    2>&1
for key in fake/t1 fake/t2 conformance/t1; do
	if node -e 'const s = JSON.parse(require("fs").readFileSync(
	    process.argv[1], "utf8")); const [sv, th] = process.argv[2]
	    .split("/"); process.exit(JSON.stringify(s).includes(
	    `"server":"${sv}","thread":"${th}"`) ? 0 : 1)' \
	    "$work/status.json" "$key"; then
		ok "session $key still runs after its bridges exited"
	else
		fail "session $key is not in mcp-brokerctl status --json:" \
		    "$(head -c 2000 "$work/status.json")"
	fi
done

# --- 2. The conformance suite's server scenarios ---------------------------

mapfile -t scenarios < <(conformance list --server 2>/dev/null |
    sed -n 's/^  - \([^ ]*\).*/\1/p')
if [ "${#scenarios[@]}" -eq 0 ]; then
	fail "conformance list --server listed no scenario"
	exit 1
fi

declare -A verdict detail

# suite LABEL URL: every server scenario against URL, a verdict per
# scenario in verdict[LABEL/scenario]; 1 if the suite itself did not run.
suite() {
	local label=$1 url=$2 s d v

	echo "== conformance server --suite all --url $url ($label)"
	timeout "$SUITE_S" conformance server --suite all --url "$url" \
	    -o "$work/results/$label" >"$work/suite-$label.log" 2>&1
	grep -E '^(Total|[^ ]+ [a-z0-9-]+: [0-9]+ passed)' \
	    "$work/suite-$label.log" | tail -n 1
	for s in "${scenarios[@]}"; do
		d=$(ls -d "$work/results/$label/server-$s-"[0-9]* 2>/dev/null |
		    head -n 1)
		v=$(util verdict "${d:-$work/none}")
		verdict[$label/$s]=${v%% *}
		detail[$label/$s]=${v#* }
	done
	[ -d "$work/results/$label" ]
}

# own LABEL PORT: run the suite on a server's own transport at PORT/mcp.
own() {
	local label=$1 port=$2

	if ! wait_http "http://127.0.0.1:$port/mcp" "$token"; then
		fail "$label does not answer on http://127.0.0.1:$port/mcp"
		return
	fi
	if ! proxy_start "$port"; then
		fail "bearer_proxy.mjs did not start for $label"
		return
	fi
	suite "$label-own" "http://127.0.0.1:$proxy_port/mcp" ||
	    fail "the suite did not run against $label on its own transport"
}

port=$(util port)
node "$here/everything_server.mjs" http "$port" "$token" \
    >>"$work/conformance-http.log" 2>&1 &
pids+=($!)
own conformance "$port"
# The token is checked, so it was bearer_proxy.mjs that sent it.
status=$(util probe "http://127.0.0.1:$port/mcp" wrong-token 2>&1)
if [ "$status" = 401 ]; then
	ok "everything_server.mjs http refuses a wrong token, so the" \
	    "suite's token came from bearer_proxy.mjs"
else
	fail "everything_server.mjs http answered $status to a wrong token"
fi
if [ "$have_everything" = 1 ]; then
	port=$(util port)
	PORT=$port node "$everything_js" streamableHttp \
	    >>"$work/everything-http.log" 2>&1 &
	pids+=($!)
	own everything "$port"
fi

# The daemon serves MCP over HTTP: an initialize must be answered.
url=http://127.0.0.1:$broker_port/mcp/conformance/t1
status=$(util probe "$url" "$token" 2>&1)
serves=0
case $status in
200)	serves=1 ;;
*)	fail "POST initialize to $url: $status" ;;
esac

# --- The MCP Inspector CLI over HTTP, with the bearer token ------------------

# expect_http NAME SERVER THREAD PATH VALUE ARGS...: one Inspector run over
# Streamable HTTP to /mcp/SERVER/THREAD whose JSON has VALUE at PATH.
expect_http() {
	local name=$1 server=$2 thread=$3 p=$4 want=$5 rc

	shift 5
	timeout "$INSPECTOR_S" mcp-inspector --cli --format json \
	    --transport http \
	    --server-url "http://127.0.0.1:$broker_port/mcp/$server/$thread" \
	    --header "Authorization: Bearer $token" "$@" \
	    >"$work/$name.json" 2>"$work/$name.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "inspector over HTTP $* on $server/$thread exited $rc:" \
		    "$(head -c 2000 "$work/$name.err")"
	elif util expect "$work/$name.json" "$p" "$want"; then
		ok "inspector over HTTP $* on $server/$thread: $p = $want"
	else
		fail "inspector over HTTP $* on $server/$thread"
	fi
}

if [ "$serves" = 1 ]; then
	echo "== The MCP Inspector CLI over HTTP"
	expect_http http-list fake t1 result.tools.name=echo.description \
	    "Return the text given." --method tools/list
	expect_http http-echo fake t1 result.content.0.text hi \
	    --method tools/call --tool-name echo --tool-arg text=hi
	expect_http http-conformance conformance t1 result.content.0.text \
	    "This is a simple text response for testing." \
	    --method tools/call --tool-name test_simple_text
fi
servers=(conformance)
[ "$have_everything" = 1 ] && servers+=(everything)
if [ "$serves" = 1 ]; then
	if proxy_start "$broker_port"; then
		for sv in "${servers[@]}"; do
			suite "$sv-broker" \
			    "http://127.0.0.1:$proxy_port/mcp/$sv/t1" ||
			    fail "the suite did not run against $sv behind" \
			    "the broker"
		done
	else
		fail "bearer_proxy.mjs did not start for the daemon"
	fi
fi

# The table: each scenario on each server's own transport and behind the
# broker.
failures=()
echo
printf '%-30s' scenario
for sv in "${servers[@]}"; do
	printf ' %-22s %-22s' "$sv: own HTTP" "$sv: broker"
done
printf '\n'
for s in "${scenarios[@]}"; do
	printf '%-30s' "$s"
	for sv in "${servers[@]}"; do
		o=${verdict[$sv-own/$s]:-missing}
		b=${verdict[$sv-broker/$s]:-}
		if [ "$serves" = 0 ]; then
			b="not run"
		elif [ "$o" = failed ] || [ "$o" = missing ]; then
			b="n/a (own $o)"
		elif [ "$b" = failed ] || [ "$b" = missing ]; then
			failures+=("$s on $sv behind the broker: $b${detail[$sv-broker/$s]:+: ${detail[$sv-broker/$s]}}")
		else
			passed=$((passed + 1))
		fi
		[ "$serves" = 0 ] && skipped=$((skipped + 1))
		printf ' %-22s %-22s' "$o" "${b:-missing}"
	done
	printf '\n'
done
for f in "${failures[@]}"; do
	fail "$f"
done
[ "$serves" = 0 ] && echo "(not run: the daemon does not serve" \
    "/mcp/{server}/{thread} yet)"
echo
echo "check-conformance: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
