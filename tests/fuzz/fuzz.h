/*
 * fuzz.h -- what the fuzz targets share: the libFuzzer entry points, a
 * check that aborts (so both libFuzzer and the corpus replay see a crash),
 * a small world to run changes and queries against, and text helpers.
 *
 * Each target (fuzz_<name>.c) defines LLVMFuzzerTestOneInput and, when it
 * needs set-up, LLVMFuzzerInitialize. It is linked either with libFuzzer
 * (-fsanitize=fuzzer, TN_FUZZ=ON) or with replay.c, a plain main() that
 * feeds it the files of a corpus, so ctest can replay the corpus with any
 * compiler.
 *
 * A target must be deterministic: nothing it keeps between inputs may
 * change what a later input does (the base model and snapshot are only
 * read; changes are committed to a fresh model that is freed at once).
 */
#ifndef TN_FUZZ_H
#define TN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model.h"
#include "snap.h"
#include "value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test; a failure is a finding. */
#define FZ_CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
    abort(); } } while (0)

/* A small world: a home province with three cities, partners in three
 * countries, one domestic pair, both pair kinds, dated and undated pairs,
 * a tagged country. Written for the fuzz targets (not the unit fixtures). */
static const char fz_world_json[] =
    "{\"nodes\":["
    "{\"id\":\"CN\",\"kind\":\"country\",\"name\":\"China\",\"region\":\"Asia\",\"subregion\":\"Eastern Asia\"},"
    "{\"id\":\"IT\",\"kind\":\"country\",\"name\":\"Italy\",\"region\":\"Europe\",\"subregion\":\"Southern Europe\",\"tags\":[\"bri\"]},"
    "{\"id\":\"PE\",\"kind\":\"country\",\"name\":\"Peru\",\"region\":\"Americas\",\"subregion\":\"South America\",\"tags\":[\"bri\",\"apec\"]},"
    "{\"id\":\"NZ\",\"kind\":\"country\",\"name\":\"New Zealand\",\"region\":\"Oceania\",\"subregion\":\"Australia and New Zealand\"},"
    "{\"id\":\"CN-430000\",\"kind\":\"province\",\"name\":\"Hunan\",\"country\":\"CN\"},"
    "{\"id\":\"CN-450000\",\"kind\":\"province\",\"name\":\"Guangxi\",\"country\":\"CN\"},"
    "{\"id\":\"CN-430400\",\"kind\":\"city\",\"name\":\"Hengyang\",\"country\":\"CN\",\"parent\":\"CN-430000\",\"lat\":26.9,\"lon\":112.6},"
    "{\"id\":\"CN-430700\",\"kind\":\"city\",\"name\":\"Changde\",\"country\":\"CN\",\"parent\":\"CN-430000\",\"population\":5279102},"
    "{\"id\":\"CN-431000\",\"kind\":\"city\",\"name\":\"Chenzhou\",\"country\":\"CN\",\"parent\":\"CN-430000\"},"
    "{\"id\":\"CN-450100\",\"kind\":\"city\",\"name\":\"Nanning\",\"country\":\"CN\",\"parent\":\"CN-450000\"},"
    "{\"id\":\"IT-umbria\",\"kind\":\"province\",\"name\":\"Umbria\",\"country\":\"IT\"},"
    "{\"id\":\"IT-perugia\",\"kind\":\"city\",\"name\":\"Perugia\",\"country\":\"IT\",\"parent\":\"IT-umbria\"},"
    "{\"id\":\"PE-cusco\",\"kind\":\"city\",\"name\":\"Cusco\",\"country\":\"PE\"},"
    "{\"id\":\"NZ-nelson\",\"kind\":\"city\",\"name\":\"Nelson\",\"country\":\"NZ\"}"
    "],\"pairs\":["
    "{\"a\":\"CN-430000\",\"b\":\"IT-umbria\",\"since\":1996},"
    "{\"a\":\"CN-430400\",\"b\":\"IT-perugia\",\"kind\":\"friendly\",\"since\":\"2004-05\",\"confidence\":\"medium\"},"
    "{\"a\":\"PE-cusco\",\"b\":\"CN-430700\",\"confidence\":\"low\"},"
    "{\"a\":\"CN-431000\",\"b\":\"NZ-nelson\",\"since\":2012,\"source\":\"hand-made\"},"
    "{\"a\":\"CN-450100\",\"b\":\"PE-cusco\",\"kind\":\"friendly\",\"since\":2001},"
    "{\"a\":\"CN-430700\",\"b\":\"CN-450100\",\"since\":1999}"
    "]}";

/* Parse a JSON text the harness wrote itself; abort when it is wrong. */
static inline tn_val_t fz_json(const char *text) {
    tn_val_t v = TN_VAL_NIL;
    char why[128];
    if (tn_val_from_json(text, strlen(text), &v, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz harness: bad JSON: %s\n", why);
        abort();
    }
    return v;
}

/* A new model holding the world (home CN-430000); aborts on failure. */
static inline tn_model_t *fz_world_model(void) {
    tn_model_t *m = tn_model_new(NULL);
    tn_val_t batch = fz_json(fz_world_json);
    tn_error_t err = TN_ERROR_INIT;
    if (m == NULL || tn_model_apply(m, TN_CHANGE_BATCH, &batch, NULL, &err) != TN_OK) {
        fprintf(stderr, "fuzz harness: cannot build the world: %s\n", err.message);
        abort();
    }
    tn_val_free(&batch);
    return m;
}

/* A built snapshot of 'm'; aborts on failure. */
static inline tn_snap_t *fz_snapshot(const tn_model_t *m) {
    tn_error_t err = TN_ERROR_INIT;
    tn_snap_t *s = tn_snap_new(m);
    if (s == NULL || tn_snap_build(s, &err) != TN_OK) {
        fprintf(stderr, "fuzz harness: cannot build a snapshot: %s\n", err.message);
        abort();
    }
    return s;
}

/* JSON text of a value (aborts on out-of-memory: the harness has no malloc
 * limit that small). The caller frees it. */
static inline char *fz_to_json(const tn_val_t *v) {
    char *s = tn_val_to_json(v);
    FZ_CHECK(s != NULL);
    return s;
}

#endif
