// Command ccexplorer is Care Connect Explorer: a desktop app for exploring
// OAuth2-secured FHIR servers such as the NHS Care Connect Reference
// Implementation. With no arguments it opens the window; with a subcommand it
// runs headless (see ccexplorer --help).
package main

import (
	"os"

	"github.com/careconnectexplorer/ccexplorer/cli"
	"github.com/careconnectexplorer/ccexplorer/startup"
	"github.com/careconnectexplorer/ccexplorer/ui"
)

func main() {
	// Package initialisation is over: the collector runs again (package
	// startup switched it off while the FHIR library initialised).
	startup.Finished()
	if cli.IsSubcommand(os.Args[1:]) {
		attachConsole() // a Windows GUI binary started from a console prints there
		os.Exit(cli.Run(os.Args[1:], cli.Env{}))
	}
	e := ui.New(ui.NewApp(), ui.Options{Version: cli.Version + " (commit " + cli.Commit + ")"})
	e.Window().ShowAndRun()
}
