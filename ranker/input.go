package ranker

import (
	"strings"

	"github.com/toppass/toppass/dataset"
)

// ProblemText is what the model reads of a problem: the statement when the
// problem has one apart from its prompt (LeetCode, APPS), then the prompt,
// without its leading import lines (they say nothing about the task).
func ProblemText(p *dataset.Problem) string {
	text := stripImports(p.Prompt)
	if st := p.Statement(); st != p.Prompt {
		text = st + "\n" + text
	}
	return text
}

func stripImports(s string) string {
	lines := strings.Split(s, "\n")
	i := 0
	for i < len(lines) {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, "import ") || strings.HasPrefix(t, "from ") && strings.Contains(t, " import ") {
			i++
			continue
		}
		break
	}
	return strings.Join(lines[i:], "\n")
}

// problemTokens keeps the head of a long problem and its tail (where
// prompts put the signature and the examples), n tokens in all.
func problemTokens(tok *Tokenizer, text string, n int) []int32 {
	ids := tok.Encode(text)
	if len(ids) <= n {
		return ids
	}
	head := n * 3 / 4
	out := append([]int32(nil), ids[:head]...)
	out = append(out, SepID)
	return append(out, ids[len(ids)-(n-head-1):]...)
}

// candidateTokens keeps the head of the candidate (where it goes right or
// wrong first) and each token's 1-based line in the candidate's code.
func candidateTokens(tok *Tokenizer, code string, n int) (ids []int32, lines []int32) {
	all := tok.Encode(code)
	if len(all) > n {
		all = all[:n]
	}
	lines = make([]int32, len(all))
	line := int32(1)
	for i, id := range all {
		lines[i] = line
		if id == FirstByte+'\n' {
			line++
		}
	}
	return all, lines
}
