package accounts

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// faultMode is how the faulty write fails.
type faultMode int

const (
	// refused: the keyring refuses the write and nothing changes.
	refused faultMode = iota
	// lostReply: the keyring makes the change but the caller gets an
	// error (a D-Bus reply lost after the Secret Service acted).
	lostReply
)

func (m faultMode) String() string { return [...]string{"refused", "lost reply"}[m] }

// faultBackend is a real in-memory keyring whose Nth write (Set or Delete,
// counted together) fails; reads always work. writes counts every write.
type faultBackend struct {
	Backend
	failAt int
	mode   faultMode
	writes int
}

var errInjected = errors.New("injected keyring failure")

func (f *faultBackend) write(op func() error) error {
	f.writes++
	if f.writes != f.failAt {
		return op()
	}
	if f.mode == lostReply {
		_ = op()
	}
	return errInjected
}

func (f *faultBackend) Set(service, user, value string) error {
	return f.write(func() error { return f.Backend.Set(service, user, value) })
}

func (f *faultBackend) Delete(service, user string) error {
	return f.write(func() error { return f.Backend.Delete(service, user) })
}

const memService = "io.github.qrlogin.QRLogin.test-memory"

func memoryStore(t *testing.T, b Backend) *Store {
	t.Helper()
	return newWithService(b, memService, filepath.Join(t.TempDir(), "keyring.lock"))
}

// describe renders every field of an account, secrets included, so two
// accounts compare exactly (Schema aside: it is what the writer set).
func describe(a *Account) string {
	if a == nil {
		return "<none>"
	}
	m := a.Meta
	m.Schema = 0
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%s|%s|%s|%v|%v|%v|%s|%s",
		m.UserID, m.DeviceID, m.Homeserver, m.Issuer, m.ClientID, m.TokenEndpoint, m.RevocationEndpoint,
		m.AccessExpiresAt.UTC().Format(time.RFC3339Nano), m.Verified, m.CrossSigning, m.Backup, m.BackupVersion,
		m.CreatedAt.UTC().Format(time.RFC3339Nano))
	for _, f := range a.secretFields() {
		fmt.Fprintf(&b, "|%s=%d:%s", f.name, len(*f.val), f.val.Reveal())
	}
	return b.String()
}

// oldAndNew are two sign-ins of the same user: different devices, tokens,
// pickle sizes (three chunks, then two) and secrets (the new one has no
// backup key).
func oldAndNew() (*Account, *Account) {
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	old := sampleAccount("@bob:example.org")
	old.DeviceID, old.AccessToken, old.RefreshToken = "OLDDEVICE", "mat_old", "mar_old"
	old.OlmPickle = Secret(strings.Repeat("o", 5000))
	old.RevocationEndpoint = "https://auth.example.org/revoke"
	old.CreatedAt = created
	neu := sampleAccount("@bob:example.org")
	neu.DeviceID, neu.AccessToken, neu.RefreshToken = "NEWDEVICE", "mat_new", "mar_new"
	neu.OlmPickle = Secret(strings.Repeat("n", 2500))
	neu.OlmPickleKey, neu.MasterKey, neu.SelfSigningKey, neu.UserSigningKey = "pk2", "mk2", "ssk2", "usk2"
	neu.BackupKey, neu.Backup, neu.BackupVersion, neu.Verified = "", false, "", false
	neu.CreatedAt = created.Add(time.Hour)
	return old, neu
}

// writeSchema1 stores acct as qrlogin wrote it before generations and
// checked chunks (docs/keyring-schema.md, schema 1): items named
// account:<user>:<field>, a large value as <name>#0.. under
// "qrlogin-chunks:<N>".
func writeSchema1(t *testing.T, b Backend, acct *Account) {
	t.Helper()
	set := func(name, value string) {
		if err := b.Set(memService, name, value); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range acct.secretFields() {
		v := f.val.Reveal()
		if v == "" {
			continue
		}
		name := "account:" + acct.UserID + ":" + f.name
		if len(v) <= 2000 {
			set(name, v)
			continue
		}
		n := 0
		for ; n*2000 < len(v); n++ {
			set(fmt.Sprintf("%s#%d", name, n), v[n*2000:min((n+1)*2000, len(v))])
		}
		set(name, fmt.Sprintf("qrlogin-chunks:%d", n))
	}
	m := acct.Meta
	m.Schema = 1
	meta := fmt.Sprintf(`{"schema":1,"user_id":%q,"device_id":%q,"homeserver":%q,"issuer":%q,"client_id":%q,"token_endpoint":%q,"revocation_endpoint":%q,"verified":%v,"cross_signing":%v,"backup":%v,"backup_version":%q,"created_at":%q}`,
		m.UserID, m.DeviceID, m.Homeserver, m.Issuer, m.ClientID, m.TokenEndpoint, m.RevocationEndpoint, m.Verified, m.CrossSigning, m.Backup, m.BackupVersion, m.CreatedAt.Format(time.RFC3339))
	set("account:"+acct.UserID+":meta", meta)
	set("index", fmt.Sprintf(`{"schema":1,"accounts":[%q]}`, acct.UserID))
}

func TestSchema1LayoutStillReads(t *testing.T) {
	old, neu := oldAndNew()
	mem := NewMemoryKeyring()
	writeSchema1(t, mem, old)
	s := memoryStore(t, mem)
	got, err := s.Load(old.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if describe(got) != describe(old) {
		t.Fatalf("schema 1 account read as\n%s\nwant\n%s", describe(got), describe(old))
	}
	if _, err := s.Save(neu); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(old.UserID); err != nil || describe(got) != describe(neu) {
		t.Fatalf("after saving over it: %v\n%s", err, describe(got))
	}
	for _, name := range mem.Names(memService) {
		for _, f := range old.secretFields() {
			if legacy := "account:" + old.UserID + ":" + f.name; name == legacy || strings.HasPrefix(name, legacy+"#") {
				t.Errorf("schema 1 item %q left behind after the account was replaced", name)
			}
		}
	}
}

// TestSaveOverAnAccountIsAllOrNothing fails each write of a Save that
// replaces a stored account in turn, both ways a keyring write can fail,
// starting from the current layout and from schema 1: afterwards the store
// holds exactly the old account (and Save said it failed) or exactly the
// new one (and Save succeeded), never a mix.
func TestSaveOverAnAccountIsAllOrNothing(t *testing.T) {
	old, neu := oldAndNew()
	for _, start := range []string{"current", "schema 1"} {
		prepare := func(t *testing.T) *MemoryKeyring {
			mem := NewMemoryKeyring()
			if start == "schema 1" {
				writeSchema1(t, mem, old)
			} else if _, err := memoryStore(t, mem).Save(old); err != nil {
				t.Fatal(err)
			}
			return mem
		}
		// How many writes one Save makes, and what it leaves.
		counter := &faultBackend{Backend: prepare(t)}
		replaced, err := memoryStore(t, counter).Save(neu)
		if err != nil {
			t.Fatal(err)
		}
		if replaced == nil || replaced.DeviceID != old.DeviceID || replaced.RevocationEndpoint != old.RevocationEndpoint ||
			replaced.AccessToken != old.AccessToken || replaced.RefreshToken != old.RefreshToken {
			t.Errorf("from %s: Save did not hand back the replaced sign-in's tokens: %+v", start, replaced)
		}
		cleanItems := len(counter.Backend.(*MemoryKeyring).Names(memService))
		fresh := NewMemoryKeyring()
		if _, err := memoryStore(t, fresh).Save(neu); err != nil {
			t.Fatal(err)
		}
		if want := len(fresh.Names(memService)); cleanItems != want {
			t.Errorf("from %s: %d items after replacing the account, want %d (the old sign-in's items were left behind): %q",
				start, cleanItems, want, counter.Backend.(*MemoryKeyring).Names(memService))
		}
		if counter.writes < 10 {
			t.Fatalf("from %s: only %d writes counted", start, counter.writes)
		}
		for _, mode := range []faultMode{refused, lostReply} {
			for n := 1; n <= counter.writes; n++ {
				mem := prepare(t)
				_, saveErr := memoryStore(t, &faultBackend{Backend: mem, failAt: n, mode: mode}).Save(neu)
				clean := memoryStore(t, mem)
				got, err := clean.Load(neu.UserID)
				if err != nil {
					t.Errorf("from %s, write %d %s: Load: %v", start, n, mode, err)
					continue
				}
				switch describe(got) {
				case describe(old):
					if saveErr == nil {
						t.Errorf("from %s, write %d %s: Save succeeded but the old account is stored", start, n, mode)
					}
				case describe(neu):
					if saveErr != nil {
						t.Errorf("from %s, write %d %s: Save failed (%v) but the new account is stored", start, n, mode, saveErr)
					}
				default:
					t.Errorf("from %s, write %d %s (Save: %v): a mix of the old and the new account:\n%s", start, n, mode, saveErr, describe(got))
				}
				if list, err := clean.List(); err != nil || len(list) != 1 || list[0].DeviceID != got.DeviceID {
					t.Errorf("from %s, write %d %s: List = %+v, %v", start, n, mode, list, err)
				}
			}
		}
	}
}

// TestSaveOfANewAccountIsAllOrNothing: the same for an account not stored
// before: afterwards it is stored whole or not at all.
func TestSaveOfANewAccountIsAllOrNothing(t *testing.T) {
	_, neu := oldAndNew()
	counter := &faultBackend{Backend: NewMemoryKeyring()}
	if _, err := memoryStore(t, counter).Save(neu); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []faultMode{refused, lostReply} {
		for n := 1; n <= counter.writes; n++ {
			mem := NewMemoryKeyring()
			_, saveErr := memoryStore(t, &faultBackend{Backend: mem, failAt: n, mode: mode}).Save(neu)
			got, err := memoryStore(t, mem).Load(neu.UserID)
			switch {
			case errors.Is(err, ErrNotFound):
				if saveErr == nil {
					t.Errorf("write %d %s: Save succeeded but nothing is stored", n, mode)
				}
			case err != nil:
				t.Errorf("write %d %s: Load: %v", n, mode, err)
			case describe(got) != describe(neu):
				t.Errorf("write %d %s: a partial account is stored:\n%s", n, mode, describe(got))
			case saveErr != nil:
				t.Errorf("write %d %s: Save failed (%v) but the account is stored", n, mode, saveErr)
			}
		}
	}
}

// TestChunkedValueIsChecked: a chunked value that does not read back as
// written (a chunk changed, missing or cut short) is a *CorruptError, never
// garbage and never "not found" (which would read as an absent secret).
func TestChunkedValueIsChecked(t *testing.T) {
	a := sampleAccount("@heidi:example.org")
	a.OlmPickle = Secret(strings.Repeat("0123456789", 500))
	chunks := func(mem *MemoryKeyring) []string {
		var out []string
		for _, n := range mem.Names(memService) {
			if strings.Contains(n, ":olm_pickle#") {
				out = append(out, n)
			}
		}
		return out
	}
	for _, damage := range []struct {
		name string
		do   func(mem *MemoryKeyring, chunk string)
	}{
		{"changed", func(mem *MemoryKeyring, chunk string) {
			v, _ := mem.Get(memService, chunk)
			_ = mem.Set(memService, chunk, "X"+v[1:])
		}},
		{"cut short", func(mem *MemoryKeyring, chunk string) {
			v, _ := mem.Get(memService, chunk)
			_ = mem.Set(memService, chunk, v[:len(v)-1])
		}},
		{"missing", func(mem *MemoryKeyring, chunk string) { _ = mem.Delete(memService, chunk) }},
	} {
		mem := NewMemoryKeyring()
		s := memoryStore(t, mem)
		if _, err := s.Save(a); err != nil {
			t.Fatal(err)
		}
		cs := chunks(mem)
		if len(cs) != 3 {
			t.Fatalf("%d chunks stored: %q", len(cs), cs)
		}
		damage.do(mem, cs[1])
		_, err := s.Load(a.UserID)
		var corrupt *CorruptError
		if !errors.As(err, &corrupt) || errors.Is(err, ErrNotFound) {
			t.Errorf("%s chunk: Load error = %v, want a *CorruptError", damage.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "0123456789") {
			t.Errorf("%s chunk: the error shows the secret: %v", damage.name, err)
		}
	}
}

// TestRefreshAfterASecondSignIn: a refreshed token lands in the generation
// the account points at, and the account keeps pointing there.
func TestRefreshAfterASecondSignIn(t *testing.T) {
	old, neu := oldAndNew()
	s := memoryStore(t, NewMemoryKeyring())
	for _, a := range []*Account{old, neu} {
		if _, err := s.Save(a); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	s.now = func() time.Time { return now.Add(48 * time.Hour) } // the access token has expired
	neu.AccessExpiresAt = now
	if _, err := s.Save(neu); err != nil {
		t.Fatal(err)
	}
	tok, err := s.AccessToken(t.Context(), neu.UserID, func(_ context.Context, m Meta, rt Secret) (Secret, Secret, time.Time, error) {
		if rt != neu.RefreshToken || m.DeviceID != neu.DeviceID {
			return "", "", time.Time{}, fmt.Errorf("refreshing with the wrong sign-in's token")
		}
		return "mat_fresh", "mar_fresh", now.Add(72 * time.Hour), nil
	})
	if err != nil || tok != "mat_fresh" {
		t.Fatalf("AccessToken = %v", err)
	}
	got, err := s.Load(neu.UserID)
	if err != nil || got.AccessToken != "mat_fresh" || got.RefreshToken != "mar_fresh" || got.OlmPickle != neu.OlmPickle || got.DeviceID != neu.DeviceID {
		t.Fatalf("after the refresh: %v\n%s", err, describe(got))
	}
}
