package sessionfile

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestSetJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := Create(dir, testID, Meta{Founder: "me!"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.AppendHistory(frame(t, 200, 1, "x")); err != nil {
		t.Fatal(err)
	}
	// From the empty state to the fixture state, then to a modified one.
	target := wantFixtureState()
	steps := []func(*State){
		func(*State) {},
		func(s *State) {
			s.Title = "Changed"
			s.Flags = Nsfm
			s.Bans = s.Bans[1:]
			s.Ops = []string{"u3", "u9"}
			s.Trusted = nil
			s.Invites[0].Uses = append(s.Invites[0].Uses, InviteUse{ClientKey: "k3", Name: "zed"})
			s.Invites = append(s.Invites, Invite{Secret: "QRSTUVWX", CreatedAt: "now", MaxUses: 3})
			s.Announce = nil
			s.Archive = ArchiveDefault
			s.Users = append(s.Users, UserID{9, "nine"})
			s.setAuthName("n3", "Third")
		},
		func(s *State) {
			s.Invites = s.Invites[1:]
			s.Password = ""
		},
	}
	for i, step := range steps {
		step(&target)
		target.File, target.FileCount = testID+".dprec", 1
		if err := f.SetJournal(target); err != nil {
			t.Fatal(err)
		}
		if got := f.State(); !reflect.DeepEqual(normalize(got), normalize(target)) {
			t.Fatalf("step %d: state\n got %+v\nwant %+v", i, got, target)
		}
		// Nothing left to write once the state matches.
		cur := f.State()
		if d := diffRecords(&cur, &target); len(d) != 0 {
			t.Errorf("step %d: second diff not empty:\n%s", i, d)
		}
	}
	f.Close()
	g, _, err := Open(dir, testID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if got := g.State(); !reflect.DeepEqual(normalize(got), normalize(target)) {
		t.Errorf("reloaded\n got %+v\nwant %+v", got, target)
	}
}

func FuzzDiffRecords(f *testing.F) {
	f.Add(journalFixture, "TITLE x\nBAN 4 a b c d\nOP z\n")
	f.Fuzz(func(t *testing.T, from, to string) {
		if strings.Contains(from+to, "\r") {
			return
		}
		cur, _, _ := ParseJournal(strings.NewReader(from))
		target, _, _ := ParseJournal(strings.NewReader(to))
		target.File, target.FileCount = cur.File, cur.FileCount
		if cur.Alias != "" {
			target.Alias = cur.Alias
		}
		for _, u := range cur.Users { // remembered users cannot be removed
			if _, ok := target.UserIDFor(u.Name); !ok {
				target.setUser(u.ID, u.Name)
			}
		}
		for id, name := range cur.AuthNames { // names cannot be removed
			if _, ok := target.AuthNames[id]; !ok {
				target.setAuthName(id, name)
			}
		}
		got := cur.Clone()
		for line := range strings.Lines(string(diffRecords(&cur, &target))) {
			got.apply([]byte(line))
		}
		// Compare as sets where the journal has no order.
		g, w := normalize(got), normalize(target)
		g.AuthOrder, w.AuthOrder = nil, nil
		sortState(&g)
		sortState(&w)
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("diff does not reach the target\n got %+v\nwant %+v\n%s", g, w, diffRecords(&cur, &target))
		}
	})
}

// sortState orders the collections whose journal order is not significant.
func sortState(s *State) {
	slices.SortFunc(s.Bans, func(a, b Ban) int { return cmp.Compare(a.ID, b.ID) })
	slices.Sort(s.Announce)
	slices.SortFunc(s.Users, func(a, b UserID) int { return strings.Compare(a.Name, b.Name) })
	slices.Sort(s.Ops)
	slices.Sort(s.Trusted)
	slices.SortFunc(s.Invites, func(a, b Invite) int { return strings.Compare(a.Secret, b.Secret) })
	for i := range s.Invites {
		slices.SortFunc(s.Invites[i].Uses, func(a, b InviteUse) int { return strings.Compare(a.ClientKey, b.ClientKey) })
	}
}
