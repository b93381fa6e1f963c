#!/bin/bash
# Serves a database, signs in and times the first overview, the adoption
# page, another as-of date and the people list, then prints the server's
# RSS (issue 19). Usage:
#   undercurrent demo generate --people 40000 --days 60 --out DIR
#   (settings set timezone Asia/Shanghai; import people/events; user add
#    --email bench@example.com --role admin with UNDERCURRENT_PASSWORD=Bench-Password-42)
#   benches/stored_results.sh target/release/undercurrent /path/db.sqlite 18300 label 2026-11-20
# Measured (2-core machine shared with other builds, 40,000 people x 60 days,
# 6.3 M events, SQLite, release):
#   before (results computed per request, events kept): overview 9.2 s,
#     adoption 6.5 s, another as-of 3.9 s, RSS 1.12 GB
#   after, first serve of a fresh import (computed once, stored): overview
#     10.5 s, adoption 0.02 s (computed in the background with the overview),
#     another as-of 8.4 s (waited for that background work), peak RSS 822 MB
#   after a restart (stored results read): overview 0.03 s, adoption 0.015 s,
#     the same as-of 0.21 s, people 0.36 s, RSS 218 MB
BIN=$1; DB=$2; PORT=$3; LABEL=$4
W=${TMPDIR:-/tmp}/uc-bench; mkdir -p "$W"
J=$W/jar-$PORT; rm -f "$J"
"$BIN" --database-url "sqlite://$DB" serve --bind "127.0.0.1:$PORT" --outbox-dir "$W/outbox" --secret-file "$W/secret" > "$W/serve-$LABEL.log" 2>&1 &
PID=$!
for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break; sleep 0.2; done
CSRF=$(curl -s -c "$J" -b "$J" "http://127.0.0.1:$PORT/login" | grep -o 'csrf=[0-9a-f]*' | head -1 | cut -d= -f2)
curl -s -c "$J" -b "$J" -o /dev/null -X POST "http://127.0.0.1:$PORT/login?csrf=$CSRF" \
  --data-urlencode "email=bench@example.com" --data-urlencode "password=Bench-Password-42"
t() { curl -s -b "$J" -o "$W/last.html" -w "%{http_code} %{time_total}s" "http://127.0.0.1:$PORT$1"; echo "  $1 ($LABEL)"; }
t /
t /adoption
t "/?as_of=$5"
t /people
grep -E "VmHWM|VmRSS" "/proc/$PID/status" | tr '\n' ' '; echo "($LABEL)"
kill "$PID"; wait "$PID" 2>/dev/null
