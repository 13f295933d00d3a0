package ranker

import (
	"math"
	"testing"
)

func TestGroupNormaliseLevelsOnly(t *testing.T) {
	rows := func(shift float32) [][]float32 {
		out := make([][]float32, 3)
		for i := range out {
			out[i] = make([]float32, NumFeatures)
			for j := range out[i] {
				out[i][j] = float32(i*j) + shift
			}
		}
		return out
	}
	a, b := rows(0), rows(0.25)
	groupNormalise(a)
	groupNormalise(b)
	level := map[int]bool{}
	for _, j := range groupLevelFeatures {
		level[j] = true
	}
	for j := range NumFeatures {
		var mean float32
		for i := range a {
			mean += a[i][j]
			if level[j] && math.Abs(float64(a[i][j]-b[i][j])) > 1e-5 {
				t.Errorf("feature %d: a generator's level (+0.25) changed the z-score: %v vs %v", j, a[i][j], b[i][j])
			}
			if !level[j] && a[i][j] != float32(i*j) {
				t.Errorf("feature %d is not a level feature but changed: %v", j, a[i][j])
			}
		}
		if level[j] && math.Abs(float64(mean)) > 1e-5 {
			t.Errorf("feature %d: mean %v after normalising", j, mean/3)
		}
	}
}
