//go:build linked

package main

// Built with -tags linked, the hello-world links every package the app
// does, with none of the app's code run: the same window, plus the cost of
// initialising those packages (the FHIR library's above all) and of a
// binary two and a half times the size. scripts/bench.sh builds it for a
// note beside figure 1; the budget stays against the bare hello-world.

import (
	_ "github.com/careconnectexplorer/ccexplorer/cli"
	"github.com/careconnectexplorer/ccexplorer/startup"
	_ "github.com/careconnectexplorer/ccexplorer/ui"
)

func init() { atMain = startup.Finished } // as the app's main.go does
