// Package assets holds the files Care Connect Explorer embeds in its binary.
package assets

import _ "embed"

// IconPNG is the app icon, 512×512 (drawn from icon.svg).
//
//go:embed icon.png
var IconPNG []byte

// IconSVG is the app icon as SVG, the source of IconPNG.
//
//go:embed icon.svg
var IconSVG []byte
