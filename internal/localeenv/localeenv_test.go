package localeenv

import "testing"

func TestLanguageFor(t *testing.T) {
	for _, c := range []struct {
		env    map[string]string
		want   string
		change bool
	}{
		{map[string]string{}, "", false},
		{map[string]string{"LANG": "C"}, "", false},
		{map[string]string{"LANG": "POSIX"}, "", false},
		{map[string]string{"LANG": "C.UTF-8"}, "en", true},
		{map[string]string{"LANG": "C.utf8"}, "en", true},
		{map[string]string{"LANG": "POSIX.UTF-8"}, "en", true},
		{map[string]string{"LC_ALL": "C.UTF-8", "LANG": "de_DE.UTF-8"}, "en", true},
		{map[string]string{"LC_MESSAGES": "C.UTF-8", "LANG": "de_DE.UTF-8"}, "en", true},
		{map[string]string{"LC_ALL": "de_DE.UTF-8", "LANG": "C.UTF-8"}, "", false},
		{map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "fr"}, "fr", false},
		{map[string]string{"LANG": "C", "LANGUAGE": "C.UTF-8"}, "", false},
		{map[string]string{"LANG": "en_US.UTF-8", "LANGUAGE": "C"}, "", false},
		{map[string]string{"LANG": "en_US.UTF-8", "LANGUAGE": "en_US:C.UTF-8"}, "en_US:en", true},
		{map[string]string{"LANG": "en_US.UTF-8", "LANGUAGE": "fr::de:"}, "fr:de", true},
		{map[string]string{"LANG": "C.UTF-8", "LANGUAGE": ":"}, "en", true},
		{map[string]string{"LANG": "fr_FR.UTF-8", "LANGUAGE": ":"}, "", true},
		{map[string]string{"LANG": "fr_FR.UTF-8"}, "", false},
		{map[string]string{"LANG": "pt_BR.UTF-8", "LANGUAGE": "pt_BR:pt"}, "pt_BR:pt", false},
		{map[string]string{"LANG": "Chinese"}, "", false}, // not C: not ours to change
	} {
		got, change := languageFor(func(k string) string { return c.env[k] })
		if got != c.want || change != c.change {
			t.Errorf("%v: LANGUAGE %q (change %v), want %q (change %v)", c.env, got, change, c.want, c.change)
		}
	}
}
