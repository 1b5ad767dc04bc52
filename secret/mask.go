package secret

import "unicode/utf8"

// Mask returns the preview of a saved value that kazzle may display: values of 16
// characters or more show their first and last 4 characters around "****"; shorter ones
// show "****" alone, so little of a short value can be learned from its preview.
func Mask(v string) string {
	n := utf8.RuneCountInString(v)
	if n < 16 {
		return "****"
	}
	r := []rune(v)
	return string(r[:4]) + "****" + string(r[n-4:])
}

// MaskField is Mask for a stored field: a TOTP seed shows "****" alone, whatever its
// length, since eight characters of a 16-character base32 key are half its bits.
func MaskField(field, v string) string {
	if field == FieldSeed {
		return "****"
	}
	return Mask(v)
}
