package mirror

import (
	"slices"

	"drawbridge/protocol"
)

// aclState is the session state a client's ACL filter has learnt from the
// history and that canvas.Snapshot does not contain: who is present,
// operators, trusted users, and the ACL messages (user and layer locks,
// feature tiers and limits, default layer). Owned by Run.
type aclState struct {
	joins    map[uint8]protocol.Frame // present users' Join, by ctx
	owners   protocol.Frame           // latest SessionOwner (nil: none)
	trusted  protocol.Frame           // latest TrustedUsers
	userACL  protocol.Message         // latest UserACL, FeatureAccessLevels, FeatureLimits, DefaultLayer
	features protocol.Message
	limits   protocol.Message
	defLayer protocol.Message
	layers   map[uint32]protocol.LayerACL // by layer id (0: session lock)
}

func (a *aclState) reset() {
	*a = aclState{joins: map[uint8]protocol.Frame{}, layers: map[uint32]protocol.LayerACL{}}
}

// track records a message the ACL filter accepted.
func (a *aclState) track(ctx uint8, f protocol.Frame, msg protocol.Message) {
	switch m := msg.(type) {
	case protocol.Join:
		a.joins[ctx] = f
	case protocol.Leave:
		delete(a.joins, ctx)
	case protocol.SessionOwner:
		a.owners = f
	case protocol.TrustedUsers:
		a.trusted = f
	case protocol.UserACL:
		a.userACL = m
	case protocol.FeatureAccessLevels:
		a.features = m
	case protocol.FeatureLimits:
		a.limits = m
	case protocol.DefaultLayer:
		a.defLayer = m
	case protocol.LayerACL:
		a.layers[m.ID] = m
	case protocol.LayerTreeDelete:
		delete(a.layers, m.ID)
	}
}

// presence returns Join of each present user (by ctx), SessionOwner and
// TrustedUsers, as stored in the history.
func (a *aclState) presence() []protocol.Frame {
	ids := make([]uint8, 0, len(a.joins))
	for id := range a.joins {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]protocol.Frame, 0, len(ids)+2)
	for _, id := range ids {
		out = append(out, a.joins[id])
	}
	if a.owners != nil {
		out = append(out, a.owners)
	}
	if a.trusted != nil {
		out = append(out, a.trusted)
	}
	return out
}

// aclMessages returns the ACL messages to replay after a snapshot (sent
// with context id 0, which every ACL filter treats as an operator).
func (a *aclState) aclMessages() []protocol.Message {
	var out []protocol.Message
	for _, m := range []protocol.Message{a.features, a.limits, a.userACL} {
		if m != nil {
			out = append(out, m)
		}
	}
	ids := make([]uint32, 0, len(a.layers))
	for id := range a.layers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = append(out, a.layers[id])
	}
	if a.defLayer != nil {
		out = append(out, a.defLayer)
	}
	return out
}
