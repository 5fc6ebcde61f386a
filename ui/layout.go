package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
)

func layoutSpacer() fyne.CanvasObject { return layout.NewSpacer() }

// formLayout lays out label/field pairs in two columns: labels as wide as
// the widest label, fields taking the rest; each row as tall as its field.
type formLayout struct{}

func (formLayout) labelWidth(objects []fyne.CanvasObject) float32 {
	var w float32
	for i := 0; i+1 < len(objects); i += 2 {
		if objects[i].Visible() {
			w = max(w, objects[i].MinSize().Width)
		}
	}
	return w
}

func (f formLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	lw := f.labelWidth(objects)
	y := float32(0)
	for i := 0; i+1 < len(objects); i += 2 {
		label, field := objects[i], objects[i+1]
		h := max(label.MinSize().Height, field.MinSize().Height)
		label.Move(fyne.NewPos(0, y))
		label.Resize(fyne.NewSize(lw, label.MinSize().Height))
		field.Move(fyne.NewPos(lw+pad, y))
		field.Resize(fyne.NewSize(size.Width-lw-pad, h))
		y += h + pad
	}
}

func (f formLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	pad := theme.Padding()
	lw := f.labelWidth(objects)
	var w, h float32
	for i := 0; i+1 < len(objects); i += 2 {
		label, field := objects[i], objects[i+1]
		w = max(w, lw+pad+field.MinSize().Width)
		h += max(label.MinSize().Height, field.MinSize().Height) + pad
	}
	return fyne.NewSize(w, h)
}
