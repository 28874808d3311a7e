package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Reaction is how a banned client is treated (server.md §4.3). The session
// server implements the behaviour; this package only stores and matches.
type Reaction int

const (
	// NotBanned: no ban matched.
	NotBanned Reaction = iota
	// ReactionUnknown: a stored reaction string this server does not know;
	// treat as ReactionNormal.
	ReactionUnknown
	// ReactionNormal: refuse at host/join with "Banned from this server
	// until <date>" (or "Permanently…" when ≥ 99 years away) and the reason.
	ReactionNormal
	// ReactionNetError: pretend the network failed ("no route to host").
	ReactionNetError
	// ReactionGarbage: send a garbage login result.
	ReactionGarbage
	// ReactionHang: never answer.
	ReactionHang
	// ReactionTimer: abort the socket after a random 1–5 s.
	ReactionTimer
)

// ParseReaction parses a stored reaction ("" and "normal" are normal;
// unrecognised text is ReactionUnknown). Case-sensitive, as upstream.
func ParseReaction(s string) Reaction {
	switch s {
	case "", "normal":
		return ReactionNormal
	case "neterror":
		return ReactionNetError
	case "garbage":
		return ReactionGarbage
	case "hang":
		return ReactionHang
	case "timer":
		return ReactionTimer
	}
	return ReactionUnknown
}

func (r Reaction) String() string {
	switch r {
	case NotBanned:
		return "notbanned"
	case ReactionUnknown:
		return "unknown"
	case ReactionNormal:
		return "normal"
	case ReactionNetError:
		return "neterror"
	case ReactionGarbage:
		return "garbage"
	case ReactionHang:
		return "hang"
	case ReactionTimer:
		return "timer"
	}
	return "unknown"
}

// Ban sources and source types as upstream names them (for log messages
// and the admin API).
const (
	SourceDatabase   = "database"
	SourceConfigFile = "configfile"
	SourceExtBan     = "extban"

	SourceTypeIP   = "IP"
	SourceTypeSID  = "SID"
	SourceTypeUser = "User"
)

// BanResult is the outcome of a ban check. The zero value is "not banned".
type BanResult struct {
	Reaction Reaction
	Reason   string
	// Expires is when the ban ends; zero for permanent bans (config file).
	Expires time.Time
	// Cause is what matched: the client's address, SID or user ID.
	Cause      string
	Source     string // SourceDatabase, SourceConfigFile or SourceExtBan
	SourceType string // SourceTypeIP, SourceTypeSID or SourceTypeUser
	SourceID   int64  // ban id (DB rowid, 1-based line entry, ext-ban id)
	// Exemptable: IP-derived bans can be waived for MOD/BANEXEMPT holders;
	// SID and user bans cannot.
	Exemptable bool
}

// Banned reports whether a ban matched.
func (b BanResult) Banned() bool { return b.Reaction != NotBanned }

// Permanent reports whether the ban counts as permanent for the message
// shown to the user: no expiry, or at least 99 years after now.
func (b BanResult) Permanent(now time.Time) bool {
	return b.Expires.IsZero() || !b.Expires.Before(now.AddDate(99, 0, 0))
}

// Message is the text sent to a normally banned user.
func (b BanResult) Message(now time.Time) string {
	var msg string
	if b.Permanent(now) {
		msg = "Permanently banned from this server"
	} else {
		msg = "Banned from this server until " + b.Expires.UTC().Format("2006-01-02 15:04:05") + " UTC"
	}
	if r := strings.TrimSpace(b.Reason); r != "" {
		msg += ": " + r
	}
	return msg
}

// DateTimeLayout is the format of ban dates in the database and the
// external ban list ("yyyy-MM-dd HH:mm:ss"). drawpile-srv writes local time
// but compares against SQLite's UTC clock; Drawbridge reads and writes UTC.
const DateTimeLayout = "2006-01-02 15:04:05"

// ParseDateTime parses a ban date in DateTimeLayout as UTC.
func ParseDateTime(s string) (time.Time, error) {
	return time.ParseInLocation(DateTimeLayout, s, time.UTC)
}

// FormatDateTime formats a ban date in DateTimeLayout (UTC).
func FormatDateTime(t time.Time) string { return t.UTC().Format(DateTimeLayout) }

// MatchesBannedAddress reports whether client addr is covered by a ban on
// ip/prefix, with drawpile-srv's rules: an IPv4 ban compares in IPv4 space
// (IPv4-mapped IPv6 clients are converted; other IPv6 clients never match),
// an IPv6 ban compares in IPv6 space (IPv4 clients as ::ffff:a.b.c.d).
// Prefix 0 means a single host; a prefix longer than the address is
// clamped to it; a negative prefix never matches.
func MatchesBannedAddress(addr, ip netip.Addr, prefix int) bool {
	if !addr.IsValid() || !ip.IsValid() || prefix < 0 {
		return false
	}
	addr = addr.WithZone("")
	ip = ip.WithZone("")
	if ip.Is4() {
		a := addr.Unmap()
		if !a.Is4() {
			return false
		}
		return inPrefix(a, ip, prefix, 32)
	}
	a := addr
	if a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	return inPrefix(a, ip, prefix, 128)
}

func inPrefix(a, ip netip.Addr, prefix, bits int) bool {
	if prefix == 0 || prefix > bits {
		prefix = bits
	}
	p, err := ip.Prefix(prefix)
	if err != nil {
		return false
	}
	return p.Contains(a)
}

// AddressInRange reports whether addr lies between from and to inclusive:
// compared as IPv4 numbers when all three are IPv4 (or IPv4-mapped), else
// as 16-byte IPv6 values (IPv4 as ::ffff:a.b.c.d).
func AddressInRange(addr, from, to netip.Addr) bool {
	if !addr.IsValid() || !from.IsValid() || !to.IsValid() {
		return false
	}
	a4, f4, t4 := addr.Unmap(), from.Unmap(), to.Unmap()
	if a4.Is4() && f4.Is4() && t4.Is4() && a4.Compare(f4) >= 0 && a4.Compare(t4) <= 0 {
		return true
	}
	a6, f6, t6 := addr.As16(), from.As16(), to.As16()
	return bytes.Compare(a6[:], f6[:]) >= 0 && bytes.Compare(a6[:], t6[:]) <= 0
}

// ParseBanAddress parses an address as drawpile-srv stores it (IPv4,
// IPv6, optionally with a zone). It returns the zero Addr on failure.
func ParseBanAddress(s string) netip.Addr {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}
	}
	return a
}

// IPRange is one from–to range of an external ban.
type IPRange struct {
	From, To netip.Addr
	Reaction Reaction // unused for excluded ranges
}

// SystemBan is a set of system IDs with a reaction.
type SystemBan struct {
	SIDs     []string
	Reaction Reaction
}

// UserBan is a set of ext-auth user IDs with a reaction.
type UserBan struct {
	IDs      []int64
	Reaction Reaction
}

// ExtBan is one entry of the external (shared) ban list (server.md §4.4).
type ExtBan struct {
	ID          int64
	IPs         []IPRange
	IPsExcluded []IPRange
	System      []SystemBan
	Users       []UserBan
	Expires     time.Time
	Comment     string
	Reason      string
}

// ExtBanWarning describes a skipped entry of an external ban list.
type ExtBanWarning struct {
	Index  int // position in the "bans" array
	ID     string
	Reason string
}

// maxExtBanBody bounds the external ban list document.
const maxExtBanBody = 64 << 20

// ParseExtBans parses the external ban list JSON:
//
//	{"bans":[{"id":1, "ips":[{"from","to","reaction"}], "ipsexcluded":[{"from","to"}],
//	  "system":[{"sids":[…],"reaction"}], "users":[{"ids":[…],"reaction"}],
//	  "expires":"yyyy-MM-dd HH:mm:ss", "comment", "reason"}]}
//
// Entries are skipped (with a warning) when the id is not > 0, an ip or
// excluded range has an unparseable address, none of ips/system/users is
// usable, or expires is missing or malformed; empty SIDs and negative user
// IDs are dropped. The error is non-nil only when the document is not a
// JSON object.
func ParseExtBans(body []byte) ([]ExtBan, []ExtBanWarning, error) {
	if len(body) > maxExtBanBody {
		return nil, nil, fmt.Errorf("store: external ban list is %d bytes, limit %d", len(body), maxExtBanBody)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		if err == nil {
			err = fmt.Errorf("top-level element is not an object")
		}
		return nil, nil, fmt.Errorf("store: parse external ban list: %w", err)
	}
	var entries []json.RawMessage
	_ = json.Unmarshal(doc["bans"], &entries) // not an array: no bans
	var bans []ExtBan
	var warns []ExtBanWarning
	for i, raw := range entries {
		var e struct {
			ID          json.RawMessage `json:"id"`
			Expires     any             `json:"expires"`
			Comment     any             `json:"comment"`
			Reason      any             `json:"reason"`
			RawIPs      json.RawMessage `json:"ips"`
			RawExcluded json.RawMessage `json:"ipsexcluded"`
			RawSystem   json.RawMessage `json:"system"`
			RawUsers    json.RawMessage `json:"users"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			warns = append(warns, ExtBanWarning{Index: i, Reason: "entry is not an object"})
			continue
		}
		var idf float64
		if json.Unmarshal(e.ID, &idf) != nil || idf != float64(int64(idf)) || idf <= 0 || idf > 1<<31-1 {
			warns = append(warns, ExtBanWarning{Index: i, ID: string(e.ID), Reason: "invalid ban id"})
			continue
		}
		b := ExtBan{ID: int64(idf), Comment: jsonString(e.Comment), Reason: jsonString(e.Reason)}
		id := fmt.Sprint(b.ID)
		var ok bool
		if b.IPs, ok = parseExtRanges(e.RawIPs, false); !ok {
			warns = append(warns, ExtBanWarning{Index: i, ID: id, Reason: "invalid ip ban"})
			continue
		}
		if b.IPsExcluded, ok = parseExtRanges(e.RawExcluded, true); !ok {
			warns = append(warns, ExtBanWarning{Index: i, ID: id, Reason: "invalid ip exclude"})
			continue
		}
		b.System = parseExtSystem(e.RawSystem)
		b.Users = parseExtUsers(e.RawUsers)
		if len(b.IPs) == 0 && len(b.System) == 0 && len(b.Users) == 0 {
			warns = append(warns, ExtBanWarning{Index: i, ID: id, Reason: "empty ban"})
			continue
		}
		exp, err := ParseDateTime(jsonString(e.Expires))
		if err != nil {
			warns = append(warns, ExtBanWarning{Index: i, ID: id, Reason: "invalid expires"})
			continue
		}
		b.Expires = exp
		bans = append(bans, b)
	}
	return bans, warns, nil
}

func jsonString(v any) string {
	s, _ := v.(string)
	return s
}

// jsonArray decodes raw as an array; anything else is an empty array (Qt's
// toArray()).
func jsonArray(raw json.RawMessage) []json.RawMessage {
	var arr []json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &arr) != nil {
		return nil
	}
	return arr
}

func parseExtRanges(raw json.RawMessage, exclude bool) ([]IPRange, bool) {
	var out []IPRange
	for _, item := range jsonArray(raw) {
		var o map[string]any
		if json.Unmarshal(item, &o) != nil || o == nil {
			return nil, false
		}
		from := ParseBanAddress(jsonString(o["from"]))
		to := ParseBanAddress(jsonString(o["to"]))
		if !from.IsValid() || !to.IsValid() {
			return nil, false
		}
		r := NotBanned
		if !exclude {
			r = ParseReaction(jsonString(o["reaction"]))
		}
		out = append(out, IPRange{From: from, To: to, Reaction: r})
	}
	return out, true
}

func parseExtSystem(raw json.RawMessage) []SystemBan {
	var out []SystemBan
	for _, item := range jsonArray(raw) {
		var o struct {
			SIDs     json.RawMessage `json:"sids"`
			Reaction any             `json:"reaction"`
		}
		_ = json.Unmarshal(item, &o)
		var sids []string
		seen := map[string]bool{}
		for _, s := range jsonArray(o.SIDs) {
			var sid string
			if json.Unmarshal(s, &sid) == nil && sid != "" && !seen[sid] {
				seen[sid] = true
				sids = append(sids, sid)
			}
		}
		if len(sids) > 0 {
			out = append(out, SystemBan{SIDs: sids, Reaction: ParseReaction(jsonString(o.Reaction))})
		}
	}
	return out
}

func parseExtUsers(raw json.RawMessage) []UserBan {
	var out []UserBan
	for _, item := range jsonArray(raw) {
		var o struct {
			IDs      json.RawMessage `json:"ids"`
			Reaction any             `json:"reaction"`
		}
		_ = json.Unmarshal(item, &o)
		var ids []int64
		seen := map[int64]bool{}
		for _, s := range jsonArray(o.IDs) {
			var f float64
			if json.Unmarshal(s, &f) != nil || f < 0 || f > 1<<62 {
				continue
			}
			if id := int64(f); !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			out = append(out, UserBan{IDs: ids, Reaction: ParseReaction(jsonString(o.Reaction))})
		}
	}
	return out
}

// extBanResult makes a BanResult for a matched external ban; an unknown
// reaction becomes normal.
func extBanResult(b *ExtBan, cause, sourceType string, r Reaction, exemptable bool) BanResult {
	if r == NotBanned || r == ReactionUnknown {
		r = ReactionNormal
	}
	return BanResult{Reaction: r, Reason: b.Reason, Expires: b.Expires, Cause: cause,
		Source: SourceExtBan, SourceType: sourceType, SourceID: b.ID, Exemptable: exemptable}
}

// checkExtIP, checkExtSID and checkExtUser match the external list; bans
// whose id is in disabled or that expired are ignored.
func checkExtIP(bans []ExtBan, disabled map[int64]bool, now time.Time, addr netip.Addr) BanResult {
	for i := range bans {
		b := &bans[i]
		if disabled[b.ID] || !b.Expires.After(now) {
			continue
		}
		r, ok := inAnyRange(addr, b.IPs)
		if ok {
			if _, excluded := inAnyRange(addr, b.IPsExcluded); !excluded {
				return extBanResult(b, addr.String(), SourceTypeIP, r, true)
			}
		}
	}
	return BanResult{}
}

func inAnyRange(addr netip.Addr, ranges []IPRange) (Reaction, bool) {
	for _, r := range ranges {
		if AddressInRange(addr, r.From, r.To) {
			return r.Reaction, true
		}
	}
	return NotBanned, false
}

func checkExtSID(bans []ExtBan, disabled map[int64]bool, now time.Time, sid string) BanResult {
	for i := range bans {
		b := &bans[i]
		if disabled[b.ID] || !b.Expires.After(now) {
			continue
		}
		for _, s := range b.System {
			for _, x := range s.SIDs {
				if x == sid {
					return extBanResult(b, sid, SourceTypeSID, s.Reaction, false)
				}
			}
		}
	}
	return BanResult{}
}

func checkExtUser(bans []ExtBan, disabled map[int64]bool, now time.Time, uid int64) BanResult {
	for i := range bans {
		b := &bans[i]
		if disabled[b.ID] || !b.Expires.After(now) {
			continue
		}
		for _, u := range b.Users {
			for _, x := range u.IDs {
				if x == uid {
					return extBanResult(b, fmt.Sprint(uid), SourceTypeUser, u.Reaction, false)
				}
			}
		}
	}
	return BanResult{}
}
