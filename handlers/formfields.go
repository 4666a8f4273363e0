package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// postedForm reads a posted form's repeated fields (rows, ticked boxes,
// answers) whatever its encoding: fasthttp's PostArgs hold an urlencoded
// body only, while c.FormValue also reads multipart, so a form sent as
// multipart would otherwise lose its rows but keep its single fields.
type postedForm struct {
	args  *fasthttp.Args
	multi map[string][]string // a multipart body's fields
}

func posted(c *fiber.Ctx) postedForm {
	if form, err := c.MultipartForm(); err == nil {
		return postedForm{multi: form.Value}
	}
	return postedForm{args: c.Request().PostArgs()}
}

// has says whether the form sent the field.
func (f postedForm) has(key string) bool {
	if f.multi != nil {
		_, ok := f.multi[key]
		return ok
	}
	return f.args.Has(key)
}

// values copies every value of a field, in the order sent.
func (f postedForm) values(key string) []string {
	if f.multi != nil {
		return append([]string(nil), f.multi[key]...)
	}
	var out []string
	for _, v := range f.args.PeekMulti(key) {
		out = append(out, string(v))
	}
	return out
}

// visit calls fn with each field's name: once per occurrence for an
// urlencoded body (a repeated field comes again), once per name, in no
// particular order, for a multipart one.
func (f postedForm) visit(fn func(key string)) {
	if f.multi != nil {
		for key := range f.multi {
			fn(key)
		}
		return
	}
	f.args.VisitAll(func(key, _ []byte) { fn(string(key)) })
}

// rows calls fn with the key prefix of each row of a repeated group
// ("speakers[0].", "speakers[1]."...), while the form has the row's
// position field, up to maxFormRows.
func (f postedForm) rows(group string, fn func(key string)) {
	for i := 0; i < maxFormRows; i++ {
		key := group + "[" + strconv.Itoa(i) + "]."
		if !f.has(key + "position") {
			return
		}
		fn(key)
	}
}
