package webui

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestSessionSettingsApply(t *testing.T) {
	conf := func(s string) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	var s SessionSettings
	if err := s.Apply(conf(`{"title":"T","maxUserCount":9,"hasPassword":true,"nsfm":true,"persistent":true,"allowWeb":true,"other":1}`)); err != nil {
		t.Fatal(err)
	}
	want := SessionSettings{Title: "T", MaxUsers: 9, HasPassword: true, NSFM: true, Persistent: true, AllowWeb: true}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got %+v, want %+v", s, want)
	}
	// A partial update keeps the rest.
	if err := s.Apply(conf(`{"muted":[3,0,300,7]}`)); err != nil {
		t.Fatal(err)
	}
	if s.Title != "T" || !s.MutedChanged || !reflect.DeepEqual(s.Muted, []uint8{3, 7}) {
		t.Fatalf("after muted: %+v", s)
	}
	if err := s.Apply(conf(`{"nsfm":false}`)); err != nil || s.MutedChanged || s.NSFM {
		t.Fatalf("after nsfm: %+v (err %v)", s, err)
	}
	err := s.Apply(conf(`{"title":5,"maxUserCount":3,"muted":"x"}`))
	if !errors.Is(err, ErrSessionConf) {
		t.Fatalf("err = %v, want ErrSessionConf", err)
	}
	if s.MaxUsers != 3 || s.Title != "T" || !reflect.DeepEqual(s.Muted, []uint8{3, 7}) {
		t.Errorf("bad keys must not disturb good ones: %+v", s)
	}
}

func TestUsersMuted(t *testing.T) {
	var us Users
	us.Join(2, "a")
	us.Join(3, "b")
	us.SetMuted([]uint8{3})
	us.Join(3, "b") // a rejoin keeps the flag
	l := us.List()
	if l[0].Muted || !l[1].Muted {
		t.Errorf("muted flags %+v", l)
	}
}
