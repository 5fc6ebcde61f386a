package ui

import (
	"image/png"
	"os"
	"path"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// browserGolden checks the window against a markup golden under
// testdata/browser, after laying it out as the desktop driver does before
// each frame. With BROWSER_PNG naming a folder it also writes the window
// there as a PNG, for looking at a state by eye.
func browserGolden(t *testing.T, h *browserHarness, name string) {
	t.Helper()
	browserSettle(h.w.Content())
	if dir := os.Getenv("BROWSER_PNG"); dir != "" {
		f, err := os.Create(path.Join(dir, strings.TrimSuffix(name, ".xml")+".png"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, h.w.Canvas().Capture()); err != nil {
			t.Fatal(err)
		}
	}
	test.AssertRendersToMarkup(t, "browser/"+name, h.w.Canvas())
}

// browserSettle lays out every container and widget again, top down. The
// desktop driver does this before each frame for objects whose minimum
// size changed; the test canvas does not, so a label whose text grew would
// otherwise keep its old place.
func browserSettle(o fyne.CanvasObject) {
	switch x := o.(type) {
	case *fyne.Container:
		if x.Layout != nil {
			x.Layout.Layout(x.Objects, x.Size())
		}
		for _, c := range x.Objects {
			browserSettle(c)
		}
	case fyne.Widget:
		r := test.WidgetRenderer(x)
		r.Layout(x.Size())
		for _, c := range r.Objects() {
			browserSettle(c)
		}
	}
}
