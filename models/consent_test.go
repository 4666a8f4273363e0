package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests follow consent: a panel's sponsors and the versions of its
// checkboxes' wordings, the consents each sign-up records, their
// withdrawal, and the sponsors' lists of leads.

const testOrganizer = "Acme Events"

// sponsorPrivacy is the privacy policy sponsorPanel gives a sponsor.
func sponsorPrivacy(name string) string {
	return "https://" + Slugify(name) + ".example.com/privacy"
}

// sponsorPanel stores a published panel titled title, organised by
// testOrganizer, with one session of 10 seats a week after testNow and one
// sponsor per name, in order.
func sponsorPanel(t *testing.T, s *Store, title string, names ...string) (*Panel, *Session) {
	t.Helper()
	p := &Panel{Title: title, Status: PanelPublished, OrganizerName: testOrganizer,
		Sessions: []Session{{StartsAt: testNow.AddDate(0, 0, 7), DurationMinutes: 60, TimeZone: "UTC",
			Capacity: 10, JoinURL: "https://meet.example.com/x"}}}
	for _, name := range names {
		p.Sponsors = append(p.Sponsors, Sponsor{Name: name, PrivacyURL: sponsorPrivacy(name),
			WebsiteURL: "https://" + Slugify(name) + ".example.com"})
	}
	if err := s.CreatePanel(context.Background(), p); err != nil {
		t.Fatalf("create panel %q: %v", title, err)
	}
	return p, &p.Sessions[0]
}

// textOf is a stored version of a checkbox's wording.
func textOf(t *testing.T, s *Store, id int64) ConsentText {
	t.Helper()
	var ct ConsentText
	if err := s.read.Take(&ct, id).Error; err != nil {
		t.Fatalf("consent text %d: %v", id, err)
	}
	return ct
}

// consentLine is a ConsentState in a form that compares with == and prints
// readably.
type consentLine struct {
	Purpose   ConsentPurpose
	SponsorID int64
	TextID    int64
	Text      string
	Given     bool
	Channel   Channel
	GivenAt   string
}

// consentsOf lists a registration's consents as Consents reports them.
func consentsOf(t *testing.T, s *Store, registrationID int64) []consentLine {
	t.Helper()
	states, err := s.Consents(context.Background(), registrationID)
	if err != nil {
		t.Fatalf("consents of %d: %v", registrationID, err)
	}
	out := make([]consentLine, len(states))
	for i, c := range states {
		out[i] = consentLine{Purpose: c.Purpose, SponsorID: deref(c.SponsorID), TextID: c.ConsentTextID, Text: c.Text,
			Given: c.Given, Channel: c.Channel, GivenAt: at(c.GivenAt)}
	}
	return out
}

func assertConsents(t *testing.T, s *Store, registrationID int64, want ...consentLine) {
	t.Helper()
	if got := consentsOf(t, s, registrationID); !slices.Equal(got, want) {
		t.Fatalf("consents of %d:\n\t%+v\nwant\n\t%+v", registrationID, got, want)
	}
}

// registrationLine is the registration consent every sign-up gives.
func registrationLine(s *Store, channel Channel, givenAt time.Time) consentLine {
	return consentLine{Purpose: ConsentRegistration, TextID: s.registrationText, Text: RegistrationConsentWording,
		Given: true, Channel: channel, GivenAt: at(givenAt)}
}

// sponsorLine is a standing consent to sp's current wording.
func sponsorLine(sp Sponsor, channel Channel, givenAt time.Time) consentLine {
	return consentLine{Purpose: ConsentSponsor, SponsorID: sp.ID, TextID: *sp.ConsentTextID,
		Text: SponsorConsentText(sp.Name, sp.PrivacyURL), Given: true, Channel: channel, GivenAt: at(givenAt)}
}

// marketingLine is a standing consent to p's organizer's news.
func marketingLine(p *Panel, channel Channel, givenAt time.Time) consentLine {
	return consentLine{Purpose: ConsentMarketing, TextID: *p.MarketingTextID, Text: MarketingConsentText(p.OrganizerName),
		Given: true, Channel: channel, GivenAt: at(givenAt)}
}

// signUpWith registers email for the session, ticking the organizer's news
// when marketing is set and each sponsor of sponsors with the current
// wording.
func signUpWith(t *testing.T, s *Store, panelID, sessionID int64, email string, marketing bool, sponsors ...int64) *RegisterResult {
	t.Helper()
	in := validInput(sessionID, email)
	in.Marketing = marketing
	if len(sponsors) > 0 {
		in.Sponsors = map[int64]int64{}
		for _, id := range sponsors {
			in.Sponsors[id] = 0
		}
	}
	res, err := s.Register(context.Background(), panelID, in)
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return res
}

func TestCreatePanel_SponsorsGetIDsAndAWordingVersionEach(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, _ := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	if p.MarketingTextID == nil {
		t.Fatal("the panel has no organizer's-news wording")
	}
	if ct := textOf(t, s, *p.MarketingTextID); ct.Purpose != ConsentMarketing || ct.SponsorID != nil ||
		ct.Text != MarketingConsentText(testOrganizer) || !strings.Contains(ct.Text, testOrganizer) {
		t.Fatalf("organizer's-news wording = %+v; want %q", ct, MarketingConsentText(testOrganizer))
	}
	stored, err := s.PanelByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Sponsors) != 2 || stored.MarketingTextID == nil || *stored.MarketingTextID != *p.MarketingTextID {
		t.Fatalf("stored panel: %d sponsors, marketing text %v; want 2 and %d", len(stored.Sponsors), stored.MarketingTextID, *p.MarketingTextID)
	}
	for i, name := range []string{"Globex", "Initech"} {
		sp, made := stored.Sponsors[i], p.Sponsors[i]
		if sp.ID == 0 || sp.ID != made.ID || sp.PanelID != p.ID || sp.Position != i+1 || sp.Name != name ||
			sp.PrivacyURL != sponsorPrivacy(name) || sp.RemovedAt != nil {
			t.Fatalf("sponsor %d = %+v (created as id %d); want %s at position %d of panel %d", i, sp, made.ID, name, i+1, p.ID)
		}
		if sp.ConsentTextID == nil || made.ConsentTextID == nil || *sp.ConsentTextID != *made.ConsentTextID {
			t.Fatalf("sponsor %s's wording version = %v (created with %v)", name, sp.ConsentTextID, made.ConsentTextID)
		}
		ct := textOf(t, s, *sp.ConsentTextID)
		if ct.Purpose != ConsentSponsor || deref(ct.SponsorID) != sp.ID || ct.Text != SponsorConsentText(name, sponsorPrivacy(name)) {
			t.Fatalf("sponsor %s's wording = %+v; want its own sponsor wording", name, ct)
		}
	}
	if *stored.Sponsors[0].ConsentTextID == *stored.Sponsors[1].ConsentTextID {
		t.Fatal("two sponsors share one wording version")
	}
}

func TestCreatePanel_RefusesBadSponsorsAndStoresNothing(t *testing.T) {
	good := func() Sponsor { return Sponsor{Name: "Globex", PrivacyURL: "https://globex.example.com/privacy"} }
	cases := []struct {
		name     string
		sponsors func() []Sponsor
		field    string
	}{
		{"missing name", func() []Sponsor { sp := good(); sp.Name = "  "; return []Sponsor{sp} }, "sponsors[0].name"},
		{"name with a line break", func() []Sponsor { sp := good(); sp.Name = "Glo\nbex"; return []Sponsor{sp} }, "sponsors[0].name"},
		{"plain http privacy policy", func() []Sponsor {
			sp := good()
			sp.PrivacyURL = "http://globex.example.com/privacy"
			return []Sponsor{good(), sp}
		}, "sponsors[1].privacy_url"},
		{"no privacy policy", func() []Sponsor { sp := good(); sp.PrivacyURL = ""; return []Sponsor{sp} }, "sponsors[0].privacy_url"},
		{"plain http website", func() []Sponsor { sp := good(); sp.WebsiteURL = "http://globex.example.com"; return []Sponsor{sp} }, "sponsors[0].website_url"},
		{"eleven sponsors", func() []Sponsor {
			out := make([]Sponsor, 11)
			for i := range out {
				out[i] = good()
			}
			return out
		}, "sponsors"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t)
			p := &Panel{Title: "Sponsored panel", Status: PanelDraft, Sponsors: tc.sponsors()}
			var verr *ValidationError
			if err := s.CreatePanel(context.Background(), p); !errors.As(err, &verr) || verr.Fields[tc.field] == "" {
				t.Fatalf("create = %v; want a message for %q", err, tc.field)
			}
			if n, err := s.CountPanels(context.Background()); err != nil || n != 0 {
				t.Fatalf("%d panels stored, %v; want none", n, err)
			}
			if n := countWebhookRows(t, s, "sponsors", "1 = 1"); n != 0 {
				t.Fatalf("%d sponsors stored; want none", n)
			}
		})
	}
}

func TestCreatePanel_TenSponsorsAreAllowed(t *testing.T) {
	s, _ := newTestStore(t)
	names := make([]string, 10)
	for i := range names {
		names[i] = fmt.Sprintf("Sponsor %d", i+1)
	}
	p, _ := sponsorPanel(t, s, "Ten sponsors", names...)
	if n := countWebhookRows(t, s, "sponsors", "panel_id = ? AND removed_at IS NULL", p.ID); n != 10 {
		t.Fatalf("%d sponsors stored; want 10", n)
	}
}

func TestRegister_RecordsTheConsentsGivenWithTheWordingShown(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	globex := p.Sponsors[0]
	in := validInput(sess.ID, "ada@example.com")
	in.Marketing, in.Sponsors = true, map[int64]int64{globex.ID: 0}
	res, err := s.Register(context.Background(), p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	assertConsents(t, s, res.Registration.ID,
		registrationLine(s, ChannelForm, testNow), marketingLine(p, ChannelForm, testNow), sponsorLine(globex, ChannelForm, testNow))
	states, err := s.Consents(context.Background(), res.Registration.ID)
	if err != nil {
		t.Fatal(err)
	}
	if states[2].SponsorName != "Globex" || !states[2].Given || states[0].SponsorName != "" {
		t.Fatalf("sponsor consent names %q (current %v), registration consent %q; want Globex, current, and none",
			states[2].SponsorName, states[2].Given, states[0].SponsorName)
	}

	// Nothing ticked: the registration's own consent alone, and nothing
	// about the sponsor that was not ticked.
	clock.Set(testNow.Add(time.Minute))
	plain := signUpWith(t, s, p.ID, sess.ID, "bob@example.com", false)
	assertConsents(t, s, plain.Registration.ID, registrationLine(s, ChannelForm, testNow.Add(time.Minute)))
	if n := countWebhookRows(t, s, "consents", "sponsor_id = ?", p.Sponsors[1].ID); n != 0 {
		t.Fatalf("%d consents name the sponsor nobody ticked; want none", n)
	}
}

func TestRegister_RecordsTheSponsorWordingVersionThePageShowed(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	old, other := p.Sponsors[0], p.Sponsors[1]
	clock.Set(testNow.Add(time.Hour))
	edited, err := s.EditPanel(ctx, p.ID, func(p *Panel) { p.Sponsors[0].Name = "Globex Corporation" })
	if err != nil {
		t.Fatal(err)
	}
	renamed := edited.Sponsors[0]
	if renamed.ID != old.ID || renamed.ConsentTextID == nil || *renamed.ConsentTextID == *old.ConsentTextID {
		t.Fatalf("renamed sponsor = id %d, wording %v; want id %d with a wording other than %d",
			renamed.ID, renamed.ConsentTextID, old.ID, *old.ConsentTextID)
	}
	if ct := textOf(t, s, *old.ConsentTextID); ct.Text != SponsorConsentText("Globex", old.PrivacyURL) {
		t.Fatalf("the old wording became %q; want it unchanged", ct.Text)
	}
	if edited.Sponsors[1].ConsentTextID == nil || *edited.Sponsors[1].ConsentTextID != *other.ConsentTextID {
		t.Fatal("the sponsor left as it was got a new wording version")
	}
	cases := []struct {
		shown int64
		want  Sponsor
	}{
		{*old.ConsentTextID, old},         // a page loaded before the rename
		{0, renamed},                      // the current wording
		{*renamed.ConsentTextID, renamed}, // the current wording, named
		{*other.ConsentTextID, renamed},   // another sponsor's wording
		{*p.MarketingTextID, renamed},     // another purpose's wording
		{999999, renamed},                 // no wording at all
	}
	for i, tc := range cases {
		in := validInput(sess.ID, fmt.Sprintf("p%d@example.com", i))
		in.Sponsors = map[int64]int64{old.ID: tc.shown}
		res, err := s.Register(ctx, p.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		assertConsents(t, s, res.Registration.ID, registrationLine(s, ChannelForm, clock.Now()),
			sponsorLine(tc.want, ChannelForm, clock.Now()))
	}

	// A wording shown before is the same version again, not a new one.
	back, err := s.EditPanel(ctx, p.ID, func(p *Panel) { p.Sponsors[0].Name = "Globex" })
	if err != nil {
		t.Fatal(err)
	}
	if *back.Sponsors[0].ConsentTextID != *old.ConsentTextID {
		t.Fatalf("the first name again has wording %d; want the first version %d", *back.Sponsors[0].ConsentTextID, *old.ConsentTextID)
	}
}

// The organizer's news is recorded with the panel's wording as it is: a
// marketing wording is shared by every panel of the same organizer name,
// so a version the form names cannot show that this panel offered it.
func TestRegister_MarketingConsentNamesThePanelsCurrentWording(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex")
	first := *p.MarketingTextID
	edited, err := s.EditPanel(ctx, p.ID, func(p *Panel) { p.OrganizerName = "Acme Events Ltd" })
	if err != nil {
		t.Fatal(err)
	}
	if edited.MarketingTextID == nil || *edited.MarketingTextID == first {
		t.Fatalf("renaming the organizer kept wording %v; want a new version", edited.MarketingTextID)
	}
	in := validInput(sess.ID, "m@example.com")
	in.Marketing = true
	res, err := s.Register(ctx, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	got := consentsOf(t, s, res.Registration.ID)
	if len(got) != 2 || got[1].Purpose != ConsentMarketing || got[1].TextID != *edited.MarketingTextID {
		t.Fatalf("consents %+v; want the organizer's news with wording %d", got, *edited.MarketingTextID)
	}
}

func TestRegister_SponsorNotOfThePanelRefusedAndNothingStored(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	other, _ := sponsorPanel(t, s, "Other panel", "Umbrella")
	if _, err := s.EditPanel(ctx, p.ID, func(p *Panel) { p.Sponsors = p.Sponsors[:1] }); err != nil {
		t.Fatal(err)
	}
	globex, removed, foreign := p.Sponsors[0].ID, p.Sponsors[1].ID, other.Sponsors[0].ID
	for name, sponsors := range map[string]map[int64]int64{
		"another panel's sponsor":          {foreign: 0},
		"a removed sponsor":                {removed: 0},
		"a sponsor that never was":         {999999: 0},
		"the panel's and another's":        {globex: 0, foreign: 0},
		"another's with the right wording": {foreign: *other.Sponsors[0].ConsentTextID},
	} {
		in := validInput(sess.ID, "ada@example.com")
		in.Marketing, in.Sponsors = true, sponsors
		var verr *ValidationError
		if _, err := s.Register(ctx, p.ID, in); !errors.As(err, &verr) || verr.Fields["sponsors"] == "" {
			t.Fatalf("%s: register = %v; want a message for \"sponsors\"", name, err)
		}
	}
	assertRegistrationCount(t, s, sess.ID, 0)
	assertSeatsTaken(t, s, sess.ID, 0)
	for _, table := range []string{"consents", "outbox_messages", "manage_tokens"} {
		if n := countWebhookRows(t, s, table, "1 = 1"); n != 0 {
			t.Fatalf("%d rows in %s after refused sign-ups; want none", n, table)
		}
	}
}

func TestEditPanel_RemovedSponsorKeepsItsRowAndItsConsents(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	other, _ := sponsorPanel(t, s, "Other panel", "Umbrella")
	globex, initech := p.Sponsors[0], p.Sponsors[1]
	res := signUpWith(t, s, p.ID, sess.ID, "ada@example.com", false, initech.ID)

	removedAt := testNow.Add(time.Hour)
	clock.Set(removedAt)
	edited, err := s.EditPanel(ctx, p.ID, func(p *Panel) {
		// Initech goes; another panel's sponsor's id is no way to take it over.
		p.Sponsors = []Sponsor{p.Sponsors[0],
			{ID: other.Sponsors[0].ID, Name: "Hooli", PrivacyURL: "https://hooli.example.com/privacy"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.PanelByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Sponsors) != 2 || stored.Sponsors[0].ID != globex.ID || *stored.Sponsors[0].ConsentTextID != *globex.ConsentTextID {
		t.Fatalf("sponsors after the edit = %+v; want Globex kept as it was first", stored.Sponsors)
	}
	hooli := stored.Sponsors[1]
	if hooli.Name != "Hooli" || hooli.ID == other.Sponsors[0].ID || hooli.ID == initech.ID || hooli.ID != edited.Sponsors[1].ID {
		t.Fatalf("the added sponsor = %+v; want Hooli with an id of its own", hooli)
	}
	theirs, err := s.PanelByID(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(theirs.Sponsors) != 1 || theirs.Sponsors[0].Name != "Umbrella" || theirs.Sponsors[0].PanelID != other.ID {
		t.Fatalf("the other panel's sponsors = %+v; want Umbrella untouched", theirs.Sponsors)
	}

	var row Sponsor
	if err := s.read.Take(&row, initech.ID).Error; err != nil {
		t.Fatalf("the removed sponsor's row: %v", err)
	}
	if row.RemovedAt == nil || !row.RemovedAt.Equal(removedAt) || row.Name != "Initech" || row.PanelID != p.ID {
		t.Fatalf("removed sponsor row = %+v; want Initech removed at %s", row, at(removedAt))
	}
	assertConsents(t, s, res.Registration.ID, registrationLine(s, ChannelForm, testNow), sponsorLine(initech, ChannelForm, testNow))
	if _, err := s.SponsorByID(ctx, p.ID, initech.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SponsorByID of a removed sponsor = %v; want ErrNotFound", err)
	}
	if _, _, err := s.SponsorLeads(ctx, p.ID, initech.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("leads of a removed sponsor = %v; want ErrNotFound", err)
	}
}

func TestRegister_ReplaySignUpRecordsTheConsentsToo(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex")
	offerReplay(t, s, sess.ID, recordingURL, nil)
	later := sess.EndsAt().Add(time.Hour)
	clock.Set(later)
	res := signUpWith(t, s, p.ID, sess.ID, "late@example.com", true, p.Sponsors[0].ID)
	if !res.Registration.OnDemand {
		t.Fatalf("sign-up after the end = %+v; want a replay registration", res.Registration)
	}
	assertConsents(t, s, res.Registration.ID, registrationLine(s, ChannelForm, later),
		marketingLine(p, ChannelForm, later), sponsorLine(p.Sponsors[0], ChannelForm, later))
}

func TestRegister_DuplicateSignUpRecordsNoNewConsents(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	first := signUpWith(t, s, p.ID, sess.ID, "ada@example.com", false, p.Sponsors[0].ID)
	clock.Set(testNow.Add(time.Hour))
	again := signUpWith(t, s, p.ID, sess.ID, "ADA@example.com", true, p.Sponsors[0].ID, p.Sponsors[1].ID)
	if !again.Duplicate || again.Registration.ID != first.Registration.ID {
		t.Fatalf("second sign-up = %+v; want the duplicate answer", again)
	}
	if n := countWebhookRows(t, s, "consents", "1 = 1"); n != 2 {
		t.Fatalf("%d consents stored; want the first sign-up's 2", n)
	}
	assertConsents(t, s, first.Registration.ID,
		registrationLine(s, ChannelForm, testNow), sponsorLine(p.Sponsors[0], ChannelForm, testNow))
}

func TestAddRegistrationByOrganizer_RecordsTheConsentsThroughItsChannel(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex")
	for i, channel := range []Channel{ChannelAPI, ChannelAdmin} {
		in := validInput(0, fmt.Sprintf("added%d@example.com", i))
		in.Marketing, in.Sponsors = true, map[int64]int64{p.Sponsors[0].ID: 0}
		res, err := s.AddRegistrationByOrganizer(context.Background(), sess.ID, in, channel)
		if err != nil {
			t.Fatal(err)
		}
		assertConsents(t, s, res.Registration.ID, registrationLine(s, channel, testNow),
			marketingLine(p, channel, testNow), sponsorLine(p.Sponsors[0], channel, testNow))
	}
}

func TestWithdrawConsent_RecordsTheWithdrawalAndKeepsTheConsentGiven(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	globex := p.Sponsors[0]
	res := signUpWith(t, s, p.ID, sess.ID, "ada@example.com", true, globex.ID)
	regID := res.Registration.ID

	withdrawnAt := testNow.Add(time.Hour)
	clock.Set(withdrawnAt)
	if ok, err := s.WithdrawConsent(ctx, regID, ConsentSponsor, globex.ID, ChannelManage); err != nil || !ok {
		t.Fatalf("withdraw = %v, %v; want true", ok, err)
	}
	withdrawn := sponsorLine(globex, ChannelManage, testNow)
	withdrawn.Given = false
	assertConsents(t, s, regID, registrationLine(s, ChannelForm, testNow), marketingLine(p, ChannelForm, testNow), withdrawn)
	states, err := s.Consents(ctx, regID)
	if err != nil {
		t.Fatal(err)
	}
	if st := states[2]; st.Given || !st.CreatedAt.Equal(withdrawnAt) || !st.GivenAt.Equal(testNow) {
		t.Fatalf("the withdrawn consent: current %v, withdrawn at %s, given at %s; want withdrawn at %s, given at %s",
			st.Given, at(st.CreatedAt), at(st.GivenAt), at(withdrawnAt), at(testNow))
	}

	clock.Set(withdrawnAt.Add(time.Hour))
	if ok, err := s.WithdrawConsent(ctx, regID, ConsentSponsor, globex.ID, ChannelAdmin); err != nil || ok {
		t.Fatalf("withdrawing again = %v, %v; want false", ok, err)
	}
	if ok, err := s.WithdrawConsent(ctx, regID, ConsentMarketing, 0, ChannelManage); err != nil || !ok {
		t.Fatalf("withdrawing the organizer's news = %v, %v; want true", ok, err)
	}
	refusals := []struct {
		name    string
		regID   int64
		purpose ConsentPurpose
		sponsor int64
		wantErr error
	}{
		{"the registration's own", regID, ConsentRegistration, 0, ErrConsentRequired},
		{"an unknown purpose", regID, "newsletter", 0, ErrNotFound},
		{"a sponsor never ticked", regID, ConsentSponsor, p.Sponsors[1].ID, ErrNotFound},
		{"a sponsor that never was", regID, ConsentSponsor, 999999, ErrNotFound},
		{"a registration that never was", 999999, ConsentSponsor, globex.ID, ErrNotFound},
	}
	for _, tc := range refusals {
		if ok, err := s.WithdrawConsent(ctx, tc.regID, tc.purpose, tc.sponsor, ChannelManage); !errors.Is(err, tc.wantErr) || ok {
			t.Errorf("withdrawing %s = %v, %v; want %v", tc.name, ok, err, tc.wantErr)
		}
	}
	// Given three, withdrawn two: every row stays.
	if n := countWebhookRows(t, s, "consents", "registration_id = ?", regID); n != 5 {
		t.Fatalf("%d consent rows; want 5 (3 given, 2 withdrawn)", n)
	}
	if n := countWebhookRows(t, s, "consents", "registration_id = ? AND sponsor_id = ? AND given", regID, globex.ID); n != 1 {
		t.Fatalf("%d given rows for the sponsor; want the original 1", n)
	}
	got := consentsOf(t, s, regID)
	if len(got) != 3 || !got[0].Given || got[1].Given || got[2].Given {
		t.Fatalf("consents = %+v; want the registration's standing, the other two withdrawn", got)
	}
}

// leadsCast is sponsorPanel's panel with a second session and one question,
// and the sign-ups of TestSponsorLeads.
type leadsCast struct {
	panel               *Panel
	first, second       *Session
	globex, initech     Sponsor
	ann, ben, cat, dora *RegisterResult
	doraAgain           *RegisterResult
}

func newLeadsCast(t *testing.T, s *Store, clock *testClock) *leadsCast {
	t.Helper()
	ctx := context.Background()
	p := &Panel{Title: "Sponsored panel", Status: PanelPublished, OrganizerName: testOrganizer,
		Sessions: []Session{
			{StartsAt: testNow.AddDate(0, 0, 7), DurationMinutes: 60, TimeZone: "UTC", Capacity: 10, Venue: "Hall"},
			{StartsAt: testNow.AddDate(0, 0, 14), DurationMinutes: 60, TimeZone: "UTC", Capacity: 10, Venue: "Hall"},
		},
		Questions: []Question{{Kind: QuestionShortText, Label: "Your role"}},
		Sponsors: []Sponsor{{Name: "Globex", PrivacyURL: sponsorPrivacy("Globex")},
			{Name: "Initech", PrivacyURL: sponsorPrivacy("Initech")}},
	}
	if err := s.CreatePanel(ctx, p); err != nil {
		t.Fatal(err)
	}
	c := &leadsCast{panel: p, first: &p.Sessions[0], second: &p.Sessions[1], globex: p.Sponsors[0], initech: p.Sponsors[1]}
	signUp := func(minute int, sess *Session, email string, sponsors ...int64) *RegisterResult {
		clock.Set(testNow.Add(time.Duration(minute) * time.Minute))
		in := validInput(sess.ID, email)
		in.Name = strings.ToUpper(email[:1]) + email[1:strings.Index(email, "@")]
		in.Organisation, in.JobTitle = "Org of "+in.Name, "Role of "+in.Name
		in.Source, in.Medium, in.Campaign, in.Term, in.Content = "src-"+in.Name, "email", "spring", "panels", "cta"
		in.Referrer = "https://ref.example.com/" + in.Name
		in.Answers = map[int64][]string{p.Questions[0].ID: {"Answer of " + in.Name}}
		in.Sponsors = map[int64]int64{}
		for _, id := range sponsors {
			in.Sponsors[id] = 0
		}
		res, err := s.Register(ctx, p.ID, in)
		if err != nil {
			t.Fatalf("register %s: %v", email, err)
		}
		return res
	}
	c.ann = signUp(0, c.first, "ann@example.com", c.globex.ID)
	c.ben = signUp(1, c.first, "ben@example.com", c.initech.ID)
	c.cat = signUp(2, c.first, "cat@example.com", c.globex.ID, c.initech.ID)
	c.dora = signUp(3, c.first, "dora@example.com", c.globex.ID)
	c.doraAgain = signUp(4, c.second, "Dora@Example.com", c.globex.ID)
	clock.Set(testNow.Add(5 * time.Minute))
	if ok, err := s.WithdrawConsent(ctx, c.ann.Registration.ID, ConsentSponsor, c.globex.ID, ChannelManage); err != nil || !ok {
		t.Fatalf("ann withdraws: %v, %v", ok, err)
	}
	return c
}

// leadLine is a Lead in a form that compares with == and prints readably.
type leadLine struct {
	RegistrationID                                    int64
	Email, Name                                       string
	GivenAt                                           string
	TextID                                            int64
	SessionID                                         int64
	PanelTitle                                        string
	Answers                                           string
	Source, Medium, Campaign, Term, Content, Referrer string
}

func leadsOf(t *testing.T, s *Store, panelID, sponsorID int64) []leadLine {
	t.Helper()
	sp, leads, err := s.SponsorLeads(context.Background(), panelID, sponsorID)
	if err != nil {
		t.Fatalf("leads of sponsor %d: %v", sponsorID, err)
	}
	if sp.ID != sponsorID || sp.PanelID != panelID {
		t.Fatalf("leads came with sponsor %+v; want %d of panel %d", sp, sponsorID, panelID)
	}
	out := make([]leadLine, len(leads))
	for i, l := range leads {
		line := leadLine{RegistrationID: l.ID, Email: l.Email, Name: l.Name, GivenAt: at(l.ConsentGivenAt),
			TextID: l.ConsentTextID, Source: l.Source, Medium: l.Medium, Campaign: l.Campaign, Term: l.Term,
			Content: l.Content, Referrer: l.Referrer}
		if l.Session != nil {
			line.SessionID = l.Session.ID
			if l.Session.Panel != nil {
				line.PanelTitle = l.Session.Panel.Title
			}
		}
		for _, a := range l.Answers {
			line.Answers += a.Value + ";"
		}
		out[i] = line
	}
	return out
}

// wantLead is the lead res's sign-up makes, its consent to sp given at the
// sign-up's minute.
func wantLead(res *RegisterResult, sp Sponsor, minute int, panelTitle string) leadLine {
	r := res.Registration
	return leadLine{RegistrationID: r.ID, Email: r.Email, Name: r.Name, GivenAt: at(testNow.Add(time.Duration(minute) * time.Minute)),
		TextID: *sp.ConsentTextID, SessionID: r.SessionID, PanelTitle: panelTitle, Answers: "Answer of " + r.Name + ";",
		Source: "src-" + r.Name, Medium: "email", Campaign: "spring", Term: "panels", Content: "cta",
		Referrer: "https://ref.example.com/" + r.Name}
}

func TestSponsorLeads_ListsThoseWhoseLatestConsentStandsOncePerPerson(t *testing.T) {
	s, clock := newTestStore(t)
	c := newLeadsCast(t, s, clock)
	title := c.panel.Title

	// Ann withdrew; Dora signed up twice and is one lead, from her latest
	// consent; the oldest consent comes first.
	wantGlobex := []leadLine{wantLead(c.cat, c.globex, 2, title), wantLead(c.doraAgain, c.globex, 4, title)}
	if got := leadsOf(t, s, c.panel.ID, c.globex.ID); !slices.Equal(got, wantGlobex) {
		t.Fatalf("Globex's leads:\n\t%+v\nwant\n\t%+v", got, wantGlobex)
	}
	wantInitech := []leadLine{wantLead(c.ben, c.initech, 1, title), wantLead(c.cat, c.initech, 2, title)}
	if got := leadsOf(t, s, c.panel.ID, c.initech.ID); !slices.Equal(got, wantInitech) {
		t.Fatalf("Initech's leads:\n\t%+v\nwant\n\t%+v", got, wantInitech)
	}
	if wantGlobex[1].SessionID != c.second.ID || wantGlobex[1].Email != "Dora@Example.com" {
		t.Fatalf("Dora's lead is %+v; want her second sign-up", wantGlobex[1])
	}
}

func TestSponsorLeads_SponsorOfAnotherPanelNotFound(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex")
	other, _ := sponsorPanel(t, s, "Other panel", "Umbrella")
	signUpWith(t, s, p.ID, sess.ID, "ada@example.com", false, p.Sponsors[0].ID)
	for _, tc := range []struct{ panelID, sponsorID int64 }{
		{p.ID, other.Sponsors[0].ID}, {other.ID, p.Sponsors[0].ID}, {p.ID, 999999},
	} {
		if sp, leads, err := s.SponsorLeads(ctx, tc.panelID, tc.sponsorID); !errors.Is(err, ErrNotFound) || sp != nil || leads != nil {
			t.Errorf("leads of sponsor %d on panel %d = %v, %d leads, %v; want ErrNotFound", tc.sponsorID, tc.panelID, sp, len(leads), err)
		}
	}
	if got := leadsOf(t, s, p.ID, p.Sponsors[0].ID); len(got) != 1 || got[0].Email != "ada@example.com" {
		t.Fatalf("the panel's own sponsor's leads = %+v; want ada", got)
	}
}
