package mcp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
)

// boundVault answers the templates call, as the server does, with one secret's value,
// bound to hosts when hosts is not nil.
func boundVault(tb testing.TB, ref, val string, hosts []string) *api.Client {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req api.TemplatesRequest
		if r.URL.Path != "/v1/templates" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		resp := api.TemplatesResponse{Values: make([]string, len(req.Templates))}
		for i, tpl := range req.Templates {
			resp.Values[i] = strings.ReplaceAll(tpl, ref, val)
		}
		u := api.UsedValue{Ref: ref, Value: val}
		if hosts != nil {
			u.Hosts = [][]string{hosts}
		}
		resp.Used = []api.UsedValue{u}
		json.NewEncoder(w).Encode(resp)
	}))
	tb.Cleanup(srv.Close)
	c, err := api.NewClient(srv.URL, "kzl_mcpTestKeyThatIsLongEnough000000000", nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// fakeVault is boundVault of an unbound value.
func fakeVault(tb testing.TB, ref, val string) *api.Client { return boundVault(tb, ref, val, nil) }

// boundHostsVault is boundVault of a value bound to hosts.
func boundHostsVault(tb testing.TB, ref, val string, hosts ...string) *api.Client {
	return boundVault(tb, ref, val, hosts)
}
