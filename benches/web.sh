#!/usr/bin/env bash
# Web benchmark: the 10,000-person / ~5,000,000-event demo organisation on
# SQLite; median server time of the dashboard and the people page, then
# wrk -t2 -c32 -d20s on the dashboard. A benchmark: prints figures, asserts
# nothing. Needs wrk (apt-get install wrk). Run from the repository root:
#   bash benches/web.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
BIN=target/release/undercurrent
DATA=target/bench-data/p10000-d120
WORK=target/bench-web
PORT=${PORT:-18080}
BASE="http://127.0.0.1:$PORT"

if [ ! -f "$DATA/events.csv" ]; then
    "$BIN" demo generate --people 10000 --days 120 --seed 7 --out "$DATA" >/dev/null
fi
DB="sqlite://$WORK/web.db"
if [ ! -f "$WORK/web.db" ]; then
    mkdir -p "$WORK"
    "$BIN" --database-url "$DB" settings set timezone Asia/Shanghai >/dev/null
    "$BIN" --database-url "$DB" import people "$DATA/people.csv" >/dev/null
    "$BIN" --database-url "$DB" import events "$DATA/events.csv" >/dev/null
    UNDERCURRENT_PASSWORD='Bench-Password-1' "$BIN" --database-url "$DB" user add --email bench@example.com --role admin >/dev/null
fi

"$BIN" --database-url "$DB" serve --bind "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

JAR="$WORK/cookies"
rm -f "$JAR"
TOKEN=$(curl -s -c "$JAR" -b "$JAR" "$BASE/login" | grep -o 'csrf=[0-9a-f]*' | head -1 | cut -d= -f2)
curl -s -c "$JAR" -b "$JAR" -o /dev/null -X POST "$BASE/login?csrf=$TOKEN" \
    --data-urlencode email=bench@example.com --data-urlencode password=Bench-Password-1
SESSION=$(awk '$6 == "uc_session" { print $7 }' "$JAR")

echo "RSS before: $(ps -o rss= -p $SERVER) KB"
first=$(curl -s -o /dev/null -w '%{time_total}' -b "uc_session=$SESSION" "$BASE/")
echo "dashboard, first request (computes and caches the evaluation): ${first}s"

median() {
    local path=$1
    for _ in $(seq 1 51); do
        curl -s -o /dev/null -w '%{time_total}\n' -b "uc_session=$SESSION" "$BASE$path"
    done | sort -n | sed -n 26p
}
echo "dashboard median: $(median /)s"
echo "people page median: $(median /people)s"
echo "people page sorted by messages, page 40 median: $(median '/people?sort=messages_sent&dir=desc&page=40')s"

if command -v wrk >/dev/null; then
    wrk -t2 -c32 -d20s --latency -H "Cookie: uc_session=$SESSION" "$BASE/"
else
    echo "wrk is not installed: apt-get install wrk"
fi
echo "RSS after: $(ps -o rss= -p $SERVER) KB"
