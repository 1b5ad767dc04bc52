package proxy

import (
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// writeBundle writes the roots the process trusts, and the proxy's CA, to a file of its
// own in a private folder.
func (p *Proxy) writeBundle(o Options) error {
	roots := o.ExtraRootsPEM
	if roots == nil {
		roots = systemRootsPEM()
	}
	var buf []byte
	for rest := roots; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" && len(b.Headers) == 0 {
			buf = append(buf, pem.EncodeToMemory(b)...)
		}
	}
	buf = append(buf, p.ca.pem...)

	p.dir = o.Dir
	if p.dir == "" {
		d, err := os.MkdirTemp("", "kazzle-proxy-")
		if err != nil {
			return fmt.Errorf("make a folder for the CA bundle: %w", err)
		}
		p.dir, p.ownDir = d, true
	} else {
		fi, err := os.Stat(p.dir)
		if err != nil {
			return fmt.Errorf("folder for the CA bundle: %w", err)
		}
		if !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 {
			return fmt.Errorf("folder for the CA bundle: %s is not a folder only its owner may open", p.dir)
		}
	}
	name, err := randomString(16)
	if err != nil {
		return err
	}
	p.bundle = filepath.Join(p.dir, "ca-"+name+".pem")
	f, err := os.OpenFile(p.bundle, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.Write(buf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		p.removeBundle()
		return fmt.Errorf("write the CA bundle: %w", err)
	}
	return nil
}

// systemRootsPEM reads the bundle file SSL_CERT_FILE names, else the first of the
// usual system bundle files there is; nil if none.
func systemRootsPEM() []byte {
	files := []string{
		"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Arch, Gentoo
		"/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
		"/etc/ssl/ca-bundle.pem",             // openSUSE
		"/etc/ssl/cert.pem",                  // macOS, Alpine, BSDs
		"/etc/pki/tls/cacert.pem",
	}
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = append([]string{f}, files...)
	}
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
			return b
		}
	}
	return nil
}

func (p *Proxy) removeBundle() error {
	if p.ownDir {
		return os.RemoveAll(p.dir)
	}
	if p.bundle != "" {
		if err := os.Remove(p.bundle); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
