package secret

import (
	"encoding/base32"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/pquerna/otp"
)

// Seed is a totp secret's seed as the code generator reads it.
type Seed struct {
	Key       string // base32, upper case, unpadded
	Period    uint   // seconds
	Digits    otp.Digits
	Algorithm otp.Algorithm
}

// ErrSeed is a seed that gives no code. It deliberately carries no detail: the
// libraries' own errors may quote the seed.
var ErrSeed = errors.New("totp seed is neither base32 nor an otpauth://totp/ URI (with secret, and optional digits 6-8, period and algorithm SHA1, SHA256 or SHA512)")

// maxPeriod is the longest TOTP period accepted, in seconds: an hour.
const maxPeriod = 3600

var (
	errPeriod = errors.New("the period of an otpauth:// URI must be a whole number of seconds from 1 to 3600")
	errDigits = errors.New("the digits of an otpauth:// URI must be 6, 7 or 8")
)

// ParseSeed reads a base32 seed (spaces, dashes and case ignored) or an otpauth://totp/
// URI that sets digits, period and algorithm. Its errors never quote the seed.
func ParseSeed(seed string) (Seed, error) {
	p := Seed{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	seed = strings.TrimSpace(seed)
	if strings.HasPrefix(strings.ToLower(seed), "otpauth://") {
		key, err := otp.NewKeyFromURL(seed)
		if err != nil || key.Type() != "totp" {
			return p, ErrSeed
		}
		// The library reads a period or digits it cannot parse as the default; a URI that
		// says something else than it means is refused instead.
		u, err := url.Parse(seed)
		if err != nil {
			return p, ErrSeed
		}
		q := u.Query()
		if q.Has("period") {
			n, err := strconv.Atoi(q.Get("period"))
			if err != nil || n < 1 || n > maxPeriod {
				return p, errPeriod
			}
		}
		if q.Has("digits") {
			if n, err := strconv.Atoi(q.Get("digits")); err != nil || n < 6 || n > 8 {
				return p, errDigits
			}
		}
		p.Period = uint(key.Period())
		p.Digits = key.Digits()
		p.Algorithm = key.Algorithm()
		seed = key.Secret()
		if p.Algorithm == otp.AlgorithmMD5 {
			return p, ErrSeed
		}
	}
	secret := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "=", "").Replace(seed))
	// Decoded strictly, as the code generator will: an unpadded decoder drops a trailing
	// character that does not fill a byte, so a seed of 9 characters would be stored and
	// then give no code.
	padded := secret
	if n := len(secret) % 8; n != 0 {
		padded += strings.Repeat("=", 8-n)
	}
	raw, err := base32.StdEncoding.DecodeString(padded)
	if err != nil || len(raw) == 0 {
		return p, ErrSeed
	}
	p.Key = secret
	return p, nil
}
