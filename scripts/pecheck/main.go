// Command pecheck checks that a Windows executable is what the release
// package should be: a 64-bit (PE32+) x86-64 program for the GUI subsystem,
// with an icon and a version resource embedded. CI runs it on the
// cross-compiled ccexplorer.exe (see scripts/check-packages.sh).
//
// Usage:
//
//	go run ./scripts/pecheck [-version 0.1.0] ccexplorer.exe
//
// With -version it also checks that the version resource's file version
// starts with that version. It prints one line per check and exits 1 when
// any check fails.
package main

import (
	"debug/pe"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Resource types (winuser.h).
const (
	rtIcon      = 3
	rtGroupIcon = 14
	rtVersion   = 16
	rtManifest  = 24
)

// fixedFileInfoSignature starts a VS_FIXEDFILEINFO block.
const fixedFileInfoSignature = 0xFEEF04BD

func main() {
	version := flag.String("version", "", "expected version `x.y.z` in the version resource")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: pecheck [-version x.y.z] file.exe")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := check(os.Stdout, flag.Arg(0), *version); err != nil {
		fmt.Fprintf(os.Stderr, "pecheck: %v\n", err)
		os.Exit(1)
	}
}

// check runs every check on the executable at path, reports each one to w
// and returns an error naming the ones that failed.
func check(w io.Writer, path, version string) error {
	f, err := pe.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not a readable PE executable: %w", path, err)
	}
	defer f.Close()

	var failed []string
	report := func(ok bool, what string) {
		if ok {
			fmt.Fprintf(w, "ok:   %s\n", what)
			return
		}
		fmt.Fprintf(w, "FAIL: %s\n", what)
		failed = append(failed, what)
	}

	report(f.Machine == pe.IMAGE_FILE_MACHINE_AMD64,
		fmt.Sprintf("machine is x86-64 (found %#x)", f.Machine))
	oh, is64 := f.OptionalHeader.(*pe.OptionalHeader64)
	report(is64, "PE32+ (64-bit) optional header")
	if !is64 {
		return fmt.Errorf("%s: %s", path, strings.Join(failed, "; "))
	}
	report(oh.Subsystem == pe.IMAGE_SUBSYSTEM_WINDOWS_GUI,
		fmt.Sprintf("subsystem is Windows GUI, 2 (found %d, %s)", oh.Subsystem, subsystemName(oh.Subsystem)))
	report(f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE != 0 && f.Characteristics&pe.IMAGE_FILE_DLL == 0,
		"an executable image, not a DLL")

	dir := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE]
	res, err := readResources(imageReader(f), dir.VirtualAddress)
	report(err == nil, resourceSummary(res, err))

	groups := res[rtGroupIcon]
	report(len(groups) > 0, fmt.Sprintf("an icon group (RT_GROUP_ICON): %d found", len(groups)))
	for _, g := range groups {
		sizes, err := checkIconGroup(g.data, res[rtIcon])
		report(err == nil, fmt.Sprintf("icon group %s: %s", g.name, orError(strings.Join(sizes, ", "), err)))
	}

	versions := res[rtVersion]
	report(len(versions) > 0, fmt.Sprintf("a version resource (RT_VERSION): %d found", len(versions)))
	if version != "" && len(versions) > 0 {
		got, err := fileVersion(versions[0].data)
		report(err == nil && strings.HasPrefix(got+".", version+"."),
			fmt.Sprintf("file version %s starts with %s", orError(got, err), version))
	}

	if len(failed) > 0 {
		return fmt.Errorf("%s: %d check(s) failed: %s", path, len(failed), strings.Join(failed, "; "))
	}
	return nil
}

func orError(s string, err error) string {
	if err != nil {
		return err.Error()
	}
	return s
}

func subsystemName(s uint16) string {
	switch s {
	case pe.IMAGE_SUBSYSTEM_WINDOWS_GUI:
		return "WINDOWS_GUI"
	case pe.IMAGE_SUBSYSTEM_WINDOWS_CUI:
		return "WINDOWS_CUI, a console program"
	}
	return "unexpected"
}

func resourceSummary(res map[uint32][]resource, err error) string {
	if err != nil {
		return "resource section: " + err.Error()
	}
	types := make([]int, 0, len(res))
	for t := range res {
		types = append(types, int(t))
	}
	sort.Ints(types)
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = fmt.Sprintf("%s×%d", typeName(uint32(t)), len(res[uint32(t)]))
	}
	return "resource section with " + strings.Join(names, " ")
}

func typeName(t uint32) string {
	switch t {
	case rtIcon:
		return "RT_ICON"
	case rtGroupIcon:
		return "RT_GROUP_ICON"
	case rtVersion:
		return "RT_VERSION"
	case rtManifest:
		return "RT_MANIFEST"
	}
	return fmt.Sprintf("type%d", t)
}

// resource is one leaf of the resource tree: a resource of some type, by
// name or ID, in one language.
type resource struct {
	id   uint32 // the resource's ID; 0 when it has a string name
	name string // "#ID" or the string name, for messages
	data []byte
}

// reader returns size bytes of the loaded image at the relative virtual
// address rva.
type reader func(rva, size uint32) ([]byte, error)

// imageReader reads a PE file's bytes by relative virtual address.
func imageReader(f *pe.File) reader {
	return func(rva, size uint32) ([]byte, error) {
		for _, s := range f.Sections {
			if rva < s.VirtualAddress || rva-s.VirtualAddress >= max(s.VirtualSize, s.Size) {
				continue
			}
			off := rva - s.VirtualAddress
			if uint64(off)+uint64(size) > uint64(s.Size) {
				return nil, fmt.Errorf("%d bytes at RVA %#x run past section %s", size, rva, s.Name)
			}
			b := make([]byte, size)
			if _, err := s.ReadAt(b, int64(off)); err != nil {
				return nil, fmt.Errorf("read section %s: %w", s.Name, err)
			}
			return b, nil
		}
		return nil, fmt.Errorf("RVA %#x is in no section", rva)
	}
}

// readResources walks the resource tree at RVA root (type, then name or ID,
// then language) and returns its leaves by type ID. Types with string names
// are skipped.
func readResources(read reader, root uint32) (map[uint32][]resource, error) {
	if root == 0 {
		return nil, errors.New("no resource directory (the icon and version info were not linked in)")
	}
	types, err := readDir(read, root, 0)
	if err != nil {
		return nil, err
	}
	res := map[uint32][]resource{}
	for _, t := range types {
		if t.named || !t.subdir {
			continue
		}
		names, err := readDir(read, root, t.offset)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if !n.subdir {
				continue
			}
			name := fmt.Sprintf("#%d", n.id)
			if n.named {
				name = "named"
			}
			langs, err := readDir(read, root, n.offset)
			if err != nil {
				return nil, err
			}
			for _, l := range langs {
				if l.subdir {
					return nil, errors.New("resource tree deeper than type/name/language")
				}
				// IMAGE_RESOURCE_DATA_ENTRY: RVA, size, code page, reserved.
				entry, err := read(root+l.offset, 16)
				if err != nil {
					return nil, fmt.Errorf("resource %s data entry: %w", name, err)
				}
				rva := binary.LittleEndian.Uint32(entry[0:])
				size := binary.LittleEndian.Uint32(entry[4:])
				data, err := read(rva, size)
				if err != nil {
					return nil, fmt.Errorf("resource %s of type %d: %w", name, t.id, err)
				}
				id := n.id
				if n.named {
					id = 0
				}
				res[t.id] = append(res[t.id], resource{id: id, name: name, data: data})
			}
		}
	}
	return res, nil
}

type dirEntry struct {
	id     uint32 // ID, or offset of the name string when named
	named  bool
	subdir bool
	offset uint32 // from the root of the resource tree
}

// readDir reads the IMAGE_RESOURCE_DIRECTORY at offset off from root.
func readDir(read reader, root, off uint32) ([]dirEntry, error) {
	hdr, err := read(root+off, 16)
	if err != nil {
		return nil, fmt.Errorf("resource directory: %w", err)
	}
	n := uint32(binary.LittleEndian.Uint16(hdr[12:])) + uint32(binary.LittleEndian.Uint16(hdr[14:]))
	if n > 4096 {
		return nil, fmt.Errorf("resource directory claims %d entries", n)
	}
	raw, err := read(root+off+16, 8*n)
	if err != nil {
		return nil, fmt.Errorf("resource directory entries: %w", err)
	}
	entries := make([]dirEntry, n)
	for i := range entries {
		name := binary.LittleEndian.Uint32(raw[8*i:])
		data := binary.LittleEndian.Uint32(raw[8*i+4:])
		entries[i] = dirEntry{
			id:     name &^ (1 << 31),
			named:  name&(1<<31) != 0,
			subdir: data&(1<<31) != 0,
			offset: data &^ (1 << 31),
		}
	}
	return entries, nil
}

// checkIconGroup parses a GRPICONDIR and checks that every icon it lists is
// present among icons. It returns the icons' sizes.
func checkIconGroup(group []byte, icons []resource) ([]string, error) {
	if len(group) < 6 || binary.LittleEndian.Uint16(group[0:]) != 0 || binary.LittleEndian.Uint16(group[2:]) != 1 {
		return nil, errors.New("not an icon group header")
	}
	n := int(binary.LittleEndian.Uint16(group[4:]))
	if n == 0 {
		return nil, errors.New("icon group lists no icons")
	}
	if len(group) < 6+14*n {
		return nil, fmt.Errorf("icon group of %d bytes is too short for %d icons", len(group), n)
	}
	have := map[uint32]int{}
	for _, ic := range icons {
		have[ic.id] = len(ic.data)
	}
	var sizes []string
	for i := range n {
		e := group[6+14*i:]
		w, h := int(e[0]), int(e[1])
		if w == 0 {
			w = 256
		}
		if h == 0 {
			h = 256
		}
		id := uint32(binary.LittleEndian.Uint16(e[12:]))
		if have[id] == 0 {
			return nil, fmt.Errorf("icon #%d (%dx%d) is listed but missing or empty", id, w, h)
		}
		sizes = append(sizes, fmt.Sprintf("%dx%d", w, h))
	}
	return sizes, nil
}

// fileVersion finds the VS_FIXEDFILEINFO in a VS_VERSIONINFO resource and
// returns its file version as "a.b.c.d".
func fileVersion(info []byte) (string, error) {
	// The fixed info follows the header and the UTF-16 key "VS_VERSION_INFO",
	// aligned to 4 bytes; searching for its signature avoids depending on
	// how the padding was written.
	for i := 0; i+20 <= len(info); i += 4 {
		if binary.LittleEndian.Uint32(info[i:]) != fixedFileInfoSignature {
			continue
		}
		ms := binary.LittleEndian.Uint32(info[i+8:])
		ls := binary.LittleEndian.Uint32(info[i+12:])
		return fmt.Sprintf("%d.%d.%d.%d", ms>>16, ms&0xFFFF, ls>>16, ls&0xFFFF), nil
	}
	return "", errors.New("no VS_FIXEDFILEINFO in the version resource")
}
