#!/usr/bin/env bash
# Opt-in smoke test of the container image (not part of CI): build it with podman, run it,
# talk to it, and check that it stops cleanly on SIGTERM.
#
#   scripts/container-smoke.sh
#
# Environment knobs:
#   PORT=18080          host port for the first container (the second uses PORT+1)
#   BASE_IMAGE=...      base for both stages; default: a local Debian bookworm image made
#                       with debootstrap (for machines without a container registry)
#   IMAGE=...           tag to build (default localhost/cadenza-mock:smoke)
#   TOKEN=...           bearer token for the API call if /__admin/scenario cannot tell us
#   BUILD_CA=FILE       CA bundle mounted into the build only (default: the host bundle);
#                       set BUILD_CA= to mount nothing
#   WAIT_TRIES=200      health polls, 0.05 s apart, before giving up
#   STOP_LIMIT=2.0      seconds `podman stop` may take before we call SIGTERM unhandled
#
# It needs root (or sudo) to install podman, runc and debootstrap when they are missing.
# It only stops and removes the containers (and the volume) it started, by id.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${PORT:-18080}
PORT2=$((PORT + 1))
IMAGE=${IMAGE:-localhost/cadenza-mock:smoke}
LOCAL_BASE=localhost/cadenza-base:bookworm
BASE_IMAGE=${BASE_IMAGE:-$LOCAL_BASE}
WAIT_TRIES=${WAIT_TRIES:-200}
STOP_LIMIT=${STOP_LIMIT:-2.0}
BUILD_CA=${BUILD_CA-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}

log() { printf '==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

WORK=$(mktemp -d)
STARTED=()
VOLUMES=()
cleanup() {
  local id
  for id in "${STARTED[@]}"; do
    podman rm -f -t 0 "$id" >/dev/null 2>&1 || true
  done
  for id in "${VOLUMES[@]}"; do
    podman volume rm -f "$id" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# podman without systemd logs an error for the periodic healthcheck timer; it is harmless.
quiet_podman() { podman "$@" 2> >(grep -v 'systemd connection' >&2); }

# --- tools -----------------------------------------------------------------------------
missing=()
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi

# Root here cannot raise rlimits and crun refuses hybrid cgroups: lower limits, use runc.
export CONTAINERS_CONF=$WORK/containers.conf
printf '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\n' \
  >"$CONTAINERS_CONF"

# --- base image ------------------------------------------------------------------------
if [ "$BASE_IMAGE" = "$LOCAL_BASE" ] && ! podman image exists "$LOCAL_BASE"; then
  log "building $LOCAL_BASE with debootstrap (about a minute)"
  MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  $SUDO debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
  $SUDO tar -C "$WORK/rootfs" -c . | podman import --quiet - "$LOCAL_BASE" >/dev/null
  $SUDO rm -rf "$WORK/rootfs"
fi

# --- build -----------------------------------------------------------------------------
build_args=(--pull=never --isolation chroot --format docker
  --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE")
if [ -n "$BUILD_CA" ] && [ -f "$BUILD_CA" ]; then
  # pip inside the build may need the host's CA bundle; mounted, so it never lands in a layer
  build_args+=(-v "$BUILD_CA:/etc/ssl/certs/ca-certificates.crt:ro")
fi
log "building $IMAGE from $BASE_IMAGE"
t0=$(now)
podman build "${build_args[@]}" "$REPO" >"$WORK/build.log" 2>&1 \
  || { tail -40 "$WORK/build.log" >&2; fail "image build failed"; }
t1=$(now)
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
log "built in $(elapsed "$t0" "$t1") s; image size $((size / 1000000)) MB"

# --- helpers ---------------------------------------------------------------------------
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_health ID PORT [ADMIN_TOKEN]: poll /__admin/health until it answers 200
wait_health() {
  local id=$1 port=$2 admin=${3:-} i
  for ((i = 0; i < WAIT_TRIES; i++)); do
    if curl -fsS -o /dev/null -H "X-Admin-Token: $admin" \
      "http://127.0.0.1:$port/__admin/health" 2>/dev/null; then
      return 0
    fi
    if [ "$(podman inspect --format '{{.State.Running}}' "$id")" != "true" ]; then
      podman logs "$id" >&2 || true
      fail "container $id exited before answering /__admin/health"
    fi
    sleep 0.05
  done
  podman logs "$id" >&2 || true
  fail "no answer from /__admin/health on port $port after $WAIT_TRIES tries"
}

# first_token JSON: the first bearer token found in an /__admin/scenario document
first_token() {
  python3 -c '
import json, sys
def walk(o):
    if isinstance(o, dict):
        for k in ("tokens", "token"):
            v = o.get(k)
            if isinstance(v, list) and v and isinstance(v[0], str):
                return v[0]
            if isinstance(v, str) and v:
                return v
        for v in o.values():
            t = walk(v)
            if t:
                return t
    elif isinstance(o, list):
        for v in o:
            t = walk(v)
            if t:
                return t
    return None
try:
    print(walk(json.load(sys.stdin)) or "")
except ValueError:
    print("")
'
}

# token_for PORT: TOKEN if given, else what /__admin/scenario says, else the default's
token_for() {
  local port=$1 body tok
  if [ -n "${TOKEN:-}" ]; then printf '%s' "$TOKEN"; return; fi
  body=$(curl -fsS "http://127.0.0.1:$port/__admin/scenario" 2>/dev/null || true)
  log "GET /__admin/scenario -> $(printf '%s' "$body" | head -c 200)" >&2
  tok=$(printf '%s' "$body" | first_token)
  printf '%s' "${tok:-alice-token}"
}

# check_api PORT TOKEN: the credential list answers 200 for that token
check_api() {
  local port=$1 token=$2 code
  code=$(curl -sS -o "$WORK/list-$port.json" -w '%{http_code}' \
    -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v3/credential/list")
  log "GET /api/v3/credential/list (token $token) -> $code: $(head -c 300 "$WORK/list-$port.json")"
  [ "$code" = 200 ] || fail "credential list answered $code"
}

# stop_timed ID: podman stop, report the time taken and the exit code
stop_timed() {
  local id=$1 s e took code
  s=$(now)
  quiet_podman stop -t 5 "$id" >/dev/null
  e=$(now)
  took=$(elapsed "$s" "$e")
  code=$(podman inspect --format '{{.State.ExitCode}}' "$id")
  log "podman stop took $took s; exit code $code"
  awk -v t="$took" -v l="$STOP_LIMIT" 'BEGIN { exit !(t <= l) }' \
    || fail "stop took $took s (> $STOP_LIMIT s): SIGTERM is not handled"
  [ "$code" = 0 ] || log "warning: exit code $code after SIGTERM (expected 0)"
  log "container log:"
  podman logs "$id" 2>&1 | sed 's/^/    /'
}

# --- run 1: the bundled default scenario -------------------------------------------------
port_free "$PORT" || fail "port $PORT is in use (set PORT=...)"
log "run 1: default scenario on 127.0.0.1:$PORT (configured by CADENZA_MOCK_HOST/PORT)"
t0=$(now)
ID=$(quiet_podman run -d --network host \
  -e CADENZA_MOCK_HOST=127.0.0.1 -e "CADENZA_MOCK_PORT=$PORT" "$IMAGE")
STARTED+=("$ID")
wait_health "$ID" "$PORT"
t1=$(now)
log "container ${ID:0:12}: start to first 200 in $(elapsed "$t0" "$t1") s"
log "GET /__admin/health -> $(curl -fsS "http://127.0.0.1:$PORT/__admin/health")"
log "runs as uid $(podman exec "$ID" id -u)"
TOK=$(token_for "$PORT")
check_api "$PORT" "$TOK"
podman healthcheck run "$ID" >/dev/null || fail "podman healthcheck run reported unhealthy"
log "podman healthcheck run: healthy"
# a namespace: created, reached by its prefixed token and by its base URL, then deleted
NS=$(curl -fsS -X POST "http://127.0.0.1:$PORT/__admin/namespaces?namespace=smoke&name=empty") \
  || fail "POST /__admin/namespaces failed"
log "POST /__admin/namespaces -> $(printf '%s' "$NS" | head -c 300)"
check_api "$PORT" "smoke.$TOK"
grep -q '"data":\[\]' "$WORK/list-$PORT.json" || fail "the namespace's list is not its own (empty)"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" \
  "http://127.0.0.1:$PORT/__ns/smoke/api/v3/credential/list")
[ "$code" = 200 ] || fail "the namespace's base URL answered $code"
curl -fsS -X DELETE "http://127.0.0.1:$PORT/__admin/namespaces/smoke" >/dev/null \
  || fail "DELETE /__admin/namespaces/smoke failed"
log "namespace smoke: own list, base URL 200, deleted"
stop_timed "$ID"

# --- run 2: a scenario mounted from a folder ---------------------------------------------
SCEN=$WORK/scenarios
mkdir -p "$SCEN"
MARKER="container smoke test mounted scenario"
if [ -f "$REPO/scenarios/empty.yaml" ]; then
  sed "s/^description:.*/description: $MARKER/" "$REPO/scenarios/empty.yaml" >"$SCEN/x.yaml"
else
  cat >"$SCEN/x.yaml" <<YAML
description: $MARKER
seed: 1
users:
  - email: smoke@example.com
    password: smoke
    tokens: [alice-token]
YAML
fi
# the image runs as an unprivileged user: the folder must be world-readable
chmod 755 "$SCEN" && chmod 644 "$SCEN/x.yaml"
port_free "$PORT2" || fail "port $PORT2 is in use (set PORT=...)"
ADMIN=smoke-admin-token
log "run 2: mounted $SCEN as /scenarios, CADENZA_MOCK_SCENARIO=/scenarios/x.yaml," \
  "CADENZA_MOCK_ADMIN_TOKEN set, port $PORT2"
t0=$(now)
ID2=$(quiet_podman run -d --network host -v "$SCEN:/scenarios:ro" \
  -e CADENZA_MOCK_SCENARIO=/scenarios/x.yaml -e "CADENZA_MOCK_ADMIN_TOKEN=$ADMIN" \
  -e CADENZA_MOCK_HOST=127.0.0.1 -e "CADENZA_MOCK_PORT=$PORT2" "$IMAGE")
STARTED+=("$ID2")
wait_health "$ID2" "$PORT2" "$ADMIN"
t1=$(now)
log "container ${ID2:0:12}: start to first 200 in $(elapsed "$t0" "$t1") s"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT2/__admin/scenario")
log "GET /__admin/scenario without X-Admin-Token -> $code"
[ "$code" = 401 ] || fail "admin API answered $code without the admin token, expected 401"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT2/__admin/health")
log "GET /__admin/health without X-Admin-Token -> $code (health stays open for probes)"
[ "$code" = 200 ] || fail "health answered $code without the admin token, expected 200"
SC=$(curl -fsS -H "X-Admin-Token: $ADMIN" "http://127.0.0.1:$PORT2/__admin/scenario" \
  2>/dev/null || true)
log "GET /__admin/scenario -> $(printf '%s' "$SC" | head -c 300)"
TOK2=$(printf '%s' "$SC" | first_token)
check_api "$PORT2" "${TOK2:-${TOKEN:-alice-token}}"
# prove the mounted file was loaded, not the bundled default
if printf '%s' "$SC" | grep -qF "$MARKER"; then
  log "the server reports the mounted scenario"
elif ! cmp -s "$WORK/list-$PORT.json" "$WORK/list-$PORT2.json"; then
  log "the credential list differs from the default scenario's: the mounted scenario is in use"
else
  fail "same answer as the default scenario: CADENZA_MOCK_SCENARIO seems to be ignored"
fi
podman healthcheck run "$ID2" >/dev/null \
  || fail "podman healthcheck run reported unhealthy with an admin token set"
log "podman healthcheck run (admin token set): healthy"
stop_timed "$ID2"

# --- run 3: the image's own defaults (0.0.0.0:8080), no host network --------------------
# --network none keeps port 8080 off the host; only the HEALTHCHECK can reach the server.
log "run 3: defaults (CMD serve, 0.0.0.0:8080) in --network none, probed by the HEALTHCHECK"
t0=$(now)
ID3=$(quiet_podman run -d --network none "$IMAGE")
STARTED+=("$ID3")
healthy=
for ((i = 0; i < 40; i++)); do
  if podman healthcheck run "$ID3" >/dev/null 2>&1; then healthy=1; break; fi
  [ "$(podman inspect --format '{{.State.Running}}' "$ID3")" = "true" ] || break
  sleep 0.25
done
[ -n "$healthy" ] || { podman logs "$ID3" >&2 || true; fail "image defaults never became healthy"; }
t1=$(now)
log "container ${ID3:0:12}: healthy (HEALTHCHECK) $(elapsed "$t0" "$t1") s after start"
# 0.0.0.0 without an admin token: the admin API is off (403), health and the API answer
code=$(podman exec "$ID3" python3 -c "import urllib.request as u, urllib.error as e
try:
    u.build_opener(u.ProxyHandler({})).open(u.Request('http://127.0.0.1:8080/__admin/reset', method='POST'), timeout=4)
    print(200)
except e.HTTPError as x:
    print(x.code)")
log "POST /__admin/reset with the image defaults -> $code"
[ "$code" = 403 ] || fail "the image's admin API answered $code without a token, expected 403"
stop_timed "$ID3"

# --- run 4: HTTPS (CADENZA_MOCK_TLS), the CA bundle written to a mounted folder ------------
PORT3=$((PORT + 2))
TLSDIR=$WORK/tls
mkdir -p "$TLSDIR" && chmod 777 "$TLSDIR"  # the image's unprivileged user writes the bundle
port_free "$PORT3" || fail "port $PORT3 is in use (set PORT=...)"
log "run 4: CADENZA_MOCK_TLS=1, CA bundle to a mounted folder, port $PORT3"
ID4=$(quiet_podman run -d --network host -v "$TLSDIR:/tls" \
  -e CADENZA_MOCK_TLS=1 -e CADENZA_MOCK_TLS_CA_FILE=/tls/ca.pem \
  -e CADENZA_MOCK_HOST=127.0.0.1 -e "CADENZA_MOCK_PORT=$PORT3" "$IMAGE")
STARTED+=("$ID4")
for ((i = 0; i < WAIT_TRIES; i++)); do
  [ -s "$TLSDIR/ca.pem" ] && curl -fsS -o /dev/null --cacert "$TLSDIR/ca.pem" \
    "https://127.0.0.1:$PORT3/__admin/health" 2>/dev/null && break
  sleep 0.05
done
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$TLSDIR/ca.pem" \
  -H "Authorization: Bearer ${TOKEN:-alice-token}" "https://127.0.0.1:$PORT3/api/v3/credential/list")
log "GET https://127.0.0.1:$PORT3/api/v3/credential/list (verified with the CA bundle) -> $code"
[ "$code" = 200 ] || { podman logs "$ID4" >&2 || true; fail "HTTPS answered $code, expected 200"; }
! grep -q "PRIVATE KEY" "$TLSDIR/ca.pem" || fail "the CA bundle holds a private key"
podman healthcheck run "$ID4" >/dev/null || fail "podman healthcheck run reported unhealthy over HTTPS"
log "podman healthcheck run (HTTPS): healthy"
stop_timed "$ID4"

# --- run 5: --state-file on a named volume survives a restart, with no secret in it -------
PORT4=$((PORT + 3))
VOLUME=cadenza-smoke-state-$$
port_free "$PORT4" || fail "port $PORT4 is in use (set PORT=...)"
quiet_podman volume create "$VOLUME" >/dev/null
VOLUMES+=("$VOLUME")
log "run 5: CADENZA_MOCK_STATE_FILE on volume $VOLUME, port $PORT4, then a restart"
state_run() {
  quiet_podman run -d --network host -v "$VOLUME:/state" \
    -e CADENZA_MOCK_STATE_FILE=/state/state.json \
    -e CADENZA_MOCK_HOST=127.0.0.1 -e "CADENZA_MOCK_PORT=$PORT4" "$IMAGE"
}
ID5=$(state_run)
STARTED+=("$ID5")
wait_health "$ID5" "$PORT4"
SECRET5=smoke-secret-$$-kept-out
created=$(curl -fsS -X POST -H "Authorization: Bearer alice-token" \
  -H 'Content-Type: application/json' \
  -d "{\"venue\": \"BYBIT\", \"name\": \"kept\", \"apiKey\": \"smokeKEY1234567890abc\", \"apiSecret\": \"$SECRET5\"}" \
  "http://127.0.0.1:$PORT4/api/v3/credential/create") || fail "create failed"
CID=$(printf '%s' "$created" | sed -n 's/.*"credentialId":"\([^"]*\)".*/\1/p')
[ -n "$CID" ] || fail "no credentialId in $created"
stop_timed "$ID5"
ID6=$(state_run)
STARTED+=("$ID6")
wait_health "$ID6" "$PORT4"
curl -fsS -H "Authorization: Bearer alice-token" \
  "http://127.0.0.1:$PORT4/api/v3/credential/list?credentialIds=$CID" | grep -q "\"$CID\"" \
  || fail "credential $CID did not survive the restart"
file=$(podman run --rm -v "$VOLUME:/state" --entrypoint cat "$IMAGE" /state/state.json) \
  || fail "cannot read the state file"
printf '%s' "$file" | grep -q '"format": "cadenza-mock-state"' || fail "not a state file"
! printf '%s' "$file" | grep -q -e "$SECRET5" -e smokeKEY1234567890abc \
  || fail "the state file holds the secret or the whole key"
log "credential $CID survived the restart; the state file holds neither its secret nor its key"
stop_timed "$ID6"

log "container smoke test passed"
