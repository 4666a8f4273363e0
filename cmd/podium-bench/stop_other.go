//go:build !linux

package main

import "os/exec"

// stopWithBench does nothing where the kernel cannot signal a child when its
// parent dies; the bench still stops the server on every ordinary exit.
func stopWithBench(*exec.Cmd) {}
