package store

import (
	"net/netip"
	"sync"
	"time"
)

// memoryBackend holds settings in memory (ModeMemory): the embedded
// default that works out of the box. No accounts, no IP/SID/user bans (the
// external list still applies), no whitelist (every list server allowed),
// in-memory log.
type memoryBackend struct {
	log *memoryLog

	mu       sync.Mutex
	settings map[string]string // guarded by mu
	ver      uint64            // guarded by mu; bumped on every write
	disabled map[int64]bool    // guarded by mu
}

func newMemoryBackend() *memoryBackend {
	return &memoryBackend{log: newMemoryLog(MemoryLogLimit), settings: map[string]string{}, disabled: map[int64]bool{}}
}

func (m *memoryBackend) version() (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ver, nil
}

func (m *memoryBackend) allSettings() (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]string, len(m.settings))
	for k, v := range m.settings {
		out[k] = v
	}
	return out, nil
}

func (m *memoryBackend) getSetting(name string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.settings[name]
	return v, ok, nil
}

func (m *memoryBackend) setSetting(name, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settings[name] = value
	m.ver++
	return nil
}

func (m *memoryBackend) account(string) (accountRow, bool, error)         { return accountRow{}, false, nil }
func (m *memoryBackend) hasAccounts() (bool, error)                       { return false, nil }
func (m *memoryBackend) checkIP(netip.Addr, time.Time) (BanResult, error) { return BanResult{}, nil }
func (m *memoryBackend) checkSID(string, time.Time) (BanResult, error)    { return BanResult{}, nil }
func (m *memoryBackend) checkUser(int64, time.Time) (BanResult, error)    { return BanResult{}, nil }
func (m *memoryBackend) announceAllowed(string) (bool, error)             { return true, nil }
func (m *memoryBackend) whitelist() ([]string, error)                     { return nil, ErrUnsupported }
func (m *memoryBackend) setWhitelist([]string) error                      { return ErrUnsupported }
func (m *memoryBackend) writeLog(e LogEntry) error                        { m.log.add(e); return nil }
func (m *memoryBackend) queryLog(f LogFilter) ([]LogEntry, error)         { return m.log.query(f), nil }
func (m *memoryBackend) purgeLog(cutoff time.Time) (int, error)           { return m.log.purge(cutoff), nil }
func (m *memoryBackend) close() error                                     { return nil }

func (m *memoryBackend) disabledExtBans() (map[int64]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[int64]bool, len(m.disabled))
	for k, v := range m.disabled {
		out[k] = v
	}
	return out, nil
}

func (m *memoryBackend) setExtBanEnabled(id int64, enabled bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if enabled {
		delete(m.disabled, id)
	} else {
		m.disabled[id] = true
	}
	return nil
}
