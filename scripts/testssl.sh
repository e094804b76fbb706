#!/usr/bin/env bash
# Scans `berth --tls` with testssl.sh and fails on any HIGH or CRITICAL finding, or when SSLv2,
# SSLv3, TLS 1.0 or TLS 1.1 is offered (or TLS 1.2/1.3 is not).
#
#   scripts/testssl.sh            # from anywhere; needs testssl.sh (Debian: apt-get install testssl.sh)
#
# Berth runs from the sources (node --import tsx src/cli/main.ts, no build needed) on a free port
# of 127.0.0.1, with XDG_DATA_HOME in a temporary folder so its local CA is made there and deleted
# afterwards. The whole run is bounded: 30 s for Berth to start, 300 s for the scan.
#
# testssl's --severity HIGH is not passed: it filters the JSON as well, which would drop the
# "not offered" protocol findings checked here. The severity filter is applied below instead.
#
# Environment: TESTSSL (the testssl binary; default testssl.sh or Debian's testssl),
# TESTSSL_TIMEOUT (seconds, default 300), KEEP_TESTSSL_OUTPUT=1 (print where the JSON is kept).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

started_at=$SECONDS
scan_timeout=${TESTSSL_TIMEOUT:-300}
testssl=${TESTSSL:-$(command -v testssl.sh || command -v testssl || true)}
if [[ -z $testssl ]]; then
  echo "testssl: testssl.sh is not installed (Debian: apt-get install testssl.sh)" >&2
  exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-testssl.XXXXXX")
berth_pid=
cleanup() {
  if [[ -n $berth_pid ]] && kill -0 "$berth_pid" 2>/dev/null; then
    kill -TERM "$berth_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$berth_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -KILL "$berth_pid" 2>/dev/null; then
      echo "testssl: note: berth did not exit within 5 s of SIGTERM and was killed" >&2
    fi
  fi
  if [[ ${KEEP_TESTSSL_OUTPUT:-} == 1 ]]; then echo "testssl: output kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

mkdir -p "$tmp/site"
echo 'hello from berth' >"$tmp/site/index.html"
XDG_DATA_HOME="$tmp/data" node --import tsx src/cli/main.ts "$tmp/site" --tls -p 0 --log off \
  >"$tmp/berth.out" 2>"$tmp/berth.err" &
berth_pid=$!

port=
for _ in $(seq 300); do
  port=$(sed -n 's|^berth: serving .* on https://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$tmp/berth.out")
  [[ -n $port ]] && break
  if ! kill -0 "$berth_pid" 2>/dev/null; then
    echo "testssl: berth exited before listening: $(cat "$tmp/berth.err")" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z $port ]]; then
  echo "testssl: berth did not start within 30 s: $(cat "$tmp/berth.err")" >&2
  exit 1
fi
echo "testssl: scanning berth --tls on https://127.0.0.1:$port with $testssl"

scan_start=$SECONDS
status=0
timeout "$scan_timeout" "$testssl" --quiet --color 0 --warnings off --nodns none \
  --connect-timeout 10 --openssl-timeout 10 \
  --protocols --std --server-preference --fs \
  --jsonfile-pretty "$tmp/testssl.json" "https://127.0.0.1:$port" >"$tmp/testssl.txt" 2>&1 || status=$?
scan_seconds=$((SECONDS - scan_start))
if [[ $status -ne 0 || ! -s $tmp/testssl.json ]]; then
  cat "$tmp/testssl.txt"
  if [[ $status -eq 124 ]]; then
    echo "testssl: the scan did not finish within $scan_timeout s" >&2
  else
    echo "testssl: testssl exited with $status after $scan_seconds s (JSON: $([[ -s $tmp/testssl.json ]] && echo written || echo missing))" >&2
  fi
  exit 1
fi

# The verdict: findings from every section of the structured JSON.
check=$(
  cat <<'JS'
const { readFileSync } = require('node:fs');
const report = JSON.parse(readFileSync(process.argv[1], 'utf8'));
const scan = report.scanResult?.[0] ?? {};
const findings = Object.values(scan).filter(Array.isArray).flat();
const byId = new Map(findings.map((f) => [f.id, f]));
const problems = [];
if (findings.length === 0) problems.push('the scan reported no findings at all');
for (const f of findings) {
  if (f.severity === 'HIGH' || f.severity === 'CRITICAL' || f.severity === 'FATAL') {
    problems.push(`${f.severity} ${f.id}: ${f.finding}`);
  }
}
for (const id of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1']) {
  const finding = byId.get(id)?.finding;
  if (!/^not offered/.test(finding ?? '')) problems.push(`${id} must be "not offered", got: ${finding ?? 'no finding'}`);
}
for (const id of ['TLS1_2', 'TLS1_3']) {
  const finding = byId.get(id)?.finding;
  if (!/^offered/.test(finding ?? '')) problems.push(`${id} must be offered, got: ${finding ?? 'no finding'}`);
}
const show = (id) => byId.get(id)?.finding ?? '-';
const counts = {};
for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
const offered = ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3'].filter((id) => /^offered/.test(show(id)));
console.log(`testssl: protocols offered: ${offered.join(', ')}; ALPN: ${show('ALPN_HTTP2')}, ${show('ALPN')}`);
console.log(`testssl: negotiated: ${show('protocol_negotiated')}, ${show('cipher_negotiated')}`);
console.log(`testssl: forward secrecy: ${show('PFS')}; curves: ${show('PFS_ECDHE_curves')}`);
console.log(`testssl: TLS 1.2 ciphers: ${show('cipherorder_TLSv1_2')}`);
console.log(`testssl: findings by severity: ${JSON.stringify(counts)}`);
for (const f of findings) if (f.severity === 'MEDIUM' || f.severity === 'LOW') console.log(`testssl: note ${f.severity} ${f.id}: ${f.finding}`);
for (const p of problems) console.error(`testssl: PROBLEM ${p}`);
process.exitCode = problems.length === 0 ? 0 : 1;
JS
)
verdict=0
node -e "$check" "$tmp/testssl.json" || verdict=$?
total=$((SECONDS - started_at))
if [[ $verdict -ne 0 ]]; then
  cat "$tmp/testssl.txt"
  echo "testssl: FAILED (scan ${scan_seconds} s, total ${total} s)" >&2
  exit 1
fi
echo "testssl: OK (scan ${scan_seconds} s, total ${total} s)"
