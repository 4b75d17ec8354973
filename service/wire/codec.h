/*
 * codec.h -- MessagePack <-> tn_val_t, and the msgpack-RPC envelope.
 *
 * Pure: no sockets, no event loop. Decoding takes one complete message that
 * tn_frame_scan() has already accepted, so msgpack-c only ever sees bounded
 * input. Both str and bin decode to TN_V_STR (docs/protocol.md, "Transport and framing"); map
 * keys must be str or bin. Integers of any width decode to TN_V_INT when they
 * fit int64, larger unsigned ones to TN_V_FLOAT; float32/64 to TN_V_FLOAT.
 */
#ifndef TN_CODEC_H
#define TN_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

/* Decode one whole message of len bytes into *out (nil on entry).
 * Returns TN_OK; TN_ERR_PARSE if the bytes are not one valid MessagePack
 * object (or have trailing bytes); TN_ERR_INVALID_REQUEST for a map key
 * that is not a string or an ext type; TN_ERR_INTERNAL on out-of-memory. */
tn_code_t tn_codec_decode(const uint8_t *buf, size_t len, tn_val_t *out, tn_error_t *err);

/* Encode 'v' and append it to the growable buffer (*buf, *len, *cap),
 * realloc'ing as needed. 0, or -1 on out-of-memory (buffer left valid). */
int tn_codec_encode(const tn_val_t *v, char **buf, size_t *len, size_t *cap);

/* A decoded msgpack-RPC message. Borrowed pointers into the tn_val_t it
 * came from. */
typedef enum tn_rpc_type { TN_RPC_REQUEST = 0, TN_RPC_RESPONSE = 1, TN_RPC_NOTIFY = 2 } tn_rpc_type_t;

typedef struct tn_rpc_msg {
    tn_rpc_type_t type;
    uint32_t msgid;                  /* requests and responses */
    const char *method;              /* requests and notifications */
    const tn_val_t *params;          /* the params array */
    const tn_val_t *options;         /* params[0] when present, else NULL */
    const tn_val_t *error;           /* responses */
    const tn_val_t *result;          /* responses */
} tn_rpc_msg_t;

/* Check the envelope shape of docs/protocol.md, "Transport and framing": [0, msgid, method,
 * params], [1, msgid, error, result] or [2, method, params], with params []
 * or [options-map]. TN_OK, or TN_ERR_INVALID_REQUEST with a message. When
 * the message is a request whose msgid could be read, *msgid_ok is set to 1
 * (so the error reply can carry it). Params [x] where x is not a map, or more
 * than one element, is TN_ERR_INVALID_PARAMS (the envelope is fine). */
tn_code_t tn_rpc_parse(const tn_val_t *v, tn_rpc_msg_t *msg, int *msgid_ok, tn_error_t *err);

/* For a message tn_codec_decode refused although it is valid MessagePack
 * (an ext value, a map key that is not a string): is it a request whose
 * msgid can be read? Then 1 and *msgid is set, so the error reply can
 * carry it; else 0. Looks only at the array head, the type and the msgid. */
int tn_rpc_peek_msgid(const uint8_t *buf, size_t len, uint32_t *msgid);

/* Append a response [1, msgid, nil, result] / [1, msgid, {code, message,
 * data?}, nil] / a notification [2, method, [params]] to the buffer.
 * 0 or -1 on out-of-memory. */
int tn_rpc_encode_result(uint32_t msgid, const tn_val_t *result, char **buf, size_t *len, size_t *cap);
int tn_rpc_encode_error(uint32_t msgid, const tn_error_t *err, char **buf, size_t *len, size_t *cap);
int tn_rpc_encode_notify(const char *method, const tn_val_t *param, char **buf, size_t *len, size_t *cap);
/* A request [0, msgid, method, [options]] (options NULL or nil: []). */
int tn_rpc_encode_request(uint32_t msgid, const char *method, const tn_val_t *options,
                          char **buf, size_t *len, size_t *cap);

#endif
