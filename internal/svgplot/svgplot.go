// Package svgplot draws the dashboard's charts as SVG text on the server.
//
// Why our own writer and not gonum/plot or a JavaScript library: the
// dashboard's charts are a handful of line charts (loss by step, pass@k by
// k, a reliability diagram); drawn on the server they render without
// JavaScript, in any browser, in a screenshot and in a test that reads the
// HTML, and they cost no embedded fonts or vendored scripts. gonum/plot
// would bring its font and vector stack for the same lines.
//
// Accessibility: every chart is an <svg role="img"> named by its <title>
// and described by a <desc> that states what it shows; every point has a
// <title> with its values (a tooltip without script). Series are told
// apart by colour from the Okabe–Ito palette (distinct under the common
// colour-vision deficiencies) and also by dash pattern and marker shape,
// so that they stay apart in grey.
package svgplot

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
)

// Palette is the Okabe–Ito palette without its yellow (too light on white).
var Palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}

var dashes = []string{"", "6 3", "2 3", "8 3 2 3", "1 2", "10 4"}

// Series is one line of a chart.
type Series struct {
	Name string
	X, Y []float64
	// Points draws markers and no line (a scatter).
	Points bool
	// Sizes, when set, scales each marker (e.g. by a bin's count).
	Sizes []float64
}

// Chart is a line chart.
type Chart struct {
	Title  string
	Desc   string // what the chart shows, for screen readers
	XLabel string
	YLabel string
	Series []Series
	// The axes' ranges; when Min == Max the data's range is used.
	XMin, XMax, YMin, YMax float64
	// Diagonal draws y = x (a reliability diagram's perfect calibration).
	Diagonal bool
	// XInt marks integer ticks only on the x axis (k, steps).
	XInt          bool
	Width, Height int
}

var ids atomic.Int64

const (
	padL, padR, padT, padB = 56, 16, 30, 64
)

// SVG renders the chart. A chart with no points renders its frame and a
// "no data" note.
func (c *Chart) SVG() template.HTML {
	w, h := c.Width, c.Height
	if w == 0 {
		w = 520
	}
	if h == 0 {
		h = 320
	}
	// The legend flows under the x axis, wrapping to new rows: the chart
	// grows by a row's height for each row past the first.
	type item struct{ x, row float64 }
	legend := make([]item, len(c.Series))
	x0, row := float64(padL), 0.0
	for si, s := range c.Series {
		wItem := 34 + 6.4*float64(len([]rune(s.Name)))
		if x0 > padL && x0+wItem > float64(w-padR) {
			x0, row = padL, row+1
		}
		legend[si] = item{x0, row}
		x0 += wItem + 12
	}
	if len(legend) > 0 {
		h += 16 * int(legend[len(legend)-1].row)
	}
	xmin, xmax, ymin, ymax := c.XMin, c.XMax, c.YMin, c.YMax
	n := 0
	if xmin == xmax || ymin == ymax {
		dx0, dx1, dy0, dy1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, s := range c.Series {
			for i := range s.X {
				if !finite(s.X[i]) || !finite(s.Y[i]) {
					continue
				}
				dx0, dx1 = math.Min(dx0, s.X[i]), math.Max(dx1, s.X[i])
				dy0, dy1 = math.Min(dy0, s.Y[i]), math.Max(dy1, s.Y[i])
			}
		}
		if xmin == xmax {
			xmin, xmax = dx0, dx1
		}
		if ymin == ymax {
			ymin, ymax = dy0, dy1
		}
	}
	for _, s := range c.Series {
		n += len(s.X)
	}
	if !finite(xmin) || !finite(xmax) {
		xmin, xmax = 0, 1
	}
	if !finite(ymin) || !finite(ymax) {
		ymin, ymax = 0, 1
	}
	if xmax-xmin < 1e-12 {
		xmin, xmax = xmin-1, xmax+1
	}
	if ymax-ymin < 1e-12 {
		ymin, ymax = ymin-1, ymax+1
	}
	xt := ticks(xmin, xmax, 6, c.XInt)
	yt := ticks(ymin, ymax, 5, false)
	extra := 0.0
	if len(legend) > 0 {
		extra = 16 * legend[len(legend)-1].row
	}
	pw, ph := float64(w-padL-padR), float64(h-padT-padB)-extra
	px := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*pw }
	py := func(y float64) float64 { return padT + ph - (y-ymin)/(ymax-ymin)*ph }

	id := ids.Add(1)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="chart-t%d chart-d%d">`, w, h, w, h, id, id)
	fmt.Fprintf(&b, `<title id="chart-t%d">%s</title><desc id="chart-d%d">%s</desc>`, id, esc(c.Title), id, esc(c.describe()))
	fmt.Fprintf(&b, `<text x="%d" y="18" class="chart-title">%s</text>`, padL, esc(c.Title))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%g" height="%g" class="plot-area"/>`, padL, padT, pw, ph)
	for _, t := range yt {
		y := py(t)
		fmt.Fprintf(&b, `<line x1="%d" x2="%g" y1="%.1f" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`,
			padL, padL+pw, y, y, padL-6, y+4, num(t))
	}
	for _, t := range xt {
		x := px(t)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%g" class="grid"/><text x="%.1f" y="%g" class="tick" text-anchor="middle">%s</text>`,
			x, x, padT, padT+ph, x, padT+ph+16, num(t))
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" class="axis-label" text-anchor="middle">%s</text>`, padL+pw/2, padT+ph+32, esc(c.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(14 %g) rotate(-90)" class="axis-label" text-anchor="middle">%s</text>`, padT+ph/2, esc(c.YLabel))
	if c.Diagonal {
		lo, hi := math.Max(xmin, ymin), math.Min(xmax, ymax)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="diagonal"><title>perfect calibration</title></line>`, px(lo), py(lo), px(hi), py(hi))
	}
	fmt.Fprintf(&b, `<clipPath id="chart-c%d"><rect x="%d" y="%d" width="%g" height="%g"/></clipPath><g clip-path="url(#chart-c%d)">`, id, padL-4, padT-4, pw+8, ph+8, id)
	for si, s := range c.Series {
		col, dash := Palette[si%len(Palette)], dashes[si%len(dashes)]
		if !s.Points {
			var pts []string
			for i := range s.X {
				if finite(s.X[i]) && finite(s.Y[i]) {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.X[i]), py(s.Y[i])))
				}
			}
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline class="series" data-series="%s" points="%s" stroke="%s"`, esc(s.Name), strings.Join(pts, " "), col)
				if dash != "" {
					fmt.Fprintf(&b, ` stroke-dasharray="%s"`, dash)
				}
				b.WriteString(`/>`)
			}
		}
		// Markers: on every point of a short series, none on long curves.
		if s.Points || len(s.X) <= 40 {
			for i := range s.X {
				if !finite(s.X[i]) || !finite(s.Y[i]) {
					continue
				}
				r := 3.5
				if s.Sizes != nil {
					r = 2 + 8*math.Sqrt(math.Max(0, s.Sizes[i]))
				}
				marker(&b, si, px(s.X[i]), py(s.Y[i]), r, col, fmt.Sprintf("%s: %s = %s, %s = %s", s.Name, c.XLabel, num(s.X[i]), c.YLabel, num(s.Y[i])))
			}
		}
	}
	b.WriteString(`</g>`)
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%g" y="%g" class="no-data" text-anchor="middle">no data yet</text>`, padL+pw/2, padT+ph/2)
	}
	// Legend, under the x axis.
	for si, s := range c.Series {
		col, dash := Palette[si%len(Palette)], dashes[si%len(dashes)]
		y := padT + ph + 54 + 16*legend[si].row
		x := legend[si].x
		fmt.Fprintf(&b, `<g class="legend"><line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"`, x, x+22, y, y, col)
		if dash != "" {
			fmt.Fprintf(&b, ` stroke-dasharray="%s"`, dash)
		}
		b.WriteString(`/>`)
		marker(&b, si, x+11, y, 3.5, col, "")
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text></g>`, x+28, y+4, esc(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// marker draws series si's marker shape: circle, square, triangle,
// diamond, then again.
func marker(b *strings.Builder, si int, x, y, r float64, col, title string) {
	t := ""
	if title != "" {
		t = "<title>" + esc(title) + "</title>"
	}
	switch si % 4 {
	case 0:
		fmt.Fprintf(b, `<circle class="point" cx="%.1f" cy="%.1f" r="%.1f" fill="%s">%s</circle>`, x, y, r, col, t)
	case 1:
		fmt.Fprintf(b, `<rect class="point" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">%s</rect>`, x-r, y-r, 2*r, 2*r, col, t)
	case 2:
		fmt.Fprintf(b, `<path class="point" d="M%.1f %.1fL%.1f %.1fL%.1f %.1fZ" fill="%s">%s</path>`, x, y-1.2*r, x+1.1*r, y+0.8*r, x-1.1*r, y+0.8*r, col, t)
	default:
		fmt.Fprintf(b, `<path class="point" d="M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ" fill="%s">%s</path>`, x, y-1.3*r, x+1.3*r, y, x, y+1.3*r, x-1.3*r, y, col, t)
	}
}

// describe states the chart's content for a screen reader.
func (c *Chart) describe() string {
	if c.Desc != "" {
		return c.Desc
	}
	var parts []string
	for _, s := range c.Series {
		var ys []float64
		for i := range s.Y {
			if finite(s.X[i]) && finite(s.Y[i]) {
				ys = append(ys, s.Y[i])
			}
		}
		if len(ys) == 0 {
			parts = append(parts, s.Name+": no data")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %d points, %s from %s to %s", s.Name, len(ys), c.YLabel, num(ys[0]), num(ys[len(ys)-1])))
	}
	return fmt.Sprintf("%s by %s. %s.", c.YLabel, c.XLabel, strings.Join(parts, "; "))
}

// ticks returns about n round values covering [lo, hi].
func ticks(lo, hi float64, n int, integer bool) []float64 {
	step := nice((hi - lo) / float64(n))
	if integer {
		step = math.Max(1, math.Round(step))
	}
	var out []float64
	for t := math.Ceil(lo/step) * step; t <= hi+step*1e-9; t += step {
		out = append(out, t)
	}
	return out
}

func nice(x float64) float64 {
	if x <= 0 || !finite(x) {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(x)))
	switch f := x / e; {
	case f < 1.5:
		return e
	case f < 3:
		return 2 * e
	case f < 7:
		return 5 * e
	}
	return 10 * e
}

func num(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e9 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func esc(s string) string { return html.EscapeString(s) }
