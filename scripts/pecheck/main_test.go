package main

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// leaf is one resource for buildTree.
type leaf struct {
	typ, id uint32
	data    []byte
}

// buildTree lays out a resource tree (type, ID, one language) the way
// linkers do, at RVA base, and returns a reader over it.
func buildTree(base uint32, leaves []leaf) reader {
	byType := map[uint32][]leaf{}
	var types []uint32
	for _, l := range leaves {
		if _, ok := byType[l.typ]; !ok {
			types = append(types, l.typ)
		}
		byType[l.typ] = append(byType[l.typ], l)
	}
	dirSize := func(n int) uint32 { return 16 + 8*uint32(n) }
	// Offsets: root, then each type's ID directory, then each leaf's
	// language directory, then the data entries, then the data.
	off := dirSize(len(types))
	typeOff := map[uint32]uint32{}
	for _, t := range types {
		typeOff[t] = off
		off += dirSize(len(byType[t]))
	}
	langOff := make([]uint32, len(leaves))
	for i := range leaves {
		langOff[i] = off
		off += dirSize(1)
	}
	entryOff := make([]uint32, len(leaves))
	for i := range leaves {
		entryOff[i] = off
		off += 16
	}
	dataOff := make([]uint32, len(leaves))
	for i, l := range leaves {
		dataOff[i] = off
		off += uint32(len(l.data))
	}
	img := make([]byte, off)
	le := binary.LittleEndian
	dir := func(at uint32, n int) {
		le.PutUint16(img[at+14:], uint16(n))
	}
	dir(0, len(types))
	for i, t := range types {
		le.PutUint32(img[16+8*i:], t)
		le.PutUint32(img[16+8*i+4:], typeOff[t]|1<<31)
		dir(typeOff[t], len(byType[t]))
	}
	seen := map[uint32]int{}
	for i, l := range leaves {
		at := typeOff[l.typ] + 16 + 8*uint32(seen[l.typ])
		seen[l.typ]++
		le.PutUint32(img[at:], l.id)
		le.PutUint32(img[at+4:], langOff[i]|1<<31)
		dir(langOff[i], 1)
		le.PutUint32(img[langOff[i]+16:], 0x409)
		le.PutUint32(img[langOff[i]+20:], entryOff[i])
		le.PutUint32(img[entryOff[i]:], base+dataOff[i])
		le.PutUint32(img[entryOff[i]+4:], uint32(len(l.data)))
		copy(img[dataOff[i]:], l.data)
	}
	return func(rva, size uint32) ([]byte, error) {
		if rva < base || uint64(rva-base)+uint64(size) > uint64(len(img)) {
			return nil, fmt.Errorf("RVA %#x+%d out of range", rva, size)
		}
		return img[rva-base : rva-base+size], nil
	}
}

func iconGroup(entries ...[2]int) []byte { // {size, id}
	b := make([]byte, 6+14*len(entries))
	binary.LittleEndian.PutUint16(b[2:], 1)
	binary.LittleEndian.PutUint16(b[4:], uint16(len(entries)))
	for i, e := range entries {
		b[6+14*i] = byte(e[0])
		b[6+14*i+1] = byte(e[0])
		binary.LittleEndian.PutUint16(b[6+14*i+12:], uint16(e[1]))
	}
	return b
}

func versionInfo(a, b, c, d uint16) []byte {
	v := make([]byte, 40+52)
	binary.LittleEndian.PutUint32(v[40:], fixedFileInfoSignature)
	binary.LittleEndian.PutUint32(v[48:], uint32(a)<<16|uint32(b))
	binary.LittleEndian.PutUint32(v[52:], uint32(c)<<16|uint32(d))
	return v
}

func TestReadResources(t *testing.T) {
	const base = 0x5000
	read := buildTree(base, []leaf{
		{rtIcon, 1, []byte("png-256")},
		{rtIcon, 2, []byte("png-48")},
		{rtGroupIcon, 1, iconGroup([2]int{0, 1}, [2]int{48, 2})},
		{rtVersion, 1, versionInfo(0, 1, 0, 3)},
		{rtManifest, 1, []byte("<assembly/>")},
	})
	res, err := readResources(read, base)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res[rtIcon]); got != 2 {
		t.Errorf("RT_ICON: got %d, want 2", got)
	}
	if got := string(res[rtManifest][0].data); got != "<assembly/>" {
		t.Errorf("manifest = %q", got)
	}
	sizes, err := checkIconGroup(res[rtGroupIcon][0].data, res[rtIcon])
	if err != nil || strings.Join(sizes, " ") != "256x256 48x48" {
		t.Errorf("checkIconGroup = %v, %v; want 256x256 48x48", sizes, err)
	}
	v, err := fileVersion(res[rtVersion][0].data)
	if err != nil || v != "0.1.0.3" {
		t.Errorf("fileVersion = %q, %v; want 0.1.0.3", v, err)
	}
	want := "resource section with RT_ICON×2 RT_GROUP_ICON×1 RT_VERSION×1 RT_MANIFEST×1"
	if got := resourceSummary(res, nil); got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

func TestReadResourcesErrors(t *testing.T) {
	if _, err := readResources(buildTree(0x5000, nil), 0); err == nil {
		t.Error("no resource directory: want an error")
	}
	truncated := func(rva, size uint32) ([]byte, error) {
		if rva == 0x5000 {
			b := make([]byte, size)
			binary.LittleEndian.PutUint16(b[14:], 3) // three entries that are not there
			return b, nil
		}
		return nil, fmt.Errorf("RVA %#x out of range", rva)
	}
	if _, err := readResources(truncated, 0x5000); err == nil {
		t.Error("truncated directory: want an error")
	}
}

func TestCheckIconGroupErrors(t *testing.T) {
	icons := []resource{{id: 1, data: []byte("x")}}
	for name, group := range map[string][]byte{
		"empty":        nil,
		"not a group":  {0, 0, 2, 0, 1, 0},
		"no icons":     iconGroup(),
		"short":        iconGroup([2]int{0, 1})[:10],
		"missing icon": iconGroup([2]int{0, 1}, [2]int{32, 7}),
	} {
		if _, err := checkIconGroup(group, icons); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if _, err := fileVersion([]byte("no fixed info here")); err == nil {
		t.Error("fileVersion without VS_FIXEDFILEINFO: want an error")
	}
}
