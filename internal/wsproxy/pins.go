package wsproxy

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// maxPinFile bounds the pin file read at start (it holds one short line
// per upstream).
const maxPinFile = 1 << 20

// PinStore keeps trust-on-first-use certificate pins: upstream host:port →
// hex SHA-256 of the certificate's SubjectPublicKeyInfo. Pinning the key
// rather than the certificate lets an upstream renew its certificate with
// the same key.
//
// File format: a JSON object {"host:port": "<64 hex digits>", …}, rewritten
// atomically (temporary file + rename, mode 0600) on every change. An empty
// path keeps the pins in memory only (lost at restart).
//
// Safe for concurrent use; mu guards pins and file writes.
type PinStore struct {
	path string // immutable after construction

	mu   sync.Mutex
	pins map[string]string
}

// OpenPins loads the pin file at path (a missing file is an empty store).
func OpenPins(path string) (*PinStore, error) {
	s := &PinStore{path: path, pins: map[string]string{}}
	if path == "" {
		return s, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wsproxy: open pin file: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxPinFile {
		return nil, fmt.Errorf("wsproxy: pin file %s is larger than %d bytes", path, maxPinFile)
	}
	var m map[string]string
	if err := json.NewDecoder(f).Decode(&m); err != nil {
		return nil, fmt.Errorf("wsproxy: parse pin file %s: %w", path, err)
	}
	for addr, pin := range m {
		t, err := ParseTarget(addr)
		if err != nil {
			return nil, fmt.Errorf("wsproxy: pin file %s: %w", path, err)
		}
		if b, err := hex.DecodeString(pin); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("wsproxy: pin file %s: pin for %s is not 64 hex digits", path, addr)
		}
		s.pins[t.Addr()] = pin
	}
	return s, nil
}

// Get returns the pin of t.
func (s *PinStore) Get(t Target) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pins[t.Addr()]
	return p, ok
}

// Set records (or replaces) the pin of t and saves the file.
func (s *PinStore) Set(t Target, pin string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pins[t.Addr()] = pin
	return s.saveLocked()
}

// Delete forgets the pin of t (what an operator does after a legitimate key
// change) and saves the file.
func (s *PinStore) Delete(t Target) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pins, t.Addr())
	return s.saveLocked()
}

func (s *PinStore) saveLocked() error {
	if s.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(s.pins, "", "  ")
	if err != nil {
		return fmt.Errorf("wsproxy: encode pins: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".pins-*")
	if err != nil {
		return fmt.Errorf("wsproxy: save pins: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("wsproxy: save pins: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("wsproxy: save pins: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("wsproxy: save pins: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("wsproxy: save pins: %w", err)
	}
	return nil
}

// SPKIPin returns the pin of a certificate: hex SHA-256 of its
// SubjectPublicKeyInfo.
func SPKIPin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}
