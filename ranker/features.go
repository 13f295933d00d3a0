package ranker

import (
	"math"
	"slices"
	"sort"
	"strings"
)

// Set features: what a candidate looks like next to its siblings (the other
// candidates for the same problem). Sampled programs that agree with many
// siblings are more often right (the unsupervised lexical consensus alone
// ranks HumanEval × CodeGen-16B at 32.3 pass@1); a model that scored each
// candidate alone would throw that away. They are computed over all of a
// problem's candidates, at training and at ranking time alike.
//
//	0 lexical consensus: mean Jaccard similarity of token-bigram sets to the siblings
//	1 the same, z-scored within the problem
//	2 its rank within the problem, as a fraction (1 = most typical)
//	3 fraction of siblings with the same normalised code
//	4 log(1 + tokens) / 6
//	5 token count, z-scored within the problem
//	6 truncated: longer than the model reads
//	7 fraction of its non-blank lines that repeat an earlier line
func SetFeatures(tok *Tokenizer, codes []string, candLen int) [][]float32 {
	n := len(codes)
	grams := make([][]uint64, n)
	lens := make([]float64, n)
	norm := make([]string, n)
	for i, c := range codes {
		ids := tok.Encode(c)
		lens[i] = float64(len(ids))
		set := make([]uint64, 0, len(ids))
		for j := 0; j+1 < len(ids); j++ {
			set = append(set, uint64(ids[j])<<32|uint64(ids[j+1]))
		}
		slices.Sort(set)
		grams[i] = slices.Compact(set)
		norm[i] = normaliseCode(c)
	}
	cons := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			s := jaccard(grams[i], grams[j])
			cons[i] += s
			cons[j] += s
		}
	}
	same := map[string]int{}
	for _, s := range norm {
		same[s]++
	}
	if n > 1 {
		for i := range cons {
			cons[i] /= float64(n - 1)
		}
	}
	consZ := zscores(cons)
	lenZ := zscores(lens)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return cons[order[a]] > cons[order[b]] })
	rank := make([]float64, n)
	for r, i := range order {
		if n > 1 {
			rank[i] = 1 - float64(r)/float64(n-1)
		} else {
			rank[i] = 1
		}
	}
	out := make([][]float32, n)
	for i := range out {
		dup := 0.0
		if n > 1 {
			dup = float64(same[norm[i]]-1) / float64(n-1)
		}
		trunc := 0.0
		if lens[i] > float64(candLen) {
			trunc = 1
		}
		out[i] = []float32{float32(cons[i]), float32(consZ[i]), float32(rank[i]), float32(dup),
			float32(math.Log1p(lens[i]) / 6), float32(lenZ[i]), float32(trunc), float32(repeatedLines(codes[i]))}
	}
	return out
}

func jaccard(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

func zscores(x []float64) []float64 {
	var mean, sd float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(max(len(x), 1))
	for _, v := range x {
		sd += (v - mean) * (v - mean)
	}
	sd = math.Sqrt(sd / float64(max(len(x), 1)))
	out := make([]float64, len(x))
	for i, v := range x {
		if sd > 1e-9 {
			out[i] = max(-4, min(4, (v-mean)/sd))
		}
	}
	return out
}

// normaliseCode drops comments, blank lines and trailing spaces, so
// candidates that differ only there count as the same.
func normaliseCode(c string) string {
	var b strings.Builder
	for _, line := range strings.Split(c, "\n") {
		if k := strings.Index(line, "#"); k >= 0 && !strings.ContainsAny(line[:k], `"'`) {
			line = line[:k]
		}
		line = strings.TrimRight(line, " \t\r")
		if line != "" {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func repeatedLines(c string) float64 {
	seen := map[string]bool{}
	total, rep := 0, 0
	for _, line := range strings.Split(c, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		total++
		if seen[line] {
			rep++
		}
		seen[line] = true
	}
	if total == 0 {
		return 0
	}
	return float64(rep) / float64(total)
}
