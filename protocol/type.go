package protocol

// Type is a message type id (0–255). Ranges (protocol.md §1.4):
//
//	0–31    control: consumed by the server, never history content
//	32–63   server meta: decoded and validated by the server
//	64–127  client meta: opaque to the server, relayed and stored as bytes
//	128–255 commands: opaque to the server, relayed and stored as bytes
type Type uint8

// Range boundaries.
const (
	FirstServerMeta Type = 32
	FirstClientMeta Type = 64
	FirstCommand    Type = 128
)

// IsControl reports whether t is a control message (0–31).
func (t Type) IsControl() bool { return t < FirstServerMeta }

// IsOpaque reports whether the server relays t without decoding it (≥ 64).
func (t Type) IsOpaque() bool { return t >= FirstClientMeta }

// IsCommand reports whether t is a drawing/canvas command (≥ 128).
func (t Type) IsCommand() bool { return t >= FirstCommand }
