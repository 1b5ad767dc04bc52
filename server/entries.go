package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

// One-time entries: a key that may write a secret asks for it (POST /v1/entries), a
// person signed in to /ui/enter/<id> with a key that may write there types it (POST
// /v1/entries/{id}/fill, which `kazzle secrets enter` calls too), and the asker waits
// for it (GET /v1/entries/{id}?wait=N). The value never passes through the asker.

func (s *Server) entryRoutes() {
	s.handle("POST /v1/entries", s.createEntry)
	s.handle("GET /v1/entries", s.listEntries)
	s.handle("GET /v1/entries/{id}", s.getEntry)
	s.handle("POST /v1/entries/{id}/fill", s.fillEntry)
	s.handle("DELETE /v1/entries/{id}", s.cancelEntry)
}

// EntryPath is where the page of an entry is.
func EntryPath(id string) string { return "/ui/enter/" + id }

// toEntry is an entry as the API shows it.
func (s *Server) toEntry(r *http.Request, e vault.Entry) (api.Entry, error) {
	c, env, err := s.v.Store().CollectionAndEnvironment(r.Context(), e.SpaceID, e.CollectionID, e.EnvironmentID)
	if err != nil {
		return api.Entry{}, err
	}
	out := api.Entry{ID: e.ID, Path: EntryPath(e.ID), Status: string(e.Status(s.v.Now())), Name: e.Name, Collection: c.Slug, Environment: env.Slug,
		Type: string(e.Type), Note: e.Note, Hosts: e.Hosts, Fields: e.Fields, Message: e.Message, CreatedBy: e.CreatedBy,
		CreatedAt: e.CreatedAt, ExpiresAt: e.ExpiresAt}
	if out.Fields == nil {
		out.Fields = []string{}
	}
	if e.State == vault.EntryDone {
		out.SecretID, out.Version, out.DoneBy = e.SecretID, e.Version, e.DoneBy
		done := e.DoneAt
		out.DoneAt = &done
		for _, f := range e.Fields {
			out.References = append(out.References, "${secret."+e.SecretID+"."+f+"}")
		}
	}
	return out, nil
}

func (s *Server) createEntry(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.CreateEntryRequest](r, p, vault.RoleWrite)
	if err != nil {
		return err
	}
	collID, envID, err := s.target(r, p, req.Collection, req.Environment, true)
	if err != nil {
		return err
	}
	if req.ExpiresIn < 0 || time.Duration(req.ExpiresIn)*time.Second > vault.MaxEntryLifetime {
		return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: fmt.Sprintf("expires_in is a number of seconds from %d to %d", int(vault.MinEntryLifetime.Seconds()), int(vault.MaxEntryLifetime.Seconds()))}
	}
	e, err := s.v.CreateEntry(r.Context(), p.actor, vault.EntryInput{SpaceID: p.key.SpaceID, Collection: collID, Environment: envID, Name: req.Name,
		Type: secret.Type(req.Type), Fields: req.Fields, Message: req.Message, Note: req.Note, Hosts: req.Hosts, Lifetime: time.Duration(req.ExpiresIn) * time.Second})
	if err != nil {
		return err
	}
	out, err := s.toEntry(r, e)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

// mayFill says whether the key may fill e: a write key that may write its secret.
func (p *principal) mayFill(e vault.Entry) error {
	if err := p.need(vault.RoleWrite); err != nil {
		return err
	}
	return p.reach(e.CollectionID, e.EnvironmentID, true)
}

// entryFor returns the entry of the URL if the key asked for it, or may fill it: it is
// answered as missing to any other key.
func (s *Server) entryFor(r *http.Request, p *principal) (vault.Entry, error) {
	id := r.PathValue("id")
	e, err := s.v.Entry(r.Context(), p.key.SpaceID, id)
	if err != nil {
		return e, err
	}
	if e.CreatedByKeyID == p.key.ID {
		return e, nil
	}
	if err := p.mayFill(e); err != nil {
		return e, &outOfReach{reason: fmt.Sprintf("key %s neither asked for entry %s nor may write its secret: %v", p.key.Name, id, err), answer: notFound("entry %s", id)}
	}
	return e, nil
}

func (s *Server) listEntries(w http.ResponseWriter, r *http.Request, p *principal) error {
	entries, err := s.v.Entries(r.Context(), p.key.SpaceID)
	if err != nil {
		return err
	}
	out := api.EntryList{Entries: []api.Entry{}}
	for _, e := range entries {
		if e.CreatedByKeyID != p.key.ID && p.mayFill(e) != nil {
			continue
		}
		ae, err := s.toEntry(r, e)
		if err != nil {
			return err
		}
		out.Entries = append(out.Entries, ae)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getEntry(w http.ResponseWriter, r *http.Request, p *principal) error {
	wait := 0
	if q := r.URL.Query().Get("wait"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 || time.Duration(n)*time.Second > vault.MaxEntryWait {
			return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: fmt.Sprintf("wait is a number of seconds from 0 to %d", int(vault.MaxEntryWait.Seconds()))}
		}
		wait = n
	}
	e, err := s.entryFor(r, p)
	if err != nil {
		return err
	}
	if wait > 0 {
		// The wait may outlast the server's write timeout: this answer gets its own.
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Duration(wait)*time.Second + 10*time.Second)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		if !s.waits.take(p.key.ID) {
			return &api.Error{Status: http.StatusTooManyRequests, Code: api.CodeTooMany, Message: fmt.Sprintf("this key already waits on %d entries: wait on one at a time, or ask again without wait", maxWaitsPerKey)}
		}
		defer s.waits.give(p.key.ID)
		if e, err = s.v.WaitEntry(r.Context(), p.key.SpaceID, e.ID, time.Duration(wait)*time.Second); err != nil {
			return err
		}
	}
	out, err := s.toEntry(r, e)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) fillEntry(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.FillEntryRequest](r, p, vault.RoleWrite)
	if err != nil {
		return err
	}
	e, err := s.v.Entry(r.Context(), p.key.SpaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.mayFill(e); err != nil {
		if e.CreatedByKeyID == p.key.ID {
			return err // the asker sees the entry: a plain refusal
		}
		return hideAs(err, notFound("entry %s", e.ID))
	}
	if err := s.mayReference(r, p, req.Fields); err != nil {
		return err
	}
	done, err := s.v.FillEntry(r.Context(), p.actor, p.key.SpaceID, e.ID, req.Fields)
	if err != nil {
		return err
	}
	out, err := s.toEntry(r, done)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) cancelEntry(w http.ResponseWriter, r *http.Request, p *principal) error {
	e, err := s.entryFor(r, p)
	if err != nil {
		return err
	}
	// The asker cancels its own; others, an admin that reaches the secret.
	if e.CreatedByKeyID != p.key.ID {
		if err := p.need(vault.RoleAdmin); err != nil {
			return err
		}
	}
	if err := s.v.CancelEntry(r.Context(), p.actor, p.key.SpaceID, e.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxWaitsPerKey bounds the waits one key may hold open at once: each polls the store, so
// a key's waits are a load it must not be able to grow without end. An assistant waits on
// one entry at a time; a person's terminal on one more.
const maxWaitsPerKey = 4

// entryWaits counts the waits each key holds open.
type entryWaits struct {
	mu    sync.Mutex
	byKey map[string]int
}

func (w *entryWaits) take(keyID string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byKey[keyID] >= maxWaitsPerKey {
		return false
	}
	if w.byKey == nil {
		w.byKey = make(map[string]int)
	}
	w.byKey[keyID]++
	return true
}

func (w *entryWaits) give(keyID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byKey[keyID]--; w.byKey[keyID] <= 0 {
		delete(w.byKey, keyID)
	}
}
