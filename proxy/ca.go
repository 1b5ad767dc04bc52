package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"
)

// caValidity bounds how long the certificates of one proxy are trusted: a proxy lives as
// long as its call, and its CA's key never leaves the process's memory.
const caValidity = 7 * 24 * time.Hour

// maxLeaves bounds the leaf certificates a proxy keeps; past it the cache starts over.
const maxLeaves = 1024

// authority is a proxy's own certificate authority: it signs, on the fly, a certificate
// for each host whose TLS the proxy terminates.
type authority struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	leafKey *ecdsa.PrivateKey // one key for every leaf: making one per host buys nothing
	pem     []byte

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

// constrain limits what tmpl, a CA, may sign for to names: host names, *.suffix for the
// names under suffix, IP addresses, each with an optional scheme and port, which are
// ignored (the form of a secret's hosts entries). A kind of name that names lacks is
// shut out entirely, or a CA constrained to names only could still sign for any address.
func constrain(tmpl *x509.Certificate, names []string) error {
	for _, n := range names {
		if _, rest, ok := strings.Cut(n, "://"); ok {
			n = rest
		}
		host := n
		if h, _, err := net.SplitHostPort(n); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if ip := net.ParseIP(host); ip != nil {
			bits := 8 * len(ip)
			if v4 := ip.To4(); v4 != nil {
				ip, bits = v4, 32
			}
			tmpl.PermittedIPRanges = append(tmpl.PermittedIPRanges, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		if host == "" || strings.Contains(strings.TrimPrefix(host, "*."), "*") {
			return fmt.Errorf("%q is not a host name", n)
		}
		// A leading dot takes in the names under a suffix, never the suffix itself.
		tmpl.PermittedDNSDomains = append(tmpl.PermittedDNSDomains, strings.ToLower(strings.TrimPrefix(host, "*")))
	}
	if len(tmpl.PermittedDNSDomains) == 0 {
		tmpl.PermittedDNSDomains = []string{"invalid"} // reserved: no name is under it
	}
	if len(tmpl.PermittedIPRanges) == 0 {
		tmpl.ExcludedIPRanges = []*net.IPNet{
			{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
			{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)},
		}
	}
	tmpl.PermittedDNSDomainsCritical = true
	return nil
}

// newAuthority makes a CA, constrained to names unless names is empty.
func newAuthority(names []string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make the proxy's key: %w", err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make the proxy's key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "kazzle proxy " + now.UTC().Format(time.RFC3339), Organization: []string{"kazzle"}},
		NotBefore:             now.Add(-time.Hour), // clocks of other processes may lag
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	if len(names) > 0 {
		if err := constrain(tmpl, names); err != nil {
			return nil, fmt.Errorf("the proxy's names: %w", err)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("make the proxy's certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("make the proxy's certificate: %w", err)
	}
	return &authority{
		cert:    cert,
		key:     key,
		leafKey: leafKey,
		pem:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		leaves:  map[string]*tls.Certificate{},
	}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// leaf returns the certificate for host, a DNS name or an IP address, signing it the
// first time.
func (a *authority) leaf(host string) (*tls.Certificate, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.leaves[host]; ok {
		return c, nil
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    a.cert.NotBefore,
		NotAfter:     a.cert.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
		// OpenSSL checks a common name that reads as a host name against the CA's
		// name constraints, which may permit no names, only this address.
		tmpl.Subject = pkix.Name{}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &a.leafKey.PublicKey, a.key)
	if err != nil {
		return nil, fmt.Errorf("sign a certificate for %s: %w", host, err)
	}
	c := &tls.Certificate{Certificate: [][]byte{der, a.cert.Raw}, PrivateKey: a.leafKey}
	if len(a.leaves) >= maxLeaves {
		clear(a.leaves)
	}
	a.leaves[host] = c
	return c, nil
}
