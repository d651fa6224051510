/*
 * replay.h: which receipts `mlc replay` re-posts: the set of ledger ids the
 * operator named (by id, by state and PO, or by receipt records on standard
 * input), each id once in the order given, checked against the ledger before
 * anything is done. The re-posting itself is lib/receipt's
 * (mlc_receipt_replay, the same exactly-once path as post-receipts).
 *
 * Not here: the protocol (lib/receipt), SQL (lib/store), printing records (cmd).
 * Ownership: the set is the caller's (mlc_replay_set_free); ids stay owned by it.
 */
#ifndef MLC_REPLAY_H
#define MLC_REPLAY_H

#include "error.h"
#include "log.h"
#include "store.h"
#include <cjson/cJSON.h>
#include <stdint.h>

typedef struct mlc_replay_set mlc_replay_set;

mlc_replay_set *mlc_replay_set_new(void);
void mlc_replay_set_free(mlc_replay_set *s);
/* Adds id unless it is there already (order kept). MLC_ERR_NOMEM. */
mlc_err mlc_replay_set_add(mlc_replay_set *s, int64_t id, mlc_error *err);
/* Adds every receipt whose state is in state_mask (1u << mlc_receipt_state),
 * of PO po when not NULL. */
mlc_err mlc_replay_set_add_state(mlc_replay_set *s, mlc_store *st, unsigned state_mask, const char *po, mlc_error *err);
/* Adds the receipt a `receipt` record names by receipt_id. MLC_ERR_INPUT (err
 * says why) when the id is missing or not a whole positive number, the record
 * fails mlc_record_check for company cono, or its po/line/subline are not that
 * ledger row's. */
mlc_err mlc_replay_set_add_record(mlc_replay_set *s, mlc_store *st, const cJSON *rec, long long cono, mlc_error *err);
/* A bare receipt id line ("42", spaces allowed): the id, else 0. */
long long mlc_replay_bare_id(const char *line);
/* Checks every id against the ledger before anything is done: unknown ids are
 * logged as errors, counted in *unknown and dropped; rows that will not be
 * replayed (posted, in doubt, voided, in flight, needs_review without force)
 * are said so on log and kept (the engine reports them as records). */
mlc_err mlc_replay_set_check(mlc_replay_set *s, mlc_store *st, int force, mlc_log *log, long *unknown, mlc_error *err);
const int64_t *mlc_replay_set_ids(const mlc_replay_set *s);
size_t mlc_replay_set_count(const mlc_replay_set *s);

#endif
