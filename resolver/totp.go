package resolver

import (
	"encoding/base32"
	"errors"
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

// parseSeed reads a base32 seed (spaces, dashes and case ignored) or an otpauth://totp/ URI.
func parseSeed(seed string) (totpParams, error) {
	p := totpParams{period: 30, digits: otp.DigitsSix, algo: otp.AlgorithmSHA1}
	seed = strings.TrimSpace(seed)
	if strings.HasPrefix(strings.ToLower(seed), "otpauth://") {
		key, err := otp.NewKeyFromURL(seed)
		if err != nil || key.Type() != "totp" {
			return p, errSeed
		}
		p.period = uint(key.Period())
		p.digits = key.Digits()
		p.algo = key.Algorithm()
		seed = key.Secret()
		if p.period == 0 || p.period > 3600 || p.digits < 6 || p.digits > 8 || p.algo == otp.AlgorithmMD5 {
			return p, errSeed
		}
	}
	secret := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "=", "").Replace(seed))
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
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
