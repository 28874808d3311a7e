package sessionfile

import (
	"slices"
	"strconv"
)

// SetJournal brings the journaled state to target by appending the
// records that differ (one write). It is the bulk alternative to the
// individual setters: a session server can build a State from its own
// fields after any change and hand it over. File and FileCount are ignored
// (recordings change only through Create, Reset and streamed resets); the
// alias is written only if none is set yet; remembered users and auth
// names cannot be removed (the journal has no record for that). Free-text values are normalised as
// the setters do (State() shows the result).
func (f *File) SetJournal(target State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	lines := diffRecords(&f.state, &target)
	if len(lines) == 0 {
		return nil
	}
	return f.writeJournal(lines, false)
}

// diffRecords returns the journal records that turn cur into target.
func diffRecords(cur, target *State) []byte {
	var b []byte
	if cur.Alias == "" && oneLine(target.Alias) != "" {
		b = appendRecord(b, "ALIAS", target.Alias)
	}
	if v := oneLine(target.Founder); v != cur.Founder {
		b = appendRecord(b, "FOUNDER", v)
	}
	if v := oneLine(target.Title); v != cur.Title {
		b = appendRecord(b, "TITLE", v)
	}
	if v := oneLine(target.Password); v != cur.Password {
		b = appendRecord(b, "PASSWORD", v)
	}
	if v := oneLine(target.Opword); v != cur.Opword {
		b = appendRecord(b, "OPWORD", v)
	}
	if v := min(max(target.MaxUsers, 1), 254); v != cur.MaxUsers {
		b = appendRecord(b, "MAXUSERS", strconv.Itoa(v))
	}
	if target.AutoReset != cur.AutoReset {
		b = appendRecord(b, "AUTORESET", strconv.FormatUint(target.AutoReset, 10))
	}
	if target.Archive != cur.Archive && target.Archive >= ArchiveDefault && target.Archive <= ArchiveOn {
		b = archiveRecord(b, target.Archive)
	}
	if v := min(target.SizeLimit, maxSizeLimit); v != cur.SizeLimit {
		b = appendRecord(b, "LIMIT", strconv.FormatUint(v, 10))
	}
	if target.Flags != cur.Flags {
		b = appendRecord(b, "FLAGS", target.Flags.String())
	}
	for _, ban := range cur.Bans {
		if !slices.ContainsFunc(target.Bans, func(t Ban) bool { return t.ID == ban.ID }) {
			b = appendRecord(b, "UNBAN", strconv.Itoa(ban.ID))
		}
	}
	for _, ban := range target.Bans {
		if !slices.Contains(cur.Bans, normBan(ban)) {
			b = banRecord(b, ban)
		}
	}
	for _, u := range cur.Announce {
		if !slices.Contains(target.Announce, u) {
			b = appendRecord(b, "UNANNOUNCE", u)
		}
	}
	for _, u := range target.Announce {
		if u = oneLine(u); u != "" && !slices.Contains(cur.Announce, u) {
			b = appendRecord(b, "ANNOUNCE", u)
		}
	}
	for _, u := range target.Users {
		if id, ok := cur.UserIDFor(u.Name); (!ok || id != u.ID) && u.ID != 0 && u.ID != 255 {
			b = userRecord(b, u)
		}
	}
	b = diffSet(b, cur.Ops, target.Ops, "OP", "DEOP")
	b = diffSet(b, cur.Trusted, target.Trusted, "TRUST", "UNTRUST")
	order := target.AuthOrder
	for id := range target.AuthNames { // ids missing from AuthOrder go last
		if !slices.Contains(order, id) {
			order = append(slices.Clone(order), id)
		}
	}
	for _, id := range order {
		name, ok := target.AuthNames[id]
		if old, had := cur.AuthNames[id]; ok && id != "" && name != "" && (!had || old != name) {
			b = authNameRecord(b, id, name)
		}
	}
	if target.Catchup != cur.Catchup && target.Catchup != 0 {
		b = appendRecord(b, "CATCHUP", strconv.Itoa(min(max(target.Catchup, MinCatchupKey), MaxCatchupKey)))
	}
	for _, inv := range cur.Invites {
		if !slices.ContainsFunc(target.Invites, func(t Invite) bool { return token(t.Secret) == inv.Secret }) {
			b = appendRecord(b, "UNV", inv.Secret)
		}
	}
	for _, inv := range target.Invites {
		secret := token(inv.Secret)
		if secret == "" {
			continue
		}
		i := slices.IndexFunc(cur.Invites, func(c Invite) bool { return c.Secret == secret })
		var have []InviteUse
		if i < 0 || !sameInvite(cur.Invites[i], inv) {
			b = inviteRecord(b, inv) // (re)creating an invite clears its uses
		} else {
			have = cur.Invites[i].Uses
		}
		for _, u := range inv.Uses {
			if !slices.Contains(have, InviteUse{ClientKey: token(u.ClientKey), Name: u.Name}) {
				b = inviteUseRecord(b, secret, u)
			}
		}
	}
	return b
}

// normBan returns b as a reload would see it.
func normBan(b Ban) Ban {
	b.IP = token(b.IP)
	return b
}

func sameInvite(c, t Invite) bool {
	return c.CreatedAt == token(t.CreatedAt) && c.MaxUses == t.MaxUses && c.Trust == t.Trust && c.Op == t.Op && c.Creator == t.Creator
}

func diffSet(b []byte, cur, target []string, add, remove string) []byte {
	for _, v := range cur {
		if !slices.Contains(target, v) {
			b = appendRecord(b, remove, v)
		}
	}
	for _, v := range target {
		if v = oneLine(v); v != "" && !slices.Contains(cur, v) {
			b = appendRecord(b, add, v)
		}
	}
	return b
}
