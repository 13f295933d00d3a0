package execrank

import (
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/pylit"
)

// Self-made inputs: execution evidence that needs no tests. The inputs of
// the prompt's example calls are changed by type, as EvalPlus's type-aware
// mutation does (numbers nudged, zeroed, negated, scaled; strings edited,
// emptied, case-changed; lists, tuples, sets and dicts grown, shrunk,
// reordered, an element changed; now and then two arguments of one kind
// made twins, see twin), or, without examples, drawn from the
// signature's type hints (guessed, for a parameter without one, from its
// name and the docstring). Every candidate is called on them in the same
// probe run as the examples; what they return (or raise) groups them by
// behaviour, and Behaviour scores the agreement.
//
// Mutations stay close to the example (most keep signs, sizes within a
// factor of two) because an input outside the problem's domain splits the
// right candidates apart; Behaviour then drops the inputs most candidates
// reject and weights the rest by how much the candidates agree.

// SelfInputsDefault is how many inputs a problem gets.
const SelfInputsDefault = 24

// Bounds on what a mutation may build, so that no self-made input is
// expensive for a right candidate.
const (
	maxLen     = 64   // items of a list, tuple, set or dict
	maxStr     = 256  // characters of a string
	maxCallLen = 4096 // a whole call's source
	maxIntBits = 64
)

// SelfInputs makes up to n calls of entry (as source, "f(1, [2])"): from
// the example calls (see CallsOf) by mutating their literal arguments, or,
// when no example call has one, from the type hints of entry's signature in
// prompt (paramHints). The same problem always gets the same inputs (the
// seed is the prompt and the calls); none repeats an example call.
func SelfInputs(prompt, entry string, exampleCalls []string, n int) []string {
	if n <= 0 {
		return nil
	}
	h := sha256.New()
	h.Write([]byte(prompt))
	for _, c := range exampleCalls {
		h.Write([]byte{0})
		h.Write([]byte(c))
	}
	sum := h.Sum(nil)
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum), binary.LittleEndian.Uint64(sum[8:])))
	seen := map[string]bool{}
	for _, c := range exampleCalls {
		seen[c] = true
	}
	var seeds []call
	for _, c := range exampleCalls {
		if sc, ok := parseCall(c); ok && len(sc.changeable()) > 0 {
			seeds = append(seeds, sc)
		}
	}
	var out []string
	add := func(c call) {
		s := c.String()
		if len(s) <= maxCallLen && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(seeds) > 0 {
		grow := func(fill bool) {
			for try := 0; try < 8*n && len(out) < n; try++ {
				c := seeds[try%len(seeds)].clone()
				ks := c.changeable()
				if fill {
					word := rng.IntN(2) == 0 // one kind per call
					for _, k := range ks {
						c.args[k].val = fillEmpty(rng, c.args[k].val, word)
					}
				}
				// One or two arguments changed, each by one to three steps.
				for range 1 + rng.IntN(2) {
					k := ks[rng.IntN(len(ks))]
					for range 1 + rng.IntN(3) {
						c.args[k].val = mutate(rng, c.args[k].val, 0)
					}
				}
				twin(rng, &c, ks)
				add(c)
			}
		}
		grow(false)
		if len(out) == 0 {
			// Every example's containers are empty ("f([], [])"), so no
			// mutation changed anything: give them elements first.
			grow(true)
		}
		sortBySize(out)
		return out
	}
	params, ok := paramHints(prompt, entry)
	if !ok {
		return nil
	}
	name := FuncName(entry)
	for try := 0; try < 8*n && len(out) < n; try++ {
		c := call{name: name}
		for _, p := range params {
			v, ok := draw(rng, p, 0)
			if !ok {
				return nil
			}
			c.args = append(c.args, arg{val: v, lit: true})
		}
		add(c)
	}
	sortBySize(out)
	return out
}

// sortBySize puts short calls first: a run stopped at its deadline has
// then answered the cheap inputs (its later signatures stay empty).
func sortBySize(calls []string) {
	slices.SortStableFunc(calls, func(a, b string) int { return len(a) - len(b) })
}

// call is an example call split into arguments; arguments that are not
// literals are kept as written.
type call struct {
	name string
	args []arg
}

type arg struct {
	keyword string // "" for a positional argument
	raw     string // the source, when not a literal
	val     pylit.Value
	lit     bool
}

var keywordArg = regexp.MustCompile(`^([A-Za-z_][A-Za-z_0-9]*)\s*=([^=].*)$`)

func parseCall(src string) (call, bool) {
	open := strings.IndexByte(src, '(')
	if open <= 0 || !strings.HasSuffix(src, ")") {
		return call{}, false
	}
	c := call{name: src[:open]}
	for _, part := range pylit.SplitTopLevel(src[open+1 : len(src)-1]) {
		a := arg{raw: part}
		if m := keywordArg.FindStringSubmatch(part); m != nil {
			a.keyword, a.raw = m[1], strings.TrimSpace(m[2])
		}
		if strings.HasPrefix(a.raw, "*") {
			return call{}, false // *args: the arity is unknown
		}
		if v, err := pylit.Parse(a.raw); err == nil {
			a.val, a.lit = v, true
		}
		c.args = append(c.args, a)
	}
	return c, true
}

// twin makes, in one call of four that has two changeable arguments of
// one kind, the second a twin of the first: the same number, or the same
// items or characters in reverse order. Ties are where programs part
// (which of two equal maxima, of two lists of the same total length, of
// two anagrams), and independent mutations almost never make one. The
// random draws happen only for such calls, so other problems' inputs do
// not move.
func twin(rng *rand.Rand, c *call, ks []int) {
	var pairs [][2]int
	for x, i := range ks {
		for _, j := range ks[x+1:] {
			if c.args[i].val.Kind == c.args[j].val.Kind {
				pairs = append(pairs, [2]int{i, j})
			}
		}
	}
	if len(pairs) == 0 || rng.IntN(4) != 0 {
		return
	}
	pr := pairs[rng.IntN(len(pairs))]
	if rng.IntN(2) == 0 {
		pr[0], pr[1] = pr[1], pr[0]
	}
	v := c.args[pr[0]].val.Clone()
	switch v.Kind {
	case pylit.Str:
		r := []rune(v.S)
		slices.Reverse(r)
		v.S = string(r)
	case pylit.List, pylit.Tuple:
		slices.Reverse(v.Items)
	}
	c.args[pr[1]].val = v
}

// changeable lists the arguments a mutation may change: the literals
// other than None.
func (c call) changeable() []int {
	var ks []int
	for i, a := range c.args {
		if a.lit && a.val.Kind != pylit.None {
			ks = append(ks, i)
		}
	}
	return ks
}

// clone copies the argument list; the values are shared, as mutate never
// changes its input (it returns a changed copy).
func (c call) clone() call {
	return call{name: c.name, args: slices.Clone(c.args)}
}

func (c call) String() string {
	var b strings.Builder
	b.WriteString(c.name)
	b.WriteByte('(')
	for i, a := range c.args {
		if i > 0 {
			b.WriteString(", ")
		}
		if a.keyword != "" {
			b.WriteString(a.keyword)
			b.WriteByte('=')
		}
		if a.lit {
			b.WriteString(a.val.String())
		} else {
			b.WriteString(a.raw)
		}
	}
	b.WriteByte(')')
	return b.String()
}

// mutate changes v by one step of its type (v itself is not changed).
func mutate(rng *rand.Rand, v pylit.Value, depth int) pylit.Value {
	v = v.Clone()
	switch v.Kind {
	case pylit.Bool:
		v.B = !v.B
	case pylit.Int:
		v.I = mutateInt(rng, v.I)
	case pylit.Float:
		switch rng.IntN(6) {
		case 0:
			v.F += 1
		case 1:
			v.F -= 0.5
		case 2:
			v.F *= 1.5
		case 3:
			v.F /= 2
		case 4:
			v.F = 0
		default:
			v.F = -v.F
		}
	case pylit.Str:
		v.S = mutateStr(rng, v.S)
	case pylit.Bytes:
		v.S = mutateStr(rng, v.S)
		v.S = strings.Map(func(r rune) rune { return r & 0x7f }, v.S)
	case pylit.List, pylit.Tuple, pylit.Set:
		v.Items = mutateSeq(rng, v.Items, depth)
		if v.Kind == pylit.Set {
			v.Items = distinct(v.Items)
		}
	case pylit.Dict:
		mutateDict(rng, &v, depth)
	}
	return v
}

// mutateInt mostly keeps the sign and the size: ±1, ±small, ×2, ÷2; now
// and then 0 or the negation (a boundary is where programs differ most).
func mutateInt(rng *rand.Rand, n *big.Int) *big.Int {
	out := new(big.Int).Set(n)
	switch k := rng.IntN(10); k {
	case 0, 1:
		out.Add(out, big.NewInt(1))
	case 2, 3:
		out.Sub(out, big.NewInt(1))
	case 4:
		out.Add(out, big.NewInt(int64(2+rng.IntN(9))))
	case 5:
		out.Mul(out, big.NewInt(2))
	case 6:
		out.Quo(out, big.NewInt(2))
	case 7:
		out.SetInt64(int64(rng.IntN(3)))
	case 8:
		if n.Sign() >= 0 && n.BitLen() < 20 {
			out.SetInt64(int64(rng.IntN(int(n.Int64())*2 + 10)))
		} else {
			out.Sub(out, big.NewInt(int64(2+rng.IntN(9))))
		}
	default:
		out.Neg(out)
	}
	if out.BitLen() > maxIntBits && out.BitLen() > n.BitLen() {
		return new(big.Int).Set(n)
	}
	return out
}

func mutateStr(rng *rand.Rand, s string) string {
	r := []rune(s)
	alphabet := r
	if len(alphabet) == 0 {
		alphabet = []rune("abcxyz")
	}
	pickRune := func() rune { return alphabet[rng.IntN(len(alphabet))] }
	switch rng.IntN(9) {
	case 0: // drop a character
		if len(r) > 0 {
			i := rng.IntN(len(r))
			r = append(r[:i], r[i+1:]...)
		}
	case 1: // insert one of the string's own characters
		if len(r) < maxStr {
			i := rng.IntN(len(r) + 1)
			r = append(r[:i], append([]rune{pickRune()}, r[i:]...)...)
		}
	case 2: // replace one
		if len(r) > 0 {
			r[rng.IntN(len(r))] = pickRune()
		}
	case 3: // swap two neighbours
		if len(r) > 1 {
			i := rng.IntN(len(r) - 1)
			r[i], r[i+1] = r[i+1], r[i]
		}
	case 4:
		return strings.ToUpper(s)
	case 5:
		return strings.ToLower(s)
	case 6: // repeat
		if 2*len(r) <= maxStr {
			r = append(r, r...)
		}
	case 7: // a prefix
		if len(r) > 1 {
			r = r[:1+rng.IntN(len(r)-1)]
		}
	default:
		if rng.IntN(3) == 0 {
			return ""
		}
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
	}
	return string(r)
}

func mutateSeq(rng *rand.Rand, items []pylit.Value, depth int) []pylit.Value {
	n := len(items)
	if n == 0 {
		return items // nothing says what an element looks like (see fillEmpty)
	}
	switch rng.IntN(8) {
	case 0: // drop one
		if n > 1 || rng.IntN(3) == 0 {
			i := rng.IntN(n)
			items = append(items[:i], items[i+1:]...)
		}
	case 1: // repeat one
		if n < maxLen {
			i := rng.IntN(n)
			items = append(items, items[i].Clone())
		}
	case 2: // add a changed copy of one
		if n < maxLen {
			i := rng.IntN(n)
			items = append(items, mutate(rng, items[i], depth+1))
		}
	case 3: // reorder
		rng.Shuffle(n, func(i, j int) { items[i], items[j] = items[j], items[i] })
	case 4:
		for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	case 5: // grow: double (within bounds)
		if 2*n <= maxLen {
			for i := range n {
				items = append(items, mutate(rng, items[i], depth+1))
			}
		}
	default: // change an element (nested values too)
		if depth < 8 {
			i := rng.IntN(n)
			items[i] = mutate(rng, items[i], depth+1)
		}
	}
	return items
}

// fillEmpty gives an empty list, tuple, set or dict (at the top of v) an
// element: nothing says what one looks like, so one of the commonest kinds,
// a short word or a small int (a dict: a word to an int). An input of the
// kind the problem does not take is one most candidates reject, and
// Behaviour drops it as outside the domain.
func fillEmpty(rng *rand.Rand, v pylit.Value, word bool) pylit.Value {
	switch {
	case (v.Kind == pylit.List || v.Kind == pylit.Tuple || v.Kind == pylit.Set) && len(v.Items) == 0:
		v = v.Clone()
		v.Items = []pylit.Value{drawElement(rng, word)}
	case v.Kind == pylit.Dict && len(v.Keys) == 0:
		v = v.Clone()
		v.Keys, v.Items = []pylit.Value{drawElement(rng, true)}, []pylit.Value{drawElement(rng, false)}
	}
	return v
}

// drawElement makes an element for an empty container: a short lowercase
// word, or a small int.
func drawElement(rng *rand.Rand, word bool) pylit.Value {
	if !word {
		return pylit.Value{Kind: pylit.Int, I: big.NewInt(int64(rng.IntN(10)))}
	}
	const letters = "abcdehilmnorstxyz"
	b := make([]byte, 1+rng.IntN(5))
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return pylit.Value{Kind: pylit.Str, S: string(b)}
}

func mutateDict(rng *rand.Rand, v *pylit.Value, depth int) {
	n := len(v.Keys)
	if n == 0 {
		return
	}
	i := rng.IntN(n)
	switch rng.IntN(3) {
	case 0: // drop a key
		v.Keys = append(v.Keys[:i], v.Keys[i+1:]...)
		v.Items = append(v.Items[:i], v.Items[i+1:]...)
	case 1: // add a changed key with a copy of a value
		if n < maxLen {
			k := mutate(rng, v.Keys[i], depth+1)
			for _, old := range v.Keys {
				if old.String() == k.String() {
					return
				}
			}
			v.Keys = append(v.Keys, k)
			v.Items = append(v.Items, v.Items[rng.IntN(n)].Clone())
		}
	default:
		if depth < 8 {
			v.Items[i] = mutate(rng, v.Items[i], depth+1)
		}
	}
}

// distinct keeps the first of equal items (a set literal's elements).
func distinct(items []pylit.Value) []pylit.Value {
	seen := map[string]bool{}
	out := items[:0]
	for _, x := range items {
		if s := x.String(); !seen[s] {
			seen[s] = true
			out = append(out, x)
		}
	}
	return out
}

// paramHints returns a type hint for each of entry's parameters in the
// prompt's "def name(a: int, b) -> ...": the hint written, or for a
// parameter without one a guess from its name and the prompt's words
// (guessHint); parameters with defaults are left to them. False when the
// prompt does not define entry or it takes *args.
func paramHints(prompt, entry string) ([]string, bool) {
	params, ok := signature(prompt, entry)
	if !ok {
		return nil, false
	}
	doc := docOf(prompt, entry)
	var hints []string
	for _, p := range params {
		if strings.HasPrefix(p, "*") {
			return nil, false
		}
		if strings.Contains(p, "=") {
			continue // a default
		}
		name, hint, ok := strings.Cut(p, ":")
		if !ok {
			hint = guessHint(strings.TrimSpace(name), doc, len(params))
		}
		hints = append(hints, strings.TrimSpace(hint))
	}
	return hints, len(hints) > 0
}

// defOf is where prompt defines entry's function (-1: nowhere).
func defOf(prompt, entry string) int { return strings.Index(prompt, "def "+FuncName(entry)+"(") }

// docOf is what the prompt says after entry's def line (its docstring),
// or the whole prompt.
func docOf(prompt, entry string) string {
	if k := defOf(prompt, entry); k >= 0 {
		if e := strings.IndexByte(prompt[k:], '\n'); e >= 0 {
			return prompt[k+e:]
		}
	}
	return prompt
}

// Docstring is the text of the docstring of entry's def in prompt, between
// its triple quotes; "" when there is no such def or it has none.
func Docstring(prompt, entry string) string {
	k := defOf(prompt, entry)
	if k < 0 {
		return ""
	}
	rest := prompt[k:]
	q, quote := strings.Index(rest, `"""`), `"""`
	if s := strings.Index(rest, "'''"); s >= 0 && (q < 0 || s < q) {
		q, quote = s, "'''"
	}
	if q < 0 {
		return ""
	}
	body := rest[q+3:]
	if e := strings.Index(body, quote); e >= 0 {
		body = body[:e]
	}
	return body
}

// Parameter names that say their type, by the conventions Python code
// and programming exercises follow.
var (
	strNames     = []string{"s", "string", "str", "text", "txt", "word", "sentence", "date", "name", "char", "brackets", "message", "substring", "prefix", "suffix", "pattern", "paren", "planet", "letter", "hex", "code", "password", "email", "url"}
	strListNames = []string{"words", "strings", "names", "extensions", "sentences", "letters"}
	listNames    = []string{"arr", "array", "lst", "l", "list", "nums", "numbers", "xs", "values", "elements", "items", "data", "seq", "sequence", "operand", "game", "guess", "scores", "prices", "heights", "ints", "digits", "costs", "weights"}
	gridNames    = []string{"grid", "matrix", "board", "mat"}
	intNames     = []string{"n", "m", "k", "i", "j", "num", "number", "count", "base", "shift", "capacity", "size", "length", "limit", "target", "year", "day", "month", "height", "width", "side", "radius", "total", "amount", "steps", "times", "level", "threshold"}
)

// guessHint guesses the type of a parameter that has no hint, from its
// name ("arr", "s", "words", "grid"), and for a lone parameter with a
// name that says nothing, from the words of doc, its docstring ("a
// string", "list"); otherwise int, the commonest. A wrong guess costs
// little: an input most candidates reject is dropped as outside the
// problem's domain (Behaviour).
func guessHint(name, doc string, params int) string {
	n := strings.TrimRight(strings.ToLower(name), "0123456789") // lst1, s2
	doc = strings.ToLower(doc)
	is := func(names []string) bool {
		for _, x := range names {
			if n == x || strings.HasPrefix(n, x+"_") || strings.HasSuffix(n, "_"+x) ||
				len(x) > 3 && (strings.HasPrefix(n, x) || strings.HasSuffix(n, x)) {
				return true
			}
		}
		return false
	}
	strElems := strings.Contains(doc, "list of strings") || strings.Contains(doc, "array of strings") || strings.Contains(doc, "list of words")
	switch {
	case is(strListNames):
		return "list[str]"
	case is(gridNames):
		return "list[list[int]]"
	case strings.HasPrefix(n, "interval"):
		return "tuple[int, int]"
	case is(listNames):
		if strElems {
			return "list[str]"
		}
		if strings.Contains(doc, "list of floats") || strings.Contains(doc, "list of real") {
			return "list[float]"
		}
		return "list[int]"
	case is(strNames):
		return "str"
	case n == "d" || strings.HasPrefix(n, "dict") || n == "mapping":
		return "dict[str, int]"
	}
	if params == 1 && !is(intNames) {
		// The type the prompt names first is most often the input's
		// ("Given a positive integer, return ... as a string").
		first, hint := len(doc), "int"
		for _, c := range []struct{ word, hint string }{
			{"list", "list[int]"}, {"array", "list[int]"}, {"string", "str"},
			{"integer", "int"}, {"number", "int"}, {"float", "float"}, {"decimal", "float"},
		} {
			if i := strings.Index(doc, c.word); i >= 0 && i < first {
				first, hint = i, c.hint
			}
		}
		if hint == "list[int]" && strElems {
			hint = "list[str]"
		}
		return hint
	}
	return "int"
}

// signature returns the parameters of entry's "def name(...)" in the
// prompt as written ("a: int", "k=1", "*args"), self and the bare "/"
// and "*" markers left out; false when the prompt does not define it.
func signature(prompt, entry string) ([]string, bool) {
	k := defOf(prompt, entry)
	if k < 0 {
		return nil, false
	}
	open := k + len("def "+FuncName(entry))
	end := pylit.MatchBracket(prompt, open)
	if end < 0 {
		return nil, false
	}
	var params []string
	for _, p := range pylit.SplitTopLevel(prompt[open+1 : end]) {
		if p == "self" || p == "/" || p == "*" {
			continue
		}
		params = append(params, p)
	}
	return params, true
}

// draw makes a value of a type hint (int, float, str, bool, list[T],
// tuple[...], set[T], dict[K, V], Optional[T], typing's capitalised
// names); false for a type it does not know.
func draw(rng *rand.Rand, hint string, depth int) (pylit.Value, bool) {
	hint = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(hint), "typing."))
	base, params := hint, ""
	if i := strings.IndexByte(hint, '['); i > 0 && strings.HasSuffix(hint, "]") {
		base, params = hint[:i], hint[i+1:len(hint)-1]
	}
	if depth > 4 {
		return pylit.Value{}, false
	}
	args := pylit.SplitTopLevel(params)
	elem := func(i int) (pylit.Value, bool) {
		if i >= len(args) {
			return pylit.IntValue(int64(rng.IntN(10))), true
		}
		return draw(rng, args[i], depth+1)
	}
	length := func() int { return rng.IntN(7) }
	switch strings.ToLower(base) {
	case "int":
		return pylit.IntValue(int64(rng.IntN(30) - 5)), true
	case "float":
		return pylit.Value{Kind: pylit.Float, F: float64(rng.IntN(400)-100) / 8}, true
	case "bool":
		return pylit.Value{Kind: pylit.Bool, B: rng.IntN(2) == 0}, true
	case "str":
		letters := "abcdefghij ABC"
		b := make([]byte, rng.IntN(9))
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		return pylit.Value{Kind: pylit.Str, S: string(b)}, true
	case "optional":
		if rng.IntN(8) == 0 {
			return pylit.Value{Kind: pylit.None}, true
		}
		return elem(0)
	case "list", "set", "sequence", "iterable":
		kind := pylit.List
		if strings.EqualFold(base, "set") {
			kind = pylit.Set
		}
		v := pylit.Value{Kind: kind, Items: []pylit.Value{}}
		for range length() {
			x, ok := elem(0)
			if !ok {
				return x, false
			}
			v.Items = append(v.Items, x)
		}
		if kind == pylit.Set {
			v.Items = distinct(v.Items)
		}
		return v, true
	case "tuple":
		v := pylit.Value{Kind: pylit.Tuple, Items: []pylit.Value{}}
		if len(args) == 2 && args[1] == "..." {
			for range length() {
				x, ok := elem(0)
				if !ok {
					return x, false
				}
				v.Items = append(v.Items, x)
			}
			return v, true
		}
		for i := range args {
			x, ok := elem(i)
			if !ok {
				return x, false
			}
			v.Items = append(v.Items, x)
		}
		return v, true
	case "dict", "mapping":
		v := pylit.Value{Kind: pylit.Dict, Items: []pylit.Value{}, Keys: []pylit.Value{}}
		seen := map[string]bool{}
		for range length() {
			k, ok := elem(0)
			if !ok {
				return k, false
			}
			x, ok := elem(1)
			if !ok {
				return x, false
			}
			if !seen[k.String()] {
				seen[k.String()] = true
				v.Keys, v.Items = append(v.Keys, k), append(v.Items, x)
			}
		}
		return v, true
	}
	return pylit.Value{}, false
}

// Behaviour scores each candidate's agreement with the others on the calls
// (one row of signatures per candidate, as Probe gives them): per call,
// the share of candidates that did exactly what it did, averaged over the
// calls with weights. A call is dropped when fewer than half the
// candidates return from it normally (an input most reject is outside
// the problem's domain) or when all of them agree (it separates nothing);
// a kept call weighs its largest group's share, squared, so that inputs
// on which the candidates scatter (ambiguous or out of the domain) count
// little. A candidate that raised or did not reach a call scores 0 on it.
// kept is the number of calls that counted.
func Behaviour(sigs [][]string) (score []float64, kept int) {
	n := len(sigs)
	score = make([]float64, n)
	if n < 2 {
		return score, 0
	}
	calls := 0
	for _, s := range sigs {
		calls = max(calls, len(s))
	}
	var total float64
	size := map[string]int{}
	for j := range calls {
		clear(size)
		normal, largest := 0, 0
		for _, s := range sigs {
			if j < len(s) && s[j] != "" && !strings.HasPrefix(s[j], "!") {
				normal++
				size[s[j]]++
				largest = max(largest, size[s[j]])
			}
		}
		if 2*normal < n || largest == n {
			continue
		}
		w := float64(largest) / float64(n)
		w *= w
		total += w
		kept++
		for i, s := range sigs {
			if j < len(s) && s[j] != "" && !strings.HasPrefix(s[j], "!") {
				score[i] += w * float64(size[s[j]]) / float64(n)
			}
		}
	}
	if total > 0 {
		for i := range score {
			score[i] /= total
		}
	}
	return score, kept
}

// maxStdioInputs caps the self-made inputs of a stdin/stdout problem:
// each is a run of its own, where a function's inputs share one.
const maxStdioInputs = 8

// SelfStdin makes up to n inputs for a stdin/stdout program from its
// examples' inputs, keeping their layout: integer tokens nudged (sign
// kept; a token that looks like a count — the number of items on the next
// line, or of the lines after it — is left alone, so the input still
// parses), letters of words replaced by others of the same word. The same
// examples always give the same inputs; none repeats an example.
func SelfStdin(examples []dataset.IOCase, n int) []string {
	n = min(n, maxStdioInputs)
	if n <= 0 || len(examples) == 0 {
		return nil
	}
	h := sha256.New()
	for _, ex := range examples {
		h.Write([]byte(ex.Input))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum), binary.LittleEndian.Uint64(sum[8:])))
	seen := map[string]bool{}
	for _, ex := range examples {
		seen[ex.Input] = true
	}
	var out []string
	for try := 0; try < 8*n && len(out) < n; try++ {
		in := mutateStdin(rng, examples[try%len(examples)].Input)
		if in != "" && len(in) <= 1<<16 && !seen[in] {
			seen[in] = true
			out = append(out, in)
		}
	}
	sortBySize(out)
	return out
}

// mutateStdin changes one to three tokens of an input.
func mutateStdin(rng *rand.Rand, input string) string {
	lines := strings.Split(input, "\n")
	type pos struct{ line, tok int }
	var ints, words []pos
	toks := make([][]string, len(lines))
	for i, l := range lines {
		toks[i] = strings.Fields(l)
		for j, t := range toks[i] {
			if _, ok := new(big.Int).SetString(t, 10); ok {
				if !looksLikeCount(t, i, toks, lines) {
					ints = append(ints, pos{i, j})
				}
			} else if isWord(t) {
				words = append(words, pos{i, j})
			}
		}
	}
	if len(ints)+len(words) == 0 {
		return ""
	}
	changed := map[pos]bool{}
	for range 1 + rng.IntN(3) {
		k := rng.IntN(len(ints) + len(words))
		if k < len(ints) {
			p := ints[k]
			v, _ := new(big.Int).SetString(toks[p.line][p.tok], 10)
			m := mutateInt(rng, v)
			if m.Sign() != v.Sign() && v.Sign() != 0 {
				m.Neg(m) // keep the sign: an input's domain rarely spans both
			}
			toks[p.line][p.tok] = m.String()
			changed[p] = true
			continue
		}
		p := words[k-len(ints)]
		w := []rune(toks[p.line][p.tok])
		w[rng.IntN(len(w))] = w[rng.IntN(len(w))]
		if rng.IntN(2) == 0 && len(w) > 1 {
			i := rng.IntN(len(w) - 1)
			w[i], w[i+1] = w[i+1], w[i]
		}
		toks[p.line][p.tok] = string(w)
		changed[p] = true
	}
	if len(changed) == 0 {
		return ""
	}
	for i := range lines {
		if len(toks[i]) > 0 {
			lines[i] = strings.Join(toks[i], " ")
		}
	}
	return strings.Join(lines, "\n")
}

// looksLikeCount: t, on line i, equals the number of tokens on the next
// line or the number of non-empty lines after line i.
func looksLikeCount(t string, i int, toks [][]string, lines []string) bool {
	n, err := strconv.Atoi(t)
	if err != nil {
		return false
	}
	if i+1 < len(toks) && len(toks[i+1]) == n {
		return true
	}
	rest := 0
	for _, l := range lines[i+1:] {
		if strings.TrimSpace(l) != "" {
			rest++
		}
	}
	return rest == n || len(toks[i]) == 1 && i == 0
}

func isWord(t string) bool {
	for _, r := range t {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return t != ""
}
