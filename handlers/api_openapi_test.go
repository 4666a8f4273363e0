package handlers

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// openAPIDoc is the part of the OpenAPI document the tests read.
type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

// httpMethods are the keys of a path item that are operations.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func readOpenAPI(t *testing.T, env *testEnv) (openAPIDoc, string) {
	t.Helper()
	r := env.browser(t).get("/api/v1/openapi.json") // no token: it is public
	assertStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	var doc openAPIDoc
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}
	return doc, r.body
}

func TestOpenAPI_IsAnOpenAPI31Document(t *testing.T) {
	doc, raw := readOpenAPI(t, newTestEnv(t))
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q; want 3.1.0", doc.OpenAPI)
	}
	var whole map[string]any
	if err := json.Unmarshal([]byte(raw), &whole); err != nil {
		t.Fatal(err)
	}
	// Every $ref points at something the document defines.
	for _, m := range regexp.MustCompile(`"\$ref": "#/([^"]+)"`).FindAllStringSubmatch(raw, -1) {
		var node any = whole
		for _, part := range strings.Split(m[1], "/") {
			obj, ok := node.(map[string]any)
			if !ok || obj[part] == nil {
				t.Fatalf("$ref #/%s points at nothing", m[1])
			}
			node = obj[part]
		}
	}
}

// The document and the router must agree both ways, so neither can drift.
func TestOpenAPI_DocumentsExactlyTheRoutedAPI(t *testing.T) {
	env := newTestEnv(t)
	doc, _ := readOpenAPI(t, env)
	routed := map[string]bool{}
	for _, route := range env.app.GetRoutes(true) {
		if !strings.HasPrefix(route.Path, "/api/v1/") || route.Method == http.MethodHead {
			continue
		}
		path := regexp.MustCompile(`:([a-z_]+)`).ReplaceAllString(route.Path, "{$1}")
		key := strings.ToLower(route.Method) + " " + path
		routed[key] = true
		if _, ok := doc.Paths[path][strings.ToLower(route.Method)]; !ok {
			t.Errorf("%s %s is routed but not in openapi.json", route.Method, path)
		}
	}
	if !routed["get /api/v1/openapi.json"] || !routed["post /api/v1/panels"] {
		t.Fatalf("routes found = %v; the walk missed the API", routed)
	}
	for path, item := range doc.Paths {
		for method := range item {
			if slices.Contains(httpMethods, method) && !routed[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which is not routed", strings.ToUpper(method), path)
			}
		}
	}
}
