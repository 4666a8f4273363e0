package views

import (
	"strconv"
	"time"

	"podium/models"
)

// DashboardPage is the admin's first page: what is coming up, how sign-ups
// are going and whether email is flowing.
type DashboardPage struct {
	AdminPage
	Sessions []SessionFill
	// MoreSessions counts upcoming sessions beyond those listed.
	MoreSessions int
	Chart        BarChart
	Outbox       OutboxHealth
	// Sources are every panel's registrations by first touch.
	Sources SourceTable
}

// dashboardSessions is how many upcoming sessions the dashboard lists.
const dashboardSessions = 10

// ChartDays is how many days the dashboard's registrations chart covers.
const ChartDays = 30

// SessionFill is an upcoming session with how full it is.
type SessionFill struct {
	Panel, URL, When string
	// Taken is "45 of 100 places" or "45 places (no limit)".
	Taken      string
	Percent    int // 0–100, for the meter
	HasLimit   bool
	Waitlisted int
}

// NewDashboardPage builds the dashboard.
func NewDashboardPage(frame AdminPage, upcoming []models.SessionOverview, days []models.DayCount, health OutboxHealth, now time.Time) DashboardPage {
	page := DashboardPage{AdminPage: frame, Chart: NewRegistrationsChart(days), Outbox: health}
	for i, o := range upcoming {
		if i == dashboardSessions {
			page.MoreSessions = len(upcoming) - i
			break
		}
		page.Sessions = append(page.Sessions, newSessionFill(o, now))
	}
	return page
}

// WithSources adds every panel's registrations by source.
func (p DashboardPage) WithSources(counts []models.SourceCount) DashboardPage {
	p.Sources = NewSourceTable("Registrations for every panel by source, the largest first", counts)
	return p
}

func newSessionFill(o models.SessionOverview, now time.Time) SessionFill {
	s := o.Session
	v := NewSessionView(s, now)
	fill := SessionFill{
		URL: AdminSessionURL(s.PanelID, s.ID), When: v.ShortDate + ", " + v.Time + " " + v.Zone,
		Waitlisted: o.Waitlisted, HasLimit: s.Capacity > 0,
	}
	if s.Panel != nil {
		fill.Panel = s.Panel.Title
	}
	if fill.HasLimit {
		fill.Percent = min(max(o.FillPercent(), 0), 100)
		fill.Taken = formatCount(s.SeatsTaken) + " of " + plural(s.Capacity, "place", "places") + " (" + strconv.Itoa(fill.Percent) + "%)"
	} else {
		fill.Taken = plural(s.SeatsTaken, "place", "places") + " taken (no limit)"
	}
	return fill
}

// BarChart is a server-rendered SVG bar chart with a table alternative. Its
// coordinates are in the SVG's viewBox units.
type BarChart struct {
	Title, Desc   string
	Width, Height int
	PlotLeft      int
	PlotRight     int
	PlotTop       int
	PlotBottom    int
	Bars          []ChartBar
	YTicks        []ChartTick
	XLabels       []ChartTick
	Total         int
}

// ChartBar is one day's bar; Label and Value also fill the table.
type ChartBar struct {
	X, Y, Width, Height int
	Label               string
	Value               int
	Title               string
}

// ChartTick is an axis label at a position.
type ChartTick struct {
	X, Y  int
	Label string
}

// The chart's geometry, in viewBox units.
const (
	chartWidth  = 720
	chartHeight = 240
	chartLeft   = 44
	chartRight  = 710
	chartTop    = 12
	chartBottom = 206
	chartYTicks = 4
)

// NewRegistrationsChart draws registrations per day: one bar a day, a
// labelled value axis with round steps, and every seventh day named,
// counting back from the last.
func NewRegistrationsChart(days []models.DayCount) BarChart {
	c := BarChart{Title: "Registrations per day", Width: chartWidth, Height: chartHeight,
		PlotLeft: chartLeft, PlotRight: chartRight, PlotTop: chartTop, PlotBottom: chartBottom}
	peak, peakDay := 0, ""
	for _, d := range days {
		c.Total += d.Count
		if d.Count > peak {
			peak, peakDay = d.Count, dayLabel(d.Day)
		}
	}
	step := niceStep(peak, chartYTicks)
	top := step * chartYTicks
	plotHeight := chartBottom - chartTop
	for i := 0; i <= chartYTicks; i++ {
		y := chartBottom - i*plotHeight/chartYTicks
		c.YTicks = append(c.YTicks, ChartTick{X: chartLeft - 6, Y: y, Label: formatCount(i * step)})
	}
	if len(days) == 0 {
		c.Desc = "No registrations in this period."
		return c
	}
	slot := (chartRight - chartLeft) / len(days)
	for i, d := range days {
		h := d.Count * plotHeight / top
		x := chartLeft + i*slot + slot/6
		label := dayLabel(d.Day)
		c.Bars = append(c.Bars, ChartBar{
			X: x, Y: chartBottom - h, Width: max(slot-slot/3, 1), Height: h, Label: label, Value: d.Count,
			Title: label + ": " + plural(d.Count, "registration", "registrations"),
		})
		if (len(days)-1-i)%7 == 0 {
			c.XLabels = append(c.XLabels, ChartTick{X: x + (slot-slot/3)/2, Y: chartBottom + 20, Label: label})
		}
	}
	c.Desc = "Registrations per day from " + dayLabel(days[0].Day) + " to " + dayLabel(days[len(days)-1].Day) +
		": " + plural(c.Total, "registration", "registrations") + " in total"
	if peak > 0 {
		c.Desc += ", the most on " + peakDay + " (" + formatCount(peak) + ")"
	}
	c.Desc += "."
	return c
}

// niceStep is the smallest step of 1, 2 or 5 times a power of ten such that
// ticks steps reach peak.
func niceStep(peak, ticks int) int {
	for base := 1; ; base *= 10 {
		for _, m := range []int{1, 2, 5} {
			if step := base * m; step*ticks >= peak {
				return step
			}
		}
	}
}

func dayLabel(t time.Time) string { return t.UTC().Format("2 Jan") }
