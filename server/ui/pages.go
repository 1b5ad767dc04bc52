package ui

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

type uiCollection struct {
	api.Collection
	Environments []api.Environment
}

func (u *UI) uiHome(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	colls, err := sess.client.Collections(r.Context())
	if err != nil {
		return err
	}
	var out []uiCollection
	for _, c := range colls {
		envs, err := sess.client.Environments(r.Context(), c.Slug)
		if err != nil {
			return err
		}
		out = append(out, uiCollection{Collection: c, Environments: envs})
	}
	sess.page.Title, sess.page.Data = "Collections", out
	return u.render(w, http.StatusOK, "collections", sess.page)
}

// uiSecret is a row of the secrets table: masked previews only.
type uiSecret struct {
	api.Secret
	Previews []uiField
}

type uiField struct{ Name, Preview string }

func previews(s api.Secret) []uiField {
	var out []uiField
	if !s.Masked { // never show what is not a masked preview
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(s.Fields)) {
		out = append(out, uiField{Name: name, Preview: s.Fields[name]})
	}
	return out
}

type uiSecretsData struct {
	Collection   string
	Environment  string
	Environments []api.Environment
	Secrets      []uiSecret
}

func (u *UI) uiSecrets(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	coll, env := r.PathValue("collection"), r.URL.Query().Get("env")
	envs, err := sess.client.Environments(r.Context(), coll)
	if err != nil {
		return err
	}
	secrets, err := sess.client.Secrets(r.Context(), coll, env)
	if err != nil {
		return err
	}
	data := uiSecretsData{Collection: coll, Environment: env, Environments: envs}
	for _, sec := range secrets {
		data.Secrets = append(data.Secrets, uiSecret{Secret: sec, Previews: previews(sec)})
	}
	sess.page.Title, sess.page.Data = coll, data
	return u.render(w, http.StatusOK, "secrets", sess.page)
}

// uiFormData is the add and edit form: field inputs, never pre-filled.
type uiFormData struct {
	Collection   string
	Environments []api.Environment
	Types        []string
	Type         string
	Required     []string
	Optional     []string
	Secret       *api.Secret // the secret edited; nil when adding
	Name, Env    string      // what was typed, shown again after a refusal
	Note         string
	Hosts        string // the hosts entries, comma-separated
}

// formHosts reads the hosts input: entries split by commas or white space; none (an
// empty list, never nil, so that an update clears them) leaves a secret unbound.
func formHosts(r *http.Request) []string {
	return append([]string{}, strings.FieldsFunc(r.PostFormValue("hosts"), func(c rune) bool { return c == ',' || unicode.IsSpace(c) })...)
}

// mayWiden refuses, as a problem to show in the form, hosts that a key without the admin
// role could not set on sec: wider than its current ones. The API refuses them too; this
// keeps the form and what was typed.
func mayWiden(sess *uiSession, sec api.Secret, entries []string) string {
	if sess.key.Role == vault.RoleAdmin {
		return ""
	}
	next, err := secret.ParseHosts(entries)
	if err != nil {
		return "" // the API names the entry
	}
	cur, _ := secret.ParseHosts(sec.Hosts)
	if cur != nil && !next.Within(cur) {
		return "widening a secret's hosts needs an admin key; key " + sess.key.Name + " is " + string(sess.key.Role)
	}
	return ""
}

var uiTypes = []string{string(secret.TypeString), string(secret.TypeLogin), string(secret.TypeGit), string(secret.TypeTOTP)}

func fieldsForm(typ string) (required, optional []string, err error) {
	t := secret.Type(typ)
	if !t.Valid() {
		return nil, nil, &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "unknown secret type " + strconv.Quote(typ) + ": use string, login, git or totp"}
	}
	required, optional = t.StoredFields()
	return required, optional, nil
}

// mayChange refuses the add, edit and delete forms to a key that could not send them,
// as the API refuses their posts: a read-only key, or one that may not change the
// secret of the URL. The refusal is audited like the API's.
func (u *UI) mayChange(r *http.Request, sess *uiSession) error {
	return u.api.MayChange(r, sess.key)
}

func (u *UI) uiNewSecretForm(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	if err := u.mayChange(r, sess); err != nil {
		return err
	}
	typ := r.URL.Query().Get("type")
	if typ == "" {
		typ = string(secret.TypeString)
	}
	return u.renderForm(w, r, sess, http.StatusOK, uiFormData{Collection: r.PathValue("collection"), Type: typ, Env: r.URL.Query().Get("env")}, "")
}

func (u *UI) renderForm(w http.ResponseWriter, r *http.Request, sess *uiSession, status int, d uiFormData, problem string) error {
	var err error
	if d.Required, d.Optional, err = fieldsForm(d.Type); err != nil {
		return err
	}
	d.Types = uiTypes
	if d.Secret == nil {
		if d.Environments, err = sess.client.Environments(r.Context(), d.Collection); err != nil {
			return err
		}
		sess.page.Title = "Add a secret to " + d.Collection
	} else {
		sess.page.Title = "Edit " + d.Secret.Name
	}
	sess.page.Data, sess.page.Error = d, problem
	return u.render(w, status, "secretform", sess.page)
}

// formFields reads the field inputs of a type from a form: required ones must be there,
// empty optional ones are left out.
func formFields(r *http.Request, typ string) (map[string]string, error) {
	required, optional, err := fieldsForm(typ)
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for _, f := range required {
		v := r.PostFormValue("field_" + f)
		if v == "" {
			return nil, &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "enter the " + f + ": a " + typ + " secret needs " + strings.Join(required, " and ")}
		}
		fields[f] = v
	}
	for _, f := range optional {
		if v := r.PostFormValue("field_" + f); v != "" {
			fields[f] = v
		}
	}
	return fields, nil
}

// formProblem turns a refusal into a message for the form, or returns err when it is not
// the person's to fix.
func formProblem(err error) (string, error) {
	var ae *api.Error
	if errors.As(err, &ae) && ae.Status < 500 && ae.Status != http.StatusForbidden && ae.Status != http.StatusUnauthorized {
		return ae.Message, nil
	}
	return "", err
}

func (u *UI) uiNewSecret(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	coll, typ := r.PathValue("collection"), r.PostFormValue("type")
	d := uiFormData{Collection: coll, Type: typ, Name: r.PostFormValue("name"), Env: r.PostFormValue("environment"), Note: r.PostFormValue("note"), Hosts: r.PostFormValue("hosts")}
	fields, err := formFields(r, typ)
	if err == nil {
		_, err = sess.client.CreateSecret(r.Context(), api.CreateSecretRequest{Collection: coll, Environment: d.Env, Name: d.Name, Type: typ, Note: d.Note, Fields: fields, Hosts: formHosts(r)})
	}
	if err != nil {
		problem, err := formProblem(err)
		if err != nil {
			return err
		}
		return u.renderForm(w, r, sess, http.StatusBadRequest, d, problem)
	}
	http.Redirect(w, r, "/ui/collections/"+url.PathEscape(coll)+"?env="+url.QueryEscape(d.Env), http.StatusSeeOther)
	return nil
}

func (u *UI) uiEditSecretForm(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	if err := u.mayChange(r, sess); err != nil {
		return err
	}
	sec, err := sess.client.Secret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return u.renderForm(w, r, sess, http.StatusOK, uiFormData{Collection: sec.Collection, Type: sec.Type, Secret: &sec, Note: sec.Note, Hosts: strings.Join(sec.Hosts, ", ")}, "")
}

// uiEditSecret writes a new version. Every required field is entered again: the UI
// never holds a value to keep.
func (u *UI) uiEditSecret(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	sec, err := sess.client.Secret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	note := r.PostFormValue("note")
	hosts := formHosts(r)
	d := uiFormData{Collection: sec.Collection, Type: sec.Type, Secret: &sec, Note: note, Hosts: r.PostFormValue("hosts")}
	if problem := mayWiden(sess, sec, hosts); problem != "" {
		return u.renderForm(w, r, sess, http.StatusForbidden, d, problem)
	}
	fields, err := formFields(r, sec.Type)
	if err == nil {
		_, err = sess.client.UpdateSecret(r.Context(), sec.ID, api.UpdateSecretRequest{Version: version, Fields: fields, Note: &note, Hosts: &hosts})
	}
	if err != nil {
		problem, err := formProblem(err)
		if err != nil {
			return err
		}
		return u.renderForm(w, r, sess, http.StatusBadRequest, d, problem)
	}
	http.Redirect(w, r, "/ui/collections/"+url.PathEscape(sec.Collection)+"?env="+url.QueryEscape(sec.Environment), http.StatusSeeOther)
	return nil
}

func (u *UI) uiDeleteSecretForm(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	if err := u.mayChange(r, sess); err != nil {
		return err
	}
	sec, err := sess.client.Secret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	sess.page.Title, sess.page.Data = "Delete "+sec.Name, uiSecret{Secret: sec, Previews: previews(sec)}
	return u.render(w, http.StatusOK, "delete", sess.page)
}

func (u *UI) uiDeleteSecret(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	sec, err := sess.client.Secret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if err := sess.client.DeleteSecret(r.Context(), sec.ID, version); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/collections/"+url.PathEscape(sec.Collection)+"?env="+url.QueryEscape(sec.Environment), http.StatusSeeOther)
	return nil
}

type uiVersionsData struct {
	Secret   api.Secret
	Previews []uiField
	Versions []api.Version
}

func (u *UI) uiVersions(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	sec, err := sess.client.Secret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	versions, err := sess.client.History(r.Context(), sec.ID)
	if err != nil {
		return err
	}
	sess.page.Title, sess.page.Data = "Versions of "+sec.Name, uiVersionsData{Secret: sec, Previews: previews(sec), Versions: versions}
	return u.render(w, http.StatusOK, "versions", sess.page)
}

type uiAuditData struct {
	Action, Since string
	Limit         int
	Events        []api.AuditEvent
}

func (u *UI) uiAudit(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	q := r.URL.Query()
	d := uiAuditData{Action: q.Get("action"), Since: q.Get("since"), Limit: 100}
	aq := api.AuditQuery{Action: d.Action, Limit: d.Limit}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		d.Limit, aq.Limit = n, n
	}
	if d.Since != "" {
		t, err := time.Parse("2006-01-02T15:04", d.Since)
		if err != nil {
			t, err = time.Parse(time.RFC3339, d.Since)
		}
		if err != nil {
			return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "since must be a time like 2026-11-23T10:00"}
		}
		aq.Since = t
	}
	events, err := sess.client.Audit(r.Context(), aq)
	if err != nil {
		return err
	}
	d.Events = events
	sess.page.Title, sess.page.Data = "Audit trail", d
	return u.render(w, http.StatusOK, "audit", sess.page)
}
