package awsfake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const maxSkew = 15 * time.Minute

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// verify checks a request's SigV4 signature the way AWS does in effect: it rebuilds the
// request from what the client says it signed, signs it again with the SDK's own signer
// and the secret key on file, and compares the two Authorization headers in constant time.
// It returns the region the request was signed for.
func (s *Server) verify(r *http.Request, body []byte, service string) (string, error) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return "", errorf(http.StatusBadRequest, "MissingAuthenticationTokenException", "request is missing a SigV4 Authorization header")
	}
	var credential, signedHeaders string
	for _, kv := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		}
	}
	// Credential = AKID/date/region/service/aws4_request
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || signedHeaders == "" {
		return "", errorf(http.StatusBadRequest, "IncompleteSignatureException", "Authorization header is malformed")
	}
	if scope[0] != s.opts.AccessKeyID {
		return "", errorf(http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	region := scope[2]
	if !regionPattern.MatchString(region) || scope[3] != service {
		return "", errorf(http.StatusBadRequest, "InvalidSignatureException", "Credential should be scoped to a valid region and to service %s", service)
	}
	signedAt, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "", errorf(http.StatusBadRequest, "IncompleteSignatureException", "X-Amz-Date is missing or malformed")
	}
	if d := s.opts.Now().Sub(signedAt); d > maxSkew || d < -maxSkew {
		return "", errorf(http.StatusBadRequest, "InvalidSignatureException", "Signature expired: %s is more than 15 minutes from now", signedAt.Format(time.RFC3339))
	}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}

	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return "", errorf(http.StatusBadRequest, "InvalidSignatureException", "request URI is malformed")
	}
	again.Host = r.Host
	again.ContentLength = int64(len(body))
	for _, h := range strings.Split(signedHeaders, ";") {
		if h == "host" || h == "content-length" {
			continue
		}
		if vals := r.Header.Values(h); len(vals) > 0 {
			again.Header[http.CanonicalHeaderKey(h)] = vals
		}
	}
	creds := aws.Credentials{AccessKeyID: s.opts.AccessKeyID, SecretAccessKey: s.opts.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, payloadHash, service, region, signedAt); err != nil {
		return "", errorf(http.StatusInternalServerError, "InternalFailure", "re-sign: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(again.Header.Get("Authorization")), []byte(auth)) != 1 {
		return "", errorf(http.StatusBadRequest, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return region, nil
}
