/* cql2_parse.h — what the two files of the CQL2 parser share (cql2.c: lexer, scalars,
 * predicates; cql2_fn.c: spatial and temporal functions): the parser state and its helpers,
 * prefixed cq_.  Not a public header. */
#ifndef GW_CQL2_PARSE_H
#define GW_CQL2_PARSE_H

#include "gridwatch/cql2.h"

#include <stddef.h>

typedef struct impl {
    gw_cql2 pub;
    void **own; /* what the filter owns: texts, WKB */
    int nown, capown;
} impl;

typedef enum { T_END, T_IDENT, T_QIDENT, T_STR, T_NUM, T_LP, T_RP, T_COMMA, T_OP } tkind;

typedef struct tok {
    tkind k;
    int pos;
    const char *s;
    size_t len;
    gw_cql2_cmp op;
} tok;

typedef struct P {
    gw_ctx *ctx;
    const char *text;
    size_t n, at; /* at: where the lexer reads after the current token */
    tok t;
    impl *f;
    int depth, err_pos;
    gw_status st;
    const gw_cql2_opts *o;
} P;

#define N(i) (p->f->pub.nodes[i])

/* Record the first error (at byte pos, "at POS: ..." on the ctx) and return -1. */
int cq_fail(P *p, int pos, gw_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Keep mem with the filter (freed with it); NULL when mem is NULL or on no memory. */
void *cq_own(P *p, void *mem);
/* A new node of kind k (children -1); its index or -1. */
int cq_node(P *p, gw_cql2_kind k, int pos);
/* Read the next token into p->t. */
void cq_next(P *p);
/* Whether the current token is the keyword w (any case). */
int cq_kw(const P *p, const char *w);
/* What a token is, for messages. */
const char *cq_desc(const tok *t);
/* Consume a token of kind k or fail with "expected what". */
int cq_expect(P *p, tkind k, const char *what);
/* A property (plain or quoted name) or the geometry; a literal or a property. */
int cq_property(P *p);
int cq_scalar(P *p);
/* A time text into Unix seconds (date_only: YYYY-MM-DD); -1 with the error recorded. */
int cq_time_text(P *p, int pos, const char *s, int date_only, int64_t *out);
/* Whether the current token opens a geometry literal (WKT keyword or BBOX). */
int cq_is_geom_kw(const P *p);
/* A node of kind k over a and b (-1 when either is -1). */
int cq_two(P *p, gw_cql2_kind k, int a, int b, int pos);
/* S_… and T_… functions, the current token being the name (cql2_fn.c). */
int cq_spatial(P *p);
int cq_temporal(P *p);

#endif
