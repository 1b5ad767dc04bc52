package redact

// isDumpByte reports whether c may appear in base64 (either alphabet, padding included)
// or hex: the bytes a wrapped dump is made of.
func isDumpByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '+' || c == '/' || c == '=' || c == '-' || c == '_'
}

func isBreak(c byte) bool { return c == '\n' || c == '\r' || c == ' ' || c == '\t' }

// unwrapped replaces the Wrapped values in b that line breaks, spaces or tabs split: it
// matches them in b with every run of those between two dump bytes taken out, and
// replaces each match's whole span in b, breaks included.
func (r *Replacer) unwrapped(b []byte) []byte {
	joined := make([]byte, 0, len(b))
	at := make([]int, 0, len(b)) // at[j] is the index in b of joined[j]
	for i := 0; i < len(b); i++ {
		if isBreak(b[i]) && i > 0 && isDumpByte(b[i-1]) {
			j := i
			for j < len(b) && isBreak(b[j]) {
				j++
			}
			if j < len(b) && isDumpByte(b[j]) {
				i = j - 1
				continue
			}
		}
		joined = append(joined, b[i])
		at = append(at, i)
	}
	if len(joined) == len(b) {
		return b // nothing was split
	}
	var out []byte
	replaced := false
	start := 0 // in b
	for j := 0; j < len(joined); {
		if j = r.wrapped.candidate(joined, j); j >= len(joined) {
			break
		}
		id, n, st := r.wrapped.at(joined, j, true)
		if st != found {
			j++
			continue
		}
		out = append(out, b[start:at[j]]...)
		out = append(out, r.wrappedWith[id]...)
		replaced = true
		start = at[j+n-1] + 1
		j += n
	}
	if !replaced {
		return b
	}
	return append(out, b[start:]...)
}
