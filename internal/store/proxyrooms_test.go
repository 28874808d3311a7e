package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestProxyRoomsDatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "srv.db")
	s, err := Open(context.Background(), Options{Database: path, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if rooms, err := s.ProxyRooms(); err != nil || len(rooms) != 0 {
		t.Fatalf("empty database: %v, %v", rooms, err)
	}
	for _, r := range []ProxyRoom{{"art", "draw.example/room"}, {"Zoo", "z.example:9000/abc"}, {"ART", "draw.example/other"}} {
		if err := s.SetProxyRoom(r.Code, r.Target); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []ProxyRoom{{"", "x/y"}, {"a=b", "x/y"}, {"ok", ""}, {"ok", "x /y"}, {"new\nline", "x/y"}} {
		if err := s.SetProxyRoom(bad.Code, bad.Target); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetProxyRoom(%q, %q) = %v, want ErrInvalid", bad.Code, bad.Target, err)
		}
	}
	if err := s.DeleteProxyRoom("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete of an unknown code: %v", err)
	}
	if err := s.DeleteProxyRoom("zoo"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetProxyRoom("b", "b.example/s"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Persisted: a new Store on the same file sees them.
	s2, err := Open(context.Background(), Options{Database: path, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.ProxyRooms()
	want := []ProxyRoom{{"ART", "draw.example/other"}, {"b", "b.example/s"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopen: %v, %v; want %v", got, err, want)
	}
}

func TestProxyRoomsConfigFileAndMemory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "srv.cfg")
	cfg := "[config]\nserverTitle = x\n[proxyRooms]\n# a comment\nart = draw.example/room\nbroken line\nZoo=z.example:9000/abc\n[ipbans]\n10.0.0.1\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), Options{ConfigFile: path, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.ProxyRooms()
	want := []ProxyRoom{{"art", "draw.example/room"}, {"Zoo", "z.example:9000/abc"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("config rooms: %v, %v; want %v", got, err, want)
	}
	if err := s.SetProxyRoom("new", "a.example/b"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("SetProxyRoom in config mode: %v, want ErrReadOnly", err)
	}
	if err := s.DeleteProxyRoom("art"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("DeleteProxyRoom in config mode: %v, want ErrReadOnly", err)
	}

	m, err := Open(context.Background(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.ProxyRooms(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("memory mode: %v, want ErrUnsupported", err)
	}
	if err := m.SetProxyRoom("a", "b/c"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("memory mode set: %v, want ErrUnsupported", err)
	}
}
