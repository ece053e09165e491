package accounts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zalando/go-keyring"
)

// Backend is the OS keyring: the Secret Service on Linux, the Keychain on
// macOS, the Credential Manager on Windows (github.com/zalando/go-keyring).
type Backend interface {
	Set(service, user, value string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// OSKeyring is the real keyring.
type OSKeyring struct{}

func (OSKeyring) Set(service, user, value string) error    { return keyring.Set(service, user, value) }
func (OSKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (OSKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// ErrNotFound means the keyring has no such item.
var ErrNotFound = errors.New("accounts: not found in the keyring")

// UnavailableError means the keyring itself cannot be used (no Secret
// Service, locked collection, no session bus). qrlogin never falls back to
// storing secrets in a file.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string {
	return "the system keyring is not available (" + e.Err.Error() + "); " +
		"install and unlock a Secret Service such as gnome-keyring or KeePassXC"
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// classify turns a go-keyring error into ErrNotFound or *UnavailableError.
// Every error other than "not found" means the keyring cannot be used
// (docs/build-notes.md "Keyring errors" lists what each situation returns).
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	default:
		return &UnavailableError{Err: err}
	}
}

// maxItem keeps every stored value under Windows' 2560-byte credential
// limit (and macOS's ~3000): larger values are split into chunk items.
const maxItem = 2000

// maxChunks bounds a chunk header (64 × 2000 bytes is far more than any
// secret qrlogin stores), so a damaged header cannot send a read far.
const maxChunks = 64

// chunkHeader marks a split value (docs/keyring-schema.md, schema 2):
// "qrlogin-chunks2:<set>:<count>:<length>:<sha256 prefix>" over the items
// "<name>#<set><i>". A new value goes into the chunk set ("a" or "b") that
// the stored header does not use, and the header is switched last, so a
// write that fails half way leaves the old value readable; the length and
// checksum turn a damaged or incomplete value into a *CorruptError.
const chunkHeader = "qrlogin-chunks2:"

// legacyChunkHeader is schema 1's, "qrlogin-chunks:<count>" over the items
// "<name>#<i>", without a checksum; it is still read.
const legacyChunkHeader = "qrlogin-chunks:"

// chunkMarker starts both headers. A value that starts with it is always
// stored split, so that it cannot be mistaken for a header.
const chunkMarker = "qrlogin-chunks"

// digestLen is how many hex digits of the value's SHA-256 the header keeps:
// enough to catch damage, which is all it is for.
const digestLen = 16

// CorruptError means a stored value does not read back as it was written:
// a chunk is missing, changed or cut short, or a header is unreadable. It
// is never ErrNotFound, which would read as a secret that was never stored.
type CorruptError struct {
	Item   string // the keyring item's name (not secret)
	Reason string
}

func (e *CorruptError) Error() string {
	return "accounts: the keyring item " + e.Item + " is damaged (" + e.Reason + ")"
}

// chunks describes how a split value is stored.
type chunks struct {
	legacy bool   // schema 1: "<name>#<i>", no length or checksum
	set    string // "a" or "b"
	count  int
	length int
	digest string
}

// chunkFamilies are every way chunks of an item can be named; deleting an
// item sweeps them all.
var chunkFamilies = []chunks{{legacy: true}, {set: "a"}, {set: "b"}}

func (c chunks) name(item string, i int) string {
	if c.legacy {
		return item + "#" + strconv.Itoa(i)
	}
	return item + "#" + c.set + strconv.Itoa(i)
}

func (c chunks) header() string {
	return chunkHeader + c.set + ":" + strconv.Itoa(c.count) + ":" + strconv.Itoa(c.length) + ":" + c.digest
}

func digest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])[:digestLen]
}

// parseHeader says whether a stored value is a chunk header, and reads it.
func parseHeader(v string) (chunks, bool, error) {
	switch {
	case strings.HasPrefix(v, chunkHeader):
		f := strings.Split(strings.TrimPrefix(v, chunkHeader), ":")
		if len(f) != 4 || (f[0] != "a" && f[0] != "b") || len(f[3]) != digestLen {
			return chunks{}, true, errors.New("unreadable chunk header")
		}
		count, err1 := strconv.Atoi(f[1])
		length, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || count < 1 || count > maxChunks || length < 0 || length > count*maxItem {
			return chunks{}, true, errors.New("unreadable chunk header")
		}
		return chunks{set: f[0], count: count, length: length, digest: f[3]}, true, nil
	case strings.HasPrefix(v, legacyChunkHeader):
		count, err := strconv.Atoi(strings.TrimPrefix(v, legacyChunkHeader))
		if err != nil || count < 1 || count > maxChunks {
			return chunks{}, true, errors.New("unreadable chunk header")
		}
		return chunks{legacy: true, count: count}, true, nil
	case strings.HasPrefix(v, chunkMarker):
		// No value starting with the marker is ever stored whole (set).
		return chunks{}, true, errors.New("unreadable chunk header")
	}
	return chunks{}, false, nil
}

// itemStore reads and writes single values, splitting large ones.
type itemStore struct {
	b       Backend
	service string
}

// set stores value under name. Whatever fails on the way, the item reads
// afterwards as the old value or as the new one, never as a mix: chunks go
// into the unused set first and the item itself is written last.
func (s itemStore) set(name, value string) error {
	old, oldSplit, unreadable, err := s.header(name)
	if err != nil {
		return err
	}
	if unreadable {
		// Which chunks the damaged header named is unknown, and its value
		// is lost already: every chunk family goes before anything is
		// written.
		for _, f := range chunkFamilies {
			_ = s.dropChunks(name, f, 0)
		}
	}
	if len(value) <= maxItem && !strings.HasPrefix(value, chunkMarker) {
		if err := s.setVerified(name, value); err != nil {
			return err
		}
		if oldSplit {
			_ = s.dropChunks(name, old, 0) // no longer referenced
		}
		return nil
	}
	c := chunks{set: "a", count: (len(value) + maxItem - 1) / maxItem, length: len(value), digest: digest(value)}
	if c.count > maxChunks {
		return fmt.Errorf("accounts: a value of %d bytes is too large for the keyring", len(value))
	}
	if oldSplit && !old.legacy && old.set == "a" {
		c.set = "b"
	}
	for i := 0; i < c.count; i++ {
		if err := s.setVerified(c.name(name, i), value[i*maxItem:min((i+1)*maxItem, len(value))]); err != nil {
			_ = s.dropChunks(name, c, 0) // the item still names the other set
			return err
		}
	}
	if err := s.setVerified(name, c.header()); err != nil {
		// Drop the new chunks only when the item surely does not name them.
		if now, split, _, herr := s.header(name); herr == nil && (!split || now.legacy || now.set != c.set) {
			_ = s.dropChunks(name, c, 0)
		}
		return err
	}
	// What the old value used, and chunks past the end left in this set
	// by an earlier, longer value.
	if oldSplit && (old.legacy || old.set != c.set) {
		_ = s.dropChunks(name, old, 0)
	}
	_ = s.dropChunks(name, c, c.count)
	return nil
}

// header reads how the stored value of name is kept: split (and how) or
// not. A missing item is not split. A header that does not parse is not
// split either, and unreadable: its chunks cannot be known, so a writer
// sweeps every chunk family.
func (s itemStore) header(name string) (c chunks, split, unreadable bool, err error) {
	v, err := s.b.Get(s.service, name)
	if err := classify(err); err != nil {
		if errors.Is(err, ErrNotFound) {
			return chunks{}, false, false, nil
		}
		return chunks{}, false, false, err
	}
	c, split, err = parseHeader(v)
	if err != nil {
		return chunks{}, false, true, nil
	}
	return c, split, false, nil
}

// dropChunks deletes the chunks of family c from index from on. Chunks are
// written from 0 up and deleted from the end down, so whatever a failure
// leaves is a run from 0 and a later sweep finds it.
func (s itemStore) dropChunks(name string, c chunks, from int) error {
	end := from
	for ; end < maxChunks; end++ {
		_, err := s.b.Get(s.service, c.name(name, end))
		if err := classify(err); err != nil {
			if errors.Is(err, ErrNotFound) {
				break
			}
			return err
		}
	}
	for i := end - 1; i >= from; i-- {
		if err := s.deleteVerified(c.name(name, i)); err != nil {
			return err
		}
	}
	return nil
}

// setVerified writes one item and reads it back: a keyring that accepts a
// write but loses it must not leave us believing the account is stored. An
// item that reads back as written is stored, even when the write reported
// an error (a reply lost after the keyring acted): what counts is what the
// keyring holds.
func (s itemStore) setVerified(name, value string) error {
	setErr := classify(s.b.Set(s.service, name, value))
	got, err := s.b.Get(s.service, name)
	if err == nil && got == value {
		return nil
	}
	if setErr != nil {
		return setErr
	}
	if err := classify(err); err != nil {
		return err
	}
	return &UnavailableError{Err: fmt.Errorf("item %q did not read back as written", name)}
}

// deleteVerified deletes one item; a missing item is not an error, and
// neither is a failed delete after which the item is gone.
func (s itemStore) deleteVerified(name string) error {
	err := classify(s.b.Delete(s.service, name))
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	if _, gerr := s.b.Get(s.service, name); errors.Is(classify(gerr), ErrNotFound) {
		return nil
	}
	return err
}

// get reads a value, joining and checking its chunks.
func (s itemStore) get(name string) (string, error) {
	v, err := s.b.Get(s.service, name)
	if err := classify(err); err != nil {
		return "", err
	}
	c, split, err := parseHeader(v)
	if err != nil {
		return "", &CorruptError{Item: name, Reason: err.Error()}
	}
	if !split {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < c.count; i++ {
		part, err := s.b.Get(s.service, c.name(name, i))
		if err := classify(err); err != nil {
			if errors.Is(err, ErrNotFound) {
				return "", &CorruptError{Item: name, Reason: fmt.Sprintf("part %d of %d is missing", i+1, c.count)}
			}
			return "", err
		}
		b.WriteString(part)
	}
	v = b.String()
	if !c.legacy {
		if len(v) != c.length {
			return "", &CorruptError{Item: name, Reason: fmt.Sprintf("%d bytes where %d were written", len(v), c.length)}
		}
		if digest(v) != c.digest {
			return "", &CorruptError{Item: name, Reason: "its checksum does not match"}
		}
	}
	return v, nil
}

// del removes an item and every chunk stored for it under any name,
// including chunks a failed write left behind; a missing item is not an
// error. The item goes first, so it never reads as a header over missing
// chunks.
func (s itemStore) del(name string) error {
	first := s.deleteVerified(name)
	for _, c := range chunkFamilies {
		if err := s.dropChunks(name, c, 0); err != nil && first == nil {
			first = err
		}
	}
	return first
}
