/* io_encoding.c — the text encoding of an imported file, decided before GDAL reads it.
 *
 * An explicit --encoding is checked against the bytes; a file that does not say (a shapefile
 * without .cpg, a CSV) is read as UTF-8 when its bytes are UTF-8, else as GB18030 (a superset of
 * GBK and GB2312, what Excel and ArcGIS save in a Chinese locale).  GDAL 3.6's CSV driver has no
 * encoding option, so such a CSV is converted to UTF-8 with iconv into a temporary copy that GDAL
 * reads; a shapefile is opened with the driver's ENCODING open option.  Nothing that does not
 * decode is imported: the error names the row (and the field), never a row of mojibake. */
#include "io_internal.h"

#include <dirent.h>
#include <iconv.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GB18030 "GB18030"
#define LDID_LATIN1 0x57 /* what GDAL and ArcGIS write by default: often a lie */

int io_is_utf8_name(const char *enc)
{
    return strcasecmp(enc, "UTF-8") == 0 || strcasecmp(enc, "UTF8") == 0;
}

gw_status io_encoding_check_name(gw_ctx *ctx, const char *enc)
{
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1)
        return gw_ctx_error(ctx, GW_ERR_ARG,
                            "unknown encoding '%s': iconv cannot convert it (use GBK, GB18030, "
                            "UTF-8, Big5 or ISO-8859-1; `iconv -l` lists every name)",
                            enc);
    iconv_close(cd);
    return GW_OK;
}

/* Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF): the offset of the
 * first byte that is not, or n when all are.  *nonascii is set when any byte is >= 0x80. */
size_t io_utf8_check(const unsigned char *s, size_t n, int *nonascii)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if (nonascii) *nonascii = 1;
        size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                     : c >= 0xE0 && c <= 0xEF ? 3
                     : c >= 0xF0 && c <= 0xF4 ? 4
                                              : 0;
        if (!len || i + len > n) return i;
        unsigned c1 = s[i + 1];
        if ((c1 & 0xC0) != 0x80) return i;
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
            (c == 0xF4 && c1 > 0x8F))
            return i;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += len;
    }
    return n;
}

/* Decode n bytes with cd, writing UTF-8 to out (when not NULL).  Returns the offset of the
 * first byte that does not decode, or n. */
static size_t decode(iconv_t cd, const char *s, size_t n, FILE *out)
{
    char buf[16384];
    char *in = (char *)s;
    size_t left = n;
    iconv(cd, NULL, NULL, NULL, NULL);
    while (left > 0) {
        char *o = buf;
        size_t room = sizeof buf;
        size_t r = iconv(cd, &in, &left, &o, &room);
        if (out && o > buf && fwrite(buf, 1, (size_t)(o - buf), out) != (size_t)(o - buf))
            return (size_t)-1;
        if (r == (size_t)-1 && errno != E2BIG) return (size_t)(in - s);
    }
    char *o = buf;
    size_t room = sizeof buf;
    iconv(cd, NULL, NULL, &o, &room); /* the shift state's end, for stateful encodings */
    if (out && o > buf && fwrite(buf, 1, (size_t)(o - buf), out) != (size_t)(o - buf))
        return (size_t)-1;
    return n;
}

/* "0xB9 0xFA …" of the bytes at off, for messages. */
static void show_bytes(const unsigned char *s, size_t n, size_t off, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t k = off; k < n && k < off + 4 && len + 6 < cap; k++)
        len += (size_t)snprintf(buf + len, cap - len, "%s0x%02X", k > off ? " " : "", s[k]);
}

/* ---- CSV: converted to UTF-8 in a temporary copy ------------------------------------------ */

/* The data row (1 = the first after the header; 0 = the header) holding byte off. */
static long long csv_row_at(const unsigned char *s, size_t off)
{
    long long row = 0;
    for (const unsigned char *p = s; (p = memchr(p, '\n', (size_t)(s + off - p))) != NULL; p++)
        row++;
    return row;
}

static void csv_where(const unsigned char *s, size_t off, char *buf, size_t cap)
{
    long long row = csv_row_at(s, off);
    if (row == 0) snprintf(buf, cap, "the header");
    else snprintf(buf, cap, "row %lld", row);
}

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = a ? fopen(to, "wb") : NULL;
    char buf[8192];
    size_t n;
    int ok = a && b;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    if (a) fclose(a);
    if (b && fclose(b) != 0) ok = 0;
    return ok;
}

/* Write the UTF-8 copy of the CSV (and its .csvt/.prj beside it) into a new temporary folder;
 * m->open_path is what GDAL opens from then on.  utf8_where: where the bytes stopped being UTF-8
 * when enc was detected (for the message), NULL when the import named it. */
static gw_status csv_convert(imp *m, const unsigned char *s, size_t n, const char *enc,
                             const char *utf8_where)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(m->tmpdir, sizeof m->tmpdir, "%s/gridwatch-import-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(m->tmpdir)) {
        m->tmpdir[0] = '\0';
        return gw_ctx_error(m->ctx, GW_ERR_IO,
                            "%s: cannot make a temporary folder to convert it "
                            "from %s: %s",
                            m->path, enc, strerror(errno));
    }
    const char *base = strrchr(m->path, '/');
    base = base ? base + 1 : m->path;
    size_t cap = strlen(m->tmpdir) + strlen(base) + 8;
    if (!(m->open_path = malloc(cap))) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
    snprintf(m->open_path, cap, "%s/%s", m->tmpdir, base);
    FILE *out = fopen(m->open_path, "wb");
    if (!out)
        return gw_ctx_error(m->ctx, GW_ERR_IO, "cannot write %s: %s", m->open_path,
                            strerror(errno));
    iconv_t cd = iconv_open("UTF-8", enc);
    size_t bad = cd == (iconv_t)-1 ? 0 : decode(cd, (const char *)s, n, out);
    if (cd != (iconv_t)-1) iconv_close(cd);
    int wrote = fclose(out) == 0 && bad != (size_t)-1;
    if (!wrote)
        return gw_ctx_error(m->ctx, GW_ERR_IO, "cannot write %s: %s", m->open_path,
                            strerror(errno));
    if (bad < n) {
        char where[64], bytes[40];
        csv_where(s, bad, where, sizeof where);
        show_bytes(s, n, bad, bytes, sizeof bytes);
        if (utf8_where)
            return gw_ctx_error_at(m->ctx, GW_ERR_FORMAT, (long)csv_row_at(s, bad),
                                   "%s: the bytes are not UTF-8 (first in %s) nor %s (%s: %s): "
                                   "name the file's encoding with --encoding (Big5, ISO-8859-1 …)",
                                   m->path, utf8_where, enc, where, bytes);
        return gw_ctx_error_at(m->ctx, GW_ERR_FORMAT, (long)csv_row_at(s, bad),
                               "%s %s: the bytes %s are not %s text: the file is in another "
                               "encoding; name it with --encoding (GB18030 for GBK/GB2312, "
                               "UTF-8, Big5)",
                               m->path, where, bytes, enc);
    }
    static const char *const side[] = {"t", "T", NULL}; /* foo.csvt: GDAL's column types */
    for (int k = 0; side[k]; k++) {
        char from[4096], to[4096];
        snprintf(from, sizeof from, "%s%s", m->path, side[k]);
        snprintf(to, sizeof to, "%s%s", m->open_path, side[k]);
        if (access(from, R_OK) == 0 && !copy_file(from, to))
            return gw_ctx_error(m->ctx, GW_ERR_IO, "cannot copy %s: %s", from, strerror(errno));
    }
    char from[4096], to[4096];
    const char *dot = strrchr(base, '.');
    size_t stem = dot ? (size_t)(dot - m->path) : strlen(m->path);
    snprintf(from, sizeof from, "%.*s.prj", (int)stem, m->path);
    stem = strlen(m->open_path) - (dot ? strlen(dot) : 0);
    snprintf(to, sizeof to, "%.*s.prj", (int)stem, m->open_path);
    if (access(from, R_OK) == 0 && !copy_file(from, to))
        return gw_ctx_error(m->ctx, GW_ERR_IO, "cannot copy %s: %s", from, strerror(errno));
    return GW_OK;
}

/* Map a whole regular file read-only; *n = 0 and NULL for an empty one. */
static const unsigned char *map_file(const char *path, size_t *n)
{
    *n = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat sb;
    void *p = MAP_FAILED;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
        p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) *n = (size_t)sb.st_size;
    }
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

gw_status io_csv_encoding(imp *m)
{
    size_t n;
    const unsigned char *s = map_file(m->path, &n);
    if (!s) return GW_OK; /* GDAL says why */
    int nonascii = 0;
    size_t bad = io_utf8_check(s, n, &nonascii);
    const char *enc = m->o.encoding;
    char where[64];
    gw_status st = GW_OK;
    if (enc && io_is_utf8_name(enc)) {
        if (bad < n) {
            char bytes[40];
            csv_where(s, bad, where, sizeof where);
            show_bytes(s, n, bad, bytes, sizeof bytes);
            st = gw_ctx_error_at(m->ctx, GW_ERR_FORMAT, (long)csv_row_at(s, bad),
                                 "%s %s: the bytes %s are not UTF-8 (--encoding %s): the file is "
                                 "in another encoding (GB18030 for GBK/GB2312; leave --encoding "
                                 "out to detect it)",
                                 m->path, where, bytes, enc);
        }
    } else if (enc) {
        if (bad == n && nonascii) {
            st = gw_ctx_error(m->ctx, GW_ERR_FORMAT,
                              "%s is UTF-8 text (its non-ASCII bytes are all valid UTF-8), not "
                              "%s: read as %s it would import as mojibake; leave --encoding out "
                              "or give --encoding UTF-8",
                              m->path, enc, enc);
        } else if (nonascii) {
            st = csv_convert(m, s, n, enc, NULL);
            if (!st)
                snprintf(m->rep.encoding_note, sizeof m->rep.encoding_note,
                         "text read as %s (--encoding)", enc);
        }
        if (!st) snprintf(m->rep.encoding, sizeof m->rep.encoding, "%s", enc);
    } else if (bad < n) {
        csv_where(s, bad, where, sizeof where);
        st = csv_convert(m, s, n, GB18030, where);
        if (!st) {
            snprintf(m->rep.encoding, sizeof m->rep.encoding, "%s", GB18030);
            snprintf(m->rep.encoding_note, sizeof m->rep.encoding_note,
                     "text read as GB18030: the bytes are not UTF-8 (first in %s); pass "
                     "--encoding to choose",
                     where);
        }
    }
    munmap((void *)s, n);
    return st;
}

/* ---- Shapefile: the driver's ENCODING open option ---------------------------------------- */

/* The file beside path with extension ext (".dbf"/".DBF"), when it exists; 0 otherwise. */
static int sibling(const char *path, const char *ext, char *buf, size_t cap)
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash)) return 0;
    snprintf(buf, cap, "%.*s%s", (int)(dot - path), path, ext);
    if (access(buf, R_OK) == 0) return 1;
    char up[8];
    size_t k = 0;
    for (; ext[k] && k + 1 < sizeof up; k++) up[k] = (char)toupper((unsigned char)ext[k]);
    up[k] = '\0';
    snprintf(buf, cap, "%.*s%s", (int)(dot - path), path, up);
    return access(buf, R_OK) == 0;
}

/* Check the field names and character values of a .dbf: every one must decode with cd (or, cd
 * (iconv_t)-1, be UTF-8).  Returns 0 when all do, else 1 with *rec (0 = the field names, else the
 * record number), *field (index) and *off of the first that does not. */
typedef struct dbf_scan {
    int nonascii;
    long long rec;
    int field;
    size_t off;
} dbf_scan;

static int dbf_bad(const unsigned char *s, size_t len, iconv_t cd, dbf_scan *sc)
{
    int na = 0;
    size_t ok = io_utf8_check(s, len, &na);
    if (na) sc->nonascii = 1;
    if (!na) return 0;
    if (cd == (iconv_t)-1) return ok < len ? (sc->off = ok, 1) : 0;
    size_t d = decode(cd, (const char *)s, len, NULL);
    return d < len ? (sc->off = d, 1) : 0;
}

static int dbf_check(const unsigned char *d, size_t n, iconv_t cd, dbf_scan *sc)
{
    memset(sc, 0, sizeof *sc);
    if (n < 32) return 0;
    size_t hlen = d[8] | (size_t)d[9] << 8, rlen = d[10] | (size_t)d[11] << 8;
    uint32_t nrec = d[4] | (uint32_t)d[5] << 8 | (uint32_t)d[6] << 16 | (uint32_t)d[7] << 24;
    /* the header's counts are the file's word: no more records than its bytes hold */
    if (rlen == 0 || hlen > n) nrec = 0;
    else if (nrec > (n - hlen) / rlen) nrec = (uint32_t)((n - hlen) / rlen);
    size_t foff[256], flen[256];
    int nf = 0;
    for (size_t p = 32; p + 32 <= n && p + 32 <= hlen && d[p] != 0x0D && nf < 256; p += 32) {
        size_t nl = strnlen((const char *)d + p, 11);
        sc->field = nf;
        if (dbf_bad(d + p, nl, cd, sc)) return 1;
        foff[nf] = 0;
        flen[nf] = d[p + 16];
        if (d[p + 11] != 'C') flen[nf] |= (size_t)1 << 20; /* not text: skipped */
        nf++;
    }
    for (int k = 0, o = 1; k < nf; k++) {
        foff[k] = (size_t)o;
        o += (int)(flen[k] & 0xFFFF);
    }
    for (uint32_t r = 0; r < nrec; r++) {
        size_t base = hlen + (size_t)r * rlen;
        if (base + rlen > n) break;
        for (int k = 0; k < nf; k++) {
            if (flen[k] >> 20) continue;
            size_t len = flen[k];
            const unsigned char *v = d + base + foff[k];
            if (foff[k] + len > rlen) break;
            while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == 0)) len--;
            sc->rec = r + 1;
            sc->field = k;
            if (dbf_bad(v, len, cd, sc)) return 1;
        }
    }
    return 0;
}

static void dbf_field_name(const unsigned char *d, size_t n, int k, char *buf, size_t cap)
{
    size_t p = 32 + (size_t)k * 32;
    if (p + 32 > n) {
        snprintf(buf, cap, "#%d", k + 1);
        return;
    }
    size_t nl = strnlen((const char *)d + p, 11);
    int ascii = 1;
    for (size_t i = 0; i < nl; i++) ascii &= d[p + i] < 0x80;
    if (ascii) snprintf(buf, cap, "'%.*s'", (int)nl, (const char *)d + p);
    else snprintf(buf, cap, "#%d", k + 1);
}

static gw_status dbf_error(imp *m, const unsigned char *d, size_t n, const dbf_scan *sc,
                           const char *what)
{
    char fname[32];
    dbf_field_name(d, n, sc->field, fname, sizeof fname);
    if (sc->rec == 0)
        return gw_ctx_error(m->ctx, GW_ERR_FORMAT,
                            "%s: the name of field %s in the .dbf is not %s text: name the file's "
                            "encoding with --encoding (GB18030 for GBK/GB2312, UTF-8, Big5)",
                            m->path, fname, what);
    return gw_ctx_error_at(m->ctx, GW_ERR_FORMAT, (long)sc->rec,
                           "%s row %lld: field %s is not %s text: name the file's encoding with "
                           "--encoding (GB18030 for GBK/GB2312, UTF-8, Big5)",
                           m->path, sc->rec, fname, what);
}

gw_status io_shp_encoding(imp *m, char *oo, size_t cap)
{
    oo[0] = '\0';
    if (!io_has_ext(m->path, ".shp") && !io_has_ext(m->path, ".dbf")) return GW_OK;
    char dbf[4096], cpg[4096];
    if (!sibling(m->path, ".dbf", dbf, sizeof dbf)) return GW_OK; /* GDAL says what is missing */
    int has_cpg = sibling(m->path, ".cpg", cpg, sizeof cpg);
    size_t n;
    const unsigned char *d = map_file(dbf, &n);
    if (!d) return GW_OK;
    int ldid = n > 29 ? d[29] : 0;
    const char *enc = m->o.encoding;
    gw_status st = GW_OK;
    dbf_scan sc;
    if (enc) {
        int utf8 = io_is_utf8_name(enc);
        iconv_t cd = utf8 ? (iconv_t)-1 : iconv_open("UTF-8", enc);
        if (!utf8 && dbf_check(d, n, (iconv_t)-1, &sc) == 0 && sc.nonascii)
            st = gw_ctx_error(m->ctx, GW_ERR_FORMAT,
                              "%s: the .dbf's text is UTF-8 (its non-ASCII bytes are all valid "
                              "UTF-8), not %s: read as %s it would import as mojibake; leave "
                              "--encoding out or give --encoding UTF-8",
                              m->path, enc, enc);
        else if (dbf_check(d, n, cd, &sc)) st = dbf_error(m, d, n, &sc, enc);
        if (cd != (iconv_t)-1) iconv_close(cd);
        if (!st) {
            snprintf(oo, cap, "ENCODING=%s", enc);
            snprintf(m->rep.encoding, sizeof m->rep.encoding, "%s", enc);
            snprintf(m->rep.encoding_note, sizeof m->rep.encoding_note,
                     "text read as %s (--encoding%s)", enc, has_cpg ? ", over the .cpg" : "");
        }
    } else if (!has_cpg && (ldid == 0 || ldid == LDID_LATIN1)) {
        /* no .cpg and no language driver id (or the Latin-1 one most writers put by default) */
        if (dbf_check(d, n, (iconv_t)-1, &sc) == 0) {
            if (sc.nonascii) {
                snprintf(oo, cap, "ENCODING=UTF-8");
                snprintf(m->rep.encoding, sizeof m->rep.encoding, "UTF-8");
                snprintf(m->rep.encoding_note, sizeof m->rep.encoding_note,
                         "text read as UTF-8: no .cpg and the bytes are UTF-8; pass --encoding "
                         "to choose");
            }
        } else {
            dbf_scan u8 = sc;
            iconv_t cd = iconv_open("UTF-8", GB18030);
            int bad = dbf_check(d, n, cd, &sc);
            if (cd != (iconv_t)-1) iconv_close(cd);
            if (bad) {
                st = dbf_error(m, d, n, &sc, "UTF-8 (no .cpg) nor GB18030");
            } else {
                snprintf(oo, cap, "ENCODING=" GB18030);
                snprintf(m->rep.encoding, sizeof m->rep.encoding, GB18030);
                snprintf(m->rep.encoding_note, sizeof m->rep.encoding_note,
                         "text read as GB18030: no .cpg and the bytes are not UTF-8 (first at "
                         "%s%lld); pass --encoding to choose",
                         u8.rec ? "row " : "field name #",
                         u8.rec ? u8.rec : (long long)u8.field + 1);
            }
        }
    }
    munmap((void *)d, n);
    return st;
}

/* Convert one NUL-terminated value from one encoding to another strictly: NULL when a byte
 * sequence does not decode or a character has no form in the target.  Caller frees. */
static char *recode(const char *s, const char *from, const char *to)
{
    iconv_t cd = iconv_open(to, from);
    if (cd == (iconv_t)-1) return NULL;
    size_t n = strlen(s), cap = n * 4 + 8;
    char *out = malloc(cap), *in = (char *)s, *o = out;
    size_t left = n, room = cap - 1;
    if (out && (iconv(cd, &in, &left, &o, &room) == (size_t)-1 || left > 0 ||
                iconv(cd, NULL, NULL, &o, &room) == (size_t)-1)) {
        free(out);
        out = NULL;
    }
    if (out) *o = '\0';
    iconv_close(cd);
    return out;
}

/* Strict recoding of one value to UTF-8 (formats whose driver has no encoding option): NULL
 * when the text does not decode.  Caller frees with free(). */
char *io_recode_value(const char *s, const char *enc) { return recode(s, enc, "UTF-8"); }

/* Convert one value from UTF-8 to enc strictly (export): NULL when a character has no form in
 * enc.  Caller frees with free(). */
char *io_encode_value(const char *s, const char *enc) { return recode(s, "UTF-8", enc); }

/* Recode a whole file from UTF-8 into enc in place (export of CSV, whose driver writes UTF-8
 * only).  The values were checked with io_encode_value, so every character has a form. */
gw_status io_encode_file(gw_ctx *ctx, const char *path, const char *enc)
{
    size_t n;
    const unsigned char *s = map_file(path, &n);
    if (!s) return GW_OK; /* empty */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.recode", path);
    FILE *out = fopen(tmp, "wb");
    iconv_t cd = iconv_open(enc, "UTF-8");
    size_t bad = out && cd != (iconv_t)-1 ? decode(cd, (const char *)s, n, out) : 0;
    if (cd != (iconv_t)-1) iconv_close(cd);
    munmap((void *)s, n);
    int ok = out != NULL;
    if (out && fclose(out) != 0) ok = 0;
    if (!ok || bad != n || rename(tmp, path) != 0) {
        unlink(tmp);
        return gw_ctx_error(ctx, GW_ERR_IO, "export %s: cannot write it in %s", path, enc);
    }
    return GW_OK;
}

void io_tmp_cleanup(imp *m)
{
    if (!m->tmpdir[0]) return;
    DIR *dir = opendir(m->tmpdir);
    if (dir) {
        struct dirent *e;
        char p[4352];
        while ((e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(p, sizeof p, "%s/%s", m->tmpdir, e->d_name);
            unlink(p);
        }
        closedir(dir);
    }
    rmdir(m->tmpdir);
    m->tmpdir[0] = '\0';
}
