// Bench summary: `go test -bench` output reduced to the median ns/op of
// each benchmark and the ratios the README reports (make bench).
package load

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ParseBench reads benchmark lines and returns every ns/op sample per name (the
// -N GOMAXPROCS suffix removed), and every reported p50-ms and p99-ms
// sample, in ns, under "<name>.p50" and "<name>.p99".
func ParseBench(r io.Reader) (map[string][]float64, error) {
	out := map[string][]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if j := strings.LastIndex(name, "-"); j > 0 {
			name = name[:j]
		}
		name = strings.TrimPrefix(name, "Benchmark")
		for i := 2; i+1 < len(f); i += 2 {
			key, scale := "", 1.0
			switch f[i+1] {
			case "ns/op":
				key = name
			case "p50-ms":
				key, scale = name+".p50", 1e6
			case "p99-ms":
				key, scale = name+".p99", 1e6
			default:
				continue
			}
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", sc.Text(), err)
			}
			out[key] = append(out[key], v*scale)
		}
	}
	return out, sc.Err()
}

// Median of the samples.
func Median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// BenchRatios the README reports: numerator, denominator, meaning.
var BenchRatios = [][3]string{
	{"HandlerPostCall", "RawPutItem", "POST /calls as the Lambda runs it / raw PutItem"},
	{"HandlerPostCall", "RawConditionalPutItem", "POST /calls as the Lambda runs it / raw conditional PutItem"},
	{"ServePostCall", "RawPutItem", "POST /calls through serve's HTTP / raw PutItem"},
	{"Simulate1000", "SequentialPutItem1000", "/simulate 1000 / 1000 sequential PutItem"},
	{"Simulate1000", "RawParallelBatchWrite1000", "/simulate 1000 / raw parallel BatchWriteItem"},
	{"PostCallBuffered202.p50", "PostCallDirect201.p50", "202 (buffered, SQS on moto) p50 / 201 (direct) p50"},
	{"RawParallelConditionalPut1000", "Drain1000", "drain throughput / raw conditional PutItem floor at its concurrency (goal 0.90)"},
	{"RawParallelBatchWrite1000", "Drain1000", "drain throughput / raw BatchWriteItem (reference: unconditional, 25 a request)"},
	{"GetCallCacheHit", "GetCallTable", "GET /calls/{id}: a read cache hit / the read from DynamoDB Local (goal 0.30)"},
}

// WriteBenchSummary prints the medians and the ratios.
func WriteBenchSummary(w io.Writer, samples map[string][]float64) {
	names := make([]string, 0, len(samples))
	for n := range samples {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "median time per operation:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-28s %12s  (n=%d, min %s, max %s)\n", n, dur(Median(samples[n])), len(samples[n]),
			dur(minOf(samples[n])), dur(maxOf(samples[n])))
	}
	fmt.Fprintln(w, "ratios of medians:")
	for _, r := range BenchRatios {
		a, b := samples[r[0]], samples[r[1]]
		if len(a) == 0 || len(b) == 0 {
			fmt.Fprintf(w, "  %-48s n/a (missing %s or %s)\n", r[2], r[0], r[1])
			continue
		}
		fmt.Fprintf(w, "  %-48s %.2f%s\n", r[2], Median(a)/Median(b), perRound(a, b))
	}
}

// perRound is the ratio taken within each round (make bench runs every
// benchmark once a round, in a rotating order, so the i-th samples of two
// benchmarks ran side by side): its median and range, when the two have a
// sample in every round.
func perRound(a, b []float64) string {
	if len(a) != len(b) || len(a) < 2 {
		return ""
	}
	r := make([]float64, len(a))
	for i := range a {
		r[i] = a[i] / b[i]
	}
	return fmt.Sprintf("  (per round: median %.2f, %.2f-%.2f over %d rounds)", Median(r), minOf(r), maxOf(r), len(r))
}

func dur(ns float64) string { return time.Duration(ns).Round(time.Microsecond).String() }

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
