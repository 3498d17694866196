/* i18n_catalog.h — the shape of the message table tools/gen_catalog.py writes from
 * po/zh_CN.po at build time (build/generated/i18n_zh_CN.c); only i18n.c reads it. */
#ifndef GW_I18N_CATALOG_H
#define GW_I18N_CATALOG_H

#include <stddef.h>

typedef struct i18n_entry {
    const char *id;  /* the English text (msgid), as the C sources spell it */
    const char *str; /* its translation (msgstr), never empty */
} i18n_entry;

/* The translated entries of po/zh_CN.po, in file order. */
extern const i18n_entry i18n_zh_entries[];
extern const size_t i18n_zh_count; /* entries in i18n_zh_entries */
extern const size_t i18n_zh_total; /* msgids in the .po, translated or not */

#endif
