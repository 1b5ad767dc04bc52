package server

import (
	"context"
	"net/http"
	"time"

	"github.com/kazzle/kazzle/vault"
)

// healthTimeout bounds the database check of a health probe: a load balancer's probe
// gives up after a few seconds, and a slower answer is itself a failure.
const healthTimeout = 2 * time.Second

// health answers load balancers: 200 {"status":"ok"} when the database answers, else
// 503 {"status":"unavailable"}. It needs no key and says nothing more: not the version,
// not the cause, not how many spaces there are. The cause goes to the server log.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if p, ok := s.v.Store().(vault.Pinger); ok {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		if err := p.Ping(ctx); err != nil {
			s.log.Warn("health check: the database does not answer", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
