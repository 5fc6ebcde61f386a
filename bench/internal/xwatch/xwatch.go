//go:build linux && cgo

// Package xwatch tells when a process's top-level X11 window is mapped. It
// listens for MapNotify events on the root window (SubstructureNotify), so
// the moment is seen when the X server reports it, without polling
// xwininfo or xdotool in a loop, and checks that the window belongs to the
// process (_NET_WM_PID, which GLFW sets) and is viewable.
package xwatch

/*
#cgo LDFLAGS: -lX11
#include <X11/Xlib.h>
#include <X11/Xatom.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int xw_ignore(Display *d, XErrorEvent *e) { return 0; } // a window may vanish under us

static Display *xw_open(const char *name) {
	Display *d = XOpenDisplay(name);
	if (!d) return NULL;
	XSetErrorHandler(xw_ignore);
	XSelectInput(d, DefaultRootWindow(d), SubstructureNotifyMask);
	XSync(d, False);
	return d;
}

static void xw_drain(Display *d) { XSync(d, True); }

static long xw_pid(Display *d, Window w) {
	Atom pidAtom = XInternAtom(d, "_NET_WM_PID", False);
	Atom type; int format; unsigned long n, after; unsigned char *prop = NULL;
	long pid = -1;
	if (XGetWindowProperty(d, w, pidAtom, 0, 1, False, XA_CARDINAL, &type, &format, &n, &after, &prop) == Success && prop) {
		if (n == 1 && format == 32) pid = (long)(*(unsigned long *)prop);
		XFree(prop);
	}
	return pid;
}

static int xw_named(Display *d, Window w, const char *name) {
	char *wn = NULL;
	int eq = 0;
	if (name && XFetchName(d, w, &wn) && wn) {
		eq = strcmp(wn, name) == 0;
		XFree(wn);
	}
	return eq;
}

// xw_wait waits up to timeout_ms for a window of process pid (or, lacking
// _NET_WM_PID, named name) to be mapped and viewable. It returns the
// window, 0 on timeout, -1 when poll failed.
static long xw_wait(Display *d, long pid, const char *name, int timeout_ms) {
	int fd = ConnectionNumber(d);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		while (XPending(d) > 0) {
			XEvent ev;
			XNextEvent(d, &ev);
			if (ev.type != MapNotify || ev.xmap.override_redirect) continue;
			Window w = ev.xmap.window;
			long p = xw_pid(d, w);
			if (p != pid && !(p == -1 && xw_named(d, w, name))) continue;
			XWindowAttributes a;
			if (XGetWindowAttributes(d, w, &a) && a.map_state == IsViewable) return (long)w;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed >= timeout_ms) return 0;
		struct pollfd pfd = {fd, POLLIN, 0};
		if (poll(&pfd, 1, (int)(timeout_ms - elapsed)) < 0 && errno != EINTR) return -1;
	}
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"
)

// Watcher watches one X display for windows being mapped.
type Watcher struct {
	mu sync.Mutex
	d  *C.Display
}

// Open connects to display ("" means $DISPLAY) and starts listening.
func Open(display string) (*Watcher, error) {
	if display == "" {
		display = os.Getenv("DISPLAY")
	}
	if display == "" {
		return nil, errors.New("no X display: DISPLAY is not set (run under xvfb-run)")
	}
	cs := C.CString(display)
	defer C.free(unsafe.Pointer(cs))
	d := C.xw_open(cs)
	if d == nil {
		return nil, fmt.Errorf("cannot open X display %q", display)
	}
	return &Watcher{d: d}, nil
}

// Drain forgets the events received so far; call it just before starting
// the process to be watched.
func (w *Watcher) Drain() {
	w.mu.Lock()
	defer w.mu.Unlock()
	C.xw_drain(w.d)
}

// WaitMapped waits until a top-level window of process pid (or, when the
// window carries no _NET_WM_PID, one titled name) is mapped and viewable,
// and returns the time the event was received.
func (w *Watcher) WaitMapped(pid int, name string, timeout time.Duration) (time.Time, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	r := C.xw_wait(w.d, C.long(pid), cs, C.int(timeout/time.Millisecond))
	at := time.Now()
	switch {
	case r == 0:
		return time.Time{}, fmt.Errorf("no window of process %d mapped within %v", pid, timeout)
	case r < 0:
		return time.Time{}, errors.New("polling the X connection failed")
	}
	return at, nil
}

// Close disconnects from the display.
func (w *Watcher) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.d != nil {
		C.XCloseDisplay(w.d)
		w.d = nil
	}
}
