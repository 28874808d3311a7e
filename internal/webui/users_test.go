package webui

import "testing"

func TestUsers(t *testing.T) {
	t.Parallel()
	var us Users
	us.Join(3, "carol")
	us.Join(1, "Alice")
	us.Join(2, "bob")
	v := us.Version
	us.SetOps([]uint8{1})
	us.SetTrusted([]uint8{2, 9})
	if us.Version == v {
		t.Error("role change did not bump Version")
	}
	list := us.List()
	if len(list) != 3 || list[0].Name != "Alice" || list[1].Name != "bob" || list[2].Name != "carol" {
		t.Fatalf("list = %+v", list)
	}
	if list[0].Role() != "op" || list[1].Role() != "trusted" || list[2].Role() != "" {
		t.Errorf("roles = %q %q %q", list[0].Role(), list[1].Role(), list[2].Role())
	}
	// A rejoin keeps roles until the next list replaces them.
	us.Join(1, "Alice2")
	if u := us.List()[0]; u.Name != "Alice2" || !u.Op {
		t.Errorf("rejoin = %+v", u)
	}
	v = us.Version
	us.Move(2, 41, 83, 100) // quarter pixels → (10.25, 20.75)
	if us.Version != v {
		t.Error("cursor move bumped Version")
	}
	us.Move(7, 1, 1, 100) // unknown user: ignored
	cs := us.Cursors(1, 130, 60)
	if len(cs) != 1 || cs[0].ID != 2 || cs[0].Cursor != (Vec{10.25, 20.75}) {
		t.Errorf("cursors = %+v", cs)
	}
	if cs := us.Cursors(2, 130, 60); len(cs) != 0 {
		t.Errorf("own cursor listed: %+v", cs)
	}
	if cs := us.Cursors(1, 200, 60); len(cs) != 0 {
		t.Errorf("stale cursor listed: %+v", cs)
	}
	us.SetLaser(2, true, Color{255, 0, 0, 255})
	if u := us.List()[1]; !u.Laser {
		t.Error("laser not set")
	}
	us.Leave(2)
	us.Leave(2)
	if len(us.List()) != 2 || us.Name(2) != "user 2" || us.Name(3) != "carol" {
		t.Errorf("after leave: %+v, name %q", us.List(), us.Name(2))
	}
	if itoa(255) != "255" || itoa(0) != "0" {
		t.Error("itoa")
	}
}
