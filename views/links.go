package views

import (
	"net/http"

	"podium/models"
)

// NewVisitPage explains why a personal join or replay link did not lead to
// the session or its recording, with the status to answer it with.
func NewVisitPage(v *models.Visit) (int, MessagePage) {
	sess := v.Registration.Session
	panel := sess.Panel
	status, heading, message := http.StatusOK, "", ""
	switch v.Outcome {
	case models.VisitCancelled:
		status, heading = http.StatusGone, "Your registration is cancelled"
		message = "This link belonged to a registration for " + panel.Title + " that has been cancelled, so it no longer opens the session."
	case models.VisitSessionCancelled:
		status, heading = http.StatusGone, "This session is cancelled"
		message = "The organiser has cancelled this session of " + panel.Title + "."
	case models.VisitNotYet:
		heading = "The recording is not ready yet"
		message = "The replay of " + panel.Title + " opens here once the session has ended and the recording is available."
	case models.VisitNoPlace:
		status, heading = http.StatusConflict, "No place to join with"
		message = "This registration for " + panel.Title + " has no place in the live session, so there is nothing to join."
	default: // models.VisitEnded
		heading = "This session has ended"
		message = panel.Title + " has ended, and no recording is available."
	}
	return status, MessagePage{
		Page:    Page{Title: heading, Description: message, NoIndex: true},
		Heading: heading, Message: message, LinkURL: PanelURL(panel.Slug), LinkText: "See the event page",
	}
}
