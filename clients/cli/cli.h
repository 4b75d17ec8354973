/*
 * cli.h -- what the files of the `twinnet` command-line client share.
 *
 * The CLI is one program in several small files (main.c lists them). This
 * header holds the types they pass to each other (global options, the
 * query command table, text buffers, table columns) and the contract of
 * every function one file calls in another; everything else is static.
 * Functions here print to stdout or stderr and may exit the program: a
 * usage error exits TN_EXIT_USAGE, running out of memory TN_EXIT_SERVER.
 */
#ifndef TN_CLI_H
#define TN_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tn_client.h"

/* Exit codes (docs/cli.md): 0 ok, 1 server error (also local failures such
 * as out of memory or an unwritable file), 2 bad arguments, 3 server
 * unreachable (cannot connect, connection lost, no reply in time). */
enum { TN_EXIT_SERVER = 1, TN_EXIT_USAGE = 2, TN_EXIT_UNREACHABLE = 3 };

/* The global options, given before or after the command. */
typedef struct tn_cli_globals {
    const char *host;
    int port;
    int json;
    int timeout_ms;
    int timeout_set;      /* --timeout given (import/export wait longer by default) */
} tn_cli_globals_t;

/* ---- colour (term.c) ---- */

enum { TN_COLOR_AUTO = 0, TN_COLOR_ALWAYS, TN_COLOR_NEVER };

typedef enum tn_cli_style { TN_STYLE_HEAD, TN_STYLE_LABEL, TN_STYLE_ERROR, TN_STYLE_DIM, TN_STYLE_RESET } tn_cli_style_t;

/* --color: TN_COLOR_AUTO (the default), _ALWAYS or _NEVER. */
void tn_cli_set_color(int mode);

/* Whether output to f is coloured: on a terminal, NO_COLOR unset or empty
 * and TERM not "dumb" (auto), or as --color says. */
int tn_cli_color(FILE *f);

/* The escape sequence of style s for f, or "" when f gets no colour. */
const char *tn_cli_style(FILE *f, tn_cli_style_t s);

/* ---- the query commands (query_cmds.c) ---- */

typedef enum tn_cli_argkind {
    TN_ARG_STR,      /* string as given */
    TN_ARG_INT,      /* integer */
    TN_ARG_NUM,      /* any number */
    TN_ARG_FLAG,     /* no value: true */
    TN_ARG_FLAG_OFF, /* no value: false (turns off an option that defaults to true) */
    TN_ARG_YEAR      /* an integer year, or a date string such as "2001-05" */
} tn_cli_argkind_t;

/* One option of a query command; tables end with a NULL flag. */
typedef struct tn_cli_opt {
    const char *flag;     /* "--as-of" */
    const char *key;      /* "as_of" */
    tn_cli_argkind_t kind;
    const char *meta;     /* "Y" */
    const char *help;
} tn_cli_opt_t;

/* Rows several commands' tables share, and the row that ends a table. */
#define TN_CLI_OPT_END { NULL, NULL, TN_ARG_STR, NULL, NULL }
#define TN_CLI_PAIR_FILTERS \
    { "--as-of", "as_of", TN_ARG_INT, "Y", "only pairs established by year Y (and undated ones)" }, \
    { "--min-confidence", "min_confidence", TN_ARG_STR, "C", "low (all, default), medium or high" }
#define TN_CLI_OPT_PAIR_KIND { "--kind", "kind", TN_ARG_STR, "K", "sister, friendly or any (default)" }

/* Prints a successful result of one shape (docs/protocol.md, "Methods"). */
typedef void (*tn_cli_printer_t)(const tn_val_t *res);

/* A query command: one server method, its options and its printer. */
typedef struct tn_cli_cmd {
    const char *name;
    const char *method;
    const char *pos_key;      /* key of the one positional argument, or NULL */
    const char *pos_meta;
    const tn_cli_opt_t *opts; /* NULL-terminated */
    tn_cli_printer_t print;
    const char *summary;
} tn_cli_cmd_t;

/* The options of `recommend` and `plan` (advice.c). */
extern const tn_cli_opt_t tn_cli_recommend_opts[];
extern const tn_cli_opt_t tn_cli_plan_opts[];

/* The query command called 'name', or NULL. */
const tn_cli_cmd_t *tn_cli_find_command(const char *name);

/* "  NAME         summary" lines, one per query command, for the usage. */
void tn_cli_list_commands(FILE *out);

/* The usage of one query command, and of `call`. */
void tn_cli_cmd_usage(FILE *out, const tn_cli_cmd_t *c);
void tn_cli_call_usage(FILE *out);
/* `twinnet call [METHOD] --help`: the usage, then the server's methods
 * (only METHOD when given) with their options, from server.methods
 * (call_help.c). Returns the exit code. */
int tn_cli_call_help(tn_cli_globals_t *g, const char *method);

/* Run query command 'c', or `call` when c is NULL: parse argv[i..] (the
 * command's options and positional argument, and global options into *g),
 * call the server and print the result. Returns the exit code; usage
 * errors exit. */
int tn_cli_query(int argc, char **argv, int i, tn_cli_globals_t *g, const tn_cli_cmd_t *c);

/* `twinnet call METHOD [JSON-OPTIONS]` from argv[i]: tn_cli_query(..., NULL). */
int tn_cli_call(int argc, char **argv, int i, tn_cli_globals_t *g);

/* ---- usage and argument parsing (main.c, args.c) ---- */

/* The program's usage: global options and every command. */
void tn_cli_usage(FILE *out);

/* The usage that fits: command c's if c is set, else call's if is_call,
 * else the program's. */
void tn_cli_show_usage(FILE *out, const tn_cli_cmd_t *c, int is_call);

/* A usage error: "twinnet: <message>", a blank line, the usage that fits
 * (as tn_cli_show_usage), then exit TN_EXIT_USAGE. */
void tn_cli_bad_args(const tn_cli_cmd_t *c, int is_call, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* The same for import and export, whose usage is use(): "twinnet:
 * <message>", a blank line, use(stderr), exit TN_EXIT_USAGE. */
void tn_cli_xbad(void (*use)(FILE *), const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Parse all of 's' as a decimal integer / a finite number into *out;
 * returns 1, or 0 (and *out untouched) when 's' is not one. */
int tn_cli_parse_ll(const char *s, long long *out);
int tn_cli_parse_num(const char *s, double *out);

/* Split "--flag=value": returns the length of the flag and points *value
 * at the text after '=', or sets it NULL when there is no '='. */
size_t tn_cli_split_flag(const char *arg, const char **value);

/* Whether argv[i] asks for help: "--help", or "-h" as the last argument
 * ("-h HOST" names the server, as in redis-cli). */
int tn_cli_is_help(int argc, char **argv, int i);

/* If argv[*i] is a global option (--host/-h, --port/-p, --json, --timeout,
 * --color),
 * store it in *g, advance *i past its value and return 1; else return 0.
 * A bad value is a usage error reported with (c, is_call). */
int tn_cli_take_global(int argc, char **argv, int *i, tn_cli_globals_t *g, const tn_cli_cmd_t *c,
                       int is_call);

/* The option of command c that argv[*i] ("--flag" or "--flag=value")
 * names, with its value in *val (NULL for a flag); a value given as the
 * next argument advances *i past it. An unknown option, a flag with a
 * value or a value option without one is a usage error. */
const tn_cli_opt_t *tn_cli_take_flag(int argc, char **argv, int *i, const tn_cli_cmd_t *c, const char **val);

/* Add option o of command c with text 'val' to the map 'opts', converted
 * by o->kind. A repeated option or a bad number is a usage error. */
void tn_cli_add_option(const tn_cli_cmd_t *c, tn_val_t *opts, const tn_cli_opt_t *o, const char *val);

/* ---- text (sbuf.c, cell.c) ---- */

/* Print "twinnet: out of memory" and exit TN_EXIT_SERVER. */
void tn_cli_die_oom(void) __attribute__((noreturn));

/* Room for element n of the array p of *cap elements of 'size' bytes:
 * p itself while n < *cap, else p reallocated to twice *cap ('first' when
 * *cap is 0), with *cap updated. Exits when out of memory. */
void *tn_cli_grow(void *p, size_t *cap, size_t n, size_t size, size_t first);

/* A growable string; start it as { NULL, 0, 0 }, free p when done. */
typedef struct tn_cli_sbuf {
    char *p;
    size_t len, cap;
} tn_cli_sbuf_t;

/* Append printf output to b (exits when out of memory). */
void tn_cli_sb_printf(tn_cli_sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append n bytes of s, turning control characters into '?' so that data
 * from the server cannot move the cursor or recolour the terminal. */
void tn_cli_sb_text(tn_cli_sbuf_t *b, const char *s, size_t n);

/* sprintf into a new malloc'd string (exits when out of memory). */
char *tn_cli_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* How a cell shows a float: compact, ratio ("%.3f") or score ("%.6g"). */
typedef enum tn_cli_cellfmt { TN_CELL_AUTO, TN_CELL_RATIO, TN_CELL_SCORE } tn_cli_cellfmt_t;

/* One value as cell text, malloc'd: strings as they are (control
 * characters as '?'), numbers compact, arrays joined with ", ", maps as
 * "k: v" lists, nil or NULL as "". */
char *tn_cli_cell(const tn_val_t *v, tn_cli_cellfmt_t fmt);

/* Follow a dotted path of map keys ("node.id"); NULL when absent. The
 * result is borrowed from v. */
const tn_val_t *tn_cli_get(const tn_val_t *v, const char *path);

/* The array at 'path' of res, or NULL when absent or not an array. */
const tn_val_t *tn_cli_items(const tn_val_t *res, const char *path);

/* Cell text of res at 'path', as a new string; NULL when absent. */
char *tn_cli_field(const tn_val_t *res, const char *path, tn_cli_cellfmt_t f);

/* 'text' with every "{path}" in it replaced by the cell text of res at
 * that path, or "?" when absent; a new string. */
char *tn_cli_fill(const tn_val_t *res, const char *text);

/* The integer at key of the map res, or 0. */
int64_t tn_cli_res_int(const tn_val_t *res, const char *key);

/* ---- tables (table.c) ---- */

/* A table column: heading, path of the cell in each row ("" for the row
 * number from 1), alignment and number format. */
typedef struct tn_cli_col {
    const char *head;
    const char *path;
    int right;
    tn_cli_cellfmt_t fmt;
} tn_cli_col_t;

/* Print an array of maps as a table aligned in terminal columns (CJK
 * characters take two), or "(none)" when rows is NULL or empty. */
void tn_cli_print_table(const tn_val_t *rows, const tn_cli_col_t *cols, size_t ncols);

/* A "label   value" line; 'text' is malloc'd, and a NULL text skips it. */
typedef struct tn_cli_line {
    const char *label;
    char *text;
} tn_cli_line_t;

/* Print the lines with labels padded to the longest; frees every text. */
void tn_cli_print_lines(tn_cli_line_t *lines, size_t n);

/* Every key of a map as "key  value" lines in the server's order; any
 * other value as one cell. */
void tn_cli_print_kv(const tn_val_t *map);

/* ---- one printer per result shape (print_*.c; a plain map, such as
 * server.ping, server.info and node.get, uses tn_cli_print_kv) ---- */

void tn_cli_print_methods(const tn_val_t *res);
void tn_cli_print_stats(const tn_val_t *res);
void tn_cli_print_metrics(const tn_val_t *res);
/* A metrics.get result in a few lines: nodes, pairs, home, coverage by
 * region on one line, server (for twinnet watch). */
void tn_cli_print_metrics_brief(const tn_val_t *res);
void tn_cli_print_centrality(const tn_val_t *res);
void tn_cli_print_coverage(const tn_val_t *res);
void tn_cli_print_gaps(const tn_val_t *res);
void tn_cli_print_recommend(const tn_val_t *res);
void tn_cli_print_plan(const tn_val_t *res);
void tn_cli_print_neighbors(const tn_val_t *res);
void tn_cli_print_find(const tn_val_t *res);
void tn_cli_print_pairs(const tn_val_t *res);

/* Planning results (print_planning.c). */
void tn_cli_print_timeline(const tn_val_t *res);
void tn_cli_print_overlap(const tn_val_t *res);
void tn_cli_print_communities(const tn_val_t *res);
void tn_cli_print_whatif(const tn_val_t *res);

/* ---- the planning commands (plan_cmds.c), from argv[i]; return the
 * exit code ---- */
int tn_cli_timeline(int argc, char **argv, int i, tn_cli_globals_t *g);
int tn_cli_overlap(int argc, char **argv, int i, tn_cli_globals_t *g);
int tn_cli_communities(int argc, char **argv, int i, tn_cli_globals_t *g);
int tn_cli_whatif(int argc, char **argv, int i, tn_cli_globals_t *g);

/* The columns of coverage grouped by region (also in metrics). */
#define TN_CLI_NGROUP_COLS 6
extern const tn_cli_col_t tn_cli_group_cols[TN_CLI_NGROUP_COLS];

/* ---- talking to the server (session.c) ---- */

/* Connect to g->host:g->port waiting at most timeout_ms, then send
 * TWINNET_TOKEN with `auth` if it is set. Returns the client (close it
 * with tn_client_close), or NULL with the failure printed and *code set to
 * the exit code; *code is 0 on success. */
tn_client_t *tn_cli_connect(const tn_cli_globals_t *g, int timeout_ms, int *code);

/* Free *res, then call 'method' (tn_client_call). */
tn_code_t tn_cli_request(tn_client_t *cl, const char *method, const tn_val_t *opts, tn_val_t *res,
                         tn_error_t *err);

/* Every record of a paged list method (node.list, pair.list), page by
 * page until the result's "total" is reached: each(arg, record) for each,
 * which may take the record (it is freed with its page). Returns TN_OK or
 * the call's error. */
tn_code_t tn_cli_list_all(tn_client_t *cl, const char *method, void (*each)(void *arg, tn_val_t *rec), void *arg,
                          tn_error_t *err);

/* "error: <code>: <message>" and one line per detail of invalid_params,
 * on stderr. */
void tn_cli_print_error(const tn_error_t *err);

/* Print a failed call: "error: <message>" when the connection is broken
 * (returns TN_EXIT_UNREACHABLE), else as tn_cli_print_error (returns
 * TN_EXIT_SERVER). */
int tn_cli_report_call_error(tn_client_t *cl, const tn_error_t *err);

/* tn_cli_request, showing the server's progress notifications for it as a
 * bar on stderr when stderr is a terminal (else exactly tn_cli_request).
 * Methods named "query.*" are asked for them with "progress": true; for
 * others (import.chunk) the caller's import.begin asked. 'label' names
 * the work ("centrality"). on_progress, if set, gets every (done, total)
 * instead of the bar (total < 0: unknown). */
tn_code_t tn_cli_request_progress(tn_client_t *cl, const char *method, const tn_val_t *opts, tn_val_t *res,
                                  tn_error_t *err, const char *label,
                                  void (*on_progress)(void *arg, int64_t done, int64_t total), void *arg);

/* The error code whose wire name is 'name' ("not_found"); TN_ERR_INTERNAL
 * for a name this client does not know. */
tn_code_t tn_cli_code_by_name(const char *name);

/* Draw "label [#####-----]  45%  450/1000" on stderr (a terminal), in place;
 * done >= total ends the line. */
void tn_cli_progress_bar(const char *label, int64_t done, int64_t total, const char *unit);

/* A value as one line of JSON on stdout ("null" if it cannot be encoded). */
void tn_cli_print_json(const tn_val_t *v);

/* ---- import and export (transfer.c, import*.c, export*.c) ---- */

#define TN_CLI_MAX_FILES 32

/* One option of import or export; 'vals' collects its values. */
typedef struct tn_cli_xopt {
    const char *flag;
    int has_value;
    int repeat;
    const char *vals[TN_CLI_MAX_FILES];
    int n;
} tn_cli_xopt_t;

/* Parse a transfer command's arguments from argv[i]: its own options and
 * global ones, anywhere. --help prints use(stdout) and exits 0; errors
 * print a message and use(stderr) and exit TN_EXIT_USAGE. */
void tn_cli_xparse(int argc, char **argv, int i, tn_cli_globals_t *g, tn_cli_xopt_t *opts, size_t nopts,
                   void (*use)(FILE *), const char *cmd);

/* tn_cli_connect with the transfer timeout (600 s unless --timeout). */
tn_client_t *tn_cli_transfer_connect(const tn_cli_globals_t *g, int *code);

/* `twinnet import ...` and `twinnet export ...` from argv[i]; return the
 * exit code. */
int tn_cli_import(int argc, char **argv, int i, tn_cli_globals_t *g);
int tn_cli_export(int argc, char **argv, int i, tn_cli_globals_t *g);

/* `twinnet watch ...` (watch.c): a compact summary, refreshed after every
 * change (metrics.subscribe events). */
int tn_cli_watch(int argc, char **argv, int i, tn_cli_globals_t *g);

#endif
