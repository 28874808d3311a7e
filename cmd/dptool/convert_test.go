package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// convertPairs are recordings written by Drawpile's own tools in both
// formats (shared with the protocol package's tests).
func convertPairs(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("../../protocol/testdata/render/*.dptxt")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 15 {
		t.Fatalf("only %d recording pairs", len(paths))
	}
	bases := []string{"../../protocol/testdata/all_messages"}
	for _, p := range paths {
		bases = append(bases, strings.TrimSuffix(p, ".dptxt"))
	}
	return bases
}

// TestConvertPairs converts every pair in both directions with
// "dptool convert" and compares with Drawpile's file byte for byte.
func TestConvertPairs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, base := range convertPairs(t) {
		name := filepath.Base(base)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, dir2 := range [][2]string{{".dprec", ".dptxt"}, {".dptxt", ".dprec"}} {
				out := filepath.Join(dir, name+"-out"+dir2[1])
				var stderr bytes.Buffer
				if err := run(context.Background(), []string{"convert", base + dir2[0], out}, nil, &stderr, &stderr); err != nil {
					t.Fatalf("convert %s → %s: %v\n%s", dir2[0], dir2[1], err, stderr.String())
				}
				got, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(base + dir2[1])
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("convert %s → %s differs from Drawpile's file", dir2[0], dir2[1])
				}
			}
		})
	}
}

func TestConvertStdio(t *testing.T) {
	t.Parallel()
	base := "../../protocol/testdata/all_messages"
	in, err := os.ReadFile(base + ".dprec")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(base + ".dptxt")
	if err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	if err := run(context.Background(), []string{"convert", "--from", "dprec", "--to", "dptxt", "-", "-"}, bytes.NewReader(in), &out, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatal("stdin → stdout conversion differs")
	}
	var back bytes.Buffer
	if err := run(context.Background(), []string{"convert", "--from=dptxt", "--to=dprec", "-", "-"}, &out, &back, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !bytes.Equal(back.Bytes(), in) {
		t.Fatal("dptxt → dprec over stdio differs")
	}
}

// TestConvertCompat converts the dp:4.24.0 recording to text: messages are
// decoded in the 4.24 layout and written in the current one.
func TestConvertCompat(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "compat.dptxt")
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"convert", "../../protocol/testdata/compat_messages_v4240.dprec", out}, nil, &stderr, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != "!version=dp:4.25.1" || len(lines) != 3+62 {
		t.Fatalf("header %q, %d lines", lines[0], len(lines))
	}
	if !strings.Contains(string(b), "\n3 penup {\"layer\":0}\n") {
		t.Error("4.24 PenUp was not decoded as layer 0")
	}
}

func TestConvertErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.dptxt")
	if err := os.WriteFile(bad, []byte("!version=dp:4.25.1\n1 nosuchmessage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		usage bool
	}{
		{"no args", []string{"convert"}, true},
		{"one arg", []string{"convert", "x.dprec"}, true},
		{"unknown extension", []string{"convert", "x.png", filepath.Join(dir, "y.dptxt")}, false},
		{"stdin without --from", []string{"convert", "-", filepath.Join(dir, "y.dptxt")}, false},
		{"missing file", []string{"convert", filepath.Join(dir, "missing.dprec"), filepath.Join(dir, "y.dptxt")}, false},
		{"bad text", []string{"convert", bad, filepath.Join(dir, "y.dprec")}, false},
		{"info no args", []string{"info"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), tc.args, strings.NewReader(""), &stderr, &stderr)
			if err == nil || (err == errUsage) != tc.usage {
				t.Fatalf("err = %v, usage %v", err, tc.usage)
			}
		})
	}
}

func TestInfo(t *testing.T) {
	t.Parallel()
	for _, ext := range []string{".dprec", ".dptxt"} {
		var out, stderr bytes.Buffer
		if err := run(context.Background(), []string{"info", "../../protocol/testdata/all_messages" + ext}, nil, &out, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		s := out.String()
		for _, want := range []string{
			"  version = dp:4.25.1\n",
			"  writer = protocol-vector-gen\n",
			"messages: 72, bytes: 1278\n",
			"148   classicdabs                         2           77\n",
			"2     ping                                2           10\n",
			"      total                              72         1278\n",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: output lacks %q:\n%s", ext, want, s)
			}
		}
	}
}
