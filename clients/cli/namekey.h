/*
 * namekey.h -- the name matching rule of `twinnet import --pairs-by-name`
 * (docs/import-export.md) and the ids it gives new places.
 *
 * Two spellings name the same place of a country when their keys are
 * equal. The key of a name:
 *   - Latin letters are case-folded and lose their accents and other
 *     diacritics ("Bérat" -> "berat", "Pitești" and "Piteşti" -> "pitesti");
 *     letters that are not an accented base letter are spelled out
 *     ("ß" -> "ss", "æ" -> "ae", "ø" -> "o", "ł" -> "l", "þ" -> "th");
 *   - every run of ASCII punctuation, whitespace and the common Unicode
 *     punctuation and spaces (no-break space, dashes, curly quotes, middle
 *     dots, CJK punctuation) becomes one space, none at either end
 *     ("Saint-Denis" = "saint denis", "Val-d'Or" = "val d or");
 *   - every other character (Chinese, Cyrillic, Greek, ...) is kept as it is.
 * The key is a plain C string; equal keys are the same name.
 */
#ifndef TN_CLI_NAMEKEY_H
#define TN_CLI_NAMEKEY_H

#include <stddef.h>

/* The key of the UTF-8 string 'name' as a new malloc'd string, or NULL when
 * out of memory. Invalid UTF-8 bytes are kept as they are. */
char *tn_cli_name_key(const char *name);

/* The ASCII slug of a name for a new id ("Bérat" -> "berat", "Saint-Denis"
 * -> "saint-denis"): the key with only [a-z0-9] kept and every run of
 * anything else turned into one '-'. Empty when the name has no Latin
 * letter or digit. New malloc'd string, NULL when out of memory. */
char *tn_cli_name_slug(const char *name);

#endif
