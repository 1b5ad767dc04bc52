package secret

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Generated values: made with crypto/rand where they are stored, so that whoever asks
// for one learns its length and never its characters.

// The alphabets of a generated value.
const (
	AlphabetHex       = "hex"
	AlphabetBase64URL = "base64url"
	AlphabetAlnum     = "alnum"
	// AlphabetPassword is letters, digits and PasswordSymbols, with at least one lower
	// case letter, one upper case letter, one digit and one symbol, as password rules
	// ask.
	AlphabetPassword = "password"
	// FormatUUID is a random (version 4) UUID in its 36-character text form.
	FormatUUID = "uuid"
)

// PasswordSymbols are the symbols of the password alphabet: none that a shell, a URL,
// a connection string or a .env file gives a meaning to.
const PasswordSymbols = "!#%+-.:=@_~"

// Limits of a generated value's length, in characters.
const (
	MinGeneratedLength = 16
	MaxGeneratedLength = 1024
)

const (
	lower  = "abcdefghijklmnopqrstuvwxyz"
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits = "0123456789"
)

var alphabets = map[string]string{
	AlphabetHex:       digits + "abcdef",
	AlphabetBase64URL: upper + lower + digits + "-_",
	AlphabetAlnum:     upper + lower + digits,
	AlphabetPassword:  upper + lower + digits + PasswordSymbols,
}

// Alphabets lists the alphabets a value may be generated from.
func Alphabets() []string {
	return []string{AlphabetHex, AlphabetBase64URL, AlphabetAlnum, AlphabetPassword}
}

// AlphabetChars returns the characters of an alphabet, "" for an unknown one.
func AlphabetChars(alphabet string) string { return alphabets[alphabet] }

// Generate describes a value to generate: Length characters of Alphabet, or a value of
// Format (uuid), which fixes its own length.
type Generate struct {
	Length   int
	Alphabet string
	Format   string
}

// Validate checks g; the error names what is wrong.
func (g Generate) Validate() error {
	if g.Format != "" {
		if g.Format != FormatUUID {
			return fmt.Errorf("%w format %q: the only format is uuid", ErrInvalid, Excerpt(g.Format))
		}
		if g.Length != 0 || g.Alphabet != "" {
			return fmt.Errorf("%w generate: a uuid has its own length and alphabet; give format alone", ErrInvalid)
		}
		return nil
	}
	if alphabets[g.Alphabet] == "" {
		return fmt.Errorf("%w alphabet %q: use %s, or format uuid", ErrInvalid, Excerpt(g.Alphabet), strings.Join(Alphabets(), ", "))
	}
	if g.Length < MinGeneratedLength || g.Length > MaxGeneratedLength {
		return fmt.Errorf("%w length %d: a generated value has %d to %d characters", ErrInvalid, g.Length, MinGeneratedLength, MaxGeneratedLength)
	}
	return nil
}

// Len is the length of the value g makes, in characters (and bytes: every alphabet is
// ASCII).
func (g Generate) Len() int {
	if g.Format == FormatUUID {
		return 36
	}
	return g.Length
}

// String is g as the CLI's --generate takes it: alphabet:length, or uuid.
func (g Generate) String() string {
	if g.Format != "" {
		return g.Format
	}
	return fmt.Sprintf("%s:%d", g.Alphabet, g.Length)
}

// ParseGenerate reads alphabet:length (base64url:32) or uuid.
func ParseGenerate(s string) (Generate, error) {
	if s == FormatUUID {
		return Generate{Format: FormatUUID}, nil
	}
	alphabet, n, ok := strings.Cut(s, ":")
	g := Generate{Alphabet: alphabet}
	if !ok {
		return g, fmt.Errorf("%w generate %q: write alphabet:length, such as base64url:32, or uuid", ErrInvalid, Excerpt(s))
	}
	var err error
	if g.Length, err = strconv.Atoi(n); err != nil || strconv.Itoa(g.Length) != n {
		return g, fmt.Errorf("%w generate %q: the length is a number of characters, such as base64url:32", ErrInvalid, Excerpt(s))
	}
	return g, g.Validate()
}

// NewValue makes a value as g describes, from crypto/rand. Each character is drawn
// uniformly from the alphabet by rejection sampling: a random byte beyond the largest
// multiple of the alphabet's size is thrown away, so that no character is likelier
// than another. A password lacking a class of characters is drawn again whole, which
// keeps every password with all four classes equally likely.
func NewValue(g Generate) (string, error) {
	if err := g.Validate(); err != nil {
		return "", err
	}
	if g.Format == FormatUUID {
		u, err := uuid.NewRandom()
		if err != nil {
			return "", fmt.Errorf("generate a uuid: %w", err)
		}
		return u.String(), nil
	}
	chars := alphabets[g.Alphabet]
	for {
		v, err := draw(chars, g.Length)
		if err != nil {
			return "", err
		}
		if g.Alphabet != AlphabetPassword || hasEveryClass(v) {
			return v, nil
		}
	}
}

// draw returns n characters of chars, each uniformly random.
func draw(chars string, n int) (string, error) {
	size := len(chars)
	limit := 256 - 256%size // bytes at or past limit would favour the first characters
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, chars[int(b)%size])
			}
		}
	}
	return string(out), nil
}

// hasEveryClass reports whether v holds a lower case letter, an upper case letter, a
// digit and a password symbol.
func hasEveryClass(v string) bool {
	return strings.ContainsAny(v, lower) && strings.ContainsAny(v, upper) &&
		strings.ContainsAny(v, digits) && strings.ContainsAny(v, PasswordSymbols)
}
