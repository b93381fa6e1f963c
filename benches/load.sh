#!/usr/bin/env bash
# Load test and deployment sizing: the 10,000-person / 120-day demo
# organisation (the data set of benches/web.sh) on SQLite.
#  - times the import into a fresh database and prints its size;
#  - serves it, signs in as the bench admin and runs wrk (-t2 -c64 -d60s
#    --latency) twice on a mix of the main pages (benches/load.lua rotates
#    through them and counts every non-2xx response), then on `/` alone and
#    on `/people` alone; then `/` at 2, 4, ... 64 connections, 15 s each;
#  - before and after each run: the load average, the server's RSS and the
#    CPU seconds it used; the server's own per-route times (from /metrics).
# With PG_URL=postgres://postgres@127.0.0.1:5432/ucload it also creates that
# database, imports the same data, runs the mix, `/` and `/people` on it and
# drops it.
# A benchmark: prints figures, asserts nothing. Needs wrk (apt-get install
# wrk). A fuzzer (command line containing `fuzz/target/`) is paused during
# each wrk run and always resumed. Run from the repository root:
#   bash benches/load.sh
# Raw outputs go to $LOGS (default /tmp/load-logs).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-target/release/undercurrent}
DATA=target/bench-data/p10000-d120
WORK=target/bench-web
PORT=${PORT:-18080}
BASE="http://127.0.0.1:$PORT"
DURATION=${DURATION:-60s}
CONNECTIONS=${CONNECTIONS:-64}
LOGS=${LOGS:-/tmp/load-logs}
SWEEP_DURATION=${SWEEP_DURATION:-15s}
PG_URL=${PG_URL:-}
MIX="/ /adoption /people /people?tier=silent PERSON /studies /report /imports"
PASSWORD='Bench-Password-1'
CLK_TCK=$(getconf CLK_TCK)

command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
mkdir -p "$LOGS" "$WORK"

SERVER=
FUZZ_PIDS=
PG_CREATED=
stop_server() {
    if [ -n "$SERVER" ]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
        SERVER=
    fi
}
pause_fuzzer() {
    FUZZ_PIDS=$(pgrep -f 'fuzz/target/' || true)
    if [ -n "$FUZZ_PIDS" ]; then
        # shellcheck disable=SC2086
        kill -STOP $FUZZ_PIDS 2>/dev/null || true
        echo "paused fuzzer processes: $(echo $FUZZ_PIDS)"
    fi
}
resume_fuzzer() {
    if [ -n "$FUZZ_PIDS" ]; then
        # shellcheck disable=SC2086
        kill -CONT $FUZZ_PIDS 2>/dev/null || true
        FUZZ_PIDS=
    fi
}
cleanup() {
    resume_fuzzer
    stop_server
    if [ -n "$PG_CREATED" ]; then
        psql -q "$PG_ADMIN_URL" -c "drop database if exists $PG_NAME" >/dev/null 2>&1 ||
            echo "WARNING: could not drop the database $PG_NAME; drop it by hand" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
size() { if [ -f "$1" ]; then stat -c %s "$1"; else echo 0; fi; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
rss() { ps -o rss= -p "$SERVER" | tr -d ' '; }
# utime + stime of the server, in clock ticks (fields 14 and 15 of stat).
cpu_ticks() { sed 's/.*) //' "/proc/$SERVER/stat" | awk '{ print $12 + $13 }'; }
# Busy ticks of the whole machine (all cores).
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
ticks_to_s() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }'; }
# Runs a command under GNU time when it is there (elapsed and peak RSS).
timed() {
    if /usr/bin/time -f x true >/dev/null 2>&1; then
        /usr/bin/time -f '  (%e s elapsed, %U s user, %S s system, peak RSS %M KB)' "$@"
    else
        "$@"
    fi
}

echo "== build"
cargo build --release --quiet

echo "== data"
if [ ! -f "$DATA/events.csv" ]; then
    "$BIN" demo generate --people 10000 --days 120 --seed 7 --out "$DATA" >/dev/null
fi
echo "$DATA: people.csv $(mib "$(size "$DATA/people.csv")"), events.csv $(mib "$(size "$DATA/events.csv")")"

# A fresh database each time (not benches/web.sh's web.db: the person page
# writes an audit row per view, and the import is timed here).
echo "== import into a fresh SQLite database (load average $(cut -d' ' -f1-3 /proc/loadavg))"
LOAD_DB="$WORK/load.db"
rm -f "$LOAD_DB" "$LOAD_DB-wal" "$LOAD_DB-shm"
DB="sqlite://$LOAD_DB"
"$BIN" --database-url "$DB" settings set timezone Asia/Shanghai >/dev/null
t0=$(now)
timed "$BIN" --database-url "$DB" import people "$DATA/people.csv" 2>&1 | tee "$LOGS/import-people.txt"
t1=$(now)
timed "$BIN" --database-url "$DB" import events "$DATA/events.csv" 2>&1 | tee "$LOGS/import-events.txt"
t2=$(now)
EVENTS=$(awk '/events added/ { print $3 }' "$LOGS/import-events.txt")
echo "import people: $(secs "$t0" "$t1") s; import events: $(secs "$t1" "$t2") s ($EVENTS events)"
UNDERCURRENT_PASSWORD=$PASSWORD "$BIN" --database-url "$DB" user add --email bench@example.com --role admin >/dev/null
"$BIN" --database-url "$DB" settings set metrics.enabled true >/dev/null
echo "SQLite database: $LOAD_DB $(size "$LOAD_DB") bytes ($(mib "$(size "$LOAD_DB")")), -wal $(size "$LOAD_DB-wal") bytes"
echo "  = $(awk -v b="$(size "$LOAD_DB")" -v n="$EVENTS" 'BEGIN { printf "%.0f", b / n }') bytes per event"

# Starts the server on $1 (a database URL), signs in; sets SERVER, SESSION.
start_server() {
    "$BIN" --database-url "$1" serve --bind "127.0.0.1:$PORT" >"$LOGS/serve-$2.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 300); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
    local jar="$WORK/load-cookies" token
    rm -f "$jar"
    token=$(curl -s -c "$jar" -b "$jar" "$BASE/login" | grep -o 'csrf=[0-9a-f]*' | head -1 | cut -d= -f2)
    curl -s -c "$jar" -b "$jar" -o /dev/null -X POST "$BASE/login?csrf=$token" \
        --data-urlencode email=bench@example.com --data-urlencode password="$PASSWORD"
    SESSION=$(awk '$6 == "uc_session" { print $7 }' "$jar")
    if [ -z "$SESSION" ]; then echo "sign-in failed: no session cookie" >&2; exit 1; fi
}

# One request on each page of the mix: status, time, size.
warm_up() {
    local - p path out
    set -f
    for p in $MIX; do
        path=$p
        [ "$p" = PERSON ] && path="/people/${PERSON_IDS%%,*}"
        out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}s %{size_download}B' -b "uc_session=$SESSION" "$BASE$path")
        echo "  warm-up $path: $out"
        case $out in 2*) ;; *) echo "  WARNING: $path answered ${out%% *}" ;; esac
    done
}

# Each page alone, one request at a time: the median of 21 (seconds).
medians() {
    local - p path
    set -f
    for p in $MIX; do
        path=$p
        [ "$p" = PERSON ] && path="/people/${PERSON_IDS%%,*}"
        echo "  median of 21 sequential requests $path: $(for _ in $(seq 1 21); do
            curl -s -o /dev/null -w '%{time_total}\n' -b "uc_session=$SESSION" "$BASE$path"
        done | sort -n | sed -n 11p)s"
    done
}

# Per-route count, mean and bucket p50/p99 (upper bounds) between two
# /metrics scrapes, from the server's own histogram.
route_stats() {
    awk '
        FNR == 1 { f++ }
        /^undercurrent_http_request_duration_seconds_(bucket|sum|count)/ {
            match($0, /route="[^"]*"/); r = substr($0, RSTART + 7, RLENGTH - 8)
            v = $NF
            if ($0 ~ /_bucket/) { match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); k = "b" SUBSEP r SUBSEP le; if (!((r, le) in seen)) { seen[r, le] = 1; les[r] = les[r] " " le } }
            else if ($0 ~ /_sum/) k = "s" SUBSEP r
            else k = "c" SUBSEP r
            if (f == 1) a[k] = v; else b[k] = v
            routes[r] = 1
        }
        END {
            for (r in routes) {
                n = b["c" SUBSEP r] - a["c" SUBSEP r]
                if (n <= 0 || r == "/metrics" || r == "/healthz") continue
                mean = (b["s" SUBSEP r] - a["s" SUBSEP r]) / n * 1000
                split(substr(les[r], 2), L, " "); p50 = ""; p99 = ""
                for (i = 1; i in L; i++) {
                    c = b["b" SUBSEP r SUBSEP L[i]] - a["b" SUBSEP r SUBSEP L[i]]
                    if (p50 == "" && c >= 0.5 * n) p50 = L[i]
                    if (p99 == "" && c >= 0.99 * n) p99 = L[i]
                }
                printf "  server %-20s %7d requests, mean %8.1f ms, p50 <= %s s, p99 <= %s s\n", r, n, mean, p50, p99
            }
        }' "$1" "$2" | sort
}

# wrk on $2 (a list of paths) for $DURATION; name $1.
run_wrk() {
    local name=$1 paths=$2 log="$LOGS/$1.txt" load rss0 rss1 cpu0 cpu1 m0 m1 load1
    curl -s "$BASE/metrics" >"$LOGS/$name.metrics-before"
    rss0=$(rss)
    load=$(cat /proc/loadavg)
    pause_fuzzer
    cpu0=$(cpu_ticks); m0=$(machine_ticks)
    local cmd=(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s benches/load.lua -H "Cookie: uc_session=$SESSION" "$BASE")
    # wrk's own CPU, so that what else ran on the machine can be told apart.
    rm -f "$LOGS/$name.wrk-cpu"
    if /usr/bin/time -f x true >/dev/null 2>&1; then cmd=(/usr/bin/time -o "$LOGS/$name.wrk-cpu" -f '%U %S' "${cmd[@]}"); fi
    PATHS=$paths PERSON_IDS=$PERSON_IDS "${cmd[@]}" >"$log" 2>&1 || echo "wrk exited with status $?" >>"$log"
    cpu1=$(cpu_ticks); m1=$(machine_ticks)
    resume_fuzzer
    load1=$(cat /proc/loadavg)
    rss1=$(rss)
    curl -s "$BASE/metrics" >"$LOGS/$name.metrics-after"
    {
        echo "--- load.sh ---"
        echo "pages: $paths"
        echo "load average before: $load"
        echo "load average after:  $load1"
        echo "server RSS before: $rss0 KB, after: $rss1 KB"
        echo "server CPU: $(ticks_to_s $((cpu1 - cpu0))) s; whole machine busy: $(ticks_to_s $((m1 - m0))) s (wrk and anything else: $(ticks_to_s $((m1 - m0 - cpu1 + cpu0))) s)"
        if [ -f "$LOGS/$name.wrk-cpu" ]; then
            awk -v other="$(ticks_to_s $((m1 - m0 - cpu1 + cpu0)))" \
                '{ printf "wrk CPU: %.2f s; everything else on the machine: %.2f s\n", $1 + $2, other - $1 - $2 }' \
                "$LOGS/$name.wrk-cpu"
        fi
        awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" '/^responses:/ && $2 > 0 { printf "server CPU per response: %.2f ms\n", t / hz * 1000 / $2 }' "$log"
        route_stats "$LOGS/$name.metrics-before" "$LOGS/$name.metrics-after"
    } >>"$log"
    echo "== $name: $paths"
    sed -n '/^Running/,$p' "$log"
    echo
}

# `/` at rising concurrency, $SWEEP_DURATION each: throughput and the
# server's CPU per number of connections (wrk's -c).
sweep() {
    local c log
    for c in 2 4 8 16 32 64; do
        CONNECTIONS=$c DURATION=$SWEEP_DURATION run_wrk "$1-c$c" "$2" >/dev/null
        log="$LOGS/$1-c$c.txt"
        awk -v c="$c" -v d="${SWEEP_DURATION%s}" '
            /^requests\/s:/ { rps = $2 }
            /^responses:/ { non2xx = $4 }
            /^socket errors:/ { sock = $4 + $6 + $8 + $10 }
            /^latency us:/ { p50 = $4 / 1000; p90 = $6 / 1000; p99 = $8 / 1000 }
            /^load average before:/ { load = $4 " " $5 " " $6 }
            /^server CPU:/ { cpu = $3 }
            /^server CPU per response:/ { per = $5 }
            END { printf "  -c%-3d %8.2f req/s  p50 %7.1f ms  p90 %7.1f ms  p99 %7.1f ms  non-2xx %d  socket errors %d  server CPU %s s (%.2f cores, %s ms/response)  load before %s\n",
                  c, rps, p50, p90, p99, non2xx, sock, cpu, cpu / d, per, load }' "$log"
    done
}

first_request() {
    curl -s -o /dev/null -w '%{http_code} %{time_total}s' -b "uc_session=$SESSION" "$BASE$1"
}

person_ids() {
    curl -s -b "uc_session=$SESSION" "$BASE/people" | grep -o 'href="/people/[^"?/&]*' \
        | sed 's|href="/people/||' | grep -v '^$' | sort -u | head -20 | paste -sd, -
}

echo "== SQLite: serve"
start_server "$DB" sqlite
sleep 2
echo "server RSS idle after start: $(rss) KB"
echo "first request, /people (computes the evaluation): $(first_request /people)"
PERSON_IDS=$(person_ids)
echo "person pages: $PERSON_IDS"
[ -n "$PERSON_IDS" ] || { echo "no person id found on /people" >&2; exit 1; }
warm_up
echo "server RSS after warm-up: $(rss) KB"
echo "unloaded (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
medians
echo
run_wrk sqlite-mix-1 "$MIX"
run_wrk sqlite-mix-2 "$MIX"
run_wrk sqlite-overview "/"
run_wrk sqlite-people "/people"
echo "== sqlite-sweep: / at rising concurrency, $SWEEP_DURATION each"
sweep sqlite-sweep "/"
echo
echo "SQLite database after the runs: $(size "$LOAD_DB") bytes, -wal $(size "$LOAD_DB-wal") bytes"
stop_server

if [ -n "$PG_URL" ]; then
    PG_NAME=${PG_URL##*/}
    PG_ADMIN_URL="${PG_URL%/*}/postgres"
    echo "== PostgreSQL: import into $PG_NAME (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    psql -q "$PG_ADMIN_URL" -c "set client_min_messages = warning" -c "drop database if exists $PG_NAME" >/dev/null
    psql -q "$PG_ADMIN_URL" -c "create database $PG_NAME" >/dev/null
    PG_CREATED=1
    "$BIN" --database-url "$PG_URL" settings set timezone Asia/Shanghai >/dev/null
    t0=$(now)
    timed "$BIN" --database-url "$PG_URL" import people "$DATA/people.csv" 2>&1 | tee "$LOGS/pg-import-people.txt"
    t1=$(now)
    timed "$BIN" --database-url "$PG_URL" import events "$DATA/events.csv" 2>&1 | tee "$LOGS/pg-import-events.txt"
    t2=$(now)
    echo "import people: $(secs "$t0" "$t1") s; import events: $(secs "$t1" "$t2") s"
    UNDERCURRENT_PASSWORD=$PASSWORD "$BIN" --database-url "$PG_URL" user add --email bench@example.com --role admin >/dev/null
    "$BIN" --database-url "$PG_URL" settings set metrics.enabled true >/dev/null
    PG_SIZE=$(psql -tA "$PG_ADMIN_URL" -c "select pg_database_size('$PG_NAME')")
    echo "PostgreSQL database size: $PG_SIZE bytes ($(mib "$PG_SIZE"))"
    echo "== PostgreSQL: serve"
    start_server "$PG_URL" postgres
    sleep 2
    echo "server RSS idle after start: $(rss) KB"
    echo "first request, /people (computes the evaluation): $(first_request /people)"
    warm_up
    echo "server RSS after warm-up: $(rss) KB"
    echo "unloaded (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
    medians
    echo
    run_wrk pg-mix "$MIX"
    run_wrk pg-overview "/"
    run_wrk pg-people "/people"
    stop_server
    PG_CREATED=
    if psql -q "$PG_ADMIN_URL" -c "drop database $PG_NAME" >/dev/null; then
        echo "dropped $PG_NAME"
    else
        # For instance when PostgreSQL's checkpoints fail (see its log).
        echo "WARNING: could not drop the database $PG_NAME ($(mib "$PG_SIZE")); drop it by hand:" >&2
        echo "  psql '$PG_ADMIN_URL' -c 'drop database $PG_NAME'" >&2
        exit 1
    fi
fi
