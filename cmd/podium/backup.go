package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"podium/models"
)

// backupCommand runs `podium backup FILE`: a consistent copy of the live
// database, safe to take while Podium serves.
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("podium backup", flag.ContinueOnError)
	fs.SetOutput(stdout)
	db := fs.String("db", envOr(getenv, "PODIUM_DB", "podium.db"), "SQLite database file (PODIUM_DB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: podium backup [--db podium.db] FILE")
	}
	store, err := models.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s to %s.\n", *db, fs.Arg(0))
	return nil
}
