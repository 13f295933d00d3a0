package ranker

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var corpus = []string{
	"def add(a, b):\n    return a + b\n",
	"def add(x, y):\n    return x + y\n",
	"def is_palindrome(s: str) -> bool:\n    return s == s[::-1]\n",
	"    for i in range(len(numbers)):\n        if numbers[i] > threshold:\n            return True\n    return False\n",
	"\"\"\" Return the sum of a and b.\n>>> add(1, 2)\n3\n\"\"\"\n",
	"print('héllo wörld ✓')\n\tx = {'k': [1, 2, 3]}\n",
}

func TestTokenizerRoundTrip(t *testing.T) {
	tok := TrainTokenizer(corpus, 400)
	if tok.VocabSize() <= firstPair || tok.VocabSize() > 400 {
		t.Fatalf("vocab %d, want in (%d, 400]", tok.VocabSize(), firstPair)
	}
	texts := append([]string{"", "\n\n\n", "    ", "💥 non-ASCII and \x00\xff bytes", "return a+b"}, corpus...)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ { // random byte strings, valid UTF-8 or not
		b := make([]byte, rng.IntN(60))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		texts = append(texts, string(b))
	}
	for _, s := range texts {
		ids := tok.Encode(s)
		if got := tok.Decode(ids); got != s {
			t.Fatalf("round trip of %q gave %q", s, got)
		}
		for _, id := range ids {
			if text := tok.Decode([]int32{id}); strings.Contains(text, "\n") && text != "\n" {
				t.Fatalf("token %d (%q) crosses a line", id, text)
			}
		}
	}
	// Merges compress the training text.
	if n := len(tok.Encode(corpus[0])); n >= len(corpus[0])/2 {
		t.Errorf("%d tokens for %d bytes: merges are not applied", n, len(corpus[0]))
	}
}

func TestTokenizerDeterministicAndSaved(t *testing.T) {
	a := TrainTokenizer(corpus, 350)
	b := TrainTokenizer(slices.Clone(corpus), 350)
	if !slices.Equal(a.Merges, b.Merges) {
		t.Fatal("two trainings on the same corpus differ")
	}
	path := filepath.Join(t.TempDir(), "tok.json")
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}
	c, err := LoadTokenizer(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range corpus {
		if !slices.Equal(a.Encode(s), c.Encode(s)) {
			t.Fatalf("loaded tokenizer encodes %q differently", s)
		}
	}
	if _, err := ParseTokenizer([]byte(`{"merges":[[4,9999]]}`)); err == nil {
		t.Error("a merge of an unknown token was accepted")
	}
}

func TestCandidateTokenLines(t *testing.T) {
	tok := TrainTokenizer(corpus, 400)
	ids, lines := candidateTokens(tok, "a = 1\nb = 2\n\nc = 3", 100)
	if len(ids) != len(lines) {
		t.Fatal("one line per token")
	}
	var text []string
	for i, id := range ids {
		if lines[i] == 4 {
			text = append(text, tok.Decode([]int32{id}))
		}
	}
	if got := strings.Join(text, ""); got != "c = 3" {
		t.Errorf("tokens on line 4 read %q, want %q", got, "c = 3")
	}
}

func TestSimpleConsensus(t *testing.T) {
	if got := plainTokens("def f(x):\n    return x+10  # ok"); strings.Join(got, " ") != "def f ( x ) : return x + 10 # ok" {
		t.Fatalf("tokens %q", got)
	}
	codes := []string{"return a + b", "return a + b", "return a+b ", "while True: pass"}
	c := SimpleConsensus(codes)
	// The three that agree score the same, higher than the odd one.
	if c[0] != c[1] || c[1] != c[2] || !(c[0] > c[3]) || c[3] != 0 {
		t.Fatalf("consensus %v", c)
	}
	// Only the first 300 tokens count.
	long := strings.Repeat("x ", 300)
	c = SimpleConsensus([]string{long + "1 2 3", long + "4 5 6"})
	if c[0] != 1 || c[1] != 1 {
		t.Fatalf("past 300 tokens: %v", c)
	}
}

func TestAnchor(t *testing.T) {
	codes := []string{"return a + b", "return a + b", "return b - a", "while True: pass"}
	preds := []Prediction{{PPass: 0.1}, {PPass: 0.2}, {PPass: 0.9}, {PPass: 0.5}}
	Anchor(preds, SimpleConsensus(codes), 0)
	// β 0: consensus alone; the two that agree lead.
	if !(preds[0].Score == preds[1].Score && preds[1].Score > preds[2].Score) {
		t.Fatalf("β 0: %+v", preds)
	}
	Anchor(preds, SimpleConsensus(codes), 100)
	// A large β: the model's order, and P(pass) kept.
	if !(preds[2].Score > preds[3].Score && preds[3].Score > preds[1].Score && preds[1].Score > preds[0].Score) || preds[2].PPass != 0.9 {
		t.Fatalf("β 100: %+v", preds)
	}
}
