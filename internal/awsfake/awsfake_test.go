package awsfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestUnsignedAndStaleRequestsAreRefusedInAWSErrorShape(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	post := func(hdr map[string]string) (int, map[string]string, string) {
		req, err := http.NewRequest("POST", s.URL, strings.NewReader(`{"KeyId":"alias/x"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "TrentService.GenerateDataKey")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body, resp.Header.Get("X-Amzn-ErrorType")
	}
	status, body, errType := post(nil)
	if status != 400 || body["__type"] != "MissingAuthenticationTokenException" || errType != body["__type"] || body["message"] == "" {
		t.Fatalf("unsigned: %d %v %q", status, body, errType)
	}
	old := time.Now().Add(-time.Hour).UTC().Format("20060102T150405Z")
	status, body, _ = post(map[string]string{
		"X-Amz-Date":    old,
		"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDKAZZLEFAKE/" + old[:8] + "/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
	})
	if status != 400 || body["__type"] != "InvalidSignatureException" || !strings.Contains(body["message"], "expired") {
		t.Fatalf("an hour-old signature: %d %v", status, body)
	}
	if got := s.Calls("kms:GenerateDataKey"); got != 2 {
		t.Fatalf("Calls = %d, want 2", got)
	}
}
