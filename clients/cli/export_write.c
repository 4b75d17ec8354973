/*
 * export_write.c -- the file formats of `twinnet export`: CSV in the
 * layout `twinnet import` and the built-in dataset use, JSON Lines with
 * one {"node": ...} or {"pair": ...} per line, and GraphML with a typed
 * key for every attribute. Writes only; errors show at fclose.
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"

static const char *const node_fields[] = { "id", "kind", "name", "name_zh", "country", "parent", "region",
                                           "subregion", "tags", "lat", "lon", "population", NULL };
static const char *const pair_fields[] = { "a", "b", "kind", "since", "source", "confidence", NULL };

typedef struct gkey {
    const char *id, *field, *type;
} gkey_t;

static const gkey_t gml_node_keys[] = {
    { "n_label", "label", "string" }, { "n_kind", "kind", "string" },       { "n_name", "name", "string" },
    { "n_name_zh", "name_zh", "string" }, { "n_country", "country", "string" }, { "n_parent", "parent", "string" },
    { "n_region", "region", "string" }, { "n_subregion", "subregion", "string" }, { "n_tags", "tags", "string" },
    { "n_lat", "lat", "double" },     { "n_lon", "lon", "double" },         { "n_population", "population", "double" },
    { NULL, NULL, NULL },
};

static const gkey_t gml_edge_keys[] = {
    { "e_kind", "kind", "string" }, { "e_since", "since", "string" }, { "e_since_year", "since_year", "int" },
    { "e_source", "source", "string" }, { "e_confidence", "confidence", "string" }, { NULL, NULL, NULL },
};

/* The shortest decimal that reads back as the same double. */
static void num_text(double d, char *buf, size_t cap) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

/* Append a scalar as text (strings as is, numbers compact, tags joined by ';'). */
static void val_text(tn_cli_sbuf_t *b, const tn_val_t *v) {
    char num[40];
    switch (v->type) {
    case TN_V_STR:
        tn_cli_sb_printf(b, "%s", v->u.s.p);
        break;
    case TN_V_INT:
        tn_cli_sb_printf(b, "%lld", (long long) v->u.i);
        break;
    case TN_V_FLOAT:
        num_text(v->u.f, num, sizeof num);
        tn_cli_sb_printf(b, "%s", num);
        break;
    case TN_V_BOOL:
        tn_cli_sb_printf(b, "%s", v->u.b ? "true" : "false");
        break;
    case TN_V_ARR:
        for (size_t i = 0; i < v->u.a.n; i++) {
            if (i)
                tn_cli_sb_printf(b, ";");
            val_text(b, &v->u.a.items[i]);
        }
        break;
    default:
        break;
    }
}

/* val_text of v as a new string. */
static char *text_of(const tn_val_t *v) {
    tn_cli_sbuf_t b = { NULL, 0, 0 };
    tn_cli_sb_printf(&b, "%s", "");
    val_text(&b, v);
    return b.p;
}

static void csv_cell(FILE *f, const char *s) {
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_row(FILE *f, const tn_val_t *rec, const char *const *fields) {
    for (size_t i = 0; fields[i]; i++) {
        if (i)
            fputc(',', f);
        const tn_val_t *v = tn_map_get(rec, fields[i]);
        if (v == NULL || v->type == TN_V_NIL)
            continue;
        char *s = text_of(v);
        csv_cell(f, s);
        free(s);
    }
    fputc('\n', f);
}

static void csv_header(FILE *f, const char *const *fields) {
    for (size_t i = 0; fields[i]; i++)
        fprintf(f, "%s%s", i ? "," : "", fields[i]);
    fputc('\n', f);
}

/* XML text: escape markup, and replace what XML 1.0 forbids. */
static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                fputc('?', f);
            else
                fputc(c, f);
        }
    }
}

/* The string at key of rec, or "". */
static const char *str_or_empty(const tn_val_t *rec, const char *key) {
    const char *s = tn_val_str(tn_map_get(rec, key));
    return s ? s : "";
}

static void gml_data(FILE *f, const char *key, const tn_val_t *v) {
    if (v == NULL || v->type == TN_V_NIL)
        return;
    char *s = text_of(v);
    fprintf(f, "<data key=\"%s\">", key);
    xml_text(f, s);
    fputs("</data>", f);
    free(s);
}

static void gml_keys(FILE *f, const gkey_t *keys, const char *what) {
    for (const gkey_t *k = keys; k->id; k++)
        fprintf(f, "  <key id=\"%s\" for=\"%s\" attr.name=\"%s\" attr.type=\"%s\"/>\n", k->id, what, k->field,
                k->type);
}

void tn_cli_export_begin(tn_cli_exporter_t *ex) {
    if (ex->fmt == TN_XFMT_CSV) {
        csv_header(ex->nf, node_fields);
        csv_header(ex->pf, pair_fields);
    } else if (ex->fmt == TN_XFMT_GRAPHML) {
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\"\n"
              "    xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
              "    xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns "
              "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n", ex->nf);
        gml_keys(ex->nf, gml_node_keys, "node");
        gml_keys(ex->nf, gml_edge_keys, "edge");
        fputs("  <graph id=\"twinnet\" edgedefault=\"undirected\">\n", ex->nf);
    }
}

static void jsonl_record(FILE *f, const tn_val_t *rec, const char *const *fields, int is_pair) {
    tn_val_t w = TN_VAL_NIL, inner = TN_VAL_NIL;
    if (tn_val_set_map(&w, 1) != 0 || tn_val_set_map(&inner, 12) != 0)
        tn_cli_die_oom();
    for (size_t i = 0; fields[i]; i++) {
        const tn_val_t *v = tn_map_get(rec, fields[i]);
        tn_val_t c;
        if (v == NULL || v->type == TN_V_NIL)
            continue;
        if (tn_val_copy(&c, v) != 0 || tn_map_add_take(&inner, fields[i], &c) != 0)
            tn_cli_die_oom();
    }
    if (tn_map_add_take(&w, is_pair ? "pair" : "node", &inner) != 0)
        tn_cli_die_oom();
    char *j = tn_val_to_json(&w);
    if (j == NULL)
        tn_cli_die_oom();
    fprintf(f, "%s\n", j);
    free(j);
    tn_val_free(&w);
}

static void gml_node(FILE *f, const tn_val_t *rec) {
    fputs("    <node id=\"", f);
    xml_text(f, str_or_empty(rec, "id"));
    fputs("\">", f);
    for (const gkey_t *k = gml_node_keys; k->id; k++)
        gml_data(f, k->id, tn_map_get(rec, strcmp(k->field, "label") == 0 ? "name" : k->field));
    fputs("</node>\n", f);
}

/* Edge 'seq' (its id is "e<seq>"). since_year is derived from since. */
static void gml_edge(FILE *f, const tn_val_t *rec, size_t seq) {
    fprintf(f, "    <edge id=\"e%zu\" source=\"", seq);
    xml_text(f, str_or_empty(rec, "a"));
    fputs("\" target=\"", f);
    xml_text(f, str_or_empty(rec, "b"));
    fputs("\">", f);
    const tn_val_t *since = tn_map_get(rec, "since");
    for (const gkey_t *k = gml_edge_keys; k->id; k++) {
        if (strcmp(k->field, "since_year") == 0) {
            int64_t y = 0;
            const char *s = tn_val_str(since);
            if (since && !tn_val_as_int(since, &y) && s && strlen(s) >= 4)
                y = strtoll(s, NULL, 10);
            if (y > 0) {
                tn_val_t yv = tn_val_int(y);
                gml_data(f, k->id, &yv);
            }
            continue;
        }
        gml_data(f, k->id, tn_map_get(rec, k->field));
    }
    fputs("</edge>\n", f);
}

void tn_cli_export_record(tn_cli_exporter_t *ex, const tn_val_t *rec, int is_pair) {
    const char *const *fields = is_pair ? pair_fields : node_fields;
    if (ex->fmt == TN_XFMT_CSV)
        csv_row(is_pair ? ex->pf : ex->nf, rec, fields);
    else if (ex->fmt == TN_XFMT_JSONL)
        jsonl_record(ex->nf, rec, fields, is_pair);
    else if (!is_pair)
        gml_node(ex->nf, rec);
    else
        gml_edge(ex->nf, rec, ex->pairs);
    if (is_pair)
        ex->pairs++;
    else
        ex->nodes++;
}

void tn_cli_export_end(tn_cli_exporter_t *ex) {
    if (ex->fmt == TN_XFMT_GRAPHML)
        fputs("  </graph>\n</graphml>\n", ex->nf);
}
