/*
 * m3.h: the raw Infor M3 MI REST client (v2 execute through the ION API gateway).
 *
 *     mlc_m3_field in[] = {{"PUNO", "1000123"}, {"PNLI", "10"}};
 *     mlc_m3_result *r = NULL;
 *     rc = mlc_m3_execute(m3, "PPS200MI/GetLine", in, 2, 0, &r, &err);
 *     const char *rvqa = mlc_m3_result_get(r, 0, "RVQA");
 *     mlc_m3_result_free(r);
 *
 * Single transactions are GET {iu}/{ti}/M3/m3api-rest/v2/execute/{PGM}/{TRN};maxrecs=N
 * ?FIELD=value&... (URL-encoded); bulk is POST .../v2/execute with many records of
 * one transaction.  The profile's CONO (config cloudsuite.cono) and DIVI
 * (cloudsuite.divi) are added as input fields to transactions that define them
 * (lib/m3_table.c, generated from tests/contracts/m3-transactions.json);
 * a field the caller passes wins; for a transaction not in the table nothing is
 * added (M3 then uses the session's company).  EXPORTMI, which reads the API
 * session's company and refuses a company in its query, gets the profile's CONO
 * as the session company: the ;cono= matrix parameter.  A bulk call names the
 * session's company (and division) for every transaction it carries: "cono"/"divi"
 * in the JSON body, or cono/divi query parameters on its URL, or both
 * (cloudsuite.bulk_company; see mlc_m3_bulk).  The bearer token comes from
 * lib/ionapi; on a 401 the token is refreshed once and the request replayed once.
 *
 * Responses: all three shapes are parsed: v2 {results[{records[], errorMessage,
 * errorCode, errorType, errorField, notProcessed}], wasTerminated,
 * nrOfSuccessfullTransactions, nrOfFailedTransactions}; v1 {MIRecord[{NameValue[]}],
 * ErrorMessage{...}}; the bare v1 error {"@type":"ServerReturnedNOK","@code",
 * "@field","Message"}.  Values are right-trimmed.
 *
 * Return codes: MLC_OK; MLC_ERR_REMOTE for an M3 NOK (permanent: the result is
 * still returned with the records received before the failure and the error's
 * message/code/type/field), for a bare HTTP 400 (unknown transaction or bad
 * input) and other permanent 4xx; MLC_ERR_AUTH for 401 after the replay or 403;
 * MLC_ERR_TRANSIENT for 429/5xx/timeouts/resets (GET is already retried by
 * lib/http; bulk POST only if marked idempotent); MLC_ERR_UNAVAILABLE when the
 * gateway cannot be reached; MLC_ERR_CONFIG/MLC_ERR_INPUT for bad arguments.
 *
 * Not here: which program does what (callers read cloudsuite.programs.*),
 * chunking of bulk requests (callers use cloudsuite.bulk_size), retry queues.
 * Ownership: mlc_m3_new*() -> mlc_m3_free().  *out results are the caller's
 * (mlc_m3_result_free), returned whenever a response was parsed, also on
 * MLC_ERR_REMOTE; NULL otherwise.  Strings returned by result accessors live as
 * long as the result.
 */
#ifndef MLC_M3_H
#define MLC_M3_H

#include "ctx.h"
#include "error.h"
#include "http.h"
#include "ionapi.h"
#include "vault.h"
#include <stddef.h>

typedef struct mlc_m3 mlc_m3;
typedef struct mlc_m3_result mlc_m3_result;

typedef struct mlc_m3_field {
    const char *name;
    const char *value;
} mlc_m3_field;

typedef struct mlc_m3_record {
    const mlc_m3_field *fields;
    size_t nfields;
} mlc_m3_record;

/* Where a bulk call names the session's company (cloudsuite.bulk_company). */
typedef enum mlc_m3_bulk_company {
    MLC_M3_BULK_COMPANY_BOTH = 0, /* both of the below (the default) */
    MLC_M3_BULK_COMPANY_BODY,     /* "cono" (number) and "divi" in the JSON body */
    MLC_M3_BULK_COMPANY_QUERY     /* ?cono=&divi= on the bulk URL */
} mlc_m3_bulk_company;

/* What a client is made of (libcurl style: zero is the default for every field). */
typedef struct mlc_m3_opts {
    mlc_ionapi *ion;          /* the credentials; required */
    int own_ion;              /* 1: the client frees ion (also when mlc_m3_new_with fails) */
    mlc_vault *vault;         /* the token cache; NULL = none */
    int own_vault;            /* 1: the client frees vault (also when mlc_m3_new_with fails) */
    mlc_http *http;           /* borrowed, ion already attached to it; NULL: the client makes
                               * its own from http_opts, checks the ION URLs, registers ion's
                               * secrets with log and attaches ion (vault, token_margin) */
    mlc_http_opts http_opts;  /* cloudsuite.timeout, retry.*, trace */
    long token_margin;        /* cloudsuite.token_margin: refresh this many s before expiry */
    mlc_log *log;             /* borrowed; may be NULL */
    long long cono;           /* cloudsuite.cono; 0 = none */
    const char *divi;         /* cloudsuite.divi; NULL = none; copied */
    int all_columns;          /* 1: no column selection (cloudsuite.select_columns: false) */
    mlc_m3_bulk_company bulk_company; /* cloudsuite.bulk_company; 0 = body and URL */
    const char *source;       /* where the credentials came from; copied; NULL = "(given)" */
} mlc_m3_opts;

mlc_err mlc_m3_new_with(const mlc_m3_opts *opts, mlc_m3 **out, mlc_error *err);
/* From the context: lib/setup turns the profile's config into mlc_m3_opts
 * (mlc_setup_m3_opts: credentials from vault entry "cloudsuite", vault may be NULL:
 * then the profile's vault is opened if a key is available, else the config's
 * cloudsuite.ionapi file; the token is cached in the vault when there is one) and
 * calls mlc_m3_new_with(). Defined in lib/setup.c. vault is borrowed. */
mlc_err mlc_m3_new(mlc_ctx *ctx, mlc_vault *vault, mlc_m3 **out, mlc_error *err);
void mlc_m3_free(mlc_m3 *m3);

mlc_ionapi *mlc_m3_ionapi(mlc_m3 *m3);     /* borrowed */
mlc_http *mlc_m3_http(mlc_m3 *m3);         /* borrowed (lib/ims shares it) */
mlc_vault *mlc_m3_vault(mlc_m3 *m3);       /* borrowed; NULL without a vault */
long long mlc_m3_cono(const mlc_m3 *m3);   /* 0 if not configured */
const char *mlc_m3_divi(const mlc_m3 *m3); /* "" if not configured */
/* Where the credentials came from: "vault", or the .ionapi file path. */
const char *mlc_m3_source(const mlc_m3 *m3);

/* pgm_trn: "PGM/TRN". maxrecs: 0 = all. */
mlc_err mlc_m3_execute(mlc_m3 *m3, const char *pgm_trn, const mlc_m3_field *in, size_t nin,
                       int maxrecs, mlc_m3_result **out, mlc_error *err);
/* The same with the program and the transaction apart ("PPS200MI", "GetLine"). */
mlc_err mlc_m3_execute_trn(mlc_m3 *m3, const char *pgm, const char *trn, const mlc_m3_field *in,
                           size_t nin, int maxrecs, mlc_m3_result **out, mlc_error *err);
/* Bulk: n records of one transaction in one POST (maxReturnedRecords 0: every
 * record a list transaction returns). With a company configured, the request names
 * it as the session's company (opts.bulk_company: body "cono"/"divi" and URL
 * ?cono=&divi=, or one of them): EXPORTMI, which has no CONO field, reads that company's tables,
 * not the service account's default company's. MLC_OK when every transaction
 * succeeded; MLC_ERR_REMOTE when any failed (look at each with the tx accessors).
 * idempotent: allow lib/http to retry it on transient failures (reads only!). */
mlc_err mlc_m3_bulk(mlc_m3 *m3, const char *pgm_trn, const mlc_m3_record *recs, size_t n,
                    int idempotent, mlc_m3_result **out, mlc_error *err);

/* Columns: the output fields the caller reads of pgm_trn ("PGM/TRN"), comma-
 * separated ("PUNO,ORTY,WHLO"). Calls add up: M3 is asked for the union of what
 * every caller declared for that transaction, as ";returncols=..." on a GET and
 * "selectedColumns" on each bulk transaction, so only those come back (and are
 * parsed and held). A transaction nobody declared returns every column, and so
 * does one with a name that is not 1-16 letters, digits or '_'. Declare every
 * field you read with mlc_m3_result_get/_tx_get: an undeclared one reads NULL
 * when another caller declared columns for the same transaction. Never fails
 * (out of memory: every column). Selection is on unless config
 * cloudsuite.select_columns is false (or mlc_m3_set_select_columns(m3, 0)). */
void mlc_m3_columns(mlc_m3 *m3, const char *pgm_trn, const char *cols);
void mlc_m3_set_select_columns(mlc_m3 *m3, int on);

/* Whether the transaction defines input CONO (bit 1) / DIVI (bit 2); -1 if unknown.
 * From lib/m3_table.c, generated by mk/gen-m3-table.sh from the catalogue
 * tests/contracts/m3-transactions.json (make m3-table). */
int mlc_m3_transaction_flags(const char *pgm, const char *trn);
/* Builds the GET URL (exposed for tests). Caller frees. */
char *mlc_m3_build_url(const char *api_base, const char *pgm, const char *trn,
                       const mlc_m3_field *in, size_t nin, int maxrecs);

/* Parses a response body (any of the three shapes). MLC_ERR_REMOTE (with *out)
 * for NOK, MLC_ERR_REMOTE (without) for an unrecognised body. what: "PGM/TRN". */
mlc_err mlc_m3_result_parse(const char *body, size_t len, const char *what,
                            mlc_m3_result **out, mlc_error *err);
void mlc_m3_result_free(mlc_m3_result *r);
/* Records the HTTP status of the answer the result was parsed from (lib/m3 does). */
void mlc_m3_result_set_http_status(mlc_m3_result *r, long status);

/* Records of the first (or only) transaction. */
size_t mlc_m3_result_count(const mlc_m3_result *r);
/* Right-trimmed value of field in record i; NULL if no such record or field. */
const char *mlc_m3_result_get(const mlc_m3_result *r, size_t i, const char *field);
/* The first error (NOK) of the response, or NULL/"" when everything succeeded. */
int mlc_m3_result_ok(const mlc_m3_result *r);
const char *mlc_m3_result_message(const mlc_m3_result *r); /* M3's message, trimmed */
const char *mlc_m3_result_code(const mlc_m3_result *r);    /* e.g. "XAU0008", or "" */
const char *mlc_m3_result_type(const mlc_m3_result *r);    /* e.g. "ServerReturnedNOK" */
const char *mlc_m3_result_field(const mlc_m3_result *r);   /* e.g. "CONO", or "" */
long mlc_m3_result_http_status(const mlc_m3_result *r);    /* 0 if parsed from a string */
/* The HTTP status of the last call's answer (0: no answer at all: a timeout, a reset,
 * a connection refused). A write whose answer was 429 or 503 was not executed. */
long mlc_m3_last_http_status(const mlc_m3 *m3);
/* 0 if the last call never left (e.g. the token could not be fetched): not executed. */
int mlc_m3_last_sent(const mlc_m3 *m3);

/* Per transaction (bulk): count, and for each: ok, error message/code, records. */
size_t mlc_m3_result_tx_count(const mlc_m3_result *r);
int mlc_m3_result_tx_ok(const mlc_m3_result *r, size_t tx);
int mlc_m3_result_tx_not_processed(const mlc_m3_result *r, size_t tx);
const char *mlc_m3_result_tx_message(const mlc_m3_result *r, size_t tx);
const char *mlc_m3_result_tx_code(const mlc_m3_result *r, size_t tx);
const char *mlc_m3_result_tx_type(const mlc_m3_result *r, size_t tx);
size_t mlc_m3_result_tx_record_count(const mlc_m3_result *r, size_t tx);
const char *mlc_m3_result_tx_get(const mlc_m3_result *r, size_t tx, size_t i, const char *field);

#endif
