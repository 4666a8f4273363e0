package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"podium/models"
)

// backupCommand runs `podium backup FILE`: a consistent copy of the live
// database, safe to take while Podium serves. It neither creates nor
// migrates the database it copies.
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("podium backup", flag.ContinueOnError)
	fs.SetOutput(stdout)
	db := dbFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: podium backup [--db podium.db | --db postgres://…] FILE")
	}
	if !models.IsPostgresURL(*db) {
		if _, err := os.Stat(*db); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no database at %s", *db)
		}
	}
	store, err := models.Connect(*db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s to %s.\n", models.RedactDSN(*db), fs.Arg(0))
	return nil
}
