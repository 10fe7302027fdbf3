#!/usr/bin/env bash
# make demo: generate sample data (4 fake patients, identifiers everywhere), de-identify it,
# prove the copy, then audit a deliberately open DICOM server on loopback.
set -uo pipefail
cd "$(dirname "$0")/.."
PG=.venv/bin/pacsguard
rm -rf demo-in demo-in.manifest.json demo-out demo-out.pacsguard
echo "== 1. sample data: a hospital export with names in folder names, tags, sequences, private tags, free text"
$PG sample demo-in --patients 4 || exit 1
[ -f demo.key ] || $PG keygen demo.key
echo
echo "== 2. pacsguard deid demo-in demo-out  (exit 1 = some files quarantined, by design)"
$PG deid demo-in demo-out --key-file demo.key --no-progress
echo "exit code: $?"
echo
echo "== output tree (pseudonyms and new UIDs only):"
find demo-out -maxdepth 2 | sort | head -12
echo "== quarantine list, beside the output (it names input files):"
tail -n +2 demo-out.pacsguard/quarantine.tsv | cut -f2-4 | sort | uniq -c | sort -rn
if $PG verify --help >/dev/null 2>&1; then
  echo
  echo "== 3. pacsguard verify demo-in demo-out"
  $PG verify demo-in demo-out; echo "exit code: $?"
fi
if [ -f scripts/demo-audit.sh ]; then
  echo
  echo "== 4. pacsguard audit: a deliberately open DICOM server on loopback"
  bash scripts/demo-audit.sh
fi
exit 0
