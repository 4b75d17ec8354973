/*
 * test_csv.c -- graph/base/csv.c: the RFC 4180 reader (quoting, line ends, BOM,
 * UTF-8) and the typed nodes/pairs mapping with its per-line errors.
 * Every input is a literal here, so each expectation can be checked by eye.
 */
#include <string.h>

#include "csv.h"
#include "test.h"

/* Read all records of 's' and join them as "f1|f2;f1|f2;..." for comparison;
 * a skipped bad record shows as "!<line>". */
static char *join_records(const char *s, size_t len) {
    static char out[1024];
    tn_csv_reader_t r;
    tn_csv_status_t st;
    size_t n = 0;
    out[0] = '\0';
    tn_csv_reader_init(&r, s, len);
    while ((st = tn_csv_read(&r)) != TN_CSV_END && st != TN_CSV_NOMEM) {
        if (st == TN_CSV_BAD) {
            n += (size_t) snprintf(out + n, sizeof out - n, "!%lld;", (long long) r.row_line);
            continue;
        }
        for (size_t i = 0; i < tn_csv_nfields(&r); i++)
            n += (size_t) snprintf(out + n, sizeof out - n, "%s%s", i ? "|" : "",
                                   tn_csv_field(&r, i, NULL));
        n += (size_t) snprintf(out + n, sizeof out - n, ";");
    }
    tn_csv_reader_destroy(&r);
    return out;
}

#define JOIN(lit) join_records((lit), sizeof(lit) - 1)

static void test_reader_plain(void) {
    CHECK_EQ_STR(JOIN("a,b,c\n1,2,3\n"), "a|b|c;1|2|3;");
    CHECK_EQ_STR(JOIN("a,b\n1,2"), "a|b;1|2;");              /* no final newline */
    CHECK_EQ_STR(JOIN("a,b\r\n1,2\r\n"), "a|b;1|2;");         /* CRLF */
    CHECK_EQ_STR(JOIN("a,b\n,\n"), "a|b;|;");                /* empty fields */
    CHECK_EQ_STR(JOIN("a,b\n\n1,2\n\n"), "a|b;1|2;");         /* blank lines skipped */
    CHECK_EQ_STR(JOIN(""), "");
    CHECK_EQ_STR(JOIN("\xEF\xBB\xBFid\n1\n"), "id;1;");       /* BOM dropped */
    CHECK_EQ_STR(JOIN(" a , b \n"), " a | b ;");             /* spaces are data (RFC 4180) */
}

static void test_reader_quotes(void) {
    CHECK_EQ_STR(JOIN("a,b\n\"x,y\",\"he said \"\"hi\"\"\"\n"), "a|b;x,y|he said \"hi\";");
    CHECK_EQ_STR(JOIN("a\n\"line1\nline2\"\n"), "a;line1\nline2;");
    CHECK_EQ_STR(JOIN("a\n\"cr\r\nlf\"\r\n"), "a;cr\r\nlf;");
    CHECK_EQ_STR(JOIN("a,b\n\"\",\"\"\n"), "a|b;|;");
    CHECK_EQ_STR(JOIN("a\n\"end\""), "a;end;");
}

static void test_reader_errors(void) {
    tn_csv_reader_t r;
    const char bad_quote[] = "a,b\nx\"y,2\n3,4\n";
    tn_csv_reader_init(&r, bad_quote, sizeof bad_quote - 1);
    CHECK_EQ_INT(tn_csv_read(&r), TN_CSV_ROW);
    CHECK_EQ_INT(tn_csv_read(&r), TN_CSV_BAD);
    CHECK_EQ_INT(r.row_line, 2);
    CHECK_EQ_INT(r.bad_field, 0);
    CHECK(strstr(r.why, "quote") != NULL);
    CHECK_EQ_INT(tn_csv_read(&r), TN_CSV_ROW);            /* resumes on the next line */
    CHECK_EQ_INT(r.row_line, 3);
    CHECK_EQ_STR(tn_csv_field(&r, 1, NULL), "4");
    CHECK_EQ_INT(tn_csv_read(&r), TN_CSV_END);
    tn_csv_reader_destroy(&r);

    CHECK_EQ_STR(JOIN("a\n\"x\"y\nok\n"), "a;!2;ok;");       /* text after closing quote */
    CHECK_EQ_STR(JOIN("a\n\"open\nmore\n"), "a;!2;");         /* unterminated eats the rest */
    CHECK_EQ_STR(JOIN("a\nx\ry\nok\n"), "a;!2;ok;");         /* lone CR */
    CHECK_EQ_STR(JOIN("a,b\nok,\xC3\x28\nfine,\xC3\xA9\n"), "a|b;!2;fine|\xC3\xA9;");
    CHECK_EQ_STR(JOIN("a\n\xED\xA0\x80\n"), "a;!2;");          /* encoded surrogate */
    CHECK_EQ_STR(JOIN("a\n\xC0\xAF\n"), "a;!2;");              /* overlong */
    CHECK_EQ_STR(JOIN("a\nx\0y\n"), "a;!2;");                 /* NUL byte */

    /* A multi-line record is reported where it starts, and later lines keep
     * their physical numbers. */
    const char ml[] = "a,b\n\"1\n2\",x\ny\"z,3\n";
    tn_csv_reader_init(&r, ml, sizeof ml - 1);
    CHECK_EQ_INT(tn_csv_read(&r), TN_CSV_ROW);
    CHECK_EQ_INT(tn_csv_read(&r), TN_CSV_ROW);
    CHECK_EQ_INT(r.row_line, 2);
    CHECK_EQ_INT(tn_csv_read(&r), TN_CSV_BAD);
    CHECK_EQ_INT(r.row_line, 4);
    tn_csv_reader_destroy(&r);
}

/* Is there a detail {index: line, field: field} in err? */
static int has_detail(const tn_error_t *err, long long line, const char *field) {
    if (err->data.type != TN_V_ARR)
        return 0;
    for (size_t i = 0; i < err->data.u.a.n; i++) {
        const tn_val_t *d = &err->data.u.a.items[i];
        int64_t idx;
        const tn_val_t *f = tn_map_get(d, "field");
        if (!tn_val_as_int(tn_map_get(d, "index"), &idx) || idx != line)
            continue;
        if (field == NULL ? (f == NULL || f->type == TN_V_NIL)
                          : (tn_val_str(f) != NULL && strcmp(tn_val_str(f), field) == 0))
            return 1;
    }
    return 0;
}

static void test_nodes_typed(void) {
    const char csv[] =
        "id,kind,name,name_zh,country,parent,region,subregion,tags,lat,lon,population\r\n"
        "JP,country,Japan,,,,Asia,Eastern Asia,bri; g20 ;;x,,,\r\n"
        "CN-430100,city,Changsha,\xE9\x95\xBF\xE6\xB2\x99\xE5\xB8\x82,CN,CN-430000,,,,28.2,"
        "112.94,10047914\r\n"
        "\"US-x\",city,\"Kansas City, Missouri\",,US,,,,,-1e2,0,1.5\r\n";
    tn_val_t out = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;

    CHECK_EQ_INT(tn_csv_nodes(csv, sizeof csv - 1, &out, &err), TN_OK);
    CHECK_EQ_INT(out.type, TN_V_ARR);
    CHECK_EQ_INT(out.u.a.n, 3);

    const tn_val_t *jp = &out.u.a.items[0];
    CHECK_EQ_STR(tn_val_str(tn_map_get(jp, "id")), "JP");
    CHECK(tn_map_get(jp, "name_zh") == NULL);              /* empty cell = absent */
    CHECK(tn_map_get(jp, "lat") == NULL);
    const tn_val_t *tags = tn_map_get(jp, "tags");
    CHECK(tags != NULL && tags->type == TN_V_ARR);
    if (tags != NULL && tags->type == TN_V_ARR && tags->u.a.n == 3) {
        CHECK_EQ_STR(tn_val_str(&tags->u.a.items[0]), "bri");
        CHECK_EQ_STR(tn_val_str(&tags->u.a.items[1]), "g20");
        CHECK_EQ_STR(tn_val_str(&tags->u.a.items[2]), "x");
    } else {
        CHECK(!"tags should have 3 items");
    }

    const tn_val_t *cs = &out.u.a.items[1];
    CHECK_EQ_STR(tn_val_str(tn_map_get(cs, "name_zh")), "\xE9\x95\xBF\xE6\xB2\x99\xE5\xB8\x82");
    CHECK_EQ_STR(tn_val_str(tn_map_get(cs, "parent")), "CN-430000");
    CHECK_EQ_INT(tn_map_get(cs, "lat")->type, TN_V_FLOAT);
    CHECK_NEAR(tn_map_get(cs, "lat")->u.f, 28.2, 1e-12);
    CHECK_EQ_INT(tn_map_get(cs, "population")->type, TN_V_INT);
    CHECK_EQ_INT(tn_map_get(cs, "population")->u.i, 10047914);
    CHECK(tn_map_get(cs, "tags") == NULL);

    const tn_val_t *kc = &out.u.a.items[2];
    CHECK_EQ_STR(tn_val_str(tn_map_get(kc, "name")), "Kansas City, Missouri");
    CHECK_NEAR(tn_map_get(kc, "lat")->u.f, -100.0, 0);
    CHECK_EQ_INT(tn_map_get(kc, "lon")->type, TN_V_INT);
    CHECK_NEAR(tn_map_get(kc, "population")->u.f, 1.5, 0);

    tn_val_free(&out);
    tn_error_clear(&err);

    /* Columns may come in any order and optional ones may be missing. */
    const char few[] = "name,id,kind\nJapan,JP,country\n";
    CHECK_EQ_INT(tn_csv_nodes(few, sizeof few - 1, &out, &err), TN_OK);
    CHECK_EQ_INT(out.u.a.n, 1);
    CHECK_EQ_STR(tn_val_str(tn_map_get(&out.u.a.items[0], "id")), "JP");
    tn_val_free(&out);
}

static void test_pairs_typed(void) {
    const char csv[] =
        "a,b,kind,since,source,confidence\n"
        "CN-430000,JP-shiga,sister,1983,\"https://a; https://b | note: x, y\",high\n"
        "CN-430100,KR-daegu,friendly,2018-07,,low\n"
        "CN-430100,US-x,,,,\n"
        "CN-430100,US-y,,0199,,\n";
    tn_val_t out = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;

    CHECK_EQ_INT(tn_csv_pairs(csv, sizeof csv - 1, &out, &err), TN_OK);
    CHECK_EQ_INT(out.u.a.n, 4);
    const tn_val_t *p0 = &out.u.a.items[0];
    CHECK_EQ_INT(tn_map_get(p0, "since")->type, TN_V_INT);
    CHECK_EQ_INT(tn_map_get(p0, "since")->u.i, 1983);
    CHECK_EQ_STR(tn_val_str(tn_map_get(p0, "source")), "https://a; https://b | note: x, y");
    const tn_val_t *p1 = &out.u.a.items[1];
    CHECK_EQ_STR(tn_val_str(tn_map_get(p1, "since")), "2018-07");
    const tn_val_t *p2 = &out.u.a.items[2];
    CHECK_EQ_INT(p2->u.m.n, 2);                            /* only a and b */
    CHECK_EQ_INT(tn_map_get(&out.u.a.items[3], "since")->u.i, 199);
    tn_val_free(&out);
}

static void test_header_errors(void) {
    tn_val_t out = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;

    const char unknown[] = "id,kind,name,colour\nJP,country,Japan,red\n";
    CHECK_EQ_INT(tn_csv_nodes(unknown, sizeof unknown - 1, &out, &err), TN_ERR_INVALID_PARAMS);
    CHECK(has_detail(&err, 1, "colour"));
    CHECK_EQ_INT(out.type, TN_V_NIL);
    CHECK(strstr(err.message, "unknown column") != NULL);
    tn_error_clear(&err);

    const char missing[] = "a,kind\nx,sister\n";
    CHECK_EQ_INT(tn_csv_pairs(missing, sizeof missing - 1, &out, &err), TN_ERR_INVALID_PARAMS);
    CHECK(has_detail(&err, 1, "b"));
    tn_error_clear(&err);

    const char dup[] = "a,b,a\nx,y,z\n";
    CHECK_EQ_INT(tn_csv_pairs(dup, sizeof dup - 1, &out, &err), TN_ERR_INVALID_PARAMS);
    CHECK(has_detail(&err, 1, "a"));
    tn_error_clear(&err);

    CHECK_EQ_INT(tn_csv_pairs("", 0, &out, &err), TN_ERR_INVALID_PARAMS);
    CHECK(has_detail(&err, 1, NULL));
    tn_error_clear(&err);

    /* A NULL err is allowed. */
    CHECK_EQ_INT(tn_csv_pairs("", 0, &out, NULL), TN_ERR_INVALID_PARAMS);
}

static void test_line_errors(void) {
    const char csv[] =
        "id,kind,name,lat,population\n"           /* 1 */
        "JP,country,Japan,,\n"                     /* 2 ok */
        "X,city,Bad lat,north,\n"                  /* 3 lat */
        "Y,city,Short\n"                           /* 4 field count */
        "Z,city,\"Q\"x,,\n"                        /* 5 syntax */
        "\n"                                       /* 6 blank */
        "W,city,\xFF,,\n"                          /* 7 UTF-8 in name */
        "V,city,Inf,inf,1e999\n"                   /* 8 lat and population */
        "U,city,\"multi\nline\",1,2\n"             /* 9-10 ok */
        "T,city,Hex,0x10,\n";                      /* 11 lat */
    tn_val_t out = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;

    CHECK_EQ_INT(tn_csv_nodes(csv, sizeof csv - 1, &out, &err), TN_ERR_INVALID_PARAMS);
    CHECK_EQ_INT(out.type, TN_V_NIL);
    CHECK(has_detail(&err, 3, "lat"));
    CHECK(has_detail(&err, 4, NULL));
    CHECK(has_detail(&err, 5, "name"));
    CHECK(has_detail(&err, 7, "name"));
    CHECK(has_detail(&err, 8, "lat"));
    CHECK(has_detail(&err, 8, "population"));
    CHECK(has_detail(&err, 11, "lat"));
    CHECK(!has_detail(&err, 2, NULL) && !has_detail(&err, 9, NULL) && !has_detail(&err, 10, NULL));
    CHECK_EQ_INT(err.ndetails, 7);
    CHECK(strstr(err.message, "line 3") != NULL);
    tn_error_clear(&err);
}

int main(void) {
    RUN(test_reader_plain);
    RUN(test_reader_quotes);
    RUN(test_reader_errors);
    RUN(test_nodes_typed);
    RUN(test_pairs_typed);
    RUN(test_header_errors);
    RUN(test_line_errors);
    return TEST_DONE();
}
