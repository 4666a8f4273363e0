package models

import (
	"context"
	"time"
)

// SeedDemo gives an empty database one published demo panel with a session
// two weeks ahead at 3:00 PM London time, so a newcomer sees Podium working.
// It does nothing when any panel exists. Instances started together seed it
// once: the check and the insert run under the migration lock.
func (s *Store) SeedDemo(ctx context.Context) (seeded bool, err error) {
	err = s.withMigrationLock(ctx, func() error {
		var err error
		seeded, err = s.seedDemo(ctx)
		return err
	})
	return seeded, err
}

func (s *Store) seedDemo(ctx context.Context) (bool, error) {
	n, err := s.CountPanels(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		return false, err
	}
	day := s.Now().In(london).AddDate(0, 0, 14)
	start := time.Date(day.Year(), day.Month(), day.Day(), 15, 0, 0, 0, london)
	p := demoPanel(start)
	return true, s.CreatePanel(ctx, p)
}

func demoPanel(start time.Time) *Panel {
	return &Panel{
		FollowUps: DefaultFollowUps,
		Slug:      "keeping-the-lights-on",
		Title:     "Keeping the lights on: resilient public services in a digital winter",
		Format:    "Free virtual panel discussion",
		Summary: "Outages, cyber attacks and stretched budgets test every council and agency. " +
			"Four people who have kept critical services running share what worked, what failed and what they would do differently.",
		Description: "When a payment system goes dark or a ransomware note appears on a screen, the quality of a public service " +
			"is decided by choices made months earlier. This hour-long discussion brings together a chief information officer, " +
			"a resilience planner, a security researcher and a frontline service manager to compare notes on preparing for bad days.\n\n" +
			"Bring your questions: the last twenty minutes are open to the audience.",
		OrganizerName:  "Podium Events",
		OrganizerEmail: "events@podium.example",
		Status:         PanelPublished,
		LearningPoints: []LearningPoint{
			{Text: "How to rank services by the harm an outage would cause, and fund resilience accordingly"},
			{Text: "What a realistic incident exercise looks like, and who must be in the room"},
			{Text: "Keeping residents informed when your own website is down"},
			{Text: "Contracts and suppliers: the clauses that matter when something breaks"},
		},
		Speakers: []Speaker{
			{Name: "Amara Okafor", Role: "Chief Information Officer", Organisation: "Northgate Borough Council",
				Bio: "Led her council's recovery from a week-long systems outage in 2024."},
			{Name: "Tomasz Wójcik", Role: "Head of Resilience Planning", Organisation: "Regional Health Partnership",
				Bio: "Designs incident exercises for hospitals and community services."},
			{Name: "Priya Raman", Role: "Security Researcher", Organisation: "Open Infrastructure Lab",
				Bio: "Studies how attackers choose public-sector targets."},
			{Name: "Sam Whitfield", Role: "Customer Services Manager", Organisation: "Eastmoor District Council",
				Bio: "Ran the phones, and the paper forms, through two major outages."},
		},
		Sessions: []Session{{
			StartsAt:        start,
			DurationMinutes: 60,
			TimeZone:        "Europe/London",
			Capacity:        100,
			Waitlist:        true,
			JoinURL:         "https://meet.podium.example/keeping-the-lights-on",
		}},
	}
}
