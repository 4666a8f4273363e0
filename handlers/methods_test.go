package handlers

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"podium/models"
)

// A known path asked with a method it does not answer is 405 with Allow;
// an unknown path is 404 whatever the method.
func TestWrongMethod_OnAKnownPathIs405WithAllow(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "methods", models.Session{Capacity: 5})
	cases := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodPost, "/panels/methods", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, "/PANELS/methods", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodGet, "/panels/methods/register", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPut, "/healthz", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPost, "/panels/methods/sessions/1.ics", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodGet, "/panels/methods/sessions/1.txt", http.StatusNotFound, ""},
		{http.MethodDelete, "/no-such-page", http.StatusNotFound, ""},
		{http.MethodPost, "/public/css/podium.css", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodGet, "/panels/methods", http.StatusOK, ""},
	}
	for _, c := range cases {
		resp, err := env.app.Test(httptest.NewRequest(c.method, c.path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s = %d, Allow %q; want %d, Allow %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), c.status, c.allow)
		}
	}
}
