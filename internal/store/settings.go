package store

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"drawbridge/internal/auth"
)

// Type is how a setting's string value is interpreted (server.md §1.2).
type Type int

const (
	// TypeString: the raw value.
	TypeString Type = iota
	// TypeTime: `^\d+(\.\d+)?\s*[dhms]?$`, case-insensitive; no unit means
	// seconds, d=86400, h=3600, m=60; computed in 32-bit float and truncated
	// to whole seconds.
	TypeTime
	// TypeSize: `^\d+(\.\d+)?\s*(gb|mb|kb|b)?$`, case-insensitive, binary
	// multiples (1 kb = 1024); computed in 32-bit float, truncated to bytes.
	TypeSize
	// TypeInt: a decimal 32-bit integer (surrounding spaces and a sign allowed).
	TypeInt
	// TypeBool: true iff the value is "true" or "1", case-insensitive;
	// anything else is false (and any value is accepted on write).
	TypeBool
)

func (t Type) String() string {
	switch t {
	case TypeString:
		return "STRING"
	case TypeTime:
		return "TIME"
	case TypeSize:
		return "SIZE"
	case TypeInt:
		return "INT"
	case TypeBool:
		return "BOOL"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// API says whether and when the admin API (GET/PUT /api/server) exposes a
// setting.
type API int

const (
	// APIAlways: listed in GET /api/server and writable with PUT.
	APIAlways API = iota
	// APINever: internal (ext-ban cache) or managed elsewhere
	// (announceWhitelist is set through /api/listserverwhitelist).
	APINever
	// APIIfExtAuth: hidden when no --extauth URL is configured (only
	// "extauth" itself upstream; the other extauth* keys are listed
	// whenever ext-auth support is compiled in, which it always is here).
	APIIfExtAuth
	// APIIfReportURL: hidden when no --report-url is configured.
	APIIfReportURL
	// APIIfWebSocket: hidden when the WebSocket listener is off.
	APIIfWebSocket
	// APIIfLocalHost: hidden when --local-host is empty.
	APIIfLocalHost
)

// Key describes one runtime setting: its name as stored (DB settings.key,
// [config] key, JSON member), its type and its default. Index is
// drawpile-srv's internal number (9 is unused).
type Key struct {
	Index   int
	Name    string
	Type    Type
	Default string
	API     API
}

// The runtime settings of drawpile-srv (src/libserver/serverconfig.h), by
// index. Names are case-sensitive.
var (
	KeyClientTimeout               = Key{0, "clientTimeout", TypeTime, "60", APIAlways}
	KeySessionSizeLimit            = Key{1, "sessionSizeLimit", TypeSize, "99mb", APIAlways}
	KeySessionCountLimit           = Key{2, "sessionCountLimit", TypeInt, "25", APIAlways}
	KeyPersistence                 = Key{3, "persistence", TypeBool, "false", APIAlways}
	KeyAllowGuestHosts             = Key{4, "allowGuestHosts", TypeBool, "true", APIAlways}
	KeyIdleTimeLimit               = Key{5, "idleTimeLimit", TypeTime, "0", APIAlways}
	KeyServerTitle                 = Key{6, "serverTitle", TypeString, "", APIAlways}
	KeyWelcomeMessage              = Key{7, "welcomeMessage", TypeString, "", APIAlways}
	KeyAnnounceWhitelist           = Key{8, "announceWhitelist", TypeBool, "false", APINever}
	KeyAllowGuests                 = Key{10, "allowGuests", TypeBool, "true", APIAlways}
	KeyArchive                     = Key{11, "archive", TypeBool, "false", APIAlways}
	KeyExtAuth                     = Key{12, "extauth", TypeBool, "false", APIIfExtAuth}
	KeyExtAuthKey                  = Key{13, "extauthkey", TypeString, "", APIAlways}
	KeyExtAuthGroup                = Key{14, "extauthgroup", TypeString, "", APIAlways}
	KeyExtAuthFallback             = Key{15, "extauthfallback", TypeBool, "true", APIAlways}
	KeyExtAuthMod                  = Key{16, "extauthmod", TypeBool, "true", APIAlways}
	KeyExtAuthHost                 = Key{17, "extauthhost", TypeBool, "true", APIAlways}
	KeyAbuseReport                 = Key{18, "abusereport", TypeBool, "false", APIIfReportURL}
	KeyReportToken                 = Key{19, "reporttoken", TypeString, "", APIAlways}
	KeyLogPurgeDays                = Key{20, "logpurgedays", TypeInt, "0", APIAlways}
	KeyAutoResetThreshold          = Key{21, "autoResetThreshold", TypeSize, "15mb", APIAlways}
	KeyCustomAvatars               = Key{22, "customAvatars", TypeBool, "true", APIAlways}
	KeyExtAuthAvatars              = Key{23, "extAuthAvatars", TypeBool, "true", APIAlways}
	KeyForceNsfm                   = Key{24, "forceNsfm", TypeBool, "false", APIAlways}
	KeyExtBansURL                  = Key{25, "extBansUrl", TypeString, "", APIAlways}
	KeyExtBansCheckInterval        = Key{26, "extBansCheckInterval", TypeTime, "900", APIAlways}
	KeyExtBansCacheURL             = Key{27, "extBansCacheUrl", TypeString, "", APINever}
	KeyExtBansCacheKey             = Key{28, "extBansCacheKey", TypeString, "", APINever}
	KeyExtBansCacheResponse        = Key{29, "extBansCacheResponse", TypeString, "", APINever}
	KeyExtAuthBanExempt            = Key{30, "extauthbanexempt", TypeBool, "false", APIAlways}
	KeyAllowIdleOverride           = Key{31, "allowIdleOverride", TypeBool, "true", APIAlways}
	KeyLoginInfoURL                = Key{32, "loginInfoUrl", TypeString, "", APIAlways}
	KeyEnableGhosts                = Key{33, "enableGhosts", TypeBool, "false", APIAlways}
	KeyExtAuthGhosts               = Key{34, "extauthghosts", TypeBool, "false", APIAlways}
	KeyRuleText                    = Key{35, "ruleText", TypeString, "", APIAlways}
	KeyMinimumProtocolVersion      = Key{36, "minimumProtocolVersion", TypeString, "", APIAlways}
	KeyMandatoryLookup             = Key{37, "mandatoryLookup", TypeBool, "false", APIAlways}
	KeyAllowGuestWeb               = Key{38, "allowGuestWeb", TypeBool, "true", APIIfWebSocket}
	KeyExtAuthWeb                  = Key{39, "extauthweb", TypeBool, "false", APIIfWebSocket}
	KeyAllowGuestWebSession        = Key{40, "allowGuestWebSession", TypeBool, "true", APIIfWebSocket}
	KeyExtAuthWebSession           = Key{41, "extauthwebsession", TypeBool, "false", APIIfWebSocket}
	KeySessionUserLimit            = Key{42, "sessionUserLimit", TypeInt, "254", APIAlways}
	KeyPasswordDependentWebSession = Key{43, "passwordDependentWebSession", TypeBool, "false", APIIfWebSocket}
	KeyExtAuthPersist              = Key{44, "extauthpersist", TypeBool, "false", APIAlways}
	KeyEmptySessionLingerTime      = Key{45, "emptySessionLingerTime", TypeTime, "0", APIAlways}
	KeyRequireMatchingHost         = Key{46, "requireMatchingHost", TypeBool, "false", APIIfLocalHost}
	KeyAllowGuestWebHosts          = Key{47, "allowGuestWebHosts", TypeBool, "true", APIAlways}
	KeyExtAuthWebHost              = Key{48, "extauthwebhost", TypeBool, "false", APIAlways}
	KeyInvites                     = Key{49, "invites", TypeBool, "true", APIAlways}
	KeyPreferWebSockets            = Key{50, "preferWebSockets", TypeBool, "false", APIIfWebSocket}
	KeyForbiddenNameRegex          = Key{51, "forbiddenNameRegex", TypeString, "", APIAlways}
	KeyFilterNameRegex             = Key{52, "filterNameRegex", TypeString, "", APIAlways}
	KeyUnlistedHostPolicy          = Key{53, "unlistedHostPolicy", TypeString, "", APIAlways}
	KeyMinimumAutoResetThreshold   = Key{54, "minimumAutoResetThreshold", TypeSize, "0", APIAlways}
	KeySessionLessClientLingerTime = Key{55, "sessionLessClientLingerTime", TypeTime, "0", APIAlways}
)

// Keys lists every runtime setting in index order.
var Keys = []Key{
	KeyClientTimeout, KeySessionSizeLimit, KeySessionCountLimit, KeyPersistence,
	KeyAllowGuestHosts, KeyIdleTimeLimit, KeyServerTitle, KeyWelcomeMessage,
	KeyAnnounceWhitelist, KeyAllowGuests, KeyArchive, KeyExtAuth, KeyExtAuthKey,
	KeyExtAuthGroup, KeyExtAuthFallback, KeyExtAuthMod, KeyExtAuthHost,
	KeyAbuseReport, KeyReportToken, KeyLogPurgeDays, KeyAutoResetThreshold,
	KeyCustomAvatars, KeyExtAuthAvatars, KeyForceNsfm, KeyExtBansURL,
	KeyExtBansCheckInterval, KeyExtBansCacheURL, KeyExtBansCacheKey,
	KeyExtBansCacheResponse, KeyExtAuthBanExempt, KeyAllowIdleOverride,
	KeyLoginInfoURL, KeyEnableGhosts, KeyExtAuthGhosts, KeyRuleText,
	KeyMinimumProtocolVersion, KeyMandatoryLookup, KeyAllowGuestWeb,
	KeyExtAuthWeb, KeyAllowGuestWebSession, KeyExtAuthWebSession,
	KeySessionUserLimit, KeyPasswordDependentWebSession, KeyExtAuthPersist,
	KeyEmptySessionLingerTime, KeyRequireMatchingHost, KeyAllowGuestWebHosts,
	KeyExtAuthWebHost, KeyInvites, KeyPreferWebSockets, KeyForbiddenNameRegex,
	KeyFilterNameRegex, KeyUnlistedHostPolicy, KeyMinimumAutoResetThreshold,
	KeySessionLessClientLingerTime,
}

var keysByName = func() map[string]Key {
	m := make(map[string]Key, len(Keys))
	for _, k := range Keys {
		m[k.Name] = k
	}
	return m
}()

// LookupKey finds a setting by its exact (case-sensitive) name.
func LookupKey(name string) (Key, bool) {
	k, ok := keysByName[name]
	return k, ok
}

// SettingError reports a rejected setting write.
type SettingError struct {
	Key    string
	Value  string
	Reason string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("store: setting %s = %q: %s", e.Key, e.Value, e.Reason)
}

var (
	timeRe = regexp.MustCompile(`\A(\d+(?:\.\d+)?)\s*([dhms]?)\z`)
	sizeRe = regexp.MustCompile(`\A(\d+(?:\.\d+)?)\s*(gb|mb|kb|b)?\z`)
)

// ParseTime parses a TIME value ("60", "15s", "1.5d", "2 h") into seconds.
// Upstream computes in 32-bit float and stores the result in a 32-bit int;
// results that do not fit are rejected here (upstream's behaviour there is
// undefined). Compound values such as "1d 2h" are not TIME values.
func ParseTime(s string) (int64, error) {
	m := timeRe.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return 0, fmt.Errorf("store: %q is not a time (e.g. 90, 15m, 1.5d)", s)
	}
	f, err := strconv.ParseFloat(m[1], 32)
	if err != nil {
		return 0, fmt.Errorf("store: %q is not a time: %w", s, err)
	}
	v := float32(f)
	switch m[2] {
	case "d":
		v *= 24 * 60 * 60
	case "h":
		v *= 60 * 60
	case "m":
		v *= 60
	}
	if v >= math.MaxInt32 {
		return 0, fmt.Errorf("store: time %q is too large", s)
	}
	return int64(v), nil
}

// ParseSize parses a SIZE value ("99mb", "15 MB", "1.5kb", "512") into
// bytes, with drawpile-srv's rules (binary multiples; only b/kb/mb/gb
// suffixes; at most 2 GiB − 1, as upstream stores sizes in an int).
func ParseSize(s string) (int64, error) {
	m := sizeRe.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return 0, fmt.Errorf("store: %q is not a size (e.g. 512, 15mb, 1.5gb)", s)
	}
	f, err := strconv.ParseFloat(m[1], 32)
	if err != nil {
		return 0, fmt.Errorf("store: %q is not a size: %w", s, err)
	}
	v := float32(f)
	switch m[2] {
	case "gb":
		v *= 1024 * 1024 * 1024
	case "mb":
		v *= 1024 * 1024
	case "kb":
		v *= 1024
	}
	if v >= math.MaxInt32 {
		return 0, fmt.Errorf("store: size %q is too large", s)
	}
	return int64(v), nil
}

// ParseInt parses an INT value: a decimal 32-bit integer, optionally signed
// and surrounded by spaces (Qt's QString::toInt).
func ParseInt(s string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("store: %q is not an integer", s)
	}
	return v, nil
}

// ParseBool parses a BOOL value: true iff "true" or "1" (any case).
func ParseBool(s string) bool {
	l := strings.ToLower(s)
	return l == "true" || l == "1"
}

// Validate checks value against the key's type, as the admin API does
// before storing (TIME, SIZE and INT must parse; STRING and BOOL accept
// anything).
func (k Key) Validate(value string) error {
	var err error
	switch k.Type {
	case TypeTime:
		_, err = ParseTime(value)
	case TypeSize:
		_, err = ParseSize(value)
	case TypeInt:
		_, err = ParseInt(value)
	}
	if err != nil {
		return &SettingError{Key: k.Name, Value: value, Reason: "not a valid " + k.Type.String() + " value"}
	}
	return nil
}

// Settings is a typed snapshot of every runtime setting (server.md §1.2).
// Durations are whole seconds; sizes are bytes. A stored value that fails
// to parse reads as the key's default (upstream asserts instead). Limits
// that upstream applies where a value is used (sessionUserLimit clamped to
// 2–254, extBansCheckInterval to ≥ 60 s) are not applied here: see the
// field comments.
type Settings struct {
	ClientTimeout      time.Duration // clientTimeout: idle-receive timeout per connection (0 = none)
	SessionSizeLimit   int64         // sessionSizeLimit: history cap per session in bytes (0 = unlimited)
	SessionCountLimit  int           // sessionCountLimit: max live sessions; > 1 advertises MULTI
	Persistence        bool          // persistence: anyone may toggle session persistence; advertises PERSIST
	AllowGuestHosts    bool          // allowGuestHosts: implicit HOST flag for everyone
	IdleTimeLimit      time.Duration // idleTimeLimit: end sessions without new history for this long (0 = never)
	ServerTitle        string        // serverTitle
	WelcomeMessage     string        // welcomeMessage: chat message to each joining user
	AnnounceWhitelist  bool          // announceWhitelist: restrict list servers to the whitelist
	AllowGuests        bool          // allowGuests: false advertises NOGUEST
	Archive            bool          // archive: rename terminated session files to *.archived
	ExtAuth            bool          // extauth: enable ext-auth (needs --extauth)
	ExtAuthKey         string        // extauthkey: base64 Ed25519 public key
	ExtAuthGroup       string        // extauthgroup
	ExtAuthFallback    bool          // extauthfallback: guest login if the auth server is unreachable
	ExtAuthMod         bool          // extauthmod: honour MOD
	ExtAuthHost        bool          // extauthhost: honour HOST
	AbuseReport        bool          // abusereport: forward reports (needs --report-url)
	ReportToken        string        // reporttoken: Authorization: Token <x>
	LogPurgeDays       int           // logpurgedays: purge DB log entries older than N days (0 = keep)
	AutoResetThreshold int64         // autoResetThreshold: default autoreset threshold in bytes (0 = none)
	CustomAvatars      bool          // customAvatars: accept login avatars; advertises AVATAR
	ExtAuthAvatars     bool          // extAuthAvatars: use the token's avatar
	ForceNsfm          bool          // forceNsfm: NSFM on every session (applied live)
	ExtBansURL         string        // extBansUrl: external ban list URL
	// ExtBansCheckInterval is extBansCheckInterval; the refresher clamps it
	// to at least 60 s (ExtBansMinInterval).
	ExtBansCheckInterval        time.Duration
	ExtBansCacheURL             string        // extBansCacheUrl (internal)
	ExtBansCacheKey             string        // extBansCacheKey (internal: last ETag)
	ExtBansCacheResponse        string        // extBansCacheResponse (internal: last body)
	ExtAuthBanExempt            bool          // extauthbanexempt: honour BANEXEMPT
	AllowIdleOverride           bool          // allowIdleOverride
	LoginInfoURL                string        // loginInfoUrl
	EnableGhosts                bool          // enableGhosts
	ExtAuthGhosts               bool          // extauthghosts: honour GHOST (also needs EnableGhosts)
	RuleText                    string        // ruleText (trimmed when sent)
	MinimumProtocolVersion      string        // minimumProtocolVersion
	MandatoryLookup             bool          // mandatoryLookup
	AllowGuestWeb               bool          // allowGuestWeb: implicit WEB flag
	ExtAuthWeb                  bool          // extauthweb: honour WEB
	AllowGuestWebSession        bool          // allowGuestWebSession: implicit WEBSESSION flag
	ExtAuthWebSession           bool          // extauthwebsession: honour WEBSESSION
	SessionUserLimit            int           // sessionUserLimit: users per session; callers clamp to 2–254
	PasswordDependentWebSession bool          // passwordDependentWebSession
	ExtAuthPersist              bool          // extauthpersist: honour PERSIST
	EmptySessionLingerTime      time.Duration // emptySessionLingerTime
	RequireMatchingHost         bool          // requireMatchingHost
	AllowGuestWebHosts          bool          // allowGuestWebHosts: implicit WEBHOST flag
	ExtAuthWebHost              bool          // extauthwebhost: honour WEBHOST
	Invites                     bool          // invites: new sessions get the invites flag
	PreferWebSockets            bool          // preferWebSockets (effective only with a WS listener)
	ForbiddenNameRegex          string        // forbiddenNameRegex (case-insensitive, dot-all)
	FilterNameRegex             string        // filterNameRegex
	UnlistedHostPolicy          string        // unlistedHostPolicy: "WEB", "ALL" or anything else (none)
	MinimumAutoResetThreshold   int64         // minimumAutoResetThreshold in bytes
	SessionLessClientLingerTime time.Duration // sessionLessClientLingerTime (≤ 0 = never)
}

// ExtBansMinInterval is the shortest external ban list refresh interval.
const ExtBansMinInterval = 60 * time.Second

// DefaultSettings returns the settings with every key at its default.
func DefaultSettings() Settings {
	return settingsFrom(func(string) (string, bool) { return "", false })
}

// settingsFrom builds a snapshot from a raw lookup (name → stored value).
func settingsFrom(lookup func(name string) (string, bool)) Settings {
	raw := func(k Key) string {
		if v, ok := lookup(k.Name); ok && k.Validate(v) == nil {
			return v
		}
		return k.Default
	}
	str := raw
	b := func(k Key) bool { return ParseBool(raw(k)) }
	dur := func(k Key) time.Duration { v, _ := ParseTime(raw(k)); return time.Duration(v) * time.Second }
	size := func(k Key) int64 { v, _ := ParseSize(raw(k)); return v }
	num := func(k Key) int { v, _ := ParseInt(raw(k)); return int(v) }
	return Settings{
		ClientTimeout:               dur(KeyClientTimeout),
		SessionSizeLimit:            size(KeySessionSizeLimit),
		SessionCountLimit:           num(KeySessionCountLimit),
		Persistence:                 b(KeyPersistence),
		AllowGuestHosts:             b(KeyAllowGuestHosts),
		IdleTimeLimit:               dur(KeyIdleTimeLimit),
		ServerTitle:                 str(KeyServerTitle),
		WelcomeMessage:              str(KeyWelcomeMessage),
		AnnounceWhitelist:           b(KeyAnnounceWhitelist),
		AllowGuests:                 b(KeyAllowGuests),
		Archive:                     b(KeyArchive),
		ExtAuth:                     b(KeyExtAuth),
		ExtAuthKey:                  str(KeyExtAuthKey),
		ExtAuthGroup:                str(KeyExtAuthGroup),
		ExtAuthFallback:             b(KeyExtAuthFallback),
		ExtAuthMod:                  b(KeyExtAuthMod),
		ExtAuthHost:                 b(KeyExtAuthHost),
		AbuseReport:                 b(KeyAbuseReport),
		ReportToken:                 str(KeyReportToken),
		LogPurgeDays:                num(KeyLogPurgeDays),
		AutoResetThreshold:          size(KeyAutoResetThreshold),
		CustomAvatars:               b(KeyCustomAvatars),
		ExtAuthAvatars:              b(KeyExtAuthAvatars),
		ForceNsfm:                   b(KeyForceNsfm),
		ExtBansURL:                  str(KeyExtBansURL),
		ExtBansCheckInterval:        dur(KeyExtBansCheckInterval),
		ExtBansCacheURL:             str(KeyExtBansCacheURL),
		ExtBansCacheKey:             str(KeyExtBansCacheKey),
		ExtBansCacheResponse:        str(KeyExtBansCacheResponse),
		ExtAuthBanExempt:            b(KeyExtAuthBanExempt),
		AllowIdleOverride:           b(KeyAllowIdleOverride),
		LoginInfoURL:                str(KeyLoginInfoURL),
		EnableGhosts:                b(KeyEnableGhosts),
		ExtAuthGhosts:               b(KeyExtAuthGhosts),
		RuleText:                    str(KeyRuleText),
		MinimumProtocolVersion:      str(KeyMinimumProtocolVersion),
		MandatoryLookup:             b(KeyMandatoryLookup),
		AllowGuestWeb:               b(KeyAllowGuestWeb),
		ExtAuthWeb:                  b(KeyExtAuthWeb),
		AllowGuestWebSession:        b(KeyAllowGuestWebSession),
		ExtAuthWebSession:           b(KeyExtAuthWebSession),
		SessionUserLimit:            num(KeySessionUserLimit),
		PasswordDependentWebSession: b(KeyPasswordDependentWebSession),
		ExtAuthPersist:              b(KeyExtAuthPersist),
		EmptySessionLingerTime:      dur(KeyEmptySessionLingerTime),
		RequireMatchingHost:         b(KeyRequireMatchingHost),
		AllowGuestWebHosts:          b(KeyAllowGuestWebHosts),
		ExtAuthWebHost:              b(KeyExtAuthWebHost),
		Invites:                     b(KeyInvites),
		PreferWebSockets:            b(KeyPreferWebSockets),
		ForbiddenNameRegex:          str(KeyForbiddenNameRegex),
		FilterNameRegex:             str(KeyFilterNameRegex),
		UnlistedHostPolicy:          str(KeyUnlistedHostPolicy),
		MinimumAutoResetThreshold:   size(KeyMinimumAutoResetThreshold),
		SessionLessClientLingerTime: dur(KeySessionLessClientLingerTime),
	}
}

// ExtAuthPolicy extracts what auth.VerifyExtAuthToken needs. authHost is
// the host of the --extauth URL (auth IDs are "<host>:<uid>").
func (s Settings) ExtAuthPolicy(authHost string) auth.ExtAuthPolicy {
	return auth.ExtAuthPolicy{
		Key:      s.ExtAuthKey,
		Group:    s.ExtAuthGroup,
		AuthHost: authHost,
		Avatars:  s.ExtAuthAvatars,
		Allow: auth.FlagAllow{
			Mod:        s.ExtAuthMod,
			Host:       s.ExtAuthHost,
			Ghost:      s.EnableGhosts && s.ExtAuthGhosts,
			BanExempt:  s.ExtAuthBanExempt,
			Web:        s.ExtAuthWeb,
			WebHost:    s.ExtAuthWebHost,
			WebSession: s.ExtAuthWebSession,
			Persist:    s.ExtAuthPersist,
		},
	}
}

// ImplicitFlags are the flags every user gets from the allowGuest*
// settings (auth.AddImplicitFlags).
func (s Settings) ImplicitFlags() auth.ImplicitFlags {
	return auth.ImplicitFlags{Host: s.AllowGuestHosts, Web: s.AllowGuestWeb, WebSession: s.AllowGuestWebSession, WebHost: s.AllowGuestWebHosts}
}

// APIContext says which optional features are active, for hiding settings
// from GET /api/server as upstream does.
type APIContext struct {
	ExtAuthURL bool // --extauth given
	ReportURL  bool // --report-url given
	WebSocket  bool // WebSocket listener active
	LocalHost  bool // --local-host given
}

func (c APIContext) shows(k Key) bool {
	switch k.API {
	case APIAlways:
		return true
	case APIIfExtAuth:
		return c.ExtAuthURL
	case APIIfReportURL:
		return c.ReportURL
	case APIIfWebSocket:
		return c.WebSocket
	case APIIfLocalHost:
		return c.LocalHost
	}
	return false
}

// apiValue converts a stored value to the JSON value the admin API returns:
// TIME → seconds, SIZE → bytes, INT → number, BOOL → bool, STRING → string.
func apiValue(k Key, raw string) any {
	if k.Validate(raw) != nil {
		raw = k.Default
	}
	switch k.Type {
	case TypeTime:
		v, _ := ParseTime(raw)
		return v
	case TypeSize:
		v, _ := ParseSize(raw)
		return v
	case TypeInt:
		v, _ := ParseInt(raw)
		return v
	case TypeBool:
		return ParseBool(raw)
	}
	return raw
}

// JSONValueToSetting stringifies a JSON value sent to PUT /api/server the
// way upstream does: booleans → "true"/"false", numbers → decimal text,
// strings as is, null → "".
func JSONValueToSetting(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		return x.String()
	case string:
		return x
	}
	b, _ := json.Marshal(v)
	return string(b)
}
