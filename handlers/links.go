package handlers

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// openJoinLink answers GET /j/{token}, a registrant's personal join link:
// a 303 to the session's join URL (then to the replay), recording the join.
func (h *Handlers) openJoinLink(c *fiber.Ctx) error {
	return h.followLink(c, h.store.OpenJoinLink)
}

// openWatchLink answers GET /w/{token}, a personal replay link: a 303 to
// the recording, recording the view.
func (h *Handlers) openWatchLink(c *fiber.Ctx) error {
	return h.followLink(c, h.store.OpenWatchLink)
}

// followLink redirects to where a personal link leads, or explains why it
// does not. A HEAD (a link checker's) is answered without being recorded.
func (h *Handlers) followLink(c *fiber.Ctx, open func(ctx context.Context, token string, record bool) (*models.Visit, error)) error {
	visit, err := open(c.UserContext(), strings.Clone(c.Params("token")), c.Method() == fiber.MethodGet)
	if err != nil {
		return err
	}
	setPrivateHeaders(c)
	if visit.Outcome == models.VisitRedirect {
		return c.Redirect(visit.URL, fiber.StatusSeeOther)
	}
	status, page := views.NewVisitPage(visit)
	return h.render(c.Status(status), views.PageMessage, page)
}
