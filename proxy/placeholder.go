package proxy

import (
	"crypto/rand"
	"errors"
	"strings"
)

// prefixes are the public beginnings of well-known API keys, taken into placeholders so
// that a placeholder looks like a key of its kind to clients and tools that check the
// format. AWS access keys are not here: they sign requests rather than travel in them, so
// a proxy cannot substitute them.
var prefixes = []string{
	// Stripe, OpenAI, Anthropic, OpenRouter and the many keys that begin sk-
	"sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", "pk_test_", "whsec_",
	"sk-proj-", "sk-svcacct-", "sk-admin-", "sk-ant-api03-", "sk-ant-admin01-", "sk-ant-",
	"sk-or-v1-", "sk-",
	// GitHub, GitLab, Slack, SendGrid, Google
	"github_pat_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "glpat-",
	"xoxb-", "xoxp-", "xapp-", "SG.", "AIza", "ya29.",
	// Hugging Face, npm, PyPI, DigitalOcean, Shopify, xAI, Groq, Replicate, Linear,
	// Square, Figma, Notion, Tavily, Cerebras, NVIDIA, Perplexity, Cloudflare, Grafana,
	// LangSmith
	"hf_", "npm_", "pypi-", "dop_v1_", "shpat_", "shpca_", "shppa_", "xai-", "gsk_", "r8_",
	"lin_api_", "sq0atp-", "sq0csp-", "figd_", "ntn_", "secret_", "tvly-", "csk-", "nvapi-",
	"pplx-", "cfut_", "glc_", "lsv2_pt_", "lsv2_sk_",
}

// Lengths of the random part of a placeholder.
const (
	// minRandom characters of 62 give 190 bits: a placeholder is never guessed, and never
	// turns up in text by chance.
	minRandom = 32
	// maxRandom bounds a placeholder that matches a long value's length.
	maxRandom = 256
	// minRest is how much of a value must follow a prefix for the prefix to be taken: a
	// short value that merely begins like a key keeps all of itself secret.
	minRest = 16
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Placeholder returns a fresh stand-in for value: the well-known public prefix value
// begins with, if any and at least 16 more bytes follow it (sk_live_, ghp_, xoxb-, …),
// then random letters and digits from crypto/rand, as many as the rest of value and at
// least 32, so that clients that check a key's shape accept it. Only the prefix is taken
// from value, and the placeholder never contains value.
func Placeholder(value string) (string, error) {
	if value == "" {
		return "", errors.New("empty value")
	}
	prefix := ""
	for _, p := range prefixes {
		if len(p) > len(prefix) && strings.HasPrefix(value, p) && len(value) >= len(p)+minRest {
			prefix = p
		}
	}
	for {
		rest, err := randomString(min(max(len(value)-len(prefix), minRandom), maxRandom))
		if err != nil {
			return "", err
		}
		// A value of a few characters may turn up among the random ones.
		if ph := prefix + rest; !strings.Contains(ph, value) {
			return ph, nil
		}
	}
}

// randomString returns n letters and digits from crypto/rand.
func randomString(n int) (string, error) {
	b := make([]byte, 0, n)
	// Rejection sampling keeps every character equally likely: 248 is the largest
	// multiple of 62 below 256.
	buf := make([]byte, 2*n)
	for len(b) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, c := range buf {
			if c < 248 && len(b) < n {
				b = append(b, alphabet[c%62])
			}
		}
	}
	return string(b), nil
}
