package e2e

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"drawbridge/internal/auth"
	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/store"
)

// ghostStore is a configuration database with enableGhosts as given and
// a moderator account "Ghosty" (password "boo") that has the GHOST flag.
func ghostStore(t *testing.T, enable bool) *store.Store {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(t.Context(), store.Options{Database: filepath.Join(t.TempDir(), "drawpile.db"), Logger: logger,
		HashPassword: auth.HashPasswordPlain})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.SetSetting("enableGhosts", fmt.Sprint(enable)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddAccount("Ghosty", "boo", false, auth.NewFlagSet(auth.FlagMod, auth.FlagGhost)); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestGhostModerator: a moderator with GHOST joins without a Join message,
// is told it is a ghost, is not counted in the session list, and its
// unstored chat reaches the others as a server alert. With enableGhosts off
// the same login is refused with ghostsNotAllowed.
func TestGhostModerator(t *testing.T) {
	t.Parallel()
	st := ghostStore(t, true)
	e := newEnv(t, func(c *bridge.Config) { c.Store = st })
	alice := e.host("Alice", tcp, client.HostOptions{Alias: "haunted"})

	ghost := e.dial(tcp)
	if _, err := ghost.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Ghosty", Password: "boo"},
		Join: &client.JoinOptions{Session: "haunted"}}); err != nil {
		t.Fatalf("ghost join: %v", err)
	}
	gid := ghost.UserID()
	e.until(ghost, "ghost mode alert", func(r rec) bool {
		return r.Reply != nil && r.Reply.Type == "alert" && strings.HasPrefix(r.Reply.Message, "GHOST MODE.")
	})
	for _, r := range e.sync(alice) {
		if r.Type == 32 && r.Ctx == gid {
			t.Fatalf("Alice saw a Join for the ghost: %v", r)
		}
	}

	// The session list counts Alice only.
	carol := e.dial(tcp)
	if _, err := carol.ReadGreeting(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Ident(e.ctx, client.IdentOptions{Name: "Carol"}); err != nil {
		t.Fatal(err)
	}
	if s, ok := carol.Session("haunted"); !ok || s.UserCount != 1 {
		t.Fatalf("listed session %+v (found %v), want userCount 1", s, ok)
	}

	// Unstored (bypass) chat from the ghost arrives as an alert.
	if err := ghost.SendChat(e.ctx, client.ChatBypass, 0, "boo!"); err != nil {
		t.Fatal(err)
	}
	got := e.until(alice, "ghost alert", func(r rec) bool { return r.Reply != nil && r.Reply.Type == "alert" })
	if last := got[len(got)-1]; last.Reply.Message != "boo!" {
		t.Fatalf("alert %q", last.Reply.Message)
	}
	for _, r := range got {
		if r.Type == 35 {
			t.Fatalf("ghost chat relayed as chat: %v", r)
		}
	}

	// Turned off: a ghost login is refused.
	off := newEnv(t, func(c *bridge.Config) { c.Store = ghostStore(t, false) })
	off.host("Alice", tcp, client.HostOptions{Alias: "haunted"})
	g2 := off.dial(tcp)
	_, err := g2.Login(off.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Ghosty", Password: "boo"},
		Join: &client.JoinOptions{Session: "haunted"}})
	if code := client.ErrorCode(err); code != "ghostsNotAllowed" {
		t.Fatalf("ghost login with enableGhosts off: %v", err)
	}
}

// banImpExAnswer is the banimpex reply (drawpile-srv's shape).
type banImpExAnswer struct {
	Export   string `json:"export"`
	Imported *int   `json:"imported"`
	Total    *int   `json:"total"`
	Error    string `json:"error"`
	T        string `json:"T"`
}

func (e *env) banImpEx(c *client.Client, cmd client.Command) banImpExAnswer {
	e.t.Helper()
	if err := c.SendCommand(e.ctx, cmd); err != nil {
		e.t.Fatal(err)
	}
	got := e.until(c, "banimpex", reply("banimpex"))
	var a banImpExAnswer
	if err := json.Unmarshal([]byte(got[len(got)-1].Payload), &a); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// TestCryptKeyBanExport: with --crypt-key the greeting offers CBANIMPEX,
// an operator's export-bans is encrypted ("c<nonce>:<box>"), importing it
// into another session of the same server restores the ban, and a server
// with another key cannot read it.
func TestCryptKeyBanExport(t *testing.T) {
	t.Parallel()
	key, err := bridge.GenerateCryptKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := bridge.ParseFlags([]string{"--crypt-key", key}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *bridge.Config) { c.CryptKey = cfg.CryptKey })
	alice := e.host("Alice", tcp, client.HostOptions{Alias: "one"})
	if !alice.HasFlag("CBANIMPEX") {
		t.Errorf("greeting flags %v lack CBANIMPEX", alice.Greeting().Flags)
	}
	bob, _ := e.join("Bob", tcp, "one", "")
	if err := alice.SendCommand(e.ctx, client.Command{Cmd: "kick-user", Args: []any{bob.UserID()}, Kwargs: map[string]any{"ban": true}}); err != nil {
		t.Fatal(err)
	}
	e.expectClosed(bob)
	exp := e.banImpEx(alice, client.Command{Cmd: "export-bans"})
	if !strings.HasPrefix(exp.Export, "c") || !strings.Contains(exp.Export, ":") {
		t.Fatalf("export %+v is not encrypted", exp)
	}
	if strings.Contains(exp.Export, "Bob") {
		t.Fatal("export shows the banned name in clear")
	}

	dave := e.host("Dave", tcp, client.HostOptions{Alias: "two"})
	imp := e.banImpEx(dave, client.Command{Cmd: "import-bans", Args: []any{exp.Export}})
	if imp.Imported == nil || *imp.Imported != 1 || imp.Total == nil || *imp.Total != 1 {
		t.Fatalf("import %+v", imp)
	}
	if _, err := e.joinOpts("Bob", tcp, client.JoinOptions{Session: "two"}); client.ErrorCode(err) != "banned" {
		t.Fatalf("Bob joining the importing session: %v, want banned", err)
	}

	other := newEnv(t, func(c *bridge.Config) { c.CryptKey = []byte("a different key of 32 bytes ....") })
	erin := other.host("Erin", tcp, client.HostOptions{Alias: "three"})
	if bad := other.banImpEx(erin, client.Command{Cmd: "import-bans", Args: []any{exp.Export}}); bad.T != "banimportcrypterror" {
		t.Fatalf("import on another server: %+v", bad)
	}
}
