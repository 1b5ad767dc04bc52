package resolver

import (
	"encoding/base32"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

type totpParams struct {
	secret string // base32, upper case, unpadded
	period uint
	digits otp.Digits
	algo   otp.Algorithm
}

// errSeed deliberately carries no detail: the libraries' own errors may quote the seed.
var errSeed = errors.New("totp seed is neither base32 nor an otpauth://totp/ URI (with secret, and optional digits 6-8, period and algorithm SHA1, SHA256 or SHA512)")

// maxPeriod is the longest TOTP period accepted, in seconds: an hour.
const maxPeriod = 3600

var (
	errPeriod = errors.New("the period of an otpauth:// URI must be a whole number of seconds from 1 to 3600")
	errDigits = errors.New("the digits of an otpauth:// URI must be 6, 7 or 8")
)

// parseSeed reads a base32 seed (spaces, dashes and case ignored) or an otpauth://totp/ URI.
func parseSeed(seed string) (totpParams, error) {
	p := totpParams{period: 30, digits: otp.DigitsSix, algo: otp.AlgorithmSHA1}
	seed = strings.TrimSpace(seed)
	if strings.HasPrefix(strings.ToLower(seed), "otpauth://") {
		key, err := otp.NewKeyFromURL(seed)
		if err != nil || key.Type() != "totp" {
			return p, errSeed
		}
		// The library reads a period or digits it cannot parse as the default; a URI that
		// says something else than it means is refused instead.
		u, err := url.Parse(seed)
		if err != nil {
			return p, errSeed
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
		p.period = uint(key.Period())
		p.digits = key.Digits()
		p.algo = key.Algorithm()
		seed = key.Secret()
		if p.algo == otp.AlgorithmMD5 {
			return p, errSeed
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
		return p, errSeed
	}
	p.secret = secret
	return p, nil
}

// TOTP returns the RFC 6238 code of seed at now, and how long it stays valid. The seed is
// base32 (the usual 2FA "setup key"), or an otpauth://totp/ URI that sets digits, period
// and algorithm.
func TOTP(seed string, now time.Time) (code string, validFor time.Duration, err error) {
	p, err := parseSeed(seed)
	if err != nil {
		return "", 0, err
	}
	code, err = totp.GenerateCodeCustom(p.secret, now, totp.ValidateOpts{Period: p.period, Digits: p.digits, Algorithm: p.algo})
	if err != nil {
		return "", 0, errSeed
	}
	period := time.Duration(p.period) * time.Second
	elapsed := time.Duration(now.Unix()%int64(p.period))*time.Second + time.Duration(now.Nanosecond())
	return code, period - elapsed, nil
}
