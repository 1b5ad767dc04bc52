package serverconfig

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const oidcGitHub = `
oidc "github" {
  issuer   = "https://token.actions.githubusercontent.com"
  audience = "https://vault.example.com"
  rule {
    space      = "acme"
    claims     = { repository_id = "123456", ref = "refs/heads/main", environment = "prod" }
    role       = "read"
    collection = "my-saas"
    env        = "prod"
    ttl        = "10m"
  }
  rule {
    space  = "acme"
    claims = { repository = "acme/*", event_name = "push" }
    role   = "write"
  }
}
oidc "gitlab" {
  issuer   = "https://gitlab.com"
  audience = "https://vault.example.com"
  rule {
    space  = "acme"
    claims = { project_path = "acme/app" }
    role   = "read"
  }
}
`

func TestParseOIDC(t *testing.T) {
	s, err := Parse("kazzle-server.hcl", []byte(full+oidcGitHub))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.OIDC) != 2 || s.OIDC[0].Name != "github" || s.OIDC[1].Name != "gitlab" {
		t.Fatalf("providers %+v", s.OIDC)
	}
	gh := s.OIDC[0]
	if gh.Issuer != "https://token.actions.githubusercontent.com" || gh.Audience != "https://vault.example.com" || len(gh.Rules) != 2 {
		t.Fatalf("github %+v", gh)
	}
	r := gh.Rules[0]
	if r.Space != "acme" || r.Role != "read" || r.Collection != "my-saas" || r.Env != "prod" || r.TTL != 10*time.Minute ||
		r.Claims["repository_id"] != "123456" || r.Claims["ref"] != "refs/heads/main" || len(r.Claims) != 3 {
		t.Fatalf("rule 1 %+v", r)
	}
	if r := gh.Rules[1]; r.TTL != DefaultOIDCTTL || r.Role != "write" || r.Claims["repository"] != "acme/*" {
		t.Fatalf("rule 2 %+v", r)
	}
}

func TestParseOIDCErrors(t *testing.T) {
	block := func(issuer, audience, rule string) string {
		return full + fmt.Sprintf("oidc \"ci\" {\n  issuer = %q\n  audience = %q\n%s\n}\n", issuer, audience, rule)
	}
	good := `rule {
  space  = "acme"
  claims = { repository = "acme/app" }
  role   = "read"
}`
	with := func(old, new string) string {
		return block("https://ci.example.com", "kazzle", strings.Replace(good, old, new, 1))
	}
	claims := func(n int, value string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "c%d = %q, ", i, value)
		}
		return with(`repository = "acme/app"`, b.String())
	}
	rules := func(n int) string {
		return block("https://ci.example.com", "kazzle", strings.Repeat(good+"\n", n))
	}
	providers := func(n int) string {
		src := full
		for i := range n {
			src += fmt.Sprintf("oidc \"p%d\" {\n  issuer = \"https://ci.example.com\"\n  audience = \"kazzle\"\n%s\n}\n", i, good)
		}
		return src
	}
	for _, tc := range []struct{ desc, src, want string }{
		{"http issuer", block("http://ci.example.com", "kazzle", good), "use https"},
		{"other scheme", block("ftp://ci.example.com", "kazzle", good), "use an https:// URL"},
		{"issuer with a query", block("https://ci.example.com/?x=1", "kazzle", good), "no user, query or fragment"},
		{"no issuer", block("", "kazzle", good), "set issuer"},
		{"issuer too long", block("https://ci.example.com/"+strings.Repeat("a", MaxOIDCURLLen), "kazzle", good), "the limit is 512"},
		{"no audience", block("https://ci.example.com", "", good), "set audience"},
		{"audience too long", block("https://ci.example.com", strings.Repeat("a", MaxOIDCURLLen+1), good), "the limit is 512"},
		{"no rule", block("https://ci.example.com", "kazzle", ""), "add a rule"},
		{"admin role", with(`"read"`, `"admin"`), `role "admin" is refused: an exchanged key could then make keys`},
		{"unknown role", with(`"read"`, `"owner"`), `role "owner": use "read" or "write"`},
		{"no role", with(`role   = "read"`, ""), `set role`},
		{"no space", with(`space  = "acme"`, ""), "set space"},
		{"no claims", with(`claims = { repository = "acme/app" }`, ""), "Missing claims"},
		{"empty claims", with(`{ repository = "acme/app" }`, "{}"), "set claims"},
		{"only wildcards", with(`"acme/app"`, `"acme/*"`), "every claim has a *"},
		{"only iss and aud literal", with(`repository = "acme/app"`, `iss = "https://ci.example.com", aud = "kazzle", repository = "*"`), "every claim has a * or is iss or aud"},
		{"number claim", with(`"acme/app"`, `123`), `Claim "repository" must be a string`},
		{"bool claim", with(`"acme/app"`, `true`), `must be a string`},
		{"claims not an object", with(`{ repository = "acme/app" }`, `"acme/app"`), "claims must be an object"},
		{"empty claim value", with(`"acme/app"`, `""`), "claim repository is empty"},
		{"bad claim name", with(`repository =`, `"repo sitory" =`), `claim name "repo sitory"`},
		{"control character", with(`"acme/app"`, `"acme\u0007app"`), "control character"},
		{"ttl zero", with(`role   = "read"`, "role = \"read\"\nttl = \"0s\""), "ttl must be positive"},
		{"ttl over the cap", with(`role   = "read"`, "role = \"read\"\nttl = \"61m\""), "longer than 1h0m0s, the limit"},
		{"ttl not a duration", with(`role   = "read"`, "role = \"read\"\nttl = \"soon\""), `ttl "soon" is not a duration`},
		{"env without collection", with(`role   = "read"`, "role = \"read\"\nenv = \"prod\""), `needs a collection`},
		{"unknown rule attribute", with(`role   = "read"`, "role = \"read\"\nscope = \"x\""), `Unsupported argument; An argument named "scope"`},
		{"bad provider name", strings.Replace(block("https://ci.example.com", "kazzle", good), `oidc "ci"`, `oidc "Git Hub"`, 1), `oidc "Git Hub": name a provider`},
		{"duplicate provider", block("https://ci.example.com", "kazzle", good) + `oidc "ci" {
  issuer = "https://ci.example.com"
  audience = "kazzle"
` + good + "\n}", `oidc "ci": the name is taken`},
		{"claims past the limit", claims(MaxOIDCClaims+1, "x"), "at most 16 claims"},
		{"claim value past the limit", claims(1, strings.Repeat("v", MaxOIDCClaimValueLen+1)), "the limit is 256"},
		{"claim name past the limit", with(`repository =`, strings.Repeat("n", MaxOIDCClaimNameLen+1)+" ="), "use up to 64"},
		{"space past the limit", with(`"acme"`, `"`+strings.Repeat("s", MaxOIDCNameLen+1)+`"`), "space is 129 bytes, the limit is 128"},
		{"rules past the limit", rules(MaxOIDCRules + 1), "at most 64 rules"},
		{"providers past the limit", providers(MaxOIDCProviders + 1), "At most 16 oidc blocks"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := Parse("kazzle-server.hcl", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	for _, tc := range []struct{ desc, src string }{
		{"claims at the limit", claims(MaxOIDCClaims, strings.Repeat("v", MaxOIDCClaimValueLen))},
		{"rules at the limit", rules(MaxOIDCRules)},
		{"providers at the limit", providers(MaxOIDCProviders)},
		{"ttl at the cap", with(`role   = "read"`, "role = \"read\"\nttl = \"1h\"")},
		{"http issuer on loopback", block("http://127.0.0.1:8080", "kazzle", good)},
		{"http issuer on localhost", block("http://localhost:8080/issuer", "kazzle", good)},
		{"one literal claim beside wildcards", with(`repository = "acme/app"`, `repository = "acme/app", ref = "refs/heads/*"`)},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := Parse("kazzle-server.hcl", []byte(tc.src)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
