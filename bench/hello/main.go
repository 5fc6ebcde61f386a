// Command hello is the baseline for the start-up and idle-memory figures of
// the benchmark harness: a bare Fyne hello-world window, the same size as
// Care Connect Explorer's, built with the same flags. Built plainly it links
// nothing of the app's own packages (with -tags linked it links all of them:
// linked.go). It is the one package outside ui/ and main.go
// that imports Fyne, by necessity: a bare Fyne window is what it measures.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

// atMain runs first in main: nothing here; with -tags linked, what the
// app's main does first (linked.go).
var atMain = func() {}

func main() {
	atMain()
	a := app.NewWithID("org.careconnectexplorer.benchhello")
	w := a.NewWindow("Hello")
	w.SetContent(widget.NewLabel("Hello, world"))
	w.Resize(fyne.NewSize(1280, 800))
	w.ShowAndRun()
}
