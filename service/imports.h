/*
 * imports.h -- streamed imports (import.begin / chunk / commit / abort):
 * records staged on the caller until commit, then one import.batch. The
 * four methods are declared with the other inline ones in handlers.h.
 */
#ifndef TN_IMPORTS_H
#define TN_IMPORTS_H

#include "handlers.h"

/* Drop the imports a caller left unfinished (it is going away). */
void tn_imports_drop(tn_caller_t *c);

#endif
