package handlers

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// routeMethods knows which methods each route path answers, so a request
// with another method on a known path gets 405 with Allow (RFC 9110 15.5.6)
// instead of 404.
type routeMethods []routePath

// routePath is one route path, split at its slashes, and its methods.
type routePath struct {
	segments []string
	methods  []string
}

// newRouteMethods reads the app's routes (middleware excluded).
func newRouteMethods(routes []fiber.Route) routeMethods {
	var table routeMethods
	for _, r := range routes {
		segments := strings.Split(strings.Trim(r.Path, "/"), "/")
		i := slices.IndexFunc(table, func(e routePath) bool { return slices.Equal(e.segments, segments) })
		if i < 0 {
			table = append(table, routePath{segments: segments})
			i = len(table) - 1
		}
		if !slices.Contains(table[i].methods, r.Method) {
			table[i].methods = append(table[i].methods, r.Method)
		}
	}
	return table
}

// allowed lists the methods of the routes whose path matches path, sorted;
// none when no route has that path.
func (t routeMethods) allowed(path string) []string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var methods []string
	for _, e := range t {
		if segmentsMatch(e.segments, parts) {
			methods = append(methods, e.methods...)
		}
	}
	slices.Sort(methods)
	return slices.Compact(methods)
}

// segmentsMatch matches a route's segments (literals, ":param", ":param.ext",
// a final "*") against a path's, ignoring case as Fiber's router does.
func segmentsMatch(route, path []string) bool {
	if n := len(route); n > 0 && route[n-1] == "*" && len(path) >= n {
		route, path = route[:n-1], path[:n-1]
	}
	if len(route) != len(path) {
		return false
	}
	for i, seg := range route {
		name, isParam := strings.CutPrefix(seg, ":")
		switch {
		case !isParam && !strings.EqualFold(seg, path[i]):
			return false
		case isParam && path[i] == "":
			return false
		case isParam && strings.Contains(name, "."):
			_, ext, _ := strings.Cut(name, ".")
			if !strings.HasSuffix(strings.ToLower(path[i]), "."+strings.ToLower(ext)) {
				return false
			}
		}
	}
	return true
}
