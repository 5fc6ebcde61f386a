package assets

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"golang.org/x/image/draw"
)

// TestWindowIconIsTheAppIconScaled checks that the small window icon is
// icon.png at 128×128 and not some other picture: it scales icon.png the
// way icon-128.png was made and compares the pixels.
func TestWindowIconIsTheAppIconScaled(t *testing.T) {
	big, err := png.Decode(bytes.NewReader(IconPNG))
	if err != nil {
		t.Fatalf("icon.png: %v", err)
	}
	if b := big.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Fatalf("icon.png is %v, want 512×512 (packaging needs it)", b)
	}
	small, err := png.Decode(bytes.NewReader(WindowIconPNG))
	if err != nil {
		t.Fatalf("icon-128.png: %v", err)
	}
	if b := small.Bounds(); b.Dx() != 128 || b.Dy() != 128 {
		t.Fatalf("icon-128.png is %v, want 128×128", b)
	}
	want := image.NewNRGBA(image.Rect(0, 0, 128, 128))
	draw.CatmullRom.Scale(want, want.Bounds(), big, big.Bounds(), draw.Src, nil)
	for y := 0; y < 128; y++ {
		for x := 0; x < 128; x++ {
			r1, g1, b1, a1 := small.At(x, y).RGBA()
			r2, g2, b2, a2 := want.At(x, y).RGBA()
			if diff(r1, r2) > 0x200 || diff(g1, g2) > 0x200 || diff(b1, b2) > 0x200 || diff(a1, a2) > 0x200 {
				t.Fatalf("icon-128.png differs from icon.png scaled at (%d,%d): %x %x %x %x, want %x %x %x %x",
					x, y, r1, g1, b1, a1, r2, g2, b2, a2)
			}
		}
	}
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
