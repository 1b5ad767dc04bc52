package ui

import (
	"net/http"
	"regexp"

	"github.com/kazzle/kazzle/api"
)

// The page of a one-time entry, /ui/enter/<id>, and the list of pending entries. The
// entry's page reads the entry and stores its values through the API as the signed-in
// key, so a key that may not write the secret is answered as the API answers it: the
// entry is not found.

// entryPath matches the path of an entry's page: where a sign-in may send the browser
// back to, and nowhere else.
var entryPath = regexp.MustCompile(`^/ui/enter/[A-Za-z0-9_-]{16,64}$`)

type uiEnterData struct {
	Entry  api.Entry
	Done   bool
	Closed string // why an entry that is not pending takes no value
	// Current is the secret the fill updates, when the entry sets hosts and it exists:
	// an admin's fill may widen its hosts, and the page shows them.
	Current *api.Secret
}

// entryHeaders: the page's URL names the entry, so no request from it says where it
// came from. Chromium, Firefox and Safari still send Sec-Fetch-Site with its form, which
// the origin check reads first; the Origin header of a no-referrer form post is null.
func entryHeaders(w http.ResponseWriter) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
}

func closedWhy(e api.Entry) string {
	switch e.Status {
	case api.EntryDone:
		return "This entry was filled already" + by(e.DoneBy) + ": it takes one value, once."
	case api.EntryCancelled:
		return "This entry was cancelled: ask for a new one."
	case api.EntryExpired:
		return "This entry expired at " + e.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC") + ": ask for a new one."
	}
	return ""
}

func by(name string) string {
	if name == "" {
		return ""
	}
	return " (by " + name + ")"
}

func (u *UI) renderEnter(w http.ResponseWriter, sess *uiSession, status int, d uiEnterData, problem string) error {
	d.Closed = closedWhy(d.Entry)
	if d.Closed != "" && status == http.StatusOK && !d.Done {
		status = http.StatusGone
	}
	sess.page.Title, sess.page.Data, sess.page.Error = "Enter "+d.Entry.Name, d, problem
	return u.render(w, status, "enter", sess.page)
}

func (u *UI) uiEnterForm(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	entryHeaders(w)
	e, err := sess.client.Entry(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return u.renderEnter(w, sess, http.StatusOK, uiEnterData{Entry: e, Current: currentSecret(r, sess, e)}, "")
}

// currentSecret is the secret an entry that sets hosts would update, nil when there is
// none (or this key cannot list it).
func currentSecret(r *http.Request, sess *uiSession, e api.Entry) *api.Secret {
	if len(e.Hosts) == 0 || e.Status != api.EntryPending {
		return nil
	}
	secrets, err := sess.client.Secrets(r.Context(), e.Collection, e.Environment)
	if err != nil {
		return nil
	}
	for _, s := range secrets {
		if s.Name == e.Name && s.Environment == e.Environment {
			return &s
		}
	}
	return nil
}

// uiEnter stores the values typed into an entry. A value refused (an API key, a field
// left empty) shows the form again, empty: nothing typed is ever sent back.
func (u *UI) uiEnter(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	entryHeaders(w)
	e, err := sess.client.Entry(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if e.Status != api.EntryPending {
		return u.renderEnter(w, sess, http.StatusConflict, uiEnterData{Entry: e}, "")
	}
	fields := map[string]string{}
	for _, f := range e.Fields {
		if v := r.PostFormValue("field_" + f); v != "" {
			fields[f] = v
		}
	}
	done, err := sess.client.FillEntry(r.Context(), e.ID, fields)
	if err != nil {
		problem, err := formProblem(err)
		if err != nil {
			return err
		}
		if again, gerr := sess.client.Entry(r.Context(), e.ID); gerr == nil {
			e = again
		}
		return u.renderEnter(w, sess, http.StatusBadRequest, uiEnterData{Entry: e, Current: currentSecret(r, sess, e)}, problem)
	}
	return u.renderEnter(w, sess, http.StatusOK, uiEnterData{Entry: done, Done: true}, "")
}

func (u *UI) uiEntries(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	entries, err := sess.client.Entries(r.Context())
	if err != nil {
		return err
	}
	sess.page.Title, sess.page.Data = "Entries waiting for a value", entries
	return u.render(w, http.StatusOK, "entries", sess.page)
}

func (u *UI) uiCancelEntry(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	if err := sess.client.CancelEntry(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/entries", http.StatusSeeOther)
	return nil
}

// signInNext is where a sign-in sends the browser: back to the entry page that asked
// for it, else the collections.
func signInNext(next string) string {
	if entryPath.MatchString(next) {
		return next
	}
	return "/ui/"
}
