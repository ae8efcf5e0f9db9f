#!/usr/bin/env bash
# The integration, e2e, Kafka and template tests (and the console's browser tests, once) against the embedded PostgreSQL 18 and, when a
# server answers at 127.0.0.1:5432, against it too, both runs at once: each makes its own
# database (and its own servers on free ports), so they share nothing but the cores, and the
# pair takes about as long as the longer run instead of the sum. The server run's output
# streams; the embedded run's follows it. Fails when either run fails.
set -uo pipefail
BIN=${BIN:-.venv/bin}
SUITES=(tests/integration tests/e2e tests/kafka tests/template)
embedded_log=$(mktemp)
trap 'rm -f "$embedded_log"' EXIT

ECOM_TEST_POSTGRES=embedded "$BIN/pytest" -q -p no:cacheprovider "${SUITES[@]}" tests/browser >"$embedded_log" 2>&1 &
embedded=$!

server_rc=0
if "$BIN/python" -c "import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', connect_timeout=2).close()" 2>/dev/null; then
  echo "== against the PostgreSQL server at 127.0.0.1:5432 (the embedded run goes on beside it) =="
  ECOM_TEST_POSTGRES=server "$BIN/pytest" -q -p no:cacheprovider "${SUITES[@]}" || server_rc=$?
else
  echo "== no PostgreSQL server at 127.0.0.1:5432: server run skipped =="
fi

wait "$embedded"
embedded_rc=$?
echo "== against the embedded PostgreSQL 18 =="
cat "$embedded_log"
echo "== server run: exit $server_rc; embedded run: exit $embedded_rc =="
[ "$server_rc" -eq 0 ] && [ "$embedded_rc" -eq 0 ]
