package load

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

// WriteTable prints one row per step.
func (r *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\trequests\tok\tthrottled (429)\tfailures\tfailures/s\tmedian ms\tp95 ms\tp99 ms\tmax ms\trequests/s\t")
	for _, s := range r.Steps {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t%.0f\t\n", s.Label, s.Requests, s.OK, s.Throttled,
			s.Failures, s.FailuresPerSec, ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max), s.RPS)
	}
	tw.Flush()
	if r.Stopped != "" {
		fmt.Fprintf(w, "stopped early: %s\n", r.Stopped)
	}
}

// WriteCSV writes the step table as CSV.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"step", "requests", "ok", "throttled", "failures", "failures_per_sec", "median_ms", "p95_ms", "p99_ms", "max_ms", "requests_per_sec"})
	for _, s := range r.Steps {
		_ = cw.Write([]string{s.Label, strconv.Itoa(s.Requests), strconv.Itoa(s.OK), strconv.Itoa(s.Throttled),
			strconv.Itoa(s.Failures), fmt.Sprintf("%.2f", s.FailuresPerSec), ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max),
			fmt.Sprintf("%.1f", s.RPS)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the whole report.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteFiles writes load.csv, load.json and load.png into dir.
func (r *Report) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer) error{
		"load.csv": r.WriteCSV, "load.json": r.WriteJSON, "load.png": r.WriteChart,
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// WriteChart draws latency percentiles (top) and throughput by outcome
// (bottom) per second of the run, as a PNG.
func (r *Report) WriteChart(w io.Writer) error {
	lat := plot.New()
	lat.Title.Text = "Latency per second (ms)"
	lat.X.Label.Text = "seconds"
	lat.Y.Label.Text = "ms"
	thr := plot.New()
	thr.Title.Text = "Throughput per second"
	thr.X.Label.Text = "seconds"
	thr.Y.Label.Text = "responses/s"
	series := func(get func(Second) float64) plotter.XYs {
		pts := make(plotter.XYs, len(r.Timeline))
		for i, s := range r.Timeline {
			pts[i].X, pts[i].Y = float64(s.T), get(s)
		}
		return pts
	}
	add := func(p *plot.Plot, name string, pts plotter.XYs, c color.Color) error {
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = c
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(name, l)
		return nil
	}
	blue, orange, red, green := color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{214, 39, 40, 255}, color.RGBA{44, 160, 44, 255}
	for _, e := range []struct {
		p    *plot.Plot
		name string
		get  func(Second) float64
		c    color.Color
	}{
		{lat, "p50", func(s Second) float64 { return s.P50ms }, green},
		{lat, "p95", func(s Second) float64 { return s.P95ms }, orange},
		{lat, "p99", func(s Second) float64 { return s.P99ms }, red},
		{thr, "ok", func(s Second) float64 { return float64(s.OK) }, green},
		{thr, "throttled (429)", func(s Second) float64 { return float64(s.Throttled) }, orange},
		{thr, "failures", func(s Second) float64 { return float64(s.Failures) }, red},
		{thr, "requests", func(s Second) float64 { return float64(s.Requests) }, blue},
	} {
		if err := add(e.p, e.name, series(e.get), e.c); err != nil {
			return err
		}
	}
	lat.Legend.Top, thr.Legend.Top = true, true
	lat.Add(plotter.NewGrid())
	thr.Add(plotter.NewGrid())

	const width, height = 10 * vg.Inch, 8 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 6, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	plots := [][]*plot.Plot{{lat}, {thr}}
	canvases := plot.Align(plots, tiles, dc)
	lat.Draw(canvases[0][0])
	thr.Draw(canvases[1][0])
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}
