package handlers

import (
	"bytes"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
)

// contentSecurityPolicy is every page's CSP: no inline script, nothing from
// elsewhere, no framing (the promo card relaxes frame-ancestors, embed.go).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

// permissionsPolicy turns off the browser features no Podium page uses.
const permissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

// hstsMaxAge is how long browsers keep to HTTPS once told.
const hstsMaxAge = 365 * 24 * time.Hour

// securityHeaders are the headers every response carries, errors included:
// Fiber's helmet middleware would set them only on requests that reach the
// router, and fasthttp's own errors (a malformed request, a header too
// large, a body too large) do not. HSTS goes with an https PODIUM_BASE_URL,
// whatever a client says its scheme was: X-Forwarded-Proto is not read.
func securityHeaders(secure, hstsSubdomains bool) [][2]string {
	headers := [][2]string{
		{fiber.HeaderContentSecurityPolicy, contentSecurityPolicy},
		{fiber.HeaderPermissionsPolicy, permissionsPolicy},
		{fiber.HeaderReferrerPolicy, "strict-origin-when-cross-origin"},
		{fiber.HeaderXFrameOptions, "DENY"},
		{fiber.HeaderXContentTypeOptions, "nosniff"},
		{fiber.HeaderXXSSProtection, "0"},
		{"Cross-Origin-Embedder-Policy", "require-corp"},
		{"Cross-Origin-Opener-Policy", "same-origin"},
		{"Cross-Origin-Resource-Policy", "same-origin"},
		{"Origin-Agent-Cluster", "?1"},
		{"X-DNS-Prefetch-Control", "off"},
		{"X-Download-Options", "noopen"},
		{"X-Permitted-Cross-Domain-Policies", "none"},
	}
	if secure {
		hsts := "max-age=" + strconv.Itoa(int(hstsMaxAge.Seconds()))
		if hstsSubdomains {
			hsts += "; includeSubDomains"
		}
		headers = append(headers, [2]string{fiber.HeaderStrictTransportSecurity, hsts})
	}
	return headers
}

// setSecurityHeaders sets securityHeaders on the response.
func (h *Handlers) setSecurityHeaders(c *fiber.Ctx) {
	for _, kv := range h.headers {
		c.Set(kv[0], kv[1])
	}
}

// secureResponses is the middleware that sets the security headers; a
// handler may relax one for its own response (the promo card's framing).
func (h *Handlers) secureResponses(c *fiber.Ctx) error {
	h.setSecurityHeaders(c)
	return c.Next()
}

// errAmbiguousFraming refuses a request whose body length two readers could
// read differently (RFC 9112 6.1 and 6.3).
var errAmbiguousFraming = fiber.NewError(fiber.StatusBadRequest,
	"The request's length is ambiguous: send either Content-Length or Transfer-Encoding: chunked.")

// refuseAmbiguousFraming answers 400 and closes the connection when a request
// carries both Content-Length and Transfer-Encoding, more than one
// Transfer-Encoding, or one that is not exactly "chunked": behind a proxy
// that frames requests the other way, the rest of such a body would be
// read as a second, smuggled request. fasthttp refuses most such requests
// itself; this reads the raw header block for the ones it lets through.
func refuseAmbiguousFraming(c *fiber.Ctx) error {
	raw := c.Request().Header.RawHeaders()
	if !containsFold(raw, transferEncoding) {
		return c.Next()
	}
	encodings, lengths, exact := 0, 0, true
	for line := range bytes.SplitSeq(raw, []byte("\r\n")) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		switch {
		case !ok:
		case bytes.EqualFold(name, []byte(fiber.HeaderTransferEncoding)):
			encodings++
			exact = exact && string(bytes.TrimLeft(value, " ")) == "chunked"
		case bytes.EqualFold(name, []byte(fiber.HeaderContentLength)):
			lengths++
		}
	}
	if encodings == 0 || (encodings == 1 && lengths == 0 && exact) {
		return c.Next()
	}
	c.Context().SetConnectionClose()
	return errAmbiguousFraming
}

// transferEncoding is the header name refuseAmbiguousFraming looks for.
var transferEncoding = []byte(fiber.HeaderTransferEncoding)

// containsFold reports whether s holds sub, ignoring ASCII case, without
// the copy a lower-casing would make on every request.
func containsFold(s, sub []byte) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if (s[i]|0x20) == (sub[0]|0x20) && bytes.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
