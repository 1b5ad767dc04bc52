package mcp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
)

// A person enters a value where the model cannot see it: kazzle mcp makes a one-time
// entry on the server, whose page asks for a sign-in and takes the value, and asks the
// client to open the page by URL-mode elicitation (and opens it itself when it can).
// The value goes from the browser to the server, never through kazzle mcp's results.

const (
	// maxEntryWait is how long one call waits for a person to fill an entry.
	maxEntryWait = 60 * time.Second
	// progressEvery is how often a wait tells a client that asked for progress.
	progressEvery = 10 * time.Second
	// elicitationKey names the input request of an entry in a call's input requests.
	elicitationKey = "entry"
)

// entries is what kazzle mcp keeps of the entries it made: a key to MAC the request
// state a client echoes, and what each entry's result should say beyond what the entry
// tells (lengths of generated values, the components that declare the secret).
type entries struct {
	key []byte

	mu      sync.Mutex
	pending map[string]writeOutput
}

func newEntries() *entries {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err)) // crypto/rand does not fail on supported systems
	}
	return &entries{key: key, pending: map[string]writeOutput{}}
}

// state is the request state of an entry's elicitation: its id, MAC'd with the process's
// key, so that a retry names only an entry this process asked for.
func (es *entries) state(id string) string {
	return id + "." + base64.RawURLEncoding.EncodeToString(es.mac(id))
}

func (es *entries) mac(id string) []byte {
	m := hmac.New(sha256.New, es.key)
	m.Write([]byte("kazzle mcp entry state\x00" + id))
	return m.Sum(nil)
}

// entryOf returns the entry id of a request state, or an error if this process did not
// make it.
func (es *entries) entryOf(state string) (string, error) {
	id, tag, ok := strings.Cut(state, ".")
	sum, err := base64.RawURLEncoding.DecodeString(tag)
	if !ok || err != nil || !hmac.Equal(sum, es.mac(id)) {
		return "", errors.New("the request state is not one this kazzle mcp made: call the tool again without it")
	}
	return id, nil
}

func (es *entries) remember(id string, out writeOutput) {
	es.mu.Lock()
	defer es.mu.Unlock()
	es.pending[id] = out
}

func (es *entries) recall(id string) (writeOutput, bool) {
	es.mu.Lock()
	defer es.mu.Unlock()
	out, ok := es.pending[id]
	return out, ok
}

// link is the page of an entry.
func (t *tools) link(e api.Entry) string { return strings.TrimSuffix(t.o.ServerURL, "/") + e.Path }

// askPerson asks the person for the values of entry e: it opens the page on this machine
// when it can, and asks the client to by URL elicitation when the client declares it;
// else the result holds the link and what to do.
func (t *tools) askPerson(ctx context.Context, req *sdk.CallToolRequest, e api.Entry, out writeOutput) (*sdk.CallToolResult, writeOutput, error) {
	link := t.link(e)
	out.Entry, out.Link, out.Status = e.ID, link, api.EntryPending
	expires := e.ExpiresAt
	out.ExpiresAt = &expires
	t.entries.remember(e.ID, out)
	opened := false
	if t.o.OpenURL != nil {
		opened = t.o.OpenURL(link) == nil
	}
	if caps := req.ClientCapabilities(); caps != nil && caps.Elicitation != nil && caps.Elicitation.URL != nil {
		where := strings.TrimSuffix(e.Collection+"/"+e.Environment, "/")
		msg := fmt.Sprintf("kazzle asks you to enter %s (%s) of %s in %s on the kazzle server's page: sign in there with a key that may write it. The assistant never sees what you type.",
			strings.Join(e.Fields, ", "), e.Type, e.Name, where)
		return &sdk.CallToolResult{
			InputRequests: sdk.InputRequestMap{elicitationKey: &sdk.ElicitParams{Mode: "url", Message: msg, URL: link, ElicitationID: e.ID}},
			RequestState:  t.entries.state(e.ID),
		}, writeOutput{}, nil
	}
	out.Next = "Give the user this link: on that page they sign in with a kazzle key that may write the secret and type " + strings.Join(e.Fields, ", ") +
		"; you never see it. Then call await_entry with entry " + e.ID + ". The link works until " + e.ExpiresAt.UTC().Format(time.RFC3339) + "."
	if opened {
		out.Next = "kazzle opened the page in the user's browser. " + out.Next
	}
	return nil, out, nil
}

// resume is the retry of a call that asked for an elicitation: it waits for the entry
// its request state names.
func (t *tools) resume(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, writeOutput, error) {
	id, err := t.entries.entryOf(req.Params.RequestState)
	if err != nil {
		return nil, writeOutput{}, err
	}
	if r, ok := req.Params.InputResponses[elicitationKey].(*sdk.ElicitResult); ok && r.Action != "accept" {
		// The person will not open the page: nothing waits for it.
		if err := t.o.Client.CancelEntry(ctx, id); err != nil {
			return nil, writeOutput{}, fmt.Errorf("the person declined to open the entry's page; cancelling the entry: %w", err)
		}
		out, _ := t.entries.recall(id)
		out.Status, out.Next = "declined", "The person declined to open the page; the entry is cancelled and stored nothing. Ask them how they want to provide the value."
		return nil, out, nil
	}
	out, err := t.await(ctx, req, id, maxEntryWait)
	return nil, out, err
}

type awaitEntryInput struct {
	Entry       string `json:"entry" jsonschema:"the entry's id, as create_secret or update_secret gave it"`
	WaitSeconds int    `json:"wait_seconds,omitempty" jsonschema:"how long to wait for the person, at most 60 (the default)"`
}

func (t *tools) awaitEntry(ctx context.Context, req *sdk.CallToolRequest, in awaitEntryInput) (*sdk.CallToolResult, writeOutput, error) {
	if in.WaitSeconds < 0 || in.WaitSeconds > int(maxEntryWait/time.Second) {
		return nil, writeOutput{}, fmt.Errorf("wait_seconds is from 0 to %d", int(maxEntryWait/time.Second))
	}
	wait := maxEntryWait
	if in.WaitSeconds > 0 {
		wait = time.Duration(in.WaitSeconds) * time.Second
	}
	out, err := t.await(ctx, req, in.Entry, wait)
	return nil, out, err
}

// await waits at most wait for entry id to be filled, telling a client that asked for
// progress every progressEvery, and returns where it stands.
func (t *tools) await(ctx context.Context, req *sdk.CallToolRequest, id string, wait time.Duration) (writeOutput, error) {
	token := req.Params.GetProgressToken()
	start := time.Now()
	var e api.Entry
	var err error
	for {
		step := min(progressEvery, wait-time.Since(start))
		if e, err = t.o.Client.WaitEntry(ctx, id, max(step, 0)); err != nil {
			return writeOutput{}, fmt.Errorf("entry %s: %w", secret.Excerpt(id), err)
		}
		if e.Status != api.EntryPending || time.Since(start) >= wait-time.Second/2 || ctx.Err() != nil {
			break
		}
		if token != nil && req.Session != nil {
			// Names and times only.
			_ = req.Session.NotifyProgress(ctx, &sdk.ProgressNotificationParams{ProgressToken: token,
				Progress: time.Since(start).Seconds(), Total: wait.Seconds(),
				Message: fmt.Sprintf("waiting for a person to enter %s of %s", strings.Join(e.Fields, ", "), e.Name)})
		}
	}
	out, ok := t.entries.recall(id)
	if !ok {
		out = writeOutput{Name: e.Name, Collection: e.Collection, Environment: e.Environment, Type: e.Type, Hosts: e.Hosts}
	}
	out.Entry, out.Link, out.Status = e.ID, t.link(e), e.Status
	expires := e.ExpiresAt
	out.ExpiresAt = &expires
	switch e.Status {
	case api.EntryPending:
		out.Next = "The person has not entered it yet: call await_entry with entry " + e.ID + " to wait again, or give the user the link."
		return out, nil
	case api.EntryExpired, api.EntryCancelled:
		out.Next = "The entry is " + e.Status + " and stored nothing; make a new one if the value is still needed."
		return out, nil
	}
	// Done: what it stored, measured, its values scrubbed from now on.
	s, err := t.o.Client.Secret(ctx, e.SecretID)
	if err != nil {
		return writeOutput{}, fmt.Errorf("the entry stored %s; reading it: %w", e.Name, err)
	}
	out.Status, out.ID, out.Version, out.Hosts, out.References = "stored", s.ID, e.Version, s.Hosts, references(s)
	out.Link, out.ExpiresAt = "", nil
	if out.Lengths == nil {
		out.Lengths = map[string]int{}
	}
	if len(e.References) > 0 {
		resp, err := t.o.Client.Templates(ctx, e.References)
		if err != nil {
			return writeOutput{}, fmt.Errorf("the entry stored %s; measuring it: %w", e.Name, err)
		}
		if err := t.scrub.use(resp.Used); err != nil {
			return writeOutput{}, err
		}
		for i, f := range e.Fields {
			if i < len(resp.Values) {
				out.Lengths[f] = utf8.RuneCountInString(resp.Values[i])
			}
		}
	}
	t.scrub.expire()
	return out, nil
}
