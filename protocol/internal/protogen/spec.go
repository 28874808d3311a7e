package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// spec is the parsed message catalogue.
type spec struct {
	messages  []*message // in id order, reserved ones included
	dabs      []*dab
	dabByName map[string]*dab
}

type message struct {
	id           int
	name         string // Go / protocol.md name
	text         string // dptxt name; "" for reserved
	cat          string // ctrl, smeta, cmeta, cmd
	min, max     int
	incompatible bool
	reserved     bool
	fields       []*field
}

type dab struct {
	name   string
	fields []*field
}

type field struct {
	name   string // spec (dptxt) name
	goName string
	kind   string // u8 … dabs
	dab    string // dab struct name for kind "dabs"
	scale  int    // 0, 4 or 256

	constPrefix string   // for flags and enums with names
	names       []string // flag names (bit order) or enum variants (value order)

	v24    string // "" (same as 4.25) or layer, swap, swapvec, kfpairs, absent, dabflags, mask, blend, u16, u8
	v24Arg int    // mask value or absent default
}

var fixedKinds = map[string]int{
	"u8": 1, "i8": 1, "bool": 1, "flags": 1, "enum": 1, "blendmode": 1,
	"u16": 2, "u24": 3, "u32": 4, "i32": 4, "argb32": 4,
}

var tailKinds = map[string]int{
	"utf8": 1, "bytes": 1, "vec_u8": 1, "vec_u16": 2, "vec_u32": 4, "vec_i32": 4,
}

// parseSpec reads the spec syntax described at the top of messages.spec.
func parseSpec(r io.Reader) (*spec, error) {
	s := &spec{dabByName: map[string]*dab{}}
	sc := bufio.NewScanner(r)
	lineNo := 0
	var cur *[]*field // where indented field lines go
	seen := map[int]bool{}
	for sc.Scan() {
		lineNo++
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		errf := func(format string, a ...any) error {
			return fmt.Errorf("line %d: %s", lineNo, fmt.Sprintf(format, a...))
		}
		w := strings.Fields(line)
		indented := raw[0] == ' ' || raw[0] == '\t'
		if indented {
			if cur == nil {
				return nil, errf("field outside a message or dab")
			}
			f, err := parseField(w)
			if err != nil {
				return nil, errf("%v", err)
			}
			*cur = append(*cur, f)
			continue
		}
		switch w[0] {
		case "message":
			if len(w) < 7 || len(w) > 8 {
				return nil, errf("want: message ID Name textname cat min max [incompatible]")
			}
			m := &message{name: w[2], text: w[3], cat: w[4]}
			var err error
			if m.id, err = strconv.Atoi(w[1]); err != nil || m.id < 0 || m.id > 255 {
				return nil, errf("bad id %q", w[1])
			}
			if m.min, err = strconv.Atoi(w[5]); err != nil {
				return nil, errf("bad min %q", w[5])
			}
			if m.max, err = strconv.Atoi(w[6]); err != nil || m.max > 65535 || m.max < m.min || m.min < 0 {
				return nil, errf("bad max %q", w[6])
			}
			if len(w) == 8 {
				if w[7] != "incompatible" {
					return nil, errf("unknown message flag %q", w[7])
				}
				m.incompatible = true
			}
			if seen[m.id] {
				return nil, errf("duplicate id %d", m.id)
			}
			seen[m.id] = true
			s.messages = append(s.messages, m)
			cur = &m.fields
		case "reserved":
			if len(w) != 4 {
				return nil, errf("want: reserved ID Name cat")
			}
			m := &message{name: w[2], cat: w[3], reserved: true}
			var err error
			if m.id, err = strconv.Atoi(w[1]); err != nil || m.id < 0 || m.id > 255 {
				return nil, errf("bad id %q", w[1])
			}
			if seen[m.id] {
				return nil, errf("duplicate id %d", m.id)
			}
			seen[m.id] = true
			s.messages = append(s.messages, m)
			cur = nil
		case "dab":
			if len(w) != 2 {
				return nil, errf("want: dab Name")
			}
			d := &dab{name: w[1]}
			s.dabs = append(s.dabs, d)
			s.dabByName[d.name] = d
			cur = &d.fields
		default:
			return nil, errf("unknown item %q", w[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return s, s.check()
}

func parseField(w []string) (*field, error) {
	if len(w) < 2 {
		return nil, fmt.Errorf("want: name type [attrs]")
	}
	f := &field{name: w[0], goName: goName(w[0]), kind: w[1]}
	if d, ok := strings.CutPrefix(f.kind, "dabs:"); ok {
		f.kind, f.dab = "dabs", d
	} else if fixedKinds[f.kind] == 0 && tailKinds[f.kind] == 0 && f.kind != "lutf8" {
		return nil, fmt.Errorf("unknown type %q", f.kind)
	}
	for _, a := range w[2:] {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("bad attribute %q", a)
		}
		switch k {
		case "scale":
			n, err := strconv.Atoi(v)
			if err != nil || (n != 4 && n != 256) {
				return nil, fmt.Errorf("bad scale %q", v)
			}
			f.scale = n
		case "flags", "enum":
			if (k == "flags") != (f.kind == "flags") || (k == "enum") != (f.kind == "enum") {
				return nil, fmt.Errorf("%s attribute on a %s field", k, f.kind)
			}
			p, list, ok := strings.Cut(v, ":")
			if !ok || p == "" || list == "" {
				return nil, fmt.Errorf("want %s=Prefix:a,b", k)
			}
			f.constPrefix, f.names = p, strings.Split(list, ",")
			if k == "flags" && len(f.names) > 8 {
				return nil, fmt.Errorf("more than 8 flags")
			}
		case "v24":
			kind, arg, _ := strings.Cut(v, ":")
			f.v24 = kind
			switch kind {
			case "layer", "swap", "swapvec", "kfpairs", "dabflags", "blend", "u16", "u8":
				if arg != "" {
					return nil, fmt.Errorf("v24=%s takes no argument", kind)
				}
			case "absent", "mask":
				if arg != "" {
					n, err := strconv.ParseUint(arg, 0, 8)
					if err != nil {
						return nil, fmt.Errorf("bad v24 argument %q", arg)
					}
					f.v24Arg = int(n)
				} else if kind == "mask" {
					return nil, fmt.Errorf("v24=mask needs a value")
				}
			default:
				return nil, fmt.Errorf("unknown v24 kind %q", kind)
			}
		default:
			return nil, fmt.Errorf("unknown attribute %q", k)
		}
	}
	if f.kind == "flags" && f.names == nil {
		return nil, fmt.Errorf("flags field %s needs flags=Prefix:names", f.name)
	}
	return f, nil
}

// goName turns a spec field name into a Go identifier: merge_to → MergeTo,
// source_id → SourceID.
func goName(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part == "" {
			continue
		}
		if part == "id" {
			b.WriteString("ID")
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// constName turns a flag or variant name into an identifier suffix:
// valign_center → ValignCenter.
func constName(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// check validates the structure and the length ranges of every message.
func (s *spec) check() error {
	for i, m := range s.messages {
		if i > 0 && s.messages[i-1].id >= m.id {
			return fmt.Errorf("message %s: ids must be ascending", m.name)
		}
		wantCat := "cmd"
		switch {
		case m.id < 32:
			wantCat = "ctrl"
		case m.id < 64:
			wantCat = "smeta"
		case m.id < 128:
			wantCat = "cmeta"
		}
		if m.cat != wantCat {
			return fmt.Errorf("message %s: category %s, want %s for id %d", m.name, m.cat, wantCat, m.id)
		}
		if m.reserved {
			continue
		}
		if err := s.checkFields(m.name, m.fields, true); err != nil {
			return err
		}
		if m.incompatible {
			for _, f := range m.fields {
				if f.v24 != "" {
					return fmt.Errorf("message %s: incompatible message with v24 field %s", m.name, f.name)
				}
			}
		}
		l := m.layout(s, false)
		if l.elem == 0 {
			if m.min != l.fixed || m.max != l.fixed {
				return fmt.Errorf("message %s: fixed length %d but spec says %d–%d", m.name, l.fixed, m.min, m.max)
			}
			continue
		}
		if (m.min-l.fixed)%l.elem != 0 || m.min < l.fixed {
			return fmt.Errorf("message %s: length %d–%d does not fit fixed %d + n×%d", m.name, m.min, m.max, l.fixed, l.elem)
		}
	}
	for _, d := range s.dabs {
		if err := s.checkFields(d.name, d.fields, false); err != nil {
			return err
		}
	}
	return nil
}

func (s *spec) checkFields(owner string, fields []*field, top bool) error {
	names := map[string]bool{}
	for i, f := range fields {
		if names[f.name] {
			return fmt.Errorf("%s: duplicate field %s", owner, f.name)
		}
		names[f.name] = true
		last := i == len(fields)-1
		switch {
		case f.kind == "dabs":
			if s.dabByName[f.dab] == nil {
				return fmt.Errorf("%s.%s: unknown dab struct %s", owner, f.name, f.dab)
			}
			fallthrough
		case tailKinds[f.kind] != 0:
			if !last || !top {
				return fmt.Errorf("%s.%s: variable-length field must be last", owner, f.name)
			}
		case f.kind == "lutf8":
			if !top || last || tailKinds[fields[len(fields)-1].kind] == 0 || i != len(fields)-2 {
				return fmt.Errorf("%s.%s: lutf8 must be second to last, before a variable field", owner, f.name)
			}
		}
		switch f.v24 {
		case "layer":
			if f.kind != "u24" {
				return fmt.Errorf("%s.%s: v24=layer on %s", owner, f.name, f.kind)
			}
		case "swap":
			if f.kind != "u16" {
				return fmt.Errorf("%s.%s: v24=swap on %s", owner, f.name, f.kind)
			}
		case "swapvec":
			if f.kind != "vec_u16" {
				return fmt.Errorf("%s.%s: v24=swapvec on %s", owner, f.name, f.kind)
			}
		case "kfpairs":
			if f.kind != "vec_u32" {
				return fmt.Errorf("%s.%s: v24=kfpairs on %s", owner, f.name, f.kind)
			}
		case "mask":
			if fixedKinds[f.kind] != 1 {
				return fmt.Errorf("%s.%s: v24=mask on %s", owner, f.name, f.kind)
			}
		case "blend":
			if f.kind != "blendmode" {
				return fmt.Errorf("%s.%s: v24=blend on %s", owner, f.name, f.kind)
			}
		case "dabflags":
			if !names["flags"] && f.name != "flags" {
				return fmt.Errorf("%s.%s: v24=dabflags needs to be the flags field", owner, f.name)
			}
			hasColor := false
			for _, g := range fields {
				hasColor = hasColor || (g.name == "color" && g.kind == "argb32")
			}
			if !hasColor {
				return fmt.Errorf("%s.%s: v24=dabflags needs a color field", owner, f.name)
			}
		case "u16", "u8":
			if top || (f.kind != "u24" && f.kind != "u16") {
				return fmt.Errorf("%s.%s: v24=%s only on dab size fields", owner, f.name, f.v24)
			}
		case "absent":
			if fixedKinds[f.kind] == 0 {
				return fmt.Errorf("%s.%s: v24=absent on %s", owner, f.name, f.kind)
			}
		}
		if f.scale != 0 && f.kind != "i8" && f.kind != "i32" && f.kind != "u24" {
			return fmt.Errorf("%s.%s: scale on %s", owner, f.name, f.kind)
		}
	}
	return nil
}

// wireLayout describes one message's payload in one layout: fixed bytes,
// then (if elem > 0) a variable tail of elements of size elem.
type wireLayout struct {
	fixed int
	elem  int // 0 = fixed-length message
}

func (m *message) layout(s *spec, v24 bool) wireLayout {
	var l wireLayout
	for _, f := range m.fields {
		switch {
		case f.kind == "lutf8":
			l.fixed++ // the length byte; the string is counted with the tail
		case f.kind == "dabs":
			l.elem = s.dabByName[f.dab].size(v24)
		case tailKinds[f.kind] != 0:
			l.elem = tailKinds[f.kind]
		default:
			l.fixed += f.size(v24)
		}
	}
	return l
}

// size is the wire size of a fixed field.
func (f *field) size(v24 bool) int {
	if v24 {
		switch f.v24 {
		case "layer", "swap", "u16":
			return 2
		case "absent", "dabflags":
			return 0
		case "u8":
			return 1
		}
	}
	return fixedKinds[f.kind]
}

func (d *dab) size(v24 bool) int {
	n := 0
	for _, f := range d.fields {
		n += f.size(v24)
	}
	return n
}

// hasV24 reports whether the dp:4.24.0 layout differs from dp:4.25.1.
func (m *message) hasV24(s *spec) bool {
	for _, f := range m.fields {
		if f.v24 != "" {
			return true
		}
		if f.kind == "dabs" {
			for _, g := range s.dabByName[f.dab].fields {
				if g.v24 != "" {
					return true
				}
			}
		}
	}
	return false
}
