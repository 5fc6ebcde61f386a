// Package assets holds the files Care Connect Explorer embeds in its binary.
package assets

import _ "embed"

// IconPNG is the app icon, 512×512 (drawn from icon.svg). Packaging uses it
// (FyneApp.toml), where the desktop asks for large sizes.
//
//go:embed icon.png
var IconPNG []byte

// WindowIconPNG is the app icon at 128×128: icon.png scaled down with
// golang.org/x/image/draw's CatmullRom. The running app gives it to the
// window manager; a 512×512 icon cost about 14 ms of start-up before the
// window could map (PNG decode, then 1 MB of pixels sent to the X server
// as _NET_WM_ICON), for a picture title bars and task bars show at 16–64 px.
//
//go:embed icon-128.png
var WindowIconPNG []byte

// IconSVG is the app icon as SVG, the source of IconPNG.
//
//go:embed icon.svg
var IconSVG []byte
