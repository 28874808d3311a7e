package admin

// Server-wide endpoints: status, settings, bans, accounts, log, list
// server whitelist, external bans and section locks (server.md §3.2).

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"drawbridge/internal/auth"
	"drawbridge/internal/store"
)

// status is the JSON of GET /api/status.
type status struct {
	Started     string `json:"started"`
	Sessions    int    `json:"sessions"`
	MaxSessions int    `json:"maxSessions"`
	Users       int    `json:"users"`
	ExtHost     string `json:"ext_host"`
	ExtPort     int    `json:"ext_port"`
}

func (a *API) getStatus(w http.ResponseWriter, r *http.Request) {
	host := a.opts.ExtHost
	if host == "" {
		host = guessLocalIP()
	}
	writeJSON(w, http.StatusOK, status{
		Started:     a.opts.Started.UTC().Format(time.RFC3339),
		Sessions:    len(a.srv.Sessions()),
		MaxSessions: a.st.Settings().SessionCountLimit,
		Users:       a.srv.ClientCount(),
		ExtHost:     host,
		ExtPort:     a.opts.ExtPort,
	})
}

// guessLocalIP returns the first global unicast address of this machine,
// as drawpile-srv guesses ext_host without --local-host.
func guessLocalIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "127.0.0.1"
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().IsGlobalUnicast() && p.Addr().Is4() {
			return p.Addr().String()
		}
	}
	return "127.0.0.1"
}

func (a *API) serverSettings() map[string]any {
	m := a.st.APISettings(a.opts.Features)
	m["_locked"] = a.locked(SectionServer)
	return m
}

func (a *API) getServer(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.serverSettings())
}

// putServer applies settings. Unlike drawpile-srv, which silently skips
// invalid TIME/SIZE/INT values, the whole request is refused with 400 and
// nothing is changed when any value is invalid.
func (a *API) putServer(w http.ResponseWriter, r *http.Request) {
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	vals := map[string]any{}
	for k, raw := range req {
		var v any
		if err := jsonUnmarshal(raw, &v); err != nil {
			writeError(w, http.StatusBadRequest, "Invalid value for "+k)
			return
		}
		vals[k] = v
	}
	if err := a.st.UpdateAPISettings(vals); err != nil {
		a.storeError(w, r, err)
		return
	}
	if a.opts.SettingsChanged != nil {
		a.opts.SettingsChanged()
	}
	writeJSON(w, http.StatusOK, a.serverSettings())
}

// parseBanDate parses an expiry date ("yyyy-MM-dd HH:mm:ss", also
// "yyyy-MM-dd" and RFC 3339).
func parseBanDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := store.ParseDateTime(s); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (a *API) listIPBans(w http.ResponseWriter, r *http.Request) {
	bans, err := a.st.IPBans()
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	if bans == nil {
		bans = []store.IPBanEntry{}
	}
	a.writeList(w, r, "bans", SectionBans, bans)
}

func (a *API) addIPBan(w http.ResponseWriter, r *http.Request) {
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	ipStr, _ := req.str("ip")
	ip, err := netip.ParseAddr(strings.TrimSpace(ipStr))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid IP address")
		return
	}
	ip = ip.Unmap()
	subnet := int64(0)
	// dpwebadmin sends "" when the subnet field is left empty.
	if sub, _ := req.str("subnet"); req.has("subnet") && strings.TrimSpace(sub) != "" {
		if subnet, ok = req.integer("subnet"); !ok || subnet < 0 || subnet > int64(ip.BitLen()) {
			writeError(w, http.StatusBadRequest, "Invalid subnet")
			return
		}
	}
	expStr, _ := req.str("expires")
	expires, ok := parseBanDate(expStr)
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid expiration date (want yyyy-MM-dd HH:mm:ss)")
		return
	}
	comment, _ := req.str("comment")
	e, err := a.st.AddIPBan(ip, int(subnet), expires, comment)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (a *API) deleteBan(w http.ResponseWriter, r *http.Request, del func(int64) error) {
	id, ok := idParam(w, r, "id")
	if !ok {
		return
	}
	if err := del(id); err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "deleted": id})
}

func (a *API) deleteIPBan(w http.ResponseWriter, r *http.Request) {
	a.deleteBan(w, r, a.st.DeleteIPBan)
}

func (a *API) listIDBans(w http.ResponseWriter, r *http.Request, list func() ([]store.IDBanEntry, error)) {
	bans, err := list()
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	if bans == nil {
		bans = []store.IDBanEntry{}
	}
	a.writeList(w, r, "bans", SectionBans, bans)
}

func (a *API) listSystemBans(w http.ResponseWriter, r *http.Request) {
	a.listIDBans(w, r, a.st.SystemBans)
}

func (a *API) listUserBans(w http.ResponseWriter, r *http.Request) { a.listIDBans(w, r, a.st.UserBans) }

// idBanFields parses expires, reaction, reason and comment.
func idBanFields(w http.ResponseWriter, req request) (expires time.Time, re store.Reaction, reason, comment string, ok bool) {
	expStr, _ := req.str("expires")
	if expires, ok = parseBanDate(expStr); !ok {
		writeError(w, http.StatusBadRequest, "Invalid expiration date (want yyyy-MM-dd HH:mm:ss)")
		return
	}
	rs, _ := req.str("reaction")
	re = store.ParseReaction(rs)
	if re == store.ReactionUnknown {
		writeError(w, http.StatusBadRequest, "Invalid reaction (normal, neterror, garbage, hang or timer)")
		return expires, re, "", "", false
	}
	reason, _ = req.str("reason")
	comment, _ = req.str("comment")
	return expires, re, reason, comment, true
}

var sidRE = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

func (a *API) addSystemBan(w http.ResponseWriter, r *http.Request) {
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	sid, _ := req.str("sid")
	if sid = strings.TrimSpace(sid); !sidRE.MatchString(sid) {
		writeError(w, http.StatusBadRequest, "Invalid sid (32 hexadecimal digits)")
		return
	}
	expires, re, reason, comment, ok := idBanFields(w, req)
	if !ok {
		return
	}
	e, err := a.st.AddSystemBan(strings.ToLower(sid), expires, re, reason, comment)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (a *API) addUserBan(w http.ResponseWriter, r *http.Request) {
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	uid, ok := req.integer("userId")
	if !ok || uid <= 0 {
		writeError(w, http.StatusBadRequest, "Invalid userId (a number > 0)")
		return
	}
	expires, re, reason, comment, ok := idBanFields(w, req)
	if !ok {
		return
	}
	e, err := a.st.AddUserBan(uid, expires, re, reason, comment)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (a *API) deleteSystemBan(w http.ResponseWriter, r *http.Request) {
	a.deleteBan(w, r, a.st.DeleteSystemBan)
}

func (a *API) deleteUserBan(w http.ResponseWriter, r *http.Request) {
	a.deleteBan(w, r, a.st.DeleteUserBan)
}

func (a *API) whitelistBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	list, err := a.st.ListServerWhitelist()
	if err != nil {
		a.storeError(w, r, err)
		return nil, false
	}
	if list == nil {
		list = []string{}
	}
	return map[string]any{"enabled": a.st.Settings().AnnounceWhitelist, "whitelist": list,
		"_locked": a.locked(SectionListServerWhitelist)}, true
}

func (a *API) getWhitelist(w http.ResponseWriter, r *http.Request) {
	if body, ok := a.whitelistBody(w, r); ok {
		writeJSON(w, http.StatusOK, body)
	}
}

func (a *API) putWhitelist(w http.ResponseWriter, r *http.Request) {
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	if _, err := a.st.ListServerWhitelist(); err != nil {
		a.storeError(w, r, err)
		return
	}
	var list []string
	if req.has("whitelist") {
		if err := jsonUnmarshal(req["whitelist"], &list); err != nil {
			writeError(w, http.StatusBadRequest, "whitelist must be an array of strings")
			return
		}
		for _, re := range list {
			if _, err := regexp.Compile(re); err != nil {
				writeError(w, http.StatusBadRequest, "Invalid regular expression: "+re)
				return
			}
		}
	}
	enabled, hasEnabled := req.boolean("enabled")
	if req.has("enabled") && !hasEnabled {
		writeError(w, http.StatusBadRequest, "enabled must be a boolean")
		return
	}
	if req.has("whitelist") {
		if err := a.st.SetListServerWhitelist(list); err != nil {
			a.storeError(w, r, err)
			return
		}
	}
	if hasEnabled {
		if err := a.st.SetSetting("announceWhitelist", map[bool]string{true: "true", false: "false"}[enabled]); err != nil {
			a.storeError(w, r, err)
			return
		}
	}
	a.getWhitelist(w, r)
}

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) {
	list, err := a.st.Accounts()
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	if list == nil {
		list = []store.AccountEntry{}
	}
	a.writeList(w, r, "accounts", SectionAccounts, list)
}

func (a *API) addAccount(w http.ResponseWriter, r *http.Request) {
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	name, _ := req.str("username")
	pw, _ := req.str("password")
	if !store.ValidUsername(name) {
		writeError(w, http.StatusBadRequest, "Invalid username")
		return
	}
	if pw == "" {
		writeError(w, http.StatusBadRequest, "Password is required")
		return
	}
	locked, _ := req.boolean("locked")
	flags, _ := req.str("flags")
	list, err := a.st.Accounts()
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	for _, e := range list {
		if e.Username == name {
			writeError(w, http.StatusBadRequest, "Username already taken")
			return
		}
	}
	e, err := a.st.AddAccount(name, pw, locked, auth.ParseFlagList(flags))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (a *API) updateAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(w, r, "id")
	if !ok {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	var u store.AccountUpdate
	if s, ok := req.str("username"); ok {
		if !store.ValidUsername(s) {
			writeError(w, http.StatusBadRequest, "Invalid username")
			return
		}
		u.Username = &s
	}
	if s, ok := req.str("password"); ok {
		u.Password = &s
	}
	if b, ok := req.boolean("locked"); ok {
		u.Locked = &b
	}
	if s, ok := req.str("flags"); ok {
		f := auth.ParseFlagList(s).String()
		u.Flags = &f
	}
	e, err := a.st.UpdateAccount(id, u)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (a *API) deleteAccount(w http.ResponseWriter, r *http.Request) {
	a.deleteBan(w, r, a.st.DeleteAccount)
}

// checkAccount answers {status: 0 NotFound | 1 BadPass | 2 Banned | 3 Ok}.
func (a *API) checkAccount(w http.ResponseWriter, r *http.Request) {
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	if _, err := a.st.Accounts(); err != nil {
		a.storeError(w, r, err)
		return
	}
	name, _ := req.str("username")
	pw, _ := req.str("password")
	res := a.st.Account(name, pw)
	writeJSON(w, http.StatusOK, map[string]any{"status": int(res.Status)})
}

// logEntry is the JSON of one /api/log entry.
type logEntry struct {
	Timestamp string `json:"timestamp"`
	Level     string `json:"level"`
	Topic     string `json:"topic"`
	Session   string `json:"session,omitempty"`
	User      string `json:"user,omitempty"`
	Message   string `json:"message"`
}

func toLogEntry(e store.LogEntry) logEntry {
	return logEntry{Timestamp: e.Time.UTC().Format(store.LogTimeLayout), Level: e.Level.String(), Topic: string(e.Topic),
		Session: e.Session, User: e.User, Message: e.Message}
}

// logPageSize is the number of entries per /api/log page.
const logPageSize = 100

func (a *API) getLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.LogFilter{MaxLevel: store.LevelDebug, Limit: logPageSize,
		Session: q.Get("session"), User: q.Get("user"), Message: q.Get("contains")}
	if p := q.Get("page"); p != "" {
		n, ok := request{"page": jsonString(p)}.integer("page")
		if !ok || n < 0 || n > 1<<20 {
			writeError(w, http.StatusBadRequest, "Invalid page")
			return
		}
		f.Offset = int(n) * logPageSize
	}
	if s := q.Get("after"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			if t, err = time.ParseInLocation("2006-01-02T15:04:05", s, time.UTC); err != nil {
				writeError(w, http.StatusBadRequest, "Invalid after timestamp (want ISO 8601)")
				return
			}
		}
		f.After = t
	}
	entries, err := a.st.QueryLog(f)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	out := make([]logEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, toLogEntry(e))
	}
	writeJSON(w, http.StatusOK, out)
}

var logTopics = []store.LogTopic{store.TopicJoin, store.TopicLeave, store.TopicKick, store.TopicBan, store.TopicUnban,
	store.TopicOp, store.TopicDeop, store.TopicMute, store.TopicUnmute, store.TopicTrust, store.TopicUntrust,
	store.TopicBadData, store.TopicRuleBreak, store.TopicPubList, store.TopicStatus, store.TopicClientInfo,
	store.TopicExtBan, store.TopicBanImpEx, store.TopicAdminChat, store.TopicInvite, store.TopicReport}

var (
	ulidRE      = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$`)
	logSourceRE = regexp.MustCompile(`^\[[^\]\s]+\] \S`)
)

// postLog adds an entry to the server log (server.md §3.2 POST /api/log).
func (a *API) postLog(w http.ResponseWriter, r *http.Request) {
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	ls, _ := req.str("level")
	level, ok := store.ParseLogLevel(ls)
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid level (Error, Warn, Info or Debug)")
		return
	}
	ts, _ := req.str("topic")
	if !slices.Contains(logTopics, store.LogTopic(ts)) {
		writeError(w, http.StatusBadRequest, "Invalid topic")
		return
	}
	e := store.LogEntry{Time: time.Now(), Level: level, Topic: store.LogTopic(ts)}
	if sess, ok := req.str("session"); ok && sess != "" {
		if !ulidRE.MatchString(sess) {
			writeError(w, http.StatusBadRequest, "Invalid session (must be a ULID)")
			return
		}
		e.Session = strings.ToUpper(sess)
	}
	if raw, ok := req["user"]; ok && string(raw) != "null" {
		var u struct {
			ID   *int64 `json:"id"`
			IP   string `json:"ip"`
			Name string `json:"name"`
		}
		if err := jsonUnmarshal(raw, &u); err != nil || u.ID == nil || *u.ID < 0 || *u.ID > 255 {
			writeError(w, http.StatusBadRequest, "Invalid user (want {id 0-255, ip, name})")
			return
		}
		e.User = store.LogUser(uint8(*u.ID), u.IP, u.Name)
	}
	msg, _ := req.str("message")
	if !logSourceRE.MatchString(msg) {
		writeError(w, http.StatusBadRequest, "Message must start with [SOURCE] followed by text")
		return
	}
	e.Message = msg
	a.st.Log(e)
	writeJSON(w, http.StatusOK, map[string]any{"_locked": false, "entry": toLogEntry(e)})
}

// extBanJSON is one external ban in /api/extbans.
type extBanJSON struct {
	ID          int64         `json:"id"`
	IPs         []ipRangeJSON `json:"ips"`
	IPsExcluded []ipRangeJSON `json:"ipsexcluded"`
	System      []sysBanJSON  `json:"system"`
	Users       []userBanJSON `json:"users"`
	Expires     string        `json:"expires"`
	Comment     string        `json:"comment"`
	Reason      string        `json:"reason"`
	Enabled     bool          `json:"enabled"`
}

type ipRangeJSON struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Reaction string `json:"reaction,omitempty"`
}

type sysBanJSON struct {
	SIDs     []string `json:"sids"`
	Reaction string   `json:"reaction"`
}

type userBanJSON struct {
	IDs      []int64 `json:"ids"`
	Reaction string  `json:"reaction"`
}

func (a *API) extBansBody() map[string]any {
	st := a.st.Settings()
	bans := []extBanJSON{}
	for _, b := range a.st.ExternalBans() {
		j := extBanJSON{ID: b.ID, IPs: []ipRangeJSON{}, IPsExcluded: []ipRangeJSON{}, System: []sysBanJSON{}, Users: []userBanJSON{},
			Expires: store.FormatDateTime(b.Expires), Comment: b.Comment, Reason: b.Reason, Enabled: b.Enabled}
		for _, ip := range b.IPs {
			j.IPs = append(j.IPs, ipRangeJSON{From: ip.From.String(), To: ip.To.String(), Reaction: ip.Reaction.String()})
		}
		for _, ip := range b.IPsExcluded {
			j.IPsExcluded = append(j.IPsExcluded, ipRangeJSON{From: ip.From.String(), To: ip.To.String()})
		}
		for _, s := range b.System {
			j.System = append(j.System, sysBanJSON{SIDs: s.SIDs, Reaction: s.Reaction.String()})
		}
		for _, u := range b.Users {
			j.Users = append(j.Users, userBanJSON{IDs: u.IDs, Reaction: u.Reaction.String()})
		}
		bans = append(bans, j)
	}
	interval := max(st.ExtBansCheckInterval, store.ExtBansMinInterval)
	active := st.ExtBansURL != "" && a.opts.FetchExtBans != nil
	return map[string]any{
		"config": map[string]any{
			"extBansUrl":           st.ExtBansURL,
			"extBansCheckInterval": int64(st.ExtBansCheckInterval / time.Second),
			"extBansCacheUrl":      st.ExtBansCacheURL,
			"extBansCacheKey":      st.ExtBansCacheKey,
		},
		"bans": bans,
		"status": map[string]any{
			"url":                 st.ExtBansURL,
			"intervalMsecs":       interval.Milliseconds(),
			"started":             active,
			"active":              active,
			"msecsUntilNextCheck": -1,
		},
		"_locked": a.locked(SectionExtBans),
	}
}

func (a *API) getExtBans(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.extBansBody())
}

// clearExtBans forgets the cached URL and ETag and the loaded bans.
func (a *API) clearExtBans(w http.ResponseWriter, r *http.Request) {
	for _, k := range []string{"extBansCacheUrl", "extBansCacheKey", "extBansCacheResponse"} {
		if err := a.st.SetSetting(k, ""); err != nil && a.st.Mode() != store.ModeConfigFile {
			a.storeError(w, r, err)
			return
		}
	}
	a.st.SetExternalBans(nil)
	a.getExtBans(w, r)
}

// extBanRefreshTimeout bounds a synchronous refresh.
const extBanRefreshTimeout = 30 * time.Second

func (a *API) refreshExtBans(w http.ResponseWriter, r *http.Request) {
	if a.opts.FetchExtBans == nil || a.st.Settings().ExtBansURL == "" {
		writeError(w, http.StatusBadRequest, "External bans are not active (no extBansUrl)")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), extBanRefreshTimeout)
	defer cancel()
	if err := a.st.RefreshExtBans(ctx, a.opts.FetchExtBans); err != nil {
		writeError(w, http.StatusBadRequest, "Refresh failed: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"msg": "External bans refreshed"})
}

func (a *API) enableExtBan(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(w, r, "id")
	if !ok {
		return
	}
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	en, ok := req.boolean("enabled")
	if !ok {
		writeError(w, http.StatusBadRequest, "Missing enabled")
		return
	}
	if err := a.st.SetExternalBanEnabled(id, en); err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "id": id, "enabled": en})
}

func (a *API) locksBody() map[string]any {
	secs := map[string]bool{}
	for _, s := range Sections {
		secs[s] = a.locked(s)
	}
	return map[string]any{"supported": a.st.SupportsAdminLocks(), "password": !a.st.CheckAdminLockPassword(""), "sections": secs}
}

func (a *API) getLocks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.locksBody())
}

// putLocks locks exactly the given sections (storing the password), or
// unlocks everything when the list is empty. If a lock password is set it
// must be given (403 otherwise).
func (a *API) putLocks(w http.ResponseWriter, r *http.Request) {
	req, ok := parseRequest(w, r)
	if !ok {
		return
	}
	if !a.st.SupportsAdminLocks() {
		a.storeError(w, r, store.ErrUnsupported)
		return
	}
	pw, _ := req.str("password")
	var secs []string
	if req.has("sections") {
		if err := jsonUnmarshal(req["sections"], &secs); err != nil {
			writeError(w, http.StatusBadRequest, "sections must be an array of section names")
			return
		}
	}
	for _, s := range secs {
		if !slices.Contains(Sections, s) {
			writeError(w, http.StatusBadRequest, "Unknown section "+s)
			return
		}
	}
	if !a.st.CheckAdminLockPassword(pw) {
		writeError(w, http.StatusForbidden, "Incorrect password")
		return
	}
	if len(secs) == 0 {
		pw = ""
	}
	if err := a.st.SetAdminSectionsLocked(secs, pw); err != nil {
		a.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.locksBody())
}
