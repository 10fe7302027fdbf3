#!/usr/bin/env bash
# Demo of `pacsguard audit`: start a deliberately open DICOM server on loopback (synthetic,
# obviously fake patients), audit it, show the critical anonymous C-FIND finding, stop it.
# The audit exits 1 (a finding at or above --fail-on high): that is the point, so the demo
# exits 0 -- unless the critical finding is missing, which would mean the demo is broken.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/pacsguard-demo-audit.XXXXXX")
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"$PY" -m pacsguard.audit.openpeer --port "$PORT" >"$OUT/openpeer.log" 2>&1 &
PEER=$!
stop_peer() {
  kill -TERM "$PEER" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$PEER" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$PEER" 2>/dev/null || true
}
trap stop_peer EXIT

for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  kill -0 "$PEER" 2>/dev/null || { echo "demo-audit: open peer failed to start"; cat "$OUT/openpeer.log"; exit 1; }
  sleep 0.1
done

echo "== pacsguard audit 127.0.0.1:$PORT  (a deliberately open DICOM server, fake data)"
rc=0
"$PY" -m pacsguard audit "127.0.0.1:$PORT" --json "$OUT/audit.json" --html "$OUT/audit.html" || rc=$?
echo "== pacsguard audit exited with $rc (1 = findings at or above --fail-on high, as expected)"

"$PY" - "$OUT/audit.json" <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
crit = [f for f in doc["findings"] if f["check"] == "dicom.find.anonymous" and f["severity"] == "critical"]
if not crit:
    sys.exit("demo-audit: the critical dicom.find.anonymous finding is missing")
print("critical:", crit[0]["evidence"])
PYEOF
[ "$rc" -eq 1 ] || { echo "demo-audit: expected exit code 1, got $rc"; exit 1; }
echo "== reports: $OUT/audit.json  $OUT/audit.html"
exit 0
