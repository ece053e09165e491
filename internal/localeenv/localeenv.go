// Package localeenv makes the locale environment one that Fyne's language
// lookup can parse, before Fyne reads it. Import it for its side effect, from
// package main, in every binary that links Fyne.
//
// Why: Fyne's lang package reads the locale while it is initialised (its
// init loads the built-in translations and matches them against the user's
// locales) and again whenever a widget asks for the system locale. It takes
// the first of LC_ALL, LC_MESSAGES and LANG; unless that is exactly "C" or
// "POSIX" it prefers LANGUAGE, and then turns each entry into a BCP 47 tag by
// dropping ".encoding". "C.UTF-8" (the default of many servers and
// containers) becomes "C", which is no language tag, and Fyne logs a
// three-line "Fyne error: Error parsing user locale C" on stderr, in every
// command before main runs. An empty entry of LANGUAGE ("fr:") does the same.
//
// What: C.UTF-8 and its kin mean untranslated, that is English, messages, so
// when the lookup would meet one this package sets LANGUAGE (or rewrites its
// C entries) to "en". It changes nothing else: LANG, LC_ALL and LC_MESSAGES
// keep their values, so child processes keep the same character set and
// formats, and a program reading LANGUAGE gets English, as it would in the C
// locale. Exactly "C" or "POSIX", which the lookup already treats as English,
// and every real language are left alone.
//
// When: this must happen before fyne.io/fyne/v2/lang is initialised, and no
// package of ours can be imported by it. The Go specification ("Package
// initialization") initialises packages one at a time, each time taking the
// first package by import path whose imports are all initialised. This
// package imports only os and strings. Fyne's lang package imports
// golang.org/x/text/language, which itself imports os and strings
// (indirectly), so whenever golang.org/x/text/language is ready to be
// initialised this package is ready too, and "github.com/qrlogin/..." sorts
// before "golang.org/...": this package is always initialised first. Keep
// its imports to os and strings, or that argument fails;
// TestFyneReadsTheFixedLocale checks the order in a binary that links both.
package localeenv

import (
	"os"
	"strings"
)

func init() {
	if value, change := languageFor(os.Getenv); change {
		_ = os.Setenv("LANGUAGE", value)
	}
}

// languageFor returns the value LANGUAGE must have for Fyne's lookup to meet
// only language tags, and whether that differs from its present value;
// getenv reads the environment.
func languageFor(getenv func(string) string) (string, bool) {
	locale := ""
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if locale = getenv(name); locale != "" {
			break
		}
	}
	if locale == "C" || locale == "POSIX" {
		return "", false // the lookup stops here and uses English
	}
	languages := getenv("LANGUAGE")
	if languages == "C" || languages == "POSIX" {
		return "", false // likewise
	}
	var entries []string
	for _, entry := range strings.Split(languages, ":") {
		switch {
		case entry == "":
			// gettext skips empty entries; the lookup would fail on them
		case untranslated(entry):
			entries = append(entries, "en")
		default:
			entries = append(entries, entry)
		}
	}
	value := strings.Join(entries, ":")
	if value == "" && untranslated(locale) {
		// LANGUAGE is unset (or only separators): the lookup would take
		// the locale itself
		value = "en"
	}
	return value, value != languages
}

// untranslated reports whether a locale name such as "C.UTF-8" or
// "POSIX@modifier" names the C locale, whose language part ("C", "POSIX")
// is no language tag.
func untranslated(name string) bool {
	name, _, _ = strings.Cut(name, ".")
	name, _, _ = strings.Cut(name, "@")
	name, _, _ = strings.Cut(strings.ReplaceAll(name, "-", "_"), "_")
	return name == "C" || name == "POSIX"
}
