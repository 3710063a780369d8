#!/usr/bin/env bash
# The steps of the repository's GitHub Action (action.yml), as a script a test runs locally.
#
#   deploy/action.sh start   install (unless INPUT_INSTALL=false), serve in the background,
#                            wait for health, write url, ws-url, token to $GITHUB_OUTPUT
#   deploy/action.sh stop    SIGTERM the server started here, wait, show its log's tail
#
# Inputs (the action's `with:`, as GitHub passes them): INPUT_SCENARIO (a bundled name or a
# file; default "default"), INPUT_PORT (0: a free one), INPUT_PACKAGE (what pip installs;
# default: this checkout), INPUT_INSTALL (false: use CADENZA_PYTHON's cadenza_mock as it
# is), INPUT_TIMEOUT (seconds to wait for health), INPUT_ARGS (more `serve` flags),
# INPUT_ADMIN_TOKEN (the admin API's token; none: open, as on any loopback server).
# CADENZA_ACTION_DIR (default $RUNNER_TEMP/cadenza-mock) holds the venv, pid and log.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
dir=${CADENZA_ACTION_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/cadenza-mock}
output=${GITHUB_OUTPUT:-/dev/stdout}

fail() {
  echo "::error title=cadenza-mock::$*" >&2
  exit 1
}

start() {
  local scenario=${INPUT_SCENARIO:-default} port=${INPUT_PORT:-0}
  local timeout=${INPUT_TIMEOUT:-30} python=${CADENZA_PYTHON:-python3}
  [[ $port =~ ^[0-9]+$ ]] || fail "port must be a number (0: a free one), got '$port'"
  [[ $timeout =~ ^[0-9]+$ ]] || fail "timeout must be whole seconds, got '$timeout'"
  mkdir -p "$dir"
  if [ -n "${INPUT_ADMIN_TOKEN:-}" ]; then
    echo "::add-mask::$INPUT_ADMIN_TOKEN"
    export CADENZA_MOCK_ADMIN_TOKEN=$INPUT_ADMIN_TOKEN
  fi
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    fail "a cadenza-mock started by this action is running already (pid $(cat "$dir/pid"))"
  fi
  if [ "${INPUT_INSTALL:-true}" != "false" ]; then
    "$python" -m venv "$dir/venv"
    "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "${INPUT_PACKAGE:-$here}"
    python="$dir/venv/bin/python"
  fi
  # shellcheck disable=SC2086  # INPUT_ARGS is a list of flags, split on purpose
  nohup "$python" -m cadenza_mock serve --host 127.0.0.1 --port "$port" \
    --scenario "$scenario" ${INPUT_ARGS:-} >"$dir/serve.log" 2>&1 &
  echo $! >"$dir/pid"
  local url="" waited=0
  while [ -z "$url" ]; do
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      cat "$dir/serve.log" >&2
      rm -f "$dir/pid"
      fail "cadenza-mock exited before it answered (its output is above)"
    fi
    # The banner's admin line names the port it bound (port 0 picks a free one).
    url=$(sed -n 's|^ *admin *\(http://[^/ ]*\)/__admin/health.*|\1|p' "$dir/serve.log" | head -n 1)
    if [ -z "$url" ]; then
      [ "$waited" -lt $((timeout * 10)) ] || fail "cadenza-mock did not start within ${timeout}s"
      sleep 0.1
      waited=$((waited + 1))
    fi
  done
  # Health, then the scenario's first user's first token, through the admin API.
  local token
  token=$("$python" - "$url" "$timeout" <<'PY'
import json, sys, time, urllib.request
url, timeout = sys.argv[1], float(sys.argv[2])
import os
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
opener.addheaders = [("X-Admin-Token", os.environ.get("CADENZA_MOCK_ADMIN_TOKEN", ""))]
end = time.monotonic() + timeout
while True:
    try:
        with opener.open(url + "/__admin/health", timeout=5) as answer:
            if answer.status == 200:
                break
    except OSError:
        if time.monotonic() > end:
            sys.exit(f"cadenza-mock at {url} did not answer /__admin/health within {timeout:g}s")
        time.sleep(0.1)
with opener.open(url + "/__admin/scenario", timeout=10) as answer:
    users = json.load(answer)["data"]["users"]
print(next((t for u in users for t in u["tokens"]), ""))
PY
  ) || fail "cadenza-mock did not become healthy"
  {
    echo "url=$url"
    echo "ws-url=${url/http:/ws:}/connection/websocket"
    echo "token=$token"
    echo "pid=$(cat "$dir/pid")"
  } >>"$output"
  echo "cadenza-mock $scenario at $url (log: $dir/serve.log)" >&2
}

stop() {
  [ -f "$dir/pid" ] || { echo "no cadenza-mock started by this action" >&2; return 0; }
  local pid
  pid=$(cat "$dir/pid")
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$dir/pid"
  echo "cadenza-mock stopped; the last lines of its log:" >&2
  tail -n 20 "$dir/serve.log" >&2 || true
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  *) fail "usage: $0 start|stop" ;;
esac
