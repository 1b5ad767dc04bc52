package secret

// maxExcerpt is the most of a caller's text an error repeats.
const maxExcerpt = 64

// Excerpt is what an error may repeat of text a caller gave where a name, slug, id,
// type or host belongs: the text up to its first character that none of those holds
// (letters, digits and _ . - : / @ +), and at most 64 bytes, with … where it was cut.
// What follows is likely a value typed by habit (NAME=value, "NAME value"), so it is
// never repeated.
func Excerpt(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || c == '.' || c == '-' || c == ':' || c == '/' || c == '@' || c == '+' ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok || i == maxExcerpt {
			return s[:i] + "…"
		}
	}
	return s
}
