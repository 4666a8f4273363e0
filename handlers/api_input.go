package handlers

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"time"

	"podium/models"
)

// This file holds the API's request bodies: strict decoding types for times,
// answers and PATCH fields, and their conversion to the models' inputs.

// apiTime is a time read as time.Time reads it (strict RFC 3339), but whose
// error is a type error, so the problem names the field and the reason.
type apiTime struct{ time.Time }

// UnmarshalJSON reads an RFC 3339 string.
func (t *apiTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return &json.UnmarshalTypeError{Value: "null", Type: timeType}
	}
	err := t.Time.UnmarshalJSON(b)
	var perr *time.ParseError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &perr) && perr.Message != "":
		return &json.UnmarshalTypeError{Value: strings.TrimPrefix(perr.Message, ": "), Type: timeType}
	case errors.As(err, &perr):
		return &json.UnmarshalTypeError{Value: "not in that format", Type: timeType}
	default:
		return &json.UnmarshalTypeError{Value: "not a string", Type: timeType}
	}
}

func (t *apiTime) ptr() *time.Time {
	if t == nil {
		return nil
	}
	return &t.Time
}

// answerValues is an answer's values: a JSON string, or an array of strings
// for a multiple choice question.
type answerValues []string

var answerValuesType = reflect.TypeFor[answerValues]()

// UnmarshalJSON reads a string or an array of strings.
func (a *answerValues) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = answerValues{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil || many == nil {
		return &json.UnmarshalTypeError{Value: "neither a string nor an array of strings", Type: answerValuesType}
	}
	*a = many
	return nil
}

// patchField is a PATCH field: Set says whether the body named it. Only a
// pointer type takes null (to clear the field).
type patchField[T any] struct {
	Set   bool
	Value T
}

// UnmarshalJSON notes the field was given and reads its value strictly.
func (o *patchField[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	typ := reflect.TypeFor[T]()
	if bytes.Equal(b, []byte("null")) && typ.Kind() != reflect.Pointer {
		return &json.UnmarshalTypeError{Value: "null", Type: typ}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&o.Value)
}

// apply copies the value into dst when the field was given.
func (o patchField[T]) apply(dst *T) {
	if o.Set {
		*dst = o.Value
	}
}

// apiPanelInput is the body of POST /panels; sessions may come with it.
type apiPanelInput struct {
	Title                    string            `json:"title"`
	Slug                     string            `json:"slug"`
	Format                   string            `json:"format"`
	Summary                  string            `json:"summary"`
	Description              string            `json:"description"`
	LearningPoints           []string          `json:"learning_points"`
	Speakers                 []speakerJSON     `json:"speakers"`
	OrganizerName            string            `json:"organizer_name"`
	OrganizerEmail           string            `json:"organizer_email"`
	Status                   string            `json:"status"`
	Questions                []questionJSON    `json:"questions"`
	ReminderMinutes          []int             `json:"reminder_minutes"` // absent: a day and an hour before
	FollowUps                followUpsPatch    `json:"follow_ups"`       // absent: on, two hours after
	Sponsors                 []sponsorJSON     `json:"sponsors"`
	RetentionDays            *int              `json:"retention_days"` // absent or null: the site's default
	BlockedEmailDomains      []string          `json:"blocked_email_domains"`
	AllowedEmailDomains      []string          `json:"allowed_email_domains"`
	RequireEmailConfirmation bool              `json:"require_email_confirmation"`
	RequireApproval          bool              `json:"require_approval"`
	Sessions                 []apiSessionInput `json:"sessions"`
}

func (in *apiPanelInput) toModel() *models.Panel {
	p := &models.Panel{
		Title: in.Title, Slug: in.Slug, Format: in.Format, Summary: in.Summary, Description: in.Description,
		OrganizerName: in.OrganizerName, OrganizerEmail: in.OrganizerEmail, Status: models.PanelStatus(in.Status),
		ReminderMinutes: models.Minutes(in.ReminderMinutes),
		LearningPoints:  learningPointsFrom(in.LearningPoints), Speakers: speakersFrom(in.Speakers),
		Questions: questionsFrom(in.Questions, false), FollowUps: models.DefaultFollowUps,
		Sponsors: sponsorsFrom(in.Sponsors, false), RetentionDays: in.RetentionDays,
		Gating: models.Gating{BlockedEmailDomains: in.BlockedEmailDomains, AllowedEmailDomains: in.AllowedEmailDomains,
			RequireEmailConfirmation: in.RequireEmailConfirmation, RequireApproval: in.RequireApproval},
	}
	in.FollowUps.applyTo(&p.FollowUps)
	for i := range in.Sessions {
		p.Sessions = append(p.Sessions, in.Sessions[i].toModel())
	}
	return p
}

// apiPanelPatch is the body of PATCH /panels/{id}: only the fields given
// change. Sessions change through their own routes.
type apiPanelPatch struct {
	Title                    patchField[string]             `json:"title"`
	Slug                     patchField[string]             `json:"slug"`
	Format                   patchField[string]             `json:"format"`
	Summary                  patchField[string]             `json:"summary"`
	Description              patchField[string]             `json:"description"`
	LearningPoints           patchField[[]string]           `json:"learning_points"`
	Speakers                 patchField[[]speakerJSON]      `json:"speakers"`
	OrganizerName            patchField[string]             `json:"organizer_name"`
	OrganizerEmail           patchField[string]             `json:"organizer_email"`
	Status                   patchField[models.PanelStatus] `json:"status"`
	Questions                patchField[[]questionJSON]     `json:"questions"`
	ReminderMinutes          patchField[[]int]              `json:"reminder_minutes"`
	FollowUps                followUpsPatch                 `json:"follow_ups"`
	Sponsors                 patchField[[]sponsorJSON]      `json:"sponsors"`
	RetentionDays            patchField[*int]               `json:"retention_days"`
	BlockedEmailDomains      patchField[[]string]           `json:"blocked_email_domains"`
	AllowedEmailDomains      patchField[[]string]           `json:"allowed_email_domains"`
	RequireEmailConfirmation patchField[bool]               `json:"require_email_confirmation"`
	RequireApproval          patchField[bool]               `json:"require_approval"`
}

// followUpsPatch is a panel's follow_ups object in a request: the fields
// given change, the others keep their value (or the defaults).
type followUpsPatch struct {
	Enabled       patchField[bool]   `json:"enabled"`
	DelayMinutes  patchField[int]    `json:"delay_minutes"`
	ThanksSubject patchField[string] `json:"thanks_subject"`
	ThanksText    patchField[string] `json:"thanks_text"`
	MissedSubject patchField[string] `json:"missed_subject"`
	MissedText    patchField[string] `json:"missed_text"`
}

func (in *followUpsPatch) applyTo(f *models.FollowUpSettings) {
	in.Enabled.apply(&f.Enabled)
	in.DelayMinutes.apply(&f.DelayMinutes)
	in.ThanksSubject.apply(&f.ThanksSubject)
	in.ThanksText.apply(&f.ThanksText)
	in.MissedSubject.apply(&f.MissedSubject)
	in.MissedText.apply(&f.MissedText)
}

// applyTo changes p's fields that the patch names.
func (in *apiPanelPatch) applyTo(p *models.Panel) {
	in.Title.apply(&p.Title)
	in.Slug.apply(&p.Slug)
	in.Format.apply(&p.Format)
	in.Summary.apply(&p.Summary)
	in.Description.apply(&p.Description)
	in.OrganizerName.apply(&p.OrganizerName)
	in.OrganizerEmail.apply(&p.OrganizerEmail)
	in.Status.apply(&p.Status)
	if in.LearningPoints.Set {
		p.LearningPoints = learningPointsFrom(in.LearningPoints.Value)
	}
	if in.Speakers.Set {
		p.Speakers = speakersFrom(in.Speakers.Value)
	}
	if in.Questions.Set {
		p.Questions = questionsFrom(in.Questions.Value, true)
	}
	if in.ReminderMinutes.Set {
		p.ReminderMinutes = append(models.Minutes{}, in.ReminderMinutes.Value...)
	}
	in.FollowUps.applyTo(&p.FollowUps)
	if in.Sponsors.Set {
		p.Sponsors = sponsorsFrom(in.Sponsors.Value, true)
	}
	in.RetentionDays.apply(&p.RetentionDays)
	if in.BlockedEmailDomains.Set {
		p.BlockedEmailDomains = models.Lines(in.BlockedEmailDomains.Value)
	}
	if in.AllowedEmailDomains.Set {
		p.AllowedEmailDomains = models.Lines(in.AllowedEmailDomains.Value)
	}
	in.RequireEmailConfirmation.apply(&p.RequireEmailConfirmation)
	in.RequireApproval.apply(&p.RequireApproval)
}

// sponsorsFrom converts sponsors; keepIDs keeps the ids a PATCH gives, so
// those sponsors keep the consents given to them.
func sponsorsFrom(in []sponsorJSON, keepIDs bool) []models.Sponsor {
	var out []models.Sponsor
	for _, s := range in {
		sp := models.Sponsor{Name: s.Name, WebsiteURL: s.WebsiteURL, PrivacyURL: s.PrivacyURL, LogoURL: s.LogoURL}
		if keepIDs {
			sp.ID = s.ID
		}
		out = append(out, sp)
	}
	return out
}

func learningPointsFrom(texts []string) []models.LearningPoint {
	var out []models.LearningPoint
	for _, t := range texts {
		out = append(out, models.LearningPoint{Text: t})
	}
	return out
}

func speakersFrom(in []speakerJSON) []models.Speaker {
	var out []models.Speaker
	for _, s := range in {
		out = append(out, models.Speaker{Name: s.Name, Role: s.Role, Organisation: s.Organisation, Bio: s.Bio})
	}
	return out
}

// questionsFrom converts questions; keepIDs keeps the ids a PATCH gives, so
// those questions keep their answers.
func questionsFrom(in []questionJSON, keepIDs bool) []models.Question {
	var out []models.Question
	for _, q := range in {
		mq := models.Question{Kind: models.QuestionKind(q.Kind), Label: q.Label, Required: q.Required,
			Options: models.Lines(q.Options)}
		if keepIDs {
			mq.ID = q.ID
		}
		out = append(out, mq)
	}
	return out
}

// apiSessionInput is a new session, alone or inside a new panel.
type apiSessionInput struct {
	StartsAt             apiTime  `json:"starts_at"`
	DurationMinutes      int      `json:"duration_minutes"`
	TimeZone             string   `json:"time_zone"`
	Capacity             int      `json:"capacity"`
	Waitlist             bool     `json:"waitlist"`
	JoinURL              string   `json:"join_url"`
	Venue                string   `json:"venue"`
	RegistrationClosesAt *apiTime `json:"registration_closes_at"`
	RecordingURL         string   `json:"recording_url"`
	OnDemandUntil        *apiTime `json:"on_demand_until"`
	ZoomWebinarID        string   `json:"zoom_webinar_id"`
}

func (in *apiSessionInput) toModel() models.Session {
	return models.Session{
		StartsAt: in.StartsAt.Time, DurationMinutes: in.DurationMinutes, TimeZone: in.TimeZone,
		Capacity: in.Capacity, Waitlist: in.Waitlist, JoinURL: in.JoinURL, Venue: in.Venue,
		RegistrationClosesAt: in.RegistrationClosesAt.ptr(), RecordingURL: in.RecordingURL,
		OnDemandUntil: in.OnDemandUntil.ptr(), ZoomWebinarID: in.ZoomWebinarID,
	}
}

// apiSessionPatch is the body of PATCH /sessions/{id}: only the fields given
// change; registration_closes_at may be null (close at the start).
type apiSessionPatch struct {
	StartsAt             patchField[apiTime]  `json:"starts_at"`
	DurationMinutes      patchField[int]      `json:"duration_minutes"`
	TimeZone             patchField[string]   `json:"time_zone"`
	Capacity             patchField[int]      `json:"capacity"`
	Waitlist             patchField[bool]     `json:"waitlist"`
	JoinURL              patchField[string]   `json:"join_url"`
	Venue                patchField[string]   `json:"venue"`
	RegistrationClosesAt patchField[*apiTime] `json:"registration_closes_at"`
	RecordingURL         patchField[string]   `json:"recording_url"`
	OnDemandUntil        patchField[*apiTime] `json:"on_demand_until"`
	ZoomWebinarID        patchField[string]   `json:"zoom_webinar_id"`
}

// update is the session's full update: its current fields with the patch's.
func (in *apiSessionPatch) update(s *models.Session) models.SessionUpdate {
	upd := models.SessionUpdate{
		StartsAt: s.StartsAt, DurationMinutes: s.DurationMinutes, TimeZone: s.TimeZone, Capacity: s.Capacity,
		Waitlist: s.Waitlist, JoinURL: s.JoinURL, Venue: s.Venue, RegistrationClosesAt: s.RegistrationClosesAt,
		RecordingURL: s.RecordingURL, OnDemandUntil: s.OnDemandUntil, ZoomWebinarID: s.ZoomWebinarID,
	}
	if in.OnDemandUntil.Set {
		upd.OnDemandUntil = in.OnDemandUntil.Value.ptr()
	}
	in.RecordingURL.apply(&upd.RecordingURL)
	in.ZoomWebinarID.apply(&upd.ZoomWebinarID)
	if in.StartsAt.Set {
		upd.StartsAt = in.StartsAt.Value.Time
	}
	if in.RegistrationClosesAt.Set {
		upd.RegistrationClosesAt = in.RegistrationClosesAt.Value.ptr()
	}
	in.DurationMinutes.apply(&upd.DurationMinutes)
	in.TimeZone.apply(&upd.TimeZone)
	in.Capacity.apply(&upd.Capacity)
	in.Waitlist.apply(&upd.Waitlist)
	in.JoinURL.apply(&upd.JoinURL)
	in.Venue.apply(&upd.Venue)
	return upd
}

// apiRegistrationInput is the body of POST /sessions/{id}/registrations.
type apiRegistrationInput struct {
	Name         string `json:"name"`
	Email        string `json:"email"`
	Organisation string `json:"organisation"`
	JobTitle     string `json:"job_title"`
	Consent      bool   `json:"consent"`
	// Marketing and Sponsors are the organizer's news and the sponsors the
	// person agreed to, as the organizer confirms.
	Marketing bool    `json:"marketing"`
	Sponsors  []int64 `json:"sponsors"`
	// Source is utm_source's first name, still taken; utm_source wins.
	Source string `json:"source"`
	firstTouchJSON
	Answers []apiAnswerInput `json:"answers"`
}

// apiAnswerInput is an answer in a request: value is a string, or an array of
// strings for a multiple choice question.
type apiAnswerInput struct {
	QuestionID int64        `json:"question_id"`
	Value      answerValues `json:"value"`
}

func (in *apiRegistrationInput) toModel() models.RegistrationInput {
	out := models.RegistrationInput{
		Name: in.Name, Email: in.Email, Organisation: in.Organisation, JobTitle: in.JobTitle,
		Consent: in.Consent, Marketing: in.Marketing, Source: cmp.Or(in.UTMSource, in.Source),
		Medium: in.UTMMedium, Campaign: in.UTMCampaign, Term: in.UTMTerm, Content: in.UTMContent, Referrer: in.Referrer,
	}
	for _, id := range in.Sponsors {
		if out.Sponsors == nil {
			out.Sponsors = map[int64]int64{}
		}
		out.Sponsors[id] = 0 // the wording the panel shows now
	}
	if len(in.Answers) > 0 {
		out.Answers = make(map[int64][]string, len(in.Answers))
		for _, a := range in.Answers {
			out.Answers[a.QuestionID] = append(out.Answers[a.QuestionID], a.Value...)
		}
	}
	return out
}
