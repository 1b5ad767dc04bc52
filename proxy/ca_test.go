package proxy

import (
	"crypto/x509"
	"testing"
)

// TestAnAddressLeafHasNoCommonName: OpenSSL would check a common name of 127.0.0.1
// against a CA whose name constraints permit that address and no host name, and refuse.
func TestAnAddressLeafHasNoCommonName(t *testing.T) {
	a, err := newAuthority([]string{"127.0.0.1:8443"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.leaf("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != "" || len(leaf.IPAddresses) != 1 {
		t.Fatalf("subject %q, addresses %v", leaf.Subject, leaf.IPAddresses)
	}
}
