/*
 * term.c -- colour for people at a terminal, and none for programs.
 *
 * Colour is used when the stream is a terminal, NO_COLOR is unset or empty
 * (the convention of no-color.org) and TERM is not "dumb"; `--color
 * always` / `--color never` decide instead. Only styles that keep the text
 * readable without them are used (bold headings and labels, red "error"),
 * and an escape sequence never sits inside a padded cell, so tables line
 * up the same with and without colour.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int color_mode = TN_COLOR_AUTO;

void tn_cli_set_color(int mode) {
    color_mode = mode;
}

int tn_cli_color(FILE *f) {
    if (color_mode != TN_COLOR_AUTO)
        return color_mode == TN_COLOR_ALWAYS;
    const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
    if (no && no[0])
        return 0;
    if (term && strcmp(term, "dumb") == 0)
        return 0;
    return isatty(fileno(f));
}

const char *tn_cli_style(FILE *f, tn_cli_style_t s) {
    if (!tn_cli_color(f))
        return "";
    switch (s) {
    case TN_STYLE_HEAD:
        return "\033[1;4m";
    case TN_STYLE_LABEL:
        return "\033[1m";
    case TN_STYLE_ERROR:
        return "\033[1;31m";
    case TN_STYLE_DIM:
        return "\033[2m";
    case TN_STYLE_RESET:
        return "\033[0m";
    }
    return "";
}
