package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestGolden compares the output for a small spec with a checked-in golden
// file (run with -update after an intended generator change).
func TestGolden(t *testing.T) {
	got, err := generateFile("testdata/small.spec")
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/small.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("generated code differs from %s; run go test -update if the change is intended", golden)
	}
}

// TestCheckedIn regenerates protocol/messages_gen.go from the real spec and
// compares it with the checked-in file (the same check as make
// check-generated, but inside go test).
func TestCheckedIn(t *testing.T) {
	t.Chdir("../..")
	got, err := generateFile("spec/messages.spec")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("messages_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("protocol/messages_gen.go is stale: run make generate")
	}
}

func TestGoName(t *testing.T) {
	for in, want := range map[string]string{
		"layer": "Layer", "merge_to": "MergeTo", "is_pong": "IsPong", "x1": "X1",
		"feature_tiers": "FeatureTiers", "override_user": "OverrideUser", "id": "ID",
		"source_id": "SourceID", "selection_id": "SelectionID",
	} {
		if got := goName(in); got != want {
			t.Errorf("goName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSpecErrors(t *testing.T) {
	tests := []struct{ name, spec, want string }{
		{"unknown item", "frob 1\n", "unknown item"},
		{"field outside", "    x u8\n", "outside"},
		{"bad type", "message 2 Ping ping ctrl 1 1\n    x u9\n", "unknown type"},
		{"wrong category", "message 40 Ping ping ctrl 1 1\n    x u8\n", "category"},
		{"wrong length", "message 2 Ping ping ctrl 2 2\n    x u8\n", "fixed length"},
		{"tail not last", "message 2 Ping ping ctrl 1 65535\n    s utf8\n    x u8\n", "must be last"},
		{"duplicate id", "message 2 A a ctrl 0 0\nmessage 2 B b ctrl 0 0\n", "duplicate id"},
		{"descending", "message 3 A a ctrl 0 0\nmessage 2 B b ctrl 0 0\n", "ascending"},
		{"bad v24", "message 2 Ping ping ctrl 1 1\n    x u8 v24=layer\n", "v24=layer"},
		{"unknown dab", "message 148 D d cmd 1 65535\n    dabs dabs:Nope\n", "unknown dab"},
		{"flags without names", "message 2 Ping ping ctrl 1 1\n    x flags\n", "needs flags"},
		{"incompatible with v24", "message 71 D d cmeta 3 3 incompatible\n    id u24 v24=layer\n", "incompatible"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseSpec(strings.NewReader(tc.spec))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
