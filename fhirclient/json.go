package fhirclient

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// aliasString returns b's bytes as a string without copying them, for
// parseJSON: the tree's strings then share the bytes instead of a copy,
// which halves what a parsed response holds (a 12 MB page of Observations
// held 12 MB of body and 12 MB of string copy, besides its tree). Only for
// bytes nobody modifies afterwards: the response bodies this package reads
// and keeps, and DecodeBundle's data, whose callers are told the same.
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// kind is the JSON type of a node.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

// node is one value of a lean JSON tree: the tree the table columns are
// evaluated on. It is built in a single pass over the input, with every
// string a substring of one copy of the input and all nodes carved out of a
// few large blocks, which makes it several times cheaper to build than
// map[string]any while keeping member order and the raw text of every
// object and array.
type node struct {
	key  string // the member name, when the node is an object member
	s    string // string text; number or boolean literal; raw JSON of an object or array
	kids []node // array elements or object members
	pos  int32  // byte offset of the value in the input
	k    kind
}

// maxDepth bounds how deeply objects and arrays may nest.
const maxDepth = 512

// errSyntax marks JSON that does not parse.
var errSyntax = errors.New("invalid JSON")

// syntaxError is a JSON syntax error at a byte offset.
type syntaxError struct {
	msg    string
	offset int
	eof    bool // the input ended early (truncated)
}

func (e *syntaxError) Error() string {
	if e.eof {
		return fmt.Sprintf("the JSON ends early at byte %d (truncated?): %s", e.offset, e.msg)
	}
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.offset, e.msg)
}

func (e *syntaxError) Unwrap() error { return errSyntax }

type parser struct {
	data  string
	i     int
	depth int
	stack []node // children of the containers being parsed
	arena []node // the current block that finished children are copied into
	chunk int
	buf   []byte // scratch for unescaping strings
}

// parseJSON parses one JSON value, which must fill data apart from white
// space.
func parseJSON(data string) (node, error) {
	p := parser{data: data}
	p.chunk = arenaBlock(len(data))
	p.stack = make([]node, 0, 64)
	p.ws()
	n, err := p.value("")
	if err != nil {
		return node{}, err
	}
	p.ws()
	if p.i < len(p.data) {
		return node{}, p.errf("unexpected %q after the top-level value", p.data[p.i])
	}
	return n, nil
}

func (p *parser) errf(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...), offset: p.i}
}

func (p *parser) eof(what string) error {
	return &syntaxError{msg: "expected " + what, offset: p.i, eof: true}
}

func (p *parser) ws() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// arenaBlock is the size of the next block of nodes when rest bytes of
// input are left: about what they hold (FHIR JSON has 17 to 21 bytes a
// node), so that the last block of a parse is not mostly empty, and at
// most 8192 nodes (512 KiB), so that a long string (a base64 attachment)
// does not reserve room for nodes it does not have.
func arenaBlock(rest int) int {
	return min(rest/16+32, 8192)
}

// alloc copies finished children into the current block.
func (p *parser) alloc(src []node) []node {
	n := len(src)
	if n == 0 {
		return nil
	}
	if n > cap(p.arena)-len(p.arena) {
		p.arena = make([]node, 0, max(n, p.chunk))
		p.chunk = arenaBlock(len(p.data) - p.i)
	}
	l := len(p.arena)
	p.arena = append(p.arena, src...)
	return p.arena[l : l+n : l+n]
}

func (p *parser) value(key string) (node, error) {
	if p.i >= len(p.data) {
		return node{}, p.eof("a value")
	}
	start := p.i
	switch c := p.data[p.i]; c {
	case '{':
		return p.object(key)
	case '[':
		return p.array(key)
	case '"':
		s, err := p.str()
		if err != nil {
			return node{}, err
		}
		return node{key: key, s: s, pos: int32(start), k: kString}, nil
	case 't':
		return p.literal(key, "true", kBool)
	case 'f':
		return p.literal(key, "false", kBool)
	case 'n':
		return p.literal(key, "null", kNull)
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return p.number(key)
		}
		return node{}, p.errf("unexpected %q where a value should start", c)
	}
}

func (p *parser) literal(key, lit string, k kind) (node, error) {
	start := p.i
	end := p.i + len(lit)
	if end > len(p.data) {
		if lit[:len(p.data)-p.i] == p.data[p.i:] {
			p.i = len(p.data)
			return node{}, p.eof(lit)
		}
		return node{}, p.errf("invalid literal, expected %s", lit)
	}
	if p.data[p.i:end] != lit {
		return node{}, p.errf("invalid literal, expected %s", lit)
	}
	p.i = end
	return node{key: key, s: lit, pos: int32(start), k: k}, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) number(key string) (node, error) {
	start := p.i
	d := p.data
	if d[p.i] == '-' {
		p.i++
	}
	if p.i >= len(d) {
		return node{}, p.eof("a digit")
	}
	switch {
	case d[p.i] == '0':
		p.i++
	case isDigit(d[p.i]):
		for p.i < len(d) && isDigit(d[p.i]) {
			p.i++
		}
	default:
		return node{}, p.errf("invalid number")
	}
	if p.i < len(d) && d[p.i] == '.' {
		p.i++
		if p.i >= len(d) {
			return node{}, p.eof("a digit")
		}
		if !isDigit(d[p.i]) {
			return node{}, p.errf("invalid number")
		}
		for p.i < len(d) && isDigit(d[p.i]) {
			p.i++
		}
	}
	if p.i < len(d) && (d[p.i] == 'e' || d[p.i] == 'E') {
		p.i++
		if p.i < len(d) && (d[p.i] == '+' || d[p.i] == '-') {
			p.i++
		}
		if p.i >= len(d) {
			return node{}, p.eof("a digit")
		}
		if !isDigit(d[p.i]) {
			return node{}, p.errf("invalid number")
		}
		for p.i < len(d) && isDigit(d[p.i]) {
			p.i++
		}
	}
	return node{key: key, s: d[start:p.i], pos: int32(start), k: kNumber}, nil
}

// str parses a string starting at the opening quote. Strings without
// escapes or invalid UTF-8 are substrings of the input.
func (p *parser) str() (string, error) {
	d := p.data
	p.i++ // opening quote
	start := p.i
	for p.i < len(d) {
		c := d[p.i]
		switch {
		case c == '"':
			s := d[start:p.i]
			p.i++
			return s, nil
		case c == '\\' || c >= utf8.RuneSelf:
			return p.strSlow(start)
		case c < 0x20:
			return "", p.errf("control character %#x in a string", c)
		}
		p.i++
	}
	return "", p.eof("a closing quote")
}

// strSlow unescapes a string the way encoding/json does, replacing invalid
// UTF-8 and lone surrogates with U+FFFD.
func (p *parser) strSlow(start int) (string, error) {
	d := p.data
	b := append(p.buf[:0], d[start:p.i]...)
	for p.i < len(d) {
		c := d[p.i]
		switch {
		case c == '"':
			p.i++
			p.buf = b
			return string(b), nil
		case c == '\\':
			p.i++
			if p.i >= len(d) {
				return "", p.eof("an escape")
			}
			e := d[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if p.i+1 < len(d) && d[p.i] == '\\' && d[p.i+1] == 'u' {
						save := p.i
						p.i += 2
						x, err := p.hex4()
						if err != nil {
							return "", err
						}
						if dec := utf16.DecodeRune(r, x); dec != utf8.RuneError {
							r2 = dec
						} else {
							p.i = save
						}
					}
					if r2 < 0 {
						r = utf8.RuneError
					} else {
						r = r2
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.i--
				return "", p.errf("invalid escape \\%c", e)
			}
		case c < 0x20:
			return "", p.errf("control character %#x in a string", c)
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.i++
		default:
			r, size := utf8.DecodeRuneInString(d[p.i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, d[p.i:p.i+size]...)
			}
			p.i += size
		}
	}
	return "", p.eof("a closing quote")
}

func (p *parser) hex4() (rune, error) {
	if p.i+4 > len(p.data) {
		p.i = len(p.data)
		return 0, p.eof("four hex digits")
	}
	v, err := strconv.ParseUint(p.data[p.i:p.i+4], 16, 32)
	if err != nil || p.data[p.i] == '+' || p.data[p.i] == '-' {
		return 0, p.errf("invalid \\u escape")
	}
	p.i += 4
	return rune(v), nil
}

func (p *parser) object(key string) (node, error) {
	start := p.i
	p.i++ // '{'
	if p.depth++; p.depth > maxDepth {
		return node{}, p.errf("nested more than %d levels deep", maxDepth)
	}
	mark := len(p.stack)
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		p.depth--
		return node{key: key, s: p.data[start:p.i], pos: int32(start), k: kObject}, nil
	}
	for {
		if p.i >= len(p.data) {
			return node{}, p.eof("a member name")
		}
		if p.data[p.i] != '"' {
			return node{}, p.errf("expected a member name, found %q", p.data[p.i])
		}
		name, err := p.str()
		if err != nil {
			return node{}, err
		}
		p.ws()
		if p.i >= len(p.data) {
			return node{}, p.eof("':'")
		}
		if p.data[p.i] != ':' {
			return node{}, p.errf("expected ':' after a member name, found %q", p.data[p.i])
		}
		p.i++
		p.ws()
		v, err := p.value(name)
		if err != nil {
			return node{}, err
		}
		p.stack = append(p.stack, v)
		p.ws()
		if p.i >= len(p.data) {
			return node{}, p.eof("',' or '}'")
		}
		switch p.data[p.i] {
		case ',':
			p.i++
			p.ws()
		case '}':
			p.i++
			p.depth--
			kids := p.alloc(p.stack[mark:])
			p.stack = p.stack[:mark]
			return node{key: key, s: p.data[start:p.i], kids: kids, pos: int32(start), k: kObject}, nil
		default:
			return node{}, p.errf("expected ',' or '}' in an object, found %q", p.data[p.i])
		}
	}
}

func (p *parser) array(key string) (node, error) {
	start := p.i
	p.i++ // '['
	if p.depth++; p.depth > maxDepth {
		return node{}, p.errf("nested more than %d levels deep", maxDepth)
	}
	mark := len(p.stack)
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		p.depth--
		return node{key: key, s: p.data[start:p.i], pos: int32(start), k: kArray}, nil
	}
	for {
		v, err := p.value("")
		if err != nil {
			return node{}, err
		}
		p.stack = append(p.stack, v)
		p.ws()
		if p.i >= len(p.data) {
			return node{}, p.eof("',' or ']'")
		}
		switch p.data[p.i] {
		case ',':
			p.i++
			p.ws()
		case ']':
			p.i++
			p.depth--
			kids := p.alloc(p.stack[mark:])
			p.stack = p.stack[:mark]
			return node{key: key, s: p.data[start:p.i], kids: kids, pos: int32(start), k: kArray}, nil
		default:
			return node{}, p.errf("expected ',' or ']' in an array, found %q", p.data[p.i])
		}
	}
}

// get returns the object member called name (the last one, as
// encoding/json would keep), or nil.
func (n *node) get(name string) *node {
	if n == nil || n.k != kObject {
		return nil
	}
	for i := len(n.kids) - 1; i >= 0; i-- {
		if n.kids[i].key == name {
			return &n.kids[i]
		}
	}
	return nil
}

// text returns a string's text, or a number's or boolean's literal.
func (n *node) text() string {
	if n == nil {
		return ""
	}
	switch n.k {
	case kString, kNumber, kBool:
		return n.s
	}
	return ""
}

// str returns the text of the string member called name.
func (n *node) str(name string) string {
	return n.get(name).text()
}

// items returns an array's elements, or the node itself for anything else
// but null: FHIR data in the wild carries single objects where arrays
// belong, and the columns show them all the same.
func (n *node) items() []node {
	if n == nil || n.k == kNull {
		return nil
	}
	if n.k == kArray {
		return n.kids
	}
	return []node{*n}
}

// each calls fn for an array's elements or the node itself.
func (n *node) each(fn func(*node)) {
	if n == nil || n.k == kNull {
		return
	}
	if n.k == kArray {
		for i := range n.kids {
			fn(&n.kids[i])
		}
		return
	}
	fn(n)
}

// toAny converts the tree to the values encoding/json would produce, for
// tests and for callers that want generic JSON.
func (n *node) toAny() any {
	switch n.k {
	case kNull:
		return nil
	case kBool:
		return n.s == "true"
	case kNumber:
		f, _ := strconv.ParseFloat(n.s, 64)
		return f
	case kString:
		return n.s
	case kArray:
		out := make([]any, len(n.kids))
		for i := range n.kids {
			out[i] = n.kids[i].toAny()
		}
		return out
	default:
		out := make(map[string]any, len(n.kids))
		for i := range n.kids {
			out[n.kids[i].key] = n.kids[i].toAny()
		}
		return out
	}
}
