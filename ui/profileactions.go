package ui

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/careconnectexplorer/ccexplorer/profile"
)

// maxImportSize bounds a profile file the user imports.
const maxImportSize = 4 << 20

func (e *Explorer) currentProfile() (profile.Profile, bool) {
	if e.conn == nil {
		return profile.Profile{}, false
	}
	return e.conn.profile, true
}

func (e *Explorer) onAddProfile() {
	if e.ws == nil {
		return
	}
	ed := newProfileEditor(e.win, e.ws, profile.Profile{Grant: profile.GrantClientCredentials}, true)
	ed.onSaved = func(name string) { e.refreshProfiles(name) }
	ed.show()
}

func (e *Explorer) onEditProfile() {
	p, ok := e.currentProfile()
	if !ok {
		return
	}
	ed := newProfileEditor(e.win, e.ws, p, false)
	ed.onSaved = func(name string) {
		e.closeConnection() // the profile changed: connect afresh
		e.profileSelect.ClearSelected()
		e.refreshProfiles(name)
	}
	ed.show()
}

func (e *Explorer) onDuplicateProfile() {
	p, ok := e.currentProfile()
	if !ok {
		return
	}
	go func() {
		dup, err := e.ws.Store.Duplicate(p.Name, "")
		e.do(func() {
			if err != nil {
				dialog.ShowError(fmt.Errorf("duplicate %s: %w", p.Name, err), e.win)
				return
			}
			e.refreshProfiles(dup.Name)
		})
	}()
}

func (e *Explorer) onDeleteProfile() {
	p, ok := e.currentProfile()
	if !ok || p.Builtin {
		return
	}
	dialog.ShowConfirm("Delete profile",
		fmt.Sprintf("Delete the profile %q and the secrets and session the keyring keeps for it?", p.Name),
		func(yes bool) {
			if !yes {
				return
			}
			go func() {
				err := e.ws.Store.Remove(p.Name)
				e.do(func() {
					if err != nil && !isKeyringOnly(err) {
						dialog.ShowError(fmt.Errorf("delete %s: %w", p.Name, err), e.win)
						return
					}
					if err != nil {
						dialog.ShowError(fmt.Errorf("the profile was deleted, but its secrets could not be removed from the keyring: %w", err), e.win)
					}
					e.closeConnection()
					e.profileSelect.ClearSelected()
					e.refreshProfiles("")
				})
			}()
		}, e.win)
}

// isKeyringOnly reports whether a profile change was saved and only its
// keyring step failed.
func isKeyringOnly(err error) bool { return errors.Is(err, profile.ErrKeyringUnavailable) }

func (e *Explorer) onImportProfiles() {
	if e.ws == nil {
		return
	}
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		_ = r.Close()
		go func() {
			data, err := readFile(path, maxImportSize)
			var added []string
			if err == nil {
				added, err = e.ws.Store.Import(data)
			}
			e.do(func() {
				if err != nil {
					dialog.ShowError(fmt.Errorf("import %s: %w", path, err), e.win)
					return
				}
				msg := "No new profiles: they were all there already."
				if len(added) > 0 {
					msg = "Imported: " + strings.Join(added, ", ") + ".\nSecrets are not part of a profile file: enter each client secret in the profile editor."
				}
				dialog.ShowInformation("Profiles imported", msg, e.win)
				e.refreshProfiles("")
			})
		}()
	}, e.win)
}

func (e *Explorer) onExportProfiles() {
	if e.ws == nil {
		return
	}
	save := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		_ = w.Close()
		go func() {
			data, err := e.ws.Store.Export()
			if err == nil {
				err = os.WriteFile(path, data, 0o600)
			}
			e.do(func() {
				if err != nil {
					dialog.ShowError(fmt.Errorf("export to %s: %w", path, err), e.win)
					return
				}
				dialog.ShowInformation("Profiles exported", "Saved to "+path+" (without any secrets; the built-in profiles are not included).", e.win)
			})
		}()
	}, e.win)
	save.SetFileName(exportFileName)
	save.Show()
}
