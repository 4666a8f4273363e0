// Package views renders Podium's pages (and, later, its emails and calendar
// files) from typed data. Templates are embedded and parsed once at start-up.
package views

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"net/http"

	"github.com/gofiber/template/html/v2"

	"podium/models"
)

//go:embed templates
var templateFiles embed.FS

// NewEngine parses every embedded template, failing at start-up rather than
// on the first request if one is broken. Pages include the "head" and "foot"
// partials themselves instead of using the engine's layouts, whose rendering
// takes a global lock.
//
// asset gives the URL a template links an embedded file by ("css/podium.css"):
// the server's content-hashed one, so browsers may cache it for good.
func NewEngine(asset func(name string) string) (*html.Engine, error) {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	engine := html.NewFileSystem(http.FS(sub), ".html")
	engine.AddFunc("field", newTextField)
	engine.AddFunc("asset", asset)
	if err := engine.Load(); err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	// html/template escapes a template on its first execution; the engine
	// executes copies of each template, so concurrent first renders would
	// escape the shared tree at once. Executing each once here, before any
	// request, does the escaping up front (the nil data may fail execution,
	// which is fine: escaping happens before it).
	for _, t := range engine.Templates.Templates() {
		_ = t.Execute(io.Discard, nil)
	}
	return engine, nil
}

// Page names, so handlers cannot misspell a template.
const (
	PageIndex        = "pages/index"
	PagePanel        = "pages/panel"
	PageRegistration = "pages/registration"
	PageMessage      = "pages/message"
	// PageErase is the confirmation step of "Delete my data".
	PageErase = "pages/erase"
)

// TextField is the data of the "text_field" partial.
type TextField struct {
	Name, Label, Type, Autocomplete, Value, Error string
	Required                                      bool
	MaxLength                                     int
}

// fieldMaxLength mirrors the models' limits in the form's maxlength.
var fieldMaxLength = map[string]int{
	"name": models.MaxNameLength, "email": models.MaxEmailLength,
	"organisation": models.MaxOrgLength, "job_title": models.MaxOrgLength,
}

func newTextField(name, label, typ, autocomplete, value, errMsg string, required bool) TextField {
	return TextField{Name: name, Label: label, Type: typ, Autocomplete: autocomplete, Value: value,
		Error: errMsg, Required: required, MaxLength: fieldMaxLength[name]}
}
