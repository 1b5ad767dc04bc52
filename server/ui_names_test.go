package server

import "github.com/kazzle/kazzle/server/ui"

// The admin UI's tests here drive it as New mounts it, beside the API.
var csrfToken = ui.CSRFToken

const uiCSP = ui.CSP
