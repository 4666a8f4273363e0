package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests follow a sponsor's share link: made for one of the panel's
// sponsors for 1 to 90 days, opened (and counted) by its token, closed by
// its expiry, a revocation or the sponsor leaving the panel, and stored as
// the token's hash only.

// shareToken is what a share link's token looks like: 32 random bytes,
// base64url without padding.
var shareToken = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// newShareLink makes a link for days to the panel's sponsor, failing the
// test on an error.
func newShareLink(t *testing.T, s *Store, panelID, sponsorID int64, days int) (*ShareLink, string) {
	t.Helper()
	link, token, err := s.CreateShareLink(context.Background(), panelID, sponsorID, nil, days)
	if err != nil {
		t.Fatalf("share link to sponsor %d of panel %d for %d days: %v", sponsorID, panelID, days, err)
	}
	return link, token
}

// storedShareLink reads a link's row as it is stored.
func storedShareLink(t *testing.T, s *Store, id int64) ShareLink {
	t.Helper()
	var link ShareLink
	if err := s.read.Take(&link, id).Error; err != nil {
		t.Fatalf("share link %d: %v", id, err)
	}
	return link
}

// assertOpens opens the link behind token and checks the use it counted.
func assertOpens(t *testing.T, s *Store, token string, sp Sponsor, uses int, at time.Time) {
	t.Helper()
	link, got, err := s.OpenShareLink(context.Background(), token)
	if err != nil {
		t.Fatalf("open share link: %v", err)
	}
	if got.ID != sp.ID || got.PanelID != sp.PanelID || got.Name != sp.Name {
		t.Fatalf("the link opened sponsor %+v; want %s (%d) of panel %d", got, sp.Name, sp.ID, sp.PanelID)
	}
	if link.Uses != uses || link.LastUsedAt == nil || !link.LastUsedAt.Equal(at) {
		t.Fatalf("opened link: %d uses, last used %v; want %d, at %s", link.Uses, link.LastUsedAt, uses, at)
	}
	if stored := storedShareLink(t, s, link.ID); stored.Uses != uses || stored.LastUsedAt == nil || !stored.LastUsedAt.Equal(at) {
		t.Fatalf("stored link: %d uses, last used %v; want %d, at %s", stored.Uses, stored.LastUsedAt, uses, at)
	}
}

// assertClosed checks that the link behind token no longer opens, as a
// gone link, and that the refusal counted no use.
func assertClosed(t *testing.T, s *Store, token string, linkID int64) {
	t.Helper()
	before := storedShareLink(t, s, linkID)
	link, sp, err := s.OpenShareLink(context.Background(), token)
	if !errors.Is(err, ErrShareLinkClosed) || link != nil || sp != nil {
		t.Fatalf("open = %v, %v, %v; want ErrShareLinkClosed", link, sp, err)
	}
	if code := AsError(err).Code; code != CodeGone {
		t.Fatalf("a closed link's code = %s; want %s", code, CodeGone)
	}
	if after := storedShareLink(t, s, linkID); after.Uses != before.Uses || !samePtrTime(after.LastUsedAt, before.LastUsedAt) {
		t.Fatalf("a refused open counted a use: %d uses (last %v), %d before (last %v)",
			after.Uses, after.LastUsedAt, before.Uses, before.LastUsedAt)
	}
}

func samePtrTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func TestCreateShareLink_ForThePanelsSponsorExpiresAfterItsDays(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, _ := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	other, _ := sponsorPanel(t, s, "Other panel", "Umbrella")
	owner := newOwner(t, s)
	tokens := map[string]bool{}
	var made []ShareLink
	for i, tc := range []struct {
		sponsor Sponsor
		days    int
	}{{p.Sponsors[0], 1}, {p.Sponsors[1], DefaultShareDays}, {p.Sponsors[0], MaxShareDays}} {
		now := testNow.Add(time.Duration(i) * time.Hour)
		clock.Set(now)
		link, token, err := s.CreateShareLink(ctx, p.ID, tc.sponsor.ID, &owner.ID, tc.days)
		if err != nil {
			t.Fatalf("share link for %d days: %v", tc.days, err)
		}
		if !shareToken.MatchString(token) || tokens[token] {
			t.Fatalf("token %q; want 43 base64url characters, new each time", token)
		}
		tokens[token] = true
		want := ShareLink{ID: link.ID, SponsorID: tc.sponsor.ID, TokenHash: hashToken(token),
			ExpiresAt: now.AddDate(0, 0, tc.days), AccountID: &owner.ID, CreatedAt: now}
		if link.ID == 0 || !sameShareLink(*link, want) {
			t.Fatalf("link = %+v; want %+v", link, want)
		}
		if stored := storedShareLink(t, s, link.ID); !sameShareLink(stored, want) {
			t.Fatalf("stored link = %+v; want %+v", stored, want)
		}
		if !link.Active(now) || !link.Active(want.ExpiresAt.Add(-time.Second)) || link.Active(want.ExpiresAt) {
			t.Fatalf("a link expiring %s is not active just until then", want.ExpiresAt)
		}
		made = append(made, want)
	}

	listed, err := s.ShareLinks(ctx, p.ID)
	if err != nil || len(listed) != len(made) {
		t.Fatalf("share links = %+v, %v; want the %d made", listed, err, len(made))
	}
	for i, link := range listed { // newest first
		if want := made[len(made)-1-i]; !sameShareLink(link, want) {
			t.Errorf("listed link %d = %+v; want %+v", i, link, want)
		}
	}
	if theirs, err := s.ShareLinks(ctx, other.ID); err != nil || len(theirs) != 0 {
		t.Fatalf("the other panel's share links = %+v, %v; want none", theirs, err)
	}
}

// sameShareLink compares two links field by field, times by instant.
func sameShareLink(a, b ShareLink) bool {
	return a.ID == b.ID && a.SponsorID == b.SponsorID && a.TokenHash == b.TokenHash && a.ExpiresAt.Equal(b.ExpiresAt) &&
		samePtrTime(a.RevokedAt, b.RevokedAt) && samePtrInt(a.AccountID, b.AccountID) && a.CreatedAt.Equal(b.CreatedAt) &&
		samePtrTime(a.LastUsedAt, b.LastUsedAt) && a.Uses == b.Uses
}

func samePtrInt(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func TestCreateShareLink_RefusesDaysOutsideOneTo90AndStoresNothing(t *testing.T) {
	s, _ := newTestStore(t)
	p, _ := sponsorPanel(t, s, "Sponsored panel", "Globex")
	for _, days := range []int{0, -1, MaxShareDays + 1, 365, -1 << 31} {
		link, token, err := s.CreateShareLink(context.Background(), p.ID, p.Sponsors[0].ID, nil, days)
		var verr *ValidationError
		if !errors.As(err, &verr) || verr.Fields["days"] != "Choose from 1 to 90 days." || len(verr.Fields) != 1 ||
			link != nil || token != "" {
			t.Errorf("%d days = %v, %q, %v; want a message for \"days\" alone", days, link, token, err)
		}
	}
	if n := countWebhookRows(t, s, "sponsor_share_links", "1 = 1"); n != 0 {
		t.Fatalf("%d share links stored after refusals; want none", n)
	}
}

func TestCreateShareLink_SponsorNotOfThePanelNotFound(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, _ := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	other, _ := sponsorPanel(t, s, "Other panel", "Umbrella")
	if _, err := s.EditPanel(ctx, p.ID, func(p *Panel) { p.Sponsors = p.Sponsors[:1] }); err != nil {
		t.Fatal(err)
	}
	globex, removed, foreign := p.Sponsors[0].ID, p.Sponsors[1].ID, other.Sponsors[0].ID
	for _, tc := range []struct {
		name               string
		panelID, sponsorID int64
	}{
		{"another panel's sponsor", p.ID, foreign},
		{"the sponsor through another panel", other.ID, globex},
		{"a removed sponsor", p.ID, removed},
		{"a sponsor that never was", p.ID, 999999},
		{"a panel that never was", 999999, globex},
	} {
		if link, token, err := s.CreateShareLink(ctx, tc.panelID, tc.sponsorID, nil, 7); !errors.Is(err, ErrNotFound) ||
			link != nil || token != "" {
			t.Errorf("%s: create = %v, %q, %v; want ErrNotFound", tc.name, link, token, err)
		}
	}
	if n := countWebhookRows(t, s, "sponsor_share_links", "1 = 1"); n != 0 {
		t.Fatalf("%d share links stored after refusals; want none", n)
	}
}

func TestOpenShareLink_CountsEachUseAndWhen(t *testing.T) {
	s, clock := newTestStore(t)
	p, _ := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	link, token := newShareLink(t, s, p.ID, p.Sponsors[1].ID, 7)
	if stored := storedShareLink(t, s, link.ID); stored.Uses != 0 || stored.LastUsedAt != nil {
		t.Fatalf("a new link: %d uses, last used %v; want none", stored.Uses, stored.LastUsedAt)
	}
	first, second := testNow.Add(time.Hour), testNow.AddDate(0, 0, 6)
	clock.Set(first)
	assertOpens(t, s, token, p.Sponsors[1], 1, first)
	clock.Set(second)
	assertOpens(t, s, token, p.Sponsors[1], 2, second)

	// Another link of the same sponsor counts its own uses.
	_, again := newShareLink(t, s, p.ID, p.Sponsors[1].ID, 7)
	assertOpens(t, s, again, p.Sponsors[1], 1, second)
	if stored := storedShareLink(t, s, link.ID); stored.Uses != 2 {
		t.Fatalf("the first link has %d uses after the second's; want 2", stored.Uses)
	}
}

func TestOpenShareLink_ConcurrentOpensAreAllCounted(t *testing.T) {
	s, _ := newTestStore(t)
	p, _ := sponsorPanel(t, s, "Sponsored panel", "Globex")
	link, token := newShareLink(t, s, p.ID, p.Sponsors[0].ID, 7)
	const opens = 8
	var wg sync.WaitGroup
	errs := make(chan error, opens)
	for range opens {
		wg.Go(func() {
			if _, _, err := s.OpenShareLink(context.Background(), token); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("open: %v", err)
	}
	if stored := storedShareLink(t, s, link.ID); stored.Uses != opens {
		t.Fatalf("%d uses stored after %d opens", stored.Uses, opens)
	}
}

func TestOpenShareLink_ClosedOnceItExpires(t *testing.T) {
	s, clock := newTestStore(t)
	p, _ := sponsorPanel(t, s, "Sponsored panel", "Globex")
	link, token := newShareLink(t, s, p.ID, p.Sponsors[0].ID, 3)
	expires := testNow.AddDate(0, 0, 3)
	clock.Set(expires.Add(-time.Second))
	assertOpens(t, s, token, p.Sponsors[0], 1, expires.Add(-time.Second))
	for _, at := range []time.Time{expires, expires.Add(time.Second), expires.AddDate(1, 0, 0)} {
		clock.Set(at)
		assertClosed(t, s, token, link.ID)
	}
	// Going back before the expiry (a clock set back) opens it again: the
	// expiry is a time, not a state the link was moved to.
	clock.Set(expires.Add(-time.Minute))
	assertOpens(t, s, token, p.Sponsors[0], 2, expires.Add(-time.Minute))
}

func TestRevokeShareLink_ClosesTheLinkAtOnceAndOnlyThePanelsOwn(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, _ := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	other, _ := sponsorPanel(t, s, "Other panel", "Umbrella")
	link, token := newShareLink(t, s, p.ID, p.Sponsors[0].ID, 30)
	kept, keptToken := newShareLink(t, s, p.ID, p.Sponsors[0].ID, 30)
	theirs, theirToken := newShareLink(t, s, other.ID, other.Sponsors[0].ID, 30)
	assertOpens(t, s, token, p.Sponsors[0], 1, testNow)

	for _, tc := range []struct {
		name            string
		panelID, linkID int64
	}{
		{"another panel's link", p.ID, theirs.ID},
		{"the link through another panel", other.ID, link.ID},
		{"a link that never was", p.ID, 999999},
		{"a panel that never was", 999999, link.ID},
	} {
		if err := s.RevokeShareLink(ctx, tc.panelID, tc.linkID); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoking %s = %v; want ErrNotFound", tc.name, err)
		}
	}
	assertOpens(t, s, theirToken, other.Sponsors[0], 1, testNow)
	assertOpens(t, s, token, p.Sponsors[0], 2, testNow)

	revokedAt := testNow.Add(time.Hour)
	clock.Set(revokedAt)
	if err := s.RevokeShareLink(ctx, p.ID, link.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	assertClosed(t, s, token, link.ID)
	clock.Set(revokedAt.Add(time.Hour))
	if err := s.RevokeShareLink(ctx, p.ID, link.ID); err != nil {
		t.Fatalf("revoking again: %v; want it harmless", err)
	}
	if stored := storedShareLink(t, s, link.ID); stored.RevokedAt == nil || !stored.RevokedAt.Equal(revokedAt) ||
		stored.Active(testNow) {
		t.Fatalf("revoked link = %+v; want it revoked at %s, the first time", stored, revokedAt)
	}
	assertClosed(t, s, token, link.ID)
	// The sponsor's other link, and the other panel's, still open.
	assertOpens(t, s, keptToken, p.Sponsors[0], 1, revokedAt.Add(time.Hour))
	if stored := storedShareLink(t, s, kept.ID); stored.RevokedAt != nil {
		t.Fatalf("the sponsor's other link was revoked too: %+v", stored)
	}
}

func TestOpenShareLink_ClosedOnceTheSponsorLeavesThePanel(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, _ := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	globexLink, globexToken := newShareLink(t, s, p.ID, p.Sponsors[0].ID, 30)
	_, initechToken := newShareLink(t, s, p.ID, p.Sponsors[1].ID, 30)
	assertOpens(t, s, globexToken, p.Sponsors[0], 1, testNow)

	clock.Set(testNow.Add(time.Hour))
	if _, err := s.EditPanel(ctx, p.ID, func(p *Panel) { p.Sponsors = p.Sponsors[1:] }); err != nil {
		t.Fatal(err)
	}
	assertClosed(t, s, globexToken, globexLink.ID)
	assertOpens(t, s, initechToken, p.Sponsors[1], 1, testNow.Add(time.Hour))
	// The link stays listed (the admin shows what became of it) and can
	// still be revoked.
	listed, err := s.ShareLinks(ctx, p.ID)
	if err != nil || len(listed) != 2 || listed[1].ID != globexLink.ID {
		t.Fatalf("share links = %+v, %v; want both, the removed sponsor's included", listed, err)
	}
	if err := s.RevokeShareLink(ctx, p.ID, globexLink.ID); err != nil {
		t.Fatalf("revoking the removed sponsor's link: %v", err)
	}
	assertClosed(t, s, globexToken, globexLink.ID)
}

func TestOpenShareLink_UnknownOrMalformedTokenNotFound(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex")
	link, token := newShareLink(t, s, p.ID, p.Sponsors[0].ID, 30)
	// A registration's manage token has the same shape and hash, in
	// another table: it opens no share link.
	manage := signUpWith(t, s, p.ID, sess.ID, "ada@example.com", false, p.Sponsors[0].ID).Token
	flip := func(c byte) byte {
		if c == 'A' {
			return 'B'
		}
		return 'A'
	}
	for name, bad := range map[string]string{
		"empty":                     "",
		"short":                     "abc",
		"the token less its last":   token[:42],
		"the token and one more":    token + "A",
		"the token twice":           token + token,
		"its last character off":    token[:42] + string(flip(token[42])),
		"in capitals":               strings.ToUpper(token),
		"well-formed and unknown":   strings.Repeat("A", 43),
		"the token's hash":          hashToken(token),
		"the token's hash, clipped": hashToken(token)[:43],
		"a manage token":            manage,
		"SQL of 43 characters":      fmt.Sprintf("%-43s", "' OR '1'='1' --"),
		"LIKE wildcards":            strings.Repeat("%", 43),
		"NUL inside":                token[:21] + "\x00" + token[22:],
		"10,000 characters":         strings.Repeat("t", 10_000),
	} {
		if bad == token {
			continue // strings.ToUpper of a token without letters
		}
		if got, sp, err := s.OpenShareLink(context.Background(), bad); !errors.Is(err, ErrNotFound) || got != nil || sp != nil {
			t.Errorf("%s: open = %v, %v, %v; want ErrNotFound", name, got, sp, err)
		}
	}
	if stored := storedShareLink(t, s, link.ID); stored.Uses != 0 || stored.LastUsedAt != nil {
		t.Fatalf("bad tokens counted uses: %+v", stored)
	}
	assertOpens(t, s, token, p.Sponsors[0], 1, testNow)
}

func TestCreateShareLink_StoresOnlyTheTokensHash(t *testing.T) {
	s, _ := newTestStore(t)
	p, _ := sponsorPanel(t, s, "Sponsored panel", "Globex", "Initech")
	var tokens []string
	for _, sp := range p.Sponsors {
		_, token := newShareLink(t, s, p.ID, sp.ID, 7)
		tokens = append(tokens, token)
	}
	rows, err := s.read.Raw("SELECT * FROM sponsor_share_links ORDER BY id").Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for rows.Next() {
		values := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var line []string
		for i, v := range values {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			line = append(line, fmt.Sprintf("%s=%v", cols[i], v))
		}
		stored = append(stored, strings.Join(line, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(tokens) {
		t.Fatalf("%d rows stored; want %d", len(stored), len(tokens))
	}
	for i, token := range tokens {
		for _, row := range stored {
			if strings.Contains(row, token) {
				t.Errorf("a token is stored as it is: %s", row)
			}
		}
		if want := "token_hash=" + sha256Hex(token) + " "; !strings.Contains(stored[i], want) {
			t.Errorf("row %d = %s; want its token's SHA-256 (%s)", i, stored[i], sha256Hex(token))
		}
	}
}
