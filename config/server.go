// Package config reads kazzle's configuration files: kazzle-server.hcl (config.Server)
// now, and the project's kazzle.config.ts or kazzle.hcl later.
package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Server is kazzle-server.hcl, in the style of Vault's server configuration.
type Server struct {
	Listener Listener `hcl:"listener,block"`
	Storage  Storage  `hcl:"storage,block"`
	KMS      KMS      `hcl:"kms,block"`
	Audit    *Audit   `hcl:"audit,block"`
}

// Listener is where the server listens, with its TLS certificate.
type Listener struct {
	Type        string `hcl:"type,label"` // "tcp"
	Address     string `hcl:"address,optional"`
	TLSCertFile string `hcl:"tls_cert_file,optional"`
	TLSKeyFile  string `hcl:"tls_key_file,optional"`
	// TLSDisable serves plain HTTP; allowed only on a loopback address.
	TLSDisable bool `hcl:"tls_disable,optional"`
}

// Storage is the database: "sqlite" with a path, or "postgres" with a URL.
type Storage struct {
	Type string `hcl:"type,label"`
	Path string `hcl:"path,optional"`
	URL  string `hcl:"url,optional"`
}

// KMS is the key wrapper: "local" with a key file, or "awskms" with a key id and region.
type KMS struct {
	Type    string `hcl:"type,label"`
	KeyFile string `hcl:"key_file,optional"`
	KeyID   string `hcl:"key_id,optional"`
	Region  string `hcl:"region,optional"`
}

// Audit configures the audit trail.
type Audit struct {
	// Retention such as "365d", "12h"; empty keeps events forever.
	Retention string `hcl:"retention,optional"`
}

// RetentionDuration parses Retention; 0 means keep forever.
func (a *Audit) RetentionDuration() (time.Duration, error) {
	if a == nil || a.Retention == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(a.Retention, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("audit retention %q: use a number of days like 365d, or a duration like 720h", a.Retention)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(a.Retention)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("audit retention %q: use a number of days like 365d, or a duration like 720h", a.Retention)
	}
	return d, nil
}

// ParseServer decodes kazzle-server.hcl. Errors carry HCL's file:line:column diagnostics.
func ParseServer(filename string, src []byte) (Server, error) {
	var s Server
	file, diags := hclparse.NewParser().ParseHCL(src, filename)
	if diags.HasErrors() {
		return s, diags
	}
	if diags := gohcl.DecodeBody(file.Body, nil, &s); diags.HasErrors() {
		return s, diags
	}
	return s, s.validate(filename)
}

func (s *Server) validate(filename string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", filename, fmt.Sprintf(format, args...))
	}
	l := s.Listener
	if l.Type != "tcp" {
		return bad(`listener %q: the only listener is "tcp"`, l.Type)
	}
	if l.Address == "" {
		return bad(`listener "tcp": set address, like "0.0.0.0:8443"`)
	}
	host, _, err := net.SplitHostPort(l.Address)
	if err != nil {
		return bad(`listener "tcp": address %q is not host:port`, l.Address)
	}
	if l.TLSDisable {
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return bad(`listener "tcp": tls_disable is allowed only on a loopback address, not %q; API keys must not cross a network in clear text`, host)
		}
	} else if l.TLSCertFile == "" || l.TLSKeyFile == "" {
		return bad(`listener "tcp": set tls_cert_file and tls_key_file (or tls_disable = true on a loopback address)`)
	}
	switch s.Storage.Type {
	case "sqlite":
		if s.Storage.Path == "" {
			return bad(`storage "sqlite": set path`)
		}
	case "postgres":
		return bad(`storage "postgres" is not available yet: use storage "sqlite"`)
	default:
		return bad(`storage %q: use "sqlite"`, s.Storage.Type)
	}
	switch s.KMS.Type {
	case "local":
		if s.KMS.KeyFile == "" {
			return bad(`kms "local": set key_file`)
		}
	case "awskms":
		if s.KMS.KeyID == "" {
			return bad(`kms "awskms": set key_id (a key id, ARN or alias/name)`)
		}
	default:
		return bad(`kms %q: use "local" or "awskms"`, s.KMS.Type)
	}
	if _, err := s.Audit.RetentionDuration(); err != nil {
		return bad("%v", err)
	}
	return nil
}
