package resolver

import (
	"time"

	"github.com/kazzle/kazzle/secret"
	"github.com/pquerna/otp/totp"
)

// TOTP returns the RFC 6238 code of seed at now, and how long it stays valid. The seed is
// base32 (the usual 2FA "setup key"), or an otpauth://totp/ URI that sets digits, period
// and algorithm.
func TOTP(seed string, now time.Time) (code string, validFor time.Duration, err error) {
	p, err := secret.ParseSeed(seed)
	if err != nil {
		return "", 0, err
	}
	code, err = totp.GenerateCodeCustom(p.Key, now, totp.ValidateOpts{Period: p.Period, Digits: p.Digits, Algorithm: p.Algorithm})
	if err != nil {
		return "", 0, secret.ErrSeed
	}
	period := time.Duration(p.Period) * time.Second
	elapsed := time.Duration(now.Unix()%int64(p.Period))*time.Second + time.Duration(now.Nanosecond())
	return code, period - elapsed, nil
}
