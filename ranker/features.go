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
//	8 line consensus: mean Jaccard similarity of its set of normalised lines
//	9 structural consensus: as 0, with identifiers and literals masked
//	10 syntax error (static: compiled, never run)
//	11 global names read but never bound, min(n, 3)/3 (static)
//
// statics may be nil (features 10 and 11 are then 0).
func SetFeatures(tok *Tokenizer, codes []string, statics []Static, candLen int) [][]float32 {
	n := len(codes)
	grams := make([][]uint64, n)
	lineSets := make([][]uint64, n)
	shapeGrams := make([][]uint64, n)
	lens := make([]float64, n)
	norm := make([]string, n)
	for i, c := range codes {
		lineSets[i] = hashedSet(strings.Split(normaliseCode(c), "\n"))
		shapeGrams[i] = bigramSet(maskedTokens(c))
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
	cons := consensus(grams)
	lineCons := consensus(lineSets)
	shapeCons := consensus(shapeGrams)
	same := map[string]int{}
	for _, s := range norm {
		same[s]++
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
		var syn, undef float32
		if statics != nil {
			if statics[i].SyntaxError || statics[i].Failed {
				syn = 1
			}
			undef = float32(min(statics[i].Undefined, 3)) / 3
		}
		out[i] = []float32{float32(cons[i]), float32(consZ[i]), float32(rank[i]), float32(dup),
			float32(math.Log1p(lens[i]) / 6), float32(lenZ[i]), float32(trunc), float32(repeatedLines(codes[i])),
			float32(lineCons[i]), float32(shapeCons[i]), syn, undef}
	}
	return out
}

// groupLevelFeatures are the set features whose level is the
// generator's as much as the candidate's (Config.GroupFeatures).
var groupLevelFeatures = []int{0, 4, 8, 9}

// groupNormalise replaces the group-level features of a problem's
// candidates by their z-scores within the problem.
func groupNormalise(feats [][]float32) {
	col := make([]float64, len(feats))
	for _, j := range groupLevelFeatures {
		for i, f := range feats {
			col[i] = float64(f[j])
		}
		for i, z := range zscores(col) {
			feats[i][j] = float32(z)
		}
	}
}

// consensus is each set's mean Jaccard similarity to the other sets.
func consensus(sets [][]uint64) []float64 {
	n := len(sets)
	out := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			s := jaccard(sets[i], sets[j])
			out[i] += s
			out[j] += s
		}
	}
	if n > 1 {
		for i := range out {
			out[i] /= float64(n - 1)
		}
	}
	return out
}

func hashedSet(items []string) []uint64 {
	set := make([]uint64, 0, len(items))
	for _, it := range items {
		if strings.TrimSpace(it) != "" {
			set = append(set, fnv64(it))
		}
	}
	slices.Sort(set)
	return slices.Compact(set)
}

func bigramSet(toks []string) []uint64 {
	set := make([]uint64, 0, len(toks))
	for j := 0; j+1 < len(toks); j++ {
		set = append(set, fnv64(toks[j])*31+fnv64(toks[j+1]))
	}
	slices.Sort(set)
	return slices.Compact(set)
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// pythonKeywords stay visible when identifiers are masked.
var pythonKeywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields("False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield len range enumerate sorted set list dict str int float sum max min abs append") {
		pythonKeywords[k] = true
	}
}

// maskedTokens splits code into words and symbols, with identifiers
// (except keywords and common builtins) as "N" and numbers as "0": the
// program's shape, whatever its names.
func maskedTokens(code string) []string {
	out := splitTokens(code, true)
	for i, w := range out {
		switch {
		case !isWord(w[0]) || pythonKeywords[w]:
		case w[0] >= '0' && w[0] <= '9':
			out[i] = "0"
		default:
			out[i] = "N"
		}
	}
	return out
}

// splitTokens splits code into words (letters, digits, _) and single
// other characters; spaces, tabs and carriage returns separate and are
// dropped, and so are newlines unless keepNewlines.
func splitTokens(code string, keepNewlines bool) []string {
	var out []string
	i := 0
	for i < len(code) {
		c := code[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' && !keepNewlines:
			i++
		case isWord(c):
			j := i
			for j < len(code) && isWord(code[j]) {
				j++
			}
			out = append(out, code[i:j])
			i = j
		default:
			out = append(out, code[i:i+1])
			i++
		}
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

// SimpleConsensusTokens is how many leading tokens SimpleConsensus reads.
const SimpleConsensusTokens = 300

// SimpleConsensus is the plain lexical-consensus baseline: each code's
// mean Jaccard similarity of token-bigram sets to its siblings, over its
// first 300 word, number and punctuation tokens (no tokenizer, no
// training). Rankers are measured beside it: a learned method that ranks
// below it has learnt nothing that generalizes.
func SimpleConsensus(codes []string) []float64 {
	sets := make([][]uint64, len(codes))
	for i, c := range codes {
		toks := plainTokens(c)
		if len(toks) > SimpleConsensusTokens {
			toks = toks[:SimpleConsensusTokens]
		}
		sets[i] = bigramSet(toks)
	}
	return consensus(sets)
}

// plainTokens splits code into words and punctuation, white space
// dropped.
func plainTokens(code string) []string { return splitTokens(code, false) }
