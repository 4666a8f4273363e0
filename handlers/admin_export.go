package handlers

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// exportFlushEvery is how many rows go out per flush, so the download starts
// at once and memory holds one batch whatever the number of registrations.
const exportFlushEvery = 500

// exportPanelRegistrants downloads a panel's registrants as CSV, with the
// list's filter.
func (h *Handlers) exportPanelRegistrants(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	return h.streamCSV(c, registrantQuery(c, p.ID, 0), p.Questions, fmt.Sprintf("%s-registrants.csv", p.Slug),
		fmt.Sprintf("panel %d (%s)", p.ID, p.Slug))
}

// exportSessionRegistrants downloads one session's registrants as CSV.
func (h *Handlers) exportSessionRegistrants(c *fiber.Ctx) error {
	p, s, err := h.adminSession(c)
	if err != nil {
		return err
	}
	return h.streamCSV(c, registrantQuery(c, 0, s.ID), p.Questions,
		fmt.Sprintf("%s-%s-registrants.csv", p.Slug, s.StartsAt.In(s.Location()).Format("2006-01-02-1504")),
		fmt.Sprintf("session %d of panel %d (%s)", s.ID, p.ID, p.Slug))
}

// streamCSV writes the export row by row as the database yields it: UTF-8
// with a byte order mark (so Excel reads it as UTF-8), RFC 4180 with CRLF,
// one column per field and per custom question, formulas neutralised by
// views.CSVExport. The stream runs after the handler returns, so it uses
// only copied values, never c. Once sent, the export is written to the
// audit log with its rows (subject says what was exported).
func (h *Handlers) streamCSV(c *fiber.Ctx, q models.RegistrantQuery, questions []models.Question, filename, subject string) error {
	// Checked before the answer starts: once rows stream, a refusal could
	// only cut the file short under a 200.
	if err := q.Validate(); err != nil {
		return err
	}
	ctx := context.WithoutCancel(c.UserContext())
	store, log := h.store, h.log
	acc := currentAccount(c)
	setPrivateHeaders(c)
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		export := views.NewCSVExport(questions)
		out := csv.NewWriter(w)
		out.UseCRLF = true
		_, _ = w.WriteString(views.CSVBOM)
		_ = out.Write(export.Header())
		rows := 0
		err := store.StreamRegistrants(ctx, q, func(r *models.Registration) error {
			if err := out.Write(export.Row(r)); err != nil {
				return err
			}
			if rows++; rows%exportFlushEvery == 0 {
				out.Flush()
				if err := out.Error(); err != nil {
					return err
				}
				return w.Flush() // fails once the client has gone
			}
			return nil
		})
		out.Flush()
		if err != nil {
			log.Error("csv export stopped", "rows", rows, "err", err)
			subject += ", cut short"
		}
		h.audit(ctx, acc, models.ChannelAdmin, models.AuditRegistrantsExported, subject, rows)
	})
	return nil
}
