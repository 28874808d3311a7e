package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMatchesBannedAddress(t *testing.T) {
	t.Parallel()
	ip := netip.MustParseAddr
	tests := []struct {
		client, ban string
		prefix      int
		want        bool
	}{
		{"192.0.2.1", "192.0.2.1", 0, true},
		{"192.0.2.2", "192.0.2.1", 0, false},
		{"192.0.2.2", "192.0.2.0", 24, true},
		{"192.0.3.2", "192.0.2.0", 24, false},
		{"192.0.2.2", "192.0.2.77", 24, true}, // host bits in the ban are ignored
		{"::ffff:192.0.2.2", "192.0.2.0", 24, true},
		{"2001:db8::1", "192.0.2.0", 24, false},
		{"10.1.2.3", "0.0.0.0", 0, false}, // 0 means single host, not everything
		{"10.1.2.3", "10.0.0.0", 8, true},
		{"10.1.2.3", "10.1.2.3", 40, true}, // clamped to 32
		{"10.1.2.3", "10.1.2.3", -1, false},
		{"2001:db8::1", "2001:db8::", 32, true},
		{"2001:db9::1", "2001:db8::", 32, false},
		{"2001:db8::1", "2001:db8::1", 0, true},
		{"2001:db8::2", "2001:db8::1", 0, false},
		{"192.0.2.1", "::ffff:192.0.2.0", 120, true}, // IPv4 client in IPv6 space
		{"192.0.2.1", "::ffff:192.0.3.0", 120, false},
		{"fe80::1%eth0", "fe80::", 64, true},
	}
	for _, tc := range tests {
		if got := MatchesBannedAddress(ip(tc.client), ip(tc.ban), tc.prefix); got != tc.want {
			t.Errorf("MatchesBannedAddress(%s, %s/%d) = %v, want %v", tc.client, tc.ban, tc.prefix, got, tc.want)
		}
	}
	if MatchesBannedAddress(netip.Addr{}, ip("1.2.3.4"), 0) {
		t.Error("invalid client matched")
	}
}

func TestAddressInRange(t *testing.T) {
	t.Parallel()
	ip := netip.MustParseAddr
	tests := []struct {
		addr, from, to string
		want           bool
	}{
		{"10.0.0.5", "10.0.0.1", "10.0.0.10", true},
		{"10.0.0.1", "10.0.0.1", "10.0.0.10", true},
		{"10.0.0.10", "10.0.0.1", "10.0.0.10", true},
		{"10.0.0.11", "10.0.0.1", "10.0.0.10", false},
		{"::ffff:10.0.0.5", "10.0.0.1", "10.0.0.10", true},
		{"10.0.0.5", "::ffff:10.0.0.1", "::ffff:10.0.0.10", true},
		{"2001:db8::5", "2001:db8::", "2001:db8::ffff", true},
		{"2001:db8::1:0", "2001:db8::", "2001:db8::ffff", false},
		{"10.0.0.5", "2001:db8::", "2001:db8::ffff", false},
	}
	for _, tc := range tests {
		if got := AddressInRange(ip(tc.addr), ip(tc.from), ip(tc.to)); got != tc.want {
			t.Errorf("AddressInRange(%s, %s, %s) = %v", tc.addr, tc.from, tc.to, got)
		}
	}
}

const extBanDoc = `{"bans":[
 {"id":1,"ips":[{"from":"192.0.2.0","to":"192.0.2.255","reaction":"garbage"}],
  "ipsexcluded":[{"from":"192.0.2.7","to":"192.0.2.7"}],
  "expires":"2099-12-31 23:59:59","comment":"range","reason":"evading"},
 {"id":2,"system":[{"sids":["s1","s2",""],"reaction":"hang"}],"users":[{"ids":[5,-1,6.0],"reaction":"bogus"}],
  "expires":"2099-01-01 00:00:00","reason":"r2"},
 {"id":3,"users":[{"ids":[9]}],"expires":"2000-01-01 00:00:00"},
 {"id":0,"users":[{"ids":[10]}],"expires":"2099-01-01 00:00:00"},
 {"id":4,"ips":[{"from":"nope","to":"1.2.3.4"}],"expires":"2099-01-01 00:00:00"},
 {"id":5,"expires":"2099-01-01 00:00:00"},
 {"id":6,"users":[{"ids":[11]}],"expires":"tomorrow"},
 {"id":7,"ips":[{"from":"2001:db8::","to":"2001:db8::ffff"}],"expires":"2099-01-01 00:00:00"},
 "not an object"
]}`

func TestParseExtBans(t *testing.T) {
	t.Parallel()
	bans, warns, err := ParseExtBans([]byte(extBanDoc))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, b := range bans {
		ids = append(ids, b.ID)
	}
	if fmt.Sprint(ids) != "[1 2 3 7]" {
		t.Errorf("ids = %v", ids)
	}
	var reasons []string
	for _, w := range warns {
		reasons = append(reasons, w.Reason)
	}
	want := "invalid ban id|invalid ip ban|empty ban|invalid expires|entry is not an object"
	if strings.Join(reasons, "|") != want {
		t.Errorf("warnings = %q", reasons)
	}
	b2 := bans[1]
	if fmt.Sprint(b2.System[0].SIDs) != "[s1 s2]" || b2.System[0].Reaction != ReactionHang || fmt.Sprint(b2.Users[0].IDs) != "[5 6]" || b2.Users[0].Reaction != ReactionUnknown {
		t.Errorf("ban 2 = %+v", b2)
	}
	for _, bad := range []string{"", "[]", "not json", `"str"`} {
		if _, _, err := ParseExtBans([]byte(bad)); err == nil {
			t.Errorf("ParseExtBans(%q) accepted", bad)
		}
	}
	if bans, _, err := ParseExtBans([]byte(`{"bans":"nope"}`)); err != nil || len(bans) != 0 {
		t.Errorf("non-array bans: %v %v", bans, err)
	}
}

func TestExtBanChecks(t *testing.T) {
	t.Parallel()
	clk := newClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, err := Open(context.Background(), Options{Logger: testLogger(t), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bans, _, _ := ParseExtBans([]byte(extBanDoc))
	s.SetExternalBans(bans)
	ip := netip.MustParseAddr
	if r := s.CheckIP(ip("192.0.2.8")); r.Reaction != ReactionGarbage || r.Source != SourceExtBan || r.SourceID != 1 || !r.Exemptable || r.Reason != "evading" {
		t.Errorf("range = %+v", r)
	}
	if r := s.CheckIP(ip("::ffff:192.0.2.8")); !r.Banned() {
		t.Error("mapped address not matched")
	}
	if s.CheckIP(ip("192.0.2.7")).Banned() {
		t.Error("excluded address banned")
	}
	if r := s.CheckIP(ip("2001:db8::42")); r.Reaction != ReactionNormal || r.SourceID != 7 {
		t.Errorf("v6 range = %+v", r)
	}
	if r := s.CheckSystemID("s2"); r.Reaction != ReactionHang || r.Exemptable || r.SourceType != SourceTypeSID {
		t.Errorf("sid = %+v", r)
	}
	if r := s.CheckUserID(6); r.Reaction != ReactionNormal || r.SourceType != SourceTypeUser {
		t.Errorf("user (unknown reaction → normal) = %+v", r)
	}
	if s.CheckUserID(9).Banned() {
		t.Error("expired ext ban applied")
	}
	if err := s.SetExternalBanEnabled(2, false); err != nil {
		t.Fatal(err)
	}
	if s.CheckSystemID("s2").Banned() {
		t.Error("disabled ext ban applied")
	}
	st := s.ExternalBans()
	if len(st) != 4 || st[1].Enabled || !st[0].Enabled {
		t.Errorf("ExternalBans = %+v", st)
	}
	clk.advance(100 * 365 * 24 * time.Hour)
	if s.CheckIP(ip("192.0.2.8")).Banned() {
		t.Error("ext ban did not expire")
	}
}

// fakeFetch records requests and answers from a script.
type fakeFetch struct {
	calls   []string // "url etag"
	answers []FetchResult
	err     error
}

func (f *fakeFetch) fetch(_ context.Context, url, etag string) (FetchResult, error) {
	f.calls = append(f.calls, url+" "+etag)
	if f.err != nil {
		return FetchResult{}, f.err
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	return a, nil
}

func TestRefreshExtBansETag(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cfg.db")
	logger, logs := captureLogger(t)
	s, err := Open(context.Background(), Options{Database: path, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f := &fakeFetch{}
	// No URL: nothing fetched.
	if err := s.RefreshExtBans(ctx, f.fetch); err != nil || len(f.calls) != 0 {
		t.Fatalf("refresh without URL: %v %v", err, f.calls)
	}
	const u = "https://bans.example/list.json"
	if err := s.SetSetting("extBansUrl", u); err != nil {
		t.Fatal(err)
	}
	doc1 := `{"bans":[{"id":1,"users":[{"ids":[5]}],"expires":"2099-01-01 00:00:00"}]}`
	doc2 := `{"bans":[{"id":2,"users":[{"ids":[6]}],"expires":"2099-01-01 00:00:00"}]}`
	f.answers = []FetchResult{
		{Status: 200, ETag: `"v1"`, Body: []byte(doc1)},
		{Status: 304, ETag: `"v1"`},
		{Status: 500},
		{Status: 200, ETag: `"v2"`, Body: []byte("{garbage")},
		{Status: 304, ETag: `"other"`},
		{Status: 200, ETag: `"v2"`, Body: []byte(doc2)},
	}
	if err := s.RefreshExtBans(ctx, f.fetch); err != nil {
		t.Fatal(err)
	}
	if !s.CheckUserID(5).Banned() {
		t.Fatal("fetched ban not applied")
	}
	if err := s.RefreshExtBans(ctx, f.fetch); err != nil { // 304
		t.Fatal(err)
	}
	var re *ExtBanRefreshError
	if err := s.RefreshExtBans(ctx, f.fetch); !errors.As(err, &re) || re.Status != 500 { // 500
		t.Fatalf("500: %v", err)
	}
	if err := s.RefreshExtBans(ctx, f.fetch); !errors.As(err, &re) { // garbage
		t.Fatalf("garbage: %v", err)
	}
	if !s.CheckUserID(5).Banned() {
		t.Fatal("failed refresh dropped the list")
	}
	if err := s.RefreshExtBans(ctx, f.fetch); err != nil { // 304 with a different ETag: warning
		t.Fatal(err)
	}
	// A new URL is fetched without If-None-Match.
	if err := s.SetSetting("extBansUrl", u+"?v=2"); err != nil {
		t.Fatal(err)
	}
	if err := s.RefreshExtBans(ctx, f.fetch); err != nil {
		t.Fatal(err)
	}
	wantCalls := []string{u + " ", u + ` "v1"`, u + ` "v1"`, u + ` "v1"`, u + ` "v1"`, u + "?v=2 "}
	if strings.Join(f.calls, "\n") != strings.Join(wantCalls, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(wantCalls, "\n"))
	}
	if s.CheckUserID(5).Banned() || !s.CheckUserID(6).Banned() {
		t.Error("list not replaced")
	}
	if !strings.Contains(logs.String(), "does not match given If-None-Match") {
		t.Error("ETag mismatch not logged")
	}
	f.err = errors.New("connection refused")
	if err := s.RefreshExtBans(ctx, f.fetch); !errors.As(err, &re) {
		t.Errorf("network error: %v", err)
	}
	s.Close()

	// The cache survives a restart: bans load before any fetch.
	s2, err := Open(context.Background(), Options{Database: path, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !s2.CheckUserID(6).Banned() {
		t.Error("cached ban list not loaded at start")
	}
	st := s2.Settings()
	if st.ExtBansCacheURL != u+"?v=2" || st.ExtBansCacheKey != `"v2"` || st.ExtBansCacheResponse != doc2 {
		t.Errorf("cache = %q %q %q", st.ExtBansCacheURL, st.ExtBansCacheKey, st.ExtBansCacheResponse)
	}
	logged, _ := s2.QueryLog(LogFilter{MaxLevel: LevelDebug, Message: "Unexpected status code 500"})
	if len(logged) != 1 || logged[0].Topic != TopicExtBan {
		t.Errorf("ext ban errors not in the server log: %+v", logged)
	}
}

func TestRefreshExtBansConfigFileMode(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, t.TempDir(), "extBansUrl = https://b.example/\n", time.Unix(1, 0))
	s, err := Open(context.Background(), Options{ConfigFile: path, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := &fakeFetch{answers: []FetchResult{
		{Status: 200, ETag: "e1", Body: []byte(`{"bans":[{"id":1,"users":[{"ids":[5]}],"expires":"2099-01-01 00:00:00"}]}`)},
		{Status: 304, ETag: "e1"},
	}}
	for range 2 {
		if err := s.RefreshExtBans(context.Background(), f.fetch); err != nil {
			t.Fatal(err)
		}
	}
	if f.calls[1] != "https://b.example/ e1" {
		t.Errorf("second call %q: ETag not cached in memory", f.calls[1])
	}
	if !s.CheckUserID(5).Banned() {
		t.Error("ban not applied")
	}
}

func TestBanResultMessage(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		r    BanResult
		want string
	}{
		{BanResult{Reaction: ReactionNormal}, "Permanently banned from this server"},
		{BanResult{Reaction: ReactionNormal, Expires: now.AddDate(100, 0, 0), Reason: "spam"}, "Permanently banned from this server: spam"},
		{BanResult{Reaction: ReactionNormal, Expires: now.Add(36 * time.Hour)}, "Banned from this server until 2026-01-02 12:00:00 UTC"},
	}
	for _, tc := range tests {
		if got := tc.r.Message(now); got != tc.want {
			t.Errorf("Message = %q, want %q", got, tc.want)
		}
	}
	for _, r := range []string{"normal", "neterror", "garbage", "hang", "timer"} {
		if ParseReaction(r).String() != r {
			t.Errorf("reaction %s round trip", r)
		}
	}
	if ParseReaction("") != ReactionNormal || ParseReaction("Hang") != ReactionUnknown {
		t.Error("ParseReaction edge cases")
	}
}

func TestMemoryLog(t *testing.T) {
	t.Parallel()
	clk := newClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, err := Open(context.Background(), Options{Logger: testLogger(t), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range MemoryLogLimit + 5 {
		s.Log(LogEntry{Level: LogLevel(i % 4), Topic: TopicJoin, Session: "S", Message: fmt.Sprint(i)})
		clk.advance(time.Second)
	}
	all, _ := s.QueryLog(LogFilter{MaxLevel: LevelDebug})
	if len(all) != MemoryLogLimit || all[0].Message != fmt.Sprint(MemoryLogLimit+4) || all[len(all)-1].Message != "5" {
		t.Fatalf("ring: %d entries, newest %q oldest %q", len(all), all[0].Message, all[len(all)-1].Message)
	}
	errs, _ := s.QueryLog(LogFilter{MaxLevel: LevelError, Limit: 2, Offset: 1})
	if len(errs) != 2 || errs[0].Message != fmt.Sprint(MemoryLogLimit) || errs[1].Message != fmt.Sprint(MemoryLogLimit-4) {
		t.Errorf("filtered = %+v", errs)
	}
	if got, _ := s.QueryLog(LogFilter{MaxLevel: LevelDebug, Message: "1004"}); len(got) != 1 {
		t.Errorf("message filter = %+v", got)
	}
	if err := s.SetSetting("logpurgedays", "1"); err != nil {
		t.Fatal(err)
	}
	clk.advance(3 * 24 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.RunLogPurge(ctx); err != nil { // purges once, then sees ctx done
		t.Fatal(err)
	}
	if left, _ := s.QueryLog(LogFilter{MaxLevel: LevelDebug}); len(left) != 0 {
		t.Errorf("%d entries left after purge", len(left))
	}
}
