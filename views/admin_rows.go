package views

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Repeated rows (speakers, questions) are ordered without JavaScript: each
// row has a position number the organizer can change, and empty or removed
// rows are dropped when the form is read.

// orderRows keeps the rows keep accepts and orders them by their typed
// position; rows without a valid number follow the numbered ones in the
// order they came. renumber then gives each its new position, 1, 2, 3.
func orderRows[T any](rows []T, keep func(T) bool, position func(T) string, renumber func(*T, string)) []T {
	type row struct {
		value T
		pos   int
	}
	var kept []row
	for _, r := range rows {
		if !keep(r) {
			continue
		}
		pos, err := strconv.Atoi(strings.TrimSpace(position(r)))
		if err != nil || pos < 1 {
			pos = 1 << 30
		}
		kept = append(kept, row{r, pos})
	}
	slices.SortStableFunc(kept, func(a, b row) int { return cmp.Compare(a.pos, b.pos) })
	out := make([]T, len(kept))
	for i, r := range kept {
		out[i] = r.value
		renumber(&out[i], strconv.Itoa(i+1))
	}
	return out
}

// rowFields names the controls of row i of a repeated group ("speakers[2].name").
type rowFields struct {
	group string
	index int
	errs  map[string]string
}

func (r rowFields) key(field string) string {
	return r.group + "[" + strconv.Itoa(r.index) + "]." + field
}

func (r rowFields) field(name, label, typ, value string) Field {
	f := newField(r.key(name), label, typ, value, r.errs)
	f.Quiet = true
	return f
}

// position is the row's order control; a blank row gets the next number.
func (r rowFields) position(value string, filled bool) Field {
	if !filled {
		value = strconv.Itoa(r.index + 1)
	}
	f := r.field("position", "Position (1 is first)", "number", value)
	f.Min = "1"
	return f
}

// remove is the "remove this row" checkbox a filled row offers.
func (r rowFields) remove(label, hint string) *Field {
	f := r.field("remove", label, "checkbox", "")
	f.Hint = hint
	return &f
}
