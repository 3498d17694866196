/* road_tags.c — what OpenStreetMap tags and road classes mean for driving (road.h): default
 * speeds by class (the table of docs/roads.md) with "class=kmh" overrides, drivable classes,
 * `maxspeed` in its common spellings, `oneway`/`junction`, and reading one key out of the OGR
 * OSM driver's other_tags text.  Pure functions over untrusted text: no allocation, every
 * read bounded (tests/fuzz/fuzz_road_tags.c). */
#include "gridwatch/road.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct class_speed {
    const char *cls;
    double kmh;
} class_speed;

/* docs/roads.md repeats this table; keep them together. */
static const class_speed speeds[] = {
    {"motorway", 100},     {"motorway_link", 60}, {"trunk", 80},        {"trunk_link", 50},
    {"primary", 60},       {"primary_link", 40},  {"secondary", 50},    {"secondary_link", 35},
    {"tertiary", 40},      {"tertiary_link", 30}, {"unclassified", 30}, {"residential", 30},
    {"living_street", 10}, {"service", 20},       {"track", 15},        {"road", 30},
    {"county", 60},        {"township", 40},      {"street", 30},       {"bridge", 40},
};
#define UNKNOWN_KMH 25.0

/* The override for cls in "class=kmh,…": 1 with *kmh set when present and well formed. */
static int override_of(const char *list, const char *cls, double *kmh)
{
    size_t cl = strlen(cls);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ','), *eq = strchr(p, '=');
        if (!end) end = p + strlen(p);
        if (eq && eq < end && (size_t)(eq - p) == cl && strncmp(p, cls, cl) == 0) {
            char num[32];
            size_t n = (size_t)(end - eq - 1);
            if (n == 0 || n >= sizeof num) return 0;
            memcpy(num, eq + 1, n), num[n] = 0;
            char *e;
            double v = strtod(num, &e);
            if (*e || !(v > 0 && v <= 300)) return 0;
            *kmh = v;
            return 1;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

double gw_road_default_speed(const char *cls, const char *overrides)
{
    double v;
    if (!cls) return UNKNOWN_KMH;
    if (overrides && override_of(overrides, cls, &v)) return v;
    for (size_t i = 0; i < sizeof speeds / sizeof speeds[0]; i++)
        if (strcmp(speeds[i].cls, cls) == 0) return speeds[i].kmh;
    return UNKNOWN_KMH;
}

gw_status gw_road_speeds_check(gw_ctx *ctx, const char *overrides)
{
    for (const char *p = overrides; p && *p;) {
        const char *end = strchr(p, ','), *eq = strchr(p, '=');
        if (!end) end = p + strlen(p);
        char item[96];
        size_t n = (size_t)(end - p) < sizeof item ? (size_t)(end - p) : sizeof item - 1;
        memcpy(item, p, n), item[n] = 0;
        double v;
        if (!eq || eq > end || eq == p)
            return gw_ctx_error(ctx, GW_ERR_ARG, "speeds: '%s' is not class=kmh", item);
        char cls[64];
        size_t cl = (size_t)(eq - p) < sizeof cls ? (size_t)(eq - p) : sizeof cls - 1;
        memcpy(cls, p, cl), cls[cl] = 0;
        if (!override_of(p, cls, &v))
            return gw_ctx_error(ctx, GW_ERR_ARG,
                                "speeds: '%s' needs a speed in km/h above 0 and at most 300", item);
        p = *end ? end + 1 : end;
    }
    return GW_OK;
}

int gw_road_class_drivable(const char *h)
{
    static const char *const ok[] = {"motorway",      "motorway_link",  "trunk",
                                     "trunk_link",    "primary",        "primary_link",
                                     "secondary",     "secondary_link", "tertiary",
                                     "tertiary_link", "unclassified",   "residential",
                                     "living_street", "service",        "track",
                                     "road"};
    for (size_t i = 0; h && i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(h, ok[i]) == 0) return 1;
    return 0;
}

static int word_eq(const char *a, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(a, w, n) == 0;
}

gw_status gw_road_parse_maxspeed(const char *text, double *kmh)
{
    if (!text || !kmh) return GW_ERR_FORMAT;
    const char *p = text;
    while (*p == ' ') p++;
    size_t n = strcspn(p, ";"); /* a list: the first value */
    while (n && p[n - 1] == ' ') n--;
    if (n == 0) return GW_ERR_FORMAT;
    if (word_eq(p, n, "none") || word_eq(p, n, "signals") || word_eq(p, n, "variable") ||
        word_eq(p, n, "walk")) {
        *kmh = 0;
        return GW_OK;
    }
    if (isalpha((unsigned char)p[0])) { /* "DE:urban", "RU:living_street": a country's rule */
        const char *colon = memchr(p, ':', n);
        if (colon && colon > p) {
            *kmh = 0;
            return GW_OK;
        }
        return GW_ERR_FORMAT;
    }
    char num[32];
    size_t k = 0;
    while (k < n && k < sizeof num - 1 && (isdigit((unsigned char)p[k]) || p[k] == '.'))
        num[k] = p[k], k++;
    num[k] = 0;
    if (k == 0 || k == sizeof num - 1) return GW_ERR_FORMAT;
    char *e;
    double v = strtod(num, &e);
    if (*e) return GW_ERR_FORMAT;
    const char *u = p + k;
    size_t un = n - k;
    while (un && *u == ' ') u++, un--;
    double f = 1;
    if (un == 0 || word_eq(u, un, "km/h") || word_eq(u, un, "kmh") || word_eq(u, un, "kph")) f = 1;
    else if (word_eq(u, un, "mph")) f = 1.609344;
    else if (word_eq(u, un, "knots")) f = 1.852;
    else return GW_ERR_FORMAT;
    v *= f;
    if (!(v > 0 && v <= 300)) return GW_ERR_FORMAT;
    *kmh = v;
    return GW_OK;
}

int gw_road_parse_oneway(const char *oneway, const char *junction)
{
    if (oneway && *oneway) {
        if (!strcasecmp(oneway, "yes") || !strcasecmp(oneway, "true") || !strcmp(oneway, "1"))
            return 1;
        if (!strcmp(oneway, "-1") || !strcasecmp(oneway, "reverse")) return -1;
        if (!strcasecmp(oneway, "no") || !strcasecmp(oneway, "false") || !strcmp(oneway, "0"))
            return 0;
    }
    if (junction && (!strcmp(junction, "roundabout") || !strcmp(junction, "circular"))) return 1;
    return 0;
}

/* Read one quoted string at *pp ("…" with \" and \\ escapes) into buf[cap] (may be NULL);
 * advances *pp past it.  0 when malformed. */
static int quoted(const char **pp, char *buf, size_t cap)
{
    const char *p = *pp;
    if (*p != '"') return 0;
    p++;
    size_t k = 0;
    for (; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            if (!p[1]) return 0;
            c = *++p;
        }
        if (buf && k + 1 < cap) buf[k++] = c;
    }
    if (*p != '"') return 0;
    if (buf && cap) buf[k] = 0;
    *pp = p + 1;
    return 1;
}

int gw_road_tag(const char *tags, const char *key, char *buf, size_t cap)
{
    if (!tags || !key || !buf || !cap) return 0;
    char k[128];
    const char *p = tags;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        if (!quoted(&p, k, sizeof k)) return 0;
        if (p[0] != '=' || p[1] != '>') return 0;
        p += 2;
        int hit = strcmp(k, key) == 0;
        if (!quoted(&p, hit ? buf : NULL, cap)) return 0;
        if (hit) return 1;
    }
    return 0;
}
