/* Human-facing renderings that match the docker CLI byte for byte: sizes, ages, RFC 3339 times,
 * and tabwriter-style column tables. libc only; every char * result is owned by the caller. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "basic/cleanup.h"

/* N bytes as docker's units.HumanSizeWithPrecision(n, 3): "0B", "999B", "1kB", "4.2MB";
 * caller frees. */
char *format_bytes_docker(uint64_t n);

/* The age of THEN at NOW (Unix seconds) as docker's units.HumanDuration + " ago":
 * "Less than a second ago", "About a minute ago", "3 days ago"; caller frees. */
char *format_time_ago(int64_t then, int64_t now);

/* SECS as docker's units.HumanDuration: "Less than a second", "1 second", "3 minutes",
 * "About an hour"; caller frees. */
char *format_duration_human(int64_t secs);

/* SEC.NSEC since the epoch as Go's RFC3339Nano in UTC, "2026-11-27T21:08:58.123456789Z", with
 * trailing zeros of the fraction dropped (and the dot when it is 0); caller frees. */
char *format_time_rfc3339(int64_t sec, long nsec);

/* Rows of cells laid out like Go's text/tabwriter as docker configures it (minwidth 10,
 * padding 3, space padded): every cell except the last of its line is a column cell, padded to
 * max(10, widest cell of its column block + 3) runes; lines with fewer cells end a block. */
struct table;

/* A new, empty table; caller frees with table_free. */
struct table *table_new(void);

/* Append a line of N_CELLS copied CELLS. */
void table_add_row(struct table *t, const char *const *cells, size_t n_cells);

/* Append LINE split at each '\t' into cells (how docker feeds rendered templates in). */
void table_add_line(struct table *t, const char *line);

/* The laid-out table, each line ending in "\n"; caller frees. */
char *table_render(const struct table *t);

/* Free T; NULL-safe; returns NULL. */
struct table *table_free(struct table *t);

static inline void table_freep(struct table **t)
{
        table_free(*t);
}

#define _cleanup_table_ _cleanup_(table_freep)
