package secret

import (
	"errors"
	"strings"
	"testing"
)

func TestGenerateAlphabetsAndLengths(t *testing.T) {
	for _, alphabet := range Alphabets() {
		chars := AlphabetChars(alphabet)
		for _, n := range []int{MinGeneratedLength, 17, 64, MaxGeneratedLength} {
			v, err := NewValue(Generate{Alphabet: alphabet, Length: n})
			if err != nil {
				t.Fatalf("%s:%d: %v", alphabet, n, err)
			}
			if len(v) != n {
				t.Fatalf("%s:%d made %d characters", alphabet, n, len(v))
			}
			for i := 0; i < len(v); i++ {
				if !strings.ContainsRune(chars, rune(v[i])) {
					t.Fatalf("%s:%d: character %d is outside the alphabet", alphabet, n, i)
				}
			}
		}
		for _, n := range []int{0, MinGeneratedLength - 1, MaxGeneratedLength + 1, -5} {
			if _, err := NewValue(Generate{Alphabet: alphabet, Length: n}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("%s:%d: err = %v, want invalid", alphabet, n, err)
			}
		}
	}
	for _, g := range []Generate{{Alphabet: "base32", Length: 32}, {Format: "ulid"}, {Format: FormatUUID, Length: 36}, {}} {
		if _, err := NewValue(g); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v: err = %v, want invalid", g, err)
		}
	}
}

func TestGenerateUUID(t *testing.T) {
	v, err := NewValue(Generate{Format: FormatUUID})
	if err != nil {
		t.Fatal(err)
	}
	if !IsUUID(v) || len(v) != (Generate{Format: FormatUUID}).Len() || v[14] != '4' {
		t.Fatalf("not a version 4 uuid of 36 characters (%d)", len(v))
	}
}

// TestGeneratedValuesAreDistinct: 1,000 values of each kind, none twice.
func TestGeneratedValuesAreDistinct(t *testing.T) {
	kinds := []Generate{{Format: FormatUUID}}
	for _, a := range Alphabets() {
		kinds = append(kinds, Generate{Alphabet: a, Length: MinGeneratedLength})
	}
	for _, g := range kinds {
		seen := make(map[string]bool, 1000)
		for range 1000 {
			v, err := NewValue(g)
			if err != nil {
				t.Fatal(err)
			}
			if seen[v] {
				t.Fatalf("%s made the same value twice", g)
			}
			seen[v] = true
		}
	}
}

func TestGeneratedPasswordsHaveEveryClass(t *testing.T) {
	for range 1000 {
		v, err := NewValue(Generate{Alphabet: AlphabetPassword, Length: MinGeneratedLength})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.ContainsAny(v, lower) || !strings.ContainsAny(v, upper) || !strings.ContainsAny(v, digits) || !strings.ContainsAny(v, PasswordSymbols) {
			t.Fatal("a password lacks a class of characters")
		}
	}
}

// TestGeneratedCharactersAreUniform: over many draws every character of each alphabet
// appears, each about as often as the others (a modulo bias would make the first
// characters of an alphabet of 62 or 73 a quarter more likely than the rest).
func TestGeneratedCharactersAreUniform(t *testing.T) {
	for _, alphabet := range Alphabets() {
		chars := AlphabetChars(alphabet)
		counts := map[byte]int{}
		const draws = 400
		for range draws {
			v, err := NewValue(Generate{Alphabet: alphabet, Length: 256})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(v); i++ {
				counts[v[i]]++
			}
		}
		mean := float64(draws*256) / float64(len(chars))
		for i := 0; i < len(chars); i++ {
			n := float64(counts[chars[i]])
			// The password alphabet's class rule shifts its counts slightly; 15% leaves
			// room for it and for chance (over 5 standard deviations at 1,400 a
			// character), and still catches a modulo bias of 25% or more.
			if n < mean*0.85 || n > mean*1.15 {
				t.Errorf("%s: %q appeared %v times, expected about %.0f", alphabet, chars[i], n, mean)
			}
		}
	}
}

func TestParseGenerate(t *testing.T) {
	for in, want := range map[string]Generate{
		"base64url:32": {Alphabet: AlphabetBase64URL, Length: 32},
		"hex:64":       {Alphabet: AlphabetHex, Length: 64},
		"uuid":         {Format: FormatUUID},
	} {
		g, err := ParseGenerate(in)
		if err != nil || g != want {
			t.Errorf("ParseGenerate(%q) = %+v, %v", in, g, err)
		}
		if g.String() != in {
			t.Errorf("%+v prints as %q", g, g.String())
		}
	}
	for _, in := range []string{"base64url", "base64url:", "base64url:+32", "base64url:8", "b64:32", ":32", "uuid:36"} {
		if _, err := ParseGenerate(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseGenerate(%q): err = %v", in, err)
		}
	}
}
