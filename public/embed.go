// Package public embeds Podium's static assets (CSS, JavaScript, images).
package public

import "embed"

// Files holds css/, js/ and img/, served under /public/.
//
//go:embed css js img
var Files embed.FS
