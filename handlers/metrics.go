package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"podium/models"
)

// Metrics are Podium's Prometheus metrics. They are served by Handler on an
// address of their own (PODIUM_METRICS_ADDR), never on the public port.
type Metrics struct {
	registry      *prometheus.Registry
	requests      *prometheus.HistogramVec
	registrations *prometheus.CounterVec
	deliveries    *prometheus.CounterVec
}

// NewMetrics registers Podium's metrics, the Go runtime's and the process's.
// Outbox figures are read from the database at each scrape, so they are
// right across restarts and several workers.
func NewMetrics(store *models.Store) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "podium_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route pattern and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "code"}),
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "podium_registrations_total",
			Help: "Sign-ups answered, by result: confirmed, waitlisted, duplicate (the address already held a place).",
		}, []string{"result"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "podium_mail_deliveries_total",
			Help: "Email delivery attempts, by outcome: sent, retry (temporary failure), failed (refused or out of attempts), skipped (overtaken).",
		}, []string{"outcome"}),
	}
	m.registry.MustRegister(m.requests, m.registrations, m.deliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&outboxCollector{store: store})
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveDeliveries counts the outcomes of a batch of delivery attempts.
func (m *Metrics) ObserveDeliveries(results []models.DeliveryResult) {
	for _, r := range results {
		outcome := r.Outcome()
		if outcome == models.OutboxQueued {
			outcome = "retry"
		}
		m.deliveries.WithLabelValues(string(outcome)).Inc()
	}
}

func (m *Metrics) observeRegistration(res *models.RegisterResult) {
	result := string(res.Registration.Status)
	if res.Duplicate {
		result = "duplicate"
	}
	m.registrations.WithLabelValues(result).Inc()
}

// measure times every request by its route pattern (never the raw path, so
// the number of series stays small). Errors are answered here, so the status
// recorded is the one the client gets.
func (m *Metrics) measure(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if err := c.App().ErrorHandler(c, err); err != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	route := c.Route().Path
	if c.Locals(unmatchedKey) != nil {
		route = "unmatched"
	}
	// The method is cloned: Fiber's string points into a reused buffer, and
	// the metric keeps its label values.
	m.requests.WithLabelValues(strings.Clone(c.Method()), route, strconv.Itoa(c.Response().StatusCode())).
		Observe(time.Since(start).Seconds())
	return nil
}

// unmatchedKey marks a request no route matched, so its path, which anyone
// can choose, never becomes a label.
const unmatchedKey = "podium-unmatched"

// outboxCollector reads the outbox's depth and age at scrape time.
type outboxCollector struct{ store *models.Store }

var (
	outboxMessagesDesc = prometheus.NewDesc("podium_outbox_messages",
		"Messages in the outbox, by status (queued and sending are still to be delivered).", []string{"status"}, nil)
	outboxAgeDesc = prometheus.NewDesc("podium_outbox_oldest_waiting_seconds",
		"Age of the oldest message still to be delivered; 0 when none waits.", nil, nil)
	outboxUpDesc = prometheus.NewDesc("podium_database_up",
		"1 when the database answered the outbox query at this scrape.", nil, nil)
)

func (o *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxMessagesDesc
	ch <- outboxAgeDesc
	ch <- outboxUpDesc
}

func (o *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := o.store.OutboxCounts(ctx)
	var oldest time.Time
	if err == nil {
		oldest, err = o.store.OldestWaiting(ctx)
	}
	if err != nil {
		ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 1)
	for _, status := range []models.OutboxStatus{models.OutboxQueued, models.OutboxSending, models.OutboxSent, models.OutboxFailed, models.OutboxSkipped} {
		ch <- prometheus.MustNewConstMetric(outboxMessagesDesc, prometheus.GaugeValue, float64(counts[status]), string(status))
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(o.store.Now().Sub(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, age)
}
