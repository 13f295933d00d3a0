// Package pylit reads and writes Python literals (numbers, strings, bytes,
// True/False/None, lists, tuples, sets, dicts, nested) without running
// Python: the execution ranker makes its own inputs by parsing the
// arguments of a prompt's example calls, changing them, and writing them
// back as source. Anything that is not a literal (a name, an expression,
// an f-string) is an error, and the caller keeps that argument as written.
package pylit

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is a literal's type.
type Kind int

// Kinds of values.
const (
	None Kind = iota
	Bool
	Int
	Float
	Str
	Bytes
	List
	Tuple
	Set
	Dict
)

var kindNames = [...]string{"None", "bool", "int", "float", "str", "bytes", "list", "tuple", "set", "dict"}

func (k Kind) String() string { return kindNames[k] }

// Value is one literal. Which fields are set depends on Kind: B (Bool),
// I (Int), F (Float), S (Str, Bytes: the bytes as a Go string), Items
// (List, Tuple, Set; a Dict's values), Keys (a Dict's keys).
type Value struct {
	Kind  Kind
	B     bool
	I     *big.Int
	F     float64
	S     string
	Items []Value
	Keys  []Value
}

// Clone copies v deeply (a mutation of the copy leaves v alone).
func (v Value) Clone() Value {
	out := v
	if v.I != nil {
		out.I = new(big.Int).Set(v.I)
	}
	if v.Items != nil {
		out.Items = make([]Value, len(v.Items))
		for i, x := range v.Items {
			out.Items[i] = x.Clone()
		}
	}
	if v.Keys != nil {
		out.Keys = make([]Value, len(v.Keys))
		for i, x := range v.Keys {
			out.Keys[i] = x.Clone()
		}
	}
	return out
}

// IntValue makes an int.
func IntValue(n int64) Value { return Value{Kind: Int, I: big.NewInt(n)} }

// String writes v as Python source that evaluates to it (repr's form,
// with floats that stay floats and sets that stay sets when empty).
func (v Value) String() string {
	var b strings.Builder
	v.write(&b)
	return b.String()
}

func (v Value) write(b *strings.Builder) {
	switch v.Kind {
	case None:
		b.WriteString("None")
	case Bool:
		if v.B {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case Int:
		b.WriteString(v.I.String())
	case Float:
		b.WriteString(formatFloat(v.F))
	case Str:
		writeQuoted(b, v.S, false)
	case Bytes:
		writeQuoted(b, v.S, true)
	case List:
		writeItems(b, "[", "]", v.Items, false)
	case Tuple:
		writeItems(b, "(", ")", v.Items, len(v.Items) == 1)
	case Set:
		if len(v.Items) == 0 {
			b.WriteString("set()")
			return
		}
		writeItems(b, "{", "}", v.Items, false)
	case Dict:
		b.WriteByte('{')
		for i := range v.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			v.Keys[i].write(b)
			b.WriteString(": ")
			v.Items[i].write(b)
		}
		b.WriteByte('}')
	}
}

func writeItems(b *strings.Builder, open, close string, items []Value, trailingComma bool) {
	b.WriteString(open)
	for i, x := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		x.write(b)
	}
	if trailingComma {
		b.WriteByte(',')
	}
	b.WriteString(close)
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "float('inf')"
	case math.IsInf(f, -1):
		return "float('-inf')"
	case math.IsNaN(f):
		return "float('nan')"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// writeQuoted writes s as a Python string (or bytes) literal in single
// quotes, escaping what repr escapes.
func writeQuoted(b *strings.Builder, s string, bytes bool) {
	if bytes {
		b.WriteByte('b')
	}
	b.WriteByte('\'')
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if !bytes {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError && size == 1 && !bytes:
			b.WriteString(`\ufffd`)
		case r < 0x20 || r == 0x7f || bytes && r >= 0x80:
			fmt.Fprintf(b, `\x%02x`, r)
		case !unicode.IsPrint(r):
			if r > 0xffff {
				fmt.Fprintf(b, `\U%08x`, r)
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
}

// ErrNotLiteral is returned for source that is not a literal.
var ErrNotLiteral = errors.New("not a Python literal")

// maxDepth bounds nesting (a hostile prompt cannot exhaust the stack).
const maxDepth = 64

// Parse reads one literal; surrounding space is allowed, anything else
// after it is an error.
func Parse(src string) (Value, error) {
	p := &parser{s: src}
	v, err := p.value(0)
	if err != nil {
		return Value{}, err
	}
	p.space()
	if p.i != len(p.s) {
		return Value{}, fmt.Errorf("%w: %q after the value", ErrNotLiteral, p.rest())
	}
	return v, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *parser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\n\r\\", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *parser) fail(what string) error {
	return fmt.Errorf("%w: %s at %q", ErrNotLiteral, what, p.rest())
}

func (p *parser) value(depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, p.fail("nested too deep")
	}
	p.space()
	if p.i >= len(p.s) {
		return Value{}, p.fail("end of input")
	}
	c := p.s[p.i]
	switch {
	case c == '[':
		p.i++
		items, _, err := p.items(']', depth)
		return Value{Kind: List, Items: items}, err
	case c == '(':
		p.i++
		items, comma, err := p.items(')', depth)
		if err != nil {
			return Value{}, err
		}
		if len(items) == 1 && !comma {
			return items[0], nil // parenthesised value
		}
		return Value{Kind: Tuple, Items: items}, nil
	case c == '{':
		p.i++
		return p.braces(depth)
	case c == '-' || c == '+':
		p.i++
		v, err := p.value(depth + 1)
		if err != nil {
			return Value{}, err
		}
		if c == '+' {
			if v.Kind != Int && v.Kind != Float {
				return Value{}, p.fail("unary + on a non-number")
			}
			return v, nil
		}
		switch v.Kind {
		case Int:
			v.I.Neg(v.I)
		case Float:
			v.F = -v.F
		default:
			return Value{}, p.fail("unary - on a non-number")
		}
		return v, nil
	case c >= '0' && c <= '9' || c == '.' && p.i+1 < len(p.s) && p.s[p.i+1] >= '0' && p.s[p.i+1] <= '9':
		return p.number()
	case c == '"' || c == '\'':
		return p.str("")
	}
	// A name: a keyword literal, a string prefix, or float('inf') / set().
	j := p.i
	for j < len(p.s) && (p.s[j] == '_' || p.s[j] >= 'a' && p.s[j] <= 'z' || p.s[j] >= 'A' && p.s[j] <= 'Z' || p.s[j] >= '0' && p.s[j] <= '9') {
		j++
	}
	name := p.s[p.i:j]
	if j < len(p.s) && (p.s[j] == '"' || p.s[j] == '\'') {
		switch strings.ToLower(name) {
		case "r", "u", "b", "br", "rb":
			p.i = j
			return p.str(strings.ToLower(name))
		}
		return Value{}, p.fail("string prefix " + name)
	}
	p.i = j
	switch name {
	case "None":
		return Value{Kind: None}, nil
	case "True", "False":
		return Value{Kind: Bool, B: name == "True"}, nil
	case "set":
		if strings.HasPrefix(p.s[p.i:], "()") {
			p.i += 2
			return Value{Kind: Set}, nil
		}
	case "float":
		for _, f := range []struct {
			src string
			v   float64
		}{{"('inf')", math.Inf(1)}, {"('-inf')", math.Inf(-1)}, {"('nan')", math.NaN()}, {`("inf")`, math.Inf(1)}, {`("-inf")`, math.Inf(-1)}, {`("nan")`, math.NaN()}} {
			if strings.HasPrefix(p.s[p.i:], f.src) {
				p.i += len(f.src)
				return Value{Kind: Float, F: f.v}, nil
			}
		}
	}
	p.i -= len(name)
	return Value{}, p.fail("a name")
}

// items reads comma-separated values up to close; comma says whether a
// comma was seen (a one-item tuple).
func (p *parser) items(close byte, depth int) ([]Value, bool, error) {
	items := []Value{}
	comma := false
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == close {
			p.i++
			return items, comma, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, false, err
		}
		items = append(items, v)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			comma = true
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == close {
			p.i++
			return items, comma, nil
		}
		return nil, false, p.fail("expected , or " + string(close))
	}
}

func (p *parser) braces(depth int) (Value, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return Value{Kind: Dict, Items: []Value{}, Keys: []Value{}}, nil
	}
	first, err := p.value(depth + 1)
	if err != nil {
		return Value{}, err
	}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ':' {
		d := Value{Kind: Dict}
		for k := first; ; {
			p.i++ // the colon
			v, err := p.value(depth + 1)
			if err != nil {
				return Value{}, err
			}
			d.Keys, d.Items = append(d.Keys, k), append(d.Items, v)
			if done, err := p.sep('}'); done || err != nil {
				return d, err
			}
			if k, err = p.value(depth + 1); err != nil {
				return Value{}, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return Value{}, p.fail("expected :")
			}
		}
	}
	// A set: the first element, then the rest as a list's items.
	if done, err := p.sep('}'); done || err != nil {
		return Value{Kind: Set, Items: []Value{first}}, err
	}
	rest, _, err := p.items('}', depth)
	return Value{Kind: Set, Items: append([]Value{first}, rest...)}, err
}

// sep reads what follows an item up to close: a comma (and the close
// after a trailing comma) or the close itself; done says the close was
// read. Anything else is an error.
func (p *parser) sep(close byte) (done bool, err error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == close {
		p.i++
		return true, nil
	}
	if p.i >= len(p.s) || p.s[p.i] != ',' {
		return false, p.fail("expected , or " + string(close))
	}
	p.i++
	p.space()
	if p.i < len(p.s) && p.s[p.i] == close {
		p.i++
		return true, nil
	}
	return false, nil
}

func (p *parser) number() (Value, error) {
	j := p.i
	isFloat := false
	if strings.HasPrefix(p.s[j:], "0x") || strings.HasPrefix(p.s[j:], "0X") || strings.HasPrefix(p.s[j:], "0o") ||
		strings.HasPrefix(p.s[j:], "0O") || strings.HasPrefix(p.s[j:], "0b") || strings.HasPrefix(p.s[j:], "0B") {
		j += 2
		for j < len(p.s) && (isHex(p.s[j]) || p.s[j] == '_') {
			j++
		}
		n, ok := new(big.Int).SetString(strings.ReplaceAll(p.s[p.i:j], "_", ""), 0)
		if !ok {
			return Value{}, p.fail("a number")
		}
		p.i = j
		return Value{Kind: Int, I: n}, nil
	}
	for j < len(p.s) {
		c := p.s[j]
		switch {
		case c >= '0' && c <= '9' || c == '_':
		case c == '.':
			isFloat = true
		case (c == 'e' || c == 'E') && j+1 < len(p.s):
			isFloat = true
			if p.s[j+1] == '-' || p.s[j+1] == '+' {
				j++
			}
		default:
			goto done
		}
		j++
	}
done:
	if j < len(p.s) && (p.s[j] == 'j' || p.s[j] == 'J' || p.s[j] == 'l' || p.s[j] == 'L') {
		return Value{}, p.fail("a complex or long number")
	}
	text := strings.ReplaceAll(p.s[p.i:j], "_", "")
	p.i = j
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return Value{}, p.fail("a number")
		}
		return Value{Kind: Float, F: f}, nil
	}
	if len(text) > 1 && text[0] == '0' && strings.Trim(text, "0") != "" {
		return Value{}, p.fail("a number with leading zeros")
	}
	n, ok := new(big.Int).SetString(text, 10)
	if !ok {
		return Value{}, p.fail("a number")
	}
	return Value{Kind: Int, I: n}, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// str reads a string literal at p.i (after its prefix): single, double or
// triple quoted; adjacent literals are joined as Python does.
func (p *parser) str(prefix string) (Value, error) {
	raw, bytes := strings.Contains(prefix, "r"), strings.Contains(prefix, "b")
	var out strings.Builder
	for {
		q := p.s[p.i : p.i+1]
		if strings.HasPrefix(p.s[p.i:], q+q+q) {
			q = q + q + q
		}
		p.i += len(q)
		for {
			if p.i >= len(p.s) {
				return Value{}, p.fail("unterminated string")
			}
			if strings.HasPrefix(p.s[p.i:], q) {
				p.i += len(q)
				break
			}
			c := p.s[p.i]
			if c == '\n' && len(q) == 1 {
				return Value{}, p.fail("newline in a string")
			}
			if c != '\\' || p.i+1 >= len(p.s) {
				if bytes && c >= 0x80 {
					return Value{}, p.fail("non-ASCII in bytes")
				}
				out.WriteByte(c)
				p.i++
				continue
			}
			if raw {
				out.WriteString(p.s[p.i : p.i+2])
				p.i += 2
				continue
			}
			if err := p.escape(&out, bytes); err != nil {
				return Value{}, err
			}
		}
		// Implicit concatenation: 'a' 'b'.
		j := p.i
		for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
			j++
		}
		if j < len(p.s) && (p.s[j] == '"' || p.s[j] == '\'') && prefix == "" {
			p.i = j
			continue
		}
		break
	}
	if bytes {
		return Value{Kind: Bytes, S: out.String()}, nil
	}
	if !utf8.ValidString(out.String()) {
		return Value{}, p.fail("invalid UTF-8 in a string")
	}
	return Value{Kind: Str, S: out.String()}, nil
}

// escape reads one backslash escape at p.i.
func (p *parser) escape(out *strings.Builder, bytes bool) error {
	c := p.s[p.i+1]
	p.i += 2
	simple := map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', '\\': '\\', '\'': '\'', '"': '"', 'a': 7, 'b': 8, 'f': 12, 'v': 11, '\n': 0}
	if r, ok := simple[c]; ok {
		if c != '\n' { // a backslash-newline continues the line
			out.WriteByte(r)
		}
		return nil
	}
	hex := func(n int) (uint64, error) {
		if p.i+n > len(p.s) {
			return 0, p.fail("short escape")
		}
		v, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
		if err != nil {
			return 0, p.fail("bad escape")
		}
		p.i += n
		return v, nil
	}
	switch {
	case c == 'x':
		v, err := hex(2)
		if err != nil {
			return err
		}
		if bytes {
			out.WriteByte(byte(v))
		} else {
			out.WriteRune(rune(v))
		}
	case (c == 'u' || c == 'U') && !bytes:
		n := 4
		if c == 'U' {
			n = 8
		}
		v, err := hex(n)
		if err != nil {
			return err
		}
		if v > unicode.MaxRune || v >= 0xd800 && v < 0xe000 {
			return p.fail("escape out of range")
		}
		out.WriteRune(rune(v))
	case c >= '0' && c <= '7':
		v := uint64(c - '0')
		for k := 0; k < 2 && p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '7'; k++ {
			v = v*8 + uint64(p.s[p.i]-'0')
			p.i++
		}
		if bytes {
			out.WriteByte(byte(v))
		} else {
			out.WriteRune(rune(v))
		}
	default: // unknown escapes keep their backslash
		out.WriteByte('\\')
		out.WriteByte(c)
	}
	return nil
}

// walk visits the bytes of s from start that lie outside string
// literals, with the bracket depth before each (a closing bracket is
// visited at its opening's depth minus one); visit returns false to stop.
// It returns whether the walk ended outside a string, and the depth there.
func walk(s string, start int, visit func(i, depth int, c byte) bool) (closed bool, depth int) {
	var quote byte
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		case c == '\'' || c == '"':
			quote = c
			continue
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		}
		if !visit(i, depth, c) {
			return true, depth
		}
	}
	return quote == 0, depth
}

// IsName says whether s is a Python name in ASCII: a letter or "_",
// then letters, digits and "_".
func IsName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// Outside visits the bytes of s that lie outside string literals, with
// the bracket depth before each (see walk); visit returns false to stop.
func Outside(s string, visit func(i, depth int, c byte) bool) {
	walk(s, 0, visit)
}

// SplitTopLevel splits s at the commas outside brackets and string
// literals ("1, [2, 3], 'a,b'" gives three parts), trimmed; a trailing
// comma gives no empty part.
func SplitTopLevel(s string) []string {
	var out []string
	start := 0
	walk(s, 0, func(i, depth int, c byte) bool {
		if c == ',' && depth == 0 {
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
		return true
	})
	if last := strings.TrimSpace(s[start:]); last != "" {
		out = append(out, last)
	}
	return out
}

// MatchBracket returns the index of the bracket closing the one at open,
// skipping string literals, or -1.
func MatchBracket(s string, open int) int {
	end := -1
	walk(s, open, func(i, depth int, c byte) bool {
		if depth == 0 && (c == ')' || c == ']' || c == '}') {
			end = i
			return false
		}
		return true
	})
	return end
}

// Balanced says whether every bracket of s outside string literals is
// closed, and no string is left open.
func Balanced(s string) bool {
	ok := true
	closed, depth := walk(s, 0, func(_, depth int, _ byte) bool {
		ok = depth >= 0
		return ok
	})
	return ok && closed && depth == 0
}
