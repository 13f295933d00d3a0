package ranker

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"unicode/utf8"
)

// Token ids below FirstByte are special; bytes follow; merges after them.
const (
	PadID     = 0
	SepID     = 1
	FirstByte = 4
	firstPair = FirstByte + 256
)

// Tokenizer is a byte-level BPE: text is split into chunks (a newline, a
// run of indentation, a word with at most one leading space, a run of
// punctuation), each chunk's bytes are merged by learnt pair ranks. Every
// byte sequence round-trips; no token crosses a line, so each token has one
// line number (the error-line head relies on it).
type Tokenizer struct {
	Merges [][2]int32 `json:"merges"` // merge i makes token firstPair+i

	ranks map[[2]int32]int32
	bytes [][]byte
	mu    sync.Mutex
	cache map[string][]int32
}

// VocabSize is the number of token ids.
func (t *Tokenizer) VocabSize() int { return firstPair + len(t.Merges) }

func (t *Tokenizer) init() {
	t.ranks = make(map[[2]int32]int32, len(t.Merges))
	t.bytes = make([][]byte, t.VocabSize())
	for b := 0; b < 256; b++ {
		t.bytes[FirstByte+b] = []byte{byte(b)}
	}
	for i, m := range t.Merges {
		id := int32(firstPair + i)
		t.ranks[m] = id
		t.bytes[id] = append(append([]byte(nil), t.bytes[m[0]]...), t.bytes[m[1]]...)
	}
	t.cache = map[string][]int32{}
}

// chunks splits text into the pieces BPE works within.
func chunks(s string, fn func(string)) {
	i := 0
	for i < len(s) {
		j := i + 1
		c := s[i]
		switch {
		case c == '\n':
		case c == ' ' || c == '\t':
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			// a single space before a word or punctuation joins it
			if j == i+1 && c == ' ' && j < len(s) && s[j] != '\n' {
				j = scanClass(s, j)
			}
		default:
			j = scanClass(s, i)
		}
		fn(s[i:j])
		i = j
	}
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

// scanClass returns the end of the run of same-class bytes starting at i.
func scanClass(s string, i int) int {
	w := isWord(s[i])
	j := i + 1
	for j < len(s) && s[j] != '\n' && s[j] != ' ' && s[j] != '\t' && isWord(s[j]) == w {
		if !w && j-i >= 4 { // punctuation runs stay short
			break
		}
		j++
	}
	return j
}

// Encode returns the token ids of s.
func (t *Tokenizer) Encode(s string) []int32 {
	var out []int32
	chunks(s, func(c string) { out = append(out, t.encodeChunk(c)...) })
	return out
}

func (t *Tokenizer) encodeChunk(c string) []int32 {
	t.mu.Lock()
	if t.ranks == nil {
		t.init()
	}
	ids, ok := t.cache[c]
	t.mu.Unlock()
	if ok {
		return ids
	}
	ids = make([]int32, len(c))
	for i := 0; i < len(c); i++ {
		ids[i] = int32(FirstByte + int(c[i]))
	}
	for len(ids) > 1 {
		best, at := int32(-1), -1
		for i := 0; i+1 < len(ids); i++ {
			if r, ok := t.ranks[[2]int32{ids[i], ids[i+1]}]; ok && (best < 0 || r < best) {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		ids[at] = best
		ids = append(ids[:at+1], ids[at+2:]...)
	}
	t.mu.Lock()
	if len(t.cache) > 1<<20 {
		clear(t.cache)
	}
	t.cache[c] = ids
	t.mu.Unlock()
	return ids
}

// Decode returns the text of ids (special tokens are dropped).
func (t *Tokenizer) Decode(ids []int32) string {
	t.mu.Lock()
	if t.ranks == nil {
		t.init()
	}
	t.mu.Unlock()
	var b []byte
	for _, id := range ids {
		if id >= FirstByte && int(id) < len(t.bytes) {
			b = append(b, t.bytes[id]...)
		}
	}
	return string(b)
}

// TokenText is the text of one token, for display.
func (t *Tokenizer) TokenText(id int32) string {
	s := t.Decode([]int32{id})
	if !utf8.ValidString(s) {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// TrainTokenizer learns vocab-firstPair merges from texts. The result is
// deterministic: pairs are merged by count, ties by the smaller pair.
func TrainTokenizer(texts []string, vocab int) *Tokenizer {
	counts := map[string]int{}
	for _, s := range texts {
		chunks(s, func(c string) { counts[c]++ })
	}
	type word struct {
		syms []int32
		n    int
	}
	words := make([]word, 0, len(counts))
	for c, n := range counts {
		syms := make([]int32, len(c))
		for i := 0; i < len(c); i++ {
			syms[i] = int32(FirstByte + int(c[i]))
		}
		words = append(words, word{syms, n})
	}
	pairCount := map[[2]int32]int{}
	pairWords := map[[2]int32][]int32{}
	for wi, w := range words {
		for i := 0; i+1 < len(w.syms); i++ {
			p := [2]int32{w.syms[i], w.syms[i+1]}
			pairCount[p] += w.n
			pairWords[p] = append(pairWords[p], int32(wi))
		}
	}
	h := &pairHeap{}
	for p, n := range pairCount {
		*h = append(*h, pairItem{p, n})
	}
	heap.Init(h)
	t := &Tokenizer{}
	for len(t.Merges) < vocab-firstPair && h.Len() > 0 {
		it := heap.Pop(h).(pairItem)
		if pairCount[it.p] != it.n || it.n < 2 {
			if n := pairCount[it.p]; n >= 2 && n != it.n {
				heap.Push(h, pairItem{it.p, n})
			}
			continue
		}
		id := int32(firstPair + len(t.Merges))
		t.Merges = append(t.Merges, it.p)
		touched := map[[2]int32]bool{}
		seen := map[int32]bool{}
		for _, wi := range pairWords[it.p] {
			if seen[wi] {
				continue
			}
			seen[wi] = true
			w := &words[wi]
			for i := 0; i+1 < len(w.syms); i++ {
				pairCount[[2]int32{w.syms[i], w.syms[i+1]}] -= w.n
				touched[[2]int32{w.syms[i], w.syms[i+1]}] = true
			}
			out := w.syms[:0]
			for i := 0; i < len(w.syms); i++ {
				if i+1 < len(w.syms) && w.syms[i] == it.p[0] && w.syms[i+1] == it.p[1] {
					out = append(out, id)
					i++
				} else {
					out = append(out, w.syms[i])
				}
			}
			w.syms = out
			for i := 0; i+1 < len(w.syms); i++ {
				p := [2]int32{w.syms[i], w.syms[i+1]}
				pairCount[p] += w.n
				touched[p] = true
				if w.syms[i] == id || w.syms[i+1] == id {
					pairWords[p] = append(pairWords[p], wi)
				}
			}
		}
		delete(pairWords, it.p)
		delete(pairCount, it.p)
		for p := range touched {
			if n := pairCount[p]; n >= 2 {
				heap.Push(h, pairItem{p, n})
			}
		}
	}
	t.init()
	return t
}

type pairItem struct {
	p [2]int32
	n int
}

type pairHeap []pairItem

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].n != h[j].n {
		return h[i].n > h[j].n
	}
	if h[i].p[0] != h[j].p[0] {
		return h[i].p[0] < h[j].p[0]
	}
	return h[i].p[1] < h[j].p[1]
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pairItem)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Save writes the tokenizer as JSON.
func (t *Tokenizer) Save(path string) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b)
}

// LoadTokenizer reads a tokenizer saved by Save.
func LoadTokenizer(path string) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTokenizer(b)
}

// ParseTokenizer decodes a saved tokenizer and checks its merges.
func ParseTokenizer(b []byte) (*Tokenizer, error) {
	var t Tokenizer
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	for i, m := range t.Merges {
		if m[0] < FirstByte || m[1] < FirstByte || int(m[0]) >= firstPair+i || int(m[1]) >= firstPair+i {
			return nil, fmt.Errorf("tokenizer: merge %d refers to an unknown token", i)
		}
	}
	t.init()
	return &t, nil
}

// writeFileAtomic writes b to path through a temporary file and a rename,
// so a crash leaves either the old file or the new one.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
