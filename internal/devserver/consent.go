package devserver

import (
	"errors"
	"html/template"
	"net/http"
)

// consentPage is the verification URI's page: MAS's /link, reduced to one
// form (the dev account is always signed in). The user types the user code
// the new device shows and approves or denies (MSC4108 step 5).
var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Link a device – qrlogin development server</title>
<style>
body { font-family: sans-serif; max-width: 28em; margin: 3em auto; padding: 0 1em; }
input[name=user_code] { font-size: 1.6em; letter-spacing: .2em; width: 8em; text-transform: uppercase; }
button { font-size: 1.1em; margin: 1em .5em 0 0; }
.error { color: #b00020; }
.ok { color: #006400; }
</style>
</head>
<body>
<h1>Link a device</h1>
<p>Signed in as <strong>{{.UserID}}</strong>.</p>
{{if .Message}}<p id="message" class="{{if .Failed}}error{{else}}ok{{end}}">{{.Message}}</p>{{end}}
{{if not .Done}}
<form method="post" action="{{.Action}}">
<p><label for="user_code">Enter the code shown on the device you are signing in:</label></p>
<p><input id="user_code" name="user_code" value="{{.UserCode}}" autocomplete="off" autofocus required maxlength="16"></p>
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>
{{end}}
</body>
</html>
`))

type consentView struct {
	UserID   string
	Action   string
	UserCode string
	Message  string
	Failed   bool
	Done     bool
}

func (s *Server) renderConsent(w http.ResponseWriter, status int, v consentView) {
	v.UserID = s.UserID()
	v.Action = pathConsent
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.WriteHeader(status)
	_ = consentPage.Execute(w, v)
}

// handleConsentPage: GET shows the form. ?code= pre-fills it only when
// verification_uri_complete is enabled; MAS ignores it otherwise
// (docs/protocol-divergences.md "Device authorization").
func (s *Server) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	v := consentView{}
	if s.cfg.VerificationURIComplete {
		v.UserCode = normaliseUserCode(r.URL.Query().Get("code"))
	}
	s.renderConsent(w, http.StatusOK, v)
}

// handleConsentSubmit: POST approves or denies the grant of the typed code.
func (s *Server) handleConsentSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.renderConsent(w, http.StatusBadRequest, consentView{Message: "The form could not be read.", Failed: true})
		return
	}
	code := normaliseUserCode(r.PostForm.Get("user_code"))
	var approve bool
	switch r.PostForm.Get("action") {
	case "approve":
		approve = true
	case "deny":
	default:
		s.renderConsent(w, http.StatusBadRequest, consentView{UserCode: code, Message: "Choose Approve or Deny.", Failed: true})
		return
	}
	err := s.decide(code, approve)
	var msg string
	switch {
	case err == nil && approve:
		s.renderConsent(w, http.StatusOK, consentView{Message: "Device approved. You can close this page; the device signs in now.", Done: true})
		return
	case err == nil:
		s.renderConsent(w, http.StatusOK, consentView{Message: "Request denied. The device will not be signed in.", Done: true})
		return
	case errors.Is(err, ErrUnknownUserCode):
		msg = "No sign-in request has the code " + code + ". Check the code on the device and try again."
	case errors.Is(err, ErrGrantExpired):
		msg = "The code " + code + " has expired. Start again on the device."
	case errors.Is(err, ErrGrantDecided):
		msg = "The request with code " + code + " was already approved or denied."
	case errors.Is(err, ErrInvalidScope):
		msg = "The device asked for access the server's policy does not allow: " + err.Error()
	default:
		msg = "The request could not be completed."
	}
	s.renderConsent(w, http.StatusBadRequest, consentView{UserCode: code, Message: msg, Failed: true})
}
