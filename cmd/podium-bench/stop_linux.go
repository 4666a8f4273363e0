package main

import (
	"os/exec"
	"syscall"
)

// stopWithBench has Linux send the server SIGTERM if the bench dies without
// stopping it (kill -9, a panic in a goroutine), so no podium is left behind.
func stopWithBench(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
