#!/usr/bin/env bash
# make bench: Go benchmarks (interleaved, each DynamoDB Local benchmark in a
# fresh DynamoDB Local process, because DynamoDB Local slows down as it
# accumulates data; the test binary starts moto too, for the intake
# benchmarks, and redis-server, for the read cache's), a ratio summary, benchstat, and a short load profile.
# Writes perf/bench.out, perf/summary.txt (ratios, and the read cache's hit
# rate under the users profile), perf/users-cache/ and perf/load.{csv,json,png}.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-6}
OUT=perf
mkdir -p "$OUT" bin
: > "$OUT/bench.out"

echo "== building test binaries"
go test -c -tags integration -o bin/local.test ./internal/local
go test -c -o bin/plan.test ./internal/plan
go test -c -o bin/artifact.test ./artifact
go test -c -o bin/feed.test ./app/feed

# name:iterations (fixed counts keep every run comparable)
DDB_BENCHES="${DDB_BENCHES:-HandlerPostCall:300 ServePostCall:300 RawPutItem:300 RawConditionalPutItem:300 Simulate1000:2 SequentialPutItem1000:1 RawParallelBatchWrite1000:2 RawParallelConditionalPut1000:2 PostCallDirect201:200 PostCallBuffered202:200 Drain1000:2 GetCallCacheHit:300 GetCallTable:300 ReadCacheInvalidation:40}"
# Rounds are interleaved: each runs every benchmark once, each in a fresh
# DynamoDB Local (a table that grows slows what runs later), and the order
# rotates by one a round, so no benchmark always runs first or last.
read -r -a specs <<< "$DDB_BENCHES"
for i in $(seq 1 "$COUNT"); do
  echo "== round $i/$COUNT"
  k=$(( (i - 1) % ${#specs[@]} ))
  for spec in "${specs[@]:k}" "${specs[@]:0:k}"; do
    name=${spec%%:*}; n=${spec##*:}
    (cd internal/local && ../../bin/local.test -test.run '^$' -test.bench "^Benchmark${name}\$" \
      -test.benchtime "${n}x" -test.benchmem) | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' >> "$OUT/bench.out"
  done
done
(cd internal/plan && ../../bin/plan.test -test.run '^$' -test.bench PlanAllStacks -test.benchmem -test.count "$COUNT") \
  | grep -E '^(Benchmark|pkg)' >> "$OUT/bench.out"
(cd app/feed && ../../bin/feed.test -test.run '^$' -test.bench DeliverPartition -test.benchmem -test.count "$COUNT") \
  | grep -E '^(Benchmark|pkg)' >> "$OUT/bench.out"
(cd artifact && ../bin/artifact.test -test.run '^$' -test.bench Build -test.benchtime 1x -test.count "$COUNT") \
  | grep -E '^(Benchmark|pkg)' >> "$OUT/bench.out"

echo "== summary"
{
  echo "$COUNT interleaved rounds: each round runs every DynamoDB Local benchmark once, each in a fresh"
  echo "DynamoDB Local, in an order rotated by one each round; per-round ratios pair a round's two samples."
  go run ./cmd/access911 benchsummary "$OUT/bench.out"
} | tee "$OUT/summary.txt"
if go run golang.org/x/perf/cmd/benchstat@v0.0.0-20250813145418-2f7363a06fe1 "$OUT/bench.out" > "$OUT/benchstat.txt" 2>/dev/null; then
  cat "$OUT/benchstat.txt"
else
  echo "(benchstat unavailable; perf/summary.txt has the medians)"
fi

echo "== the read cache's hit rate under the users profile (seed 002's stepped users, the default mix)"
go run ./cmd/access911 load --profile users --read-cache --out "$OUT/users-cache" | tee "$OUT/users-cache.txt"
tail -1 "$OUT/users-cache.txt" | sed 's/^/  users profile, /' >> "$OUT/summary.txt"

echo "== short load profile (local serve, throttle lowered to 300 rps so 429s show on this machine)"
go run ./cmd/access911 load --profile 100rps:8s,200rps:8s,400rps:8s,800rps:8s \
  --throttle-rate 300 --throttle-burst 100 --out "$OUT" | tee "$OUT/load.txt"
