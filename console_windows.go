//go:build windows

package main

import (
	"log"
	"os"

	"golang.org/x/sys/windows"
)

// AttachConsole is not wrapped by the golang.org/x/sys version this module
// uses, so call it directly.
var procAttachConsole = windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")

// attachParentProcess is ATTACH_PARENT_PROCESS, (DWORD)-1.
const attachParentProcess = ^uintptr(0) & 0xFFFFFFFF

// attachConsole connects a subcommand's standard streams to the console of
// the Command Prompt or PowerShell window it was started from.
//
// The release ccexplorer.exe is linked for the GUI subsystem (-H windowsgui)
// so that double-clicking it opens the window without a stray console.
// Windows gives such a program no console, so without this step
// "ccexplorer --version" typed into cmd.exe would print nothing. A stream
// that is already redirected to a file, pipe or NUL is left alone, and when
// there is no parent console (started from Explorer or a shortcut) nothing
// changes.
func attachConsole() {
	streams := []struct {
		std    uint32
		device string
		file   **os.File
	}{
		{windows.STD_INPUT_HANDLE, "CONIN$", &os.Stdin},
		{windows.STD_OUTPUT_HANDLE, "CONOUT$", &os.Stdout},
		{windows.STD_ERROR_HANDLE, "CONOUT$", &os.Stderr},
	}
	unconnected := 0
	for _, s := range streams {
		if !usable(s.std) {
			unconnected++
		}
	}
	if unconnected == 0 {
		return // everything redirected, or a console binary after all
	}
	if r, _, _ := procAttachConsole.Call(attachParentProcess); r == 0 {
		return // no parent console: started from Explorer, a shortcut or a service
	}
	for _, s := range streams {
		if usable(s.std) {
			continue
		}
		name, err := windows.UTF16PtrFromString(s.device)
		if err != nil {
			continue
		}
		h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE,
			windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil,
			windows.OPEN_EXISTING, 0, 0)
		if err != nil {
			continue
		}
		// The runtime writes panics to the process's standard handles, and
		// child processes inherit them, so set those as well as os.Std*.
		_ = windows.SetStdHandle(s.std, h)
		*s.file = os.NewFile(uintptr(h), s.device)
	}
	// The standard logger captured the old os.Stderr when it was created.
	log.SetOutput(os.Stderr)
}

// usable reports whether the standard handle std refers to something that
// can be read or written: a file, a pipe, or a character device such as NUL
// or an inherited console.
func usable(std uint32) bool {
	h, err := windows.GetStdHandle(std)
	if err != nil || h == 0 || h == windows.InvalidHandle {
		return false
	}
	t, err := windows.GetFileType(h)
	return err == nil && t != windows.FILE_TYPE_UNKNOWN
}
