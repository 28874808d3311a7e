package store_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"drawbridge/internal/auth"
	"drawbridge/internal/store"
)

// A server opens its configuration once and consults it on every login.
func Example() {
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "drawpile-srv.cfg")
	os.WriteFile(cfg, []byte(`
serverTitle = Example server
sessionSizeLimit = 50mb
[ipbans]
192.0.2.0/24
[users]
alice:plain;secret:MOD
`), 0o600)

	st, err := store.Open(context.Background(), store.Options{ConfigFile: cfg})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()

	settings := st.Settings()
	fmt.Println(settings.ServerTitle, settings.SessionSizeLimit)

	acct := st.Account("alice", "secret")
	flags, isMod, _ := auth.FilterFlags(acct.Flags.Sorted(), auth.AllowAll(settings.EnableGhosts))
	auth.AddImplicitFlags(flags, settings.ImplicitFlags())
	fmt.Println(acct.Status, acct.AuthID, isMod, flags)

	ban := st.CheckClient(store.ClientCheck{Addr: netip.MustParseAddr("::ffff:192.0.2.9"), BanExempt: acct.BanExempt})
	fmt.Println("banned:", ban.Banned())
	ban = st.CheckClient(store.ClientCheck{Addr: netip.MustParseAddr("192.0.2.9")})
	fmt.Println("banned:", ban.Banned(), ban.Source, ban.SourceType)
	// Output:
	// Example server 52428800
	// ok internal:alice true HOST,MOD,PERSIST,WEB,WEBHOST,WEBSESSION
	// banned: false
	// banned: true configfile IP
}
