package svgplot

import (
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
)

// wellFormed parses the SVG as XML and counts its elements by name.
func wellFormed(t *testing.T, svg string) map[string]int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	count := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return count
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			count[se.Name.Local]++
		}
	}
}

func TestChart(t *testing.T) {
	c := &Chart{Title: "pass@k <set & co>", XLabel: "k", YLabel: "pass@k (%)", XInt: true, YMin: 0, YMax: 100,
		Series: []Series{
			{Name: "ranked", X: []float64{1, 2, 3}, Y: []float64{40, 50, 55}},
			{Name: "random", X: []float64{1, 2, 3}, Y: []float64{20, 30, 36}},
			{Name: "oracle", X: []float64{1, 2, 3}, Y: []float64{60, 60, math.NaN()}},
		}}
	svg := string(c.SVG())
	n := wellFormed(t, svg)
	if n["polyline"] != 3 || n["title"] < 1+8 || n["desc"] != 1 {
		t.Fatalf("elements %v", n)
	}
	for _, want := range []string{`role="img"`, "pass@k &lt;set &amp; co&gt;", "ranked: k = 2, pass@k (%) = 50", `stroke-dasharray="6 3"`, Palette[1]} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if strings.Contains(svg, "NaN") {
		t.Error("a NaN reached the SVG")
	}
	// Markers differ by series: circle, square, triangle.
	if n["circle"] < 3 || n["rect"] < 3 || n["path"] < 2 {
		t.Errorf("marker shapes %v", n)
	}
}

func TestChartEmptyAndDegenerate(t *testing.T) {
	svg := string((&Chart{Title: "loss", XLabel: "step", YLabel: "loss", Series: []Series{{Name: "train"}}}).SVG())
	wellFormed(t, svg)
	if !strings.Contains(svg, "no data yet") || !strings.Contains(svg, "train: no data") {
		t.Fatalf("empty chart: %s", svg)
	}
	// One point, a flat line: the ranges widen instead of dividing by 0.
	svg = string((&Chart{Title: "x", Series: []Series{{Name: "a", X: []float64{3}, Y: []float64{7}}}}).SVG())
	wellFormed(t, svg)
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Fatalf("degenerate chart: %s", svg)
	}
}

func TestTicks(t *testing.T) {
	got := ticks(0, 100, 5, false)
	if len(got) != 6 || got[0] != 0 || got[5] != 100 {
		t.Fatalf("ticks(0,100) = %v", got)
	}
	if got := ticks(1, 3, 6, true); len(got) != 3 || got[1] != 2 {
		t.Fatalf("integer ticks(1,3) = %v", got)
	}
}

func TestLegendWraps(t *testing.T) {
	long := []Series{{Name: "ranked ft-20261127-175622:hybrid", X: []float64{1, 2}, Y: []float64{1, 2}},
		{Name: "ranked ft-20261127-175622:lexical", X: []float64{1, 2}, Y: []float64{1, 2}},
		{Name: "random", X: []float64{1, 2}, Y: []float64{1, 2}}, {Name: "oracle", X: []float64{1, 2}, Y: []float64{1, 2}}}
	svg := string((&Chart{Title: "t", Series: long}).SVG())
	wellFormed(t, svg)
	if !strings.Contains(svg, `height="336"`) && !strings.Contains(svg, `height="352"`) {
		t.Fatalf("a legend too wide for one row did not wrap: %.200s", svg)
	}
	short := string((&Chart{Title: "t", Series: long[2:]}).SVG())
	if !strings.Contains(short, `height="320"`) {
		t.Fatalf("a short legend took extra rows: %.200s", short)
	}
}
