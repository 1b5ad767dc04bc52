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
	start, startJ := 0, 0 // the first byte not replaced, in b and in joined
	for j := 0; j < len(joined); {
		if j = r.wrapped.candidate(joined, j); j >= len(joined) {
			break
		}
		id, n, st := r.wrapped.at(joined, j, true)
		if st != found {
			j++
			continue
		}
		// A run at one end of a dump extends over as much more of it as the text holds,
		// so that a dump cut at one end keeps at most its other end, lines and all.
		from, to := j, j+n
		if of := r.wrappedOf[id]; of != "" {
			if r.wrappedSuffix[id] {
				for k := len(of) - n; k > 0 && from > startJ && joined[from-1] == of[k-1]; k-- {
					from--
				}
			} else {
				for k := n; k < len(of) && to < len(joined) && joined[to] == of[k]; k++ {
					to++
				}
			}
		}
		out = append(out, b[start:at[from]]...)
		out = append(out, r.wrappedWith[id]...)
		replaced = true
		start, startJ = at[to-1]+1, to
		j = to
	}
	if !replaced {
		return b
	}
	return append(out, b[start:]...)
}
